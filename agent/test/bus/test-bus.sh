#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The D-Bus interface end to end, without a cluster: a private dbus-daemon
# stands in for the system bus, storeagentd serves org.storeagent.Agent1 on it
# and storectl talks to it the way an operator would. Asserts on what storectl
# prints and its exit codes, on the StoreChanged signal as another client sees
# it, and on the audit trail (the caller's user name).
#
#   test-bus.sh STOREAGENTD STORECTL                 everything but who may call
#   test-bus.sh STOREAGENTD STORECTL who-may-call    an unprivileged caller is refused; needs root
#                                                    (to call as 'nobody'), else it is skipped (77)
set -uo pipefail

usage="usage: test-bus.sh STOREAGENTD STORECTL [who-may-call]"
STOREAGENTD=${1:?$usage}
STORECTL=${2:?$usage}
PART=${3:-main}
case $PART in main | who-may-call) ;; *) echo "$usage" >&2; exit 2 ;; esac

if [[ $PART == who-may-call ]]; then
	why=
	[[ $(id -u) == 0 ]] || why="not root: calling as another user needs root"
	id nobody >/dev/null 2>&1 || why="no 'nobody' user to call as"
	command -v setpriv >/dev/null || why="setpriv is not installed"
	if [[ -n $why ]]; then
		echo "SKIP: who may call: $why"
		exit 77
	fi
fi

for t in dbus-daemon dbus-monitor jq curl; do
	if ! command -v "$t" >/dev/null; then
		echo "SKIP: $t is not installed"
		exit 77
	fi
done

