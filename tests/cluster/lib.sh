# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034
# Shared settings and helpers for tests/cluster/{up,down,status,logs,build}.
# Sourced, never executed (hence no shebang; the variables are used by the
# scripts that source it). Everything here is pinned: change a version here and
# the cache key changes with it, so nothing stale is ever reused.

# No job control, even when an exported SHELLOPTS carries `monitor`: with it
# every background job leads its own process group, so `down` (which signals
# the group) would miss children, and setsid(1) would fork.
set +m

CLUSTER_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Versions. K8S_VERSION must match tests/cluster/k8s/go.mod, ETCD_VERSION too.
K8S_VERSION=v1.33.13
ETCD_VERSION=v3.5.21
KWOK_VERSION=v0.7.0
CYCLONUS_VERSION=v0.5.6
# cert-manager's controller, for the https tests (tests/integration/test_tls.py); must match
# tests/cluster/cert-manager/go.mod.
CERT_MANAGER_VERSION=v1.11.5
# metrics-server, the metrics.k8s.io API for the resource-use tests (tests/cluster/metrics-server-up).
METRICS_SERVER_VERSION=v0.8.0
# versitygw, the S3-compatible server the backup copy test writes to (tests/integration/test_backup_s3.py).
VERSITYGW_VERSION=v1.8.0
HELM4_VERSION=v4.3.1
HELM3_VERSION=v3.22.0
HELM_MAJOR=${HELM_MAJOR:-4}

# Where things live. The cache survives `down`; the state dir does not.
CACHE_DIR=${STOREAGENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/storeagent}
STATE_DIR=${STOREAGENT_CLUSTER_DIR:-/tmp/storeagent-cluster}

K8S_BIN_DIR=$CACHE_DIR/bin-k8s-$K8S_VERSION
KWOK_BIN=$CACHE_DIR/bin-kwok-$KWOK_VERSION/kwok
# kwok's own CustomResourceDefinitions for the resources `up` enables (Exec, ClusterExec, Logs,
# ClusterLogs), from its module.
KWOK_CRD_DIR=$CACHE_DIR/crd-kwok-$KWOK_VERSION
KWOK_CRDS=(execs clusterexecs logs clusterlogs metrics resourceusages clusterresourceusages)
# The NetworkPolicy analyzer tests/cluster/test-netpol.sh asks (the cluster enforces no policy).
CYCLONUS_BIN=$CACHE_DIR/bin-cyclonus-$CYCLONUS_VERSION/cyclonus
# Built only by `build cert-manager` (tests/cluster/cert-manager-up asks for it), never by `up`.
CERT_MANAGER_BIN=$CACHE_DIR/bin-cert-manager-$CERT_MANAGER_VERSION/controller
# Its CustomResourceDefinitions (Certificate, Issuer, ...), from its module, the chart's labels taken out.
CERT_MANAGER_CRD_DIR=$CACHE_DIR/crd-cert-manager-$CERT_MANAGER_VERSION
# Built only by `build metrics-server` (tests/cluster/metrics-server-up asks for it).
METRICS_SERVER_BIN=$CACHE_DIR/bin-metrics-server-$METRICS_SERVER_VERSION/metrics-server
# Built only by `build versitygw` (the S3 test asks for it).
VERSITYGW_BIN=$CACHE_DIR/bin-versitygw-$VERSITYGW_VERSION/versitygw
case $HELM_MAJOR in
	4) HELM_VERSION=$HELM4_VERSION ;;
	3) HELM_VERSION=$HELM3_VERSION ;;
	*) echo "HELM_MAJOR must be 3 or 4, not '$HELM_MAJOR'" >&2; exit 2 ;;
esac
HELM_BIN=$CACHE_DIR/bin-helm-$HELM_VERSION/helm
KUBECTL_BUILT_BIN=$CACHE_DIR/bin-kubectl-$K8S_VERSION/kubectl

# Ports: one base, everything else is base+N, all bound to 127.0.0.1 only.
# The default base keeps clear of a real k3s/kubeadm on the same host (6443,
# 2379/2380, 10257, 10259) and of storeagentd (8080).
PORT_BASE=${STOREAGENT_CLUSTER_PORT_BASE:-16443}
APISERVER_PORT=$PORT_BASE
ETCD_CLIENT_PORT=$((PORT_BASE + 1))
ETCD_PEER_PORT=$((PORT_BASE + 2))
KCM_PORT=$((PORT_BASE + 3))
SCHEDULER_PORT=$((PORT_BASE + 4))
# kwok's fake kubelet API: the API server proxies pods/exec and pods/log to it (mapped to local
# commands and files by Exec/ClusterExec and Logs/ClusterLogs objects).
KWOK_PORT=$((PORT_BASE + 5))
# cert-manager's metrics listener (tests/cluster/cert-manager-up), on loopback.
CERT_MANAGER_METRICS_PORT=$((PORT_BASE + 6))
# metrics-server's secure port (tests/cluster/metrics-server-up), on loopback; the API server
# reaches it through the APIService v1beta1.metrics.k8s.io.
METRICS_SERVER_PORT=$((PORT_BASE + 7))

# Networks, the same ranges k3s uses by default.
SERVICE_CIDR=10.43.0.0/16
SERVICE_IP=10.43.0.1
POD_CIDR_PREFIX=10.42

