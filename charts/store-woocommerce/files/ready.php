<?php
// SPDX-License-Identifier: Apache-2.0
// The web pod's readiness probe (Alias /-/ready): 200 only when WordPress can serve a page, that
// is wp-config.php is in place, the database answers with WordPress's credentials and WordPress
// is installed in it; 503 otherwise. wp-login.php answers 302 even before the setup Job installed
// WordPress, so it cannot tell. SHORTINIT loads the configuration and the database layer, no
// plugins, no theme: cheap enough for a probe every few seconds.

header('Cache-Control: no-store');
header('Content-Type: text/plain');

function storeagent_not_ready($why)
{
	http_response_code(503);
	echo "not ready: $why\n";
	exit;
}

// The site's DocumentRoot, /var/www/html in the web pod.
$root = rtrim($_SERVER['DOCUMENT_ROOT'] ?? '/var/www/html', '/');
if (!is_file("$root/wp-config.php")) {
	storeagent_not_ready('no wp-config.php yet');
}
define('SHORTINIT', true);
// wpdb ends the request with an error page (500) when the database does not answer.
require "$root/wp-load.php";

global $wpdb;
$wpdb->suppress_errors(true);
$siteurl = $wpdb->get_var("SELECT option_value FROM {$wpdb->options} WHERE option_name = 'siteurl'");
if (!$siteurl) {
	storeagent_not_ready('WordPress is not installed yet');
}
echo "ready\n";
