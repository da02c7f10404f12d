<?php
// SPDX-License-Identifier: Apache-2.0
// One connection attempt with WordPress's own credentials: exit 0 when the
// database accepts them, 1 with the server's reason otherwise. PHP's mysqlnd
// is used (not the mysql client) because it speaks caching_sha2_password.

mysqli_report(MYSQLI_REPORT_OFF);

$host = getenv('WORDPRESS_DB_HOST') ?: 'localhost';
$port = 3306;
if (preg_match('/^(.+):(\d+)$/', $host, $m)) {
	$host = $m[1];
	$port = (int) $m[2];
}
$password_file = getenv('WORDPRESS_DB_PASSWORD_FILE');
$password = $password_file ? rtrim((string) @file_get_contents($password_file), "\r\n") : (string) getenv('WORDPRESS_DB_PASSWORD');

$db = mysqli_init();
$db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 5);
if (!@$db->real_connect($host, getenv('WORDPRESS_DB_USER'), $password, getenv('WORDPRESS_DB_NAME'), $port)) {
	fwrite(STDERR, sprintf("setup: database not ready: %s\n", $db->connect_error ?: 'unknown error'));
	exit(1);
}
$db->close();
exit(0);
