#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The installed-system test: boots Debian bookworm with systemd in
# systemd-nspawn, installs the .deb with apt and checks what an operator sees:
# socket activation, the service's status line, journal fields, storectl as
# root, as an admin and as a stranger, restarts through the socket, D-Bus
# activation, an upgrade that keeps state and configuration, and removal. When
# the control plane of tests/cluster runs, a store made with storectl must
# reach READY (the packaged daemon, helm and hardening included).
#
#   tests/system/test-installed.sh [--deb FILE] [--keep]
#
#   --deb FILE   the package to test (default: build-packages/storeagent_*.deb,
#                built with packaging/build-packages --deb-only when missing)
#   --keep       leave the container running at the end (prints how to enter it)
#
# Environment: STOREAGENT_TEST_PORT (default 18180) is the port the socket gets
# through a drop-in, on the host's loopback (the container shares the host's
# network); STOREAGENT_TEST_SERVICE_DROPIN names a drop-in for
# storeagent.service to try (a hardening change, say); STOREAGENT_CLUSTER_DIR
# as in tests/cluster.
# Needs root, systemd-nspawn (systemd-container), debootstrap, curl and jq.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${STOREAGENT_TEST_PORT:-18180}
CLUSTER_ENV=${STOREAGENT_CLUSTER_DIR:-/tmp/storeagent-cluster}/env
DEB=
KEEP=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--deb) DEB=$(realpath "$2"); shift ;;
	--keep) KEEP=1 ;;
	-h | --help) awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0"; exit 0 ;;
	*) echo "unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

passed=0
failed=0
skipped=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "SKIP: $*"; skipped=$((skipped + 1)); }
info() { echo "info: $*"; }
die() { echo "FAIL: $*"; finish; }
check() { # DESCRIPTION COMMAND...: ok when the command succeeds
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}

[[ $(id -u) == 0 ]] || { echo "test-installed: needs root (systemd-nspawn)"; exit 1; }
for t in systemd-nspawn debootstrap nsenter curl jq dpkg-deb; do
	command -v "$t" >/dev/null || { echo "test-installed: '$t' is missing"; exit 1; }
done
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then
	echo "test-installed: something already listens on 127.0.0.1:$PORT; set STOREAGENT_TEST_PORT"
	exit 1
fi

find_deb() {
	local f
	for f in "$SRC"/build-packages/storeagent_*_*.deb; do
		[[ -f $f ]] && { echo "$f"; return 0; }
	done
	return 1
}
if [[ -z $DEB ]]; then
	if ! DEB=$(find_deb); then
		echo "== building the .deb (packaging/build-packages --deb-only)"
		"$SRC/packaging/build-packages" --deb-only --no-check || exit 1
		DEB=$(find_deb)
	fi
fi
[[ -f $DEB ]] || { echo "test-installed: no package at '$DEB'"; exit 1; }
VERSION=$(dpkg-deb -f "$DEB" Version)
echo "== testing $(basename "$DEB") ($(du -h "$DEB" | cut -f1))"

ROOTFS=$("$SRC/tests/system/rootfs") || exit 1
WORK=$(mktemp -d /var/tmp/storeagent-systest.XXXXXX)
MACHINE=storeagent-test-$$
NSPAWN_PID=
LEADER=

teardown() {
	if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		# nspawn turns SIGTERM into an orderly poweroff of the container.
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		for _ in $(seq 150); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	if [[ -d $WORK ]] && ! grep -q " $WORK/" /proc/mounts; then
		rm -rf --one-file-system "$WORK"
	fi
}
finish() {
	echo
	echo "$passed passed, $failed failed, $skipped skipped"
	((skipped == 0)) || echo "SKIP: $skipped part(s) of this test did not run; the SKIP lines above say why"
	if [[ $KEEP == 1 && -n $LEADER ]]; then
		echo "container kept: nsenter -t $LEADER -a bash   (stop: kill $NSPAWN_PID)"
		trap - EXIT
		exit $((failed > 0))
	fi
	exit $((failed > 0))
}
trap teardown EXIT
trap 'exit 130' INT TERM

