# SPDX-License-Identifier: Apache-2.0
"""A store made from a backup (POST /api/v1/stores with from_backup): what the edge refuses, before
anything is created.

The cluster is fakecluster.py's STAND-IN (an in-memory API server and a scripted helm): stores become
READY, but it has no pods to exec into, so every backup fails; a failed backup is what a clone must
refuse. A clone that succeeds is tests/integration/test_backups.py's (real control plane, real MariaDB).
"""

import pytest

from fakecluster import FakeCluster
from tenancy import error_of, tenant
from test_races import ROOMY, STORES, wait_status


@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(str(tmp_path / "cluster"))
    yield c
    c.close()


def test_clone_refusals_create_nothing(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
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

    # None of those made a store: the name is free, the lists hold the source only, and a plain
    # create of that name goes through.
    names = [s["name"] for s in d.request("GET", STORES).json()["items"]]
    assert names == ["srcshop"], names
    assert [s["name"] for s in d.request("GET", STORES, auth=globex).json()["items"]] == []
    r = d.request("POST", STORES, {"name": "cloneshop", "engine": "woocommerce"}, auth=acme)
    assert r.status == 202, r
