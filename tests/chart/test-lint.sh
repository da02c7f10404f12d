#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The chart is well formed: `helm lint --strict` is clean with the agent's
# values, values-local.yaml and values-prod.yaml; what it renders is what those
# values ask for; and every object passes the real API server's validation and
# admission (`helm install --dry-run=server`) in a namespace prepared like the
# agent's. Needs the control plane (tests/cluster/up); exits non-zero on failure.
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

step "helm $(helm version --template '{{.Version}}'), chart $CHART"
agent_values shop1 "$WORK/agent.yaml"

step "helm lint --strict"
for values in "$WORK/agent.yaml" "$CHART/values-local.yaml" "$CHART/values-prod.yaml"; do
    out=$(helm lint --strict "$CHART" -f "$values" 2>&1) || fail "helm lint --strict -f ${values#"$WORK"/}:"$'\n'"$out"
    grep -q '0 chart(s) failed' <<<"$out" || fail "helm lint -f ${values#"$WORK"/}:"$'\n'"$out"
    ok "lint --strict clean with $(basename "$values")"
done

step "what the agent's values render"
helm template shop1 "$CHART" -n store-shop1 -f "$WORK/agent.yaml" >"$WORK/agent.out" ||
    fail "helm template with the agent's values"
kinds=$(sed -n 's/^kind: //p' "$WORK/agent.out" | sort | xargs)
[[ $kinds == "ConfigMap ConfigMap ConfigMap CronJob Deployment Ingress Job PersistentVolumeClaim PersistentVolumeClaim Service Service StatefulSet" ]] ||
    fail "rendered kinds: $kinds"
ok "renders $kinds"
grep -q '^kind: Secret' "$WORK/agent.out" && fail "the chart renders a Secret; credentials belong to the agent"
ok "no Secret in the release"
grep -q '^  name: shop1-setup-r1$' "$WORK/agent.out" || fail "setup Job is not named shop1-setup-r1"
grep -q 'helm.sh/hook' "$WORK/agent.out" && fail "a helm hook is rendered; setup must be an ordinary release object"
ok "setup Job shop1-setup-r1 is an ordinary release object"
grep -q "define('WP_HOME', 'http://shop1.localtest.me');" "$WORK/agent.out" || fail "WP_HOME is not http://shop1.localtest.me"
ok "WordPress URL http://shop1.localtest.me"
n=$(grep -c 'readOnlyRootFilesystem: true' "$WORK/agent.out")
(( n == 4 )) || fail "$n containers with a read-only root filesystem, expected 4"
n=$(grep -c 'runAsNonRoot: true' "$WORK/agent.out")
(( n == 8 )) || fail "runAsNonRoot set $n times, expected 8 (4 pods, 4 containers)"
ok "all 4 containers (database, web, setup, cron) non-root with a read-only root filesystem"

# yq-free reads of the rendered YAML: the document of one kind, and a block in it.
doc() { awk -v k="kind: $1" '/^---/ { if (hit) exit; buf = ""; next } { buf = buf $0 "\n" } $0 == k { hit = 1 } END { if (hit) printf "%s", buf }' "$WORK/agent.out"; }

step "real-host behaviour, as rendered (README: Real hosts)"
web=$(doc Deployment)
grep -A3 'readinessProbe:' <<<"$web" | grep -q 'path: /-/ready' || fail "the web pod's readiness probe is not /-/ready"
grep -q 'Alias /-/ready /opt/storeagent/web/ready.php' "$WORK/agent.out" || fail "Apache does not serve /-/ready from ready.php"
grep -q "SELECT option_value FROM {\$wpdb->options} WHERE option_name = 'siteurl'" "$WORK/agent.out" ||
    fail "ready.php does not ask the database whether WordPress is installed"
ok "readiness: /-/ready, 200 only when the database answers and WordPress is installed (not wp-login.php's 302)"
grep -A2 'LocationMatch "(?i)^/+wp-admin/+(install|setup-config)\\.php"' "$WORK/agent.out" | grep -q 'Require all denied' ||
    fail "Apache does not deny wp-admin/install.php and setup-config.php"