# Storage pool handed out through the local-path StorageClass.
PV_COUNT=${STOREAGENT_CLUSTER_PVS:-64}
PV_SIZE=${STOREAGENT_CLUSTER_PV_SIZE:-20Gi}
POOL_LABEL=storeagent.test/pv-pool=local-path

# Components in start order; each has <state>/pids/<name>.pid and logs/<name>.log.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok pv-recycler)
# Started on demand by their own scripts (after the components above); `down` stops them too.
OPTIONAL_COMPONENTS=(cert-manager metrics-server)

PKI=$STATE_DIR/pki
LOG_DIR=$STATE_DIR/logs
PID_DIR=$STATE_DIR/pids
ADMIN_KUBECONFIG=$STATE_DIR/kubeconfig
ENV_FILE=$STATE_DIR/env

say() { printf '[cluster] %s\n' "$*"; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

# now_ms: wall clock in milliseconds, for the timings `up` prints.
now_ms() { date +%s%3N; }

# pid_of NAME: the recorded pid, or nothing.
pid_of() {
	local f=$PID_DIR/$1.pid
	[[ -r $f ]] && cat "$f"
	return 0
}

# alive NAME: the recorded pid runs, and is still the process we started: its
# command line names the binary we started and this state dir, so a recycled
# pid is never mistaken for (or killed as) ours.
alive() {
	local pid marker cmdline
	pid=$(pid_of "$1")
	[[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
	marker=$(cat "$PID_DIR/$1.marker" 2>/dev/null) || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"$marker"* && $cmdline == *"$STATE_DIR/"* ]]
}

# kubectl with the cluster's admin kubeconfig.
kc() { "$KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# pick_kubectl: a kubectl on PATH within one minor of ours (the supported
# skew), preferring an exact-minor sibling such as the Google Cloud SDK's
# kubectl.1.33 (its plain `kubectl` is a dispatcher in front of those);
# otherwise the one `build` makes. Sets KUBECTL; returns 1 when it must be built.
pick_kubectl() {
	local sys cand minor want
	want=$(echo "$K8S_VERSION" | cut -d. -f2)
	sys=$(command -v kubectl || true)
	if [[ -n $sys ]]; then
		sys=$(readlink -f "$sys")
		for cand in "$sys.1.$want" "$sys"; do
			[[ -x $cand ]] || continue
			minor=$("$cand" version --client -o json 2>/dev/null |
				sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n1)
			if [[ -n $minor ]] && (( minor >= want - 1 && minor <= want + 1 )); then
				KUBECTL=$cand
				return 0
			fi
		done
	fi
	KUBECTL=$KUBECTL_BUILT_BIN
	return 1
}

# start NAME BINARY ARGS...: run detached in its own session (so `down` can
# signal the whole process group), log to logs/NAME.log, record the pid.
# The pid is written by the process itself just before it execs the binary.
# `$!` alone is racy: it names a forked copy of this script that has not yet
# exec'd setsid and the binary, so for a moment /proc/PID/cmdline is still
# ours and `alive` calls the component dead ("etcd exited while waiting for
# kube-apiserver /readyz"; a read made at once still saw the shell in 18 of 200
# tries). And with job control on, setsid(1) would fork, making `$!` the pid
# of a process that exits at once.
start() {
	local name=$1 pidfile=$PID_DIR/$1.pid i
	shift
	rm -f "$pidfile"
	echo "$1" >"$PID_DIR/$name.marker"
	# The command line, so that start-component can start it again as it was.
	printf '%s\0' "$@" >"$PID_DIR/$name.argv"
	# Descriptors beyond 2 are closed first: a component must not hold a lock its starter held
	# (`flock FILE tests/cluster/up` would otherwise stay locked for as long as the component runs).
	# shellcheck disable=SC2016 # expanded by the inner shell
	setsid bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; ((f > 2)) && eval "exec $f>&-"; done
		echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@" \
		</dev/null >>"$LOG_DIR/$name.log" 2>&1 &
	for ((i = 0; i < 250; i++)); do
		[[ -s $pidfile ]] && break
		sleep 0.02
	done
	[[ -s $pidfile ]] || fail_with_logs "$name did not start (no pid file after 5s)"
	say "started $name (pid $(pid_of "$name"), log $LOG_DIR/$name.log)"
}

# fail_with_logs MESSAGE: print the tails of the logs and fail.
fail_with_logs() {
	"$CLUSTER_SRC/logs" -n 30 >&2 || true
	die "$1 (the processes are left running for inspection: tests/cluster/status; clean up with tests/cluster/down)"
}

# wait_until SECONDS WHAT COMMAND...: poll every 0.2s; fail early, with the
# logs, when one of the components we started has died.
wait_until() {
	local secs=$1 what=$2 deadline c
	shift 2
	deadline=$(( $(now_ms) + secs * 1000 ))
	until "$@" >/dev/null 2>&1; do
		for c in "${COMPONENTS[@]}"; do
			if [[ -e $PID_DIR/$c.pid ]] && ! alive "$c"; then
				fail_with_logs "$c exited while waiting for $what"
			fi
		done
		(( $(now_ms) < deadline )) || fail_with_logs "timed out after ${secs}s waiting for $what"
		sleep 0.2
	done
}

curl_api() {
	curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
		"https://127.0.0.1:$APISERVER_PORT$1"
}
readyz_ok() { [[ $(curl_api /readyz) == ok ]]; }
