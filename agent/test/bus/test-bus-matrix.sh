#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Who may call what on org.storeagent.Agent1: every method of the interface, as
# the daemon introspects it, called as each kind of local user, against the
# answer the matrix below expects. A method with no row (a new one), or a row
# for a method that is gone, fails the test, so every method gets decided.
#
# The callers: root (an admin); a user of group storeagent-tenant mapped to a
# tenant account of its name; a user of another tenant; a tenant whose account
# is disabled; a user of group storeagent-tenant whose name is an admin account
# (which it must not become); and a user in no group at all.
#
#   test-bus-matrix.sh STOREAGENTD STORECTL
#
# Needs root (it adds users, and group storeagent-tenant when missing, and
# removes them again), else it is skipped (77).
set -uo pipefail

usage="usage: test-bus-matrix.sh STOREAGENTD STORECTL"
STOREAGENTD=${1:?$usage}
STORECTL=${2:?$usage}

why=
[[ $(id -u) == 0 ]] || why="not root: adding users and calling as them needs root"
for t in setpriv useradd userdel groupadd groupdel dbus-daemon dbus-send jq curl flock; do
	command -v "$t" >/dev/null || why="$t is not installed"
done
if [[ -n $why ]]; then
	echo "SKIP: D-Bus matrix: $why"
	exit 77
fi

# Expected answers. ok: success. allowed: anything but a refusal (the store's state decides,
# say InvalidState while it provisions). Refused: org.freedesktop.DBus.Error.AccessDenied (may
# not call at all). Any other word: the last part of the org.storeagent.Error name.
#
# Placeholders: @A@ a store of the tenant, @R@ a store of root's, @T@ the tenant's account,
# @O@ the other tenant's, @X@ a spare tenant account; @NEW@, @ACCT@, @TOK@, @TOK2@ a fresh
# name per caller. Rows run top to bottom, each across the callers from left to right.
matrix() {
	cat <<'EOF'
# method            admin   tenant       other        disabled unmapped stranger  arguments (dbus-send)
ListStores          ok      ok           ok           Refused  Refused  Refused   string:
GetStore            ok      ok           NotFound     Refused  Refused  Refused   string:@A@
GetEvents           ok      ok           NotFound     Refused  Refused  Refused   string:@A@ uint32:0
CreateStore         ok      ok           ok           Refused  Refused  Refused   string:@NEW@ string:
UpgradeStore        allowed allowed      NotFound     Refused  Refused  Refused   string:@A@ string:0.2.0
RedeployStore       allowed allowed      NotFound     Refused  Refused  Refused   string:@A@
GetStoreSettings    ok      ok           NotFound     Refused  Refused  Refused   string:@A@
GetStoreUsage       ok      ok           NotFound     Refused  Refused  Refused   string:@A@
SetStoreSettings    allowed allowed      NotFound     Refused  Refused  Refused   string:@A@ string:{"currency":"EUR"}
GetStoreDomains     ok      ok           NotFound     Refused  Refused  Refused   string:@A@
AddStoreDomain      allowed allowed      NotFound     Refused  Refused  Refused   string:@A@ string:m.example.com boolean:false
RemoveStoreDomain   allowed allowed      NotFound     Refused  Refused  Refused   string:@A@ string:m.example.com
SetStorePrimaryDomain allowed allowed    NotFound     Refused  Refused  Refused   string:@A@ string:
RollbackStore       allowed allowed      NotFound     Refused  Refused  Refused   string:@A@ int64:1
RetryStore          allowed allowed      NotFound     Refused  Refused  Refused   string:@A@
GetCredentials      allowed allowed      NotFound     Refused  Refused  Refused   string:@A@
BackupStore         allowed allowed      NotFound     Refused  Refused  Refused   string:@A@
ListBackups         ok      ok           NotFound     Refused  Refused  Refused   string:@A@
RestoreStore        allowed allowed      NotFound     Refused  Refused  Refused   string:@A@ string:0000000000000000
CloneStore          NotFound NotFound    NotFound     Refused  Refused  Refused   string:@NEW@ string:@A@ string:0000000000000000
DeleteBackup        NotFound NotFound    NotFound     Refused  Refused  Refused   string:@A@ string:0000000000000000
GetBackupSchedule   ok      ok           NotFound     Refused  Refused  Refused   string:@A@
SetBackupSchedule   allowed allowed      NotFound     Refused  Refused  Refused   string:@A@ int64:-1
GetLogs             allowed allowed      NotFound     Refused  Refused  Refused   string:@A@ string: string: uint64:10 boolean:false
GetCapacity         ok      ok           ok           Refused  Refused  Refused
GetPlatformStats    ok      AccessDenied AccessDenied Refused  Refused  Refused   uint64:86400 uint64:10
TransferStore       ok      AccessDenied AccessDenied Refused  Refused  Refused   string:@R@ string:@O@
ListAccounts        ok      AccessDenied AccessDenied Refused  Refused  Refused
CreateAccount       ok      AccessDenied AccessDenied Refused  Refused  Refused   string:@ACCT@ string:tenant
SetAccountLimits    ok      AccessDenied AccessDenied Refused  Refused  Refused   string:@O@ int64:5 int64:-1
SetAccountDisabled  ok      AccessDenied AccessDenied Refused  Refused  Refused   string:@X@ boolean:false
ListTokens          ok      ok           ok           Refused  Refused  Refused
CreateToken         ok      ok           ok           Refused  Refused  Refused   string:@TOK@
RevokeToken         ok      ok           ok           Refused  Refused  Refused   string:@TOK@
ListAccountTokens   ok      ok           AccessDenied Refused  Refused  Refused   string:@T@
CreateAccountToken  ok      ok           AccessDenied Refused  Refused  Refused   string:@T@ string:@TOK2@ uint64:0
RevokeAccountToken  ok      ok           AccessDenied Refused  Refused  Refused   string:@T@ string:@TOK2@
ListWebhooks        ok      ok           ok           Refused  Refused  Refused
CreateWebhook       ok      ok           ok           Refused  Refused  Refused   string:https://hooks.example.com/@NEW@ string: boolean:false
TestWebhook         ok      NotFound     NotFound     Refused  Refused  Refused   int64:1
SetWebhookEnabled   ok      NotFound     NotFound     Refused  Refused  Refused   int64:1 boolean:true
ListWebhookDeliveries ok    NotFound     NotFound     Refused  Refused  Refused   int64:1
DeleteWebhook       ok      NotFound     NotFound     Refused  Refused  Refused   int64:1
DeleteStore         ok      ok           NotFound     Refused  Refused  Refused   string:@A@
EOF
}
callers=(admin tenant other disabled unmapped stranger)