tmp=$(mktemp -d /tmp/storeagent-test-bus.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# Runs storectl; leaves stdout in $out, stderr in $err, the exit code in $rc.
sc() {
	"$STORECTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
# expect RC DESCRIPTION: checks the last exit code.
expect() {
	if [[ $rc == "$1" ]]; then ok "$2 (exit $rc)"; else fail "$2: exit $rc, wanted $1; stdout: $out; stderr: $err"; fi
}
contains() { # HAYSTACK NEEDLE DESCRIPTION
	if [[ $1 == *"$2"* ]]; then ok "$3"; else fail "$3: '$2' not in: $1"; fi
}

# A bus of our own; its policy lets everyone talk, so the daemon's own check is what refuses.
cat >"$tmp/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
EOF
chmod 755 "$tmp"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus.sock
start_bus() {
	rm -f "$tmp/bus.sock"
	dbus-daemon --config-file="$tmp/bus.conf" --nofork --nopidfile >>"$tmp/dbus.log" 2>&1 &
	bus_pid=$!
	pids+=("$bus_pid")
	for _ in $(seq 50); do [[ -S $tmp/bus.sock ]] && return 0; sleep 0.1; done
	echo "dbus-daemon did not start: $(cat "$tmp/dbus.log")"
	exit 1
}
stop_bus() {
	kill "$bus_pid"
	wait "$bus_pid" 2>/dev/null
}
# Waits up to $1 seconds for the daemon to answer on the bus.
wait_for_name() {
	for _ in $(seq $(($1 * 10))); do
		"$STORECTL" list >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

start_daemon() {
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 20000))
		cat >"$tmp/storeagent.yaml" <<EOF
listen:
  address: 127.0.0.1
  port: $port
database: $tmp/state/storeagent.db
state_dir: $tmp/state
kubeconfig: $tmp/no-such-kubeconfig
workers: 1
EOF
		"$STOREAGENTD" --config "$tmp/storeagent.yaml" >>"$tmp/daemon.log" 2>&1 &
		daemon=$!
		pids+=("$daemon")
		# Up when its HTTP port answers (it may be that another program had the port).
		for _ in $(seq 50); do
			kill -0 "$daemon" 2>/dev/null || break
			curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
			sleep 0.1
		done
		kill "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	done
	echo "storeagentd did not start:"
	tail -n 20 "$tmp/daemon.log"
	exit 1
}

summary() {
	echo
	echo "$passed passed, $failed failed"
	[[ $failed == 0 ]]
}

# ---- who may call: a user outside the admin group is refused by the daemon itself ----
if [[ $PART == who-may-call ]]; then
	start_bus
	start_daemon
	wait_for_name 10 || { fail "the daemon did not take its name on the bus"; summary; exit; }
	sc list
	expect 0 "root may list"
	chmod 755 "$STORECTL" 2>/dev/null
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$STORECTL" list >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	expect 5 "an unprivileged user outside the admin group is refused"
	contains "$err" "Permission denied" "the refusal says why"
	contains "$err" "storeagent-tenant" "the refusal names the groups that may call"
	grep -q '"action":"bus.denied"' "$tmp/daemon.log" && ok "the refusal is logged" || fail "no bus.denied in the log"
	summary
	exit
fi

# ---- usage and help, no daemon needed ----
sc --help
expect 0 "storectl --help"
contains "$out" "Exit status" "--help documents the exit codes"
sc create --help
expect 0 "storectl create --help"
contains "$out" "--wait" "create --help lists --wait"
sc token --help
expect 0 "storectl token --help"
sc frobnicate
expect 2 "unknown command"
sc create
expect 2 "create without a name"
sc list --wait
expect 2 "list does not take --wait"

start_bus
sc list
expect 1 "list without a daemon"
contains "$err" "not answering" "the error says the daemon does not answer"

# The daemon starts before the bus (a boot race, or no bus at all): it keeps
# trying, and serves the name once the bus is there.
stop_bus
start_daemon
start_bus
if wait_for_name 10; then ok "the daemon takes its name when the bus comes up later"; else
	fail "the daemon did not connect to a bus that came up after it"; exit 1; fi

# ---- stores ----
sc list
expect 0 "list on an empty database"
contains "$out" "0 stores listed." "empty list says so"

dbus-monitor --system "type='signal',interface='org.storeagent.Agent1',member='StoreChanged'" >"$tmp/monitor.log" 2>&1 &
pids+=($!)
# It is listening once it has become a monitor, which gives up its own name (NameLost).
for _ in $(seq 50); do grep -q 'member=NameLost' "$tmp/monitor.log" && break; sleep 0.1; done
grep -q 'member=NameLost' "$tmp/monitor.log" || fail "dbus-monitor did not start: $(cat "$tmp/monitor.log")"

sc create shop-one
expect 0 "create shop-one"
contains "$out" "queued" "create says the creation is queued"
sc --json status shop-one
expect 0 "status --json by name"
id=$(jq -r .id <<<"$out")
owner=$(jq -r .owner <<<"$out")
[[ $id =~ ^[0-9a-f]{16}$ ]] && ok "store id $id" || fail "store id '$id'"
[[ $owner == "$(id -un)" ]] && ok "owner is the caller's user name ($owner)" || fail "owner '$owner', wanted $(id -un)"

sc status "$id"
expect 0 "status by id"
contains "$out" "shop-one ($id)" "status shows name and id"
contains "$out" "store.create" "status shows the latest events"

sc create shop-one
expect 4 "create of a taken name is refused"
contains "$err" "already exists" "refusal says the name is taken"
sc create Bad_Name
expect 2 "invalid name"
sc status no-such-store
expect 3 "status of an unknown store"
sc rollback shop-one x
expect 2 "rollback with a bad revision"
sc upgrade shop-one 0.2.0
expect 4 "upgrade while provisioning is refused"
sc backup-schedule shop-one
expect 0 "backup-schedule shows the schedule"
contains "$out" "Every 86400 s (the platform's)." "the platform's daily schedule by default"
contains "$out" "Keep the last 0, daily 7, weekly 4." "the retention policy"
sc backup-schedule shop-one 7200
expect 0 "backup-schedule sets the store's own interval"
contains "$out" "Every 7200 s (the store's own)." "the store's own interval"
sc backup-schedule shop-one off
expect 0 "backup-schedule off"
contains "$out" "No scheduled backups." "no scheduled backups"
sc --json backup-schedule shop-one default
expect 0 "backup-schedule back to the platform's"
[[ $(jq -r '.store_every_sec' <<<"$out") == null ]] && ok "back on the platform's schedule" || fail "default: $out"
sc backup-schedule shop-one often
expect 2 "backup-schedule with a word that is not a number"

sc list
expect 0 "list"
contains "$out" "shop-one" "list shows the store"
contains "$out" "PROVISIONING" "list shows its status"
sc --json list
expect 0 "list --json"
[[ $(jq -r '.[0].name' <<<"$out") == shop-one ]] && ok "list --json is the store array" || fail "list --json: $out"
sc list --status READY --no-legend
expect 0 "list --status READY"
[[ -z $out ]] && ok "no READY stores" || fail "list --status READY printed: $out"
sc list --status BOGUS
expect 2 "list --status with an unknown status"

sc events shop-one
expect 0 "events"
contains "$out" "store.create" "events show the creation"
contains "$out" "$(id -un)" "events name the actor"
sc --json events shop-one --limit 1
expect 0 "events --json --limit 1"
[[ $(jq length <<<"$out") == 1 ]] && ok "events --limit 1 gives one event" || fail "events --limit: $out"

# Without a cluster the store never settles: --wait reports progress and gives up at its timeout.
sc delete shop-one --wait --timeout 2
expect 1 "delete --wait times out without a cluster"
contains "$out" "DELETING" "--wait prints the status it follows"
contains "$err" "Timed out" "--wait says it timed out"

sleep 0.5
if grep -q "string \"$id\"" "$tmp/monitor.log"; then
	ok "StoreChanged carries the store id"
else
	fail "no StoreChanged for $id: $(head -c 2000 "$tmp/monitor.log")"
fi
grep -q 'string "DELETING"' "$tmp/monitor.log" && ok "StoreChanged carries the new status" ||
	fail "no StoreChanged with DELETING"

# ---- the bus restarts ----
stop_bus
start_bus
if wait_for_name 10; then ok "the daemon reconnects after the bus restarted"; else fail "no reconnect after a bus restart"; fi

# ---- tokens ----
sc token create ci-token
expect 0 "token create"
[[ $out =~ ^sa_[A-Za-z0-9]{40}$ ]] && ok "token printed once" || fail "token output '$out'"
sc token create ci-token
expect 4 "token create with a taken name"
sc token list
expect 0 "token list"
contains "$out" "ci-token" "token list shows the token"
[[ $out != *sa_* ]] && ok "token list does not show secrets" || fail "token list shows a secret"
sc token revoke ci-token
expect 0 "token revoke"
sc token revoke ci-token
expect 3 "revoking twice: no such active token"
sc token create 'bad name'
expect 2 "invalid token name"

# ---- accounts, their tokens, transfers, credentials ----
sc account list
expect 0 "account list"
contains "$out" "$(id -un)" "account list shows the caller's own admin account"
sc account create acme --max-stores 2
expect 0 "account create with a limit"
contains "$out" "tenant" "a new account is a tenant unless --role admin"
sc --json account list
[[ $(jq -r '.[] | select(.name == "acme") | "\(.role) \(.max_stores) \(.creates_per_hour)"' <<<"$out") == "tenant 2 null" ]] &&
	ok "account list --json has the role and the limits" || fail "acme in account list --json: $out"
sc account create acme
expect 4 "account create of a taken name"
sc account create 'Bad Name'
expect 2 "account create with an invalid name"
sc account create ops --role root
expect 2 "account create with an unknown role"
sc account set acme --creates-per-hour 7
expect 0 "account set one limit"
sc --json account list
[[ $(jq -r '.[] | select(.name == "acme") | "\(.max_stores) \(.creates_per_hour)"' <<<"$out") == "2 7" ]] &&
	ok "account set leaves the limit it was not given" || fail "acme after account set: $out"
sc account set acme --max-stores default
expect 0 "account set back to the default"
sc account list --no-legend
[[ $(awk '$1 == "acme" { print $4, $5 }' <<<"$out") == "default 7" ]] && ok "the table says default" ||
	fail "acme row: $out"
sc account set acme
expect 2 "account set without a limit"
sc account disable nobody-has-this
expect 3 "disable an unknown account"
sc account disable acme
expect 0 "account disable"
contains "$out" "disabled" "disable shows the account disabled"
sc account enable acme
expect 0 "account enable"

sc token create deploy --account acme --expires-in 3600
expect 0 "token create for another account, expiring"
[[ $out =~ ^sa_[A-Za-z0-9]{40}$ ]] && ok "the token is printed once" || fail "token output '$out'"
sc --json token list --account acme
expect 0 "token list --account"
[[ $(jq -r '.[0] | "\(.account) \(.name) \(.expires_at != null)"' <<<"$out") == "acme deploy true" ]] &&
	ok "the token belongs to acme and expires" || fail "token list --account acme: $out"
sc token list --account nobody-has-this
expect 3 "token list of an unknown account"
sc token revoke deploy
expect 3 "revoking without --account looks in the caller's own account"
sc token revoke deploy --account acme
expect 0 "token revoke --account"
sc token create x --expires-in 0
expect 2 "--expires-in 0 is a usage error"
sc list --account acme
expect 2 "list does not take --account"

sc create shop-two
expect 0 "create shop-two"
sc transfer shop-two acme
expect 0 "transfer"
contains "$out" "acme" "transfer names the new owner"
sc --json status shop-two
[[ $(jq -r .owner <<<"$out") == acme ]] && ok "the store's owner is acme" || fail "owner after transfer: $out"
sc events shop-two
contains "$out" "store.transfer" "the timeline records the transfer"
sc transfer shop-two nobody-has-this
expect 3 "transfer to an unknown account"
sc transfer no-such-store acme
expect 3 "transfer of an unknown store"
sc status
expect 0 "status without a store: the platform's room"
[[ $out == *"Capacity unknown"*"New stores are admitted"* ]] && ok "without a cluster the room is unknown, and said so" ||
	fail "status without a store: $out"
sc status --json
[[ $(jq -r .known <<<"$out") == false ]] && ok "status --json: known false" || fail "status --json: $out"
sc credentials no-such-store
expect 3 "credentials of an unknown store"
sc credentials shop-two
[[ $rc != 0 && $rc != 3 && $rc != 5 ]] && ok "credentials without a cluster fail, but are not refused (exit $rc)" ||
	fail "credentials: exit $rc: $out $err"

# Names a user typed come back in messages: escape sequences in them must not reach the terminal.
sc status $'evil\e]0;owned\a\e[31m'
expect 3 "status of a name with escape sequences"
[[ $err != *$'\e'* && $err != *$'\a'* ]] && ok "the error message has no control characters" ||
	fail "control characters in: $(printf %q "$err")"

# A row whose text is not UTF-8 (written by an older agent, cut inside a character): sd-bus and jansson
# refuse such a string, which used to fail the whole listing. It reads back with U+FFFD instead.
if command -v sqlite3 >/dev/null; then
	sqlite3 "$tmp/state/storeagent.db" \
		"UPDATE stores SET status_reason = CAST(X'636166E920C3' AS TEXT) WHERE name = 'shop-two'" ||
		fail "could not write the bad row"
	sc --json list
	expect 0 "list with a row that is not UTF-8"
	[[ $(jq -r '.[] | select(.name == "shop-two") | .status_reason' <<<"$out") == $'caf\xef\xbf\xbd \xef\xbf\xbd' ]] &&
		ok "the bad bytes are listed as U+FFFD" || fail "list with a bad row: $out $err"
	sc status shop-two
	expect 0 "status of the store with the bad row"
fi

# ---- the daemon's log ----
grep -q '"action":"store.create"' "$tmp/daemon.log" && ok "the daemon logs the creation with ACTION" ||
	fail "no store.create line in the daemon log"
grep -q '"via":"dbus"' "$tmp/daemon.log" && ok "the log says it came over D-Bus" || fail "no VIA=dbus field"
grep -q "\"actor\":\"$(id -un)\",\"action\":\"account.disable\",\"result\":\"ok\"" "$tmp/daemon.log" &&
	ok "disabling an account is audited" || fail "no account.disable audit line"
grep -q '"action":"token.create".*"source":"dbus"' "$tmp/daemon.log" && ok "token changes are audited from dbus" ||
	fail "no token.create audit line with source dbus"

summary
