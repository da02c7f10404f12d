#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A default store, installed the way storeagentd installs it, into a namespace
# with the agent's ResourceQuota, LimitRange and Secret: the quota admits every
# pod (setup Job included), the workloads become ready on the kwok nodes, the
# setup Job completes, the PVCs bind, the Ingress has the right host and class,
# and the Secret is left alone. Needs the control plane (tests/cluster/up).
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

REL=shop1
SEL=app.kubernetes.io/instance=$REL
# The pods an install makes; the CronJob's runs (component=cron) come every few minutes and are
# checked by test-real-host.sh.
SEL_INSTALL="$SEL,app.kubernetes.io/component in (database,web,setup)"

step "helm $(helm version --template '{{.Version}}'): install store $REL"
store_namespace chart-install "$REL"
agent_values "$REL" "$WORK/values.yaml"
secret_before=$(secret_fingerprint store-credentials)

# As the agent runs it: upgrade --install, no --wait, then watch.
helm upgrade --install "$REL" "$CHART" -n "$NS" -f "$WORK/values.yaml" >"$WORK/helm.out" 2>&1 ||
    fail "helm upgrade --install:"$'\n'"$(cat "$WORK/helm.out")"
ok "helm upgrade --install returned at once (no hook waits)"
grep -i 'would violate PodSecurity' "$WORK/helm.out" && fail "the API server warns about Pod Security"
ok "no Pod Security warning (namespace enforces restricted)"
grep -q "Shop:   http://$REL.localtest.me/" "$WORK/helm.out" || fail "NOTES lack the shop URL:"$'\n'"$(cat "$WORK/helm.out")"
grep -q "Admin:  http://$REL.localtest.me/wp-admin/" "$WORK/helm.out" || fail "NOTES lack the admin URL"
ok "NOTES show the shop and admin URLs"

step "readiness, as the agent judges it"
eventually 180 "statefulset $REL-mysql ready" field_is "statefulset/$REL-mysql" '{.status.readyReplicas}' 1
eventually 180 "deployment $REL-wordpress available" \
    kc -n "$NS" wait --for=condition=Available --timeout=1s "deployment/$REL-wordpress"
eventually 180 "setup Job $REL-setup-r1 succeeded" field_is "job/$REL-setup-r1" '{.status.succeeded}' 1
eventually 30 "store READY by the agent's rule (instance=$REL)" store_ready "$REL"

step "the quota admits the default store"
# Every pod the release made, the completed setup pod included, was admitted
# by the quota; and their declared totals fit it even when all run at once.
pods=$(kc -n "$NS" get pods -l "$SEL_INSTALL" -o name | wc -l)
(( pods == 3 )) || fail "$pods pods, expected 3 (database, web, setup)"
kc -n "$NS" get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' | grep -q 'exceeded quota' &&
    fail "a pod was refused by the quota"
req_mem=0 lim_mem=0 req_cpu=0 lim_cpu=0 containers=0
while read -r name rm lm rc lc; do
    [[ -n $name ]] || continue
    [[ -n $rm && -n $lm && -n $rc && -n $lc ]] || fail "container $name lacks requests or limits: '$rm' '$lm' '$rc' '$lc'"
    (( $(to_mi "$lm") <= 1024 )) || fail "container $name memory limit $lm above the LimitRange max 1Gi"
    (( $(to_milli "$lc") <= 1000 )) || fail "container $name cpu limit $lc above the LimitRange max 1"
    req_mem=$(( req_mem + $(to_mi "$rm") )) lim_mem=$(( lim_mem + $(to_mi "$lm") ))
    req_cpu=$(( req_cpu + $(to_milli "$rc") )) lim_cpu=$(( lim_cpu + $(to_milli "$lc") ))
    containers=$(( containers + 1 ))
done < <(kc -n "$NS" get statefulset,deployment,job -l "$SEL_INSTALL" -o jsonpath='{range .items[*]}{range .spec.template.spec.initContainers[*]}{.name} {.resources.requests.memory} {.resources.limits.memory} {.resources.requests.cpu} {.resources.limits.cpu}{"\n"}{end}{range .spec.template.spec.containers[*]}{.name} {.resources.requests.memory} {.resources.limits.memory} {.resources.requests.cpu} {.resources.limits.cpu}{"\n"}{end}{end}')
(( containers == 3 )) || fail "$containers containers in the workloads, expected 3"
ok "every container declares its own requests and limits (none from LimitRange defaults), each within the LimitRange max (1Gi, 1 cpu)"
# The quota is the agent's (storeagentd render, default configuration), read back from the cluster.
quota() { kc -n "$NS" get resourcequota store-quota -o jsonpath="{.spec.hard.${1//./\\.}}"; }
q_mem=$(to_mi "$(quota limits.memory)") q_cpu=$(to_milli "$(quota limits.cpu)") q_pods=$(quota pods)
[[ $(quota requests.memory) == "$(quota limits.memory)" && $(quota requests.cpu) == "$(quota limits.cpu)" ]] ||
    fail "quota requests and limits differ"
