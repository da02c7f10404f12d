# SPDX-License-Identifier: Apache-2.0
"""The REST API, exercised over real HTTP against the real daemon and a real SQLite file."""

import gzip
import json
import os
import socket
import subprocess
import time

import pytest

from daemon import DAEMON

# The only routes anyone may call without a token or session: the probes, and signing in and out.
# Every other route the daemon serves must refuse an anonymous caller; the list comes from the
# daemon's own route table, so a route added later is covered without touching this file.
PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/session"),
    ("DELETE", "/api/v1/session"),
}


def served_routes():
    out = subprocess.run([DAEMON, "--list-routes"], capture_output=True, text=True, check=True, timeout=30).stdout
    routes = [tuple(line.split(" ", 1)) for line in out.splitlines() if line.strip()]
    assert routes, "storeagentd --list-routes printed no routes"
    return routes


SERVED_ROUTES = served_routes()

def fill(path):
    """A served route's pattern with its parameters filled in."""
    return path.replace("{id}", "0123456789abcdef").replace("{name}", "someone").replace("{token}", "ci").replace("{pod}", "web-0")\
        .replace("{backup}", "0000000000000000").replace("{file}", "database.sql.gz")\
        .replace("{domain}", "shop.example.com")


ROUTES_NEEDING_TOKEN = [(m, fill(p)) for m, p in SERVED_ROUTES if (m, p) not in PUBLIC_ROUTES]


def test_public_routes_are_served():
    """The exceptions above name routes that exist, so none of them can hide a typo."""
    assert PUBLIC_ROUTES - set(SERVED_ROUTES) == set()


def error_of(r):
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"], body
    return body["error"]["code"]


def create(d, name, **kw):
    return d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"}, **kw)


def test_health_needs_no_token(daemon):
    r = daemon.request("GET", "/healthz", auth=False)
    assert r.status == 200 and r.json() == {"status": "ok"}
    assert r.header("X-Request-Id")
    # No cluster is configured here: ready says why it is not, to an admin (test_surface.py: only to one).
    r = daemon.request("GET", "/readyz")
    assert r.status == 503
    body = r.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cluster"]["ok"] is False
    assert "no-cluster.yaml" in body["checks"]["cluster"]["detail"]


@pytest.mark.parametrize("method,path", ROUTES_NEEDING_TOKEN)
def test_every_route_needs_a_token(daemon, method, path):
    r = daemon.request(method, path, auth=False)
    assert r.status == 401, r
    assert error_of(r) == "unauthorized"
    assert r.header("WWW-Authenticate").startswith("Bearer")
    r = daemon.request(method, path, auth="sa_" + "x" * 40)
    assert r.status == 401
    r = daemon.request(method, path, headers={"Authorization": "Basic YWRtaW46YWRtaW4="}, auth=False)
    assert r.status == 401


def test_create_get_list_events(daemon):
    r = create(daemon, "shop1")
    assert r.status == 202, r
    s = r.json()
    assert s["name"] == "shop1" and s["engine"] == "woocommerce" and s["status"] == "PROVISIONING"
    assert s["owner"] == "admin" and len(s["id"]) == 16
    assert s["created_at"].endswith("Z")
    for key in ("status_reason", "step", "progress", "url", "chart_version", "helm_revision", "deleted_at"):
        assert key in s

    r = daemon.request("GET", f"/api/v1/stores/{s['id']}")
    assert r.status == 200 and r.json()["id"] == s["id"]

    for name in ("shop2", "shop3"):
        assert create(daemon, name).status == 202
    r = daemon.request("GET", "/api/v1/stores?limit=2&offset=0")
    body = r.json()
    assert body["total"] == 3 and len(body["items"]) == 2 and body["limit"] == 2
    assert [i["name"] for i in body["items"]] == ["shop3", "shop2"]  # newest first
    r = daemon.request("GET", "/api/v1/stores?limit=2&offset=2")
    assert [i["name"] for i in r.json()["items"]] == ["shop1"]
    r = daemon.request("GET", "/api/v1/stores?status=READY")
    assert r.json()["total"] == 0
    r = daemon.request("GET", "/api/v1/stores?status=PROVISIONING")
    assert r.json()["total"] == 3
    r = daemon.request("GET", "/api/v1/stores?status=bogus")
    assert r.status == 400 and error_of(r) == "invalid_parameter"
    r = daemon.request("GET", "/api/v1/stores?limit=100000")
    assert r.status == 400 and error_of(r) == "invalid_parameter"

    r = daemon.request("GET", f"/api/v1/stores/{s['id']}/events")
    events = r.json()["items"]
    assert events[0]["action"] == "store.create" and events[0]["actor"] == "admin"

    r = daemon.request("GET", "/api/v1/stores/ffffffffffffffff")
    assert r.status == 404 and error_of(r) == "not_found"


