# SPDX-License-Identifier: Apache-2.0
"""Stores created, tracked, upgraded, rolled back and deleted on a real Kubernetes control plane."""

import base64
import json
import os
import signal
import subprocess
import time

import yaml

from conftest import REPO, env, helm, kubectl, kubectl_json, namespace_exists, wait_status

CHART = os.path.join(REPO, "charts", "store-woocommerce")


def create(d, name):
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    return r.json()


def events(d, sid):
    return d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]


def secret_data(ns):
    s = kubectl_json("get", "secret", "store-credentials", "-n", ns)
    return s["metadata"]["resourceVersion"], {k: base64.b64decode(v) for k, v in s["data"].items()}


def test_three_stores_at_once(cluster_daemon):
    d = cluster_daemon()
    t0 = time.time()
    stores = [create(d, n) for n in ("alpha", "bravo", "charlie")]
    ready = [wait_status(d, s["id"], {"READY", "FAILED"}) for s in stores]
    elapsed = time.time() - t0
    print(f"three stores READY in {elapsed:.1f} s")
    for s in ready:
        assert s["status"] == "READY", s
        name, ns = s["name"], f"store-{s['name']}"
        assert s["url"] == f"http://{name}.shops.test"
        assert s["helm_revision"] == 1 and s["chart_version"] == "0.1.0"
        nsobj = kubectl_json("get", "namespace", ns)
        labels = nsobj["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "storeagent"
        assert labels["storeagent.io/store-id"] == s["id"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        quota = kubectl_json("get", "resourcequota", "store-quota", "-n", ns)
        assert quota["spec"]["hard"]["pods"] == "10" and quota["spec"]["hard"]["limits.memory"] == "2Gi"
        assert kubectl_json("get", "limitrange", "store-limits", "-n", ns)["spec"]["limits"][0]["max"]["memory"] == "1Gi"
        policies = {p["metadata"]["name"] for p in kubectl_json("get", "networkpolicies", "-n", ns)["items"]}
        assert policies == {"default-deny-ingress", "allow-ingress-controller-to-web", "allow-web-to-database",
                            "allow-ingress-controller-to-acme-solver",
                            "default-deny-egress", "allow-dns-egress", "allow-egress-to-database",
                            "allow-egress-to-internet", "allow-egress-to-extra"}
        _, data = secret_data(ns)
        assert len(data["mysql-password"]) == 32 and len(data["admin-password"]) == 24
        st = helm("status", name, "-n", ns, "-o", "json").stdout
        assert '"status":"deployed"' in st.replace(" ", "")
        ing = kubectl_json("get", "ingress", "-n", ns)["items"][0]
        assert ing["spec"]["rules"][0]["host"] == f"{name}.shops.test"
        assert ing["spec"]["ingressClassName"] == "traefik"
        actions = [e["action"] for e in events(d, s["id"])]
        assert actions[0] == "store.create" and actions[-1] == "store.ready"
        assert "helm" in actions and "k8s.event" in actions
        # The last attempt's steps, in order (a transient error, an API server 429 or timeout
        # on a busy machine, makes the task start over and the steps appear again).
        steps = [e["detail"] for e in events(d, s["id"]) if e["action"] == "step"]
        assert steps[-7:] == ["connecting to the cluster", "creating namespace", "applying quota and limits",
                         "applying network policies", "creating secrets", "helm install", "waiting for workloads"]
    # Passwords are not in the daemon's logs.
    _, data = secret_data("store-alpha")
    assert data["mysql-password"].decode() not in d.logs()
    rel = d.request("GET", f"/api/v1/stores/{ready[0]['id']}/releases").json()["items"]
    assert rel[0]["revision"] == 1 and rel[0]["status"] == "deployed" and rel[0]["chart"] == "store-woocommerce-0.1.0"


def test_delete_leaves_nothing(cluster_daemon):
    d = cluster_daemon()
    s = create(d, "gone")
    wait_status(d, s["id"], {"READY"})
    pvcs = kubectl_json("get", "pvc", "-n", "store-gone")["items"]
    assert pvcs and all(p["status"]["phase"] == "Bound" for p in pvcs)
    r = d.request("DELETE", f"/api/v1/stores/{s['id']}")
    assert r.status == 202 and r.json()["status"] == "DELETING"
    s = wait_status(d, s["id"], {"DELETED", "FAILED"})
    assert s["status"] == "DELETED", s
    assert s["deleted_at"]
    assert not namespace_exists("store-gone")
    assert "gone" not in helm("list", "-A", "-q").stdout.split()
    # No PersistentVolume stays claimed by the store (the local PV recycler then makes them Available again).
    def unclaimed():
        return not any((pv["spec"].get("claimRef") or {}).get("namespace") == "store-gone"
                       for pv in kubectl_json("get", "pv")["items"])
    d.wait_for(unclaimed, timeout=60, what="volumes released")
    # The audit trail stays.
    assert d.request("GET", f"/api/v1/stores/{s['id']}").json()["status"] == "DELETED"
    assert [e["action"] for e in events(d, s["id"])][-1] == "store.deleted"
    assert d.request("GET", "/api/v1/stores").json()["total"] == 0
    # The name can be used again.
    s2 = create(d, "gone")
    assert wait_status(d, s2["id"], {"READY", "FAILED"})["status"] == "READY"


def test_unready_chart_fails_with_reason_then_retry(cluster_daemon):
    # Too little memory quota for the chart: the cluster refuses its pods.
    d = cluster_daemon({"stores": {"provision_timeout": 25, "quota": {"memory": "600Mi"}}})
    s = create(d, "tight")
    s = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=120)
    assert s["status"] == "FAILED", s
    assert "exceeded quota" in s["status_reason"], s["status_reason"]
    assert "store.failed" in [e["action"] for e in events(d, s["id"])]

    # Fix the cause (raise the quota through a reload), retry: READY.
    cfg_text = open(d.config_path).read().replace("memory: 600Mi", "memory: 2Gi")
    open(d.config_path, "w").write(cfg_text)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(lambda: "Configuration reloaded" in d.logs(), what="reload")
    t0 = time.time()
    r = d.request("POST", f"/api/v1/stores/{s['id']}/retry")
    assert r.status == 202 and r.json()["status"] == "PROVISIONING"
    s = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=180)
    assert s["status"] == "READY", s
    print(f"READY {time.time() - t0:.1f} s after the retry")
    # The refused StatefulSet was nudged, so its controller did not wait out its backoff
    # (by now about 40 s away, past the retry's 25 s) before creating the pod.
    sts = kubectl_json("get", "statefulset", "tight-mysql", "-n", "store-tight")
    assert "storeagent.io/nudged-at" in sts["metadata"].get("annotations", {}), sts["metadata"]


