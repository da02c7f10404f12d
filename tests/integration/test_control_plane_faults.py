# SPDX-License-Identifier: Apache-2.0
"""The control plane going away under running tasks: kube-apiserver or etcd down for 30 s while one
store is in helm install, one in the readiness watch and one being deleted; SIGTERM while helm runs;
kill -9 of the daemon's whole process tree at random points, many times in one run."""

import datetime
import json
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import REPO, env, helm, kubectl, kubectl_json, namespace_exists
from daemon import descendants

OUTAGE_SEC = 30
CLUSTER = os.path.join(REPO, "tests", "cluster")
# These tests poll the API often: no rate limit in the way.
FAST = {"limits": {"requests_per_window": 1000000, "creates_per_hour": 100, "max_pending_tasks": 50}}


def create(d, name):
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    return r.json()


def events(d, sid):
    return d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]


def steps(d, sid):
    return [e["detail"] for e in events(d, sid) if e["action"] == "step"]


def component(verb, name, *args):
    """tests/cluster/{stop,start}-component against the cluster the tests use."""
    p = subprocess.run([os.path.join(CLUSTER, f"{verb}-component"), name, *args], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, STOREAGENT_CLUSTER_DIR=env()["STOREAGENT_CLUSTER_DIR"]))
    assert p.returncode == 0, p.stdout + p.stderr


def release_status(name):
    p = helm("status", name, "-n", f"store-{name}", "-o", "json", check=False)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)["info"]["status"]


def pending_releases():
    return [line for line in helm("list", "-A", "-q", "--pending").stdout.split() if line]


def labelled_namespaces():
    return {n["metadata"]["name"]: n["metadata"]["labels"].get("storeagent.io/store-id")
            for n in kubectl_json("get", "namespaces", "-l", "app.kubernetes.io/managed-by=storeagent")["items"]}


def wait_end(d, sid, statuses, timeout=240):
    """Like conftest's wait_status, but says what the API answered when it was not a store."""
    def check():
        r = d.request("GET", f"/api/v1/stores/{sid}")
        s = r.json() if r.status == 200 else {"answer": repr(r)}
        return s if s.get("status") in statuses else None
    return d.wait_for(check, timeout=timeout, interval=0.5, what=f"store {sid} in {statuses}")


def event_time(e):
    return datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()


def at_step(d, sid, name):
    return name in steps(d, sid)


