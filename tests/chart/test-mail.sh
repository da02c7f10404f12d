#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Mail, for real up to the WordPress boundary: the agent's stores.mail.* become the chart's values
# (`storeagentd render`), the chart renders its must-use plugin and the web pod's environment
# (`helm template`), and Debian's php-cli runs that plugin under a stand-in for WordPress's wp_mail()
# (wp-mail-standin.php; no WordPress runs here) with Debian's real PHPMailer, which hands the order
# mail to a real SMTP server on 127.0.0.1 (smtp-sink.py, aiosmtpd). The sink admits only the
# configured user with the password from the configured file; the message must arrive with the
# configured from-address, in the envelope and the From header. The password is in no rendered
# value and no output. Needs php-cli, libphp-phpmailer and python3-aiosmtpd (contrib/install-deps).
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

for need in /usr/bin/php /usr/share/php/libphp-phpmailer/autoload.php; do
    [[ -e $need ]] || fail "$need is missing: run contrib/install-deps (php-cli, libphp-phpmailer)"
done
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || fail "aiosmtpd is missing: run contrib/install-deps (python3-aiosmtpd)"

PASSWORD=pw-$RANDOM$RANDOM-$RANDOM
FROM=orders@shop1.example.test
printf '%s\n' "$PASSWORD" >"$WORK/smtp-password"
chmod 600 "$WORK/smtp-password"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

step "the agent's mail settings, through storeagentd render and the chart"
cat >"$WORK/storeagent.yaml" <<YAML
stores:
  mail:
    smtp_host: 127.0.0.1
    smtp_port: $PORT
    smtp_tls: none
    smtp_user: shop-mailer
    smtp_password_file: $WORK/smtp-password
    from: $FROM
YAML
STOREAGENT_CONFIG=$WORK/storeagent.yaml render_store shop1
grep -q "$PASSWORD" "$WORK/render-shop1/all.yaml" && fail "storeagentd render prints the SMTP password"
grep -q 'name: store-smtp' "$WORK/render-shop1/objects.yaml" || fail "storeagentd render shows no store-smtp Secret"
ok "storeagentd render: mail values and a store-smtp Secret, the password not shown"
helm template shop1 "$CHART" -n store-shop1 -f "$WORK/render-shop1/values.yaml" >"$WORK/chart.yaml" ||
    fail "helm template with the agent's mail values"
grep -q "$PASSWORD" "$WORK/chart.yaml" && fail "the rendered chart holds the SMTP password"
# The plugin the setup Job installs, and the web pod's mail environment, as rendered.
python3 - "$WORK" <<'PY' || fail "reading the rendered chart"
import sys, yaml
work = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(f"{work}/chart.yaml")) if d]
setup = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-setup"))
open(f"{work}/storeagent-mail.php", "w").write(setup["data"]["storeagent-mail.php"])
web = next(d for d in docs if d["kind"] == "Deployment")
pod = web["spec"]["template"]["spec"]
env = {e["name"]: e.get("value", "") for e in pod["containers"][0]["env"] if e["name"].startswith("STOREAGENT_")}
mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
secret = next(v["secret"] for v in pod["volumes"] if v["name"] == "smtp")
assert env["STOREAGENT_SMTP_PASSWORD_FILE"] == mounts["smtp"] + "/" + secret["items"][0]["path"], (env, mounts)
assert secret["secretName"] == "store-smtp" and secret["items"][0]["key"] == "smtp-password", secret
with open(f"{work}/mail.env", "w") as f:
    for k, v in sorted(env.items()):
        f.write(f"{k}={v}\n")
PY
ok "web pod: $(cut -d= -f1 "$WORK/mail.env" | xargs); password file from Secret store-smtp"

step "an SMTP server on 127.0.0.1:$PORT"
mkdir -p "$WORK/inbox"
/usr/bin/python3 "$CHART_TESTS/smtp-sink.py" "$PORT" shop-mailer "$WORK/smtp-password" "$WORK/inbox" \
    >"$WORK/sink.log" 2>&1 &
SINK=$!
trap 'kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null; rm -rf "$WORK"; on_exit' EXIT
listening() { grep -q 'listening' "$WORK/sink.log"; }
eventually 30 "smtp-sink listening" listening

# send PASSWORD-FILE: the plugin under the wp_mail() stand-in, in the web pod's environment, with
# the Secret's mount point standing for a file here.
send() {
    (
        set -a
        # shellcheck disable=SC1091
        . "$WORK/mail.env"
        STOREAGENT_SMTP_PASSWORD_FILE=$1
        set +a
        /usr/bin/php "$CHART_TESTS/wp-mail-standin.php" "$WORK/storeagent-mail.php" \
            customer@buyer.example.test "Your order #1001 has been received"
    )
}

step "an order confirmation"
send "$WORK/smtp-password" >"$WORK/php.out" 2>&1 || fail "wp_mail() through the plugin failed:"$'\n'"$(cat "$WORK/php.out")"
[[ -s $WORK/inbox/1.json ]] || fail "the SMTP server received nothing"
jq -e --arg from "$FROM" '.mail_from == $from and .rcpt_tos == ["customer@buyer.example.test"]
    and .authenticated_as == "shop-mailer"' "$WORK/inbox/1.json" >/dev/null ||
    fail "envelope: $(cat "$WORK/inbox/1.json")"
ok "received: envelope from $FROM to customer@buyer.example.test, authenticated as shop-mailer"
grep -Eq "^From: .*<?$FROM>?" "$WORK/inbox/1.eml" || fail "From header: $(grep -i '^From:' "$WORK/inbox/1.eml")"
grep -q '^Subject: Your order #1001 has been received' "$WORK/inbox/1.eml" || fail "no subject"
ok "headers: $(grep '^From:' "$WORK/inbox/1.eml"), the order's subject"

step "a wrong password is refused (the password really comes from the file)"
printf 'not-the-password\n' >"$WORK/wrong"
send "$WORK/wrong" >"$WORK/php-wrong.out" 2>&1 && fail "sent with a wrong password"
[[ ! -e $WORK/inbox/2.json ]] || fail "the server took a message with a wrong password"
ok "refused: $(head -n1 "$WORK/php-wrong.out")"
grep -q -- "$PASSWORD" "$WORK/php.out" "$WORK/php-wrong.out" "$WORK/sink.log" && fail "the password appears in an output"
ok "the password appears in no output"

echo "PASS $TEST_NAME"
