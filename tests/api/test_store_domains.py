# SPDX-License-Identifier: Apache-2.0
"""A store's own domains through the REST API: what is refused and why, who may see them, and what the
chart receives.

The cluster and helm are the stand-ins of fakecluster.py: its helm keeps the values file each run was given,
which is what the chart would receive. tests/integration/test_domains.py applies them to a real release with
cert-manager issuing the certificates.
"""

import os
import subprocess

import pytest

from fakecluster import FakeCluster
from tenancy import create_store, error_of, tenant
from test_races import STORECTL, private_bus  # noqa: F401 (a fixture)

STORES = "/api/v1/stores"
ROOMY = {"limits": {"creates_per_hour": 1000, "requests_per_window": 100000, "max_pending_tasks": 1000,
                    "max_stores": 1000},
         "stores": {"base_domain": "shops.test", "domains": {"max_per_store": 2}}}


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


def domains(d, sid, auth=True):
    r = d.request("GET", f"{STORES}/{sid}/domains", auth=auth)
    assert r.status == 200, r
    return r.json()


def add(d, sid, domain, auth=True, **kw):
    return d.request("POST", f"{STORES}/{sid}/domains", {"domain": domain, **kw}, auth=auth)


def test_bad_host_names_are_refused_with_the_reason(daemon):
    sid = daemon.request("POST", STORES, {"name": "checked", "engine": "woocommerce"}).json()["id"]
    bad = [
        ("Shop.Example.com", "lowercase"),
        ("*.example.com", "wildcard"),
        ("192.168.1.10", "IP address"),
        ("localhost", "full host name"),
        ("shop..example.com", "labels"),
        ("-shop.example.com", "'-'"),
        ("shop.example.com.", "labels"),
        ("shop_1.example.com", "a-z, 0-9"),
        ("x" * 64 + ".example.com", "labels"),
        (("a" * 60 + ".") * 4 + "example.com", "253"),
        ("", "1 to 253"),
    ]
    for domain, why in bad:
        r = add(daemon, sid, domain)
        assert r.status == 400 and error_of(r) == "invalid_request", (domain, r)
        assert why in r.json()["error"]["message"], (domain, r.json())
    for body, code in [({}, "missing_field"), ({"domain": 7}, "invalid_type"),
                       ({"domain": "shop.example.com", "primary": "yes"}, "invalid_type"),
                       ({"domain": "shop.example.com", "www": True}, "unknown_field")]:
        r = daemon.request("POST", f"{STORES}/{sid}/domains", body)
        assert r.status == 400 and error_of(r) == code, (body, r)
    # A good name, but the store is still being made: nothing is kept.
    r = add(daemon, sid, "shop.example.com")
    assert r.status == 409 and error_of(r) == "operation_in_progress", r
    assert domains(daemon, sid) == {"items": [], "primary": None}
    assert daemon.request("GET", f"{STORES}/ffffffffffffffff/domains").status == 404


