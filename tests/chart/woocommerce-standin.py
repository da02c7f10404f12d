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

Two more stand-ins, for an https store whose order e-mail goes out:
- STANDIN_TLS_CERT and STANDIN_TLS_KEY (PEM files; the test makes them from a test CA that
  stands in for the store's certificate issuer): the shop is also served over https, reached
  as an HTTPS proxy (curl's https_proxy: CONNECT SHOP_HOST:443, then TLS with this certificate).
  Over https the REST API takes the application password without X-Forwarded-Proto.
- STANDIN_MAIL_DEPLOYMENT=NAMESPACE/DEPLOYMENT and REAL_KUBECTL: on checkout, send the order
  e-mail as the chart's mail plugin (files/storeagent-mail.php) makes PHPMailer send it: to the
  SMTP server and from the address in the STOREAGENT_SMTP_* / STOREAGENT_MAIL_FROM environment
  of the store's real web Deployment on the control plane (read with the real kubectl). Only
  smtp_tls "none" without a user is played (what real-shop-check's sink takes).
"""
import base64
import json
import os
import smtplib
import ssl
import subprocess
import sys
from email.message import EmailMessage
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NONCE = "nonce-1"
CART_TOKEN = "cart-token-1"
APP_PASSWORD = "abcd efgh ijkl mnop"  # what the kubectl stand-in's exec prints
PRODUCT = {"id": 11, "name": "Classic T-Shirt", "is_purchasable": True, "is_in_stock": True,
           "prices": {"price": "1900", "currency_code": "USD"}}

PORTFILE, LOGFILE, SHOP_HOST = sys.argv[1:4]
state = {"cart": [], "log": []}
TLS_CERT, TLS_KEY = os.environ.get("STANDIN_TLS_CERT"), os.environ.get("STANDIN_TLS_KEY")
MAIL_DEPLOYMENT = os.environ.get("STANDIN_MAIL_DEPLOYMENT")


def send_order_mail(order_id, customer):
    """The order e-mail, to where the store's web pod environment says (the chart's mail plugin)."""
    ns, deploy = MAIL_DEPLOYMENT.split("/")
    d = json.loads(subprocess.run([os.environ["REAL_KUBECTL"], "-n", ns, "get", "deployment", deploy, "-o", "json"],
                                  check=True, capture_output=True, text=True).stdout)
    c = next(c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "wordpress")
    env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
    host = env.get("STOREAGENT_SMTP_HOST", "")
    if not host:
        return "mail-not-configured"  # WordPress's mail() goes nowhere in the official image
    if env.get("STOREAGENT_SMTP_TLS") != "none" or env.get("STOREAGENT_SMTP_USER"):
        return "mail-unsupported-by-standin"
    m = EmailMessage()
    sender = env.get("STOREAGENT_MAIL_FROM") or f"wordpress@{SHOP_HOST}"
    m["From"] = f'{env.get("STOREAGENT_MAIL_FROM_NAME") or "Shop"} <{sender}>'
    m["To"] = customer
    m["Subject"] = f"[{SHOP_HOST}]: New order #{order_id}"
    m.set_content(f"You have received an order from Real Shopper.\n\n[Order #{order_id}]\n"
                  "Classic T-Shirt x 1  $19.00\nPayment method: Cash on delivery\n")
    try:
        with smtplib.SMTP(host, int(env.get("STOREAGENT_SMTP_PORT") or 25), timeout=20) as smtp:
            smtp.send_message(m, from_addr=sender)
    except OSError as e:
        return f"mail-failed:{e.__class__.__name__}"
    return f"mail-sent:{host}:{env.get('STOREAGENT_SMTP_PORT')}"


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

    tunneled = False  # True inside an https_proxy CONNECT tunnel, after TLS

    def target(self):
        """(how it was reached, host, path): a proxied request names the whole URL."""
        if self.tunneled:
            return "tls", self.headers.get("Host", ""), self.path
        if self.path.startswith("http://"):
            u = urllib.parse.urlsplit(self.path)
            return "proxy", u.netloc, u.path + ("?" + u.query if u.query else "")
        return "direct", self.headers.get("Host", ""), self.path

    def route(self, method):
        how, host, path = self.target()
        if host != SHOP_HOST:
            self.record(f"wrong-host:{host}")
            return self.reply(421, {"code": "wrong_host", "host": host, "want": SHOP_HOST})
        if how in ("proxy", "tls") and not path.startswith("/wp-json/wc/v3/"):
            return self.shop(method, path.split("?")[0])
        if how == "proxy":
            return self.reply(404, {"code": "rest_no_route", "path": path})
        return self.rest(method, path)

    def do_CONNECT(self):
        if not TLS_CERT or self.path != f"{SHOP_HOST}:443":
            self.record(f"wrong-connect:{self.path}")
            self.send_error(403 if TLS_CERT else 501)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(TLS_CERT, TLS_KEY)
        try:
            conn = ctx.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.record("tls-refused-by-client")  # the client did not trust the certificate
            self.close_connection = True
            return
        TLSHandler(conn, self.client_address, self.server)
        self.close_connection = True

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
            if MAIL_DEPLOYMENT:
                self.record(send_order_mail(42, b["billing_address"].get("email", "")))
            return self.reply(200, {"order_id": 42, "status": "processing",
                                    "payment_result": {"payment_status": "success"}})
        return self.reply(404, {"code": "rest_no_route", "path": p})

    def rest(self, method, p):
        if method == "GET" and p == "/wp-json/wc/v3/orders/42":
            want = "Basic " + base64.b64encode(f"admin:{APP_PASSWORD}".encode()).decode()
            https = self.tunneled or self.headers.get("X-Forwarded-Proto") == "https"
            if self.headers.get("Authorization") != want or not https:
                return self.reply(401, {"code": "rest_not_logged_in"})
            self.record("rest-order")
            return self.reply(200, {"id": 42, "status": "processing", "payment_method": "cod",
                                    "payment_method_title": "Cash on delivery", "total": "19.00",
                                    "currency": "USD", "line_items": [{"product_id": 11, "quantity": 1}]})
        return self.reply(404, {"code": "rest_no_route", "path": p})


class TLSHandler(Handler):
    tunneled = True


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