ok "Apache denies wp-admin/install.php and wp-admin/setup-config.php"
for kind in Job CronJob; do
    d=$(doc $kind)
    grep -A8 'podAffinity:' <<<"$d" | grep -q 'app.kubernetes.io/component: web' ||
        fail "the $kind's pods have no pod affinity to the web pod"
    grep -A8 'podAffinity:' <<<"$d" | grep -q 'topologyKey: kubernetes.io/hostname' || fail "$kind: affinity is not per node"
done
ok "the setup Job and the cron runs are pinned to the web pod's node (podAffinity, kubernetes.io/hostname)"
grep -q "define('DISABLE_WP_CRON', true);" "$WORK/agent.out" || fail "WP-Cron is still run by page views"
cron=$(doc CronJob)
grep -q 'wp --path=/var/www/html cron event run --due-now' <<<"$cron" || fail "the CronJob does not run the due events"
grep -q 'concurrencyPolicy: Forbid' <<<"$cron" || fail "cron runs may overlap"
ok "DISABLE_WP_CRON, and a CronJob runs the due events with WP-CLI, one at a time"
grep -q "https://downloads.wordpress.org/plugin/woocommerce.11.2.0.zip" "$WORK/agent.out" || fail "no pinned WooCommerce URL"
grep -A1 'name: WC_SHA256' "$WORK/agent.out" | grep -Eq 'value: "[0-9a-f]{64}"' || fail "no WooCommerce SHA-256"
grep -q 'php "$SCRIPTS/fetch-plugin.php" "$WC_URL" "$WC_SHA256"' "$WORK/agent.out" || fail "setup.sh does not verify the download"
grep -q 'wp plugin install woocommerce' "$WORK/agent.out" && fail "setup.sh still installs WooCommerce unverified from wordpress.org"
ok "WooCommerce 11.2.0 is downloaded from its URL and installed only after its SHA-256 matched"
grep -q 'temptable_max_ram = 64M' "$WORK/agent.out" || fail "temptable_max_ram is not set (MySQL 8.4's default is 1G)"
grep -q 'MaxRequestWorkers        3' "$WORK/agent.out" || fail "MaxRequestWorkers is not 3"
grep -q 'memory_limit = 128M' "$WORK/agent.out" || fail "PHP memory_limit is not 128M"
ok "memory: 3 Apache workers x 128M PHP, temptable_max_ram 64M (README: Memory)"
# The mirror and mail values the agent writes are taken and rendered.
helm template shop1 "$CHART" -n store-shop1 -f "$WORK/agent.yaml" --set woocommerce.url=https://mirror.test/wc.zip \
    --set mail.smtp.host=smtp.test --set mail.smtp.user=shop --set mail.smtp.passwordSecret=store-smtp \
    --set mail.from=orders@shop1.test >"$WORK/mail.out" || fail "helm template with a mirror and mail"
grep -A1 'name: WC_URL' "$WORK/mail.out" | grep -q 'https://mirror.test/wc.zip' || fail "woocommerce.url is not used"
grep -A1 'name: STOREAGENT_MAIL_FROM$' "$WORK/mail.out" | grep -q 'orders@shop1.test' || fail "mail.from is not passed"
grep -q 'secretName: store-smtp' "$WORK/mail.out" || fail "the SMTP password Secret is not mounted"
grep -qi 'password: ' "$WORK/mail.out" && fail "a password is rendered into the release"
ok "woocommerce.url and mail.* reach the pods; the SMTP password only as a mounted Secret"

step "values-prod.yaml: TLS through cert-manager"
helm template shop1 "$CHART" -n store-shop1 -f "$CHART/values-prod.yaml" >"$WORK/prod.out" || fail "helm template -f values-prod.yaml"
grep -q 'cert-manager.io/cluster-issuer: "letsencrypt-prod"' "$WORK/prod.out" || fail "no cert-manager annotation"
grep -q 'secretName: "shop1-tls"' "$WORK/prod.out" || fail "no TLS secret shop1-tls"
grep -q "define('WP_HOME', 'https://shop1.shops.example.com');" "$WORK/prod.out" || fail "WP_HOME is not https://shop1.shops.example.com"
ok "Ingress TLS for shop1.shops.example.com via ClusterIssuer letsencrypt-prod, WordPress on https"

step "the agent's values for https with stores.tls.cluster_issuer"
printf 'stores:\n  url_scheme: https\n  tls:\n    cluster_issuer: shops-ca\n' >"$WORK/https.conf"
STOREAGENT_CONFIG=$WORK/https.conf render_store shop2
helm template shop2 "$CHART" -n store-shop2 -f "$WORK/render-shop2/values.yaml" >"$WORK/https.out" ||
    fail "helm template with the agent's https values"