@pytest.mark.parametrize("body,code", [
    ({"name": "Shop", "engine": "woocommerce"}, "invalid_name"),
    ({"name": "-x", "engine": "woocommerce"}, "invalid_name"),
    ({"name": "a" * 41, "engine": "woocommerce"}, "invalid_name"),
    ({"name": "ok", "engine": "magento"}, "invalid_engine"),
    ({"name": "ok", "engine": "woocommerce", "color": "red"}, "unknown_field"),
    ({"engine": "woocommerce"}, "missing_field"),
    ({"name": 5, "engine": "woocommerce"}, "invalid_type"),
])
def test_create_validation(daemon, body, code):
    r = daemon.request("POST", "/api/v1/stores", body)
    assert r.status == 400, r
    assert error_of(r) == code
    # Nothing was created.
    assert daemon.request("GET", "/api/v1/stores").json()["total"] == 0


def test_malformed_and_oversized_bodies(daemon_factory):
    d = daemon_factory({"limits": {"max_body_bytes": 1024, "max_json_depth": 4}})
    r = d.request("POST", "/api/v1/stores", raw=b'{"name": "x",', headers={"Content-Type": "application/json"})
    assert r.status == 400 and error_of(r) == "invalid_json"
    r = d.request("POST", "/api/v1/stores", raw=b'["x"]', headers={"Content-Type": "application/json"})
    assert r.status == 400 and error_of(r) == "invalid_json"
    r = d.request("POST", "/api/v1/stores", raw=b'{"name": "a", "name": "b", "engine": "woocommerce"}',
                  headers={"Content-Type": "application/json"})
    assert r.status == 400 and error_of(r) == "invalid_json"
    r = d.request("POST", "/api/v1/stores", raw=b'{"a":{"b":{"c":{"d":{"e":1}}}}}',
                  headers={"Content-Type": "application/json"})
    assert r.status == 400 and error_of(r) == "json_too_deep"
    big = json.dumps({"name": "x" * 2000, "engine": "woocommerce"}).encode()
    r = d.request("POST", "/api/v1/stores", raw=big, headers={"Content-Type": "application/json"})
    assert r.status == 413 and error_of(r) == "payload_too_large"
    r = d.request("POST", "/api/v1/stores", raw=b"name=x", headers={"Content-Type": "text/plain"})
    assert r.status == 415 and error_of(r) == "unsupported_media_type"
    # Exactly at the limit is fine (and then fails validation, not size).
    filler = 1024 - len(json.dumps({"name": "", "engine": "woocommerce"}))
    exact = json.dumps({"name": "y" * filler, "engine": "woocommerce"}).encode()
    assert len(exact) == 1024
    r = d.request("POST", "/api/v1/stores", raw=exact, headers={"Content-Type": "application/json"})
    assert r.status == 400 and error_of(r) == "invalid_name"
    assert d.request("GET", "/api/v1/stores").json()["total"] == 0


def test_oversized_headers_refused(daemon_factory):
    d = daemon_factory({"limits": {"max_header_bytes": 16384}})
    assert d.request("GET", "/api/v1/stores", headers={"X-Filler": "a" * 8000}).status == 200
    r = d.request("GET", "/api/v1/stores", headers={"X-Filler": "a" * 100000})
    assert r.status in (413, 431)


