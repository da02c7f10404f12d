#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# Proves helm works against the control plane the way storeagentd uses it:
# install --wait (Deployment, PVC, Service, Ingress, a post-install hook Job),
# upgrade (revision 2), rollback (revision 3), uninstall.
# Uses $HELM from the env file (helm v4 by default; HELM_MAJOR=3 tests/cluster/up
# selects v3). Needs a running cluster; exits non-zero on failure.
set -euo pipefail
. "$(dirname "$0")/testing.sh"

CHART=$TESTS_SRC/testdata/hello-chart
REL=hello
# Keep helm's caches out of the user's home and away from other runs.
HELM_HOME=$(mktemp -d)
TEST_TMPDIRS+=("$HELM_HOME")
export HELM_CACHE_HOME=$HELM_HOME/cache HELM_CONFIG_HOME=$HELM_HOME/config HELM_DATA_HOME=$HELM_HOME/data

helm() { "$HELM" "$@"; }
# status_is REVISION STATUS: what `helm status` says about the release.
status_is() {
	local out
	out=$(helm status "$REL" -n "$NS")
	grep -q "^STATUS: $2\$" <<<"$out" && grep -q "^REVISION: $1\$" <<<"$out"
}
message() { kc -n "$NS" get configmap "$REL-config" -o jsonpath='{.data.message}'; }
# job_event JOB REASON: the Job controller recorded REASON for JOB (events outlive the Job).
job_event() {
	local reasons
	reasons=$(kc -n "$NS" get events --field-selector "involvedObject.kind=Job,involvedObject.name=$1" \
		-o jsonpath='{.items[*].reason}')
	[[ " $reasons " == *" $2 "* ]]
}
# hook_ran REVISION: the post-install/upgrade hook Job of REVISION ran to completion (the Job
# controller says it created its pod and saw it complete; helm's release record says the hook
# succeeded) and was deleted afterwards (hook-succeeded).
hook_ran() {
	local job=$REL-setup-$1 phase
	eventually 30 "the Job controller created the pod of hook Job $job" job_event "$job" SuccessfulCreate
	eventually 30 "the Job controller saw hook Job $job complete" job_event "$job" Completed
	phase=$(helm status "$REL" -n "$NS" --revision "$1" -o json 2>/dev/null |
		jq -r --arg job "$job" '.hooks[]? | select(.name == $job) | .last_run.phase // empty' || true)
	[[ $phase == Succeeded ]] || fail "helm's record of revision $1: hook $job last run '$phase', expected Succeeded"
	ok "helm's release record: hook $job Succeeded"
	kc -n "$NS" get job "$job" >/dev/null 2>&1 && fail "hook job $job still there (should be deleted on success)"
	ok "hook Job $job deleted after it succeeded (hook-succeeded)"
}

step "helm $("$HELM" version --template '{{.Version}}') against kubernetes $("$KUBECTL" version -o json | sed -n 's/.*"gitVersion": *"\(v1[^"]*\)".*/\1/p' | tail -n1)"
new_namespace storeagent-test-helm

step "install --wait"
helm install "$REL" "$CHART" -n "$NS" --wait --timeout 2m >/dev/null || fail "helm install"
status_is 1 deployed || fail "after install: $(helm status "$REL" -n "$NS")"
ok "release $REL revision 1 deployed"
[[ $(message) == hello ]] || fail "configmap message '$(message)', expected hello"
[[ $(kc -n "$NS" get deploy "$REL" -o jsonpath='{.status.readyReplicas}') == 2 ]] || fail "deployment not ready after --wait"
ok "deployment $REL has 2 ready replicas"
[[ $(kc -n "$NS" get pvc "$REL-data" -o jsonpath='{.status.phase}') == Bound ]] || fail "pvc $REL-data not Bound"
ok "pvc $REL-data Bound"
hook_ran 1

step "upgrade"
helm upgrade "$REL" "$CHART" -n "$NS" --set message=world --wait --timeout 2m >/dev/null || fail "helm upgrade"
status_is 2 deployed || fail "after upgrade: $(helm status "$REL" -n "$NS")"
[[ $(message) == world ]] || fail "configmap message '$(message)' after upgrade, expected world"
ok "revision 2 deployed, message=world"
hook_ran 2

step "rollback to revision 1"
helm rollback "$REL" 1 -n "$NS" --wait --timeout 2m >/dev/null || fail "helm rollback"
status_is 3 deployed || fail "after rollback: $(helm status "$REL" -n "$NS")"
[[ $(message) == hello ]] || fail "configmap message '$(message)' after rollback, expected hello"
ok "revision 3 deployed, message=hello"
revs=$(helm history "$REL" -n "$NS" --max 10 | awk 'NR > 1 {print $1}' | xargs)
[[ $revs == "1 2 3" ]] || fail "history revisions '$revs', expected '1 2 3'"
ok "history has revisions 1 2 3"

step "uninstall"
helm uninstall "$REL" -n "$NS" --wait --timeout 2m >/dev/null || fail "helm uninstall"
helm status "$REL" -n "$NS" >/dev/null 2>&1 && fail "release still known after uninstall"
ok "release gone"
left=$(kc -n "$NS" get deploy,svc,ingress,configmap -l "app.kubernetes.io/instance=$REL" -o name; kc -n "$NS" get deploy,svc,ingress -o name)
[[ -z $left ]] || fail "objects left after uninstall: $left"
ok "no deployment, service, ingress or configmap of the release left"

echo "PASS $TEST_NAME"
