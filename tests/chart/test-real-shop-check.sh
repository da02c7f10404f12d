#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck source-path=SCRIPTDIR
# contrib/real-shop-check against the real storeagentd on the local control plane
# (tests/cluster): the storeagent half of the script (create, wait for READY, the
# store's URL, errors, delete) talks to the real daemon, which provisions the store
# with the real chart and helm. Only the WooCommerce half needs stand-ins, because
# kwok runs no containers: woocommerce-standin.py plays the shop (Store API, REST API),
# reached through curl's http_proxy at the URL the daemon reported, and a kubectl
# stand-in plays `port-forward` and `exec` into the shop's pod, after checking with the
# real kubectl that the Service and Deployment it was asked for exist in the store's
# namespace (every other kubectl call goes to the real kubectl).
# An https store with mail: a test CA (openssl) stands in for the certificate issuer, the shop
# stand-in serves https with a certificate from it and, on checkout, sends the order e-mail to
# the SMTP server in the store's real web Deployment (from the daemon's stores.mail), where
# the script's own SMTP sink (--smtp-sink) must receive it; a wrong CA and a sink the store
# does not send to must fail.
# Also: a store that FAILS (a chart helm refuses), a taken name, a bad token, usage.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SCRIPT=$REPO/contrib/real-shop-check
DAEMON=${STOREAGENTD:-$REPO/build/agent/src/daemon/storeagentd}
[[ -x $DAEMON ]] || fail "storeagentd is not built ($DAEMON): meson compile -C build"
for tool in python3 curl jq; do
    command -v "$tool" >/dev/null || fail "$tool is needed"
done

PIDS=()
DAEMON_LOGS=()
stop_processes() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
# testing.sh's on_exit (events and logs on failure, namespaces deleted) runs last, with our status.
trap 'rc=$?; stop_processes; ((rc == 0)) || for l in "${DAEMON_LOGS[@]}"; do
    echo "=== $l (last 30 lines)" >&2; tail -n 30 "$l" >&2; done; rm -rf "$WORK"; set +e; (exit $rc); on_exit' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_daemon DIR CHART [STORES-YAML]: the real storeagentd on the control plane, serving on a
# free port ($API); its token in $TOKEN. STORES-YAML: more of the stores section (flow style).
start_daemon() {
    local dir=$1 chart=$2 stores=${3:-} port
    mkdir -p "$dir/repo"
    port=$(free_port)
    cat >"$dir/storeagent.yaml" <<EOF
listen: {address: 127.0.0.1, port: $port}
database: $dir/state/storeagent.db
state_dir: $dir/state
kubeconfig: $KUBECONFIG
helm: {binary: $HELM, timeout: 120}
chart: {path: $chart, repository: $dir/repo}
stores: {provision_timeout: 180, base_domain: shops.test${stores:+, $stores}}
web_root: $dir/web
log: {format: json}
EOF
    TOKEN=$("$DAEMON" --config "$dir/storeagent.yaml" token create --name shop-check) || fail "token create"
    "$DAEMON" --config "$dir/storeagent.yaml" >"$dir/daemon.log" 2>&1 &
    local pid=$! i
    PIDS+=("$pid")
    DAEMON_LOGS+=("$dir/daemon.log")
    API=http://127.0.0.1:$port
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || fail "storeagentd exited: $(tail -n 20 "$dir/daemon.log")"
        curl -sf -o /dev/null "$API/healthz" && return 0
        sleep 0.1
    done
    fail "storeagentd did not answer on $API/healthz"
}

# api METHOD PATH: the daemon's answer (body) to a call with $TOKEN.
api() { curl -sS -X "$1" -H "Authorization: Bearer $TOKEN" "$API$2"; }
store_by_name() { api GET /api/v1/stores | jq -c --arg n "$1" '.items[] | select(.name == $n)'; }

