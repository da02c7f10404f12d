#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Bad values fail at install with a message naming the value, before anything
# is created: after each refused install the namespace holds exactly what it
# held before (no release record, no object of any kind). Needs the control
# plane (tests/cluster/up); exits non-zero on failure.
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

REL=shop1

step "helm $(helm version --template '{{.Version}}'): refused values"
store_namespace chart-bad-values "$REL"
agent_values "$REL" "$WORK/good.yaml"

# Every namespaced kind the API server can list, read once.
types=$(kc api-resources --namespaced --verbs=list -o name | grep -v '^events' | paste -sd, -)
# A failed list is retried, never taken for an empty one.
snapshot() {
    local out _
    for _ in 1 2 3; do
        out=$(kc -n "$NS" get "$types" --ignore-not-found -o name) && { sort <<<"$out"; return 0; }
        sleep 1
    done
    fail "listing the objects in namespace $NS failed"
}
# kube-controller-manager adds these to every new namespace, a moment after it is created.
eventually 60 "namespace $NS has its default ServiceAccount and kube-root-ca.crt" \
    kc -n "$NS" get serviceaccount/default configmap/kube-root-ca.crt
before=$(snapshot)
[[ -n $before ]] || fail "empty namespace snapshot"

# refused DESCRIPTION PATTERN HELM-ARGS...: helm install fails, its message
# matches PATTERN, and the namespace is unchanged.
refused() {
    local what=$1 pattern=$2 out after
    shift 2
    if out=$(helm install "$REL" "$CHART" -n "$NS" "$@" 2>&1); then
        fail "$what: helm install succeeded"
    fi
    grep -Eq "$pattern" <<<"$out" || fail "$what: message does not match /$pattern/:"$'\n'"$out"
    ok "$what: refused: $(grep -E "$pattern" <<<"$out" | head -n1 | sed 's/^[[:space:]]*//')"
    after=$(snapshot)
    [[ $after == "$before" ]] || fail "$what: the namespace changed:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"
    ok "$what: nothing was created"
}

# The agent's values without baseDomain.
grep -v '^baseDomain:' "$WORK/good.yaml" >"$WORK/no-domain.yaml"
refused "missing baseDomain" "baseDomain" -f "$WORK/no-domain.yaml"
refused "empty baseDomain" "baseDomain" -f "$WORK/good.yaml" --set baseDomain=
refused "baseDomain with a space" "baseDomain" -f "$WORK/good.yaml" --set "baseDomain=shops example.com"
refused "mysql size '2 GB'" "mysql/persistence/size|mysql.persistence.size|2 GB" -f "$WORK/good.yaml" --set "mysql.persistence.size=2 GB"
refused "wordpress size 'lots'" "wordpress/persistence/size|wordpress.persistence.size|lots" -f "$WORK/good.yaml" --set wordpress.persistence.size=lots
refused "storeName 'Shop_1'" "storeName|Shop_1" -f "$WORK/good.yaml" --set storeName=Shop_1
refused "unknown key 'basedomain'" "basedomain|additional" -f "$WORK/good.yaml" --set basedomain=x
refused "no memory limit" "memory|limits" -f "$WORK/good.yaml" --set wordpress.resources.limits.memory=null
# Access modes that do not work: the setup Job and the cron runs share the web pod's volume (not
# ReadWriteOncePod); InnoDB does not belong on a network file system (not ReadWriteMany).
refused "wordpress volume ReadWriteOncePod" "wordpress/persistence/accessMode|ReadWriteOnce', 'ReadWriteMany'" \
    -f "$WORK/good.yaml" --set wordpress.persistence.accessMode=ReadWriteOncePod
refused "mysql volume ReadWriteMany" "mysql/persistence/accessMode|ReadWriteOnce', 'ReadWriteOncePod'" \
    -f "$WORK/good.yaml" --set mysql.persistence.accessMode=ReadWriteMany
# Memory that cannot fit the limits under load (README: Memory).
refused "8 Apache workers x 256M PHP in 512Mi" "wordpress memory: 8 Apache workers x PHP memory_limit 256M" \
    -f "$WORK/good.yaml" --set wordpress.apache.maxRequestWorkers=8 --set wordpress.php.memoryLimit=256M
refused "MySQL's default temptable_max_ram (1G) in 768Mi" "mysql memory: .*temptable_max_ram 1G" \
    -f "$WORK/good.yaml" --set mysql.config.temptableMaxRam=1G
refused "a wildcard domain" "domains/extra/0|domains.extra" -f "$WORK/good.yaml" --set "domains.extra={*.example.com}"
refused "primary domain 'Shop.Example.com'" "domains/primary|domains.primary" -f "$WORK/good.yaml" \
    --set domains.primary=Shop.Example.com
refused "a primary domain the Ingress does not serve" "domains.primary shop.example.com must be one of domains.extra" \
    -f "$WORK/good.yaml" --set domains.primary=shop.example.com
refused "WooCommerce without a SHA-256" "woocommerce/sha256|sha256" -f "$WORK/good.yaml" --set woocommerce.sha256=

step "the same namespace still takes the good values"
helm install "$REL" "$CHART" -n "$NS" -f "$WORK/good.yaml" >/dev/null || fail "install with the good values"
ok "installed with the agent's values after the refusals"

echo "PASS $TEST_NAME"
