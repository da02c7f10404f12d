# SPDX-License-Identifier: Apache-2.0
"""A store's resource use over time (GET /api/v1/stores/{id}/usage) on a real control plane, read by
the agent from the metrics.k8s.io API that a real metrics-server serves (built from its Go module,
tests/cluster/metrics-server-up, registered as the APIService v1beta1.metrics.k8s.io).

Stand-in: kwok plays the kubelet and its pods run nothing, so nothing uses CPU or memory. kwok's
simulated usage stands in for the containers' real use: a ClusterResourceUsage made here gives every
container of the store's namespace a known CPU and memory use, which kwok's fake kubelet serves as
the resource metrics (its Metric metrics-resource) that metrics-server scrapes."""

import json
import os
import subprocess

import pytest

from conftest import env, kubectl, kubectl_json, wait_status
from test_credentials import same_as_missing
from test_races import STORECTL, private_bus  # noqa: F401 (a fixture)

CLUSTER = os.path.join(os.path.dirname(__file__), "..", "cluster")
CPU_M = 150             # millicores per container, simulated
MEMORY = 200 * 2**20    # bytes per container, simulated
GI = 2**30


def metrics_server(*args):
    p = subprocess.run([os.path.join(CLUSTER, "metrics-server-up"), *args], capture_output=True, text=True,
                       timeout=1800)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]


def simulate_usage(ns):
    """The stand-in: every container of the namespace uses CPU_M and MEMORY (kwok ClusterResourceUsage)."""
    manifest = {
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterResourceUsage",
        "metadata": {"name": f"standin-{ns}"},
        "spec": {"selector": {"matchNamespaces": [ns]},
                 "usages": [{"usage": {"cpu": {"value": f"{CPU_M}m"}, "memory": {"value": str(MEMORY)}}}]},
    }
    e = env()
    subprocess.run([e["KUBECTL"], "--kubeconfig", e["KUBECONFIG"], "apply", "-f", "-"],
                   input=json.dumps(manifest), text=True, check=True, capture_output=True, timeout=60)


def tenants(d):
    d.cli("account", "create", "acme", "--role", "tenant")
    d.cli("account", "create", "globex", "--role", "tenant")
    return (d.cli("token", "create", "--name", "laptop", "--account", "acme").stdout.strip(),
            d.cli("token", "create", "--name", "laptop", "--account", "globex").stdout.strip())


def running_containers(ns):
    """{pod: number of containers} of the namespace's running pods (what metrics-server reports)."""
    return {p["metadata"]["name"]: len(p["spec"]["containers"])
            for p in kubectl_json("get", "pods", "-n", ns)["items"] if p["status"].get("phase") == "Running"}


