#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for a store's WooCommerce shop, for test-real-shop-check.sh. The stores the
real daemon makes on the test control plane have no containers behind them (kwok plays the
kubelet), so this plays the shop half of contrib/real-shop-check: the home page, the Store
API (products, cart with Nonce and Cart-Token, cash-on-delivery checkout) and the REST API's
order (application-password basic auth, only over "https" as WordPress insists). It checks
what the real shop would insist on and records what happened in a JSON log.

    woocommerce-standin.py PORTFILE LOGFILE SHOP_HOST

Binds 127.0.0.1 on a free port, writes the port to PORTFILE and serves until killed. It is
reached as an HTTP proxy (curl's http_proxy) for the shop's own URL, which must be on
SHOP_HOST (the host of the URL the daemon reported for the store), and directly (as through
kubectl port-forward) with a Host: SHOP_HOST header for the REST API.
"""
import base64
import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NONCE = "nonce-1"
CART_TOKEN = "cart-token-1"
APP_PASSWORD = "abcd efgh ijkl mnop"  # what the kubectl stand-in's exec prints
PRODUCT = {"id": 11, "name": "Classic T-Shirt", "is_purchasable": True, "is_in_stock": True,
           "prices": {"price": "1900", "currency_code": "USD"}}

PORTFILE, LOGFILE, SHOP_HOST = sys.argv[1:4]
state = {"cart": [], "log": []}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def record(self, what):
        state["log"].append(what)
        with open(LOGFILE, "w") as f:
            json.dump(state["log"], f)

    def target(self):
        """(how it was reached, host, path): a proxied request names the whole URL."""
        if self.path.startswith("http://"):
            u = urllib.parse.urlsplit(self.path)
            return "proxy", u.netloc, u.path + ("?" + u.query if u.query else "")
        return "direct", self.headers.get("Host", ""), self.path

    def route(self, method):
        how, host, path = self.target()
        if host != SHOP_HOST:
            self.record(f"wrong-host:{host}")
            return self.reply(421, {"code": "wrong_host", "host": host, "want": SHOP_HOST})
        if how == "proxy":
            return self.shop(method, path.split("?")[0])
        return self.rest(method, path)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def shop(self, method, p):
        if method == "GET" and p == "/":
            self.record("home")
            return self.reply(200, {"html": "shop"})
        if method == "GET" and p in ("/wp-admin/install.php", "/wp-admin/setup-config.php"):
            # As the chart's Apache configuration answers (tests/chart/test-apache.sh shows the real one).
            self.record("installer-refused")
            return self.reply(403, {"html": "Forbidden"})
        if method == "GET" and p == "/wp-json/wc/store/v1/products":
            return self.reply(200, [PRODUCT])
        if method == "GET" and p == "/wp-json/wc/store/v1/cart":
            return self.reply(200, {"items": []}, {"Nonce": NONCE, "Cart-Token": CART_TOKEN})
        if method != "POST":
            return self.reply(404, {"code": "rest_no_route", "path": p})
        if self.headers.get("Nonce") != NONCE or self.headers.get("Cart-Token") != CART_TOKEN:
            return self.reply(403, {"code": "woocommerce_rest_missing_nonce"})
        b = self.body()
        if p == "/wp-json/wc/store/v1/cart/add-item":
            if b.get("id") != PRODUCT["id"]:
                return self.reply(400, {"code": "bad_product", "body": b})
            state["cart"].append(b)
            return self.reply(201, {"items_count": 1, "totals": {"total_price": "1900", "currency_code": "USD"}},
                              {"Nonce": NONCE})
        if p == "/wp-json/wc/store/v1/cart/update-customer":
            if b.get("billing_address", {}).get("country") != "US":
                return self.reply(400, {"code": "bad_address", "body": b})
            return self.reply(200, {"needs_shipping": True, "shipping_rates": [
                {"shipping_rates": [{"name": "Free shipping", "price": "0", "selected": True}]}]})
        if p == "/wp-json/wc/store/v1/checkout":
            if b.get("payment_method") != "cod" or not state["cart"]:
                return self.reply(400, {"code": "bad_checkout", "body": b})
            self.record("checkout")
            return self.reply(200, {"order_id": 42, "status": "processing",
                                    "payment_result": {"payment_status": "success"}})
        return self.reply(404, {"code": "rest_no_route", "path": p})

    def rest(self, method, p):
        if method == "GET" and p == "/wp-json/wc/v3/orders/42":
            want = "Basic " + base64.b64encode(f"admin:{APP_PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != want or self.headers.get("X-Forwarded-Proto") != "https":
                return self.reply(401, {"code": "rest_not_logged_in"})
            self.record("rest-order")
            return self.reply(200, {"id": 42, "status": "processing", "payment_method": "cod",
                                    "payment_method_title": "Cash on delivery", "total": "19.00",
                                    "currency": "USD", "line_items": [{"product_id": 11, "quantity": 1}]})
        return self.reply(404, {"code": "rest_no_route", "path": p})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
