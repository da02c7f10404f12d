# SPDX-License-Identifier: Apache-2.0
"""What the daemon shows of itself to whoever reaches its port: readiness without details for
anyone but an admin, no answer to host names it does not serve (DNS rebinding), and a session
cookie that is Secure exactly when the browser came over HTTPS through a trusted proxy."""

import pytest

from tenancy import error_of, tenant


def test_readyz_tells_anonymous_callers_only_ready_or_not(daemon):
    # No cluster is configured here, so the daemon is not ready; anybody may learn that much.
    r = daemon.request("GET", "/readyz", auth=False)
    assert r.status == 503
    assert r.json() == {"status": "not ready"}
    assert b"no-cluster.yaml" not in r.body
    # A token that is not valid is nobody: the same plain answer, not a 401.
    r = daemon.request("GET", "/readyz", auth="sa_" + "x" * 40)
    assert r.status == 503 and r.json() == {"status": "not ready"}


def test_readyz_details_are_for_admins_only(daemon):
    r = daemon.request("GET", "/readyz")
    assert r.status == 503
    body = r.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["cluster"]["ok"] is False
    assert "no-cluster.yaml" in body["checks"]["cluster"]["detail"]

    t = tenant(daemon, "merchant")
    r = daemon.request("GET", "/readyz", auth=t)
    assert r.status == 503
    assert r.json() == {"status": "not ready"}


ALLOWED_HOSTS = ["127.0.0.1", "127.0.0.1:{port}", "localhost", "localhost:{port}", "LocalHost:{port}",
                 "[::1]", "[::1]:{port}"]


@pytest.mark.parametrize("host", ALLOWED_HOSTS)
def test_hosts_the_daemon_serves_are_answered(daemon, host):
    h = {"Host": host.format(port=daemon.port)}
    assert daemon.request("GET", "/healthz", headers=h, auth=False).status == 200
    assert daemon.request("GET", "/api/v1/stores", headers=h).status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost.evil.example",
                                  "127.0.0.1.evil.example", "agent.example.com:{port}", "localhost:80x"])
def test_other_hosts_are_misdirected(daemon, host):
    h = {"Host": host.format(port=daemon.port)}
    for path, auth in (("/healthz", False), ("/readyz", False), ("/api/v1/stores", True), ("/", False)):
        r = daemon.request("GET", path, headers=h, auth=auth)
        assert r.status == 421, (path, r)
        assert error_of(r) == "misdirected_request"
        assert "listen.hostnames" in r.json()["error"]["message"]


def test_browser_on_a_rebound_name_cannot_sign_in_or_create(daemon):
    # What a page on evil.example sends after pointing its own name at 127.0.0.1: its name as Host.
    browser = {"Host": f"evil.example:{daemon.port}", "Origin": f"http://evil.example:{daemon.port}",
               "User-Agent": "Mozilla/5.0", "Sec-Fetch-Site": "same-origin"}
    r = daemon.request("POST", "/api/v1/session", {"token": daemon.token}, headers=browser, auth=False)
    assert r.status == 421 and error_of(r) == "misdirected_request"
    assert r.header("Set-Cookie") is None
    r = daemon.request("POST", "/api/v1/stores", {"name": "rebound", "engine": "woocommerce"}, headers=browser)
    assert r.status == 421
    assert daemon.request("GET", "/api/v1/stores").json()["items"] == []


def test_configured_host_names_are_served(daemon_factory):
    d = daemon_factory(config={"listen": {"hostnames": ["agent.example.com", "Shop-Admin.example.org"]}})
    for host in ("agent.example.com", "agent.example.com:443", "shop-admin.example.org", "agent.example.com."):
        assert d.request("GET", "/healthz", headers={"Host": host}, auth=False).status == 200, host
    assert d.request("GET", "/healthz", headers={"Host": "example.com"}, auth=False).status == 421
    # One name may also be given as a plain string.
    d2 = daemon_factory(config={"listen": {"hostnames": "agent.example.com"}})
    assert d2.request("GET", "/healthz", headers={"Host": "agent.example.com"}, auth=False).status == 200
    assert d2.request("GET", "/healthz", headers={"Host": "other.example.com"}, auth=False).status == 421


