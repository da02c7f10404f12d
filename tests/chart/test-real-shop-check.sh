#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# contrib/real-shop-check against stand-ins: real-shop-mock.py plays
# storeagentd's API and the shop (Store API and REST API), a fake kubectl
# plays port-forward and exec. Proves the script's flow (create, wait for
# READY, cart with Nonce and Cart-Token, COD checkout, order confirmed with an
# application password it creates and revokes) and that a FAILED store stops it
# with the reason and exit 1. The real thing needs a k3s host; see the chart
# README. Needs python3, curl and jq; no cluster.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT=$HERE/../../contrib/real-shop-check
WORK=$(mktemp -d)
MOCK_PID=
trap '[[ -z $MOCK_PID ]] || kill "$MOCK_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

ok() { printf 'ok   %s\n' "$*"; }
fail() {
    printf 'FAIL %s\n' "$*" >&2
    exit 1
}
for tool in python3 curl jq; do
    command -v "$tool" >/dev/null || fail "$tool is needed"
done

# A kubectl that answers what real-shop-check asks of it.
mkdir -p "$WORK/bin"
cat >"$WORK/bin/kubectl" <<'EOF'
#!/bin/bash
echo "kubectl $*" >>"$MOCK_DIR/kubectl.log"
case " $* " in
*" port-forward "*)
    echo "Forwarding from 127.0.0.1:$(cat "$MOCK_DIR/port") -> 8080"
    exec sleep 60
    ;;
*" exec "*" create "*) echo "abcd efgh ijkl mnop 3f1c-uuid" ;;
*" exec "*" delete 3f1c-uuid"*) echo deleted >>"$MOCK_DIR/revoked" ;;
*) echo "fake kubectl: unexpected: $*" >&2; exit 1 ;;
esac
EOF
chmod +x "$WORK/bin/kubectl"

# start_mock DIR [--fail]
start_mock() {
    mkdir -p "$1"
    python3 "$HERE/real-shop-mock.py" "$1/port" "$1/log.json" "${@:2}" &
    MOCK_PID=$!
    for _ in $(seq 50); do [[ -s $1/port ]] && return 0; sleep 0.1; done
    fail "mock server did not start"
}

echo "--- a store that becomes READY"
M=$WORK/ready
start_mock "$M"
if ! out=$(MOCK_DIR=$M PATH=$WORK/bin:$PATH STOREAGENT_TOKEN=test-token \
    "$SCRIPT" --api "http://127.0.0.1:$(cat "$M/port")" --name mockshop --interval 1 2>&1); then
    fail "real-shop-check failed:"$'\n'"$out"
fi
grep -q '^PASS: store mockshop sold "Classic T-Shirt"' <<<"$out" || fail "no PASS line:"$'\n'"$out"
ok "exit 0 with: $(grep '^PASS' <<<"$out")"
[[ $(jq -c . "$M/log.json") == '["create:mockshop","checkout","rest-order"]' ]] || fail "mock saw $(cat "$M/log.json")"
ok "store created, order checked out with COD, order read back through /wc/v3/orders"
grep -q 'port-forward svc/mockshop-wordpress :80' "$M/kubectl.log" || fail "no port-forward: $(cat "$M/kubectl.log")"
grep -q -- '-n store-mockshop exec deploy/mockshop-wordpress -c wordpress -- php -r' "$M/kubectl.log" || fail "no exec: $(cat "$M/kubectl.log")"
[[ -s $M/revoked ]] || fail "the application password was not revoked"
ok "application password created through kubectl exec and revoked at exit"
for want in 'status PROVISIONING' 'status READY' 'got a Cart-Token and a Nonce' 'shipping: Free shipping' 'order #42 placed'; do
    grep -q "$want" <<<"$out" || fail "output lacks '$want':"$'\n'"$out"
done
ok "each step says what it did"
kill "$MOCK_PID"
MOCK_PID=

echo "--- a store that FAILS"
M=$WORK/failed
start_mock "$M" --fail
rc=0
out=$(MOCK_DIR=$M PATH=$WORK/bin:$PATH STOREAGENT_TOKEN=test-token \
    "$SCRIPT" --api "http://127.0.0.1:$(cat "$M/port")" --name mockshop --interval 1 2>&1) || rc=$?
(( rc == 1 )) || fail "exit $rc, expected 1:"$'\n'"$out"
grep -q 'reason: setup Job failed: database not reachable' <<<"$out" || fail "reason not shown:"$'\n'"$out"
ok "exit 1 with the store's status_reason"

echo "--- usage"
rc=0
out=$(env -u STOREAGENT_TOKEN "$SCRIPT" 2>&1) || rc=$?
if (( rc != 2 )) || ! grep -q 'no API token' <<<"$out"; then
    fail "without a token: exit $rc: $out"
fi
"$SCRIPT" --help | grep -q -- '--token TOKEN' || fail "--help lacks the options"
ok "--help, and exit 2 without a token"

echo "PASS test-real-shop-check"
