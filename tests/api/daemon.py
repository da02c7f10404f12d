# SPDX-License-Identifier: Apache-2.0
"""Start the real storeagentd on a loopback port with a temporary database, and talk HTTP to it."""

import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STOREAGENT_BUILD", os.path.join(REPO, "build"))
DAEMON = os.environ.get("STOREAGENTD", os.path.join(BUILD, "agent", "src", "daemon", "storeagentd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deep_merge(base, extra):
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


def descendants(pid):
    """The pids of every process below pid, from /proc/PID/task/TID/children."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


# Every Daemon made, so that the fixture check_daemons_exit_cleanly can look at each one a test left.
INSTANCES = []


class Daemon:
    """One storeagentd process. Config keys may be overridden per test."""

    def __init__(self, config=None, workdir=None, port=None, env=None):
        INSTANCES.append(self)
        # How each process of this daemon ended: (what ended it, exit status or "hung").
        self.exits = []
        self._recorded = None
        self.dir = workdir or tempfile.mkdtemp(prefix="storeagent-api-")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = os.path.join(self.dir, "storeagent.yaml")
        self.log_path = os.path.join(self.dir, "daemon.log")
        cfg = {
            "listen": {"address": "127.0.0.1", "port": self.port},
            "database": os.path.join(self.dir, "state", "storeagent.db"),
            "state_dir": os.path.join(self.dir, "state"),
            "kubeconfig": os.path.join(self.dir, "no-cluster.yaml"),
            "web_root": os.path.join(self.dir, "web"),
            "log": {"format": "json", "level": "info"},
        }
        deep_merge(cfg, config or {})
        self.config = cfg
        with open(self.config_path, "w") as f:
            yaml.safe_dump(cfg, f)
        self.env = dict(os.environ, **(env or {}))
        self.env.pop("JOURNAL_STREAM", None)
        self.env.pop("LISTEN_FDS", None)
        self.proc = None
        self.token = None

    def cli(self, *args, check=True):
        p = subprocess.run([DAEMON, "--config", self.config_path, *args], capture_output=True, text=True,
                           env=self.env, timeout=30)
        if check and p.returncode != 0:
            raise AssertionError(f"storeagentd {args} failed: {p.stderr}")
        return p

    def create_token(self, name="admin"):
        tok = self.cli("token", "create", "--name", name).stdout.strip()
        assert tok.startswith("sa_"), tok
        return tok

    def _record_own_exit(self):
        """Notes a process that ended without stop(): it exited (or crashed) by itself."""
        if self.proc and self.proc is not self._recorded and self.proc.poll() is not None:
            self.exits.append(("by itself", self.proc.returncode))
            self._recorded = self.proc

    def start(self, argv_prefix=None, wait=True):
        self._record_own_exit()
        log = open(self.log_path, "ab")
        argv = (argv_prefix or []) + [DAEMON, "--config", self.config_path]
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log, env=self.env)
        log.close()
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if self.request("GET", "/healthz", auth=False).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("daemon did not become healthy:\n" + self.logs())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the daemon and wait for it. SIGKILL plays a crash under systemd, which then kills
        the rest of the unit's control group (KillMode=control-group): its children, such as a
        running helm, die with it."""
        if not self.proc or self.proc.poll() is not None:
            self._record_own_exit()
            return self.proc.returncode if self.proc else None
        children = descendants(self.proc.pid) if sig == signal.SIGKILL else []
        self.proc.send_signal(sig)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._recorded = self.proc
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)  # a core and a backtrace, where the system keeps them
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.exits.append((signal.Signals(sig).name, "hung"))
            raise AssertionError(f"daemon did not stop within {timeout} s of {signal.Signals(sig).name}:\n"
                                 + self.last_log_lines())
        self.exits.append((signal.Signals(sig).name, rc))
        return rc

    def finish(self, timeout=30):
        """Stops the daemon if it still runs (SIGTERM) and says what went wrong with any of its
        processes: one that crashed, exited with an error by itself, failed or hung on SIGTERM.
        A SIGKILL sent by the test is a crash the test asked for and is not a problem."""
        if self.proc and self.proc.poll() is None:
            try:
                self.stop(timeout=timeout)
            except AssertionError:
                pass
        self._record_own_exit()
        problems = []
        for how, rc in self.exits:
            if how == "SIGKILL" or rc == 0:
                continue
            if rc == "hung":
                what = f"did not exit within {timeout} s of {how}"
            elif rc < 0:
                what = f"was killed by {signal.Signals(-rc).name}" + (f" after {how}" if how != "by itself" else "")
            else:
                what = f"exited with status {rc}" + (f" after {how}" if how != "by itself" else " by itself")
            problems.append(f"storeagentd ({self.dir}) {what}; its last log lines:\n{self.last_log_lines()}")
        self.exits = []
        return problems

    def last_log_lines(self, n=25):
        return "\n".join(self.logs().splitlines()[-n:])

    def logs(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_records(self):
        out = []
        for line in self.logs().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def request(self, method, path, body=None, headers=None, auth=True, raw=None, timeout=30):
        h = dict(headers or {})
        if auth is True and self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        elif isinstance(auth, str):
            h["Authorization"] = f"Bearer {auth}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def wait_for(self, predicate, timeout=30, interval=0.2, what="condition"):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out waiting for {what}; last={last!r}\n" + self.logs()[-4000:])


def check_daemons_exit_cleanly(since):
    """Fails the current test (at its teardown) when a daemon it started crashed, exited with an
    error, or did not stop cleanly on SIGTERM; stops any still running."""
    problems = []
    for d in INSTANCES[since:]:
        problems += d.finish()
    del INSTANCES[since:]
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)
