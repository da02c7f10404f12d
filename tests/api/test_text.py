# SPDX-License-Identifier: Apache-2.0
"""Text that is not plain ASCII, from the cluster, helm and clients: every reply stays valid JSON
with a body. A byte limit that cut a character in half, or bytes from helm that were never UTF-8,
used to make jansson refuse a store's row: the list answered 500 for everyone, the store 200 with
an empty body, and the live stream stopped."""

import json
import socket
import stat
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from tenancy import Stream

# A Status message longer than the 1 KiB the daemon keeps of a reason; with the words before it,
# the limit falls inside an "é".
K8S_MESSAGE = "quota: " + "é" * 700


class FakeApiServer(BaseHTTPRequestHandler):
    """Just enough of a Kubernetes API server for a create task to reach helm: everything applies,
    nothing exists yet, and the namespace of store "k8s-cut" is refused with a long non-ASCII message."""

    def _send(self, code, obj):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path.startswith("/version"):
            return self._send(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0"})
        self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                         "code": 404, "message": "not found"})

    def do_PATCH(self):
        self._body()
        if "/namespaces/store-k8s-cut" in self.path:
            return self._send(422, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Invalid",
                                    "code": 422, "message": K8S_MESSAGE})
        self._send(200, {})

    def do_POST(self):
        self._body()
        if "selfsubjectreviews" in self.path:
            return self._send(201, {"status": {"userInfo": {"username": "kubernetes-admin"}}})
        self._send(201, {})

    def log_message(self, *args):
        pass


# helm as the daemon runs it: no release yet; the install of "helm-cut" fails with "x" and 500
# two-byte characters (the daemon's 700-byte reason ends inside one), that of "helm-bad" with
# bytes that are not UTF-8 at all (Latin-1 and stray bytes), after 3000 bytes of output (the
# timeline keeps the last 2000 bytes, which start inside a character).
FAKE_HELM = r"""#!/bin/sh
case " $* " in
*" status "*|*" history "*) echo "Error: release: not found" >&2; exit 1 ;;
*" helm-cut "*)
    printf 'Error: x' >&2; i=0; while [ $i -lt 500 ]; do printf '\303\251' >&2; i=$((i+1)); done; echo >&2
    exit 1 ;;
*" helm-bad "*)
    printf x; i=0; while [ $i -lt 1500 ]; do printf '\303\251'; i=$((i+1)); done; echo
    printf 'Error: caf\351 \377\376 is not UTF-8\n' >&2; exit 1 ;;
esac
exit 1
"""


def start_fake_cluster(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "fake-cluster.yaml"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}],
    }))
    helm = tmp_path / "helm"
    helm.write_text(FAKE_HELM)
    helm.chmod(helm.stat().st_mode | stat.S_IXUSR)
    chart = tmp_path / "chart"
    chart.mkdir()
    return server, {"kubeconfig": str(kubeconfig), "helm": {"binary": str(helm)}, "chart": {"path": str(chart)}}


def strict_json(r):
    """The body as JSON, refusing anything that is not UTF-8 (an empty body fails too)."""
    assert r.body, f"HTTP {r.status} with an empty body"
    return json.loads(r.body.decode("utf-8"))


