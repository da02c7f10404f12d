# SPDX-License-Identifier: Apache-2.0
"""A cluster that hangs must not take every HTTP thread. A few handlers wait on the cluster or helm
(a store's credentials are read from a Secret; a store made before the release history was kept reads
it with helm once). The HTTP threads are a small pool, so at most half of them may wait on the cluster
at a time: the next such request is answered 503 cluster_unavailable with Retry-After, and everything
else (health, lists, the dashboard) goes on being answered. The stand-in for a hung cluster is a helm
script that never answers in time, named as such."""

import os
import sqlite3
import threading
import time


def test_a_hung_cluster_takes_at_most_half_the_threads(daemon_factory, tmp_path):
    hung = tmp_path / "helm-that-hangs"
    started = tmp_path / "helm-started"
    pids = tmp_path / "helm-pids"
    # `helm history` hangs (its pid recorded, so the test can see it still hangs) until the test releases it.
    hung.write_text(f"""#!/bin/sh
echo "$1" >> {started}
if [ "$1" = history ] && [ ! -e {tmp_path}/release ]; then echo $$ >> {pids}; exec sleep 60; fi
exit 1
""")
    hung.chmod(0o755)
    d = daemon_factory(config={"helm": {"binary": str(hung)}})
    r = d.request("POST", "/api/v1/stores", {"name": "hung", "engine": "woocommerce"})
    assert r.status == 202, r
    sid = r.json()["id"]
    # As a store made before the history was kept: GET .../releases has to ask helm.
    with sqlite3.connect(d.config["database"], timeout=10) as db:
        db.execute("UPDATE stores SET releases = NULL WHERE id = ?", (sid,))

    # The daemon's pool: two threads per online CPU, at least 8, at most 64; half may wait on the cluster.
    may_wait = min(max(2 * os.cpu_count(), 8), 64) // 2
    answers = []

    def ask():
        answers.append(d.request("GET", f"/api/v1/stores/{sid}/releases", timeout=60))

    askers = [threading.Thread(target=ask) for _ in range(3 * may_wait)]
    for t in askers:
        t.start()

    def waiting():
        return started.read_text().split().count("history") if started.exists() else 0

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (waiting() == may_wait and any(a.status == 503 for a in list(answers))):
        time.sleep(0.05)
    assert waiting() == may_wait, f"{waiting()} requests wait on helm, {may_wait} may"
    refused = [a for a in list(answers) if a.status == 503]
    assert refused, answers
    assert all(a.json()["error"]["code"] == "cluster_unavailable" and a.header("Retry-After") == "1" for a in refused)

    # Meanwhile the daemon answers everything else at once, on fresh connections.
    for path in ("/healthz", "/api/v1/stores", f"/api/v1/stores/{sid}"):
        for _ in range(10):
            r = d.request("GET", path, auth=path != "/healthz", timeout=30)
            assert r.status == 200, (path, r)
    # ... while every helm that was let wait still hangs.
    hanging = [int(p) for p in pids.read_text().split()]
    assert len(hanging) == may_wait
    for pid in hanging:
        os.kill(pid, 0)
    (tmp_path / "release").touch()
    for pid in hanging:
        os.kill(pid, 9)
    print(f"{may_wait} of {len(askers)} requests waited on the hung helm; {len(refused)} were refused at once")
    # The waiting ones end with their helm: an error, not a hang; requests that sat behind them on their
    # threads are answered then too.
    for t in askers:
        t.join(60)
    assert len(answers) == len(askers)
    assert {a.status for a in answers} == {502, 503}, sorted(a.status for a in answers)
