#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Store setup, run by the <release>-setup-r<revision> Job on every install,
# upgrade and rollback. Every step looks before it changes anything, so a
# second run (or a retry after a failure half-way) is safe.
#
# Environment (set by templates/setup-job.yaml): STORE_URL STORE_TITLE
# ADMIN_USER ADMIN_EMAIL WC_VERSION WC_SHA256 WC_URL PERMALINK_STRUCTURE SAMPLE_PRODUCTS
# STORE_COUNTRY STORE_CURRENCY WAIT_SECONDS and the WORDPRESS_DB_* variables
# that wp-config.php reads.

set -Eeuo pipefail

WP_PATH=/var/www/html
SCRIPTS=/opt/storeagent/setup
CREDENTIALS=/etc/storeagent/credentials

export HOME=/tmp
export WP_CLI_CACHE_DIR=/tmp/wp-cli-cache

log() { printf '%s setup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
die() {
    # The last line is the Job's termination message, which storeagent shows as the reason.
    log "ERROR: $*"
    exit 1
}
trap 'die "step failed (exit $?): $BASH_COMMAND"' ERR

wp() { command wp --path="$WP_PATH" "$@"; }

[ -r "$CREDENTIALS/admin-password" ] || die "Secret key admin-password is not mounted at $CREDENTIALS"
[ -r "$CREDENTIALS/mysql-password" ] || die "Secret key mysql-password is not mounted at $CREDENTIALS"

deadline=$(( $(date +%s) + WAIT_SECONDS ))

# 1. The web pod's entrypoint copies WordPress onto the shared volume and writes
#    wp-config.php last; wait for it, bounded.
log "waiting up to ${WAIT_SECONDS}s for the WordPress files in $WP_PATH"
until [ -s "$WP_PATH/wp-config.php" ] && [ -s "$WP_PATH/wp-includes/version.php" ]; do
    [ "$(date +%s)" -lt "$deadline" ] ||
        die "WordPress files did not appear in $WP_PATH within ${WAIT_SECONDS}s; is the web pod running?"
    sleep 5
done
sleep 2 # let a wp-config.php being written right now be complete

# 2. The database, bounded by the same deadline.
log "waiting for the database at $WORDPRESS_DB_HOST"
until php "$SCRIPTS/db-wait.php"; do
    [ "$(date +%s)" -lt "$deadline" ] ||
        die "database $WORDPRESS_DB_HOST not reachable within ${WAIT_SECONDS}s"
    sleep 5
done
log "database is up"

# 3. WordPress core.
if wp core is-installed; then
    log "WordPress is already installed"
else
    log "installing WordPress for $STORE_URL (admin user $ADMIN_USER)"
    # The password goes through stdin, never the command line.
    wp core install --url="$STORE_URL" --title="$STORE_TITLE" \
        --admin_user="$ADMIN_USER" --admin_email="$ADMIN_EMAIL" \
        --skip-email --prompt=admin_password <"$CREDENTIALS/admin-password"
fi
# The shop's URL follows its primary domain: links saved under the old one move (move-url.sh).
# shellcheck source=move-url.sh
. "$SCRIPTS/move-url.sh"
move_url "$STORE_URL"
for opt in home siteurl; do
    if [ "$(wp option get "$opt")" != "$STORE_URL" ]; then
        log "setting $opt to $STORE_URL"
        wp option update "$opt" "$STORE_URL"
    fi
done

# 4. Permalinks: only while the site still uses plain links, so a merchant's choice stays.
if [ -z "$(wp option get permalink_structure)" ]; then
    log "setting permalinks to $PERMALINK_STRUCTURE"
    wp rewrite structure "$PERMALINK_STRUCTURE"
fi

# 5. WooCommerce: the pinned version, from WC_URL (the official download or a mirror), installed only
#    after its SHA-256 matched; an older installed version is replaced by it.
wc_install() {
    log "downloading WooCommerce $WC_VERSION from $WC_URL"
    php "$SCRIPTS/fetch-plugin.php" "$WC_URL" "$WC_SHA256" /tmp/woocommerce.zip ||
        die "WooCommerce $WC_VERSION from $WC_URL failed verification (see above); nothing was installed"
    wp plugin install /tmp/woocommerce.zip --force
    rm -f /tmp/woocommerce.zip
}
if wp plugin is-installed woocommerce; then
    current="$(wp plugin get woocommerce --field=version)"
    # shellcheck disable=SC2016 # PHP, not shell
    if php -r 'exit(version_compare($argv[1], $argv[2], "<") ? 0 : 1);' "$current" "$WC_VERSION"; then
        log "updating WooCommerce $current to $WC_VERSION"
        wc_install
    else
        log "WooCommerce $current is installed"
    fi
else
    log "installing WooCommerce $WC_VERSION"
    wc_install
fi
if ! wp plugin is-active woocommerce; then
    log "activating WooCommerce"
    wp plugin activate woocommerce
fi
log "running pending WooCommerce database updates"
wp wc update

# 6. The must-use plugin that hands WordPress's mail to the SMTP server of the chart's mail.smtp
#    values (it reads them from the web pod's environment); replaced on every run, so it follows the chart.
mkdir -p "$WP_PATH/wp-content/mu-plugins"
if ! cmp -s "$SCRIPTS/storeagent-mail.php" "$WP_PATH/wp-content/mu-plugins/storeagent-mail.php"; then
    log "installing the mail plugin wp-content/mu-plugins/storeagent-mail.php"
    cp "$SCRIPTS/storeagent-mail.php" "$WP_PATH/wp-content/mu-plugins/storeagent-mail.php.new"
    mv "$WP_PATH/wp-content/mu-plugins/storeagent-mail.php.new" "$WP_PATH/wp-content/mu-plugins/storeagent-mail.php"
fi

# 7. Shop settings, cash on delivery, shipping, pages and sample products.
wp eval-file "$SCRIPTS/setup-store.php" "$SCRIPTS/products.json"

wp rewrite flush
log "done: shop $STORE_URL/shop/ admin $STORE_URL/wp-admin/"
