# SPDX-License-Identifier: Apache-2.0
"""Races between API requests, and between the API and the workers.

Concurrent requests start together behind a barrier. A request "while a worker runs the same store" is
sent while that worker is held inside its helm run by the stand-in helm of fakecluster.py (it waits for a
file the test creates), so the interleaving is certain, not hoped for. What is checked is what clients
see: status codes, one store where one was asked for, and a store that ends in a state of its state
machine with a timeline that agrees, and no task left behind.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

import pytest

from daemon import BUILD
from fakecluster import FakeCluster

STORES = "/api/v1/stores"
STORECTL = os.environ.get("STORECTL", os.path.join(BUILD, "agent", "src", "storectl", "storectl"))
ROOMY = {"limits": {"creates_per_hour": 1000, "requests_per_window": 100000, "max_pending_tasks": 1000,
                    "max_stores": 1000}}


def error_of(r):
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]["code"]


def together(n, fn):
    """Runs fn(0) .. fn(n-1) on n threads released at the same moment; returns their results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def tasks_of(d, store_id):
    """The store's tasks as the database has them: (kind, state)."""
    db = sqlite3.connect(f"file:{d.config['database']}?mode=ro", uri=True)
    try:
        return db.execute("SELECT kind, state FROM tasks WHERE store_id = ? ORDER BY id", (store_id,)).fetchall()
    finally:
        db.close()


def store(d, sid):
    r = d.request("GET", f"{STORES}/{sid}")
    assert r.status == 200, r
    return r.json()


def actions(d, sid):
    return [e["action"] for e in d.request("GET", f"{STORES}/{sid}/events?limit=500").json()["items"]]


def wait_status(d, sid, status, timeout=30):
    return d.wait_for(lambda: store(d, sid)["status"] == status and not any(
        st in ("queued", "running") for _, st in tasks_of(d, sid)), timeout=timeout, what=f"{sid} {status}")


def assert_settled(d, sid, status):
    """The store is in status with no task left to run, and its timeline ends the way the status says."""
    s = store(d, sid)
    assert s["status"] == status, s
    assert not [t for t in tasks_of(d, sid) if t[1] in ("queued", "running")], tasks_of(d, sid)
    acts = actions(d, sid)
    assert acts[0] == "store.create", acts
    if status == "DELETED":
        assert s["deleted_at"] is not None and "store.delete" in acts, (s, acts)
        # Nothing made it READY again after the delete was accepted.
        assert "store.ready" not in acts[acts.index("store.delete"):], acts


# ---- API against API ----

def test_twenty_creates_with_one_idempotency_key_make_one_store(daemon_factory):
    d = daemon_factory(ROOMY)
    body = {"name": "same-key", "engine": "woocommerce"}
    rs = together(20, lambda i: d.request("POST", STORES, body, headers={"Idempotency-Key": "race-key-1"}))

    assert [r.status for r in rs] == [202] * 20, rs
    assert len({r.json()["id"] for r in rs}) == 1, [r.json()["id"] for r in rs]
    assert sum(r.header("Idempotent-Replayed") != "true" for r in rs) == 1, "exactly one request created it"
    listed = d.request("GET", STORES).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "same-key", listed
    sid = rs[0].json()["id"]
    assert actions(d, sid).count("store.create") == 1
    assert [k for k, _ in tasks_of(d, sid)] == ["create"]


def test_twenty_creates_of_one_name_give_one_202_and_409s(daemon_factory):
    d = daemon_factory(ROOMY)
    rs = together(20, lambda i: d.request("POST", STORES, {"name": "one-name", "engine": "woocommerce"}))

    codes = sorted(r.status for r in rs)
    assert codes == [202] + [409] * 19, codes
    assert all(error_of(r) == "name_taken" for r in rs if r.status == 409)
    listed = d.request("GET", STORES).json()
    assert listed["total"] == 1, listed
    assert [k for k, _ in tasks_of(d, listed["items"][0]["id"])] == ["create"]


# ---- API against a worker inside helm ----

@pytest.fixture
def cluster(tmp_path):
    c = FakeCluster(str(tmp_path / "cluster"))
    c.hold()
    yield c
    c.close()


