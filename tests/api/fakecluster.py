# SPDX-License-Identifier: Apache-2.0
"""A stand-in Kubernetes API server and helm, enough for the daemon's tasks to run end to end, and a
gate in helm that holds a task inside its helm run until the test lets it go.

The API server keeps objects in memory by path: apply (PATCH) and POST store them, GET reads them,
lists return what is stored under a collection, DELETE removes them. Every Job list answers a setup
Job that has completed, so a store whose helm run succeeded becomes READY at the first look, and the
node list one large Ready node, so that every create fits.

The helm is a script. `upgrade`, `uninstall` and `rollback` each announce themselves by creating
GATE/entered-<verb>-<n> and, while GATE/hold exists, wait for GATE/release-<n> (the test creates it):
the task is then known to be inside helm, and stays there for as long as the test needs.
GATE/fail-upgrade makes the next upgrade fail with a non-transient helm error.

hold_reads(path) makes the API server hold every GET of that path, as an API server that is slow to
answer does, until the test lets them go (release_reads()).
"""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import yaml


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _status(self, code, reason, message):
        self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                          "message": message, "code": code})

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return yaml.safe_load(raw) if raw else None

    def do_GET(self):
        c = self.server.cluster
        url = urlsplit(self.path)
        path = url.path
        if path == "/version":
            return self._send(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake"})
        held = c.held_reads.get(path)
        if held:
            held["entered"].set()
            held["release"].wait(120)
        if "watch=" in url.query:
            time.sleep(0.2)  # a watch that sees nothing happen
            return self._send(200, {})
        with c.lock:
            if path in c.objects:
                return self._send(200, c.objects[path])
            items = [o for p, o in c.objects.items() if p.rsplit("/", 1)[0] == path]
        if path.endswith("/jobs"):
            items = items + [{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "setup"},
                              "status": {"succeeded": 1,
                                         "conditions": [{"type": "Complete", "status": "True"}]}}]
        if path == "/api/v1/nodes":  # one node with room for every store a test makes (capacity admission)
            items = items + [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "fake-node"},
                              "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
                                         "conditions": [{"type": "Ready", "status": "True"}]}}]
        if c.is_collection(path):
            return self._send(200, {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
                                    "items": items})
        return self._status(404, "NotFound", f"{path} not found")

    def _store(self, path, obj):
        c = self.server.cluster
        obj = dict(obj or {})
        meta = obj.setdefault("metadata", {})
        meta.setdefault("resourceVersion", "1")
        if path.startswith("/api/v1/namespaces/") and path.count("/") == 4:
            obj["status"] = {"phase": "Active"}
        with c.lock:
            c.objects[path] = obj
            c.requests.append((self.command, path))
        return obj

    def do_PATCH(self):
        path = urlsplit(self.path).path
        self._send(200, self._store(path, self._body()))

    def do_POST(self):
        path = urlsplit(self.path).path
        body = self._body() or {}
        if path.endswith("/selfsubjectreviews"):
            return self._send(201, {"status": {"userInfo": {"username": "system:serviceaccount:storeagent:agent"}}})
        name = (body.get("metadata") or {}).get("name")
        if name:
            path = f"{path}/{name}"
        with self.server.cluster.lock:
            if path in self.server.cluster.objects:
                return self._status(409, "AlreadyExists", f"{path} already exists")
        self._send(201, self._store(path, body))

    def do_DELETE(self):
        c = self.server.cluster
        path = urlsplit(self.path).path
        with c.lock:
            c.requests.append(("DELETE", path))
            gone = [p for p in c.objects if p == path or p.startswith(path + "/")]
            # A namespace takes what is in it along.
            if path.startswith("/api/v1/namespaces/"):
                ns = path.split("/")[4]
                gone += [p for p in c.objects if f"/namespaces/{ns}/" in p]
            for p in set(gone):
                c.objects.pop(p, None)
        if not gone:
            return self._status(404, "NotFound", f"{path} not found")
        self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})


