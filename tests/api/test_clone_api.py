# SPDX-License-Identifier: Apache-2.0
"""A store made from a backup (POST /api/v1/stores with from_backup): what the edge refuses, before
anything is created.

The cluster is fakecluster.py's STAND-IN (an in-memory API server and a scripted helm): stores become
READY, but it has no pods to exec into, so every backup fails; a failed backup is what a clone must
refuse. A clone that succeeds is tests/integration/test_backups.py's (real control plane, real MariaDB).
"""

import os
import subprocess

import pytest

from fakecluster import FakeCluster
from tenancy import error_of, tenant
from test_races import ROOMY, STORECTL, STORES, private_bus, wait_status  # noqa: F401 (a fixture)


@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(str(tmp_path / "cluster"))
    yield c
    c.close()


def test_clone_refusals_create_nothing(daemon_factory, cluster, private_bus):
    bus_env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = daemon_factory({**ROOMY, **cluster.config()}, env=bus_env)
    acme = tenant(d, "acme")
    globex = tenant(d, "globex")
    r = d.request("POST", STORES, {"name": "srcshop", "engine": "woocommerce"}, auth=acme)
    assert r.status == 202, r
    sid = r.json()["id"]
    wait_status(d, sid, "READY")
    r = d.request("POST", f"{STORES}/{sid}/backups", auth=acme)
    assert r.status == 202, r
    bid = r.json()["id"]

    def failed():
        items = d.request("GET", f"{STORES}/{sid}/backups", auth=acme).json()["items"]
        return next((b for b in items if b["id"] == bid and b["status"] == "failed"), None)
    d.wait_for(failed, timeout=60, what="the backup failed (the stand-in has no pods)")

    def clone(source, backup, auth, name="cloneshop"):
        return d.request("POST", STORES, {"name": name, "engine": "woocommerce",
                                          "from_backup": {"store": source, "backup": backup}}, auth=auth)

    # A failed backup cannot be cloned: 409, and the message says why; by id or by name alike.
    for source in (sid, "srcshop"):
        r = clone(source, bid, acme)
        assert r.status == 409 and error_of(r) == "invalid_state", r
        assert "failed" in r.json()["error"]["message"] and "succeeded" in r.json()["error"]["message"], r
    # A backup the store does not have, and a store that does not exist: 404.
    r = clone(sid, "0123456789abcdef", acme)
    assert r.status == 404 and error_of(r) == "not_found", r
    assert "no backup '0123456789abcdef'" in r.json()["error"]["message"], r
    r = clone("nosuchshop", bid, acme)
    assert r.status == 404 and error_of(r) == "not_found", r
    # Another tenant's store and backup: exactly as if neither existed.
    for source, made_up in ((sid, "0" * len(sid)), ("srcshop", "nosuchshop")):
        theirs = clone(source, bid, globex)
        absent = clone(made_up, bid, globex)
        assert theirs.status == absent.status == 404, (theirs, absent)
        assert error_of(theirs) == error_of(absent) == "not_found"
        assert theirs.json()["error"]["message"] == absent.json()["error"]["message"].replace(made_up, source)
    # A from_backup that is not the object it must be: 400, whatever the rest.
    for bad, code in (("srcshop", "invalid_type"), ({"store": sid}, "invalid_type"),
                      ({"store": sid, "backup": 7}, "invalid_type"),
                      ({"store": sid, "backup": bid, "extra": 1}, "unknown_field")):
        r = d.request("POST", STORES, {"name": "cloneshop", "engine": "woocommerce", "from_backup": bad},
                      auth=acme)
        assert r.status == 400 and error_of(r) == code, (bad, r)

    # The same over D-Bus (storectl clone SOURCE BACKUP NEW-NAME, as root: an admin).
    def storectl(*args):
        return subprocess.run([STORECTL, *args], capture_output=True, text=True, env=dict(os.environ, **bus_env),
                              timeout=60)
    d.wait_for(lambda: storectl("list").returncode == 0, timeout=15, what="the daemon on the private bus")
    p = storectl("clone", "srcshop", bid, "cloneshop")
    assert p.returncode != 0 and "only from a succeeded backup" in p.stderr, (p.returncode, p.stderr)
    p = storectl("clone", "srcshop", "0123456789abcdef", "cloneshop", "--wait")
    assert p.returncode != 0 and "has no backup '0123456789abcdef'" in p.stderr, (p.returncode, p.stderr)

    # None of those made a store: the name is free, the lists hold the source only, and a plain
    # create of that name goes through.
    names = [s["name"] for s in d.request("GET", STORES).json()["items"]]
    assert names == ["srcshop"], names
    assert [s["name"] for s in d.request("GET", STORES, auth=globex).json()["items"]] == []
    r = d.request("POST", STORES, {"name": "cloneshop", "engine": "woocommerce"}, auth=acme)
    assert r.status == 202, r