def test_usage_history_from_metrics_server(cluster_daemon, private_bus):  # noqa: F811
    metrics_server()
    bus_env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = cluster_daemon({"usage": {"sample_interval": 2}, "limits": {"requests_per_window": 100000}}, start=False,
                       env=bus_env)
    acme, globex = tenants(d)
    d.start()

    r = d.request("POST", "/api/v1/stores", {"name": "usageshop", "engine": "woocommerce"}, auth=acme)
    assert r.status == 202, r
    sid = r.json()["id"]
    assert wait_status(d, sid, {"READY", "FAILED"})["status"] == "READY"
    ns = "store-usageshop"
    simulate_usage(ns)
    try:
        pods = running_containers(ns)
        assert pods, "the store has no running pods"
        want_cpu = {p: CPU_M * n for p, n in pods.items()}

        seen = []

        def simulated_sample():
            r = d.request("GET", f"/api/v1/stores/{sid}/usage", auth=acme)
            assert r.status == 200, r
            u = r.json()
            seen[:] = [u["metrics"], u.get("reason"), u["samples"][-1:], pods]
            for s in reversed(u["samples"]):
                got = {p["name"]: p for p in s["pods"]}
                if s["cpu_millicores"] is not None and set(got) == set(pods) and all(
                        abs(got[p]["cpu_millicores"] - c) <= 2 for p, c in want_cpu.items()):
                    return u, s
            return None
        try:
            u, s = d.wait_for(simulated_sample, timeout=180, interval=1, what="a sample of the simulated usage")
        except AssertionError:
            raise AssertionError(f"no sample of the simulated usage; last seen: {seen}") from None
        assert u["metrics"] == "available" and u["interval_seconds"] == 2 and u["window_seconds"] == 3600
        # Each pod's use as kwok simulates it, and the store's total.
        for p in s["pods"]:
            assert p["memory_bytes"] == MEMORY * pods[p["name"]], p
        assert abs(s["cpu_millicores"] - sum(want_cpu.values())) <= 2 * len(pods), s
        assert s["memory_bytes"] == MEMORY * sum(pods.values()), s
        # The namespace's quota (stores.quota.cpu 4, stores.quota.memory 2Gi) and the claims' storage
        # (stores.storage.mysql and .wordpress, 2Gi each); the quota does not limit storage.
        assert s["cpu_quota_millicores"] == 4000 and s["memory_quota_bytes"] == 2 * GI, s
        assert s["storage_requested_bytes"] == 4 * GI and s["storage_quota_bytes"] is None, s
        # Samples keep coming, oldest first, all within the window.
        d.wait_for(lambda: len(d.request("GET", f"/api/v1/stores/{sid}/usage", auth=acme).json()["samples"]) >= 3,
                   timeout=60, what="three samples")
        ats = [x["at"] for x in d.request("GET", f"/api/v1/stores/{sid}/usage", auth=acme).json()["samples"]]
        assert ats == sorted(ats), ats
        # Another tenant's store answers as one that does not exist; a bad window is refused.
        same_as_missing(d, globex, "GET", "/usage", sid)
        assert d.request("GET", f"/api/v1/stores/{sid}/usage?window=x", auth=acme).status == 400

        # storectl: the same over D-Bus, in words.
        def storectl(*args):
            return subprocess.run([STORECTL, *args], capture_output=True, text=True,
                                  env=dict(os.environ, **bus_env), timeout=30)
        d.wait_for(lambda: storectl("list").returncode == 0, timeout=15, what="the daemon on the private bus")
        p = storectl("usage", "usageshop")
        assert p.returncode == 0, p
        assert "Metrics:  available (sampled every 2 s)" in p.stdout, p.stdout
        total = MEMORY * sum(pods.values())
        assert f"Memory:   {total / 2**20:.1f} MiB of 2.0 GiB ({total * 100 // (2 * GI)}%)" in p.stdout, p.stdout
        assert "of 4.00 cores" in p.stdout and "Storage:  4.0 GiB (no quota)" in p.stdout, p.stdout
        for pod in pods:
            assert pod in p.stdout, p.stdout
    finally:
        kubectl("delete", "clusterresourceusage", f"standin-{ns}", "--ignore-not-found", check=False)


def test_usage_says_unavailable_without_metrics_api(cluster_daemon):
    """Without the APIService v1beta1.metrics.k8s.io the route says so, and CPU and memory are null,
    never zero; the storage side is still sampled."""
    metrics_server("--remove")
    try:
        d = cluster_daemon({"usage": {"sample_interval": 2}, "limits": {"requests_per_window": 100000}}, start=False)
        acme, _ = tenants(d)
        d.start()
        r = d.request("POST", "/api/v1/stores", {"name": "nometrics", "engine": "woocommerce"}, auth=acme)
        assert r.status == 202, r
        sid = r.json()["id"]
        assert wait_status(d, sid, {"READY", "FAILED"})["status"] == "READY"

        def sampled():
            u = d.request("GET", f"/api/v1/stores/{sid}/usage", auth=acme).json()
            return u if u["samples"] else None
        u = d.wait_for(sampled, timeout=60, interval=0.5, what="a sample without metrics")
        assert u["metrics"] == "unavailable", u
        assert "metrics.k8s.io" in u["reason"] and "metrics-server" in u["reason"], u
        s = u["samples"][-1]
        assert s["cpu_millicores"] is None and s["memory_bytes"] is None and s["pods"] == [], s
        assert s["storage_requested_bytes"] == 4 * GI and s["cpu_quota_millicores"] == 4000, s
    finally:
        metrics_server()
