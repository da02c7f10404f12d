#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# The agent's cluster identity (contrib/rbac) cannot escalate. As that identity, on the
# real control plane, this tries every path contrib/rbac/README lists and expects each to
# be refused, with the admission policy's own message where the policy is what refuses;
# and it does the agent's normal work (a labelled store namespace, the store role bound to
# itself, a ClusterIP Service, an Ingress) to show that still goes through.
# Needs a running cluster (tests/cluster/up); exits non-zero on failure.
set -euo pipefail
. "$(dirname "$0")/testing.sh"

REPO=$(cd "$TESTS_SRC/../.." && pwd)
TMP=$(mktemp -d /tmp/storeagent-test-rbac-XXXXXX)
TEST_TMPDIRS+=("$TMP")
AGENT=$TMP/agent.kubeconfig
RUN=$(date +%s)-$$

step "install the agent's identity with contrib/rbac/install"
KUBECTL=$KUBECTL "$REPO/contrib/rbac/install" --kubeconfig "$KUBECONFIG" --output "$AGENT" >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log" >&2; fail "contrib/rbac/install"; }
ok "agent kubeconfig written"

ag() { "$KUBECTL" --kubeconfig "$AGENT" "$@"; }

# refused WHAT EXPECTED COMMAND...: COMMAND (run as the agent) fails and its error says EXPECTED.
refused() {
	local what=$1 expected=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		fail "$what: was allowed ($out)"
	fi
	[[ $out == *"$expected"* ]] || fail "$what: refused, but not with '$expected': $out"
	ok "$what: refused ($expected)"
}

# allowed WHAT COMMAND...
allowed() {
	local what=$1 out
	shift
	out=$("$@" 2>&1) || fail "$what: refused: $out"
	ok "$what"
}

PSS_MSG="pod-security.kubernetes.io/enforce=restricted"
OWNER_MSG="managed-by=storeagent"
BIND_MSG="may only bind the ClusterRole storeagent-store to its own ServiceAccount"

# namespace_yaml NAME [LABEL=VALUE...]
namespace_yaml() {
	local name=$1 l
	shift
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n    test: rbac\n' "$name"
	for l in "$@"; do printf '    %s: "%s"\n' "${l%%=*}" "${l#*=}"; done
}
GOOD_LABELS=(pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted
	app.kubernetes.io/managed-by=storeagent)

step "store namespaces must enforce the restricted Pod Security Standard and be the agent's"
for ns in store-rbac-bare-$RUN store-rbac-priv-$RUN store-rbac-nowarn-$RUN store-rbac-oldver-$RUN store-rbac-foreign-$RUN; do
	TEST_NAMESPACES+=("$ns")
done
refused "namespace without Pod Security labels" "$PSS_MSG" \
	ag create -f - < <(namespace_yaml "store-rbac-bare-$RUN" app.kubernetes.io/managed-by=storeagent)
refused "namespace with enforce=privileged" "$PSS_MSG" \
	ag create -f - < <(namespace_yaml "store-rbac-priv-$RUN" pod-security.kubernetes.io/enforce=privileged \
		pod-security.kubernetes.io/warn=restricted app.kubernetes.io/managed-by=storeagent)
refused "namespace without the warn label" "$PSS_MSG" \
	ag create -f - < <(namespace_yaml "store-rbac-nowarn-$RUN" pod-security.kubernetes.io/enforce=restricted \
		app.kubernetes.io/managed-by=storeagent)
refused "namespace pinned to an old policy version" "$PSS_MSG" \
	ag create -f - < <(namespace_yaml "store-rbac-oldver-$RUN" "${GOOD_LABELS[@]}" \
		pod-security.kubernetes.io/enforce-version=v1.0)
refused "namespace not labelled as the agent's" "$OWNER_MSG" \
	ag create -f - < <(namespace_yaml "store-rbac-foreign-$RUN" pod-security.kubernetes.io/enforce=restricted \
		pod-security.kubernetes.io/warn=restricted)