python3 - "$WORK/https.out" "$WORK/render-shop2/objects.yaml" <<'PY' || fail "the https store's Ingress or policies"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ing = next(d for d in docs if d["kind"] == "Ingress")
ann = ing["metadata"].get("annotations") or {}
assert ann.get("cert-manager.io/cluster-issuer") == "shops-ca", ann
assert ing["spec"]["tls"] == [{"hosts": ["shop2.localtest.me"], "secretName": "shop2-tls"}], ing["spec"].get("tls")
assert [r["host"] for r in ing["spec"]["rules"]] == ["shop2.localtest.me"]
assert "define('WP_HOME', 'https://shop2.localtest.me');" in open(sys.argv[1]).read(), "WP_HOME is not https"
pols = {d["metadata"]["name"]: d for d in yaml.safe_load_all(open(sys.argv[2])) if d and d["kind"] == "NetworkPolicy"}
acme = pols["allow-ingress-controller-to-acme-solver"]["spec"]
assert acme["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}, acme
assert acme["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8089}], acme
PY
ok "Ingress shop2.localtest.me: cert-manager.io/cluster-issuer shops-ca, TLS Secret shop2-tls; WordPress on https"
ok "the namespace admits cert-manager's HTTP-01 solver pod from the ingress controller (TCP 8089)"

step "a merchant's own domains: one Ingress host and one TLS Secret each, named after the domain alone"
# Rendered with two domains, then with one of them removed: the one that stays keeps its Secret (and so
# its certificate), named <release>-tls-<first 10 hex digits of the domain's SHA-256> (docs/domains.md).
for extra in "{shop.example.com,www.example.org}" "{www.example.org}"; do
    helm template shop2 "$CHART" -n store-shop2 -f "$WORK/render-shop2/values.yaml" --set "domains.extra=$extra" \
        >>"$WORK/domains.out" || fail "helm template with domains.extra=$extra"
    echo "--- # end of domains.extra=$extra" >>"$WORK/domains.out"
done
python3 - "$WORK/domains.out" <<'PY' || fail "the Ingress hosts and TLS Secrets of the domains"
import hashlib, sys, yaml
ings = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Ingress"]
assert len(ings) == 2, len(ings)
def secret(host):
    return "shop2-tls-" + hashlib.sha256(host.encode()).hexdigest()[:10]
for ing, hosts in zip(ings, (["shop.example.com", "www.example.org"], ["www.example.org"])):
    assert [r["host"] for r in ing["spec"]["rules"]] == ["shop2.localtest.me"] + hosts, ing["spec"]["rules"]
    want = [{"hosts": ["shop2.localtest.me"], "secretName": "shop2-tls"}]
    want += [{"hosts": [h], "secretName": secret(h)} for h in hosts]
    assert ing["spec"]["tls"] == want, ing["spec"]["tls"]
    assert ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "shops-ca"
PY
ok "each domain: a host and a TLS Secret of its own (shop2-tls-<hash>), the same whichever other domains come and go"

step "values-local.yaml: k3s's traefik class, localtest.me"
helm template demo "$CHART" -f "$CHART/values-local.yaml" >"$WORK/local.out" || fail "helm template -f values-local.yaml"
grep -q 'ingressClassName: "traefik"' "$WORK/local.out" || fail "ingressClassName is not traefik (k3s)"
grep -q 'host: "demo.localtest.me"' "$WORK/local.out" || fail "host is not demo.localtest.me"
ok "Ingress demo.localtest.me, class traefik"

step "helm install --dry-run=server"
store_namespace chart-dryrun
out=$(helm install shop1 "$CHART" -n "$NS" -f "$WORK/agent.yaml" --dry-run=server 2>&1) ||
    fail "helm install --dry-run=server:"$'\n'"$out"
ok "the API server accepts every object (validation and admission, dry run)"
left=$(kc -n "$NS" get all,configmap,pvc,ingress -l app.kubernetes.io/instance=shop1 -o name)
[[ -z $left ]] || fail "dry run left objects: $left"
ok "dry run created nothing"

echo "PASS $TEST_NAME"
