# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Sourced by setup.sh (and by tests/chart/test-url-move.sh with a stand-in for wp): the shop's URL
# follows its primary domain (domains.primary). wp-config.php's WP_HOME already says the new one, so
# the URL WordPress stored is read from the options table itself; the links saved under the old URL
# in posts and options move with it (GUIDs stay: they are identifiers, not links).

# The home URL as the options table holds it (get_option() would answer WP_HOME).
stored_home_url() {
    wp eval 'global $wpdb; echo $wpdb->get_var("SELECT option_value FROM $wpdb->options WHERE option_name = '"'home'"'");'
}

# move_url NEW_URL
move_url() {
    local old
    old=$(stored_home_url)
    if [ -n "$old" ] && [ "$old" != "$1" ]; then
        log "moving the shop's links from $old to $1"
        wp search-replace "$old" "$1" --all-tables-with-prefix --skip-columns=guid --report-changed-only
    fi
}
