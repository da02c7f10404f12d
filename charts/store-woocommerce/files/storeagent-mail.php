<?php
/**
 * Plugin Name: storeagent mail
 * Description: Sends WordPress's mail (order confirmations, new-order notices, password resets)
 *   through the SMTP server the store-woocommerce chart was given (mail.smtp.*). Installed by the
 *   setup Job; configured only by the web pod's environment, so there is nothing to set here.
 * License: Apache-2.0
 */
// SPDX-License-Identifier: Apache-2.0
//
// Environment (templates/_helpers.tpl, store.mailEnv):
//   STOREAGENT_SMTP_HOST, STOREAGENT_SMTP_PORT, STOREAGENT_SMTP_TLS (none|starttls|tls),
//   STOREAGENT_SMTP_USER, STOREAGENT_SMTP_PASSWORD_FILE (a Secret's key, mounted as a file),
//   STOREAGENT_MAIL_FROM, STOREAGENT_MAIL_FROM_NAME.
// Without STOREAGENT_SMTP_HOST the plugin changes nothing but the sender. The password is read
// when a message is sent and never written anywhere.

if (!function_exists('add_action')) {
	exit;
}

function storeagent_mail_env($name)
{
	$v = getenv($name);
	return $v === false ? '' : trim($v);
}

add_filter('wp_mail_from', function ($from) {
	$v = storeagent_mail_env('STOREAGENT_MAIL_FROM');
	return $v !== '' ? $v : $from;
});

add_filter('wp_mail_from_name', function ($name) {
	$v = storeagent_mail_env('STOREAGENT_MAIL_FROM_NAME');
	return $v !== '' ? $v : $name;
});

add_action('phpmailer_init', function ($phpmailer) {
	$host = storeagent_mail_env('STOREAGENT_SMTP_HOST');
	if ($host === '') {
		return;
	}
	$phpmailer->isSMTP();
	$phpmailer->Host = $host;
	$port = (int) storeagent_mail_env('STOREAGENT_SMTP_PORT');
	$tls = storeagent_mail_env('STOREAGENT_SMTP_TLS');
	switch ($tls) {
	case 'tls':
		$phpmailer->SMTPSecure = 'ssl'; // PHPMailer's name for implicit TLS
		$phpmailer->Port = $port > 0 ? $port : 465;
		break;
	case 'none':
		$phpmailer->SMTPSecure = '';
		$phpmailer->SMTPAutoTLS = false;
		$phpmailer->Port = $port > 0 ? $port : 25;
		break;
	default: // starttls, and anything the chart's schema would have refused
		$phpmailer->SMTPSecure = 'tls'; // PHPMailer's name for STARTTLS
		$phpmailer->Port = $port > 0 ? $port : 587;
		break;
	}
	$user = storeagent_mail_env('STOREAGENT_SMTP_USER');
	if ($user !== '') {
		$phpmailer->SMTPAuth = true;
		$phpmailer->Username = $user;
		$file = storeagent_mail_env('STOREAGENT_SMTP_PASSWORD_FILE');
		$password = $file !== '' ? @file_get_contents($file) : false;
		if ($password === false) {
			error_log('storeagent mail: no SMTP password readable (STOREAGENT_SMTP_PASSWORD_FILE); sending without one');
			$password = '';
		}
		$phpmailer->Password = rtrim($password, "\r\n");
	} else {
		$phpmailer->SMTPAuth = false;
	}
	// The envelope sender follows the From address, so bounces and SPF checks use the shop's domain.
	if ($phpmailer->From !== '') {
		$phpmailer->Sender = $phpmailer->From;
	}
	$phpmailer->Timeout = 20;
});