# Runs a command inside the container, with the container's own environment.
C() {
	nsenter -t "$LEADER" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 TERM=dumb HOME=/root "$@"
}
# Runs storectl as a user inside the container; output in $out/$err, exit code in $rc.
SC() {
	local user=$1
	shift
	C runuser -u "$user" -- storectl "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	out=$(cat "$WORK/out")
	err=$(cat "$WORK/err")
}
main_pid() { C systemctl show -P MainPID storeagent.service; }
unit_state() { C systemctl show -P ActiveState "$1"; }
http() { # PATH [curl args...]: prints the status code
	local p=$1
	shift
	curl -s -o "$WORK/body" -w '%{http_code}' --max-time 30 "$@" "http://127.0.0.1:$PORT$p"
}
journal_json() { C journalctl -u storeagent.service -o json --no-pager; }

# ---- boot ----
echo "== booting $ROOTFS"
cp -a --reflink=auto "$ROOTFS" "$WORK/root" || die "copying the root file system"
mkdir -p "$WORK/pkg"
cp "$DEB" "$WORK/pkg/storeagent.deb"
# The upgrade: the same package under a higher version, as a new release would come.
dpkg-deb -R "$DEB" "$WORK/repack" &&
	sed -i "s/^Version: .*/Version: $VERSION+systest1/" "$WORK/repack/DEBIAN/control" &&
	dpkg-deb --root-owner-group -b "$WORK/repack" "$WORK/pkg/storeagent-upgrade.deb" >/dev/null ||
	die "repacking the upgrade package"
rm -rf "$WORK/repack"

# The socket's port on the host loopback, set before the package exists so it never binds 8080 here.
mkdir -p "$WORK/root/etc/systemd/system/storeagent.socket.d"
cat >"$WORK/root/etc/systemd/system/storeagent.socket.d/test-port.conf" <<EOF
[Socket]
ListenStream=
ListenStream=127.0.0.1:$PORT
EOF

if [[ -n ${STOREAGENT_TEST_SERVICE_DROPIN:-} ]]; then
	mkdir -p "$WORK/root/etc/systemd/system/storeagent.service.d"
	cp "$STOREAGENT_TEST_SERVICE_DROPIN" "$WORK/root/etc/systemd/system/storeagent.service.d/test.conf"
	info "with the drop-in $STOREAGENT_TEST_SERVICE_DROPIN: $(grep -v '^\[' "$STOREAGENT_TEST_SERVICE_DROPIN" | tr '\n' ' ')"
fi

boot_start=$(date +%s.%N)
systemd-nspawn --boot --register=no --keep-unit --console=pipe -D "$WORK/root" --machine="$MACHINE" \
	--bind-ro="$WORK/pkg:/srv/pkg" >"$WORK/console.log" 2>&1 </dev/null &
