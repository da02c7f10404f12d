# SPDX-License-Identifier: Apache-2.0
"""Tasks and leases: a helm slower than the lease, a lease taken away mid-helm, and a helm that
outlives a killed daemon. Real daemon, real control plane, real helm behind a stand-in.

The stand-in (a shell script in place of helm) logs every invocation, start and end, with its
pid, to a file, and can hold `helm upgrade` for a while before it runs the real helm: that is
how a slow helm (hooks, a slow API server) looks to the daemon, at a time the test chooses."""

import os
import signal
import sqlite3
import stat
import time

from conftest import env, helm, wait_status


def standin(tmp_path, hold_upgrade):
    """A stand-in for helm: logs "<time> <pid> start|end <verb> [rc]" per invocation, holds the
    first `upgrade` for hold_upgrade seconds, and runs the real helm for everything."""
    log = tmp_path / "helm-calls.log"
    marker = tmp_path / "held-once"
    script = tmp_path / "helm"
    script.write_text(f"""#!/bin/bash
echo "$(date +%s.%N) $$ start $1" >> {log}
if [ "$1" = upgrade ] && [ ! -e {marker} ]; then
    touch {marker}
    sleep {hold_upgrade}
fi
{env()["HELM"]} "$@"
rc=$?
echo "$(date +%s.%N) $$ end $1 $rc" >> {log}
exit $rc
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), log


def calls(log):
    """[(time, pid, what, verb)] from the stand-in's log."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        f = line.split()
        out.append((float(f[0]), int(f[1]), f[2], f[3]))
    return out


def started(log, verb):
    return [c for c in calls(log) if c[2] == "start" and c[3] == verb]


def task_row(d):
    db = sqlite3.connect(d.config["database"], timeout=10)
    try:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT * FROM tasks ORDER BY id DESC LIMIT 1").fetchone())
    finally:
        db.close()


def create(d, name):
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    return r.json()


def events(d, sid):
    return d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_slow_helm_runs_once_and_the_lease_is_renewed(cluster_daemon, tmp_path):
    """helm upgrade takes 12 s, four leases of 3 s: the lease is renewed while helm runs, no other
    worker starts the task, and helm upgrade runs exactly once."""
    binary, log = standin(tmp_path, hold_upgrade=12)
    d = cluster_daemon({"helm": {"binary": binary}, "tasks": {"lease": 3}, "workers": 3})
    s = create(d, "slowhelm")
    d.wait_for(lambda: started(log, "upgrade"), timeout=120, interval=0.1, what="helm upgrade to start")
    # While helm is held, the lease keeps moving ahead of the clock.
    expiries, ran_out, deadline = [], [], time.time() + 120
    while not [c for c in calls(log) if c[2] == "end" and c[3] == "upgrade"]:
        assert time.time() < deadline, calls(log)
        row = task_row(d)
        if row["lease_expires_at"] is not None and row["lease_expires_at"] < time.time() * 1e6:
            ran_out.append(row)
        if not expiries or expiries[-1] != row["lease_expires_at"]:
            expiries.append(row["lease_expires_at"])
        time.sleep(0.5)
    s = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=240)
    assert len(started(log, "upgrade")) == 1, calls(log)  # the task ran once: one helm upgrade
    assert "(attempt 2)" not in d.logs(), d.logs()[-3000:]
    assert s["status"] == "READY", s
    assert not ran_out, ran_out  # the lease never ran out under the running helm...
    assert len(expiries) >= 4, expiries  # ...because it was renewed while helm ran
    assert task_row(d)["lease_token"] == 1


