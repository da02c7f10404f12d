# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers for tests/chart/test-*.sh: the cluster env and test helpers of
# tests/cluster/testing.sh, plus a namespace prepared exactly the way
# storeagentd prepares a store's namespace and the values it writes (both from
# `storeagentd render`), and its readiness rule.

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
# The test's own exit status reaches on_exit (which exits with it), not rm's.
# errexit would end the trap at (exit rc) on a failure, before on_exit deletes the namespaces.
trap 'rc=$?; rm -rf "$WORK"; set +e; (exit "$rc"); on_exit' EXIT

helm() { "$HELM" "$@"; }

# The agent itself says what it puts into a store's namespace and which values
# it gives helm: `storeagentd render` (STOREAGENTD, default the binary in
# build/), with the default configuration, or STOREAGENT_CONFIG when set.
STOREAGENTD=${STOREAGENTD:-$REPO/build/agent/src/daemon/storeagentd}

# render_store NAME: writes $WORK/render-NAME/objects.yaml (the Kubernetes
# objects, in the order the agent applies them) and values.yaml (the Helm
# values), split from the documents of `storeagentd render`.
render_store() {
    local dir=$WORK/render-$1 config=${STOREAGENT_CONFIG:-$WORK/storeagent.yaml}
    [[ -x $STOREAGENTD ]] || fail "no storeagentd at $STOREAGENTD (build it: meson setup build && meson compile -C build; or set STOREAGENTD)"
    [[ -n ${STOREAGENT_CONFIG:-} ]] || : >"$config"
    mkdir -p "$dir"
    "$STOREAGENTD" --config "$config" render --name "$1" --id "chart-test-$$" >"$dir/all.yaml" ||
        fail "storeagentd render --name $1"
    # Documents start with "---"; the values are the one whose comment says so.
    awk -v objects="$dir/objects.yaml" -v values="$dir/values.yaml" '
        /^---$/ { start = 1; next }
        start { start = 0; out = /^# Helm values/ ? values : objects; if (out == objects) print "---" >out }
        out != "" { print >out }
    ' "$dir/all.yaml"
    [[ -s $dir/objects.yaml && -s $dir/values.yaml ]] || fail "storeagentd render printed no objects or no values"
}

# store_namespace PREFIX [NAME]: a fresh namespace (NS) holding exactly what
# the agent puts into store NAME's namespace (default shop1) before it runs
# helm: its labels (Pod Security "restricted" enforced, so a pod of the chart
# that is not restricted-compliant is rejected and the test fails), the
# ResourceQuota, LimitRange, NetworkPolicies and the credentials Secret, whose
# generated passwords become random ones here.
store_namespace() {
    local name=${2:-shop1} line
    new_namespace "$1"
    render_store "$name"
    # The agent's namespace is store-NAME; the test's is NS.
    while IFS= read -r line; do
        line=${line//store-$name/$NS}
        [[ $line == *'<generated>'* ]] && line=${line//<generated>/gen-$RANDOM$RANDOM$RANDOM}
        printf '%s\n' "$line"
    done <"$WORK/render-$name/objects.yaml" >"$WORK/render-$name/objects-$NS.yaml"
    kc apply -f "$WORK/render-$name/objects-$NS.yaml" >/dev/null || fail "apply the agent's objects to $NS"
    [[ $(kc get namespace "$NS" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}') == restricted ]] ||
        fail "namespace $NS does not enforce Pod Security restricted"
    ok "namespace $NS has the agent's labels, ResourceQuota, LimitRange, NetworkPolicies and Secret (storeagentd render)"
}

# agent_values NAME FILE: the values file storeagentd writes for store NAME.
agent_values() {
    [[ -s $WORK/render-$1/values.yaml ]] || render_store "$1"
    cp "$WORK/render-$1/values.yaml" "$2"
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

