#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Upgrade from the previous chart version and roll back, the way the agent's
# upgrade endpoint does it (packaged charts from a repository directory).
#
# "Previous" and "next" are both made from this tree by charts/package.sh:
# store-woocommerce-<Chart.yaml version> and the same chart packaged as the
# next minor version. The release's PVCs keep their uids (same volumes, same
# data), the agent's Secret keeps its resourceVersion and data, the setup Job
# runs again for each revision (and the previous one is removed), and the
# store is READY after each step. Needs the control plane (tests/cluster/up).
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

REL=shop1
SEL=app.kubernetes.io/instance=$REL
REPO_DIR=$WORK/repo

step "package the previous and the next chart version"
old=$(sed -n 's/^version:[[:space:]]*//p' "$CHART/Chart.yaml")
IFS=. read -r major minor _ <<<"$old"
new=$major.$((minor + 1)).0
old_pkg=$("$REPO/charts/package.sh" --helm "$HELM" "$REPO_DIR") || fail "package $old"
new_pkg=$("$REPO/charts/package.sh" --helm "$HELM" --version "$new" --index "$REPO_DIR") || fail "package $new"
[[ $old_pkg == "$REPO_DIR/store-woocommerce-$old.tgz" && -s $old_pkg ]] || fail "package.sh wrote '$old_pkg'"
[[ $new_pkg == "$REPO_DIR/store-woocommerce-$new.tgz" && -s $new_pkg ]] || fail "package.sh wrote '$new_pkg'"
grep -q "version: $new" "$REPO_DIR/index.yaml" || fail "index.yaml does not list $new"
ok "repository $(basename "$REPO_DIR"): store-woocommerce-$old.tgz, store-woocommerce-$new.tgz, index.yaml"

chart_label() { kc -n "$NS" get deployment "$REL-wordpress" -o jsonpath='{.metadata.labels.helm\.sh/chart}'; }
job_names() { kc -n "$NS" get job -l "$SEL,app.kubernetes.io/component=setup" -o name | xargs; }
# settled REV: revision REV deployed, READY, only that revision's setup Job left.
settled() {
    local rev=$1
    eventually 180 "setup Job $REL-setup-r$rev succeeded" field_is "job/$REL-setup-r$rev" '{.status.succeeded}' 1
    eventually 60 "store READY at revision $rev" store_ready "$REL"
    eventually 60 "only job $REL-setup-r$rev remains" test_jobs "job.batch/$REL-setup-r$rev"
}
test_jobs() { [[ $(job_names) == "$1" ]]; }

step "install $old"
store_namespace chart-upgrade "$REL"
agent_values "$REL" "$WORK/values.yaml"
helm upgrade --install "$REL" "$old_pkg" -n "$NS" -f "$WORK/values.yaml" >/dev/null || fail "install $old"
settled 1
[[ $(chart_label) == "store-woocommerce-$old" ]] || fail "chart label '$(chart_label)'"
eventually 60 "pvc $REL-mysql-data Bound" field_is "pvc/$REL-mysql-data" '{.status.phase}' Bound
eventually 60 "pvc $REL-wordpress-data Bound" field_is "pvc/$REL-wordpress-data" '{.status.phase}' Bound
mysql_pvc=$(uid_of "pvc/$REL-mysql-data")
wp_pvc=$(uid_of "pvc/$REL-wordpress-data")
mysql_pv=$(kc -n "$NS" get pvc "$REL-mysql-data" -o jsonpath='{.spec.volumeName}')
wp_pv=$(kc -n "$NS" get pvc "$REL-wordpress-data" -o jsonpath='{.spec.volumeName}')
secret=$(secret_fingerprint store-credentials)
ok "revision 1: chart $old, PVCs $mysql_pvc $wp_pvc on volumes $mysql_pv $wp_pv"

# unchanged WHEN: the data and the credentials are exactly what they were.
unchanged() {
    [[ $(uid_of "pvc/$REL-mysql-data") == "$mysql_pvc" ]] || fail "$1: pvc $REL-mysql-data was replaced"
    [[ $(uid_of "pvc/$REL-wordpress-data") == "$wp_pvc" ]] || fail "$1: pvc $REL-wordpress-data was replaced"
    [[ $(kc -n "$NS" get pvc "$REL-mysql-data" -o jsonpath='{.spec.volumeName}') == "$mysql_pv" ]] || fail "$1: database volume changed"
    [[ $(kc -n "$NS" get pvc "$REL-wordpress-data" -o jsonpath='{.spec.volumeName}') == "$wp_pv" ]] || fail "$1: wordpress volume changed"
    ok "$1: both PVCs keep their uid and volume"
    [[ $(secret_fingerprint store-credentials) == "$secret" ]] || fail "$1: Secret store-credentials changed"
    ok "$1: Secret store-credentials keeps its resourceVersion, uid and data"
}

step "upgrade to $new"
helm upgrade --install "$REL" "$new_pkg" -n "$NS" -f "$WORK/values.yaml" >/dev/null || fail "upgrade to $new"
settled 2
[[ $(chart_label) == "store-woocommerce-$new" ]] || fail "after upgrade: chart label '$(chart_label)'"
ok "revision 2: chart $new"
unchanged "upgrade"

step "rollback to revision 1"
helm rollback "$REL" 1 -n "$NS" >/dev/null || fail "helm rollback $REL 1"
# A rollback re-applies revision 1's manifest, so its Job is shop1-setup-r1 again.
eventually 180 "setup Job $REL-setup-r1 succeeded again" field_is "job/$REL-setup-r1" '{.status.succeeded}' 1
eventually 60 "only job $REL-setup-r1 remains" test_jobs "job.batch/$REL-setup-r1"
eventually 60 "store READY after rollback" store_ready "$REL"
[[ $(chart_label) == "store-woocommerce-$old" ]] || fail "after rollback: chart label '$(chart_label)'"
# "<revision> <chart> <status>" per revision, from the YAML helm prints.
history=$(helm history "$REL" -n "$NS" --max 10 -o yaml |
    sed -n 's/^  revision: //p; s/^  chart: //p; s/^  status: //p' | paste -d' ' - - - |
    awk '{print $2 ":" $1 ":" $3}' | paste -sd' ')
want="1:store-woocommerce-$old:superseded 2:store-woocommerce-$new:superseded 3:store-woocommerce-$old:deployed"
[[ $history == "$want" ]] || fail "history '$history', expected '$want'"
ok "history: $history"
status=$(helm status "$REL" -n "$NS" | sed -n 's/^STATUS: //p')
rev=$(helm status "$REL" -n "$NS" | sed -n 's/^REVISION: //p')
[[ $status == deployed && $rev == 3 ]] || fail "after rollback: revision $rev $status, expected 3 deployed"
ok "revision 3 (rollback to 1) deployed with chart $old"
unchanged "rollback"

echo "PASS $TEST_NAME"
