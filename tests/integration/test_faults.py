# SPDX-License-Identifier: Apache-2.0
"""Faults: kill -9 of the daemon mid-create and mid-delete, a killed helm, an unreachable API server,
and the least-privilege identity from contrib/rbac."""

import os
import signal
import stat
import subprocess
import sys

import pytest
from conftest import REPO, env, helm, kubectl, kubectl_json, namespace_exists, wait_status


def create(d, name):
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    return r.json()


def events(d, sid):
    return d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]


def orphaned_releases():
    return [line for line in helm("list", "-A", "-q", "--pending", "--failed", "--uninstalling").stdout.split() if line]


def test_kill9_mid_create_and_mid_delete(cluster_daemon):
    d = cluster_daemon()
    a = create(d, "crash-create")
    # Kill while the task is in the middle of its steps (after the namespace exists).
    d.wait_for(lambda: namespace_exists("store-crash-create"), timeout=60, interval=0.05, what="namespace created")
    d.stop(sig=signal.SIGKILL)
    d.start()
    a = wait_status(d, a["id"], {"READY", "FAILED"})
    assert a["status"] == "READY", a
    connects = [e for e in d.request("GET", f"/api/v1/stores/{a['id']}/events").json()["items"]
               if e["detail"] == "connecting to the cluster"]
    assert len(connects) >= 2, d.logs()  # the task ran again after the restart

    b = create(d, "crash-delete")
    wait_status(d, b["id"], {"READY"})
    # A finalizer holds the namespace in Terminating (as a slow volume or a webhook would), so the
    # delete task is certainly still at work when the daemon is killed.
    kubectl("create", "configmap", "hold", "-n", "store-crash-delete")
    kubectl("patch", "configmap", "hold", "-n", "store-crash-delete", "--type=merge",
            "-p", '{"metadata":{"finalizers":["storeagent.test/hold"]}}')
    try:
        r = d.request("DELETE", f"/api/v1/stores/{b['id']}")
        assert r.status == 202 and r.json()["status"] == "DELETING", r
        waits = lambda: [e for e in events(d, b["id"])  # noqa: E731
                         if e["detail"] == "waiting for the namespace to disappear"]
        d.wait_for(lambda: len(waits()) == 1, timeout=60, interval=0.05,
                   what="the delete task waiting for the namespace to go")
        assert namespace_exists("store-crash-delete")
        d.stop(sig=signal.SIGKILL)
        first_run = d.logs()
        d.start()
        # The task was leased when the daemon died: the next start hands it out again at once,
        # and it goes through its steps again up to the wait for the namespace.
        d.wait_for(lambda: "Resuming 1 task(s) interrupted by the previous run." in d.logs()[len(first_run):],
                   timeout=10, what="the interrupted delete task resumed")
        d.wait_for(lambda: len(waits()) == 2, timeout=60, interval=0.2,
                   what="the delete task at work again after the restart")
        assert d.request("GET", f"/api/v1/stores/{b['id']}").json()["status"] == "DELETING"
    finally:
        kubectl("patch", "configmap", "hold", "-n", "store-crash-delete", "--type=merge",
                "-p", '{"metadata":{"finalizers":null}}', check=False)
    b = wait_status(d, b["id"], {"DELETED", "FAILED"})
    assert b["status"] == "DELETED", b
    assert not namespace_exists("store-crash-delete")
    assert "crash-delete" not in orphaned_releases()
    # Nothing orphaned: every namespace labelled as ours belongs to a live store.
    ours = kubectl_json("get", "namespaces", "-l", "app.kubernetes.io/managed-by=storeagent")["items"]
    live = {s["id"] for s in d.request("GET", "/api/v1/stores").json()["items"]}
    assert {n["metadata"]["labels"]["storeagent.io/store-id"] for n in ours if
            n["metadata"]["name"] in ("store-crash-create", "store-crash-delete")} <= live


@pytest.mark.parametrize("left,exit_code", [("pending-install", 137), ("failed", 143)])
def test_killed_helm_leaves_pending_release_that_is_repaired(cluster_daemon, tmp_path, left, exit_code):
    """A helm killed mid-install leaves the release pending-install (SIGKILL) or failed (SIGTERM: helm
    marks it so as it exits); the next attempt repairs it. A failed first install used to stay: every
    later `helm upgrade --install` said "has no deployed releases" and the store ended FAILED (seen in
    test_kill9_at_random_points_converges).

    Stand-in: the wrapper below plays a helm that is killed after writing its release record (it runs
    the real helm, rewrites the record's status with helm_release.py, and exits as a killed process
    does). A real kill would race helm on this fast control plane."""
    e = env()
    marker = tmp_path / "killed-once"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f"""#!/bin/bash
if [ "$1" = upgrade ] && [ ! -e {marker} ]; then
    touch {marker}
    {e["HELM"]} "$@" >/dev/null 2>&1
    args=("$@"); rel=; ns=
    for i in "${{!args[@]}}"; do
        case ${{args[$i]}} in
        --install) rel=${{args[$((i + 1))]}} ;;
        --namespace) ns=${{args[$((i + 1))]}} ;;
        esac
    done
    {sys.executable} {os.path.join(os.path.dirname(os.path.abspath(__file__)), "helm_release.py")} \
        {e["KUBECTL"]} "$KUBECONFIG" "$ns" "$rel" {left}
    exit {exit_code}
fi
exec {e["HELM"]} "$@"
""")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    d = cluster_daemon({"helm": {"binary": str(wrapper)}})
    name = "helmkill-" + left.split("-")[0]
    s = create(d, name)
    s = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=240)
    assert marker.exists()
    assert s["status"] == "READY", s
    repairs = [ev for ev in d.request("GET", f"/api/v1/stores/{s['id']}/events").json()["items"]
               if ev["action"] == "helm.repair"]
    assert repairs and f"left {left}" in repairs[0]["detail"], repairs
    assert '"status":"deployed"' in helm("status", name, "-n", f"store-{name}", "-o", "json").stdout.replace(" ", "")
    # Gone again, so that its pods take no room from the tests after it.
    assert d.request("DELETE", f"/api/v1/stores/{s['id']}").status == 202
    wait_status(d, s["id"], {"DELETED"}, timeout=120)


