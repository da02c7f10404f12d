#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The web pod's Apache configuration as the chart renders it, served by a real Apache with PHP
# (Debian's apache2 and libapache2-mod-php, the same httpd 2.4 and mod_php the official image runs;
# its docker-php.conf handler lines are repeated here):
#  - the WordPress installer (wp-admin/install.php, setup-config.php) is refused, whatever the
#    spelling of the path, while other wp-admin scripts are served;
#  - the readiness probe's /-/ready answers 503 before wp-config.php exists and while WordPress is
#    not installed, and 200 once it is (files/ready.php);
#  - the redirects Apache makes itself (mod_dir's /wp-admin -> /wp-admin/) name the store's URL:
#    behind TLS (ingress.tls.enabled, and values-prod.yaml as a whole) https://, never http://, and
#    never the pod's port.
# No WordPress runs here: the docroot holds stand-ins (an "installer" that would answer 200, and a
# wp-load.php STAND-IN whose $wpdb answers the probe's one query from a file). Only the container's
# paths differ: /var/www/html and /opt/storeagent/web are directories of this test.
# Needs apache2 and libapache2-mod-php8.2 (contrib/install-deps) and helm (the control plane's).
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

APACHE=/usr/sbin/apache2
MODS=/usr/lib/apache2/modules
[[ -x $APACHE && -e $MODS/libphp8.2.so ]] || fail "apache2 and libapache2-mod-php8.2 are needed: run contrib/install-deps"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Apache's children run as nobody when this runs as root: they must read the tree.
chmod 755 "$WORK"
A=$WORK/apache HTML=$WORK/html WEB=$WORK/opt-storeagent-web
mkdir -p "$A" "$HTML/wp-admin" "$HTML/wp-content" "$WEB"

step "the chart's Apache configuration"
agent_values shop1 "$WORK/values.yaml"
helm template shop1 "$CHART" -n store-shop1 -f "$WORK/values.yaml" --set wordpress.containerPort="$PORT" \
    >"$WORK/chart.yaml" || fail "helm template"
