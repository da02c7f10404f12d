# SPDX-License-Identifier: Apache-2.0
"""A store's settings (title, currency, country, administrator e-mail) and its redeploy, through the REST API.

The cluster and helm are the stand-ins of fakecluster.py: its helm keeps the values file each run was given,
which is what the chart would receive. tests/integration/test_settings.py applies them to a real release.
"""

import os
import subprocess

import pytest

from fakecluster import FakeCluster
from tenancy import create_store, error_of, tenant
from test_races import STORECTL, private_bus  # noqa: F401 (a fixture)

STORES = "/api/v1/stores"
ROOMY = {"limits": {"creates_per_hour": 1000, "requests_per_window": 100000, "max_pending_tasks": 1000,
                    "max_stores": 1000}}


@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(str(tmp_path / "cluster"))
    yield c
    c.close()


def store(d, sid, auth=True):
    r = d.request("GET", f"{STORES}/{sid}", auth=auth)
    assert r.status == 200, r
    return r.json()


def wait_ready(d, sid):
    d.wait_for(lambda: store(d, sid)["status"] == "READY", timeout=60, what=f"{sid} READY")


def test_settings_are_checked_before_anything_changes(daemon):
    sid = daemon.request("POST", STORES, {"name": "checked", "engine": "woocommerce"}).json()["id"]
    bad = [
        ({"currency": "usd"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"country": "Germany"}, "country"),
        ({"country": "US:"}, "country"),
        ({"admin_email": "owner"}, "admin_email"),
        ({"admin_email": "owner@example"}, "admin_email"),
        ({"admin_email": "own er@example.com"}, "admin_email"),
        ({"title": "two\nlines"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 7}, "title"),
    ]
    for body, field in bad:
        r = daemon.request("PATCH", f"{STORES}/{sid}/settings", body)
        assert r.status == 400 and error_of(r) == "invalid_request", (body, r)
        assert field in r.json()["error"]["message"], (body, r.json())
    r = daemon.request("PATCH", f"{STORES}/{sid}/settings", {"theme": "dark"})
    assert r.status == 400 and error_of(r) == "unknown_field", r
    r = daemon.request("PATCH", f"{STORES}/{sid}/settings", {})
    assert r.status == 400 and error_of(r) == "missing_field", r
    # Valid, and as long as the chart allows (200 characters, not bytes), but the store is still being made.
    r = daemon.request("PATCH", f"{STORES}/{sid}/settings", {"title": "é" * 200, "country": "US:CA"})
    assert r.status == 409, r
    r = daemon.request("POST", f"{STORES}/{sid}/redeploy")
    assert r.status == 409, r
    # Nothing was kept of any of it.
    assert daemon.request("GET", f"{STORES}/{sid}/settings").json() == {}
    assert daemon.request("GET", f"{STORES}/ffffffffffffffff/settings").status == 404