def test_duplicates_and_idempotency(daemon):
    r1 = create(daemon, "dup", headers={"Idempotency-Key": "abc-123"})
    assert r1.status == 202
    r2 = create(daemon, "dup", headers={"Idempotency-Key": "abc-123"})
    assert r2.status == 202 and r2.json()["id"] == r1.json()["id"]
    assert r2.header("Idempotent-Replayed") == "true"
    r3 = create(daemon, "dup")
    assert r3.status == 409 and error_of(r3) == "name_taken"
    assert "already exists" in r3.json()["error"]["message"]
    r4 = create(daemon, "other", headers={"Idempotency-Key": "abc-123"})
    assert r4.status == 422 and error_of(r4) == "idempotency_key_reused"
    assert daemon.request("GET", "/api/v1/stores").json()["total"] == 1


def test_operations_and_states(daemon_factory, tmp_path):
    repo = tmp_path / "charts"
    repo.mkdir()
    (repo / "store-woocommerce-0.2.0.tgz").write_bytes(b"")
    daemon = daemon_factory({"chart": {"repository": str(repo), "path": str(tmp_path / "nochart")}})
    assert daemon.request("GET", "/api/v1/charts").json() == {"items": [{"version": "0.2.0"}]}
    s = create(daemon, "ops").json()
    sid = s["id"]
    r = daemon.request("POST", f"/api/v1/stores/{sid}/retry")
    assert r.status == 409 and error_of(r) == "invalid_state"
    r = daemon.request("POST", f"/api/v1/stores/{sid}/upgrade", {"chart_version": "0.2.0"})
    assert r.status == 409 and error_of(r) == "operation_in_progress"
    r = daemon.request("POST", f"/api/v1/stores/{sid}/upgrade", {"chart_version": "9.9.9"})
    assert r.status == 422 and error_of(r) == "chart_version_unavailable"
    r = daemon.request("POST", f"/api/v1/stores/{sid}/upgrade", {"chart_version": "latest"})
    assert r.status == 400
    r = daemon.request("POST", f"/api/v1/stores/{sid}/upgrade", {})
    assert r.status == 400 and error_of(r) == "missing_field"
    r = daemon.request("POST", f"/api/v1/stores/{sid}/rollback", {"revision": "one"})
    assert r.status == 400 and error_of(r) == "invalid_type"
    r = daemon.request("POST", f"/api/v1/stores/{sid}/rollback", {"revision": 1, "force": True})
    assert r.status == 400 and error_of(r) == "unknown_field"
    r = daemon.request("POST", "/api/v1/stores/ffffffffffffffff/retry")
    assert r.status == 404

    r = daemon.request("DELETE", f"/api/v1/stores/{sid}")
    assert r.status == 202 and r.json()["status"] == "DELETING"
    r = daemon.request("DELETE", f"/api/v1/stores/{sid}")
    assert r.status == 202 and r.json()["status"] == "DELETING"
    events = daemon.request("GET", f"/api/v1/stores/{sid}/events").json()["items"]
    assert [e["action"] for e in events][:1] == ["store.create"]
    assert "store.delete" in [e["action"] for e in events]


def test_method_not_allowed_and_unknown(daemon):
    r = daemon.request("PUT", "/api/v1/stores")
    assert r.status == 405 and error_of(r) == "method_not_allowed"
    assert "GET" in r.header("Allow") and "POST" in r.header("Allow")
    r = daemon.request("GET", "/api/v1/nothing")
    assert r.status == 404 and error_of(r) == "not_found"
    r = daemon.request("GET", "/api/v1/stores/NOT_AN_ID")
    assert r.status == 404


