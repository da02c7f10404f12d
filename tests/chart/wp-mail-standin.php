<?php
// SPDX-License-Identifier: Apache-2.0
// STAND-IN for WordPress's mail boundary, for tests/chart/test-mail.sh: no WordPress runs here, so
// this file plays the few parts of it the chart's must-use plugin (files/storeagent-mail.php) meets:
// add_action/add_filter/apply_filters/do_action_ref_array, and a wp_mail() that does what
// WordPress's does around the plugin (wp-includes/pluggable.php): a PHPMailer (the real one,
// Debian's libphp-phpmailer, as WordPress bundles it), From from the wp_mail_from and
// wp_mail_from_name filters (defaults wordpress@<host> and WordPress), the phpmailer_init action,
// then send(). Everything past that boundary is real: PHPMailer speaks SMTP to the sink.
//   php wp-mail-standin.php PLUGIN TO SUBJECT
// Exit 0 when wp_mail() returned true; the reason on stderr otherwise.

require '/usr/share/php/libphp-phpmailer/autoload.php';

$GLOBALS['standin_hooks'] = array();
function add_filter($hook, $fn, $priority = 10, $args = 1)
{
	$GLOBALS['standin_hooks'][$hook][] = $fn;
	return true;
}
function add_action($hook, $fn, $priority = 10, $args = 1)
{
	return add_filter($hook, $fn, $priority, $args);
}
function apply_filters($hook, $value)
{
	foreach ($GLOBALS['standin_hooks'][$hook] ?? array() as $fn) {
		$value = $fn($value);
	}
	return $value;
}
function do_action_ref_array($hook, array $args)
{
	foreach ($GLOBALS['standin_hooks'][$hook] ?? array() as $fn) {
		$fn(...$args);
	}
}

function wp_mail($to, $subject, $message)
{
	$phpmailer = new PHPMailer\PHPMailer\PHPMailer(true);
	try {
		$from = apply_filters('wp_mail_from', 'wordpress@shop1.localtest.me');
		$name = apply_filters('wp_mail_from_name', 'WordPress');
		$phpmailer->setFrom($from, $name, false);
		$phpmailer->addAddress($to);
		$phpmailer->Subject = $subject;
		$phpmailer->Body = $message;
		$phpmailer->CharSet = 'UTF-8';
		do_action_ref_array('phpmailer_init', array(&$phpmailer));
		return $phpmailer->send();
	} catch (PHPMailer\PHPMailer\Exception $e) {
		fwrite(STDERR, 'wp_mail failed: ' . $e->getMessage() . "\n");
		return false;
	}
}

require $argv[1];
exit(wp_mail($argv[2], $argv[3], "Thank you for your order.\n") ? 0 : 1);