def test_pending_release_repaired_at_startup(cluster_daemon):
    """A release left pending-upgrade with no task running is rolled back when the daemon starts."""
    e = env()
    d = cluster_daemon()
    s = create(d, "stuck")
    wait_status(d, s["id"], {"READY"})
    d.stop()
    helm("upgrade", "stuck", os.path.join(REPO, "charts", "store-woocommerce"), "-n", "store-stuck", "--reuse-values")
    subprocess.run(["python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "helm_release.py"),
                    e["KUBECTL"], e["KUBECONFIG"], "store-stuck", "stuck", "pending-upgrade"], check=True)
    assert "pending-upgrade" in helm("status", "stuck", "-n", "store-stuck", "-o", "json").stdout
    d.start()
    d.wait_for(lambda: "pending-upgrade" not in helm("status", "stuck", "-n", "store-stuck", "-o", "json").stdout,
               timeout=60, what="startup repair")
    d.wait_for(lambda: "helm.repair" in [ev["action"] for ev in
                                         d.request("GET", f"/api/v1/stores/{s['id']}/events").json()["items"]],
               timeout=30, what="repair recorded in the timeline")
    assert '"status":"deployed"' in helm("status", "stuck", "-n", "store-stuck", "-o", "json").stdout.replace(" ", "")


def test_unreachable_api_server_waits_and_says_why(cluster_daemon, tmp_path):
    bad = tmp_path / "unreachable.yaml"
    real = open(env()["KUBECONFIG"]).read()
    import re
    bad.write_text(re.sub(r"server: https://127\.0\.0\.1:\d+", "server: https://127.0.0.1:1", real))
    d = cluster_daemon(kubeconfig=str(bad))
    s = create(d, "patient")
    d.wait_for(lambda: "Waiting for the cluster" in (d.request("GET", f"/api/v1/stores/{s['id']}").json()
                                                     .get("status_reason") or ""), timeout=60, what="waiting reason")
    s = d.request("GET", f"/api/v1/stores/{s['id']}").json()
    assert s["status"] == "PROVISIONING"
    assert "127.0.0.1:1" in s["status_reason"] or "onnect" in s["status_reason"], s["status_reason"]
    r = d.request("GET", "/readyz")  # the details are an admin's
    assert r.status == 503 and r.json()["checks"]["cluster"]["ok"] is False
    # The cluster comes back (the right kubeconfig is put in place): the same task goes on to READY.
    bad.write_text(real)
    d.proc.send_signal(signal.SIGHUP)
    s = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=240)
    assert s["status"] == "READY", s


def test_least_privilege_kubeconfig(cluster_daemon, tmp_path):
    out = tmp_path / "agent.kubeconfig"
    p = subprocess.run([os.path.join(REPO, "contrib", "rbac", "install"), "--kubeconfig", env()["KUBECONFIG"],
                        "--output", str(out)], capture_output=True, text=True, env=dict(os.environ, KUBECTL=env()["KUBECTL"]))
    assert p.returncode == 0, p.stderr
    # The agent's identity cannot read Secrets in kube-system, nor create namespaces outside store-*.
    r = kubectl("get", "secrets", "-n", "kube-system", kubeconfig=str(out), check=False)
    assert r.returncode != 0 and "forbidden" in r.stderr.lower()
    r = kubectl("create", "namespace", "not-a-store", kubeconfig=str(out), check=False)
    assert r.returncode != 0
    r = kubectl("auth", "can-i", "list", "secrets", "-n", "default", kubeconfig=str(out), check=False)
    assert r.stdout.strip() == "no"

    d = cluster_daemon(kubeconfig=str(out))
    s = create(d, "leastpriv")
    s = wait_status(d, s["id"], {"READY", "FAILED"})
    assert s["status"] == "READY", s
    rb = kubectl_json("get", "rolebinding", "storeagent-store", "-n", "store-leastpriv")
    assert rb["subjects"][0]["name"] == "storeagent"
    d.request("DELETE", f"/api/v1/stores/{s['id']}")
    s = wait_status(d, s["id"], {"DELETED", "FAILED"})
    assert s["status"] == "DELETED", s
    assert not namespace_exists("store-leastpriv")