# The kubectl stand-in, for what needs the shop's container; the real kubectl for the rest.
mkdir -p "$WORK/bin"
cat >"$WORK/bin/kubectl" <<'EOF'
#!/bin/bash
# Stand-in for `kubectl port-forward` and `kubectl exec` into a store's shop pod (kwok
# runs no containers); every other call goes to the real kubectl.
echo "kubectl $*" >>"$STANDIN_DIR/kubectl.log"
args=" $* "
ns=$(sed -n 's/.* -n \([^ ]*\) .*/\1/p' <<<"$args")
case $args in
*" port-forward "*)
    svc=$(sed -n 's/.* port-forward svc\/\([^ ]*\) .*/\1/p' <<<"$args")
    "$REAL_KUBECTL" -n "$ns" get service "$svc" >/dev/null ||
        { echo "kubectl stand-in: no service $svc in $ns" >&2; exit 1; }
    echo "Forwarding from 127.0.0.1:$(cat "$STANDIN_DIR/port") -> 80"
    exec sleep 300
    ;;
*" exec "*)
    deploy=$(sed -n 's/.* exec deploy\/\([^ ]*\) .*/\1/p' <<<"$args")
    containers=$("$REAL_KUBECTL" -n "$ns" get deployment "$deploy" -o jsonpath='{.spec.template.spec.containers[*].name}') ||
        { echo "kubectl stand-in: no deployment $deploy in $ns" >&2; exit 1; }
    [[ " $containers " == *" wordpress "* ]] || { echo "kubectl stand-in: $deploy has no container wordpress" >&2; exit 1; }
    case $args in
    *" create "*) echo "abcd efgh ijkl mnop 3f1c-uuid" ;;
    *" delete 3f1c-uuid "*) echo deleted >>"$STANDIN_DIR/revoked" ;;
    *) echo "kubectl stand-in: unexpected exec: $*" >&2; exit 1 ;;
    esac
    ;;
*) exec "$REAL_KUBECTL" "$@" ;;
esac
EOF
chmod +x "$WORK/bin/kubectl"

# start_shop DIR HOST [ENV=VALUE...]: the WooCommerce stand-in for the shop at HOST, with the
# stand-in's environment (woocommerce-standin.py); its port in DIR/port.
start_shop() {
    mkdir -p "$1"
    env REAL_KUBECTL="$KUBECTL" "${@:3}" python3 "$CHART_TESTS/woocommerce-standin.py" "$1/port" "$1/log.json" "$2" &
    PIDS+=($!)
    local i
    for i in $(seq 100); do [[ -s $1/port ]] && return 0; sleep 0.1; done
    fail "the WooCommerce stand-in did not start"
}

# check ARGS...: runs real-shop-check against the daemon, output in $out, status in $rc.
check() {
    rc=0
    out=$(STANDIN_DIR=$S REAL_KUBECTL=$KUBECTL PATH=$WORK/bin:$PATH STOREAGENT_TOKEN=$TOKEN \
        http_proxy=http://127.0.0.1:$(cat "$S/port") https_proxy=http://127.0.0.1:$(cat "$S/port") no_proxy=127.0.0.1 NO_PROXY=127.0.0.1 \
        "$SCRIPT" --api "$API" --interval 1 --timeout 240 "$@" 2>&1) || rc=$?
}

step "a store that becomes READY, sells, and is deleted"
NAME=shopcheck-$$
start_daemon "$WORK/d1" "$CHART"
S=$WORK/shop
start_shop "$S" "$NAME.shops.test"
TEST_NAMESPACES+=("store-$NAME")
check --name "$NAME" --delete
((rc == 0)) || fail "real-shop-check failed (exit $rc):"$'\n'"$out"
grep -q "^PASS: store $NAME sold \"Classic T-Shirt\"" <<<"$out" || fail "no PASS line:"$'\n'"$out"
ok "exit 0 with: $(grep '^PASS' <<<"$out")"
for want in 'store id [0-9a-f]\{16\}, PROVISIONING' 'status PROVISIONING' 'status READY' \
    "READY: shop http://$NAME.shops.test/, namespace store-$NAME" 'got a Cart-Token and a Nonce' \
    'order #42 placed' 'HTTP 202, DELETING'; do
    grep -q "$want" <<<"$out" || fail "output lacks '$want':"$'\n'"$out"