def test_domains_reach_the_chart_values_and_the_url_follows_the_primary(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    sid = d.request("POST", STORES, {"name": "shop", "engine": "woocommerce"}).json()["id"]
    wait_ready(d, sid)
    assert store(d, sid)["url"] == "http://shop.shops.test"
    assert "domains" not in cluster.values(cluster.wait_entered("upgrade", 1))

    r = add(d, sid, "shop.example.com")
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r
    wait_ready(d, sid)
    assert cluster.values(cluster.wait_entered("upgrade", 2))["domains"] == {"extra": ["shop.example.com"]}
    listed = domains(d, sid)
    assert listed["primary"] is None
    assert [(i["domain"], i["primary"]) for i in listed["items"]] == [("shop.example.com", False)]
    assert store(d, sid)["url"] == "http://shop.shops.test"

    # Added as the primary one: the chart's URL host and the store's url follow it.
    r = add(d, sid, "www.shop.shops.test", primary=True)  # under the store's own host: its own
    assert r.status == 202, r
    wait_ready(d, sid)
    values = cluster.values(cluster.wait_entered("upgrade", 3))
    assert values["domains"] == {"extra": ["shop.example.com", "www.shop.shops.test"],
                                 "primary": "www.shop.shops.test"}, values
    assert store(d, sid)["url"] == "http://www.shop.shops.test"

    r = d.request("POST", f"{STORES}/{sid}/primary-domain", {"domain": "shop.example.com"})
    assert r.status == 202, r
    wait_ready(d, sid)
    assert cluster.values(cluster.wait_entered("upgrade", 4))["domains"]["primary"] == "shop.example.com"
    assert store(d, sid)["url"] == "http://shop.example.com"
    assert domains(d, sid)["primary"] == "shop.example.com"

    # Removing the primary domain gives the store its own host back.
    r = d.request("DELETE", f"{STORES}/{sid}/domains/shop.example.com")
    assert r.status == 202, r
    wait_ready(d, sid)
    assert cluster.values(cluster.wait_entered("upgrade", 5))["domains"] == {"extra": ["www.shop.shops.test"]}
    assert store(d, sid)["url"] == "http://shop.shops.test"
    r = d.request("DELETE", f"{STORES}/{sid}/domains/shop.example.com")
    assert r.status == 404 and error_of(r) == "domain_not_found", r
    r = d.request("POST", f"{STORES}/{sid}/primary-domain", {"domain": "nowhere.example.com"})
    assert r.status == 404 and error_of(r) == "domain_not_found", r
    r = d.request("POST", f"{STORES}/{sid}/primary-domain", {"domain": None})
    assert r.status == 202, r
    wait_ready(d, sid)
    events = [e["action"] for e in d.request("GET", f"{STORES}/{sid}/events?limit=500").json()["items"]]
    for action in ("store.domain.add", "store.domain.primary", "store.domain.remove"):
        assert action in events, events


def test_taken_platform_and_too_many_domains_are_refused(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    one = d.request("POST", STORES, {"name": "one", "engine": "woocommerce"}).json()["id"]
    two = d.request("POST", STORES, {"name": "two", "engine": "woocommerce"}).json()["id"]
    wait_ready(d, one)
    wait_ready(d, two)
    assert add(d, one, "one.example.com").status == 202
    wait_ready(d, one)

    r = add(d, two, "one.example.com")
    assert r.status == 409 and error_of(r) == "domain_taken", r
    assert "Another store" in r.json()["error"]["message"]
    r = add(d, one, "one.example.com")
    assert r.status == 409 and error_of(r) == "domain_taken" and "already has" in r.json()["error"]["message"], r
    # Hosts under the platform's domain: another store's, the platform's own, and the store's own host.
    for host, why in [("one.shops.test", "under the platform's domain"), ("shops.test", "platform's domain"),
                      ("x.one.shops.test", "under the platform's domain"), ("two.shops.test", "own host")]:
        r = add(d, two, host)
        assert r.status == 400 and error_of(r) == "invalid_request" and why in r.json()["error"]["message"], \
            (host, r.json())
    assert store(d, two)["status"] == "READY"  # nothing was queued

    # stores.domains.max_per_store (2 here).
    assert add(d, one, "www.one.example.com").status == 202
    wait_ready(d, one)
    r = add(d, one, "shop.one.example.com")
    assert r.status == 409 and error_of(r) == "domain_cap_reached", r
    assert "max_per_store" in r.json()["error"]["message"]
    assert len(domains(d, one)["items"]) == 2

    # A deleted store lets go of its domains.
    assert d.request("DELETE", f"{STORES}/{one}").status == 202
    d.wait_for(lambda: store(d, one)["status"] == "DELETED", timeout=60, what="one DELETED")
    r = add(d, two, "one.example.com")
    assert r.status == 202, r


def test_another_tenant_sees_404(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    alice, bob = tenant(d, "alice"), tenant(d, "bob")
    sid = create_store(d, "alice-shop", alice)["id"]
    wait_ready(d, sid)
    assert add(d, sid, "alice.example.com", auth=alice).status == 202
    wait_ready(d, sid)
    for method, path, body in [("GET", "domains", None), ("POST", "domains", {"domain": "bob.example.com"}),
                               ("DELETE", "domains/alice.example.com", None),
                               ("POST", "primary-domain", {"domain": "alice.example.com"})]:
        r = d.request(method, f"{STORES}/{sid}/{path}", body, auth=bob)
        assert r.status == 404 and error_of(r) == "not_found", (method, path, r)
        assert r.json()["error"]["message"] == f"No store with id '{sid}'.", r.json()
    # Bob's own store cannot take Alice's domain either, and is told only that it is taken.
    bobs = create_store(d, "bob-shop", bob)["id"]
    wait_ready(d, bobs)
    r = add(d, bobs, "alice.example.com", auth=bob)
    assert r.status == 409 and error_of(r) == "domain_taken", r
    assert r.json()["error"]["message"] == "Another store serves alice.example.com.", r.json()
    assert [i["domain"] for i in domains(d, sid, auth=alice)["items"]] == ["alice.example.com"]
    assert store(d, sid)["status"] == "READY"


def test_storectl_domain(daemon_factory, cluster, private_bus):
    env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = daemon_factory({**ROOMY, **cluster.config()}, env=env)
    run_env = dict(os.environ, **env)

    def storectl(*args):
        return subprocess.run([STORECTL, *args], capture_output=True, text=True, env=run_env, timeout=120)

    d.wait_for(lambda: storectl("list").returncode == 0, timeout=15, what="the daemon on the private bus")
    sid = d.request("POST", STORES, {"name": "cli", "engine": "woocommerce"}).json()["id"]
    wait_ready(d, sid)

    p = storectl("domain", "add", "cli", "Shop.Example.com")
    assert p.returncode == 2 and "lowercase" in p.stderr, (p.returncode, p.stderr)
    p = storectl("domain", "add", "cli", "shop.example.com", "--wait")
    assert p.returncode == 0, (p.stdout, p.stderr)
    p = storectl("domain", "primary", "cli", "shop.example.com", "--wait")
    assert p.returncode == 0, (p.stdout, p.stderr)
    p = storectl("domain", "list", "cli")
    assert p.returncode == 0 and p.stdout == "shop.example.com  (primary)\n", p.stdout
    assert cluster.values(cluster.wait_entered("upgrade", 3))["domains"] == {
        "extra": ["shop.example.com"], "primary": "shop.example.com"}
    assert store(d, sid)["url"] == "http://shop.example.com"
    p = storectl("domain", "rm", "cli", "nowhere.example.com")
    assert p.returncode == 3 and "no domain" in p.stderr, (p.returncode, p.stderr)
    p = storectl("domain", "rm", "cli", "shop.example.com", "--wait")
    assert p.returncode == 0, (p.stdout, p.stderr)
    p = storectl("domain", "list", "cli")
    assert p.returncode == 0 and p.stdout == "(the store's own host is primary)\n", p.stdout
    p = storectl("domain", "move", "cli", "x.example.com")
    assert p.returncode == 2 and "Usage: storectl domain" in p.stderr, (p.returncode, p.stderr)


def test_the_daemons_own_hosts_are_no_stores(daemon_factory, cluster):
    """The names the daemon itself answers to (listen.hostnames: its dashboard and API) cannot become a store's
    domain: a merchant could otherwise take the platform's own address."""
    d = daemon_factory({**ROOMY, **cluster.config(),
                        "listen": {"hostnames": ["panel.example.com", "Agent.Example.org"]}})
    sid = d.request("POST", STORES, {"name": "shop", "engine": "woocommerce"}).json()["id"]
    wait_ready(d, sid)
    for host in ("panel.example.com", "agent.example.org"):
        r = add(d, sid, host)
        assert r.status == 409 and error_of(r) == "domain_taken", r
        assert "platform's own host (listen.hostnames)" in r.json()["error"]["message"], r.json()
    assert domains(d, sid)["items"] == []
    assert store(d, sid)["status"] == "READY"  # nothing was queued
    assert add(d, sid, "www.panel.example.com").status == 202
