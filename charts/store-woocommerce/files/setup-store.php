<?php
// SPDX-License-Identifier: Apache-2.0
//
// Run by setup.sh through "wp eval-file setup-store.php products.json".
// Makes the shop able to sell: store settings, cash on delivery, a shipping
// method, the WooCommerce pages and the sample products.
//
// Each step runs once per store: its name is recorded in the option
// "storeagent_setup" when it succeeds, so a merchant's later changes (COD
// switched off, a sample product deleted) survive upgrades. Each step is also
// safe to repeat, for a run that failed half-way.

if (!function_exists('WC') || !class_exists('WC_Install')) {
	WP_CLI::error('setup: WooCommerce is not active');
}

$done = get_option('storeagent_setup', array());
if (!is_array($done)) {
	$done = array();
}

$step = function ($name, callable $fn) use (&$done) {
	if (!empty($done[$name])) {
		WP_CLI::log("setup: step $name already done");
		return;
	}
	$fn();
	$done[$name] = gmdate('c');
	update_option('storeagent_setup', $done, false);
	WP_CLI::log("setup: step $name done");
};

$step('settings', function () {
	update_option('woocommerce_default_country', getenv('STORE_COUNTRY') ?: 'US:CA');
	update_option('woocommerce_currency', getenv('STORE_CURRENCY') ?: 'USD');
	// The shop is live at once: no "coming soon" page, no setup wizard redirect.
	update_option('woocommerce_coming_soon', 'no');
	update_option('woocommerce_store_pages_only', 'no');
	update_option('woocommerce_enable_guest_checkout', 'yes');
	update_option('woocommerce_onboarding_profile', array('skipped' => true));
	update_option('woocommerce_task_list_hidden', 'yes');
	delete_transient('_wc_activation_redirect');
});

$step('cod', function () {
	$settings = get_option('woocommerce_cod_settings', array());
	if (!is_array($settings)) {
		$settings = array();
	}
	$settings = array_merge(
		array(
			'title'              => 'Cash on delivery',
			'description'        => 'Pay with cash upon delivery.',
			'instructions'       => 'Pay with cash upon delivery.',
			'enable_for_methods' => array(),
			'enable_for_virtual' => 'yes',
		),
		$settings,
		array('enabled' => 'yes')
	);
	update_option('woocommerce_cod_settings', $settings);
});

// Without a shipping method a cart of physical goods cannot be checked out:
// free shipping everywhere, unless the merchant already configured zones.
$step('shipping', function () {
	$rest_of_world = new WC_Shipping_Zone(0);
	if (count(WC_Shipping_Zones::get_zones()) === 0 && count($rest_of_world->get_shipping_methods()) === 0) {
		$rest_of_world->add_shipping_method('free_shipping');
		WP_CLI::log('setup: added free shipping for all locations');
	}
});

$step('pages', function () {
	// Creates only the pages (shop, cart, checkout, my account) that are missing.
	WC_Install::create_pages();
});

if (getenv('SAMPLE_PRODUCTS') === 'true') {
	$step('products', function () use ($args) {
		$file = isset($args[0]) ? $args[0] : '';
		$products = json_decode((string) file_get_contents($file), true);
		if (!is_array($products)) {
			WP_CLI::error("setup: cannot read sample products from $file: " . json_last_error_msg());
		}
		foreach ($products as $p) {
			if (wc_get_product_id_by_sku($p['sku'])) {
				WP_CLI::log("setup: product {$p['sku']} exists");
				continue;
			}
			$term = term_exists($p['category'], 'product_cat');
			if (!$term) {
				$term = wp_insert_term($p['category'], 'product_cat');
			}
			if (is_wp_error($term)) {
				WP_CLI::error("setup: category {$p['category']}: " . $term->get_error_message());
			}
			$product = new WC_Product_Simple();
			$product->set_name($p['name']);
			$product->set_sku($p['sku']);
			$product->set_regular_price($p['regular_price']);
			$product->set_short_description($p['short_description']);
			$product->set_description($p['description']);
			$product->set_category_ids(array((int) $term['term_id']));
			$product->set_status('publish');
			$product->set_catalog_visibility('visible');
			$product->set_stock_status('instock');
			$id = $product->save();
			if (!$id) {
				WP_CLI::error("setup: could not create product {$p['sku']}");
			}
			WP_CLI::log("setup: created product {$p['sku']} (#$id)");
		}
	});
}
