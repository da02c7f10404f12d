# SPDX-License-Identifier: Apache-2.0
"""The README's first command, contrib/demo, on the running control plane: it sets up, starts
storeagentd and prints the dashboard URL and a token, with which a store is created, becomes READY
and is deleted (nothing of it left in the cluster); the metrics API the resource charts read answers for that store.

Stand-in: kwok runs no container, so the demo's simulated use (a kwok ClusterResourceUsage) is what
metrics-server reports; the test removes it at the end so that the other tests of this control plane
see only their own."""

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

from conftest import REPO, env, kubectl, kubectl_json
from daemon import BUILD, free_port

DEMO = os.path.join(REPO, "contrib", "demo")
NAME = "demo-smoke"


def api(port, token, method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except urllib.error.URLError as e:   # not listening yet
        return 0, str(e).encode()


def wait(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.5)


def read_until_token(proc, out, timeout):
    """The demo's output up to its token line (the daemon starts right after it); a thread reads
    the pipe, so that a line Python has buffered is never waited for."""
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] and None, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                raise AssertionError(f"contrib/demo exited {proc.returncode}:\n" + "".join(out)[-4000:])
            continue
        out.append(line)
        m = re.search(r"API token:\s+(\S+)", line)
        if m:
            return m.group(1)
    raise AssertionError(f"no token from contrib/demo after {timeout} s:\n" + "".join(out)[-4000:])


def test_demo_serves_a_store_end_to_end(tmp_path):
    if os.path.realpath(BUILD) != os.path.realpath(os.path.join(REPO, "build")):
        # The demo builds into the repository's build/; another build dir would mean a second build.
        import pytest
        pytest.skip(f"contrib/demo builds into {REPO}/build, the tests use {BUILD}")
    e = env()
    port = free_port()
    run_env = dict(os.environ, STOREAGENT_DEMO_DIR=str(tmp_path / "demo"),
                   STOREAGENT_CLUSTER_DIR=e["STOREAGENT_CLUSTER_DIR"],
                   STOREAGENT_CLUSTER_PORT_BASE=str(urlparse(e["STOREAGENT_CLUSTER_API"]).port))
    out = []
    proc = subprocess.Popen([DEMO, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=run_env, cwd=REPO, start_new_session=True)
    try:
        token = read_until_token(proc, out, timeout=1800)   # a cold cache builds metrics-server first
        wait("the demo's daemon to answer /healthz",
             lambda: api(port, token, "GET", "/healthz")[0] == 200, timeout=60)
        status, page = api(port, token, "GET", "/")
        assert status == 200 and b"<html" in page.lower(), page[:300]

        status, body = api(port, token, "POST", "/api/v1/stores", {"name": NAME, "engine": "woocommerce"})
        assert status in (201, 202), body
        sid = json.loads(body)["id"]

        def ready():
            s = json.loads(api(port, token, "GET", f"/api/v1/stores/{sid}")[1])
            assert s["status"] != "FAILED", s
            return s["status"] == "READY"
        wait(f"store {NAME} READY", ready, timeout=240)

        seen = []

        def millicores(q):
            for suffix, scale in (("n", 1e-6), ("u", 1e-3), ("m", 1)):
                if q.endswith(suffix):
                    return float(q[:-1]) * scale
            return float(q) * 1000

        def simulated_use():
            p = kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/store-{NAME}/pods", check=False)
            seen[:] = [p.stdout[-600:] or p.stderr[-600:]]
            if p.returncode != 0:
                return None
            cpu = [millicores(c["usage"]["cpu"]) for i in json.loads(p.stdout)["items"] for c in i["containers"]]
            return cpu if cpu and all(abs(c - 25) <= 2 for c in cpu) else None
        try:
            wait("the metrics API to report the demo's simulated use", simulated_use, timeout=180)
        except AssertionError as e:
            raise AssertionError(f"{e}; last answer: {seen}") from None

        assert api(port, token, "DELETE", f"/api/v1/stores/{sid}")[0] in (200, 202, 204)
        wait(f"store {NAME} DELETED", lambda: json.loads(
            api(port, token, "GET", f"/api/v1/stores/{sid}")[1]).get("status") == "DELETED", timeout=240)
        assert not [n for n in kubectl_json("get", "namespaces")["items"]
                    if n["metadata"]["name"] == f"store-{NAME}"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        kubectl("delete", "clusterresourceusage", "storeagent-demo-simulated-usage", "--ignore-not-found",
                check=False)
