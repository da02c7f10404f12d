# SPDX-License-Identifier: Apache-2.0
"""Provisioning tests: the real daemon against the real control plane from tests/cluster."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))

import daemon as daemon_module  # noqa: E402
from daemon import REPO, Daemon  # noqa: E402


def cluster_env():
    path = os.path.join(os.environ.get("STOREAGENT_CLUSTER_DIR", "/tmp/storeagent-cluster"), "env")
    if not os.path.exists(path):
        pytest.fail(f"the control plane is not up ({path} missing): run tests/cluster/up", pytrace=False)
    env = {}
    for line in open(path):
        if "=" in line and not line.startswith("#"):
            k, v = line.strip().split("=", 1)
            env[k] = v.strip("'\"")
    return env


ENV = None


def env():
    global ENV
    if ENV is None:
        ENV = cluster_env()
    return ENV


def kubectl(*args, check=True, kubeconfig=None):
    e = env()
    p = subprocess.run([e["KUBECTL"], "--kubeconfig", kubeconfig or e["KUBECONFIG"], *args], capture_output=True,
                       text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {p.stderr}")
    return p


def kubectl_json(*args, **kw):
    return json.loads(kubectl(*args, "-o", "json", **kw).stdout)


def helm(*args, check=True):
    e = env()
    p = subprocess.run([e["HELM"], "--kubeconfig", e["KUBECONFIG"], *args], capture_output=True, text=True,
                       timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)}: {p.stderr}")
    return p


def namespace_exists(name):
    return kubectl("get", "namespace", name, check=False).returncode == 0


@pytest.fixture(autouse=True)
def daemons_exit_cleanly(cleanup_namespaces):
    """Each daemon a test started must still be able to stop cleanly at its end (or have been
    stopped cleanly by the test): a crash or a hang on SIGTERM is an error of that test. (It asks
    for cleanup_namespaces so that the daemons stop before their namespaces are deleted.)"""
    since = len(daemon_module.INSTANCES)
    yield
    daemon_module.check_daemons_exit_cleanly(since)


@pytest.fixture
def cluster_daemon(tmp_path):
    started = []

    def make(config=None, start=True, kubeconfig=None, **kw):
        e = env()
        repo = tmp_path / "charts"
        repo.mkdir(exist_ok=True)
        cfg = {
            "kubeconfig": kubeconfig or e["KUBECONFIG"],
            "helm": {"binary": e["HELM"], "timeout": 120},
            "chart": {"path": os.path.join(REPO, "charts", "store-woocommerce"), "repository": str(repo)},
            "stores": {"provision_timeout": 120, "base_domain": "shops.test"},
            "workers": 3,
            "limits": {"creates_per_hour": 100, "max_pending_tasks": 50},
        }
        for k, v in (config or {}).items():
            if isinstance(v, dict) and isinstance(cfg.get(k), dict):
                cfg[k].update(v)
            else:
                cfg[k] = v
        d = Daemon(config=cfg, workdir=str(tmp_path / f"d{len(started)}"), **kw)
        d.repo = str(repo)
        d.token = d.create_token()
        if start:
            d.start()
        started.append(d)
        return d

    yield make  # daemons_exit_cleanly stops them and checks how they ended


def wait_status(d, sid, statuses, timeout=180):
    def check():
        r = d.request("GET", f"/api/v1/stores/{sid}")
        s = r.json()
        return s if s["status"] in statuses else None
    return d.wait_for(check, timeout=timeout, interval=0.5, what=f"store {sid} in {statuses}")


@pytest.fixture(scope="session", autouse=True)
def clean_slate():
    """Store namespaces left by an interrupted earlier run would collide with this run's names."""
    leftovers = [n["metadata"]["name"] for n in kubectl_json("get", "namespaces")["items"]
                 if n["metadata"]["name"].startswith("store-")]
    if leftovers:
        kubectl("delete", "namespace", *leftovers, "--wait=true", "--timeout=180s", check=False)
    yield


@pytest.fixture(autouse=True)
def cleanup_namespaces():
    before = set(n["metadata"]["name"] for n in kubectl_json("get", "namespaces")["items"])
    yield
    after = set(n["metadata"]["name"] for n in kubectl_json("get", "namespaces")["items"])
    for ns in after - before:
        if ns.startswith("store-"):
            kubectl("delete", "namespace", ns, "--wait=false", check=False)
