# SPDX-License-Identifier: Apache-2.0
"""The daemon as a process: configuration checks, tokens, socket activation, crash recovery, the spec."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import yaml

from daemon import DAEMON, REPO, Daemon, free_port


def test_check_config_good_and_bad(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("listen:\n  port: 9999\nlimits:\n  max_stores: 7\n")
    p = subprocess.run([DAEMON, "--config", str(good), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    eff = yaml.safe_load(p.stdout)
    assert eff["listen"]["port"] == 9999 and eff["limits"]["max_stores"] == 7
    assert eff["limits"]["requests_per_window"] == 100  # defaults are printed too

    bad = tmp_path / "bad.yaml"
    bad.write_text("listen:\n  port: 9999\nlimits:\n  max_storez: 7\n")
    p = subprocess.run([DAEMON, "--config", str(bad), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 1
    assert f"{bad}:4: unknown key 'limits.max_storez'" in p.stderr

    p = subprocess.run([DAEMON, "--config", str(tmp_path / "missing.yaml"), "--check-config"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "missing.yaml" in p.stderr


def test_token_cli(tmp_path):
    d = Daemon(workdir=str(tmp_path))
    tok = d.create_token("ops")
    assert re.fullmatch(r"sa_[A-Za-z0-9]{40}", tok)
    p = d.cli("token", "create", "--name", "ops", check=False)
    assert p.returncode == 1 and "already exists" in p.stderr
    listing = d.cli("token", "list").stdout
    assert "ops" in listing and tok not in listing
    d.cli("token", "revoke", "ops")
    assert d.cli("token", "revoke", "ops", check=False).returncode == 1
    d.token = tok
    d.start()
    try:
        assert d.request("GET", "/api/v1/stores").status == 401
    finally:
        d.stop()


def test_socket_activation(tmp_path):
    """systemd-socket-activate hands the daemon a listening socket (LISTEN_FDS) as systemd would."""
    port = free_port()
    d = Daemon(workdir=str(tmp_path), config={"listen": {"port": 1}})  # the config port must be ignored
    d.port, d.url = port, f"http://127.0.0.1:{port}"
    d.token = d.create_token()
    d.start(argv_prefix=["systemd-socket-activate", "-l", f"127.0.0.1:{port}"], wait=False)
    try:
        d.wait_healthy()
        assert d.request("GET", "/api/v1/stores").status == 200
        # Logged once serving; the request above may have been answered a moment earlier.
        d.wait_for(lambda: "a socket from systemd" in d.logs(), timeout=10, what="the 'serving on' line")
    finally:
        assert d.stop() == 0


class SilentServer:
    """A TCP listener that accepts connections and never answers: a cluster that hangs. A task that
    talks to it stays leased (running) for as long as its connect timeout allows."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.accepted:
            c.close()


def test_running_task_survives_kill9(tmp_path):
    """A task that was running when the daemon died (kill -9: no chance to hand it back) is picked
    up again by the next start at once, not only when its lease (helm timeout + 60 s) runs out."""
    hang = SilentServer()
    kubeconfig = tmp_path / "hanging-cluster.yaml"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "hang",
        "clusters": [{"name": "hang", "cluster": {"server": f"https://127.0.0.1:{hang.port}",
                                                  "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "hang", "context": {"cluster": "hang", "user": "u"}}],
    }))
    d = Daemon(workdir=str(tmp_path / "d"), config={"kubeconfig": str(kubeconfig)})
    d.token = d.create_token()
    d.start()
    try:
        s = d.request("POST", "/api/v1/stores", {"name": "survivor", "engine": "woocommerce"}).json()
        started = f"Task 1 create for store {s['id']} started"
        d.wait_for(lambda: f"{started} (attempt 1)" in d.logs(), what="the task's first start")
        # The worker is now inside the task, waiting on the hanging cluster: the task is leased.
        d.wait_for(lambda: len(hang.accepted) >= 1, timeout=10, what="the task connecting to the cluster")
        d.stop(sig=signal.SIGKILL)
        first_run = d.logs()
        assert "Resuming" not in first_run and "(attempt 2)" not in first_run, first_run[-2000:]
        connections = len(hang.accepted)

        d.start()
        second_run = lambda: d.logs()[len(first_run):]  # noqa: E731
        d.wait_for(lambda: "Resuming 1 task(s) interrupted by the previous run." in second_run(),
                   timeout=10, what="the stale lease released by the second start")
        d.wait_for(lambda: f"{started} (attempt 2)" in second_run(), timeout=10,
                   what="the task started again by the second start")
        d.wait_for(lambda: len(hang.accepted) > connections, timeout=10,
                   what="the resumed task talking to the cluster again")
        st = d.request("GET", f"/api/v1/stores/{s['id']}").json()
        assert st["status"] == "PROVISIONING", st
    finally:
        hang.close()
        d.stop()