def test_worker_that_lost_its_lease_stops_and_ends_helm(cluster_daemon, tmp_path):
    """The lease is taken away while helm runs (stolen in the database, as another worker's lease
    would be): the worker ends its helm within moments, and writes nothing more on the store."""
    binary, log = standin(tmp_path, hold_upgrade=120)
    d = cluster_daemon({"helm": {"binary": binary}, "tasks": {"lease": 4}})
    s = create(d, "stolen")
    d.wait_for(lambda: started(log, "upgrade"), timeout=120, interval=0.1, what="helm upgrade to start")
    pid = started(log, "upgrade")[0][1]
    assert alive(pid)
    assert task_row(d)["child_pid"] == pid  # the running helm is recorded with its task
    n_events = len(events(d, s["id"]))

    db = sqlite3.connect(d.config["database"], timeout=10)
    db.execute("UPDATE tasks SET lease_owner = 'thief', lease_token = lease_token + 1, "
               "lease_expires_at = ? WHERE state = 'running'", (int((time.time() + 3600) * 1e6),))
    db.commit()
    db.close()
    stolen_at = time.time()

    d.wait_for(lambda: not alive(pid), timeout=15, interval=0.1, what="the worker to end its helm")
    took = time.time() - stolen_at
    d.wait_for(lambda: "lost its lease" in d.logs(), timeout=10, what="the lost lease in the journal")
    d.wait_for(lambda: "stopped after" in d.logs(), timeout=10, what="the task to stop")
    print(f"helm ended {took:.1f} s after the lease was taken")
    assert took < 4 + 5 + 2, took  # a quarter lease to notice, helm's SIGTERM grace at most
    # The real helm never ran, the store was not touched, the row is the thief's.
    assert [c[3] for c in calls(log) if c[1] == pid] == ["upgrade"], calls(log)
    st = d.request("GET", f"/api/v1/stores/{s['id']}").json()
    assert st["status"] == "PROVISIONING", st
    assert len(events(d, s["id"])) == n_events, events(d, s["id"])[n_events:]
    row = task_row(d)
    assert row["lease_owner"] == "thief" and row["state"] == "running", row
    assert "helm upgrade --install" not in [e["detail"] for e in events(d, s["id"])]


def test_helm_outliving_a_killed_daemon_is_waited_for(cluster_daemon, tmp_path):
    """kill -9 of the daemon alone while helm upgrade runs (a helm run outside the unit's control
    group): the next start finds the old helm by its recorded pid and start time, waits for it
    before it runs any helm of its own on the release, and the store converges to READY."""
    binary, log = standin(tmp_path, hold_upgrade=10)
    d = cluster_daemon({"helm": {"binary": binary}})
    s = create(d, "orphan")
    d.wait_for(lambda: started(log, "upgrade"), timeout=120, interval=0.1, what="helm upgrade to start")
    orphan = started(log, "upgrade")[0][1]
    assert task_row(d)["child_pid"] == orphan

    # The daemon alone dies; its helm lives on, reparented.
    d.proc.send_signal(signal.SIGKILL)
    d.exits.append(("SIGKILL", d.proc.wait(timeout=10)))
    d._recorded = d.proc
    killed_at = time.time()
    assert alive(orphan)

    d.start()
    s = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=240)
    assert s["status"] == "READY", (s, calls(log))
    ended = d.wait_for(lambda: [c for c in calls(log) if c[1] == orphan and c[2] == "end"], timeout=60,
                       what="the old helm to end")
    orphan_end = ended[0][0]
    # No helm of the new daemon ran while the old one did.
    later = [c for c in calls(log) if c[2] == "start" and c[0] > killed_at]
    assert later, calls(log)
    overlapping = [c for c in later if c[0] < orphan_end]
    assert not overlapping, f"helm started by the new daemon while the old one (ended {orphan_end}) ran: {overlapping}"
    orphaned = [e for e in events(d, s["id"]) if e["action"] == "helm.orphan"]
    assert orphaned and f"pid {orphan}" in orphaned[0]["detail"] and "waited" in orphaned[0]["detail"], orphaned
    assert '"status":"deployed"' in helm("status", "orphan", "-n", "store-orphan", "-o", "json").stdout.replace(" ", "")
    assert task_row(d)["child_pid"] is None
