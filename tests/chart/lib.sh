# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers for tests/chart/test-*.sh: the cluster env and test helpers of
# tests/cluster/testing.sh, plus a namespace prepared exactly the way
# storeagentd prepares a store's namespace, the values it writes, and its
# readiness rule.

CHART_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$CHART_TESTS/../.." && pwd)
# shellcheck disable=SC2034 # used by the tests that source this file
CHART=$REPO/charts/store-woocommerce

# shellcheck source=tests/cluster/testing.sh
. "$REPO/tests/cluster/testing.sh"

# A private work dir and helm home per test run, removed on exit (on_exit is
# testing.sh's handler: it prints events and logs on failure, deletes namespaces).
WORK=$(mktemp -d)
export HELM_CACHE_HOME=$WORK/helm/cache HELM_CONFIG_HOME=$WORK/helm/config HELM_DATA_HOME=$WORK/helm/data
trap 'rm -rf "$WORK"; on_exit' EXIT

helm() { "$HELM" "$@"; }

# store_namespace PREFIX: a fresh namespace (NS) with what the agent puts in
# a store namespace before it runs helm (agent/src/provision.c: step_quota,
# step_secrets): ResourceQuota, LimitRange, the credentials Secret. Pod Security "restricted" is enforced too, so a pod the
# chart makes that is not restricted-compliant is rejected and the test fails.
store_namespace() {
    new_namespace "$1"
    kc label namespace "$NS" \
        pod-security.kubernetes.io/enforce=restricted \
        pod-security.kubernetes.io/enforce-version=latest >/dev/null ||
        fail "label namespace $NS"
    kc -n "$NS" apply -f - >/dev/null <<'EOF' || fail "create quota and limit range in $NS"
apiVersion: v1
kind: ResourceQuota
metadata:
  name: store-quota
spec:
  hard:
    pods: "10"
    requests.memory: 2Gi
    limits.memory: 2Gi
    requests.cpu: "2"
    limits.cpu: "2"
---
apiVersion: v1
kind: LimitRange
metadata:
  name: store-limits
spec:
  limits:
    - type: Container
      defaultRequest: {memory: 64Mi, cpu: 50m}
      default: {memory: 256Mi, cpu: 500m}
      max: {cpu: "1", memory: 1Gi}
EOF
    kc -n "$NS" create secret generic store-credentials \
        --from-literal=mysql-root-password="root-$RANDOM$RANDOM$RANDOM" \
        --from-literal=mysql-password="db-$RANDOM$RANDOM$RANDOM" \
        --from-literal=admin-password="admin-$RANDOM$RANDOM$RANDOM" >/dev/null ||
        fail "create secret store-credentials in $NS"
    ok "namespace $NS has the agent's ResourceQuota, LimitRange and Secret (Pod Security: restricted)"
}

# agent_values NAME FILE: the values file storeagentd writes for store NAME.
agent_values() {
    cat >"$2" <<EOF
storeName: $1
baseDomain: localtest.me
ingress:
  className: traefik
  tls:
    enabled: false
    clusterIssuer: ""
credentials:
  secretName: store-credentials
admin:
  user: admin
  email: admin@$1.localtest.me
mysql:
  persistence:
    size: 2Gi
wordpress:
  persistence:
    size: 2Gi
EOF
}

# store_ready RELEASE: the agent's rule for READY, over the objects labelled
# app.kubernetes.io/instance=RELEASE: every Deployment available, every
# StatefulSet ready, and the setup Job (component=setup) Succeeded. Helm
# deletes the previous revision's Job before `helm upgrade`/`rollback` returns,
# so after helm returns the Jobs present are the current ones; their names
# carry the revision they were rendered at (a rollback to 1 runs ...-setup-r1
# again), so the rule must not compare the name with `helm status`.
store_ready() {
    local sel="app.kubernetes.io/instance=$1" name want have jobs=0
    [[ -n $(kc -n "$NS" get deploy,statefulset -l "$sel" -o name) ]] || return 1
    while read -r name want have; do
        [[ -n $name ]] || continue
        [[ $want == "${have:-x}" ]] || return 1
    done < <(kc -n "$NS" get deploy -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.replicas} {.status.availableReplicas}{"\n"}{end}'
        kc -n "$NS" get statefulset -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.replicas} {.status.readyReplicas}{"\n"}{end}')
    while read -r name have; do
        [[ -n $name ]] || continue
        [[ $have == 1 ]] || return 1
        jobs=$((jobs + 1))
    done < <(kc -n "$NS" get job -l "$sel,app.kubernetes.io/component=setup" -o jsonpath='{range .items[*]}{.metadata.name} {.status.succeeded}{"\n"}{end}')
    ((jobs >= 1))
}

# to_mi QUANTITY: a memory quantity (Ki, Mi, Gi) in Mi, rounded up.
to_mi() {
    case $1 in
    *Gi) echo $(( ${1%Gi} * 1024 )) ;;
    *Mi) echo "${1%Mi}" ;;
    *Ki) echo $(( (${1%Ki} + 1023) / 1024 )) ;;
    *) fail "unexpected memory quantity '$1'" ;;
    esac
}

# to_milli QUANTITY: a CPU quantity (500m, 1, 1.5) in millicores.
to_milli() {
    case $1 in
    *m) echo "${1%m}" ;;
    *.*) local i=${1%%.*} f=${1#*.}000; echo $(( i * 1000 + 10#${f:0:3} )) ;;
    *) echo $(( $1 * 1000 )) ;;
    esac
}

# uid_of KIND/NAME: the object's metadata.uid.
uid_of() { kc -n "$NS" get "$1" -o jsonpath='{.metadata.uid}'; }

# secret_fingerprint NAME: resourceVersion, uid and a digest of the data, so
# any change to the Secret shows.
secret_fingerprint() {
    local data
    data=$(kc -n "$NS" get secret "$1" -o jsonpath='{.data}')
    printf '%s %s %s' "$(kc -n "$NS" get secret "$1" -o jsonpath='{.metadata.resourceVersion}')" \
        "$(uid_of "secret/$1")" "$(printf '%s' "$data" | sha256sum | cut -d' ' -f1)"
}