def test_second_instance_refused(tmp_path):
    d = Daemon(workdir=str(tmp_path))
    d.start()
    try:
        p = subprocess.run([DAEMON, "--config", d.config_path], capture_output=True, text=True, timeout=10,
                           env=d.env)
        assert p.returncode == 1
        assert "Another storeagentd is using database" in p.stderr
    finally:
        d.stop()


def test_sighup_reloads_limits(tmp_path):
    d = Daemon(workdir=str(tmp_path), config={"limits": {"requests_per_window": 1000}})
    d.token = d.create_token()
    d.start()
    try:
        cfg = dict(d.config)
        cfg["limits"] = {"requests_per_window": 2, "window": 60}
        with open(d.config_path, "w") as f:
            yaml.safe_dump(cfg, f)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: "Configuration reloaded" in d.logs(), what="reload")
        codes = [d.request("GET", "/api/v1/stores").status for _ in range(4)]
        assert 429 in codes
        # A broken file is refused and the running configuration stays.
        with open(d.config_path, "w") as f:
            f.write("limits:\n  nope: 1\n")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: "Reload refused" in d.logs(), what="refused reload")
        assert d.request("GET", "/healthz", auth=False).status == 200
    finally:
        d.stop()


def test_openapi_matches_routes():
    spec = yaml.safe_load(open(os.path.join(REPO, "docs", "api", "openapi.yaml")))
    in_spec = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
    out = subprocess.run([DAEMON, "--list-routes"], capture_output=True, text=True, check=True).stdout
    served = {tuple(line.split(" ", 1)) for line in out.splitlines()}
    assert served - in_spec == set(), f"routes missing from docs/api/openapi.yaml: {served - in_spec}"
    assert in_spec - served == set(), f"spec documents routes the daemon does not serve: {in_spec - served}"


def test_idle_exit_only_when_nothing_is_queued(tmp_path):
    """Socket-activated with idle_exit, the daemon leaves when idle, but never with a task queued."""
    port = free_port()
    d = Daemon(workdir=str(tmp_path / "a"), config={"idle_exit": 2})
    d.port, d.url = port, f"http://127.0.0.1:{port}"
    d.token = d.create_token()
    d.start(argv_prefix=["systemd-socket-activate", "-l", f"127.0.0.1:{port}"], wait=False)
    d.wait_healthy()
    assert d.proc.wait(timeout=20) == 0
    assert "exiting until the socket is used again" in d.logs()

    port = free_port()
    busy = Daemon(workdir=str(tmp_path / "b"), config={"idle_exit": 2})
    busy.port, busy.url = port, f"http://127.0.0.1:{port}"
    busy.token = busy.create_token()
    busy.start(argv_prefix=["systemd-socket-activate", "-l", f"127.0.0.1:{port}"], wait=False)
    try:
        busy.wait_healthy()
        assert busy.request("POST", "/api/v1/stores", {"name": "pending", "engine": "woocommerce"}).status == 202
        time.sleep(12)
        assert busy.proc.poll() is None, busy.logs()
    finally:
        busy.stop()


def test_ipv6_loopback_and_client_key(tmp_path):
    import http.client
    d = Daemon(workdir=str(tmp_path), config={"listen": {"address": "::1"}})
    d.token = d.create_token()
    d.start(wait=False)
    try:
        deadline = time.time() + 10
        while True:
            try:
                c = http.client.HTTPConnection("::1", d.port, timeout=5)
                c.request("GET", "/api/v1/stores", headers={"Authorization": f"Bearer {d.token}"})
                assert c.getresponse().status == 200
                break
            except OSError:
                assert time.time() < deadline, d.logs()
                time.sleep(0.05)
        assert '"client":"0000:0000:0000:0000::/64"' in d.logs()
    finally:
        d.stop()