refused "namespace outside store-*" "may only manage namespaces named store-*" \
	ag create -f - < <(namespace_yaml "rbac-outside-$RUN" "${GOOD_LABELS[@]}")

NS=store-rbac-$RUN
TEST_NAMESPACES+=("$NS")
allowed "the agent creates a labelled store namespace (its normal work)" \
	ag create -f - < <(namespace_yaml "$NS" "${GOOD_LABELS[@]}")
allowed "the agent relabels its namespace keeping the policy (server-side apply, as it does on a retry)" \
	ag label namespace "$NS" storeagent.io/store-name=rbac --overwrite
refused "removing enforce=restricted" "$PSS_MSG" ag label namespace "$NS" pod-security.kubernetes.io/enforce-
refused "weakening enforce to privileged" "$PSS_MSG" \
	ag label namespace "$NS" pod-security.kubernetes.io/enforce=privileged --overwrite
refused "weakening enforce to baseline" "$PSS_MSG" \
	ag label namespace "$NS" pod-security.kubernetes.io/enforce=baseline --overwrite
refused "removing the warn label" "$PSS_MSG" ag label namespace "$NS" pod-security.kubernetes.io/warn-
refused "pinning enforce-version to v1.0" "$PSS_MSG" \
	ag label namespace "$NS" pod-security.kubernetes.io/enforce-version=v1.0
refused "giving the namespace away (managed-by removed)" "$OWNER_MSG" \
	ag label namespace "$NS" app.kubernetes.io/managed-by-

FOREIGN=store-rbac-other-app-$RUN
TEST_NAMESPACES+=("$FOREIGN")
kc create -f - >/dev/null < <(namespace_yaml "$FOREIGN")
ok "an operator's own namespace $FOREIGN (store-* but not the agent's)"
refused "labelling a store-* namespace the agent did not create" "$OWNER_MSG" \
	ag label namespace "$FOREIGN" "${GOOD_LABELS[@]}"
refused "deleting a store-* namespace the agent did not create" "$OWNER_MSG" ag delete namespace "$FOREIGN"

step "the one role binding: the store role, to the agent itself"
rolebinding_yaml() { # NAME ROLEKIND ROLENAME SUBJECTKIND SUBJECTNAME [SUBJECTNAMESPACE]
	cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: $1, namespace: $NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: $2, name: $3}
subjects:
  - kind: $4
    name: $5
EOF
	if [[ -n ${6:-} ]]; then echo "    namespace: $6"; else echo "    apiGroup: rbac.authorization.k8s.io"; fi
}
allowed "the agent binds storeagent-store to itself (its normal work)" \
	ag create -f - < <(rolebinding_yaml storeagent-store ClusterRole storeagent-store ServiceAccount storeagent storeagent)
refused "binding the store role to system:authenticated" "$BIND_MSG" \
	ag create -f - < <(rolebinding_yaml everyone ClusterRole storeagent-store Group system:authenticated)
refused "binding the store role to the namespace's default ServiceAccount (a pod could mount it)" "$BIND_MSG" \
	ag create -f - < <(rolebinding_yaml pods ClusterRole storeagent-store ServiceAccount default "$NS")
refused "binding the store role to a user" "$BIND_MSG" \
	ag create -f - < <(rolebinding_yaml user ClusterRole storeagent-store User mallory)
refused "binding ClusterRole admin to itself" "forbidden" \
	ag create -f - < <(rolebinding_yaml admin ClusterRole admin ServiceAccount storeagent storeagent)
refused "binding cluster-admin to itself" "forbidden" \
	ag create -f - < <(rolebinding_yaml root ClusterRole cluster-admin ServiceAccount storeagent storeagent)

step "a privileged pod with hostPath / never runs in a store namespace"
warnings=$(ag -n "$NS" create -f - 2>&1 >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: escape}
spec:
  replicas: 1
  selector: {matchLabels: {app: escape}}
  template:
    metadata: {labels: {app: escape}}
    spec:
      hostPID: true
      containers:
        - name: shell
          image: busybox
          securityContext: {privileged: true}
          volumeMounts: [{name: host, mountPath: /host}]
      volumes: [{name: host, hostPath: {path: /}}]