done
ok "each step says what it did, with the daemon's statuses and the URL it reported"
[[ $(jq -c . "$S/log.json") == '["home","installer-refused","checkout","rest-order"]' ]] ||
    fail "the shop stand-in saw $(cat "$S/log.json")"
ok "the shop at the daemon's URL was visited, its installer asked for (refused), checked out with COD, and the order read back through /wc/v3/orders"
for image in "$(sed -n '/^mysql:/,/^[a-z]/s/^    tag: "\(.*\)"/mysql:\1/p' "$CHART/values.yaml")" \
    "$(sed -n '/^wordpress:/,/^[a-z]/s/^    tag: "\(.*\)"/wordpress:\1/p' "$CHART/values.yaml")"; do
    grep -q "^    $image " <<<"$out" || fail "the image $image the store ran is not listed:"$'\n'"$out"
done
ok "the images the store ran are listed"
grep -q "port-forward svc/$NAME-wordpress :80" "$S/kubectl.log" || fail "no port-forward: $(cat "$S/kubectl.log")"
grep -q -- "-n store-$NAME exec deploy/$NAME-wordpress -c wordpress -- php -r" "$S/kubectl.log" ||
    fail "no exec: $(cat "$S/kubectl.log")"
[[ -s $S/revoked ]] || fail "the application password was not revoked"
ok "port-forward and exec aimed at the store's real Service and Deployment; the password was revoked"
id=$(store_by_name "$NAME" | jq -r .id)
[[ -n $id ]] || fail "the daemon does not know a store $NAME: $(api GET /api/v1/stores)"
eventually 240 "store $NAME DELETED in the daemon" bash -c "[[ \$(curl -s -H 'Authorization: Bearer $TOKEN' \
    $API/api/v1/stores/$id | jq -r .status) == DELETED ]]"
kc get namespace "store-$NAME" >/dev/null 2>&1 && fail "namespace store-$NAME is still there after DELETED"
ok "the daemon deleted the store (--delete): DELETED, namespace gone"

step "an https store with a certificate from an issuer, and its order e-mail"
# The test CA stands in for the issuer (a cert-manager CA ClusterIssuer on a real host).
make_ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" 2>/dev/null ||
        fail "openssl: CA $2"
}
TLS_NAME=shopcheck-tls-$$
TLS_HOST=$TLS_NAME.shops.test
make_ca "$WORK/issuer" "shopcheck test issuer"
make_ca "$WORK/other" "some other CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=$TLS_HOST" -keyout "$WORK/shop.key" -out "$WORK/shop.csr" 2>/dev/null &&
    openssl x509 -req -in "$WORK/shop.csr" -CA "$WORK/issuer.pem" -CAkey "$WORK/issuer.key" -CAcreateserial \
        -days 2 -extfile <(printf 'subjectAltName=DNS:%s\n' "$TLS_HOST") -out "$WORK/shop.pem" 2>/dev/null ||
    fail "openssl: the shop's certificate"
FROM=orders@$TLS_HOST
SINK_PORT=$(free_port)
start_daemon "$WORK/d3" "$CHART" \
    "url_scheme: https, mail: {smtp_host: 127.0.0.1, smtp_port: $SINK_PORT, smtp_tls: none, from: $FROM}"
S=$WORK/tls-shop
start_shop "$S" "$TLS_HOST" STANDIN_TLS_CERT="$WORK/shop.pem" STANDIN_TLS_KEY="$WORK/shop.key" \
    STANDIN_MAIL_DEPLOYMENT="store-$TLS_NAME/$TLS_NAME-wordpress"
