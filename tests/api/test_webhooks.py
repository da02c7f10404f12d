# SPDX-License-Identifier: Apache-2.0
"""Webhooks: an account's endpoints hear of its stores' events, signed with the webhook's secret,
retried through the durable delivery queue, logged where the account can read them.

The receiver is a real HTTP server on 127.0.0.1 (a thread of this test) that checks each
delivery's signature the way a user's would. Loopback destinations are refused by default; these
daemons allow them with webhooks.private_destinations: allow, except the test that shows the
refusal. Store events come from the stand-in cluster and helm of fakecluster.py.
"""

import hashlib
import hmac
import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from daemon import BUILD, free_port
from fakecluster import FakeCluster
from tenancy import error_of, tenant
from test_races import private_bus  # noqa: F401 (a fixture)

STORECTL = os.environ.get("STORECTL", os.path.join(BUILD, "agent", "src", "storectl", "storectl"))
STORES = "/api/v1/stores"
HOOKS = "/api/v1/webhooks"
FAST = {
    "limits": {"creates_per_hour": 1000, "requests_per_window": 100000, "max_pending_tasks": 1000,
               "max_stores": 1000, "tenant_max_stores": 100},
    "webhooks": {"private_destinations": "allow", "retry_initial_ms": 200, "retry_max": 1, "max_attempts": 100,
                 "poll_interval_ms": 100, "timeout": 5},
}


class Receiver:
    """An HTTP endpoint that records what it is sent; answers each POST with the next of `statuses`
    (then 200)."""

    def __init__(self, port=None, statuses=()):
        self.received = []
        self.statuses = list(statuses)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body, self.path))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, secret):
        """The deliveries received, each checked against the secret: (event header, JSON body)."""
        out = []
        with self.lock:
            received = list(self.received)
        for headers, body, path in received:
            assert path == "/hook"
            assert headers["Content-Type"] == "application/json"
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["X-Storeagent-Signature"], expected), (headers, body)
            doc = json.loads(body)
            assert headers["X-Storeagent-Event"] == doc["event"]
            assert int(headers["X-Storeagent-Delivery"]) > 0
            out.append(doc)
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(str(tmp_path / "cluster"))
    yield c
    c.close()


def create_hook(d, url, token=True, **fields):
    r = d.request("POST", HOOKS, dict({"url": url}, **fields), auth=token)
    assert r.status == 201, r
    assert r.header("Cache-Control") == "no-store"
    hook = r.json()
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 30
    return hook


def deliveries(d, hook_id, token=True):
    r = d.request("GET", f"{HOOKS}/{hook_id}/deliveries", auth=token)
    assert r.status == 200, r
    return r.json()["items"]


def wait_delivery(d, hook_id, pred, what, token=True, timeout=30):
    return d.wait_for(lambda: next((x for x in deliveries(d, hook_id, token) if pred(x)), None), timeout=timeout,
                      what=what)


def wait_store(d, sid, status, token=True):
    d.wait_for(lambda: d.request("GET", f"{STORES}/{sid}", auth=token).json()["status"] == status, what=status)


def test_store_events_reach_the_owners_webhook_signed(daemon_factory, cluster, receiver):
    d = daemon_factory({**FAST, **cluster.config()})
    acme, other = tenant(d, "acme"), tenant(d, "other")
    hook = create_hook(d, receiver.url, token=acme, events=["store.ready", "store.deleted"])
    assert hook["events"] == ["store.ready", "store.deleted"] and hook["account"] == "acme"
    other_receiver = Receiver()
    try:
        create_hook(d, other_receiver.url, token=other)
        admin_receiver = Receiver()
        try:
            admin_hook = create_hook(d, admin_receiver.url, all_stores=True, events=["store.ready"])

            # The secret is in the create reply and nowhere after.
            r = d.request("GET", f"{HOOKS}/{hook['id']}", auth=acme)
            assert r.status == 200 and "secret" not in r.json(), r
            assert all("secret" not in h for h in d.request("GET", HOOKS, auth=acme).json()["items"])

            sid = d.request("POST", STORES, {"name": "hooked", "engine": "woocommerce"}, auth=acme).json()["id"]
            wait_store(d, sid, "READY", acme)
            got = d.wait_for(lambda: receiver.events(hook["secret"]), what="store.ready delivered")
            assert [e["event"] for e in got] == ["store.ready"]
            assert got[0]["store"]["id"] == sid and got[0]["store"]["name"] == "hooked"
            assert got[0]["store"]["status"] == "READY" and got[0]["store"]["owner"] == "acme"
            # An admin's webhook that takes every store's events hears of it too, signed with its own secret.
            admin_got = d.wait_for(lambda: admin_receiver.events(admin_hook["secret"]), what="admin's delivery")
            assert [e["store"]["id"] for e in admin_got] == [sid]

            done = wait_delivery(d, hook["id"], lambda x: x["state"] == "delivered", "the log says delivered", acme)
            assert done["event"] == "store.ready" and done["attempts"] == 1 and done["response_code"] == 200
            assert done["store_id"] == sid and done["last_error"] is None

            assert d.request("DELETE", f"{STORES}/{sid}", auth=acme).status == 202
            wait_store(d, sid, "DELETED", acme)
            d.wait_for(lambda: [e["event"] for e in receiver.events(hook["secret"])] == ["store.ready",
                                                                                         "store.deleted"],
                       what="store.deleted delivered")
            # The other tenant's webhook heard nothing of acme's store; its log is its own.
            assert other_receiver.received == []
            assert d.request("GET", f"{HOOKS}/{hook['id']}", auth=other).status == 404
            assert d.request("GET", f"{HOOKS}/{hook['id']}/deliveries", auth=other).status == 404
            r = d.request("POST", f"{HOOKS}/{hook['id']}/test", auth=other)
            assert r.status == 404 and error_of(r) == "webhook_not_found", r
            assert d.request("DELETE", f"{HOOKS}/{hook['id']}", auth=other).status == 404
            assert [h["id"] for h in d.request("GET", HOOKS, auth=other).json()["items"]] != [hook["id"]]
        finally:
            admin_receiver.close()
    finally:
        other_receiver.close()
    # Secrets never reach the log.
    assert hook["secret"] not in d.logs()