HELM = r"""#!/bin/sh
# A stand-in helm (tests/api/fakecluster.py).
gate=@GATE@
verb=$1
case $verb in
upgrade|uninstall|rollback)
	n=$(ls "$gate" | grep -c '^entered-')
	: > "$gate/entered-$verb-$n"
	# The values file the agent gave, kept for the test to read (values-N.json).
	prev=
	for a in "$@"; do
		[ "$prev" = --values ] && cp "$a" "$gate/values-$n.json"
		prev=$a
	done
	while [ -e "$gate/hold" ] && [ ! -e "$gate/release-$n" ]; do sleep 0.05; done
	if [ "$verb" = upgrade ] && [ -e "$gate/fail-upgrade" ]; then
		rm -f "$gate/fail-upgrade"
		echo 'Error: UPGRADE FAILED: template: store-woocommerce/templates/web.yaml:3: bad value' >&2
		exit 1
	fi
	echo "Release \"$3\" has been upgraded. Happy Helming!"
	exit 0 ;;
status)
	echo 'Error: release: not found' >&2
	exit 1 ;;
history)
	echo '[{"revision":1,"updated":"2026-01-01T00:00:00Z","status":"deployed","chart":"store-woocommerce-0.1.0","app_version":"1","description":"Install complete"}]'
	exit 0 ;;
*)
	echo '[]'
	exit 0 ;;
esac
"""


class FakeCluster:
    def __init__(self, workdir):
        self.objects = {}
        self.requests = []
        self.held_reads = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.cluster = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.gate = os.path.join(workdir, "helm-gate")
        os.makedirs(self.gate, exist_ok=True)
        self.helm = os.path.join(workdir, "helm")
        with open(self.helm, "w") as f:
            f.write(HELM.replace("@GATE@", self.gate))
        os.chmod(self.helm, 0o755)
        self.kubeconfig = os.path.join(workdir, "fake-cluster.yaml")
        with open(self.kubeconfig, "w") as f:
            yaml.safe_dump({
                "apiVersion": "v1", "kind": "Config", "current-context": "fake",
                "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{self.server.server_port}"}}],
                "users": [{"name": "agent", "user": {"token": "fake"}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "agent"}}],
            }, f)
        self.chart = os.path.join(workdir, "chart")
        os.makedirs(self.chart, exist_ok=True)
        with open(os.path.join(self.chart, "Chart.yaml"), "w") as f:
            f.write("apiVersion: v2\nname: store-woocommerce\nversion: 0.1.0\n")
        self.repo = os.path.join(workdir, "charts")
        os.makedirs(self.repo, exist_ok=True)
        open(os.path.join(self.repo, "store-woocommerce-0.2.0.tgz"), "wb").close()

    @staticmethod
    def is_collection(path):
        parts = path.strip("/").split("/")
        # /api/v1/<res>, /api/v1/namespaces/<ns>/<res>, /apis/<g>/<v>/<res>, /apis/<g>/<v>/namespaces/<ns>/<res>
        n = len(parts) - (1 if parts[0] == "api" else 2)
        return n in (2, 4)

    def config(self):
        """The daemon's configuration keys that point it at this cluster and helm."""
        return {"kubeconfig": self.kubeconfig, "helm": {"binary": self.helm},
                "chart": {"path": self.chart, "repository": self.repo}}

    # ---- the helm gate ----

    def hold(self):
        open(os.path.join(self.gate, "hold"), "w").close()

    def fail_next_upgrade(self):
        open(os.path.join(self.gate, "fail-upgrade"), "w").close()

    def entered(self):
        return sorted(n for n in os.listdir(self.gate) if n.startswith("entered-"))

    def wait_entered(self, verb, count, timeout=30):
        """Waits until helm `verb` has been entered `count` times in all; returns its run number."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            runs = [n for n in self.entered() if n.startswith(f"entered-{verb}-")]
            if len(runs) >= count:
                return int(sorted(runs, key=lambda n: int(n.rsplit("-", 1)[1]))[count - 1].rsplit("-", 1)[1])
            time.sleep(0.02)
        raise AssertionError(f"helm {verb} was not run {count} time(s): {self.entered()}")

    def values(self, n):
        """The values file helm run n (see wait_entered) was given, as JSON."""
        with open(os.path.join(self.gate, f"values-{n}.json")) as f:
            return json.load(f)

    def release(self, n):
        open(os.path.join(self.gate, f"release-{n}"), "w").close()

    def hold_reads(self, path):
        """Holds each GET of path until release_reads(); returns an Event set once one is held."""
        self.held_reads[path] = {"entered": threading.Event(), "release": threading.Event()}
        return self.held_reads[path]["entered"]

    def release_reads(self):
        for held in self.held_reads.values():
            held["release"].set()

    def namespace_exists(self, name):
        with self.lock:
            return f"/api/v1/namespaces/{name}" in self.objects

    def close(self):
        self.server.shutdown()
        self.server.server_close()