def test_rate_limit(daemon_factory):
    d = daemon_factory({"limits": {"requests_per_window": 5, "window": 60}})
    for _ in range(5):
        assert d.request("GET", "/api/v1/stores").status == 200
    r = d.request("GET", "/api/v1/stores")
    assert r.status == 429 and error_of(r) == "rate_limited"
    retry = int(r.header("Retry-After"))
    assert 1 <= retry <= 60
    assert f"{retry} seconds" in r.json()["error"]["message"]
    # Health checks are never limited; another account has its own budget.
    assert d.request("GET", "/healthz", auth=False).status == 200
    other = d.create_token("other")  # token "other" of admin account "other"
    assert d.request("GET", "/api/v1/stores", auth=other).status == 200
    # Unauthenticated guessing is limited by address.
    codes = [d.request("GET", "/api/v1/stores", auth="sa_wrong").status for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429


def test_creation_limit_store_cap_task_cap(daemon_factory):
    d = daemon_factory({"limits": {"creates_per_hour": 2}})
    assert create(d, "c1").status == 202
    assert create(d, "c2").status == 202
    r = create(d, "c3")
    assert r.status == 429 and error_of(r) == "creation_limited"
    assert 3500 <= int(r.header("Retry-After")) <= 3600
    assert "2 stores per hour" in r.json()["error"]["message"]

    d2 = daemon_factory({"limits": {"max_stores": 1}})
    assert create(d2, "only").status == 202
    r = create(d2, "second")
    assert r.status == 429 and error_of(r) == "store_cap_reached"
    assert r.header("Retry-After")

    d3 = daemon_factory({"limits": {"max_pending_tasks": 1}})
    assert create(d3, "t1").status == 202
    r = create(d3, "t2")
    assert r.status == 429 and error_of(r) == "task_cap_reached"


def test_sessions_and_csrf(daemon):
    r = daemon.request("POST", "/api/v1/session", {"token": "sa_nope"}, auth=False)
    assert r.status == 401 and error_of(r) == "invalid_token"
    r = daemon.request("POST", "/api/v1/session", {"token": daemon.token}, auth=False)
    assert r.status == 200
    csrf = r.json()["csrf_token"]
    assert r.json()["name"] == "admin"
    cookie = r.header("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    value = cookie.split(";")[0]
    assert value.startswith("sa_session=")
    assert daemon.token not in cookie

    h = {"Cookie": value}
    assert daemon.request("GET", "/api/v1/stores", headers=h, auth=False).status == 200
    # The dashboard's reads through its session are not counted against the request limit.
    before = daemon.request("GET", "/api/v1/platform").json()["limits"]["requests_per_window"]["used"]
    for _ in range(5):
        daemon.request("GET", "/api/v1/stores", headers=h, auth=False)
    after = daemon.request("GET", "/api/v1/platform").json()["limits"]["requests_per_window"]["used"]
    assert after == before + 1  # only the bearer-token platform call itself
    r = daemon.request("GET", "/api/v1/session", headers=h, auth=False)
    assert r.json()["csrf_token"] == csrf
    # A mutating call through the cookie needs the CSRF token.
    r = daemon.request("POST", "/api/v1/stores", {"name": "viacookie", "engine": "woocommerce"}, headers=h, auth=False)
    assert r.status == 403 and error_of(r) == "csrf_failed"
    r = daemon.request("POST", "/api/v1/stores", {"name": "viacookie", "engine": "woocommerce"},
                       headers=dict(h, **{"X-CSRF-Token": "0" * len(csrf)}), auth=False)
    assert r.status == 403
    r = daemon.request("POST", "/api/v1/stores", {"name": "viacookie", "engine": "woocommerce"},
                       headers=dict(h, **{"X-CSRF-Token": csrf}), auth=False)
    assert r.status == 202 and r.json()["owner"] == "admin"
    r = daemon.request("DELETE", "/api/v1/session", headers=dict(h, **{"X-CSRF-Token": csrf}), auth=False)
    assert r.status == 204
    assert "Max-Age=0" in r.header("Set-Cookie") or "sa_session=;" in r.header("Set-Cookie")
    assert daemon.request("GET", "/api/v1/stores", headers=h, auth=False).status == 401


def test_metrics_and_platform(daemon):
    create(daemon, "m1")
    daemon.request("GET", "/api/v1/stores/ffffffffffffffff")
    r = daemon.request("GET", "/metrics")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain")
    text = r.body.decode()
    assert 'storeagent_http_requests_total{method="POST",route="/api/v1/stores",code="202"} 1' in text
    assert 'route="/api/v1/stores/{id}",code="404"' in text
    assert 'storeagent_http_request_duration_seconds_bucket{method="POST",route="/api/v1/stores",code="202",le="+Inf"} 1' in text
    assert 'storeagent_stores{status="PROVISIONING"} 1' in text
    assert 'storeagent_task_duration_seconds_count{kind="create"}' in text

    p = daemon.request("GET", "/api/v1/platform").json()
    assert p["stores_by_status"]["PROVISIONING"] == 1
    assert p["limits"]["max_stores"] == {"limit": 50, "used": 1}
    assert p["limits"]["creates_per_hour"]["used"] == 1
    assert p["limits"]["requests_per_window"]["limit"] == 100
    assert p["cluster"]["reachable"] is False


def test_stream_delivers_changes(daemon):
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
    s.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {daemon.token}\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    assert b"200 OK" in buf.split(b"\r\n")[0]
    assert b"text/event-stream" in buf
    t0 = time.time()
    r = create(daemon, "live")
    sid = r.json()["id"]
    while f'"id":"{sid}"'.encode() not in buf:
        chunk = s.recv(4096)
        assert chunk, buf
        buf += chunk
    # Pushed when it happens, not held until the next 15 s ping (the bound is loose on
    # purpose: it only has to tell the two apart on a busy machine).
    assert time.time() - t0 < 10
    assert b"event: store" in buf
    s.close()


def test_access_log_fields_and_no_secrets(daemon):
    create(daemon, "logged")
    daemon.request("POST", "/api/v1/session", {"token": daemon.token}, auth=False)
    recs = daemon.log_records()
    access = [r for r in recs if r.get("http_route") == "/api/v1/stores" and r.get("http_method") == "POST"]
    assert access and access[0]["http_status"] == "202" and access[0]["actor"] == "admin"
    assert access[0]["request_id"] and "duration_ms" in access[0]
    assert any(r.get("store_id") and r.get("action") == "store.create" for r in recs)
    assert daemon.token not in daemon.logs()
    assert daemon.token[3:] not in daemon.logs()


def test_static_files_and_traversal(daemon_factory, tmp_path):
    d = daemon_factory(start=False)
    web = d.config["web_root"]
    os.makedirs(os.path.join(web, "assets"))
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<!doctype html><title>storeagent</title>")
    with open(os.path.join(web, "assets", "app-1a2b3c.js"), "w") as f:
        f.write("console.log(1)")
    with open(os.path.join(d.dir, "secret.txt"), "w") as f:
        f.write("TOPSECRET")
    os.symlink(os.path.join(d.dir, "secret.txt"), os.path.join(web, "link.txt"))
    d.start()

    r = d.request("GET", "/", auth=False)
    assert r.status == 200 and b"<title>storeagent" in r.body
    assert r.header("Content-Type").startswith("text/html")
    assert r.header("Cache-Control") == "no-cache"
    r = d.request("GET", "/assets/app-1a2b3c.js", auth=False)
    assert r.status == 200 and r.header("Content-Type").startswith("text/javascript")
    assert "immutable" in r.header("Cache-Control")
    r = d.request("GET", "/stores/abc", auth=False)  # a client-side route
    assert r.status == 200 and b"<title>storeagent" in r.body
    assert d.request("GET", "/assets/missing.js", auth=False).status == 404
    for evil in ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt",
                 "//etc/passwd", "/etc/passwd", "/link.txt", "/%2Fetc%2Fpasswd"]:
        r = d.request("GET", evil, auth=False)
        assert b"TOPSECRET" not in r.body and b"root:" not in r.body, evil
        assert r.status in (400, 404) or b"<title>storeagent" in r.body, (evil, r)
    r = d.request("GET", "/%2e%2e/secret.txt", auth=False)
    assert r.status == 400


def test_static_files_compressed_for_clients_that_take_them(daemon_factory):
    """The dashboard's build writes .gz and .br copies of its text files (web/build-dist.sh); the
    daemon serves the copy a client's Accept-Encoding admits, with Content-Encoding and Vary, and the
    file itself to a client that takes neither."""
    d = daemon_factory(start=False)
    web = d.config["web_root"]
    os.makedirs(os.path.join(web, "assets"))
    js = ("export const stores = [" + ",".join(f'"store-{i}"' for i in range(400)) + "];\n").encode()
    path = os.path.join(web, "assets", "app-9f8e7d.js")
    with open(path, "wb") as f:
        f.write(js)
    with open(path + ".gz", "wb") as f:
        f.write(gzip.compress(js, mtime=0))
    subprocess.run(["brotli", "-k", "-f", path], check=True)
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<!doctype html><title>storeagent</title>")
    d.start()

    def get(accept):
        return d.request("GET", "/assets/app-9f8e7d.js", auth=False,
                         headers={"Accept-Encoding": accept} if accept is not None else {})

    r = get("gzip, deflate, br")
    assert r.status == 200 and r.header("Content-Encoding") == "br", r
    assert subprocess.run(["brotli", "-d", "-c"], input=r.body, capture_output=True, check=True).stdout == js
    assert r.header("Content-Type").startswith("text/javascript")
    assert r.header("Vary") == "Accept-Encoding" and "immutable" in r.header("Cache-Control")
    assert len(r.body) < len(js) // 3

    r = get("gzip")
    assert r.header("Content-Encoding") == "gzip" and gzip.decompress(r.body) == js
    r = get("br;q=0, gzip;q=0.5")
    assert r.header("Content-Encoding") == "gzip" and gzip.decompress(r.body) == js
    for accept in (None, "identity", "gzip;q=0, br;q=0.0", "deflate"):
        r = get(accept)
        assert r.status == 200 and r.header("Content-Encoding") is None and r.body == js, accept
        assert r.header("Vary") == "Accept-Encoding"
    r = get("*")
    assert r.header("Content-Encoding") == "br"
    # No copy of index.html: the file itself, whatever the client takes.
    r = d.request("GET", "/", auth=False, headers={"Accept-Encoding": "gzip, br"})
    assert r.status == 200 and r.header("Content-Encoding") is None and b"<title>storeagent" in r.body


def test_sigterm_stops_promptly(daemon):
    create(daemon, "x1")
    t0 = time.time()
    assert daemon.stop() == 0
    assert time.time() - t0 < 10
    assert "storeagentd stopped." in daemon.logs()


def test_account_names_with_a_colon_are_reachable(daemon):
    """POST /api/v1/accounts takes ':' in a name (account_name_is_valid); the route matcher used to
    refuse it in the path, so such an account could never be read, changed or given a token."""
    assert daemon.request("POST", "/api/v1/accounts", {"name": "team:a", "role": "tenant"}).status == 201
    r = daemon.request("GET", "/api/v1/accounts/team:a")
    assert r.status == 200 and r.json()["name"] == "team:a", r
    assert daemon.request("PATCH", "/api/v1/accounts/team:a", {"max_stores": 3}).json()["max_stores"] == 3
    assert daemon.request("POST", "/api/v1/accounts/team:a/tokens", {"name": "t"}).status == 201
    assert daemon.request("DELETE", "/api/v1/accounts/team:a/tokens/t").status == 204



@pytest.mark.parametrize("value,status", [
    ("1714564800", 200),
    ("2024-05-01T12:00:00Z", 200),
    ("2024-05-01T12:00:00.250Z", 200),
    # What strptime() alone let through, and the spec's AuditTime pattern does not.
    ("2024-5-1T12:00:00Z", 400),
    ("%202024-05-01T12:00:00Z", 400),
    ("2024-05-01T12:00:00.Z", 400),
    ("12345678901234", 400),
])
def test_audit_times_are_what_the_spec_says(daemon, value, status):
    r = daemon.request("GET", f"/api/v1/audit?since={value}")
    assert r.status == status, r
