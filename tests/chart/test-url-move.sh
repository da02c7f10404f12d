#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A store's primary domain, up to the WordPress boundary: the chart gives the setup Job the primary
# domain's URL, and the Job's move-url.sh (as the chart renders it into the setup ConfigMap) reads the
# URL WordPress stored and, when it is another, runs wp search-replace from the old URL to the new one.
# No WordPress runs here: a stand-in for wp hands the PHP that `wp eval` would run to Debian's php-cli,
# with a stand-in $wpdb that answers only the query for the stored home URL, and records what
# `wp search-replace` would have been asked. Needs php-cli (contrib/install-deps).
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

[[ -x /usr/bin/php ]] || fail "/usr/bin/php is missing: run contrib/install-deps (php-cli)"

step "the chart's setup Job and ConfigMap for a primary domain"
helm template shop1 "$CHART" -n store-shop1 --set baseDomain=shops.test --set ingress.tls.enabled=true \
    --set 'domains.extra={shop.example.com}' --set domains.primary=shop.example.com \
    --show-only templates/setup-configmap.yaml --show-only templates/setup-job.yaml >"$WORK/setup.yaml" ||
    fail "helm template with domains.primary"
python3 - "$WORK/setup.yaml" "$WORK" <<'PY' || fail "the rendered setup objects"
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
env = {e["name"]: e.get("value") for e in docs["Job"]["spec"]["template"]["spec"]["containers"][0]["env"]}
assert env["STORE_URL"] == "https://shop.example.com", env["STORE_URL"]
data = docs["ConfigMap"]["data"]
assert '. "$SCRIPTS/move-url.sh"' in data["setup.sh"] and 'move_url "$STORE_URL"' in data["setup.sh"]
open(sys.argv[2] + "/move-url.sh", "w").write(data["move-url.sh"])
PY
ok "the Job's STORE_URL is https://shop.example.com; setup.sh runs move-url.sh"

# The stand-ins: wp eval runs its PHP under php-cli with a $wpdb that knows one query; wp
# search-replace writes its arguments to $WORK/replaced, one per line.
wp() {
    case $1 in
    eval)
        /usr/bin/php -r '
            class StandinWpdb {
                public $options = "wp_options";
                function get_var($q) {
                    if ($q !== "SELECT option_value FROM wp_options WHERE option_name = '"'home'"'") {
                        fwrite(STDERR, "unexpected query: $q\n");
                        exit(3);
                    }
                    return getenv("STORED_HOME");
                }
            }
            $wpdb = new StandinWpdb();
            '"$2"
        ;;
    search-replace) shift; printf '%s\n' "$@" >"$WORK/replaced" ;;
    *) fail "unexpected wp $*" ;;
    esac
}
log() { :; }
# shellcheck source=/dev/null
. "$WORK/move-url.sh"

step "move-url.sh"
# (|| fail: lib.sh's EXIT trap reports an exit by set -e as success.)
STORED_HOME=https://shop1.shops.test move_url https://shop.example.com || fail "move-url.sh failed"
[[ -f $WORK/replaced ]] || fail "no wp search-replace when the URL changed"
expected=$'https://shop1.shops.test\nhttps://shop.example.com\n--all-tables-with-prefix\n--skip-columns=guid\n--report-changed-only'
[[ $(cat "$WORK/replaced") == "$expected" ]] || fail "wp search-replace $(tr '\n' ' ' <"$WORK/replaced")"
ok "a changed URL: wp search-replace https://shop1.shops.test https://shop.example.com (all tables, GUIDs kept)"
rm -f "$WORK/replaced"
STORED_HOME=https://shop.example.com move_url https://shop.example.com || fail "move-url.sh failed"
[[ -f $WORK/replaced ]] && fail "wp search-replace although the URL is the stored one"
ok "the same URL: nothing replaced"
STORED_HOME= move_url https://shop.example.com || fail "move-url.sh failed"
[[ -f $WORK/replaced ]] && fail "wp search-replace with no stored URL (a site not installed)"
ok "no stored URL: nothing replaced"
