#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for storeagentd's REST API and a WooCommerce shop, for
test-real-shop-check.sh: it answers the requests contrib/real-shop-check makes,
checks the headers and bodies the real services would insist on (bearer token,
Nonce and Cart-Token, cash on delivery, application-password basic auth over
"https"), and records what happened in a JSON log.

    real-shop-mock.py PORTFILE LOGFILE [--fail]

Binds 127.0.0.1 on a free port, writes the port to PORTFILE, serves until
killed. With --fail the store ends FAILED instead of READY.
"""
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-token"
NONCE = "nonce-1"
CART_TOKEN = "cart-token-1"
APP_PASSWORD = "abcd efgh ijkl mnop"
PRODUCT = {"id": 11, "name": "Classic T-Shirt", "is_purchasable": True, "is_in_stock": True,
           "prices": {"price": "1900", "currency_code": "USD"}}

state = {"polls": 0, "cart": [], "order": None, "log": []}


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
        with open(sys.argv[2], "w") as f:
            json.dump(state["log"], f)

    def cart_headers_ok(self):
        return self.headers.get("Nonce") == NONCE and self.headers.get("Cart-Token") == CART_TOKEN

    def do_GET(self):
        port = self.server.server_address[1]
        p = self.path
        if p.startswith("/api/v1/stores/"):
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.reply(401, {"code": "unauthorized", "message": "bad token"})
            state["polls"] += 1
            status = "PROVISIONING" if state["polls"] < 2 else ("FAILED" if "--fail" in sys.argv else "READY")
            body = {"id": "st-1", "name": "mockshop", "status": status,
                    "status_reason": "setup Job failed: database not reachable" if status == "FAILED" else "",
                    "url": f"http://127.0.0.1:{port}/shop"}
            return self.reply(200, body)
        if p in ("/shop/", "/shop"):
            return self.reply(200, {"html": "shop"})
        if p.startswith("/shop/wp-json/wc/store/v1/products"):
            return self.reply(200, [PRODUCT])
        if p == "/shop/wp-json/wc/store/v1/cart":
            return self.reply(200, {"items": []}, {"Nonce": NONCE, "Cart-Token": CART_TOKEN})
        if p == "/wp-json/wc/v3/orders/42":
            auth = self.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(f"admin:{APP_PASSWORD}".encode()).decode()
            if auth != want or self.headers.get("X-Forwarded-Proto") != "https":
                return self.reply(401, {"code": "rest_not_logged_in"})
            if self.headers.get("Host") != f"127.0.0.1:{port}":
                return self.reply(400, {"code": "bad_host", "host": self.headers.get("Host")})
            self.record("rest-order")
            return self.reply(200, {"id": 42, "status": "processing", "payment_method": "cod",
                                    "payment_method_title": "Cash on delivery", "total": "19.00",
                                    "currency": "USD", "line_items": [{"product_id": 11, "quantity": 1}]})
        return self.reply(404, {"code": "not_found", "path": p})

    def do_POST(self):
        p = self.path
        if p == "/api/v1/stores":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.reply(401, {"code": "unauthorized"})
            b = self.body()
            if b.get("engine") != "woocommerce" or not b.get("name"):
                return self.reply(400, {"code": "bad_request", "body": b})
            self.record("create:" + b["name"])
            return self.reply(202, {"id": "st-1", "name": b["name"], "status": "PENDING"})
        if not self.cart_headers_ok():
            return self.reply(403, {"code": "woocommerce_rest_missing_nonce"})
        b = self.body()
        if p == "/shop/wp-json/wc/store/v1/cart/add-item":
            if b.get("id") != PRODUCT["id"]:
                return self.reply(400, {"code": "bad_product", "body": b})
            state["cart"].append(b)
            return self.reply(201, {"items_count": 1, "totals": {"total_price": "1900", "currency_code": "USD"}},
                              {"Nonce": NONCE})
        if p == "/shop/wp-json/wc/store/v1/cart/update-customer":
            if b.get("billing_address", {}).get("country") != "US":
                return self.reply(400, {"code": "bad_address", "body": b})
            return self.reply(200, {"needs_shipping": True, "shipping_rates": [
                {"shipping_rates": [{"name": "Free shipping", "price": "0", "selected": True}]}]})
        if p == "/shop/wp-json/wc/store/v1/checkout":
            if b.get("payment_method") != "cod" or not state["cart"]:
                return self.reply(400, {"code": "bad_checkout", "body": b})
            self.record("checkout")
            return self.reply(200, {"order_id": 42, "status": "processing",
                                    "payment_result": {"payment_status": "success"}})
        return self.reply(404, {"code": "not_found", "path": p})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
