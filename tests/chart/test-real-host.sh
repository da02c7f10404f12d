#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What breaks on real hosts and that kwok can still show, on the real API server and scheduler:
#  - co-location: on two nodes, the setup Job and a cron run land on the web pod's node (its
#    ReadWriteOnce volume attaches there) even when that node is the less attractive one;
#  - scheduled work: the CronJob is admitted, and a run of it is admitted by the store's quota
#    and LimitRange next to the database, web and setup pods, and completes;
#  - volume sizes: on k3s's local-path class (no expansion) a changed size leaves the claim as it
#    is and the upgrade succeeds, saying so on the claim (storeagent repeats it in its event); a
#    shrink is never attempted; on a class that allows expansion the claim grows.
# Needs the control plane (tests/cluster/up); exits non-zero on failure.
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

REL=shop1
SEL=app.kubernetes.io/instance=$REL
NODE=kwok-node-realhost-$$
CLASS=growable-$$
PV=growable-pv-$$
# The node, class and volume this test adds are cluster-wide: removed whatever happens.
trap 'kc delete node "$NODE" --ignore-not-found >/dev/null 2>&1; kc delete pv "$PV" --ignore-not-found \
    --wait=false >/dev/null 2>&1; kc delete storageclass "$CLASS" --ignore-not-found >/dev/null 2>&1;
    rm -rf "$WORK"; on_exit' EXIT

step "a second node"
first=$(kc get nodes -l type=kwok -o jsonpath='{.items[0].metadata.name}')
kc get node "$first" -o json | jq --arg n "$NODE" '{apiVersion, kind, metadata: {name: $n,
    annotations: .metadata.annotations, labels: (.metadata.labels + {"kubernetes.io/hostname": $n})},
    status: {allocatable: .status.allocatable, capacity: .status.capacity, nodeInfo: .status.nodeInfo}}' |
    kc create -f - >/dev/null || fail "create node $NODE"
kc_ready() { kc wait --for=condition=Ready --timeout=1s "node/$NODE"; }
eventually 60 "node $NODE Ready (kwok)" kc_ready

step "install"
store_namespace chart-real-host "$REL"
agent_values "$REL" "$WORK/values.yaml"
helm upgrade --install "$REL" "$CHART" -n "$NS" -f "$WORK/values.yaml" >/dev/null || fail "helm install"
eventually 180 "setup Job $REL-setup-r1 succeeded" field_is "job/$REL-setup-r1" '{.status.succeeded}' 1
eventually 60 "store READY" store_ready "$REL"
pod_node() { kc -n "$NS" get pods -l "$SEL,app.kubernetes.io/component=$1" -o jsonpath='{.items[0].spec.nodeName}'; }
web=$(pod_node web)
[[ -n $web ]] || fail "the web pod is not scheduled"
[[ $(pod_node setup) == "$web" ]] || fail "setup pod on $(pod_node setup), web pod on $web"
ok "web and setup pods on $web"

step "co-location when the web pod's node is the less attractive one"
# PreferNoSchedule: the scheduler puts a free pod on the other node; one bound to the web pod must
# still go to the web pod's node.
kc taint node "$web" storeagent.io/chart-test=avoid:PreferNoSchedule >/dev/null || fail "taint $web"
untaint() { kc taint node "$web" storeagent.io/chart-test- >/dev/null 2>&1 || true; }
trap 'untaint; kc delete node "$NODE" --ignore-not-found >/dev/null 2>&1; kc delete pv "$PV" --ignore-not-found \
    --wait=false >/dev/null 2>&1; kc delete storageclass "$CLASS" --ignore-not-found >/dev/null 2>&1;
    rm -rf "$WORK"; on_exit' EXIT
helm upgrade "$REL" "$CHART" -n "$NS" -f "$WORK/values.yaml" >/dev/null || fail "helm upgrade (revision 2)"
eventually 180 "setup Job $REL-setup-r2 succeeded" field_is "job/$REL-setup-r2" '{.status.succeeded}' 1
setup_node=$(pod_node setup)
[[ $setup_node == "$web" ]] || fail "setup pod of revision 2 on $setup_node, the web pod (and its volume) on $web"
ok "setup pod of revision 2 on $web with the web pod, although $web is tainted PreferNoSchedule"

step "a cron run: admitted by the quota, on the web pod's node, completes"
kc -n "$NS" get cronjob "$REL-cron" >/dev/null || fail "no CronJob $REL-cron"
[[ $(kc -n "$NS" get cronjob "$REL-cron" -o jsonpath='{.spec.concurrencyPolicy}') == Forbid ]] ||
    fail "cron runs may overlap"
kc -n "$NS" create job cron-now --from="cronjob/$REL-cron" >/dev/null || fail "create a Job from the CronJob"
eventually 120 "cron run cron-now succeeded" field_is job/cron-now '{.status.succeeded}' 1
cron_node=$(kc -n "$NS" get pods -l job-name=cron-now -o jsonpath='{.items[0].spec.nodeName}')
[[ $cron_node == "$web" ]] || fail "cron pod on $cron_node, the web pod on $web"
kc -n "$NS" get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' | grep -q 'exceeded quota' &&
    fail "the quota refused a pod"