def test_settings_reach_the_chart_values_with_the_same_chart_version(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    sid = d.request("POST", STORES, {"name": "shop", "engine": "woocommerce"}).json()["id"]
    wait_ready(d, sid)
    version = store(d, sid)["chart_version"]
    first = cluster.values(cluster.wait_entered("upgrade", 1))
    assert "title" not in first.get("store", {}) and first["admin"]["email"].startswith("admin@shop.")

    r = d.request("PATCH", f"{STORES}/{sid}/settings",
                  {"title": "Corner Shop", "currency": "EUR", "country": "DE", "admin_email": "owner@example.com"})
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r
    assert d.request("GET", f"{STORES}/{sid}/settings").json() == {
        "title": "Corner Shop", "currency": "EUR", "country": "DE", "admin_email": "owner@example.com"}
    wait_ready(d, sid)
    values = cluster.values(cluster.wait_entered("upgrade", 2))
    assert values["store"] == {"title": "Corner Shop", "currency": "EUR", "country": "DE"}, values
    assert values["admin"]["email"] == "owner@example.com"
    assert store(d, sid)["chart_version"] == version
    events = [e["action"] for e in d.request("GET", f"{STORES}/{sid}/events?limit=500").json()["items"]]
    assert "store.settings" in events

    # null: back to the chart's default; the others stay. A redeploy applies what is kept.
    r = d.request("PATCH", f"{STORES}/{sid}/settings", {"title": None})
    assert r.status == 202, r
    wait_ready(d, sid)
    values = cluster.values(cluster.wait_entered("upgrade", 3))
    assert values["store"] == {"currency": "EUR", "country": "DE"}, values
    r = d.request("POST", f"{STORES}/{sid}/redeploy")
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r
    wait_ready(d, sid)
    values = cluster.values(cluster.wait_entered("upgrade", 4))
    assert values["store"] == {"currency": "EUR", "country": "DE"}, values
    assert store(d, sid)["chart_version"] == version


def test_another_tenant_sees_404(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    alice, bob = tenant(d, "alice"), tenant(d, "bob")
    sid = create_store(d, "alice-shop", alice)["id"]
    wait_ready(d, sid)
    for method, path, body in [("GET", "settings", None), ("PATCH", "settings", {"currency": "EUR"}),
                               ("POST", "redeploy", None)]:
        r = d.request(method, f"{STORES}/{sid}/{path}", body, auth=bob)
        assert r.status == 404 and error_of(r) == "not_found", (method, path, r)
    assert d.request("GET", f"{STORES}/{sid}/settings", auth=alice).json() == {}
    assert store(d, sid)["status"] == "READY"
    r = d.request("PATCH", f"{STORES}/{sid}/settings", {"currency": "EUR"}, auth=alice)
    assert r.status == 202, r


def test_settings_given_at_create_reach_the_first_install(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    r = d.request("POST", STORES, {"name": "born", "engine": "woocommerce", "settings": {"currency": "eur"}})
    assert r.status == 400 and error_of(r) == "invalid_request" and "currency" in r.json()["error"]["message"], r
    assert d.request("GET", STORES).json()["total"] == 0
    r = d.request("POST", STORES, {"name": "born", "engine": "woocommerce",
                                   "settings": {"title": "Born Ready", "country": "FR", "currency": None}})
    assert r.status == 202, r
    sid = r.json()["id"]
    assert d.request("GET", f"{STORES}/{sid}/settings").json() == {"title": "Born Ready", "country": "FR"}
    wait_ready(d, sid)
    values = cluster.values(cluster.wait_entered("upgrade", 1))
    assert values["store"] == {"title": "Born Ready", "country": "FR"}, values


def test_storectl_settings_and_redeploy(daemon_factory, cluster, private_bus):
    env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = daemon_factory({**ROOMY, **cluster.config()}, env=env)
    run_env = dict(os.environ, **env)

    def storectl(*args):
        return subprocess.run([STORECTL, *args], capture_output=True, text=True, env=run_env, timeout=120)

    d.wait_for(lambda: storectl("list").returncode == 0, timeout=15, what="the daemon on the private bus")
    sid = d.request("POST", STORES, {"name": "cli", "engine": "woocommerce"}).json()["id"]
    wait_ready(d, sid)

    p = storectl("settings", "cli", "--currency", "eur")
    assert p.returncode != 0 and "currency must be an ISO 4217 code" in p.stderr, (p.returncode, p.stderr)
    p = storectl("settings", "cli", "--title", "Command Line Shop", "--currency", "EUR", "--wait")
    assert p.returncode == 0, (p.stdout, p.stderr)
    p = storectl("settings", "cli")
    assert p.returncode == 0 and "Command Line Shop" in p.stdout and "EUR" in p.stdout, p.stdout
    assert "(the chart's default)" in p.stdout, p.stdout
    values = cluster.values(cluster.wait_entered("upgrade", 2))
    assert values["store"] == {"title": "Command Line Shop", "currency": "EUR"}, values

    # An empty value returns the title to the chart's default; redeploy applies the same again.
    p = storectl("settings", "cli", "--title", "", "--wait")
    assert p.returncode == 0, (p.stdout, p.stderr)
    p = storectl("redeploy", "cli", "--wait")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert cluster.values(cluster.wait_entered("upgrade", 4))["store"] == {"currency": "EUR"}
    assert store(d, sid)["status"] == "READY"