@pytest.mark.parametrize("down", ["kube-apiserver", "etcd"])
def test_control_plane_down_during_install_readiness_and_delete(cluster_daemon, down):
    """kube-apiserver (or etcd) is killed while one store runs helm install, one waits for its
    workloads and one is being deleted; it comes back 30 s later. Each store reaches its end state
    with nobody's help, and the timeline says the cluster was away."""
    d = cluster_daemon(FAST)
    tag = "api" if down == "kube-apiserver" else "etcd"
    gone = create(d, f"{tag}-del")
    assert wait_end(d, gone["id"], {"READY", "FAILED"})["status"] == "READY"

    watch = create(d, f"{tag}-rdy")
    d.wait_for(lambda: at_step(d, watch["id"], "waiting for workloads") or None, timeout=120, interval=0.1,
               what="the readiness watch")
    inst = create(d, f"{tag}-inst")
    r = d.request("DELETE", f"/api/v1/stores/{gone['id']}")
    assert r.status == 202, r
    d.wait_for(lambda: at_step(d, inst["id"], "helm install") and at_step(d, gone["id"], "helm uninstall"),
               timeout=120, interval=0.05, what="helm install of one store and the delete of another")
    component("stop", down, "--kill")
    t_down = time.time()
    phases = {s["id"]: steps(d, s["id"])[-1] for s in (inst, watch, gone)}
    watched = d.request("GET", f"/api/v1/stores/{watch['id']}").json()["status"] == "PROVISIONING"
    try:
        # The daemon keeps its stores where they were while the cluster is away, and says why.
        d.wait_for(lambda: time.time() - t_down >= OUTAGE_SEC, timeout=OUTAGE_SEC + 5, interval=1,
                   what="the outage")
        mid = {s["id"]: d.request("GET", f"/api/v1/stores/{s['id']}").json() for s in (inst, watch, gone)}
    finally:
        component("start", down)
    t_back = time.time()

    ready_after, ready_at = {}, {}
    for s, want in ((inst, "READY"), (watch, "READY"), (gone, "DELETED")):
        final = wait_end(d, s["id"], {want, "FAILED"})
        ready_at[s["name"]] = time.time()
        ready_after[s["name"]] = ready_at[s["name"]] - t_back
        assert final["status"] == want, (final, phases[s["id"]])
        # Only READY/DELETED or the status it had: never FAILED during the outage.
        assert mid[s["id"]]["status"] in ("PROVISIONING", "DELETING", want), mid[s["id"]]
    print(f"\n{down} down {OUTAGE_SEC} s; phase when it went: "
          + ", ".join(f"{s['name']}: {phases[s['id']]}" for s in (inst, watch, gone)))
    print(f"{down} down: end state after it returned: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in ready_after.items()))

    # The timeline says what happened. The readiness watch reads the cluster all the time: it says
    # when the cluster went away and when it answered again. With the API server gone every task's
    # next request fails at once, so each says so; with etcd gone the API server holds requests
    # (helm install and uninstall wait inside helm), so only the watch is sure to notice.
    for s in (inst, watch, gone):
        evs = events(d, s["id"])
        actions = [e["action"] for e in evs]
        if s is watch and watched:  # (not READY already when the cluster went)
            assert "cluster.unreachable" in actions and "cluster.reachable" in actions, actions
        elif down == "kube-apiserver":
            assert "cluster.unreachable" in actions, [(e["action"], e["detail"]) for e in evs]
        nudged = [e for e in evs if e["action"] == "workloads.nudged"]
        if nudged:
            print(f"{s['name']}: {nudged[-1]['detail']}; READY {ready_at[s['name']] - event_time(nudged[-1]):.1f} s"
                  " after that nudge")
    assert release_status(inst["name"]) == "deployed" and release_status(watch["name"]) == "deployed"
    assert not namespace_exists(f"store-{gone['name']}")
    assert not pending_releases()


def test_quota_refusal_nudged_as_soon_as_quota_admits(cluster_daemon):
    """The quota refuses the store's pods until its usage is put right (as the quota controller does
    for a usage left stale by an API server restart; here the quota is raised). The controllers have
    been backing off for 20 s by then; the agent sees that the quota admits the refused pods and
    nudges every workload that lacks them, so the store is READY within seconds, not a backoff later."""
    d = cluster_daemon(dict(FAST, stores={"provision_timeout": 150, "quota": {"memory": "600Mi"}}))
    s = create(d, "squeezed")
    refused = lambda: [e for e in events(d, s["id"])  # noqa: E731
                       if e["action"] == "k8s.event" and "exceeded quota" in (e["detail"] or "")]
    first = d.wait_for(refused, timeout=120, interval=0.5, what="a pod creation refused by the quota")
    t_refused = event_time(first[0])
    d.wait_for(lambda: time.time() - t_refused >= 20, timeout=30, interval=1, what="20 s of refusals")
    assert d.request("GET", f"/api/v1/stores/{s['id']}").json()["status"] == "PROVISIONING"
    kubectl("patch", "resourcequota", "store-quota", "-n", "store-squeezed", "--type=merge",
            "-p", '{"spec":{"hard":{"requests.memory":"4Gi","limits.memory":"4Gi"}}}')
    t_admits = time.time()
    final = wait_end(d, s["id"], {"READY", "FAILED"}, timeout=150)
    took = time.time() - t_admits
    assert final["status"] == "READY", final
    nudged = [e for e in events(d, s["id"]) if e["action"] == "workloads.nudged"]
    print(f"\nREADY {took:.1f} s after the quota admitted the refused pods "
          f"(refused for {t_admits - t_refused:.0f} s before); {nudged[-1]['detail'] if nudged else 'no nudge'}")
    assert nudged, "the refused workloads were not nudged"
    assert took < 30, took  # about 10 s on an idle machine; the controllers' backoff would be 20 s and more


def test_sigterm_while_helm_runs(cluster_daemon, tmp_path):
    """SIGTERM while helm installs: the daemon stops within its stop timeout (TimeoutStopSec=30),
    the next start resumes the task, and the release is not left pending."""
    e = env()
    frozen = tmp_path / "api-frozen"
    wrapper = tmp_path / "helm"
    api_pidfile = os.path.join(e["STOREAGENT_CLUSTER_DIR"], "pids", "kube-apiserver.pid")
    # The real helm; the moment its release record appears (helm is then creating the release's
    # objects), the API server is frozen (SIGSTOP, as a stalled node would be), so helm hangs in the
    # middle of its install whatever the speed of the machine, and cannot mark the release failed.
    # (The watch lists first, so a record written before it opens is seen too.)
    wrapper.write_text(f"""#!/bin/bash
if [ "$1" = upgrade ] && [ ! -e {frozen} ]; then
    "{e["KUBECTL"]}" --kubeconfig "$KUBECONFIG" get secrets -n store-termed -l owner=helm -w -o name \
        --request-timeout=120s | {{ head -n1 >/dev/null && kill -STOP -- -$(cat {api_pidfile}) && touch {frozen}; }} &
fi
exec "{e["HELM"]}" "$@"
""")
    wrapper.chmod(0o755)
    api = int(open(api_pidfile).read())
    d = cluster_daemon(dict(FAST, helm={"binary": str(wrapper)}))
    try:
        s = create(d, "termed")
        d.wait_for(frozen.exists, timeout=120, interval=0.05, what="helm writing the release")
        t0 = time.time()
        rc = d.stop(timeout=30)
        took = time.time() - t0
    finally:
        os.killpg(api, signal.SIGCONT)
    assert rc == 0, d.last_log_lines()
    assert took < 30, took  # TimeoutStopSec=30 in units/storeagent.service
    state = release_status("termed")
    print(f"\nstopped {took:.1f} s after SIGTERM with helm running; the release was left {state}")
    first_run = d.logs()
    d.start()
    # The stopping daemon handed the task back: the new one takes it up at once, as its next attempt.
    d.wait_for(lambda: "Task 1 create for store" in d.logs()[len(first_run):], timeout=10,
               what="the interrupted create resumed")
    assert "interrupted by shutdown; it resumes on the next start" in first_run
    final = wait_end(d, s["id"], {"READY", "FAILED"})
    assert final["status"] == "READY", final
    assert release_status("termed") == "deployed"
    assert not pending_releases()
    if state and state.startswith("pending"):
        assert "helm.repair" in [e["action"] for e in events(d, s["id"])]


def freeze_and_kill(d):
    """kill -9 of the daemon's whole process tree, as systemd kills a unit's control group: the
    daemon is stopped first so it spawns nothing more, then everything below it, then all die."""
    os.kill(d.proc.pid, signal.SIGSTOP)
    seen = set()
    while True:
        kids = set(descendants(d.proc.pid)) - seen
        if not kids:
            break
        for pid in kids:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        seen |= kids
    pgid = d.proc.pid  # started under setsid: it leads its own process group
    d.stop(sig=signal.SIGKILL)  # kills it and every process below it (helm runs in groups of its own)
    try:
        os.killpg(pgid, signal.SIGKILL)  # and anything left in its group
    except ProcessLookupError:
        pass


def test_kill9_at_random_points_converges(cluster_daemon):
    """Creates, an upgrade and a delete while the daemon's process tree is killed (kill -9) at
    random points, many times; after the last restart every store converges, no release is left
    pending and no labelled namespace lacks its store."""
    kills = int(os.environ.get("STOREAGENT_FAULT_KILLS", "8"))
    seed = int(os.environ.get("STOREAGENT_FAULT_SEED", str(int(time.time()))))
    rnd = random.Random(seed)
    d = cluster_daemon(FAST, start=False)
    subprocess.run([os.path.join(REPO, "charts", "package.sh"), "--helm", env()["HELM"], "--version", "0.2.0",
                    d.repo], check=True, capture_output=True)
    d.start(argv_prefix=["setsid"])
    hit = []

    def crash_at_random_points(n, stores):
        for _ in range(n):
            # A random point of the run (the test's choice of when to crash, not a wait for anything).
            time.sleep(rnd.uniform(0.2, 3.0))
            hit.append(", ".join(f"{s['name']}: {(steps(d, s['id']) or ['-'])[-1]}" for s in stores))
            freeze_and_kill(d)
            d.start(argv_prefix=["setsid"])

    # Creates, killed at random points; then an upgrade and a delete, killed at random points.
    up, gone, kept = (create(d, n) for n in ("k9-up", "k9-gone", "k9-kept"))
    crash_at_random_points(kills // 2, (up, gone, kept))
    for s in (up, gone):
        assert wait_end(d, s["id"], {"READY", "FAILED"}, timeout=300)["status"] == "READY"
    assert d.request("POST", f"/api/v1/stores/{up['id']}/upgrade", {"chart_version": "0.2.0"}).status == 202
    assert d.request("DELETE", f"/api/v1/stores/{gone['id']}").status == 202
    crash_at_random_points(kills - kills // 2, (up, gone, kept))
    print(f"\n{len(hit)} kill -9 of the whole process tree (seed {seed}); steps under way at each:")
    for i, h in enumerate(hit):
        print(f"  kill {i + 1}: {h}")

    def upgraded():
        s = d.request("GET", f"/api/v1/stores/{up['id']}").json()
        return s if s.get("status") == "FAILED" or (s.get("status") == "READY" and s["chart_version"] == "0.2.0") \
            else None
    a = d.wait_for(upgraded, timeout=300, interval=1, what="the upgrade done")
    assert a["status"] == "READY" and a["chart_version"] == "0.2.0", a
    assert wait_end(d, kept["id"], {"READY", "FAILED"})["status"] == "READY"
    assert wait_end(d, gone["id"], {"DELETED", "FAILED"}, timeout=300)["status"] == "DELETED"
    assert not namespace_exists("store-k9-gone")
    assert release_status("k9-up") == "deployed" and release_status("k9-kept") == "deployed"
    assert not pending_releases()
    live = {s["id"] for s in d.request("GET", "/api/v1/stores").json()["items"] if s["status"] != "DELETED"}
    ours = labelled_namespaces()
    assert all(sid in live for ns, sid in ours.items() if ns.startswith("store-k9-")), (ours, live)
