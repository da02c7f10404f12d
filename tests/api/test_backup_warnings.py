# SPDX-License-Identifier: Apache-2.0
"""A store whose last backup is older than its schedule allows: /readyz warns (and stays ready),
/metrics says which store and how old its backups are; a deleted store's backups are removed once
backups.keep_after_delete has passed.

The cluster is fakecluster.py's STAND-IN (an in-memory API server and a scripted helm): the store
becomes READY, but the stand-in has no pods to exec into, so every scheduled backup fails, which
is what makes a store late here.
"""

import pytest

from fakecluster import FakeCluster
from test_races import ROOMY, STORES, wait_status


@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(str(tmp_path / "cluster"))
    yield c
    c.close()


def test_late_backups_warn_in_readyz_and_metrics(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config(),
                        "backups": {"schedule": 0, "min_schedule": 1, "scheduler_interval": 1, "overdue_grace": 0,
                                    "keep_after_delete": 0}})
    sid = d.request("POST", STORES, {"name": "lateshop", "engine": "woocommerce"}).json()["id"]
    wait_status(d, sid, "READY")
    assert "warnings" not in d.request("GET", "/readyz", auth=False).json()

    # A schedule of a second, and every backup fails: the store is late, the daemon still ready.
    r = d.request("PATCH", f"{STORES}/{sid}/backup-schedule", {"every_sec": 1})
    assert r.status == 200, r

    def failed():
        items = d.request("GET", f"{STORES}/{sid}/backups").json()["items"]
        return [b for b in items if b["status"] == "failed"]
    assert all(b["scheduled"] for b in d.wait_for(failed, timeout=60, what="a failed scheduled backup"))

    def warned():
        r = d.request("GET", "/readyz", auth=False)
        return r if r.json().get("warnings") == ["backups"] else None
    r = d.wait_for(warned, timeout=60, what="a backups warning in /readyz")
    assert r.status == 200 and r.json() == {"status": "ready", "warnings": ["backups"]}, r
    checks = d.request("GET", "/readyz").json()["checks"]
    assert checks["backups"] == {"ok": False, "overdue": ["lateshop"]}, checks
    metrics = d.request("GET", "/metrics").body.decode()
    assert 'storeagent_backup_overdue{store="lateshop"} 1' in metrics
    assert 'storeagent_backup_bytes{store="lateshop"} 0' in metrics
    # No backup ever succeeded: no age to give.
    assert 'storeagent_backup_last_success_age_seconds{store="lateshop"}' not in metrics

    # No schedule: nothing is late.
    assert d.request("PATCH", f"{STORES}/{sid}/backup-schedule", {"every_sec": 0}).status == 200
    r = d.request("GET", "/readyz", auth=False)
    assert r.status == 200 and r.json() == {"status": "ready"}, r
    assert 'storeagent_backup_overdue{store="lateshop"} 0' in d.request("GET", "/metrics").body.decode()

    # Deleted, with backups.keep_after_delete 0: its backups go with it, and it is nobody's warning.
    assert d.request("DELETE", f"{STORES}/{sid}").status == 202
    wait_status(d, sid, "DELETED")
    d.wait_for(lambda: d.request("GET", f"{STORES}/{sid}/backups").json()["items"] == [], timeout=60,
               what="the deleted store's backups removed")
    events = d.request("GET", f"{STORES}/{sid}/events?limit=1000").json()["items"]
    assert any(e["action"] == "backup.expired" for e in events), events
    assert 'store="lateshop"' not in d.request("GET", "/metrics").body.decode()