TEST_NAMESPACES+=("store-$TLS_NAME")
check --name "$TLS_NAME" --ca-cert "$WORK/other.pem" --smtp-sink "127.0.0.1:$SINK_PORT" --mail-from "$FROM"
((rc == 1)) || fail "with the wrong CA: exit $rc, expected 1:"$'\n'"$out"
grep -q "READY: shop https://$TLS_HOST/" <<<"$out" || fail "the store is not READY at https://$TLS_HOST/:"$'\n'"$out"
grep -q "FAILED: the shop's certificate does not verify against the issuer's CA $WORK/other.pem: curl: (60)" \
    <<<"$out" || fail "no clear message for the wrong CA:"$'\n'"$out"
grep -q 'checkout' "$S/log.json" && fail "went on to check out after the certificate failed: $(cat "$S/log.json")"
ok "a certificate from another issuer: exit 1, $(grep -o "FAILED: .*(60)" <<<"$out")"
TLS_ID=$(store_by_name "$TLS_NAME" | jq -r .id)

# The store's mail goes to 127.0.0.1:$SINK_PORT; a sink anywhere else receives nothing.
check --store "$TLS_ID" --ca-cert "$WORK/issuer.pem" --smtp-sink "127.0.0.1:$(free_port)" --mail-from "$FROM" \
    --mail-timeout 3
((rc == 1)) || fail "with no mail: exit $rc, expected 1:"$'\n'"$out"
grep -q "FAILED: no order e-mail arrived: no message from $FROM naming order #42 reached 127.0.0.1:[0-9]* within 3s (received: nothing)" \
    <<<"$out" || fail "no clear message when no mail arrives:"$'\n'"$out"
grep -q 'mail-failed' "$S/log.json" || fail "the stand-in did not try to send: $(cat "$S/log.json")"
ok "no order e-mail at the sink: exit 1, FAILED: no order e-mail arrived"

# The store's order e-mail arrives, but not from the address the check was told.
check --store "$TLS_ID" --ca-cert "$WORK/issuer.pem" --smtp-sink "127.0.0.1:$SINK_PORT" \
    --mail-from "someone-else@$TLS_HOST" --mail-timeout 3
((rc == 1)) || fail "with another from-address: exit $rc, expected 1:"$'\n'"$out"
grep -q "FAILED: no order e-mail arrived: .*(received: from <$FROM>: \[$TLS_HOST\]: New order #42)" <<<"$out" ||
    fail "no clear message when the mail is from another address:"$'\n'"$out"
ok "an order e-mail from another address does not count: exit 1, the messages received are listed"

check --store "$TLS_ID" --ca-cert "$WORK/issuer.pem" --smtp-sink "127.0.0.1:$SINK_PORT" --mail-from "$FROM" --delete
((rc == 0)) || fail "https with mail: exit $rc:"$'\n'"$out"
for want in "PASS: store $TLS_NAME sold \"Classic T-Shirt\" to a customer (order #42, cash on delivery, https certificate from $WORK/issuer.pem, order e-mail received)" \
    "Subject: CN *= *$TLS_HOST" "Issuer: CN *= *shopcheck test issuer" "X509v3 Subject Alternative Name: DNS:$TLS_HOST" \
    "ok: verified against $WORK/issuer.pem" "From: $FROM (envelope $FROM)" "Subject: \[$TLS_HOST\]: New order #42" \
    '| \[Order #42\]' 'ok: the order e-mail for #42 arrived' 'HTTP 202, DELETING'; do
    grep -q -- "$want" <<<"$out" || fail "output lacks '$want':"$'\n'"$out"
done
grep -q 'port-forward' "$S/kubectl.log" && fail "an https shop's REST API was reached through a port-forward"
[[ $(jq -c '.[-2:]' "$S/log.json") == \
    "[\"mail-sent:127.0.0.1:$SINK_PORT\",\"rest-order\"]" ]] || fail "the shop stand-in saw $(cat "$S/log.json")"
