# SPDX-License-Identifier: Apache-2.0
"""Waiting for a store's workloads holds no worker: with a single worker, stores whose pods cannot start yet
do not keep another store from becoming READY; a daemon killed while stores wait resumes their waits (it
does not install them again) and they become READY when their pods can run. A volume claim that can never
bind fails its store fast, with the cluster's reason."""

import os
import shutil
import signal
import stat

from conftest import REPO, env, kubectl, kubectl_json, wait_status

LABEL = "storeagent.test/waiting-room"


def create(d, name):
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    return r.json()


def events(d, sid):
    return d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]


def store(d, sid):
    return d.request("GET", f"/api/v1/stores/{sid}").json()


def chart_copy(tmp_path, old, new):
    chart = tmp_path / "chart"
    shutil.copytree(os.path.join(REPO, "charts", "store-woocommerce"), chart)
    values = chart / "values.yaml"
    text = values.read_text()
    assert old in text
    values.write_text(text.replace(old, new))
    return chart


def test_stores_that_wait_hold_no_worker_and_resume_after_kill9(cluster_daemon, tmp_path):
    # The stuck stores' pods ask for a node label no node has yet: nothing the store can fix, and with
    # unschedulable_timeout at its largest the stores keep waiting until a node gets the label.
    stuck = chart_copy(tmp_path, "\nnodeSelector: {}\n", f'\nnodeSelector: {{{LABEL}: "yes"}}\n')
    d = cluster_daemon({"chart": {"path": str(stuck)}, "workers": 1,
                        "limits": {"requests_per_window": 100000},
                        "stores": {"unschedulable_timeout": 86400, "provision_timeout": 900}})
    node = None
    try:
        a = create(d, "wait-stuck-a")
        b = create(d, "wait-stuck-b")
        for s in (a, b):
            d.wait_for(lambda: (store(d, s["id"])["step"] or "").startswith("waiting for workloads"),
                       timeout=120, what=f"{s['name']} waiting for its workloads")

        # Stores made from now on can run: a third store gets the single worker and becomes READY while
        # the other two still wait (and say what for).
        cfg = open(d.config_path).read().replace(str(stuck), os.path.join(REPO, "charts", "store-woocommerce"))
        open(d.config_path, "w").write(cfg)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: "Configuration reloaded" in d.logs(), what="reload")
        c = create(d, "wait-free-c")
        c = wait_status(d, c["id"], {"READY", "FAILED"}, timeout=120)
        assert c["status"] == "READY", c
        for s in (a, b):
            now = store(d, s["id"])
            assert now["status"] == "PROVISIONING", now
            assert now["step"].startswith("waiting for workloads: "), now
            assert now["progress"] == {"current": 7, "total": 7}, now

        # Killed while both wait: the next start goes back to their waits, without a second helm install.
        d.stop(sig=signal.SIGKILL)
        d.start()
        node = [n["metadata"]["name"] for n in kubectl_json("get", "nodes", "-l", "type=kwok")["items"]
                if not n["spec"].get("unschedulable")][0]
        kubectl("label", "node", node, f"{LABEL}=yes", "--overwrite")
        for s in (a, b):
            done = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=180)
            assert done["status"] == "READY", done
            assert done["helm_revision"] == 1, done
            installs = [e for e in events(d, s["id"]) if e["action"] == "step" and e["detail"] == "helm install"]
            assert len(installs) == 1, installs
    finally:
        if node:
            kubectl("label", "node", node, f"{LABEL}-", check=False)


def test_claim_that_never_binds_fails_fast_with_the_reason(cluster_daemon, tmp_path):
    chart = chart_copy(tmp_path, '\n    storageClass: ""\n', '\n    storageClass: "storeagent-test-none"\n')
    d = cluster_daemon({"chart": {"path": str(chart)}, "limits": {"requests_per_window": 100000},
                        "stores": {"unschedulable_timeout": 2, "provision_timeout": 900}})
    s = create(d, "no-such-class")
    # Well before the provision timeout (900 s): this wait fails if only that ended the store.
    s = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=120)
    assert s["status"] == "FAILED", s
    assert "cannot be bound" in s["status_reason"], s
    assert 'storageclass.storage.k8s.io "storeagent-test-none" not found' in s["status_reason"], s


def test_stale_quota_count_is_recounted(cluster_daemon, tmp_path):
    """A ResourceQuota whose usage is wrong, as kube-controller-manager can leave it for minutes after the
    API server restarted (it counted pods twice), refuses the store's pods; the agent has it counted again
    and the store becomes READY, instead of waiting for the controller's full resync (5 minutes).

    Stand-in: the wrapper below plays the stale count. Before the real helm install it waits for the quota
    controller's first count, then writes a usage that fills the quota (through the status subresource, as
    the controller does). The controller's own resync is minutes away, and no pod of the store exists to
    end (which would make it count again), so only the agent's recount lets the pods in."""
    e = env()
    marker = tmp_path / "stale-once"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f"""#!/bin/bash
if [ "$1" = upgrade ] && [ ! -e {marker} ]; then
    touch {marker}
    args=("$@"); ns=
    for i in "${{!args[@]}}"; do
        [ "${{args[$i]}}" = --namespace ] && ns=${{args[$((i + 1))]}}
    done
    k() {{ {e["KUBECTL"]} --kubeconfig {e["KUBECONFIG"]} -n "$ns" "$@"; }}
    for _ in $(seq 600); do
        [ -n "$(k get resourcequota store-quota -o 'jsonpath={{.status.used.pods}}')" ] && break
        sleep 0.1
    done
    hard=$(k get resourcequota store-quota -o 'jsonpath={{.status.hard}}')
    k patch resourcequota store-quota --subresource=status --type=merge -p "{{\\"status\\":{{\\"used\\":$hard}}}}" >&2
fi
exec {e["HELM"]} "$@"
""")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    d = cluster_daemon({"helm": {"binary": str(wrapper)}, "limits": {"requests_per_window": 100000},
                        "stores": {"provision_timeout": 900}})
    s = create(d, "stale-quota")
    # Well before the controller's resync (300 s): without the recount the store would still wait here.
    s = wait_status(d, s["id"], {"READY", "FAILED"}, timeout=150)
    assert marker.exists()
    assert s["status"] == "READY", s
    evs = events(d, s["id"])
    recounts = [ev["detail"] for ev in evs if ev["action"] == "quota.recounted"]
    assert len(recounts) == 1 and "asked the cluster to count its usage again" in recounts[0], recounts
    assert "workloads.nudged" in [ev["action"] for ev in evs]
    assert d.request("DELETE", f"/api/v1/stores/{s['id']}").status == 202
    wait_status(d, s["id"], {"DELETED"}, timeout=120)