def test_non_ascii_cluster_and_helm_text_keeps_every_reply_whole(daemon_factory, tmp_path):
    server, config = start_fake_cluster(tmp_path)
    d = daemon_factory(config=config)
    try:
        stream = Stream(d, {"Authorization": f"Bearer {d.token}"})
        assert stream.status == 200
        ids = {}
        for name in ("k8s-cut", "helm-cut", "helm-bad"):
            r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
            assert r.status == 202, r
            ids[name] = r.json()["id"]

        def failed():
            r = d.request("GET", "/api/v1/stores")
            assert r.status == 200, f"{r} {r.body[:300]!r}"
            items = strict_json(r)["items"]
            return all(s["status"] == "FAILED" for s in items) and len(items) == 3 and items
        items = d.wait_for(failed, timeout=60, what="the three stores FAILED")
        reasons = {s["name"]: s["status_reason"] for s in items}

        # Cut on a character boundary: what is kept is whole characters, and no more than the limit.
        assert "quota: éééé" in reasons["k8s-cut"], reasons
        assert len(reasons["k8s-cut"].encode()) <= 1024
        assert "xéééé" in reasons["helm-cut"], reasons
        assert "\ufffd" not in reasons["k8s-cut"] + reasons["helm-cut"], reasons
        # Bytes that were never UTF-8 are shown as U+FFFD.
        assert "caf\ufffd \ufffd\ufffd is not UTF-8" in reasons["helm-bad"], reasons

        for name, sid in ids.items():
            r = d.request("GET", f"/api/v1/stores/{sid}")
            assert r.status == 200 and strict_json(r)["status_reason"] == reasons[name], r
            r = d.request("GET", f"/api/v1/stores/{sid}/events")
            assert r.status == 200, r
            details = [e["detail"] or "" for e in strict_json(r)["items"]]
            assert any("helm" in x or "quota" in x for x in details), details
            if name == "helm-bad":
                # The timeline keeps the end of helm's output from a character boundary on.
                helm = [x for x in details if x.startswith("helm upgrade --install (exit 1): ")]
                assert helm and helm[0].split(": ", 1)[1].startswith("é"), helm
                assert "\ufffd" not in helm[0].split("Error")[0], helm

        # The live stream delivered every failure, and is still open to deliver the next change.
        for sid in ids.values():
            stream.wait_event(lambda e: e.get("event") == "store" and sid in e.get("data", "")
                              and '"FAILED"' in e.get("data", ""), f"store {sid} FAILED on the stream")
        d.request("POST", "/api/v1/stores", {"name": "after", "engine": "woocommerce"})
        stream.wait_event(lambda e: '"after"' in e.get("data", ""), "a change after the failures")
        stream.close()
    finally:
        server.shutdown()
    assert "Failed to serialise" not in d.logs()


def test_error_replies_quoting_non_ascii_input_have_a_body(daemon):
    long_id = urllib.parse.quote("x" + "é" * 30)       # "%.40s" of it used to end inside an "é"
    cases = [
        ("GET", f"/api/v1/stores/{long_id}", None, 404),
        ("GET", "/api/v1/stores/%FF%FEcaf%E9", None, 404),   # not UTF-8 at all
        ("GET", f"/api/v1/stores?status={long_id}", None, 400),
        ("POST", "/api/v1/stores", {"name": "shop", "engine": "woocommerce", "x" + "é" * 60: 1}, 400),
        ("POST", "/api/v1/stores", {"name": "shop", "engine": "w" + "ö" * 40}, 400),
        ("GET", "/api/v1/accounts/" + urllib.parse.quote("x" + "é" * 40), None, 404),
    ]
    wrong = []
    for method, path, body, status in cases:
        r = daemon.request(method, path, body)
        try:
            err = strict_json(r)["error"]
            ok = r.status == status and err["code"] and err["message"]
        except (AssertionError, ValueError, KeyError):
            ok = False
        if not ok:
            wrong.append((method, path[:60], r.status, r.body[:100]))
    # The path as raw bytes (a client need not percent-encode): quoted in the 404 with "%.200s",
    # which ended inside an "é"; and bytes that are not UTF-8 at all.
    for raw in (b"/api/" + "é".encode() * 120, b"/api/caf\xe9\xff\xfe"):
        status, body = raw_get(daemon, raw)
        try:
            ok = status == 404 and json.loads(body.decode("utf-8"))["error"]["message"]
        except (ValueError, KeyError):
            ok = False
        if not ok:
            wrong.append(("GET", raw[:40], status, body[:100]))
    assert not wrong, "\n".join(map(repr, wrong))

    # The access log quoted those paths: every line of the JSON log is still UTF-8 and JSON.
    with open(daemon.log_path, "rb") as f:
        for line in f.read().decode("utf-8").splitlines():
            if line.startswith("{"):
                json.loads(line)


def raw_get(d, raw_path):
    """GET with a path sent byte for byte; the status and the body."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    try:
        s.sendall(b"GET " + raw_path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                  + d.token.encode() + b"\r\nConnection: close\r\n\r\n")
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body