python3 - "$WORK" <<'PY' || fail "reading the web ConfigMap"
import sys, yaml
work = sys.argv[1]
cm = next(d for d in yaml.safe_load_all(open(f"{work}/chart.yaml"))
          if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-wordpress-config"))
for key in ("ports.conf", "000-default.conf", "mpm_prefork.conf", "ready.php"):
    open(f"{work}/apache/{key}", "w").write(cm["data"][key])
PY
sed -i -e "s|/var/www/html|$HTML|g" -e "s|/opt/storeagent/web|$WEB|g" "$A/000-default.conf"
mv "$A/ready.php" "$WEB/ready.php"
user=
[[ $(id -u) == 0 ]] && user=$'User nobody\nGroup nogroup'
cat >"$A/httpd.conf" <<CONF
ServerRoot $A
ServerName localhost
PidFile $A/httpd.pid
Mutex file:$A default
ErrorLog $A/error.log
LogLevel warn
$user
Define APACHE_LOG_DIR $A
LoadModule mpm_prefork_module $MODS/mod_mpm_prefork.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule dir_module $MODS/mod_dir.so
LoadModule php_module $MODS/libphp8.2.so
LogFormat "%a %r %>s" combined
# As the official image's docker-php.conf.
<FilesMatch \.php$>
    SetHandler application/x-httpd-php
</FilesMatch>
DirectoryIndex index.php index.html
<Directory $HTML/>
    Options -Indexes
    AllowOverride All
</Directory>
Include $A/ports.conf
Include $A/mpm_prefork.conf
Include $A/000-default.conf
CONF

# The stand-ins in the docroot.
for f in install.php setup-config.php about.php; do
    echo '<?php echo "WORDPRESS SCRIPT\n";' >"$HTML/wp-admin/$f"
done
cat >"$HTML/wp-load.php" <<'PHP'
<?php
// STAND-IN for WordPress's wp-load.php with SHORTINIT: a $wpdb whose options table holds siteurl
// when the file "installed" next to it exists.
class StandInWpdb {
	public $options = 'wp_options';
	public function suppress_errors($s = true) { return false; }
	public function get_var($q) {
		return strpos($q, "option_name = 'siteurl'") !== false && is_file(__DIR__ . '/installed')
			? 'http://shop1.localtest.me' : null;
	}
}
$GLOBALS['wpdb'] = new StandInWpdb();
PHP
chmod -R a+rX "$WORK"

# A session of its own: prefork's parent signals its whole process group when it stops.
setsid "$APACHE" -f "$A/httpd.conf" -D FOREGROUND >>"$A/error.log" 2>&1 &
HTTPD=$!
trap 'kill -TERM "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null; rm -rf "$WORK"; on_exit' EXIT
code() { curl -s -o "$WORK/body" -w '%{http_code}' "http://127.0.0.1:$PORT$1"; }
up() {
    kill -0 "$HTTPD" 2>/dev/null || fail "apache exited: $(cat "$A/error.log")"
    [[ $(code /wp-admin/about.php) == 200 ]]
}
eventually 30 "apache serves PHP on 127.0.0.1:$PORT" up

step "the installer is never served"
for path in /wp-admin/install.php /wp-admin/setup-config.php "/wp-admin/install.php?step=2" \
    //wp-admin//install.php /wp-admin/setup-config.php/extra /wp-admin/Install.php; do
    c=$(code "$path")
    [[ $c == 403 ]] || fail "GET $path answered $c: $(head -c 200 "$WORK/body")"
done
ok "install.php and setup-config.php: 403, however the path is spelled"
[[ $(code /wp-admin/about.php) == 200 ]] || fail "other wp-admin scripts are refused too"
ok "other wp-admin scripts are served (200)"

step "readiness: /-/ready"
c=$(code /-/ready)
[[ $c == 503 ]] || fail "no wp-config.php: $c $(cat "$WORK/body")"
ok "no wp-config.php yet: 503 ($(cat "$WORK/body"))"
echo '<?php // wp-config.php stand-in' >"$HTML/wp-config.php"
chmod a+r "$HTML/wp-config.php"
c=$(code /-/ready)
[[ $c == 503 ]] || fail "WordPress not installed: $c $(cat "$WORK/body")"
ok "WordPress not installed: 503 ($(cat "$WORK/body"))"
touch "$HTML/installed"
chmod a+r "$HTML/installed"
c=$(code /-/ready)
[[ $c == 200 ]] || fail "WordPress installed: $c $(cat "$WORK/body")"
ok "WordPress installed, its database answering: 200"

step "redirects Apache makes itself follow the store's scheme (mod_dir: /wp-admin -> /wp-admin/)"
# location HOST PATH [HEADER]: the Location of a request as the ingress controller forwards it.
location() {
    curl -s -o /dev/null -w '%{redirect_url}' -H "Host: $1" ${3:+-H "$3"} "http://127.0.0.1:$PORT$2"
}
loc=$(location shop1.localtest.me /wp-admin)
[[ $loc == http://shop1.localtest.me/wp-admin/ ]] || fail "plain http store: /wp-admin redirects to '$loc'"
ok "plain http store: /wp-admin -> $loc (the store's host, not the pod's port)"
# The same store behind TLS (ingress.tls.enabled, as values-prod.yaml and stores.url_scheme https set it).
helm template shop1 "$CHART" -n store-shop1 -f "$WORK/values.yaml" --set wordpress.containerPort="$PORT" \
    --set ingress.tls.enabled=true >"$WORK/chart-tls.yaml" || fail "helm template with TLS"
python3 - "$WORK" <<'PY' || fail "reading the web ConfigMap (TLS)"
import sys, yaml
work = sys.argv[1]
cm = next(d for d in yaml.safe_load_all(open(f"{work}/chart-tls.yaml"))
          if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-wordpress-config"))
open(f"{work}/apache/000-default.conf", "w").write(cm["data"]["000-default.conf"])
PY
sed -i -e "s|/var/www/html|$HTML|g" -e "s|/opt/storeagent/web|$WEB|g" "$A/000-default.conf"
chmod a+r "$A/000-default.conf"
kill -USR1 "$HTTPD"   # graceful restart: the parent reads the configuration again
https_redirect() { [[ $(location shop1.localtest.me /wp-admin "X-Forwarded-Proto: https") == https://* ]]; }
eventually 30 "apache to serve the TLS configuration" https_redirect
loc=$(location shop1.localtest.me /wp-admin "X-Forwarded-Proto: https")
[[ $loc == https://shop1.localtest.me/wp-admin/ ]] || fail "behind TLS: /wp-admin redirects to '$loc'"
ok "behind TLS: /wp-admin -> $loc (not http://, not the pod's port)"
loc=$(location shop1.localtest.me /wp-content)
[[ $loc == https://shop1.localtest.me/wp-content/ ]] || fail "behind TLS, any directory: '$loc'"
ok "behind TLS: every directory redirect says https (/wp-content -> $loc)"
[[ $(code /wp-admin/install.php) == 403 && $(code /wp-admin/about.php) == 200 ]] ||
    fail "the TLS configuration lost the installer rule"
ok "the TLS configuration keeps refusing the installer"

step "values-prod.yaml (Traefik's websecure, cert-manager): Apache's redirects are https:// to the shop's host"
helm template shop1 "$CHART" -n store-shop1 -f "$CHART/values-prod.yaml" --set wordpress.containerPort="$PORT" \
    >"$WORK/chart-prod.yaml" || fail "helm template -f values-prod.yaml"
python3 - "$WORK" <<'PY' || fail "reading the web ConfigMap (values-prod.yaml)"
import sys, yaml
work = sys.argv[1]
cm = next(d for d in yaml.safe_load_all(open(f"{work}/chart-prod.yaml"))
          if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-wordpress-config"))
open(f"{work}/apache/000-default.conf", "w").write(cm["data"]["000-default.conf"])
PY
sed -i -e "s|/var/www/html|$HTML|g" -e "s|/opt/storeagent/web|$WEB|g" "$A/000-default.conf"
chmod a+r "$A/000-default.conf"
kill -USR1 "$HTTPD"
# A request without a Host header (HTTP/1.0) gets the vhost's own name: the production host, not the
# previous configuration's shop1.localtest.me.
bare_location() { curl -s --http1.0 -H 'Host:' -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$PORT$1"; }
prod_redirect() { [[ $(bare_location /wp-admin) == *shops.example.com* ]]; }
eventually 30 "apache to serve the values-prod.yaml configuration" prod_redirect
loc=$(bare_location /wp-admin)
[[ $loc == https://shop1.shops.example.com/wp-admin/ ]] || fail "values-prod.yaml: /wp-admin redirects to '$loc'"
ok "values-prod.yaml: /wp-admin -> $loc"
loc=$(location shop1.shops.example.com /wp-admin "X-Forwarded-Proto: https")
[[ $loc == https://shop1.shops.example.com/wp-admin/ ]] ||
    fail "values-prod.yaml, as Traefik forwards it: /wp-admin redirects to '$loc'"
[[ $(code /wp-admin/install.php) == 403 ]] || fail "values-prod.yaml serves the installer"
ok "values-prod.yaml, as Traefik forwards it: /wp-admin -> $loc; the installer refused"

echo "PASS $TEST_NAME"