EOF
) || fail "the Deployment itself was refused: $warnings"
[[ $warnings == *'would violate PodSecurity "restricted'* ]] ||
	fail "no Pod Security warning when the Deployment was created: $warnings"
ok "the Deployment is created with a Pod Security warning"
pod_refused() {
	kc -n "$NS" get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' |
		grep -q 'violates PodSecurity "restricted'
}
eventually 60 "its ReplicaSet is refused the pod: violates PodSecurity \"restricted\"" pod_refused
[[ -z $(kc -n "$NS" get pods -l app=escape -o name) ]] || fail "a pod of the escape Deployment exists"
ok "no pod of it exists"

step "Services and Ingresses cannot reach past the store"
service_yaml() { # NAME TYPE [EXTERNALIP]
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec:\n  type: %s\n  selector: {app: web}\n  ports: [{port: 80}]\n' "$1" "$NS" "$2"
	if [[ -n ${3:-} ]]; then printf '  externalIPs: [%s]\n' "$3"; fi
}
allowed "a ClusterIP Service (its normal work)" ag create -f - < <(service_yaml web ClusterIP)
refused "a NodePort Service" "type ClusterIP without externalIPs" ag create -f - < <(service_yaml np NodePort)
refused "a LoadBalancer Service" "type ClusterIP without externalIPs" ag create -f - < <(service_yaml lb LoadBalancer)
refused "a Service capturing an external IP" "type ClusterIP without externalIPs" \
	ag create -f - < <(service_yaml mitm ClusterIP 10.0.0.1)
refused "turning its Service into a NodePort" "type ClusterIP without externalIPs" \
	ag -n "$NS" patch service web -p '{"spec":{"type":"NodePort"}}'
ingress_yaml() { # NAME [ANNOTATION]
	printf 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: %s\n  namespace: %s\n' "$1" "$NS"
	if [[ -n ${2:-} ]]; then printf '  annotations: {%s: "proxy_pass http://10.0.0.1;"}\n' "$2"; fi
	printf 'spec:\n  rules:\n    - host: rbac.example.test\n      http:\n        paths:\n          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n'
}
allowed "an Ingress (its normal work)" ag create -f - < <(ingress_yaml web)
refused "an Ingress with a server-snippet" "configuration-snippet annotations" \
	ag create -f - < <(ingress_yaml snippet nginx.ingress.kubernetes.io/server-snippet)
refused "an Ingress with a configuration-snippet" "configuration-snippet annotations" \
	ag create -f - < <(ingress_yaml snippet2 nginx.ingress.kubernetes.io/configuration-snippet)

step "nothing outside store namespaces, and no rights over the rules themselves"
refused "reading Secrets in kube-system" "forbidden" ag -n kube-system get secrets
refused "reading Secrets in default" "forbidden" ag -n default get secrets
refused "impersonating system:admin" "forbidden" ag --as=system:admin get namespaces
refused "impersonating a group" "forbidden" ag --as=x --as-group=system:masters get namespaces
refused "creating a ClusterRole" "forbidden" ag create clusterrole rbac-evil-$RUN --verb='*' --resource='*'
refused "creating a ClusterRoleBinding" "forbidden" \
	ag create clusterrolebinding rbac-evil-$RUN --clusterrole=cluster-admin --serviceaccount=storeagent:storeagent
refused "changing its own ClusterRole" "forbidden" ag patch clusterrole storeagent --type=json \
	-p '[{"op":"add","path":"/rules/-","value":{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}}]'
refused "changing the store ClusterRole" "forbidden" ag patch clusterrole storeagent-store --type=json \
	-p '[{"op":"add","path":"/rules/-","value":{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}}]'
refused "deleting the admission policy" "forbidden" \
	ag delete validatingadmissionpolicy storeagent-store-namespaces-only
refused "deleting the admission policy's binding" "forbidden" \
	ag delete validatingadmissionpolicybinding storeagent-store-namespaces-only