NSPAWN_PID=$!
# The container's PID 1 is the systemd among nspawn's descendants.
find_leader() {
	local todo=("$NSPAWN_PID") p c
	while [[ ${#todo[@]} -gt 0 ]]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		for c in $(pgrep -P "$p"); do
			[[ $(cat /proc/"$c"/comm 2>/dev/null) == systemd ]] && { echo "$c"; return 0; }
			todo+=("$c")
		done
	done
	return 1
}
for _ in $(seq 100); do
	LEADER=$(find_leader) && break
	kill -0 "$NSPAWN_PID" 2>/dev/null || break
	sleep 0.1
done
[[ -n $LEADER ]] || { cat "$WORK/console.log"; die "systemd-nspawn did not start systemd"; }
# Until systemd answers on its bus, is-system-running fails at once; then --wait waits for the boot.
for _ in $(seq 300); do
	state=$(timeout 60 nsenter -t "$LEADER" -a systemctl is-system-running --wait 2>/dev/null)
	[[ -n $state ]] && break
	sleep 0.1
done
boot_end=$(date +%s.%N)
if [[ $state == running ]]; then
	ok "container booted to 'running' in $(awk -v a="$boot_start" -v b="$boot_end" 'BEGIN { printf "%.2f", b - a }') s (leader pid $LEADER)"
else
	fail "container is '$state' after boot: $(C systemctl --failed --no-legend --no-pager | tr '\n' ';')"
fi

# ---- install ----
echo "== install"
if ! C apt-get install -y -q /srv/pkg/storeagent.deb >"$WORK/apt.log" 2>&1; then
	# The cached lists may be older than the mirror's packages: refresh once.
	info "apt-get install failed ($(tail -n1 "$WORK/apt.log")); refreshing the package lists"
	C apt-get update -q >>"$WORK/apt.log" 2>&1
	C apt-get install -y -q /srv/pkg/storeagent.deb >>"$WORK/apt.log" 2>&1 || {
		tail -n 20 "$WORK/apt.log"
		die "apt-get install of the package"
	}
fi
ok "apt installed the package and its dependencies ($(grep -oE '[0-9]+ newly installed' "$WORK/apt.log" | tail -n1))"
check "user storeagent exists" C getent passwd storeagent
check "group storeagent-admin exists" C getent group storeagent-admin
check "group storeagent-tenant exists" C getent group storeagent-tenant
[[ $(C systemctl is-enabled storeagent.socket) == enabled ]] && ok "storeagent.socket is enabled" ||
	fail "storeagent.socket is not enabled"
[[ $(unit_state storeagent.socket) == active ]] && ok "storeagent.socket is active after install" ||
	fail "storeagent.socket is $(unit_state storeagent.socket) after install"
[[ $(unit_state storeagent.service) == inactive ]] && ok "storeagent.service waits for its first request" ||
	fail "storeagent.service is $(unit_state storeagent.service) before any request"
C test -f /usr/share/man/man1/storectl.1.gz && C test -f /usr/share/bash-completion/completions/storectl &&
	ok "man pages and bash completion are installed" || fail "man page or completion missing"

verify=$(C systemd-analyze verify storeagent.service storeagent.socket 2>&1)
[[ -z $verify ]] && ok "systemd-analyze verify is clean" || fail "systemd-analyze verify: $verify"
security=$(C systemd-analyze security --no-pager storeagent.service 2>&1 | grep 'Overall exposure level')
security=${security#→ }
[[ -n $security ]] && ok "systemd-analyze security: ${security}" || fail "systemd-analyze security printed no score"
C systemd-analyze security --no-pager storeagent.service >"$WORK/security.txt" 2>&1
grep -E '^✗' "$WORK/security.txt" | awk '{$NF=""; print}' | sed 's/ *$//; s/^/info: security: /'

# ---- socket activation ----
echo "== socket activation"
code=$(curl -s -o "$WORK/body" -w '%{http_code} %{time_starttransfer}' --max-time 30 "http://127.0.0.1:$PORT/healthz")
cold=${code#* }
[[ ${code%% *} == 200 ]] && ok "first request starts the service: /healthz 200, cold start to first byte ${cold}s" ||
	fail "first request: HTTP ${code%% *}"
COLD_STARTS=("$cold")
[[ $(unit_state storeagent.service) == active ]] && ok "storeagent.service is active" ||
	fail "storeagent.service is $(unit_state storeagent.service)"
status=$(C systemctl status --no-pager storeagent.service 2>&1)
if grep -qE 'Status: ".*ready.*provisioning.*' <<<"$status"; then
	ok "systemctl status shows the STATUS= line: $(grep -oE 'Status: "[^"]*"' <<<"$status")"
else
	fail "no STATUS= line in systemctl status: $status"
fi
warm=$(curl -s -o /dev/null -w '%{time_starttransfer}' "http://127.0.0.1:$PORT/healthz")
info "warm request to first byte: ${warm}s"
if dpkg-deb -c "$DEB" | grep 'usr/share/storeagent/web/index.html' >/dev/null; then
	code=$(curl -s -o "$WORK/body" -w '%{http_code} %{content_type}' "http://127.0.0.1:$PORT/")
	[[ $code == "200 text/html"* ]] && ok "the packaged dashboard is served at /" || fail "GET /: $code"
else
	info "the package has no dashboard (built with --no-web)"
fi
[[ $(C stat -c '%U %a' /var/lib/storeagent) == "storeagent 750" ]] && ok "/var/lib/storeagent is storeagent's, mode 750" ||
	fail "/var/lib/storeagent is $(C stat -c '%U %a' /var/lib/storeagent)"

# ---- idle exit ----
echo "== idle exit"
echo "idle_exit: 2" | C tee -a /etc/storeagent/storeagent.yaml >/dev/null
C systemctl restart storeagent.service
for _ in $(seq 200); do
	[[ $(unit_state storeagent.service) == inactive ]] && break
	sleep 0.1
done
if [[ $(unit_state storeagent.service) == inactive && $(C systemctl show -P Result storeagent.service) == success ]]; then
	ok "with idle_exit: 2 and nothing to do, the daemon exits by itself (result: success)"
else
	fail "no idle exit within 20 s: service $(unit_state storeagent.service), result $(C systemctl show -P Result storeagent.service)"
fi
[[ $(unit_state storeagent.socket) == active && $(http /healthz) == 200 ]] &&
	ok "after the idle exit the socket starts it again" || fail "no restart after the idle exit"

# ---- storectl and D-Bus ----
echo "== storectl"
SC root list
[[ $rc == 0 && $out == *"0 stores listed."* ]] && ok "storectl list as root" || fail "storectl list as root: $rc $out $err"
SC root token create systest
TOKEN=$out
[[ $rc == 0 && $TOKEN == sa_* ]] && ok "storectl token create prints a token" || fail "token create: $rc $out $err"
[[ $(http /api/v1/stores -H "Authorization: Bearer $TOKEN") == 200 ]] && ok "the token opens the REST API" ||
	fail "REST API with the new token: $(cat "$WORK/body")"
[[ $(http /api/v1/stores) == 401 ]] && ok "the REST API refuses a request without a token" || fail "no 401 without a token"

SC root create systest-local
[[ $rc == 0 ]] && ok "storectl create as root" || fail "storectl create: $rc $err"
SC root --json status systest-local
STORE_ID=$(jq -r .id <<<"$out" 2>/dev/null)
[[ $(jq -r .owner <<<"$out" 2>/dev/null) == root ]] && ok "the store's owner is the caller, root" || fail "owner: $out"

C useradd -m -s /bin/bash alice
C useradd -m -s /bin/bash -G storeagent-admin bob
SC alice list
[[ $rc == 5 && $err == *"Permission denied"* ]] && ok "a user outside storeagent-admin is refused (exit 5)" ||
	fail "alice: exit $rc, $out $err"
SC bob list
[[ $rc == 0 && $out == *systest-local* ]] && ok "a member of storeagent-admin may use storectl" ||
	fail "bob: exit $rc, $out $err"
# Joining the group later: what an operator does with usermod.
C usermod -aG storeagent-admin alice
SC alice list
if [[ $rc == 0 ]]; then
	ok "a user added to storeagent-admin later may use storectl at once"
else
	C systemctl reload dbus.service
	SC alice list
	[[ $rc == 0 ]] && ok "a user added to storeagent-admin later may use storectl after 'systemctl reload dbus'" ||
		fail "alice in storeagent-admin: exit $rc, $err"
fi
C gpasswd -d alice storeagent-admin >/dev/null
C systemctl reload dbus.service
SC bob events systest-local
[[ $rc == 0 ]] && ok "storectl events as bob" || fail "events as bob: $rc $err"
# A local user mapped to a tenant account: the packaged D-Bus policy lets group storeagent-tenant in,
# and the daemon shows it only its own stores.
C useradd -m -s /bin/bash -G storeagent-tenant carol
SC carol list
[[ $rc == 5 && $err == *"no tenant account"* ]] && ok "a tenant-group user without an account is refused (exit 5)" ||
	fail "carol without an account: exit $rc, $out $err"
SC root account create carol
SC carol list
[[ $rc == 0 && $out != *systest-local* ]] && ok "a tenant-mapped user may use storectl and sees no other store" ||
	fail "carol as a tenant: exit $rc, $out $err"
SC carol account list
[[ $rc == 5 ]] && ok "a tenant-mapped user is refused the admin's commands (exit 5)" || fail "carol account list: exit $rc"
SC root create systest-local
[[ $rc == 4 ]] && ok "a taken name is refused with exit 4" || fail "duplicate create: exit $rc"
SC root status no-such-store
[[ $rc == 3 ]] && ok "an unknown store gives exit 3" || fail "unknown store: exit $rc"

# A queued task keeps it running, idle or not; the status line follows the stores.
pid=$(main_pid)
sleep 12
[[ $(unit_state storeagent.service) == active && $(main_pid) == "$pid" ]] &&
	ok "with a task queued the daemon does not exit on idle" || fail "the daemon left (or restarted) with a task queued"
status=$(C systemctl show -P StatusText storeagent.service)
[[ $status == *"1 provisioning"* ]] && ok "the STATUS= line follows the stores: $status" ||
	fail "the STATUS= line is stale: '$status' (a store is provisioning)"
C sed -i '/^idle_exit: 2$/d' /etc/storeagent/storeagent.yaml
C systemctl reload storeagent.service

# ---- the journal ----
echo "== journal"
journal_json >"$WORK/journal.json"
n=$(jq -s '[.[] | select(.REQUEST_ID != null)] | length' "$WORK/journal.json")
((n > 0)) && ok "journal has REQUEST_ID fields ($n entries), so journald got structured fields" ||
	fail "no REQUEST_ID in journalctl -o json"
n=$(jq -s --arg id "$STORE_ID" '[.[] | select(.STORE_ID == $id)] | length' "$WORK/journal.json")
((n > 0)) && ok "journal has STORE_ID=$STORE_ID for the created store ($n entries)" || fail "no STORE_ID=$STORE_ID in the journal"
n=$(jq -s --arg id "$STORE_ID" '[.[] | select(.STORE_ID == $id and .ACTOR == "root" and .VIA == "dbus")] | length' "$WORK/journal.json")
((n > 0)) && ok "the creation is logged with ACTOR=root VIA=dbus" || fail "no ACTOR=root VIA=dbus entry"
n=$(jq -s '[.[] | select(.MESSAGE_ID == "2f5c8e1d0b6a4f0e9d3c7b1a5e8f2c40")] | length' "$WORK/journal.json")
((n > 0)) && ok "the start message carries its MESSAGE_ID" || fail "no MESSAGE_ID on the start message"
n=$(jq -s '[.[] | select(.MESSAGE | type == "string" and startswith("{\""))] | length' "$WORK/journal.json")
((n == 0)) && ok "no JSON lines in the journal (the daemon chose journald, not stderr)" ||
	fail "$n journal entries are JSON text: the daemon logged to stderr"

# ---- restarts through the socket ----
echo "== restarts"
for i in 1 2; do
	before=$(main_pid)
	C systemctl stop storeagent.service 2>/dev/null
	sock=$(unit_state storeagent.socket)
	code=$(curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}' --max-time 30 "http://127.0.0.1:$PORT/healthz")
	after=$(main_pid)
	if [[ $sock == active && ${code%% *} == 200 && $after != 0 && $after != "$before" ]]; then
		ok "stop #$i: the socket stays active and the next request starts the service again (pid $before -> $after, ${code#* }s)"
		COLD_STARTS+=("${code#* }")
	else
		fail "stop #$i: socket $sock, HTTP ${code%% *}, pid $before -> $after"
	fi
done
[[ $(unit_state storeagent.socket) == active ]] && ok "storeagent.socket never went failed" ||
	fail "storeagent.socket is $(unit_state storeagent.socket): $(C systemctl status --no-pager storeagent.socket | tail -n 5)"

# D-Bus activation: storectl starts a stopped daemon through systemd.
C systemctl stop storeagent.service 2>/dev/null
SC root list
[[ $rc == 0 && $(unit_state storeagent.service) == active ]] && ok "storectl starts a stopped daemon (D-Bus activation)" ||
	fail "D-Bus activation: exit $rc, service $(unit_state storeagent.service), $err"

before=$(main_pid)
C systemctl reload storeagent.service
# The reload's log line reaches the journal after systemctl returns: wait for it (10 s at most).
reloaded=no
for _ in $(seq 100); do
	if C journalctl -u storeagent.service --no-pager | grep "Configuration reloaded" >/dev/null; then
		reloaded=yes
		break
	fi
	sleep 0.1
done
[[ $reloaded == yes && $(unit_state storeagent.service) == active && $(main_pid) == "$before" ]] &&
	ok "systemctl reload rereads the configuration in the same process" ||
	fail "reload: logged: $reloaded, service $(unit_state storeagent.service), pid $(main_pid) (was $before)"

# ---- upgrade ----
echo "== upgrade"
echo "# local change kept across upgrades" | C tee -a /etc/storeagent/storeagent.yaml >/dev/null
before=$(main_pid)
db_before=$(C stat -c %i /var/lib/storeagent/storeagent.db)
if C apt-get install -y -q /srv/pkg/storeagent-upgrade.deb >"$WORK/apt-upgrade.log" 2>&1; then
	ok "apt upgraded to $VERSION+systest1"
else
	tail -n 20 "$WORK/apt-upgrade.log"
	fail "apt upgrade"
fi
after=$(main_pid)
[[ $after != 0 && $after != "$before" && $(unit_state storeagent.service) == active ]] &&
	ok "the upgrade restarted the running service (pid $before -> $after)" ||
	fail "after the upgrade: service $(unit_state storeagent.service), pid $before -> $after"
[[ $(unit_state storeagent.socket) == active ]] && ok "the socket is active after the upgrade" ||
	fail "socket is $(unit_state storeagent.socket) after the upgrade"
C grep -q "local change kept" /etc/storeagent/storeagent.yaml && ok "the configuration file kept the local change" ||
	fail "the upgrade replaced the configuration"
[[ $(C stat -c %i /var/lib/storeagent/storeagent.db) == "$db_before" ]] && ok "the database file is the same file" ||
	fail "the database file was replaced"
SC root list
[[ $out == *systest-local* ]] && ok "stores survive the upgrade" || fail "store list after the upgrade: $out"
[[ $(http /api/v1/stores -H "Authorization: Bearer $TOKEN") == 200 ]] && ok "tokens survive the upgrade" ||
	fail "token after the upgrade: $(cat "$WORK/body")"

# ---- a store on the control plane ----
echo "== a store on the control plane"
if [[ -f $CLUSTER_ENV ]] && "$SRC/tests/cluster/status" >/dev/null 2>&1; then
	# The daemon's own least-privilege identity, as an operator makes it with contrib/rbac;
	# the admin kubeconfig only where that script is missing.
	if (
		set -e
		# shellcheck disable=SC1090
		. "$CLUSTER_ENV"
		cp "$HELM" "$WORK/helm"
		if [[ -x $SRC/contrib/rbac/install ]]; then
			KUBECTL=${KUBECTL:-kubectl} "$SRC/contrib/rbac/install" --kubeconfig "$KUBECONFIG" \
				--output "$WORK/kubeconfig" --duration 1h
		else
			echo "no contrib/rbac/install: using the admin kubeconfig"
			"${KUBECTL:-kubectl}" --kubeconfig "$KUBECONFIG" config view --flatten --minify >"$WORK/kubeconfig"
		fi
	) >"$WORK/rbac.log" 2>&1; then
		ok "kubeconfig for the daemon: $(grep -q 'admin kubeconfig' "$WORK/rbac.log" && echo "the admin's" || echo "contrib/rbac/install's ServiceAccount")"
	else
		fail "preparing the kubeconfig: $(tail -n 5 "$WORK/rbac.log")"
	fi
	# Where and how the RBAC script leaves it: readable by group storeagent only.
	cp "$WORK/kubeconfig" "$WORK/root/etc/storeagent/kubeconfig"
	C chown root:storeagent /etc/storeagent/kubeconfig
	C chmod 0640 /etc/storeagent/kubeconfig
	install -m 0755 "$WORK/helm" "$WORK/root/usr/local/bin/helm"
	C systemctl restart storeagent.service
	# StoreChanged names every store, whoever owns it: the packaged bus policy lets only root and
	# storeagent-admin receive it. Each user listens with an ordinary match rule (dbus-monitor falls back
	# to one when it may not become a monitor); NameAcquired, printed once the rule is in, says it listens.
	for u in bob carol alice; do
		C runuser -u "$u" -- timeout 900 stdbuf -oL dbus-monitor --system \
			"type='signal',interface='org.storeagent.Agent1'" >"$WORK/monitor-$u.log" 2>&1 &
	done
	for u in bob carol alice; do
		for _ in $(seq 100); do grep -q NameAcquired "$WORK/monitor-$u.log" && break; sleep 0.1; done
		grep -q NameAcquired "$WORK/monitor-$u.log" || fail "dbus-monitor as $u did not start: $(head -c 300 "$WORK/monitor-$u.log")"
	done
	name=systest-$$
	SC root create "$name" --wait --timeout 600
	if [[ $rc == 0 ]]; then
		ok "store $name created with storectl reached READY: $(tail -n1 <<<"$out")"
	else
		fail "store $name did not reach READY (exit $rc): $(tail -n 5 <<<"$out") $err"
		SC root status "$name"
		echo "$out" | sed 's/^/    /'
		SC root events "$name" --limit 30
		echo "$out" | sed 's/^/    /'
	fi
	grep -q "member=StoreChanged" "$WORK/monitor-bob.log" &&
		ok "a member of storeagent-admin receives StoreChanged ($(grep -c 'member=StoreChanged' "$WORK/monitor-bob.log") signals)" ||
		fail "bob (storeagent-admin) received no StoreChanged: $(head -c 300 "$WORK/monitor-bob.log")"
	# The bus sent each signal to every matching listener at once: what bob got, the others would have had.
	for u in carol alice; do
		if grep -q "member=StoreChanged" "$WORK/monitor-$u.log"; then
			fail "$u received StoreChanged, which names other accounts' stores"
		else
			ok "$u ($([[ $u == carol ]] && echo "a tenant-mapped user" || echo "outside the storeagent groups")) receives no StoreChanged"
		fi
	done
	C sh -c 'kill $(pidof dbus-monitor) 2>/dev/null'
	for s in "$name" systest-local; do
		SC root delete "$s" --wait --timeout 300
		if [[ $rc == 0 ]]; then ok "store $s deleted (DELETED)"; else
			fail "deleting $s: exit $rc $(tail -n 3 <<<"$out") $err"
			SC root status "$s"
			echo "$out" | sed 's/^/    /'
		fi
	done
	if ((failed > 0)); then
		echo "---- journal of storeagent.service (last 80 lines) ----"
		C journalctl -u storeagent.service -n 80 --no-pager -o short-precise | sed 's/^/    /'
		echo "----"
	fi
elif [[ -f $CLUSTER_ENV ]]; then
	fail "the control plane of $CLUSTER_ENV does not answer (tests/cluster/status); no store was provisioned"
else
	skip "a store on the control plane: no control plane (start one with tests/cluster/up; env file $CLUSTER_ENV)"
fi

restarts=$(C systemctl show -P NRestarts storeagent.service)
[[ $restarts == 0 ]] && ok "the service never crashed or hit its watchdog (NRestarts=0)" ||
	fail "the service restarted itself $restarts time(s): $(C journalctl -u storeagent.service --no-pager | grep -iE 'watchdog|core|signal|failed' | tail -n 5)"

# ---- removal ----
echo "== removal"
if C apt-get remove -y -q storeagent >"$WORK/apt-remove.log" 2>&1; then ok "apt remove"; else fail "apt remove"; fi
[[ $(unit_state storeagent.service) == inactive && $(unit_state storeagent.socket) == inactive ]] &&
	ok "removal stopped the service and the socket" ||
	fail "after removal: service $(unit_state storeagent.service), socket $(unit_state storeagent.socket)"
curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$PORT/healthz" && fail "port $PORT still answers after removal" ||
	ok "port $PORT is closed after removal"
C test -f /var/lib/storeagent/storeagent.db && C test -f /etc/storeagent/storeagent.yaml &&
	ok "remove keeps the database and the configuration" || fail "remove deleted state or configuration"
# The agent's kubeconfig holds a cluster token; without a cluster above it was never written.
C test -e /etc/storeagent/kubeconfig || C sh -c 'umask 027; echo "users: [{user: {token: t}}]" >/etc/storeagent/kubeconfig'
C apt-get purge -y -q storeagent >>"$WORK/apt-remove.log" 2>&1
C test -e /var/lib/storeagent && fail "purge left /var/lib/storeagent" || ok "purge removes /var/lib/storeagent"
C test -e /etc/storeagent/kubeconfig && fail "purge left /etc/storeagent/kubeconfig (a cluster token)" ||
	ok "purge removes /etc/storeagent/kubeconfig"

echo
echo "cold starts (request to first byte, service stopped): ${COLD_STARTS[*]} s"
finish
