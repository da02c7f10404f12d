# SPDX-License-Identifier: Apache-2.0
"""The platform page's numbers (GET /api/v1/platform/stats): stores by status over time, the
provisioning time of the last creates, and the room left on the nodes, for admins only.

The cluster and helm are the stand-ins of fakecluster.py (stores become READY at the first look, one
large node); the stores are made and deleted through the API as a user would.
"""

import os
import sqlite3
import subprocess
from datetime import datetime

import pytest

from fakecluster import FakeCluster
import schema_history as H
from tenancy import error_of, tenant
from test_database import db_path_of, load_fixture
from test_races import STORECTL, private_bus  # noqa: F401 (a fixture)

STORES = "/api/v1/stores"
STATS = "/api/v1/platform/stats"
ROOMY = {"limits": {"creates_per_hour": 1000, "requests_per_window": 100000, "max_pending_tasks": 1000,
                    "max_stores": 1000}, "platform": {"max_creates": 20}}


@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(str(tmp_path / "cluster"))
    yield c
    c.close()


def status(d, sid):
    return d.request("GET", f"{STORES}/{sid}").json()["status"]


def seconds(t):
    return datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()


def nearest_rank(values, pct):
    v = sorted(values)
    return v[max((pct * len(v) + 99) // 100, 1) - 1]


def test_stats_count_the_stores_made_through_the_api(daemon_factory, cluster):
    # A usage round every second: the status changes are pruned after each, and must outlive that.
    d = daemon_factory({**ROOMY, **cluster.config(), "usage": {"sample_interval": 1}})
    ids = [d.request("POST", STORES, {"name": f"shop-{i}", "engine": "woocommerce"}).json()["id"] for i in range(3)]
    for sid in ids:
        d.wait_for(lambda: status(d, sid) == "READY", timeout=60, what=f"{sid} READY")
    assert d.request("DELETE", f"{STORES}/{ids[2]}").status == 202
    d.wait_for(lambda: status(d, ids[2]) == "DELETED", timeout=60, what="shop-2 DELETED")
    cluster.hold()
    held = d.request("POST", STORES, {"name": "shop-held", "engine": "woocommerce"}).json()["id"]
    try:
        cluster.wait_entered("upgrade", 4)
        d.wait_for(lambda: len(d.request("GET", f"{STORES}/{ids[0]}/usage").json()["samples"]) >= 2, timeout=60,
                   what="two usage rounds (each prunes the status changes)")
        r = d.request("GET", STATS)
        assert r.status == 200, r
        s = r.json()

        # Now: two READY (the third was deleted), one still PROVISIONING; a day ago none of them.
        h = s["stores_by_status"]
        assert h["window_seconds"] == 86400 and len(h["points"]) == 48
        assert h["points"][-1]["counts"] == {"PROVISIONING": 1, "READY": 2, "FAILED": 0, "UPGRADING": 0,
                                             "DELETING": 0}
        assert set(h["points"][0]["counts"].values()) == {0}
        assert h["complete_since"] is None
        assert seconds(h["points"][-1]["at"]) - seconds(h["points"][0]["at"]) == pytest.approx(86400, abs=1)

        # The three creates that became READY, newest first, each from its create to its store.ready event.
        p = s["provisioning"]
        assert [c["id"] for c in p["creates"]] == ids[::-1] and p["requested"] == 20
        for c in p["creates"]:
            assert c["created_at"] == d.request("GET", f"{STORES}/{c['id']}").json()["created_at"]
            events = d.request("GET", f"{STORES}/{c['id']}/events?limit=500").json()["items"]
            ready = [e["time"] for e in events if e["action"] == "store.ready"]
            assert seconds(c["ready_at"]) == int(seconds(ready[0])), (c, ready)
            assert abs(c["seconds"] - (seconds(c["ready_at"]) - seconds(c["created_at"]))) <= 1
        secs = [c["seconds"] for c in p["creates"]]
        assert p["p50_seconds"] == nearest_rank(secs, 50) and p["p95_seconds"] == nearest_rank(secs, 95)

        # Room left: the capacity model the panel shows (the stand-in helm renders no chart, so the model
        # says why it is unknown; tests/integration/test_capacity.py reads it from a real cluster).
        assert s["capacity"] == d.request("GET", "/api/v1/platform").json()["capacity"]
        assert "known" in s["capacity"]

        # The last N creates, and the window and points asked for.
        one = d.request("GET", f"{STATS}?creates=1&window=3600&points=2").json()
        assert [c["id"] for c in one["provisioning"]["creates"]] == [ids[2]]
        assert one["provisioning"]["p50_seconds"] == one["provisioning"]["creates"][0]["seconds"]
        assert len(one["stores_by_status"]["points"]) == 2
        assert one["stores_by_status"]["points"][0]["counts"]["READY"] == 0
        assert one["stores_by_status"]["points"][1]["counts"]["READY"] == 2
    finally:
        cluster.release(4)
    d.wait_for(lambda: status(d, held) == "READY", timeout=60, what="shop-held READY")


@pytest.mark.parametrize("query", ["creates=0", "creates=21", "window=60", "window=x", "points=1", "points=501"])
def test_stats_refuse_what_is_out_of_range(daemon_factory, query):
    d = daemon_factory(ROOMY)
    r = d.request("GET", f"{STATS}?{query}")
    assert r.status == 400 and error_of(r) == "invalid_parameter", r


def test_stats_are_for_admins_only(daemon):
    token = tenant(daemon, "acme")
    r = daemon.request("GET", STATS, auth=token)
    assert r.status == 403 and error_of(r) == "forbidden", r
    empty = daemon.request("GET", STATS).json()
    assert empty["provisioning"] == {"creates": [], "p50_seconds": None, "p95_seconds": None, "requested": 50}
    assert empty["capacity"]["known"] is False


def test_stats_of_a_database_from_an_older_schema(daemon_factory):
    """A database of schema 4 migrated to today's: its stores count from now on (their earlier changes
    were never kept), and their timelines give the provisioning times at once."""
    d = daemon_factory(token=False, start=False)
    load_fixture(db_path_of(d), 4)
    d.token = H.TOKEN_OPS
    d.start()
    assert sqlite3.connect(db_path_of(d)).execute("SELECT count(*) FROM store_transitions").fetchone()[0] == 0
    s = d.request("GET", STATS).json()
    statuses = [st for _, _, _, st in H.STORES + [H.ACME_STORE] if st != "DELETED"]
    assert s["stores_by_status"]["points"][-1]["counts"] == {
        k: statuses.count(k) for k in ("PROVISIONING", "READY", "FAILED", "UPGRADING", "DELETING")}
    ready = [c for c in s["provisioning"]["creates"] if c["id"] == "00000000000000a1"]
    assert ready and ready[0]["seconds"] == 5 * 60, s["provisioning"]


def test_storectl_platform(daemon_factory, cluster, private_bus):
    env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = daemon_factory({**ROOMY, **cluster.config()}, env=env)
    run_env = dict(os.environ, **env)

    def storectl(*args):
        return subprocess.run([STORECTL, *args], capture_output=True, text=True, env=run_env, timeout=120)

    d.wait_for(lambda: storectl("list").returncode == 0, timeout=15, what="the daemon on the private bus")
    sid = d.request("POST", STORES, {"name": "cli", "engine": "woocommerce"}).json()["id"]
    d.wait_for(lambda: status(d, sid) == "READY", timeout=60, what="cli READY")
    api = d.request("GET", f"{STATS}?creates=5").json()["provisioning"]
    p = storectl("platform", "--limit", "5")
    assert p.returncode == 0, (p.stdout, p.stderr)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["STATUS", "NOW", "PEAK"] and lines[2].split() == ["READY", "1", "1"], p.stdout
    assert f"last 1 creates: p50 {api['p50_seconds']} s, p95 {api['p95_seconds']} s" in p.stdout, p.stdout
    assert lines[-1].split()[0] == "cli", p.stdout
    p = storectl("platform", "--json", "--limit", "21")
    assert p.returncode != 0 and "creates 1 to 20" in p.stderr, (p.stdout, p.stderr)