def test_upgrade_then_rollback_keeps_secrets(cluster_daemon):
    d = cluster_daemon()
    subprocess.run([os.path.join(REPO, "charts", "package.sh"), "--helm", env()["HELM"], "--version", "0.2.0",
                    d.repo], check=True, capture_output=True)
    s = create(d, "evolve")
    s = wait_status(d, s["id"], {"READY"})
    rv_before, data_before = secret_data("store-evolve")
    charts = d.request("GET", "/api/v1/charts").json()["items"]
    assert {"version": "0.2.0"} in charts
    # As a store made before the egress policies existed: the upgrade must bring them back.
    kubectl("delete", "networkpolicy", "default-deny-egress", "allow-egress-to-internet", "-n", "store-evolve")

    r = d.request("POST", f"/api/v1/stores/{s['id']}/upgrade", {"chart_version": "0.2.0"})
    assert r.status == 202 and r.json()["status"] == "UPGRADING"
    s = wait_status(d, s["id"], {"READY", "FAILED"})
    assert s["status"] == "READY" and s["helm_revision"] == 2 and s["chart_version"] == "0.2.0", s
    policies = {p["metadata"]["name"] for p in kubectl_json("get", "networkpolicy", "-n", "store-evolve")["items"]}
    assert {"default-deny-egress", "allow-egress-to-internet"} <= policies, policies

    r = d.request("POST", f"/api/v1/stores/{s['id']}/rollback", {"revision": 1})
    assert r.status == 202
    s = wait_status(d, s["id"], {"READY", "FAILED"})
    assert s["status"] == "READY" and s["helm_revision"] == 3 and s["chart_version"] == "0.1.0", s
    assert secret_data("store-evolve") == (rv_before, data_before)
    actions = [e["action"] for e in events(d, s["id"])]
    assert "store.upgrade" in actions and "store.upgraded" in actions and "store.rolled_back" in actions
    revs = [x["revision"] for x in d.request("GET", f"/api/v1/stores/{s['id']}/releases").json()["items"]]
    assert revs == [1, 2, 3]

    # A rollback to a revision that does not exist is accepted as a task, refused by helm, and said so;
    # the store goes back to READY and its release is left exactly as it was.
    r = d.request("POST", f"/api/v1/stores/{s['id']}/rollback", {"revision": 42})
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r

    def refused():
        return [e for e in events(d, s["id"]) if e["action"] == "store.rollback_failed"]
    failed = d.wait_for(refused, timeout=120, what="the refused rollback in the timeline")
    assert failed[0]["detail"].startswith("Rollback to revision 42 failed: "), failed
    s = wait_status(d, s["id"], {"READY", "FAILED"})
    assert s["status"] == "READY", s
    assert s["status_reason"] == failed[0]["detail"], s
    assert s["helm_revision"] == 3 and s["chart_version"] == "0.1.0", s
    history = json.loads(helm("history", "evolve", "-n", "store-evolve", "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "superseded"),
                                                                (3, "deployed")], history
    revs = [x["revision"] for x in d.request("GET", f"/api/v1/stores/{s['id']}/releases").json()["items"]]
    assert revs == [1, 2, 3]
    assert secret_data("store-evolve") == (rv_before, data_before)


def test_upgrade_keeps_claim_size_local_path_cannot_expand(cluster_daemon):
    """stores.storage.mysql raised after a store exists: on k3s's local-path class (no expansion)
    the API server refuses a larger claim, so the chart keeps the claim's size, the upgrade
    succeeds instead of rolling back, and the store's event says which volume kept what, and why."""
    d = cluster_daemon()
    subprocess.run([os.path.join(REPO, "charts", "package.sh"), "--helm", env()["HELM"], "--version", "0.2.0",
                    d.repo], check=True, capture_output=True)
    s = create(d, "roomy")
    s = wait_status(d, s["id"], {"READY"})
    cfg = yaml.safe_load(open(d.config_path))
    cfg["stores"]["storage"] = {"mysql": "3Gi"}
    with open(d.config_path, "w") as f:
        yaml.safe_dump(cfg, f)
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(lambda: "Configuration reloaded" in d.logs(), what="reload")

    r = d.request("POST", f"/api/v1/stores/{s['id']}/upgrade", {"chart_version": "0.2.0"})
    assert r.status == 202, r
    d.wait_for(lambda: {"store.upgraded", "store.upgrade_failed"} & {e["action"] for e in events(d, s["id"])},
               timeout=180, interval=0.5, what="the upgrade's outcome in the timeline")
    s = wait_status(d, s["id"], {"READY", "FAILED"})
    assert s["status"] == "READY" and s["helm_revision"] == 2 and s["chart_version"] == "0.2.0", s
    upgraded = [e for e in events(d, s["id"]) if e["action"] == "store.upgraded"]
    assert upgraded, events(d, s["id"])
    assert upgraded[-1]["detail"] == ('Upgraded to chart version 0.2.0. Volume roomy-mysql-data kept 2Gi: '
                                      'StorageClass "local-path" does not allow volume expansion (requested 3Gi).'), \
        upgraded[-1]
    pvc = kubectl_json("get", "pvc", "roomy-mysql-data", "-n", "store-roomy")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi", pvc["spec"]


def test_failed_upgrade_rolls_back(cluster_daemon, tmp_path):
    d = cluster_daemon({"stores": {"provision_timeout": 20}})
    # Version 0.3.0 asks for more memory than the quota admits: it can never become ready.
    bad = tmp_path / "bad-chart"
    subprocess.run(["cp", "-r", CHART, str(bad)], check=True)
    vals = (bad / "values.yaml").read_text()
    (bad / "values.yaml").write_text(vals.replace("memory: 768Mi", "memory: 1900Mi", 1))
    helm("package", str(bad), "--version", "0.3.0", "-d", d.repo)
    s = create(d, "brave")
    s = wait_status(d, s["id"], {"READY"})
    r = d.request("POST", f"/api/v1/stores/{s['id']}/upgrade", {"chart_version": "0.3.0"})
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r
    # Done when the upgrade's failure is recorded (the store was READY before it, so a READY
    # status alone could be the old one).
    d.wait_for(lambda: "store.upgrade_failed" in [e["action"] for e in events(d, s["id"])], timeout=180,
               interval=0.5, what="the failed upgrade in the timeline")
    s = wait_status(d, s["id"], {"READY", "FAILED"})
    assert s["status"] == "READY", s
    assert "Upgrade to 0.3.0 failed" in s["status_reason"] and "rolled back to revision 1" in s["status_reason"]
    assert s["chart_version"] == "0.1.0"


def test_release_history_starts_no_helm(cluster_daemon, tmp_path):
    """GET .../releases answers from what the store's last task kept, ready the moment the store is
    READY: reading it, however often, starts no helm process."""
    calls = tmp_path / "helm-calls"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> {calls}\nexec {env()["HELM"]} "$@"\n')
    wrapper.chmod(0o755)
    d = cluster_daemon(config={"helm": {"binary": str(wrapper)}})
    s = create(d, "history")
    s = wait_status(d, s["id"], {"READY", "FAILED"})
    assert s["status"] == "READY", s
    before = calls.read_text().split()
    assert "history" in before  # the task read it once, as it ended
    for _ in range(20):
        items = d.request("GET", f"/api/v1/stores/{s['id']}/releases").json()["items"]
        assert [(x["revision"], x["status"]) for x in items] == [(1, "deployed")], items
    assert calls.read_text().split() == before, "reading the release history started helm"