def test_delete_while_the_worker_installs(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    sid = d.request("POST", STORES, {"name": "del-race", "engine": "woocommerce"}).json()["id"]
    run = cluster.wait_entered("upgrade", 1)  # the create task is inside `helm upgrade --install`

    r = d.request("DELETE", f"{STORES}/{sid}")
    assert r.status == 202 and r.json()["status"] == "DELETING", r
    assert store(d, sid)["status"] == "DELETING"

    cluster.release(run)  # helm succeeds: the create must not make the store READY, the delete must win
    cluster.release(cluster.wait_entered("uninstall", 1))
    wait_status(d, sid, "DELETED")
    assert_settled(d, sid, "DELETED")
    assert not cluster.namespace_exists("store-del-race")
    assert [k for k, _ in tasks_of(d, sid)] == ["create", "delete"]


def test_upgrade_retry_and_delete_while_the_worker_runs(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    sid = d.request("POST", STORES, {"name": "upg-race", "engine": "woocommerce"}).json()["id"]
    run = cluster.wait_entered("upgrade", 1)

    # While the create runs: no upgrade, no retry; the store stays as it is.
    r = d.request("POST", f"{STORES}/{sid}/upgrade", {"chart_version": "0.2.0"})
    assert r.status == 409 and error_of(r) in ("operation_in_progress", "invalid_state"), r
    r = d.request("POST", f"{STORES}/{sid}/retry")
    assert r.status == 409 and error_of(r) == "invalid_state", r
    assert store(d, sid)["status"] == "PROVISIONING"
    cluster.release(run)
    wait_status(d, sid, "READY")
    assert_settled(d, sid, "READY")

    # An upgrade, held inside helm: a second upgrade and a retry are refused, a delete is taken.
    r = d.request("POST", f"{STORES}/{sid}/upgrade", {"chart_version": "0.2.0"})
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r
    run = cluster.wait_entered("upgrade", 2)
    rs = together(3, lambda i: [
        lambda: d.request("POST", f"{STORES}/{sid}/upgrade", {"chart_version": "0.2.0"}),
        lambda: d.request("POST", f"{STORES}/{sid}/retry"),
        lambda: d.request("POST", f"{STORES}/{sid}/upgrade", {"chart_version": "0.2.0"}),
    ][i]())
    assert all(r.status == 409 for r in rs), rs
    assert store(d, sid)["status"] == "UPGRADING"
    r = d.request("DELETE", f"{STORES}/{sid}")
    assert r.status == 202 and r.json()["status"] == "DELETING", r

    cluster.release(run)
    cluster.release(cluster.wait_entered("uninstall", 1))
    wait_status(d, sid, "DELETED")
    assert_settled(d, sid, "DELETED")
    assert [k for k, _ in tasks_of(d, sid)] == ["create", "upgrade", "delete"]


def test_retry_while_the_worker_fails_then_while_it_retries(daemon_factory, cluster):
    d = daemon_factory({**ROOMY, **cluster.config()})
    cluster.fail_next_upgrade()
    sid = d.request("POST", STORES, {"name": "retry-race", "engine": "woocommerce"}).json()["id"]
    run = cluster.wait_entered("upgrade", 1)

    # The worker is about to fail the store; a retry before it has is refused, not queued behind it.
    r = d.request("POST", f"{STORES}/{sid}/retry")
    assert r.status == 409 and error_of(r) == "invalid_state", r
    cluster.release(run)
    wait_status(d, sid, "FAILED")
    assert "bad value" in store(d, sid)["status_reason"]

    # Twenty retries at once: one is taken, the rest are refused, one retry task runs.
    rs = together(20, lambda i: d.request("POST", f"{STORES}/{sid}/retry"))
    assert sorted(r.status for r in rs) == [202] + [409] * 19, [r.status for r in rs]
    run = cluster.wait_entered("upgrade", 2)
    r = d.request("POST", f"{STORES}/{sid}/retry")
    assert r.status == 409, r
    cluster.release(run)
    wait_status(d, sid, "READY")
    assert_settled(d, sid, "READY")
    assert [k for k, _ in tasks_of(d, sid)] == ["create", "create"] or \
        [k for k, _ in tasks_of(d, sid)][-1] in ("create", "retry"), tasks_of(d, sid)


# ---- a database held by someone else ----

def test_busy_database_is_503_with_retry_after_and_changes_nothing(daemon_factory):
    d = daemon_factory({**ROOMY, "database_busy_timeout_ms": 200})
    assert d.request("POST", STORES, {"name": "before-lock", "engine": "woocommerce"}).status == 202
    sid = d.request("GET", STORES).json()["items"][0]["id"]

    lock = sqlite3.connect(d.config["database"], isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        started = time.monotonic()
        r = d.request("POST", STORES, {"name": "during-lock", "engine": "woocommerce"})
        waited = time.monotonic() - started
        assert r.status == 503 and error_of(r) == "busy", r
        assert r.header("Retry-After") == "1", r.headers
        assert "nothing was changed" in r.json()["error"]["message"]
        assert waited < 3, f"the configured 200 ms busy timeout was not used ({waited:.1f} s)"
        r = d.request("DELETE", f"{STORES}/{sid}")
        assert r.status == 503 and error_of(r) == "busy", r
        # Readers are not held up by a writer (WAL).
        assert d.request("GET", STORES).status == 200
    finally:
        lock.execute("ROLLBACK")
        lock.close()

    assert sorted(s["name"] for s in d.request("GET", STORES).json()["items"]) == ["before-lock"]
    assert store(d, sid)["status"] == "PROVISIONING"
    r = d.request("POST", STORES, {"name": "during-lock", "engine": "woocommerce"})
    assert r.status == 202, r


@pytest.fixture
def private_bus():
    for tool in ("dbus-daemon", "dbus-send"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    top = tempfile.mkdtemp(prefix="storeagent-bus-")
    sock = os.path.join(top, "bus.sock")
    conf = os.path.join(top, "bus.conf")
    with open(conf, "w") as f:
        # As agent/test/bus/test-bus.sh: everyone may talk, so the daemon's own checks are what decide.
        f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
""")
    bus = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    try:
        yield f"unix:path={sock}"
    finally:
        bus.terminate()
        bus.wait(10)
        shutil.rmtree(top, ignore_errors=True)


def test_busy_database_is_try_again_over_dbus(daemon_factory, private_bus):
    env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = daemon_factory({**ROOMY, "database_busy_timeout_ms": 200}, env=env)
    run_env = dict(os.environ, **env)

    def storectl(*args):
        return subprocess.run([STORECTL, *args], capture_output=True, text=True, env=run_env, timeout=30)

    d.wait_for(lambda: storectl("list").returncode == 0, timeout=15, what="the daemon on the private bus")

    lock = sqlite3.connect(d.config["database"], isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        p = subprocess.run(["dbus-send", "--system", "--print-reply", "--dest=org.storeagent.Agent1",
                            "/org/storeagent/Agent1", "org.storeagent.Agent1.CreateStore", "string:bus-busy",
                            "string:woocommerce"], capture_output=True, text=True, env=run_env, timeout=30)
        assert p.returncode != 0
        assert "org.storeagent.Error.TryAgain" in p.stderr, p.stderr
        p = storectl("create", "bus-busy")
        assert p.returncode != 0 and "busy" in p.stderr and "try again" in p.stderr, (p.returncode, p.stderr)
    finally:
        lock.execute("ROLLBACK")
        lock.close()

    assert d.request("GET", STORES).json()["total"] == 0
    p = storectl("create", "bus-busy")
    assert p.returncode == 0, p.stderr


def test_a_slow_cluster_holds_up_only_its_own_dbus_callers(daemon_factory, cluster, private_bus):
    """`storectl status` and `storectl create` read the nodes (room for stores), `storectl logs` the
    store's pods; while the API server holds those reads (as one slow to answer does), other storectl
    calls are answered all the same: the reads run off the daemon's main loop, and each call is
    answered once its read is let go."""
    env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = daemon_factory({**ROOMY, **cluster.config()}, env=env)
    run_env = dict(os.environ, **env)

    def storectl(*args, timeout=30):
        return subprocess.run([STORECTL, *args], capture_output=True, text=True, env=run_env, timeout=timeout)

    d.wait_for(lambda: storectl("list").returncode == 0, timeout=15, what="the daemon on the private bus")
    p = storectl("create", "slow-logs")
    assert p.returncode == 0, p.stderr
    held = [cluster.hold_reads("/api/v1/nodes"), cluster.hold_reads("/api/v1/namespaces/store-slow-logs/pods")]
    slow = [subprocess.Popen([STORECTL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=run_env) for args in (["status"], ["create", "while-slow"], ["logs", "slow-logs"])]
    try:
        assert held[0].wait(30), "neither storectl status nor create reached the API server"
        assert held[1].wait(30), "storectl logs never reached the API server"
        # Reads are held: a daemon that waited for them would not answer this until they are let go.
        p = storectl("list", timeout=20)
        assert p.returncode == 0, p.stderr
        assert [c.poll() for c in slow] == [None, None, None], "a call ended while its read was held"
    finally:
        cluster.release_reads()
        outs = [c.communicate(timeout=60) for c in slow]
    assert slow[0].returncode == 0 and "fake-node" in outs[0][0], outs[0]
    assert slow[1].returncode == 0 and "while-slow" in outs[1][0], outs[1]
    # The stand-in cluster runs no pod: the answer, once the read is let go, is that there is none.
    assert slow[2].returncode != 0 and "no pod or container" in outs[2][1], outs[2]


def test_a_stop_ends_a_dbus_call_held_by_the_cluster(daemon_factory, cluster, private_bus):
    """A daemon asked to stop while a storectl call waits for the API server does not wait out the
    cluster client's timeout: the read is cancelled, the daemon exits cleanly and the caller gets an
    error rather than no answer."""
    env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = daemon_factory({**ROOMY, **cluster.config()}, env=env)
    run_env = dict(os.environ, **env)
    d.wait_for(lambda: subprocess.run([STORECTL, "list"], capture_output=True, env=run_env,
                                      timeout=30).returncode == 0, timeout=15, what="the daemon on the private bus")
    held = cluster.hold_reads("/api/v1/nodes")
    status = subprocess.Popen([STORECTL, "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=run_env)
    try:
        assert held.wait(30), "storectl status never reached the API server"
        assert d.stop(timeout=15) == 0, d.logs()[-3000:]
        out, err = status.communicate(timeout=30)
        assert status.returncode != 0, out
    finally:
        cluster.release_reads()
        if status.poll() is None:
            status.kill()
