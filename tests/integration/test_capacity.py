# SPDX-License-Identifier: Apache-2.0
"""Room on the nodes: a store is admitted only when the schedulable nodes can hold it, a create that
cannot fit is refused at once with the numbers, two creates racing for the last room never both get it,
and a pod that waiting cannot place fails its store fast with the scheduler's reason. Several nodes add up,
and a node added at run time is room at once."""

import json
import os
import shutil
import subprocess
import threading
import time

import pytest

from conftest import REPO, helm, kubectl, kubectl_json, wait_status

CHART = os.path.join(REPO, "charts", "store-woocommerce")


def fmt_memory(b):
    units = ["", "Ki", "Mi", "Gi", "Ti"]
    u = 0
    while b >= 1024 and u + 1 < len(units):
        b /= 1024
        u += 1
    return f"{b:.0f}{units[u]}" if abs(b - round(b)) < 0.05 else f"{b:.1f}{units[u]}"


def capacity(d):
    r = d.request("GET", "/api/v1/platform")
    assert r.status == 200, r
    return r.json()["capacity"]


def create(d, name):
    return d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})


@pytest.fixture
def small_node(tmp_path, request):
    """Makes the cluster kwok nodes whose memory holds `stores` stores each (plus half a store if spare): every
    other node is cordoned until the test ends. Called again, it adds a node: one that joins at run time.
    Nodes of their own per test: the pods of an earlier test's stores may still be leaving theirs."""
    prefix = "kwok-small-" + request.node.name.replace("_", "-")[5:36].strip("-")
    nodes = kubectl_json("get", "nodes")["items"]
    leftovers = [n["metadata"]["name"] for n in nodes if n["metadata"]["name"].startswith("kwok-small-")]
    if leftovers:  # of an interrupted earlier run
        kubectl("delete", "node", *leftovers, "--wait=false")
    others = [n["metadata"]["name"] for n in nodes
              if not n.get("spec", {}).get("unschedulable") and n["metadata"]["name"] not in leftovers]
    made = []

    def make(d, stores, spare=True):
        need = capacity(d)["store_needs"]
        memory = need["memory"] * stores + (need["memory"] // 2 if spare else 0)
        name = f"{prefix}-{len(made)}"
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"}},
            "status": {"allocatable": {"cpu": "32", "memory": str(memory), "pods": "110"},
                       "capacity": {"cpu": "32", "memory": str(memory), "pods": "110"}},
        }
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(node))
        kubectl("apply", "-f", str(path))
        made.append(name)
        if len(made) == 1:
            for n in others:
                kubectl("cordon", n)
        # kwok marks the node Ready; from then on the agent counts it, and only the nodes made here.
        d.wait_for(lambda: sorted(n["name"] for n in capacity(d)["nodes"] if n["schedulable"]) == sorted(made),
                   what=f"{made} as the schedulable nodes")
        return need

    yield make
    if made:
        kubectl("delete", "node", *made, "--wait=false", check=False)
    for n in others:
        kubectl("uncordon", n, check=False)


def placed_on(name):
    return {p["spec"].get("nodeName") for p in kubectl_json("get", "pods", "-n", f"store-{name}")["items"]}