def test_test_event_and_a_failed_store(daemon_factory, cluster, receiver):
    d = daemon_factory({**FAST, **cluster.config()})
    hook = create_hook(d, receiver.url)
    r = d.request("POST", f"{HOOKS}/{hook['id']}/test")
    assert r.status == 202 and r.json()["event"] == "webhook.test" and r.json()["state"] in ("queued", "sending",
                                                                                           "delivered"), r
    got = d.wait_for(lambda: receiver.events(hook["secret"]), what="the test event")
    assert got[0]["event"] == "webhook.test" and got[0]["webhook"]["id"] == hook["id"]

    cluster.fail_next_upgrade()
    sid = d.request("POST", STORES, {"name": "failing", "engine": "woocommerce"}).json()["id"]
    wait_store(d, sid, "FAILED")
    failed = d.wait_for(lambda: [e for e in receiver.events(hook["secret"]) if e["event"] == "store.failed"],
                        what="store.failed delivered")
    assert failed[0]["store"]["id"] == sid and "bad value" in failed[0]["store"]["reason"]

    # Paused, a webhook gets no new events, and what it has queued fails; resumed, it gets them again.
    r = d.request("PATCH", f"{HOOKS}/{hook['id']}", {"enabled": False})
    assert r.status == 200 and r.json()["enabled"] is False, r
    assert d.request("PATCH", f"{HOOKS}/{hook['id']}", {"enabled": "no"}).status == 400
    before = len(receiver.received)
    assert d.request("POST", f"{HOOKS}/{hook['id']}/test").status == 202
    paused = wait_delivery(d, hook["id"], lambda x: x["state"] == "failed", "the paused webhook's test")
    assert paused["last_error"] == "The webhook is disabled." and paused["attempts"] == 0, paused
    assert d.request("DELETE", f"{STORES}/{sid}").status == 202
    wait_store(d, sid, "DELETED")
    assert d.request("PATCH", f"{HOOKS}/{hook['id']}", {"enabled": True}).json()["enabled"] is True
    assert d.request("POST", f"{HOOKS}/{hook['id']}/test").status == 202
    d.wait_for(lambda: len(receiver.received) == before + 1, what="the resumed webhook's test")
    assert [e["event"] for e in receiver.events(hook["secret"])][before:] == ["webhook.test"]
    assert not any(x["event"] == "store.deleted" for x in deliveries(d, hook["id"]))

    # A deleted webhook is gone for its account and gets nothing more.
    assert d.request("DELETE", f"{HOOKS}/{hook['id']}").status == 204
    assert d.request("GET", f"{HOOKS}/{hook['id']}").status == 404
    assert d.request("POST", f"{HOOKS}/{hook['id']}/test").status == 404