ok "https verified against the issuer's CA (subject, issuer, SANs shown), order e-mail from $FROM received and shown"
# The next store needs the room this one takes.
eventually 240 "store $TLS_NAME DELETED in the daemon" bash -c "[[ \$(curl -s -H 'Authorization: Bearer $TOKEN' \
    $API/api/v1/stores/$TLS_ID | jq -r .status) == DELETED ]]"

step "a store that FAILS"
# A copy of the chart that helm refuses to render: the store fails on the real control plane.
cp -r "$CHART" "$WORK/refusing-chart"
echo '{{ fail "refused by the test: this chart cannot be installed" }}' >"$WORK/refusing-chart/templates/refuse.yaml"
start_daemon "$WORK/d2" "$WORK/refusing-chart"
FAILING=shopcheck-fails-$$
TEST_NAMESPACES+=("store-$FAILING")
check --name "$FAILING"
((rc == 1)) || fail "exit $rc, expected 1:"$'\n'"$out"
grep -q 'reason: .*refused by the test: this chart cannot be installed' <<<"$out" || fail "reason not shown:"$'\n'"$out"
grep -q 'FAILED: the store FAILED' <<<"$out" || fail "no FAILED line:"$'\n'"$out"
[[ $(store_by_name "$FAILING" | jq -r .status) == FAILED ]] || fail "the daemon says $(store_by_name "$FAILING")"
ok "exit 1 with the store's status_reason from the daemon"

step "a taken name"
check --name "$FAILING"
((rc == 1)) || fail "exit $rc, expected 1:"$'\n'"$out"
grep -q "FAILED: HTTP 409: name_taken: " <<<"$out" || fail "the daemon's error is not shown:"$'\n'"$out"
ok "exit 1 with the daemon's error: $(grep -o 'name_taken: .*' <<<"$out")"

step "a bad token"
rc=0
out=$(STOREAGENT_TOKEN=sa_notavalidtoken0000000000000000000000000 "$SCRIPT" --api "$API" --name "another-$$" 2>&1) || rc=$?
((rc == 1)) || fail "exit $rc, expected 1:"$'\n'"$out"
grep -q "FAILED: HTTP 401: unauthorized: " <<<"$out" || fail "the daemon's error is not shown:"$'\n'"$out"
[[ -z $(store_by_name "another-$$") ]] || fail "a store was made with a bad token"
ok "exit 1 with the daemon's error: $(grep -o 'unauthorized: .*' <<<"$out")"

step "usage"
rc=0
out=$(env -u STOREAGENT_TOKEN "$SCRIPT" 2>&1) || rc=$?
if ((rc != 2)) || ! grep -q 'no API token' <<<"$out"; then
    fail "without a token: exit $rc: $out"
fi
"$SCRIPT" --help | grep -q -- '--token TOKEN' || fail "--help lacks the options"
for opt in '--ca-cert FILE' '--smtp-sink HOST:PORT' '--mail-from ADDR' '--mail-timeout SECONDS'; do
    "$SCRIPT" --help | grep -q -- "$opt" || fail "--help lacks $opt"
done
usage_error() { # WANT ARGS...: exit 2 with WANT in the message
    local want=$1
    shift
    rc=0
    out=$(STOREAGENT_TOKEN=x "$SCRIPT" "$@" 2>&1) || rc=$?
    ((rc == 2)) && grep -q -- "$want" <<<"$out" || fail "$*: exit $rc: $out"
}
usage_error 'exclude each other' --ca-cert "$WORK/issuer.pem" --insecure
usage_error "cannot read" --ca-cert "$WORK/no-such.pem"
usage_error 'needs --mail-from' --smtp-sink 127.0.0.1:2525
usage_error 'takes HOST:PORT' --smtp-sink nowhere --mail-from a@b.test
ok "--help, and exit 2 without a token or with conflicting or incomplete TLS and mail options"

echo "PASS $TEST_NAME"
