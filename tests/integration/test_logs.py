# SPDX-License-Identifier: Apache-2.0
"""A store's logs on a real Kubernetes control plane: the pods and containers a store has, a container's
last lines, and lines that arrive while the log is followed.

Stand-in: kwok plays the kubelet, and its pods run no container, so nothing writes a log. kwok's
ClusterLogs resource (enabled by tests/cluster/up) maps the store's containers to a file on this host,
which kwok's fake kubelet API serves for pods/log and follows as it grows; this test writes the lines a
container would have written into that file, in the CRI log format the kubelet reads."""

import datetime
import http.client
import json
import os
import socket
import subprocess

from conftest import env, kubectl, wait_status
from test_credentials import same_as_missing
from test_races import STORECTL, private_bus  # noqa: F401 (a fixture)

FOLLOWS = 10  # more than the HTTP threads of a 2-core host (8): followed logs must not hold them


def cri_line(text):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{now} stdout F {text}\n"


def map_logs_to_file(ns, path):
    """The stand-in: every container of the namespace logs to path (kwok ClusterLogs)."""
    manifest = {
        "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs",
        "metadata": {"name": f"standin-{ns}"},
        "spec": {"selector": {"matchNamespaces": [ns]}, "logs": [{"logsFile": str(path), "follow": True}]},
    }
    e = env()
    subprocess.run([e["KUBECTL"], "--kubeconfig", e["KUBECONFIG"], "apply", "-f", "-"],
                   input=json.dumps(manifest), text=True, check=True, capture_output=True, timeout=60)


def open_follow(d, token, path):
    """A followed log: the response, read as it comes."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    return conn, conn.getresponse()


def test_logs_read_and_follow(cluster_daemon, tmp_path, private_bus):  # noqa: F811
    bus_env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = cluster_daemon({"limits": {"streams_per_account": 20, "max_streams": FOLLOWS,
                                    "requests_per_window": 100000}}, start=False, env=bus_env)
    d.bus_env = dict(os.environ, **bus_env)
    d.cli("account", "create", "acme", "--role", "tenant")
    d.cli("account", "create", "globex", "--role", "tenant")
    acme = d.cli("token", "create", "--name", "laptop", "--account", "acme").stdout.strip()
    globex = d.cli("token", "create", "--name", "laptop", "--account", "globex").stdout.strip()
    d.start()

    r = d.request("POST", "/api/v1/stores", {"name": "logshop", "engine": "woocommerce"}, auth=acme)
    assert r.status == 202, r
    sid = r.json()["id"]
    assert wait_status(d, sid, {"READY", "FAILED"})["status"] == "READY"
    ns = "store-logshop"
    logfile = tmp_path / "container.log"
    logfile.write_text(cri_line("booting WordPress") + cri_line("ready to serve"))
    map_logs_to_file(ns, logfile)
    try:
        follow_and_read(d, sid, acme, globex, logfile)
    finally:
        kubectl("delete", "clusterlogs", f"standin-{ns}", "--ignore-not-found", check=False)


def follow_and_read(d, sid, acme, globex, logfile):

    # The store's pods, by component, with their containers.
    r = d.request("GET", f"/api/v1/stores/{sid}/logs", auth=acme)
    assert r.status == 200, r
    pods = {p["component"]: p for p in r.json()["pods"]}
    assert {"web", "database", "setup"} <= set(pods), pods
    web = pods["web"]["pod"]
    assert pods["web"]["containers"], pods["web"]

    # Another tenant's view: no such store; an unknown pod or container: 404 too.
    same_as_missing(d, globex, "GET", "/logs", sid)
    same_as_missing(d, globex, "GET", f"/logs/{web}", sid)
    assert d.request("GET", f"/api/v1/stores/{sid}/logs/nosuchpod", auth=acme).status == 404
    r = d.request("GET", f"/api/v1/stores/{sid}/logs/{web}?container=nosuch", auth=acme)
    assert r.status == 404 and r.json()["error"]["code"] == "not_found", r

    # The last lines, as the container wrote them.
    def last_lines():
        r = d.request("GET", f"/api/v1/stores/{sid}/logs/{web}?tail=1", auth=acme)
        return r if r.status == 200 and r.body.decode() == "ready to serve\n" else None
    r = d.wait_for(last_lines, timeout=30, what="the mapped log through pods/log")  # kwok sees the mapping
    assert r.header("Content-Type").startswith("text/plain")
    r = d.request("GET", f"/api/v1/stores/{sid}/logs/{web}?tail=10", auth=acme)
    assert r.body.decode() == "booting WordPress\nready to serve\n", r

    # Followed: many at once, none holding an HTTP thread while it waits for the container.
    follows = [open_follow(d, acme, f"/api/v1/stores/{sid}/logs/{web}?follow=true&tail=1") for _ in range(FOLLOWS)]
    for _, resp in follows:
        assert resp.status == 200
        assert resp.readline() == b"ready to serve\n"
    assert d.request("GET", "/healthz", timeout=10).status == 200
    # Each counts under limits.max_streams.
    r = d.request("GET", f"/api/v1/stores/{sid}/logs/{web}?follow=true", auth=acme)
    assert r.status == 503 and r.json()["error"]["code"] == "streams_full", r

    with open(logfile, "a") as f:
        f.write(cri_line("order #1001 placed"))
    for _, resp in follows:
        assert resp.readline() == b"order #1001 placed\n"

    # Closed, they give their places back.
    for conn, _ in follows:
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()

    def reopened():
        conn, resp = open_follow(d, acme, f"/api/v1/stores/{sid}/logs/{web}?follow=true&tail=1")
        ok = resp.status == 200
        conn.close()
        return ok
    d.wait_for(reopened, timeout=30, what="a follow once the others closed")

    # storectl: the same log over D-Bus, read and followed.
    def storectl(*args):
        return subprocess.run([STORECTL, *args], capture_output=True, text=True, env=d.bus_env, timeout=30)
    d.wait_for(lambda: storectl("list").returncode == 0, timeout=15, what="the daemon on the private bus")
    p = storectl("logs", "logshop", "--tail", "2")
    assert p.returncode == 0 and p.stdout == "ready to serve\norder #1001 placed\n", p
    p = storectl("logs", "logshop", "nosuchpod")
    assert p.returncode == 3 and "no pod" in p.stderr, p
    follower = subprocess.Popen([STORECTL, "logs", "logshop", web, "--follow", "--tail", "1"], env=d.bus_env,
                                stdout=subprocess.PIPE, text=True)
    try:
        assert follower.stdout.readline() == "order #1001 placed\n"
        with open(logfile, "a") as f:
            f.write(cri_line("order #1002 placed"))
        assert follower.stdout.readline() == "order #1002 placed\n"
    finally:
        follower.terminate()
        follower.wait(10)

    # A follow still open when the daemon stops ends with the daemon, which stops cleanly.
    conn, resp = open_follow(d, acme, f"/api/v1/stores/{sid}/logs/{web}?follow=true&tail=1")
    assert resp.readline() == b"order #1002 placed\n"
    assert d.stop() == 0
    try:  # the stream ends: with its last chunk, or with the connection when the daemon closed it first
        rest = resp.read()
    except http.client.IncompleteRead as e:
        rest = e.partial
    assert rest == b""
    conn.close()