def test_a_receiver_that_is_down_gets_the_delivery_when_it_is_back(daemon_factory):
    """Connection refused, then 503, then the agent restarts: the delivery is queued durably and arrives."""
    port = free_port()
    d = daemon_factory(FAST)
    hook = create_hook(d, f"http://127.0.0.1:{port}/hook")
    assert d.request("POST", f"{HOOKS}/{hook['id']}/test").status == 202
    down = wait_delivery(d, hook["id"], lambda x: x["attempts"] >= 2 and x["state"] in ("queued", "sending"),
                         "two failed attempts")
    assert down["response_code"] is None and down["last_error"], down

    d.stop()
    back = Receiver(port=port, statuses=[503])
    try:
        d.start()
        got = d.wait_for(lambda: receiver_events_after_503(back, hook["secret"]), what="delivered after restart")
        assert [e["event"] for e in got] == ["webhook.test"]
        done = wait_delivery(d, hook["id"], lambda x: x["state"] == "delivered", "the log says delivered")
        assert done["attempts"] >= 4 and done["response_code"] == 200 and done["last_error"] is None, done
    finally:
        back.close()


def receiver_events_after_503(receiver, secret):
    events = receiver.events(secret)
    # The first answer was 503: the same delivery came again, the same body each time.
    return events[1:] if len(events) >= 2 and events[0] == events[1] else None


def test_a_disabled_accounts_webhooks_stop(daemon_factory, cluster):
    port = free_port()
    d = daemon_factory({**FAST, **cluster.config()})
    acme = tenant(d, "acme")
    hook = create_hook(d, f"http://127.0.0.1:{port}/hook", token=acme)
    sid = d.request("POST", STORES, {"name": "acme-shop", "engine": "woocommerce"}, auth=acme).json()["id"]
    wait_store(d, sid, "READY", acme)
    wait_delivery(d, hook["id"], lambda x: x["event"] == "store.ready" and x["attempts"] >= 1, "an attempt", acme)

    assert d.request("PATCH", "/api/v1/accounts/acme", {"disabled": True}).status == 200
    # Its queued delivery stops. The account's tokens are stopped too, so this reads the daemon's
    # database file to know when the sender has seen it, before the account comes back.
    d.wait_for(lambda: delivery_states(d, hook["id"]) == [("failed", "The account is disabled.")],
               what="the queued delivery to fail while the account is disabled")
    # Its store's next event queues none.
    assert d.request("DELETE", f"{STORES}/{sid}").status == 202
    wait_store(d, sid, "DELETED")
    receiver = Receiver(port=port)
    try:
        assert d.request("PATCH", "/api/v1/accounts/acme", {"disabled": False}).status == 200
        assert d.request("POST", f"{HOOKS}/{hook['id']}/test", auth=acme).status == 202
        wait_delivery(d, hook["id"], lambda x: x["event"] == "webhook.test" and x["state"] == "delivered",
                      "the test event delivered after the account came back", acme)
        items = deliveries(d, hook["id"], acme)
        assert sorted((x["event"], x["state"], x["last_error"]) for x in items) == [
            ("store.ready", "failed", "The account is disabled."), ("webhook.test", "delivered", None)], items
        assert [e["event"] for e in receiver.events(hook["secret"])] == ["webhook.test"]
    finally:
        receiver.close()


def delivery_states(d, hook_id):
    with closing(sqlite3.connect(f"file:{d.dir}/state/storeagent.db?mode=ro", uri=True, timeout=10)) as db:
        return db.execute("SELECT state, last_error FROM webhook_deliveries WHERE webhook_id = ?",
                          (hook_id,)).fetchall()


def test_private_destinations_are_refused_by_default(daemon_factory, receiver):
    d = daemon_factory({"webhooks": {"poll_interval_ms": 100}})
    hook = create_hook(d, receiver.url)
    d.request("POST", f"{HOOKS}/{hook['id']}/test")
    failed = wait_delivery(d, hook["id"], lambda x: x["state"] == "failed", "refused")
    assert "127.0.0.1" in failed["last_error"] and "private_destinations" in failed["last_error"], failed
    assert failed["attempts"] == 1 and receiver.received == []


@pytest.mark.parametrize("url,why", [
    ("ftp://example.com/hook", "http:// or https://"),
    ("https://user:pw@example.com/hook", "user name or password"),
    ("https:///hook", "no host"),
    ("https://example.com/a b", "space"),
    ("https://example.com/#x", "fragment"),
    ("https://example.com/" + "a" * 200, "max_url_bytes"),
])
def test_urls_are_checked_at_the_edge(daemon_factory, url, why):
    d = daemon_factory({"webhooks": {"max_url_bytes": 128}})
    r = d.request("POST", HOOKS, {"url": url})
    assert r.status == 400 and error_of(r) == "invalid_url" and why in r.json()["error"]["message"], r
    assert d.request("GET", HOOKS).json()["items"] == []