tmp=$(mktemp -d /tmp/storeagent-test-matrix.XXXXXX)
pids=()
users=()
made_group=0
# Users and the shared group are added and removed by one run at a time.
exec 9>/tmp/storeagent-test-users.lock
flock 9
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for u in "${users[@]}"; do userdel "$u" 2>/dev/null; done
	[[ $made_group == 1 ]] && groupdel storeagent-tenant 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
summary() {
	echo
	echo "$passed passed, $failed failed"
	[[ $failed == 0 ]]
}

sfx=$(printf '%04x' $((RANDOM % 65536)))
if ! getent group storeagent-tenant >/dev/null; then
	groupadd --system storeagent-tenant || { echo "groupadd storeagent-tenant failed"; exit 1; }
	made_group=1
fi
declare -A user_of=([admin]=root)
add_user() { # CALLER NAME GROUPS
	useradd --no-create-home --shell /usr/sbin/nologin ${3:+--groups "$3"} "$2" || { echo "useradd $2 failed"; exit 1; }
	users+=("$2")
	user_of[$1]=$2
}
add_user tenant "mxt$sfx" storeagent-tenant
add_user other "mxo$sfx" storeagent-tenant
add_user disabled "mxd$sfx" storeagent-tenant
add_user unmapped "mxu$sfx" storeagent-tenant
add_user stranger "mxs$sfx" ""

# ---- a private bus and the daemon, as in test-bus.sh ----
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
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
chmod 755 "$tmp"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/bus.sock
dbus-daemon --config-file="$tmp/bus.conf" --nofork --nopidfile >>"$tmp/dbus.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [[ -S $tmp/bus.sock ]] && break; sleep 0.1; done
[[ -S $tmp/bus.sock ]] || { echo "dbus-daemon did not start: $(cat "$tmp/dbus.log")"; exit 1; }

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
	for _ in $(seq 50); do
		kill -0 "$daemon" 2>/dev/null || break
		curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
		sleep 0.1
	done
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && { pids+=("$daemon"); break; }
	kill "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
	daemon=
