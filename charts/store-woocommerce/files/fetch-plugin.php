<?php
// SPDX-License-Identifier: Apache-2.0
// php fetch-plugin.php URL SHA256 DEST: downloads URL to DEST and keeps it only when its SHA-256 is
// SHA256; exit 1 with the reason otherwise. The setup Job installs nothing it has not verified.

if ($argc !== 4 || !preg_match('/^[0-9a-f]{64}$/', $argv[2])) {
	fwrite(STDERR, "usage: php fetch-plugin.php URL SHA256 DEST\n");
	exit(2);
}
[, $url, $want, $dest] = $argv;
$ctx = stream_context_create(array(
	'http' => array('timeout' => 60, 'follow_location' => 1, 'max_redirects' => 5, 'user_agent' => 'storeagent-setup'),
));
$tmp = $dest . '.part';
$in = @fopen($url, 'rb', false, $ctx);
if (!$in) {
	$err = error_get_last();
	fwrite(STDERR, sprintf("cannot download %s: %s\n", $url, $err ? $err['message'] : 'unknown error'));
	exit(1);
}
$out = fopen($tmp, 'wb');
$bytes = stream_copy_to_stream($in, $out);
fclose($in);
fclose($out);
$have = hash_file('sha256', $tmp);
if (!hash_equals($want, $have)) {
	@unlink($tmp);
	fwrite(STDERR, sprintf("%s: SHA-256 %s, expected %s (%d bytes); refusing to install it\n", $url, $have, $want, $bytes));
	exit(1);
}
rename($tmp, $dest);
printf("%s: %d bytes, SHA-256 %s verified\n", $url, $bytes, $have);
exit(0);
