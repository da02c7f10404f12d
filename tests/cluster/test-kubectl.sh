#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Proves the control plane is real Kubernetes, through kubectl: quota and limit
# range admission, Deployment -> ReplicaSet -> Ready pods on a kwok node with
# IPs in Endpoints, a Job that completes, a StatefulSet and a PVC bound through
# the PV controller, the default IngressClass, and a namespace deletion that
# finalizes and hands the volume back to the pool.
# Needs a running cluster (tests/cluster/up); exits non-zero on failure.
set -euo pipefail
. "$(dirname "$0")/testing.sh"

jp() { kc -n "$NS" get "$1" -o "jsonpath=$2"; }

step "namespace with ResourceQuota and LimitRange"
new_namespace storeagent-test-kubectl
kc -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: ResourceQuota
metadata: {name: store-quota}
spec:
  hard:
    pods: "10"
    requests.cpu: "1"
    requests.memory: 2Gi
    limits.cpu: "2"
    limits.memory: 4Gi
    persistentvolumeclaims: "4"
    requests.storage: 40Gi
---
apiVersion: v1
kind: LimitRange
metadata: {name: store-limits}
spec:
  limits:
  - type: Container
    default: {cpu: 250m, memory: 256Mi}
    defaultRequest: {cpu: 50m, memory: 64Mi}
    max: {cpu: "2", memory: 4Gi}
EOF
# Quota admission refuses every pod until the quota controller has filled in
# status.hard; real clusters behave the same, so wait for it like a client must.
eventually 30 "quota controller computed status.hard of store-quota" \
	field_is resourcequota/store-quota '{.status.hard.pods}' 10

step "LimitRange defaults are applied by admission"
kc -n "$NS" run defaults --image=registry.invalid/pause:1 --restart=Never >/dev/null
req=$(jp pod/defaults '{.spec.containers[0].resources.requests.cpu}/{.spec.containers[0].resources.limits.memory}')
[[ $req == 50m/256Mi ]] || fail "LimitRange defaults: expected 50m/256Mi, got '$req'"
ok "pod without resources got requests.cpu=50m, limits.memory=256Mi from the LimitRange"
eventually 30 "pod defaults is Ready (kwok played its kubelet)" \
	kc -n "$NS" wait --for=condition=Ready pod/defaults --timeout=1s
node=$(jp pod/defaults '{.spec.nodeName}')
[[ $node == kwok-node-* ]] || fail "pod scheduled to '$node', expected a kwok node"
ok "scheduled by kube-scheduler to $node, podIP $(jp pod/defaults '{.status.podIP}')"

step "a pod over the quota is rejected by admission"
if out=$(kc -n "$NS" apply -f - 2>&1 <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: too-big}
spec:
  containers:
  - name: c
    image: registry.invalid/pause:1
    resources:
      requests: {cpu: "1500m", memory: 64Mi}
      limits: {cpu: "2", memory: 64Mi}
EOF
); then
	fail "pod requesting 1500m CPU under a 1-CPU quota was admitted"
fi
[[ $out == *"exceeded quota"* ]] || fail "rejection does not mention the quota: $out"
ok "rejected: ${out#*: }"

step "a Deployment gets a ReplicaSet and Ready pods, and a Service gets their IPs"
kc -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: registry.invalid/web:1, ports: [{containerPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
EOF
kc -n "$NS" rollout status deployment/web --timeout=60s >/dev/null || fail "deployment web did not roll out"
ok "deployment/web rolled out"
rs=$(kc -n "$NS" get rs -l app=web -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}')
[[ $rs == Deployment/web ]] || fail "no ReplicaSet owned by deployment web (got '$rs')"
ok "ReplicaSet owned by Deployment/web"
ready=$(jp deployment/web '{.status.readyReplicas}/{.status.availableReplicas}')
[[ $ready == 2/2 ]] || fail "deployment web ready/available: $ready, expected 2/2"
ok "2 pods ready and available"
slice_ips() {
	kc -n "$NS" get endpointslices -l kubernetes.io/service-name=web \
		-o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[*]}'
}
slice_has_both() { [[ $(slice_ips 2>/dev/null | wc -w) -eq 2 ]]; }
eventually 30 "EndpointSlice of service web lists both pod IPs as ready" slice_has_both
ok "web endpoints: $(slice_ips)"

step "a Job completes"
kc -n "$NS" create job once --image=registry.invalid/job:1 -- /bin/true >/dev/null
kc -n "$NS" wait --for=condition=Complete job/once --timeout=60s >/dev/null || fail "job once did not complete"
ok "job/once Complete, succeeded=$(jp job/once '{.status.succeeded}')"

step "PVCs bind through the PV controller (StorageClass local-path, WaitForFirstConsumer)"
kc -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 5Gi}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: registry.invalid/db:1
        volumeMounts: [{name: state, mountPath: /state}, {name: data, mountPath: /data}]
      volumes:
      - {name: data, persistentVolumeClaim: {claimName: data}}
  volumeClaimTemplates:
  - metadata: {name: state}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
EOF
sc=$(jp pvc/data '{.spec.storageClassName}')
[[ $sc == local-path ]] || fail "PVC without a class got '$sc', expected the default local-path"
ok "DefaultStorageClass admission set storageClassName=local-path"
kc -n "$NS" rollout status statefulset/db --timeout=60s >/dev/null || fail "statefulset db did not become ready"
ok "statefulset/db ready"
for pvc in data state-db-0; do
	eventually 30 "pvc/$pvc Bound" field_is "pvc/$pvc" '{.status.phase}' Bound
done
PV=$(jp pvc/data '{.spec.volumeName}')
ok "pvc/data bound to $PV"

step "Ingress without a class gets the default IngressClass traefik"
kc -n "$NS" create ingress shop --rule='shop.localtest.me/*=web:80' >/dev/null
cls=$(jp ingress/shop '{.spec.ingressClassName}')
[[ $cls == traefik ]] || fail "ingress class '$cls', expected traefik"
ok "ingress/shop has ingressClassName=traefik"

step "deleting the namespace finalizes it and returns its volumes to the pool"
kc delete namespace "$NS" --wait=false >/dev/null
kc wait --for=delete "namespace/$NS" --timeout=120s >/dev/null ||
	fail "namespace $NS still exists 120s after delete: $(kc get ns "$NS" -o jsonpath='{.status.conditions}')"
ok "namespace $NS is gone"
eventually 30 "$PV is Available again (pv-recycler)" field_is "pv/$PV" '{.status.phase}' Available

echo "PASS $TEST_NAME"