done
[[ -n ${daemon:-} ]] || { echo "storeagentd did not start:"; tail -n 20 "$tmp/daemon.log"; exit 1; }

# call CALLER METHOD ARGS...: leaves the outcome word in $outcome and the reply in $reply.
call() {
	local who=$1 method=$2
	shift 2
	local run=()
	[[ $who != admin ]] && run=(setpriv --reuid="${user_of[$who]}" --regid="${user_of[$who]}" --init-groups)
	"${run[@]}" dbus-send --system --print-reply=literal --dest=org.storeagent.Agent1 /org/storeagent/Agent1 \
		"org.storeagent.Agent1.$method" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	reply=$(cat "$tmp/out")
	local name
	name=$(sed -n 's/^Error \([^:]*\):.*/\1/p' "$tmp/err" | head -1)
	if [[ $rc == 0 ]]; then
		outcome=ok
	elif [[ $name == org.freedesktop.DBus.Error.AccessDenied ]]; then
		outcome=Refused
	elif [[ $name == org.storeagent.Error.* ]]; then
		outcome=${name#org.storeagent.Error.}
	else
		outcome="${name:-error}"
	fi
}
# must CALLER METHOD ARGS...: a call the test needs to go through.
must() {
	call "$@"
	[[ $outcome == ok ]] || { echo "setup: $2 as $1 failed: $(cat "$tmp/err")"; tail -n 20 "$tmp/daemon.log"; exit 1; }
}

for _ in $(seq 100); do call admin ListStores string: && [[ $outcome == ok ]] && break; sleep 0.1; done
[[ $outcome == ok ]] || { echo "the daemon did not answer on the bus: $(cat "$tmp/err")"; exit 1; }

# ---- the accounts and stores the matrix acts on ----
T=${user_of[tenant]} O=${user_of[other]} D=${user_of[disabled]} U=${user_of[unmapped]} S=${user_of[stranger]}
A="a$sfx" R="r$sfx" X="x$sfx"
must admin CreateAccount string:"$T" string:tenant
must admin CreateAccount string:"$O" string:tenant
must admin CreateAccount string:"$D" string:tenant
must admin CreateAccount string:"$X" string:tenant
# An admin account of the name a tenant-group user has (a token from before accounts makes one).
must admin CreateAccount string:"$U" string:admin
must tenant CreateStore string:"$A" string:
must admin CreateStore string:"$R" string:
must disabled CreateStore string:"d$sfx" string:
must admin SetAccountDisabled string:"$D" boolean:true

# ---- the interface as the daemon describes it ----
dbus-send --system --print-reply=literal --dest=org.storeagent.Agent1 /org/storeagent/Agent1 \
	org.freedesktop.DBus.Introspectable.Introspect >"$tmp/introspect.xml" 2>&1
methods=$(awk '/<interface name="org.storeagent.Agent1">/ { on = 1 } on && /<\/interface>/ { on = 0 }
	on && match($0, /<method name="[^"]+"/) { s = substr($0, RSTART + 14, RLENGTH - 15); print s }' \
	"$tmp/introspect.xml" | sort)
[[ $(wc -w <<<"$methods") -ge 10 ]] || { echo "introspection found no methods: $(head -c 2000 "$tmp/introspect.xml")"; exit 1; }
rows=$(matrix | awk '!/^#/ && NF { print $1 }' | sort)
missing=$(comm -23 <(echo "$methods") <(echo "$rows"))
extra=$(comm -13 <(echo "$methods") <(echo "$rows"))
[[ -z $missing ]] && ok "every method of the interface has a row" ||
	fail "methods without a row in the matrix (decide who may call them): $(echo $missing)"
[[ -z $extra ]] && ok "every row names a method of the interface" || fail "rows for methods that do not exist: $(echo $extra)"
dups=$(matrix | awk '!/^#/ && NF { print $1 }' | sort | uniq -d)
[[ -z $dups ]] || fail "methods with more than one row: $dups"

# ---- the matrix ----
declare -A want
while read -r method e_admin e_tenant e_other e_disabled e_unmapped e_stranger args; do
	[[ -z $method || $method == \#* ]] && continue
	want=([admin]=$e_admin [tenant]=$e_tenant [other]=$e_other [disabled]=$e_disabled
		[unmapped]=$e_unmapped [stranger]=$e_stranger)
	for c in "${callers[@]}"; do
		a=${args//@A@/$A}
		a=${a//@R@/$R}
		a=${a//@T@/$T}
		a=${a//@O@/$O}
		a=${a//@X@/$X}
		a=${a//@NEW@/n${c:0:2}$sfx}
		a=${a//@ACCT@/c${c:0:2}$sfx}
		a=${a//@TOK@/t${c:0:2}$sfx}
		a=${a//@TOK2@/u${c:0:2}$sfx}
		# shellcheck disable=SC2086 # the arguments are words without spaces
		call "$c" "$method" $a
		w=${want[$c]}
		if [[ $w == allowed ]]; then
			[[ $outcome != Refused && $outcome != AccessDenied && $outcome != NotFound ]]
		else
			[[ $outcome == "$w" ]]
		fi && ok "$method as $c: $outcome" || fail "$method as $c: $outcome, wanted $w ($(head -c 300 "$tmp/err"))"
	done
done < <(matrix)

# ---- what each one sees afterwards ----
call tenant ListStores string:
names=$(jq -r '.[].name' <<<"$reply" 2>/dev/null | sort | tr '\n' ' ')
[[ $names == "$A nte$sfx " ]] &&
	ok "the tenant lists only its own stores ($names)" || fail "the tenant lists: $names"
call other ListStores string:
[[ $reply == *"\"$R\""* && $reply != *"\"$A\""* ]] && ok "the store given to the other tenant is in its list" ||
	fail "the other tenant lists: $reply"
call admin ListAccounts
[[ $(jq -r --arg n "$U" '.[] | select(.name == $n) | .role' <<<"$reply") == admin ]] &&
	ok "the unmapped user's admin account is still an admin account, unused" || fail "accounts: $reply"
[[ $(jq -r --arg n "$S" '[.[] | select(.name == $n)] | length' <<<"$reply") == 0 ]] &&
	ok "no account was made for the stranger" || fail "an account for the stranger exists: $reply"
[[ $(jq -r --arg n "$O" '.[] | select(.name == $n) | .max_stores' <<<"$reply") == 5 ]] &&
	ok "the admin's SetAccountLimits took effect" || fail "limits of $O: $reply"
grep -q "\"action\":\"account.create\"" "$tmp/daemon.log" && grep -q '"source":"dbus"' "$tmp/daemon.log" &&
	ok "account changes are audited with source dbus" || fail "no account.create audit line with source dbus"
grep -q "\"actor\":\"$T\",\"action\":\"account.list\",\"result\":\"denied\"" "$tmp/daemon.log" &&
	ok "a tenant's refusal is audited" || fail "no denied account.list audit line for $T"
grep -q "\"actor\":\"$O\",\"action\":\"credentials.read\",\"result\":\"denied\"" "$tmp/daemon.log" &&
	ok "another tenant's credentials read is audited as denied" || fail "no denied credentials.read for $O"
grep -q "\"actor\":\"$S\",\"action\":\"bus.denied\"" "$tmp/daemon.log" &&
	ok "the stranger's refusal is logged" || fail "no bus.denied for $S"

# ---- storectl as a tenant: what it says ----
as_tenant() { setpriv --reuid="$T" --regid="$T" --init-groups "$STORECTL" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
chmod 755 "$STORECTL" 2>/dev/null
as_tenant account list
[[ $rc == 5 ]] && grep -q "Permission denied: Only an admin" "$tmp/err" && ok "storectl account list as a tenant: exit 5, says why" ||
	fail "storectl account list as a tenant: exit $rc: $(cat "$tmp/err")"
as_tenant token create "own$sfx"
[[ $rc == 0 ]] && grep -Eq '^sa_[A-Za-z0-9]{40}$' "$tmp/out" && ok "a tenant makes a token of its own with storectl" ||
	fail "storectl token create as a tenant: exit $rc: $(cat "$tmp/err")"
as_tenant --json token list
[[ $(jq -r '[.[].account] | unique | join(",")' "$tmp/out") == "$T" ]] && ok "a tenant lists only its own tokens" ||
	fail "storectl token list as a tenant: $(cat "$tmp/out")"
setpriv --reuid="$S" --regid="$S" --init-groups "$STORECTL" list >"$tmp/out" 2>"$tmp/err"
[[ $? == 5 ]] && grep -q "storeagent-tenant" "$tmp/err" && ok "storectl as a stranger: exit 5, names the groups" ||
	fail "storectl as a stranger: $(cat "$tmp/err")"

summary