(( req_mem <= q_mem && lim_mem <= q_mem )) || fail "memory requests ${req_mem}Mi / limits ${lim_mem}Mi exceed the quota of ${q_mem}Mi"
(( req_cpu <= q_cpu && lim_cpu <= q_cpu )) || fail "cpu requests ${req_cpu}m / limits ${lim_cpu}m exceed the quota of ${q_cpu}m"
(( pods <= q_pods )) || fail "$pods pods exceed the quota of $q_pods"
ok "all pods at once: requests ${req_mem}Mi memory ${req_cpu}m cpu, limits ${lim_mem}Mi memory ${lim_cpu}m cpu, $pods of $q_pods pods (quota ${q_mem}Mi, ${q_cpu}m)"
used=$(kc -n "$NS" get resourcequota store-quota -o jsonpath='{.status.used.limits\.memory}')
[[ -n $used ]] || fail "quota store-quota reports no usage"
ok "quota store-quota tracks the store (limits.memory used now: $used)"

step "scheduling, volumes, network"
nodes=$(kc -n "$NS" get pods -l "$SEL_INSTALL" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | xargs)
[[ $nodes == kwok-node-* ]] || fail "pods on nodes '$nodes', expected kwok nodes"
ok "pods scheduled on $nodes"
for pvc in "$REL-mysql-data" "$REL-wordpress-data"; do
    eventually 60 "pvc $pvc Bound" field_is "pvc/$pvc" '{.status.phase}' Bound
    size=$(kc -n "$NS" get pvc "$pvc" -o jsonpath='{.spec.resources.requests.storage}')
    [[ $size == 2Gi ]] || fail "pvc $pvc requests $size, expected 2Gi"
done
ok "both PVCs request 2Gi"
host=$(kc -n "$NS" get ingress "$REL" -o jsonpath='{.spec.rules[0].host}')
class=$(kc -n "$NS" get ingress "$REL" -o jsonpath='{.spec.ingressClassName}')
backend=$(kc -n "$NS" get ingress "$REL" -o jsonpath='{.spec.rules[0].http.paths[0].backend.service.name}:{.spec.rules[0].http.paths[0].backend.service.port.name}')
[[ $host == "$REL.localtest.me" && $class == traefik && $backend == "$REL-wordpress:http" ]] ||
    fail "ingress host '$host' class '$class' backend '$backend'"
ok "ingress $REL: host $host, class $class, backend $backend"
target=$(kc -n "$NS" get endpointslice -l "kubernetes.io/service-name=$REL-wordpress" -o jsonpath='{.items[0].ports[0].port}')
[[ $target == 8080 ]] || fail "service $REL-wordpress endpoints on port '$target', expected 8080"
ok "service $REL-wordpress:80 reaches the web pod on 8080"
for comp in database web setup; do
    n=$(kc -n "$NS" get pods -l "$SEL,app.kubernetes.io/component=$comp" -o name | wc -l)
    (( n == 1 )) || fail "$n pods with component=$comp, expected 1"
done
ok "pods labelled component=database|web|setup (the agent's NetworkPolicies select on these)"

step "the Secret belongs to the agent"
[[ $(secret_fingerprint store-credentials) == "$secret_before" ]] || fail "Secret store-credentials changed during install"
managed=$(kc -n "$NS" get secret store-credentials -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}')
[[ -z $managed ]] || fail "Secret store-credentials is owned by release '$managed'"
ok "Secret store-credentials untouched and not part of the release"

step "uninstall keeps the data volumes"
helm uninstall "$REL" -n "$NS" >/dev/null || fail "helm uninstall"
kc -n "$NS" get pvc "$REL-mysql-data" "$REL-wordpress-data" >/dev/null || fail "PVCs deleted by uninstall"
kc -n "$NS" get secret store-credentials >/dev/null || fail "Secret deleted by uninstall"
left=$(kc -n "$NS" get statefulset,deployment,job,cronjob,service,ingress,configmap -l "$SEL" -o name)
[[ -z $left ]] || fail "left after uninstall: $left"
ok "workloads gone; PVCs (resource-policy keep) and Secret remain for the agent to delete with the namespace"

echo "PASS $TEST_NAME"