refused "creating a mutating webhook" "forbidden" ag create -f - <<'EOF'
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: rbac-evil}
webhooks: []
EOF
refused "creating pods directly in its namespace" "forbidden" ag -n "$NS" run direct --image=busybox
# (`can-i create pods/exec` would ask about a pod named "exec": subresources go by --subresource.)
for sub in attach portforward; do
	[[ $(ag auth can-i create pods --subresource="$sub" -n "$NS" 2>/dev/null || true) == no ]] ||
		fail "the agent may create pods/$sub in $NS"
done
ok "no attach or port-forward into store pods"
# exec (backups run mysqldump and tar in a store's pods) only where the agent bound its role.
[[ $(ag auth can-i create pods --subresource=exec -n "$NS" 2>/dev/null || true) == yes ]] ||
	fail "the agent may not exec in $NS"
for ns in kube-system default "$FOREIGN"; do
	[[ $(ag auth can-i create pods --subresource=exec -n "$ns" 2>/dev/null || true) == no ]] ||
		fail "the agent may exec in $ns"
done
ok "exec into store pods only, not into kube-system, default or $FOREIGN"
[[ $(ag auth can-i get pods --subresource=log -n "$NS" 2>/dev/null || true) == yes ]] ||
	fail "the agent may not read logs in $NS"
[[ $(ag auth can-i get pods --subresource=log -n kube-system 2>/dev/null || true) == no ]] ||
	fail "the agent may read pod logs in kube-system"
ok "pod logs readable in store namespaces only"
# Certificates (READY of an https store waits for its own): read in store namespaces, never written.
# The question goes to the API server as a SelfSubjectAccessReview naming the group: RBAC answers it
# whether cert-manager's CRDs are installed or not (kubectl auth can-i cannot resolve the resource
# without them, and answers "no").
# cm_can VERB RESOURCE [NAMESPACE]: true or false, for cert-manager.io's RESOURCE.
cm_can() {
	local ns=${3:+\"namespace\": \"$3\",}
	ag create --validate=false -o jsonpath='{.status.allowed}' -f - <<-EOF_REVIEW
		{"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
		 "spec": {"resourceAttributes": {$ns "verb": "$1", "group": "cert-manager.io", "resource": "$2"}}}
	EOF_REVIEW
}
[[ $(cm_can get certificates "$NS") == true ]] || fail "the agent may not read Certificates in $NS"
for verb in create patch update delete; do
	[[ $(cm_can "$verb" certificates "$NS") == false ]] || fail "the agent may $verb Certificates in $NS"
done
[[ $(cm_can get certificates kube-system) == false ]] || fail "the agent may read Certificates in kube-system"
for what in issuers certificaterequests; do
	[[ $(cm_can get "$what" "$NS") == false ]] || fail "the agent may read $what in $NS"
done
[[ $(cm_can get clusterissuers) == false ]] || fail "the agent may read ClusterIssuers"
ok "Certificates readable in store namespaces only, and nothing else of cert-manager"
allowed "reading nodes (capacity)" ag get nodes
for verb in patch update delete; do
	[[ $(ag auth can-i "$verb" nodes 2>/dev/null || true) == no ]] || fail "the agent may $verb nodes"
done
ok "no write on nodes"
[[ $(ag auth can-i get secrets -n kube-system 2>/dev/null || true) == no ]] || fail "the agent may read Secrets in kube-system"
ok "listing pods for capacity gives no logs and no Secrets outside store namespaces"
refused "reading its own namespace's Secrets (storeagent)" "forbidden" ag -n storeagent get secrets
refused "requesting a token for another ServiceAccount" "forbidden" ag -n kube-system create token default
for verb in escalate bind impersonate; do
	[[ $(ag auth can-i "$verb" clusterroles/cluster-admin 2>/dev/null || true) == no ]] ||
		fail "the agent may $verb cluster-admin"
done
ok "no escalate, bind or impersonate on cluster-admin"

step "cleanup: the agent deletes its own store namespace (its normal work)"
allowed "delete of its namespace" ag delete namespace "$NS" --wait=false
echo "test-rbac: all checks passed"