def test_full_node_refuses_then_fits_after_delete(cluster_daemon, small_node):
    d = cluster_daemon({"limits": {"requests_per_window": 100000}})
    need = small_node(d, 2)
    assert capacity(d)["stores_that_fit"] == 2

    first = [create(d, n) for n in ("cap-a", "cap-b")]
    assert [r.status for r in first] == [202, 202], first
    full = create(d, "cap-c")
    assert full.status == 507, full
    err = full.json()["error"]
    assert err["code"] == "insufficient_capacity"
    # The resource, what a store needs and what is free, in words an operator acts on.
    free = fmt_memory(need["memory"] // 2)
    assert f"a store needs {fmt_memory(need['memory'])} memory" in err["message"], err
    assert f"{free} is free" in err["message"], err
    assert "add a node" in err["message"]
    plat = capacity(d)
    assert plat["fits"] is False and plat["stores_that_fit"] == 0 and plat["active_stores"] == 2

    # A node added while the agent runs is room at once, and the next store runs on it. (The room is
    # the nodes' sum: with the half store spare on the first node, this one holds exactly one more.)
    small_node(d, 1, spare=False)
    c = create(d, "cap-c")
    assert c.status == 202, c
    assert create(d, "cap-d").status == 507
    c = wait_status(d, c.json()["id"], {"READY", "FAILED"})
    assert c["status"] == "READY", c
    # Where the scheduler puts its pods is the scheduler's choice: once the first stores' setup Jobs
    # have finished, their requests no longer count on the first node, and all of cap-c may fit there.

    # Deleting a store makes room for the next create.
    a = wait_status(d, first[0].json()["id"], {"READY", "FAILED"})
    assert a["status"] == "READY", a
    assert d.request("DELETE", f"/api/v1/stores/{a['id']}").status == 202
    wait_status(d, a["id"], {"DELETED"})
    again = create(d, "cap-d")
    assert again.status == 202, again
    assert wait_status(d, again.json()["id"], {"READY", "FAILED"})["status"] == "READY"


def test_stores_spread_over_three_nodes(cluster_daemon, small_node):
    # Three nodes with room for one store and a half each: the room is their sum, and the stores'
    # pods use all three (the scheduler puts a pod on the least used node).
    d = cluster_daemon({"limits": {"requests_per_window": 100000}})
    for _ in range(3):
        small_node(d, 1)
    assert capacity(d)["stores_that_fit"] == 4
    made = [create(d, f"spread-{i}") for i in range(3)]
    assert [r.status for r in made] == [202] * 3, made
    assert capacity(d)["stores_that_fit"] == 1
    for r in made:
        s = wait_status(d, r.json()["id"], {"READY", "FAILED"})
        assert s["status"] == "READY", s
    nodes = set().union(*(placed_on(f"spread-{i}") for i in range(3)))
    assert len({n for n in nodes if n and n.startswith("kwok-small-")}) == 3, nodes


def test_wait_policy_store_waits_without_a_worker_then_starts(cluster_daemon, small_node):
    # One worker: if the waiting store held it, the delete that makes room could never run. The periodic
    # recheck is as slow as it may be (600 s): only the wake a finished delete gives can start the waiting
    # store within the deadline below.
    d = cluster_daemon({"stores": {"capacity": {"when_full": "wait", "recheck": 600}}, "workers": 1,
                        "limits": {"requests_per_window": 100000}})
    need = small_node(d, 1)
    a = create(d, "wait-a")
    assert a.status == 202, a
    b = create(d, "wait-b")
    assert b.status == 202, b
    b = b.json()
    assert b["step"] == "waiting for capacity", b
    assert f"a store needs {fmt_memory(need['memory'])} memory" in b["status_reason"], b
    assert capacity(d)["active_stores"] == 1  # a waiting store reserves nothing

    a = wait_status(d, a.json()["id"], {"READY", "FAILED"})
    assert a["status"] == "READY", a
    still = d.request("GET", f"/api/v1/stores/{b['id']}").json()
    assert still["status"] == "PROVISIONING" and still["step"] == "waiting for capacity", still

    assert d.request("DELETE", f"/api/v1/stores/{a['id']}").status == 202
    wait_status(d, a["id"], {"DELETED"})
    # Far below the 600 s recheck: the delete's end wakes the waiting store.
    b = wait_status(d, b["id"], {"READY", "FAILED"}, timeout=150)
    assert b["status"] == "READY", b
    kinds = [e["action"] for e in d.request("GET", f"/api/v1/stores/{b['id']}/events?limit=1000").json()["items"]]
    assert "capacity.available" in kinds, kinds


def test_tenant_sees_only_whether_a_store_fits(cluster_daemon):
    d = cluster_daemon()
    assert d.request("POST", "/api/v1/accounts", {"name": "merchant", "role": "tenant"}).status == 201
    tok = d.request("POST", "/api/v1/accounts/merchant/tokens", {"name": "t"}).json()["token"]
    r = d.request("GET", "/api/v1/platform", auth=tok)
    assert r.status == 200, r
    assert r.json()["capacity"] == {"known": True, "fits": True}
    admin = capacity(d)
    assert admin["known"] and admin["nodes"] and admin["store_needs"]["memory"] > 0
    metrics = d.request("GET", "/metrics").body.decode()
    assert f'storeagent_capacity_store_needs{{resource="memory"}} {admin["store_needs"]["memory"]}' in metrics
    # The platform page's room left: the same model, allocatable less what the stores' quotas reserve.
    stats = d.request("GET", "/api/v1/platform/stats").json()["capacity"]
    assert stats["known"] and stats["allocatable"] == admin["allocatable"], stats
    assert stats["free"]["memory"] == (stats["allocatable"]["memory"] - stats["used_by_other_pods"]["memory"]
                                       - stats["reserved_by_stores"]["memory"])
    assert d.request("GET", "/api/v1/platform/stats", auth=tok).status == 403


def test_racing_creates_for_the_last_room(cluster_daemon, small_node):
    # Room for one store, six creates at once: each fits alone, exactly one may have it.
    d = cluster_daemon()
    small_node(d, 1)
    names = [f"race-{i}" for i in range(6)]
    results = {}
    start = threading.Barrier(len(names))

    def go(name):
        start.wait()
        results[name] = create(d, name)

    threads = [threading.Thread(target=go, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results.values())
    assert statuses == [202] + [507] * (len(names) - 1), results
    for r in results.values():
        if r.status == 507:
            assert r.json()["error"]["code"] == "insufficient_capacity", r
    assert capacity(d)["active_stores"] == 1


def test_node_selector_nothing_matches_fails_fast(cluster_daemon, tmp_path):
    # A copy of the chart whose pods ask for a node label no node has: the nodes have room (the store is
    # admitted), yet the scheduler can place none of its pods.
    chart = tmp_path / "chart"
    shutil.copytree(os.path.join(REPO, "charts", "store-woocommerce"), chart)
    values = chart / "values.yaml"
    text = values.read_text()
    assert "\nnodeSelector: {}\n" in text
    values.write_text(text.replace("\nnodeSelector: {}\n", '\nnodeSelector: {storeagent.test/none: "nothing"}\n'))
    d = cluster_daemon({"chart": {"path": str(chart)}, "limits": {"requests_per_window": 100000},
                        "stores": {"unschedulable_timeout": 2, "provision_timeout": 600}})
    r = create(d, "no-such-node")
    assert r.status == 202, r
    # Well before the provision timeout (600 s): this wait fails if only that ended the store.
    s = wait_status(d, r.json()["id"], {"READY", "FAILED"}, timeout=90)
    assert s["status"] == "FAILED", s
    assert "cannot be scheduled" in s["status_reason"], s
    assert "didn't match Pod's node affinity/selector" in s["status_reason"], s


def package_chart(d, tmp_path, version, mysql_memory=None):
    """Puts chart `version` in the daemon's repository: the store chart, its database asking for mysql_memory."""
    copy = tmp_path / f"chart-{version}"
    subprocess.run(["cp", "-r", CHART, str(copy)], check=True)
    if mysql_memory:
        vals = (copy / "values.yaml").read_text()
        assert "memory: 384Mi" in vals
        (copy / "values.yaml").write_text(vals.replace("memory: 384Mi", f"memory: {mysql_memory}", 1))
    helm("package", str(copy), "--version", version, "-d", d.repo)


def delete_all(d, stores):
    for s in stores:
        d.request("DELETE", f"/api/v1/stores/{s['id']}")
    for s in stores:
        wait_status(d, s["id"], {"DELETED"})


def test_upgrade_that_needs_more_room_is_refused_one_that_needs_none_is_not(cluster_daemon, small_node, tmp_path):
    d = cluster_daemon({"limits": {"requests_per_window": 100000}})
    need = small_node(d, 2)  # room for two stores and a half
    # 0.3.0's database asks for 1Gi more than today's chart; 0.1.1 for nothing more.
    package_chart(d, tmp_path, "0.3.0", mysql_memory="1408Mi")
    package_chart(d, tmp_path, "0.1.1")
    a, b = create(d, "grow-a").json(), create(d, "grow-b").json()
    a, b = (wait_status(d, s["id"], {"READY", "FAILED"}) for s in (a, b))
    assert a["status"] == b["status"] == "READY", (a, b)
    free = capacity(d)["free"]["memory"]
    assert free == need["memory"] // 2, capacity(d)

    r = d.request("POST", f"/api/v1/stores/{a['id']}/upgrade", {"chart_version": "0.3.0"})
    assert r.status == 507, r
    err = r.json()["error"]
    assert err["code"] == "insufficient_capacity", err
    # What the new version needs beyond what the store holds, what is free, and what to do.
    assert f"chart 0.3.0 needs 1Gi more memory than store grow-a holds now" in err["message"], err
    assert f"{fmt_memory(free)} is free" in err["message"], err
    assert "add a node" in err["message"], err
    s = d.request("GET", f"/api/v1/stores/{a['id']}").json()
    assert s["status"] == "READY" and s["chart_version"] == "0.1.0", s

    # The nodes are as full, yet an upgrade that needs no more room is never refused.
    r = d.request("POST", f"/api/v1/stores/{a['id']}/upgrade", {"chart_version": "0.1.1"})
    assert r.status == 202, r
    a = wait_status(d, a["id"], {"READY", "FAILED"})
    assert a["status"] == "READY" and a["chart_version"] == "0.1.1", a
    assert capacity(d)["free"]["memory"] == free
    delete_all(d, [a, b])


def test_upgrade_waits_for_room_under_the_wait_policy(cluster_daemon, small_node, tmp_path):
    d = cluster_daemon({"stores": {"capacity": {"when_full": "wait"}}, "limits": {"requests_per_window": 100000}})
    need = small_node(d, 2)
    package_chart(d, tmp_path, "0.3.0", mysql_memory="1408Mi")  # 1Gi more than a store holds now
    a, b = create(d, "later-a").json(), create(d, "later-b").json()
    a, b = (wait_status(d, s["id"], {"READY", "FAILED"}) for s in (a, b))
    assert a["status"] == b["status"] == "READY", (a, b)

    r = d.request("POST", f"/api/v1/stores/{a['id']}/upgrade", {"chart_version": "0.3.0"})
    assert r.status == 202, r
    s = r.json()
    assert s["status"] == "UPGRADING" and s["step"] == "waiting for capacity", s
    assert "chart 0.3.0 needs 1Gi more memory" in s["status_reason"], s
    # While it waits, the store holds what it runs now, not its new version's room.
    assert capacity(d)["free"]["memory"] == need["memory"] // 2
    still = d.request("GET", f"/api/v1/stores/{a['id']}").json()
    assert still["step"] == "waiting for capacity" and still["chart_version"] == "0.1.0", still

    # Room appears (a store deleted): the upgrade leaves its wait by itself.
    assert d.request("DELETE", f"/api/v1/stores/{b['id']}").status == 202
    wait_status(d, b["id"], {"DELETED"})
    d.wait_for(lambda: "capacity.available" in
               [e["action"] for e in d.request("GET", f"/api/v1/stores/{a['id']}/events?limit=1000").json()["items"]],
               timeout=180, what="the waiting upgrade to start")
    delete_all(d, [a])


def tasks_running(d):
    metrics = d.request("GET", "/metrics").body.decode()
    return int(next(l.split()[1] for l in metrics.splitlines() if l.startswith("storeagent_tasks_running ")))


def test_twenty_creates_at_once_on_a_node_for_seven(cluster_daemon, small_node):
    # The VPS: 20 creates at once where 7 fit, with the default 2 workers and the wait policy.
    # Every store reaches a final, explained state well within 2 minutes: READY, or waiting for room with
    # the numbers, holding no worker (a store that held one for its provision timeout stalled the rest).
    d = cluster_daemon({"stores": {"capacity": {"when_full": "wait"}},
                        "limits": {"requests_per_window": 100000, "max_pending_tasks": 100,
                                   "creates_per_hour": 100}})
    need = small_node(d, 7)
    names = [f"burst-{i}" for i in range(20)]
    results = {}
    start = threading.Barrier(len(names))

    def go(name):
        start.wait()
        results[name] = create(d, name)

    began = time.monotonic()
    threads = [threading.Thread(target=go, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results.values()) == [202] * 20, results
    ids = [r.json()["id"] for r in results.values()]

    def settled():
        stores = [d.request("GET", f"/api/v1/stores/{i}").json() for i in ids]
        ready = [s for s in stores if s["status"] == "READY"]
        waiting = [s for s in stores if s["status"] == "PROVISIONING" and s["step"] == "waiting for capacity"]
        return (ready, waiting) if len(ready) + len(waiting) == 20 and len(ready) == 7 else None

    ready, waiting = d.wait_for(settled, timeout=120, interval=0.5, what="20 stores READY or waiting for room")
    took = time.monotonic() - began
    print(f"\n20 creates at once on a node for 7: all settled in {took:.1f}s "
          f"({len(ready)} READY, {len(waiting)} waiting for capacity)")
    for s in waiting:
        assert f"a store needs {fmt_memory(need['memory'])} memory" in s["status_reason"], s
        assert f"{fmt_memory(need['memory'] // 2)} is free" in s["status_reason"], s
    # None holds a worker while it waits (a retry that finds no room runs for a moment, then leaves).
    d.wait_for(lambda: tasks_running(d) == 0, timeout=60, what="no task running while 13 stores wait")
    plat = capacity(d)
    assert plat["active_stores"] == 7 and plat["stores_that_fit"] == 0, plat

    # The node is shared with later tests: the waiting stores go first, so none starts as room appears.
    delete_all(d, waiting)
    delete_all(d, ready)