def test_fields_caps_and_ownership(daemon_factory):
    d = daemon_factory({"webhooks": {"max_per_account": 2}})
    acme = tenant(d, "acme")
    r = d.request("POST", HOOKS, {"url": "https://example.com/h", "events": ["store.exploded"]})
    assert r.status == 400 and error_of(r) == "invalid_event", r
    r = d.request("POST", HOOKS, {"url": "https://example.com/h", "all_stores": True}, auth=acme)
    assert r.status == 403 and error_of(r) == "forbidden", r
    r = d.request("POST", HOOKS, {"url": "https://example.com/h", "colour": "red"})
    assert r.status == 400 and error_of(r) == "unknown_field", r
    first = create_hook(d, "https://example.com/1", token=acme)
    assert first["events"] == ["store.ready", "store.failed", "store.deleted", "backup.succeeded", "backup.failed"]
    create_hook(d, "https://example.com/2", token=acme)
    r = d.request("POST", HOOKS, {"url": "https://example.com/3"}, auth=acme)
    assert r.status == 409 and error_of(r) == "webhook_cap_reached", r
    # The cap is per account; the admin's list is its own.
    create_hook(d, "https://example.com/admin")
    assert [h["url"] for h in d.request("GET", HOOKS).json()["items"]] == ["https://example.com/admin"]
    assert d.request("GET", f"{HOOKS}/{first['id']}").status == 404
    assert d.request("GET", f"{HOOKS}/not-a-number").status == 404
    assert d.request("DELETE", f"{HOOKS}/{first['id']}", auth=acme).status == 204
    create_hook(d, "https://example.com/3", token=acme)
    actions = [(e["action"], e["result"]) for e in d.request("GET", "/api/v1/audit?limit=100").json()["items"]
               if e["action"].startswith("webhook.")]
    assert ("webhook.create", "denied") in actions and ("webhook.delete", "ok") in actions


def test_a_delivery_cut_by_a_crash_is_sent_after_the_restart(daemon_factory):
    """The agent is killed while a receiver holds the delivery's request without answering; the next
    start sends it again."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the kernel; nobody ever answers
    port = silent.getsockname()[1]
    d = daemon_factory({**FAST, "webhooks": {**FAST["webhooks"], "timeout": 300}})
    hook = create_hook(d, f"http://127.0.0.1:{port}/hook")
    assert d.request("POST", f"{HOOKS}/{hook['id']}/test").status == 202
    wait_delivery(d, hook["id"], lambda x: x["state"] == "sending", "the delivery on its way")

    d.stop(sig=signal.SIGKILL)
    silent.close()
    back = Receiver(port=port)
    try:
        d.start()
        got = d.wait_for(lambda: back.events(hook["secret"]), what="delivered after the crash")
        assert [e["event"] for e in got] == ["webhook.test"]
        done = wait_delivery(d, hook["id"], lambda x: x["state"] == "delivered", "the log says delivered")
        assert done["attempts"] == 2 and done["response_code"] == 200, done
    finally:
        back.close()


def test_storectl_manages_the_callers_webhooks(daemon_factory, private_bus, receiver):
    env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = daemon_factory(FAST, env=env)
    run_env = dict(os.environ, **env)

    def storectl(*args):
        return subprocess.run([STORECTL, *args], capture_output=True, text=True, env=run_env, timeout=30)

    d.wait_for(lambda: storectl("webhook", "list").returncode == 0, timeout=15, what="the daemon on the bus")
    p = storectl("webhook", "create", "ftp://example.com/")
    assert p.returncode != 0 and "http:// or https://" in p.stderr, p
    p = storectl("webhook", "create", receiver.url, "store.ready,store.failed")
    assert p.returncode == 0, p.stderr
    secret = p.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_"), p.stdout
    hooks = json.loads(storectl("--json", "webhook", "list").stdout)
    assert [(h["url"], h["events"]) for h in hooks] == [(receiver.url, ["store.ready", "store.failed"])]
    assert "secret" not in hooks[0]
    hook_id = str(hooks[0]["id"])

    p = storectl("webhook", "test", hook_id)
    assert p.returncode == 0 and "queued" in p.stdout, p
    got = d.wait_for(lambda: receiver.events(secret), what="the test event")
    assert got[0]["event"] == "webhook.test"
    d.wait_for(lambda: "delivered" in storectl("webhook", "deliveries", hook_id).stdout, what="the log")
    assert storectl("webhook", "pause", hook_id).returncode == 0
    assert json.loads(storectl("--json", "webhook", "list").stdout)[0]["enabled"] is False
    assert storectl("webhook", "resume", hook_id).returncode == 0
    assert json.loads(storectl("--json", "webhook", "list").stdout)[0]["enabled"] is True
    assert storectl("webhook", "test", "999").returncode != 0
    assert storectl("webhook", "delete", hook_id).returncode == 0
    assert json.loads(storectl("--json", "webhook", "list").stdout) == []