def session_cookie(d, headers=None):
    r = d.request("POST", "/api/v1/session", {"token": d.token}, headers=headers, auth=False)
    assert r.status == 200, r
    cookie = r.header("Set-Cookie")
    attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
    assert "httponly" in attrs and "samesite=strict" in attrs, cookie
    return (cookie, r.json()["csrf_token"]), attrs


def signout_attrs(d, session, headers=None):
    cookie, csrf = session
    h = dict(headers or {}, Cookie=cookie.split(";")[0])
    h["X-CSRF-Token"] = csrf
    r = d.request("DELETE", "/api/v1/session", headers=h, auth=False)
    assert r.status == 204, r
    return [a.strip().lower() for a in r.header("Set-Cookie").split(";")[1:]]


HTTPS = {"X-Forwarded-Proto": "https"}


def test_cookie_is_secure_behind_a_trusted_https_proxy(daemon):
    cookie, attrs = session_cookie(daemon)
    assert "secure" not in attrs  # plain HTTP: a Secure cookie would never come back
    cookie, attrs = session_cookie(daemon, HTTPS)
    assert "secure" in attrs
    assert "secure" in signout_attrs(daemon, cookie, HTTPS)
    _, attrs = session_cookie(daemon, {"X-Forwarded-Proto": "http"})
    assert "secure" not in attrs


def test_forwarded_proto_of_an_untrusted_peer_is_ignored(daemon_factory):
    # This test can only be a loopback peer: trust another address, and 127.0.0.1 is untrusted.
    d = daemon_factory(config={"listen": {"trusted_proxies": ["127.0.0.2", "::1"]}})
    _, attrs = session_cookie(d, HTTPS)
    assert "secure" not in attrs
    # Listed (anywhere in the list), the same peer is believed.
    d2 = daemon_factory(config={"listen": {"trusted_proxies": ["10.0.0.1", "127.0.0.1"]}})
    _, attrs = session_cookie(d2, HTTPS)
    assert "secure" in attrs


@pytest.mark.parametrize("mode,header,secure", [("always", None, True), ("never", HTTPS, False),
                                                ("auto", None, False), ("auto", HTTPS, True)])
def test_secure_cookies_switch(daemon_factory, mode, header, secure):
    d = daemon_factory(config={"listen": {"secure_cookies": mode}})
    _, attrs = session_cookie(d, header)
    assert ("secure" in attrs) == secure


def test_list_keys_are_checked(daemon_factory):
    d = daemon_factory(config={"listen": {"hostnames": ["two words"]}}, token=False, start=False)
    p = d.cli("--check-config", check=False)
    assert p.returncode != 0 and "listen.hostnames" in p.stderr
    d = daemon_factory(config={"listen": {"hostnames": ["a.example", "b.example"]}}, token=False, start=False)
    p = d.cli("--check-config")
    assert 'hostnames: ["a.example", "b.example"]' in p.stdout


def test_ipv6_proxy_is_matched_by_its_whole_address(daemon_factory):
    """ulfius keeps half of an IPv6 peer's address; ::1 must not be confused with ::2 (same /64)."""
    import http.client
    import json
    import socket

    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")

    def attrs_over_v6(d):
        conn = http.client.HTTPConnection("::1", d.port, timeout=10)
        try:
            conn.request("POST", "/api/v1/session", body=json.dumps({"token": d.token}),
                         headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"})
            r = conn.getresponse()
            assert r.status == 200, r.read()
            return [a.strip().lower() for a in r.getheader("Set-Cookie").split(";")[1:]]
        finally:
            conn.close()

    for trusted, secure in ((["::1"], True), (["::2", "127.0.0.1"], False)):
        d = daemon_factory(config={"listen": {"address": "::1", "trusted_proxies": trusted}}, start=False)
        d.url = f"http://[::1]:{d.port}"
        d.start(wait=False)
        d.wait_for(lambda: _v6_healthy(d), timeout=10, what="daemon on ::1")
        assert ("secure" in attrs_over_v6(d)) == secure, trusted


def _v6_healthy(d):
    import http.client
    conn = http.client.HTTPConnection("::1", d.port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()