lim=$(kc -n "$NS" get job cron-now -o jsonpath='{.spec.template.spec.containers[0].resources.limits.memory}')
[[ $lim == 256Mi ]] || fail "cron container memory limit '$lim', expected the chart's 256Mi (not a LimitRange default)"
ok "cron run on $web, within its own 256Mi limit, admitted by the store's quota and LimitRange"

step "volume sizes on k3s's local-path class (no expansion)"
untaint
for pvc in "$REL-mysql-data" "$REL-wordpress-data"; do
    eventually 60 "pvc $pvc Bound" field_is "pvc/$pvc" '{.status.phase}' Bound
done
[[ $(kc get storageclass local-path -o jsonpath='{.allowVolumeExpansion}') != true ]] ||
    fail "local-path allows expansion here; the test needs k3s's class as it is"
helm upgrade "$REL" "$CHART" -n "$NS" -f "$WORK/values.yaml" --set mysql.persistence.size=3Gi \
    --set wordpress.persistence.size=1Gi >"$WORK/upgrade.out" 2>&1 ||
    fail "helm upgrade with changed sizes failed:"$'\n'"$(cat "$WORK/upgrade.out")"
ok "helm upgrade with mysql 3Gi and wordpress 1Gi succeeded"
eventually 180 "setup Job $REL-setup-r3 succeeded" field_is "job/$REL-setup-r3" '{.status.succeeded}' 1
size() { kc -n "$NS" get pvc "$1" -o jsonpath='{.spec.resources.requests.storage}'; }
kept() { kc -n "$NS" get pvc "$1" -o jsonpath='{.metadata.annotations.storeagent\.io/size-kept}'; }
[[ $(size "$REL-mysql-data") == 2Gi ]] || fail "pvc $REL-mysql-data requests $(size "$REL-mysql-data")"
[[ $(kept "$REL-mysql-data") == 'kept 2Gi: StorageClass "local-path" does not allow volume expansion (requested 3Gi)' ]] ||
    fail "pvc $REL-mysql-data says '$(kept "$REL-mysql-data")'"
ok "pvc $REL-mysql-data: $(kept "$REL-mysql-data")"
[[ $(size "$REL-wordpress-data") == 2Gi ]] || fail "pvc $REL-wordpress-data requests $(size "$REL-wordpress-data")"
[[ $(kept "$REL-wordpress-data") == 'kept 2Gi: a claim cannot shrink to 1Gi' ]] ||
    fail "pvc $REL-wordpress-data says '$(kept "$REL-wordpress-data")'"
ok "pvc $REL-wordpress-data: $(kept "$REL-wordpress-data")"
eventually 60 "store READY at revision 3" store_ready "$REL"
helm upgrade "$REL" "$CHART" -n "$NS" -f "$WORK/values.yaml" >/dev/null || fail "helm upgrade back to 2Gi"
[[ -z $(kept "$REL-mysql-data") ]] || fail "the note stays after the sizes match again"
ok "back at the configured 2Gi: no note"

step "a class that allows expansion: the claim grows"
kc apply -f - >/dev/null <<YAML || fail "create StorageClass $CLASS and a volume"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: $CLASS}
provisioner: rancher.io/local-path
allowVolumeExpansion: true
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: $PV}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: $CLASS
  hostPath: {path: $WORK/growable, type: DirectoryOrCreate}
YAML
# A second release in a namespace of its own (the store's quota holds one shop).
new_namespace chart-real-host-grow
kc -n "$NS" create secret generic store-credentials --from-literal=mysql-root-password=a \
    --from-literal=mysql-password=b --from-literal=admin-password=c >/dev/null
helm upgrade --install grow "$CHART" -n "$NS" -f "$WORK/values.yaml" --set storeName=grow \
    --set mysql.persistence.storageClass="$CLASS" >/dev/null || fail "install grow"
eventually 60 "pvc grow-mysql-data Bound to $PV" field_is pvc/grow-mysql-data '{.spec.volumeName}' "$PV"
helm upgrade grow "$CHART" -n "$NS" -f "$WORK/values.yaml" --set storeName=grow \
    --set mysql.persistence.storageClass="$CLASS" --set mysql.persistence.size=3Gi >"$WORK/grow.out" 2>&1 ||
    fail "helm upgrade to 3Gi on $CLASS:"$'\n'"$(cat "$WORK/grow.out")"
[[ $(size grow-mysql-data) == 3Gi ]] || fail "pvc grow-mysql-data requests $(size grow-mysql-data), expected 3Gi"
[[ -z $(kept grow-mysql-data) ]] || fail "pvc grow-mysql-data says '$(kept grow-mysql-data)'"
ok "pvc grow-mysql-data on $CLASS (allowVolumeExpansion) now requests 3Gi"

echo "PASS $TEST_NAME"
