# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers for tests/cluster/test-*.sh (and any test that wants the cluster):
# load the env file `up` wrote, fail clearly when the cluster is not up, print
# what is checked, and on failure print the component logs.

TESTS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER_ENV=${STOREAGENT_CLUSTER_DIR:-/tmp/storeagent-cluster}/env

# not_up MESSAGE: fail (exit 1), or skip (exit 77, meson's "skipped") when
# STOREAGENT_CLUSTER_OPTIONAL=1 says a missing cluster is acceptable.
not_up() {
	if [[ ${STOREAGENT_CLUSTER_OPTIONAL:-0} == 1 ]]; then
		echo "SKIP: $1" >&2
		exit 77
	fi
	echo "FAIL: $1" >&2
	exit 1
}
[[ -r $CLUSTER_ENV ]] || not_up "no running cluster ($CLUSTER_ENV missing); start one with tests/cluster/up"
set -a
# shellcheck source=/dev/null
. "$CLUSTER_ENV"
set +a
"$KUBECTL" get --raw /readyz >/dev/null 2>&1 ||
	not_up "the cluster in $STOREAGENT_CLUSTER_DIR does not answer; see tests/cluster/status"

TEST_NAME=$(basename "$0" .sh)
kc() { "$KUBECTL" "$@"; }
step() { printf -- '--- %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
fail() {
	printf 'FAIL %s\n' "$*" >&2
	exit 1
}

# On any failure, show what the cluster said, then the component logs.
on_exit() {
	local rc=$?
	if (( rc != 0 )); then
		echo "=== $TEST_NAME failed (exit $rc): events in test namespaces ===" >&2
		for ns in "${TEST_NAMESPACES[@]}"; do
			kc -n "$ns" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 30 >&2 || true
		done
		"$TESTS_SRC/logs" -n 25 >&2 || true
	fi
	cleanup_namespaces
	(( ${#TEST_TMPDIRS[@]} == 0 )) || rm -rf "${TEST_TMPDIRS[@]}"
	exit "$rc"
}
TEST_NAMESPACES=()
TEST_TMPDIRS=()   # removed on exit
cleanup_namespaces() {
	local ns
	for ns in "${TEST_NAMESPACES[@]}"; do
		kc delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true
	done
}
trap on_exit EXIT

# new_namespace PREFIX: create a fresh namespace, set NS to its name; it is
# deleted when the test exits, whatever happens.
new_namespace() {
	NS=$1-$(date +%s)-$$
	kc create namespace "$NS" >/dev/null || fail "create namespace $NS"
	TEST_NAMESPACES+=("$NS")
	ok "namespace $NS created"
}

# eventually SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
# COMMAND is run anew each time, but its words are expanded once, by the
# caller: pass a function (field_is, below), never `test "$(...)"`.
eventually() {
	local secs=$1 what=$2 end
	shift 2
	end=$(( $(date +%s) + secs ))
	until "$@" >/dev/null 2>&1; do
		(( $(date +%s) < end )) || fail "$what (still not true after ${secs}s)"
		sleep 0.5
	done
	ok "$what"
}

# field_is OBJECT JSONPATH VALUE: the object's field (in $NS, or cluster-scoped)
# has VALUE, read afresh on every call, so it works under `eventually`.
field_is() { [[ $(kc -n "$NS" get "$1" -o jsonpath="$2" 2>/dev/null) == "$3" ]]; }
