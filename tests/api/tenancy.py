# SPDX-License-Identifier: Apache-2.0
"""Accounts, tokens and streams for the tenant tests, made through the REST API as an admin would."""

import http.client
import json
import socket
import time


def error_of(r):
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    return body["error"]["code"]


def make_account(d, name, role="tenant", **limits):
    r = d.request("POST", "/api/v1/accounts", dict({"name": name, "role": role}, **limits))
    assert r.status == 201, r
    return r.json()


def make_token(d, account, name="main", expires_in=None):
    body = {"name": name}
    if expires_in is not None:
        body["expires_in"] = expires_in
    r = d.request("POST", f"/api/v1/accounts/{account}/tokens", body)
    assert r.status == 201, r
    assert r.header("Cache-Control") == "no-store"
    return r.json()["token"]


def tenant(d, name, **limits):
    make_account(d, name, **limits)
    return make_token(d, name)


def create_store(d, name, token):
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"}, auth=token)
    assert r.status == 202, r
    return r.json()


def sign_in(d, token):
    r = d.request("POST", "/api/v1/session", {"token": token}, auth=False)
    assert r.status == 200, r
    return {"Cookie": r.header("Set-Cookie").split(";")[0]}, r.json()["csrf_token"]


def status_only(d, method, path, body=None, headers=None, timeout=10):
    """The status and headers of a request whose body may never end (the live stream)."""
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        if r.getheader("Content-Type", "").startswith("text/event-stream"):
            return r.status, r.getheaders(), b""
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


class Stream:
    """An open live stream, read as raw server-sent events."""

    def __init__(self, d, headers):
        self.sock = socket.create_connection(("127.0.0.1", d.port), timeout=15)
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            assert chunk, self.buf
            self.buf += chunk
        self.status = int(self.buf.split(b" ", 2)[1])
        self.closed = False

    def read_until(self, needle, timeout=15):
        """Reads until needle arrives (True) or the server closes the stream (False)."""
        deadline = time.time() + timeout
        while needle not in self.buf:
            self.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                raise AssertionError(f"no {needle!r} within {timeout} s: {self.buf[-500:]!r}")
            if not chunk:
                self.closed = True
                return False
            self.buf += chunk
        return True

    def wait_closed(self, timeout=15):
        """Waits for the end of the response: the last chunk of its chunked body, or the connection closed."""
        deadline = time.time() + timeout
        while not self.buf.endswith(b"\r\n0\r\n\r\n"):
            self.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                raise AssertionError(f"the stream stayed open {timeout} s: {self.buf[-500:]!r}")
            if not chunk:
                self.closed = True
                return
            self.buf += chunk

    def events(self):
        """The complete server-sent events received so far, as dicts of their fields, after undoing the
        HTTP chunked framing (a chunk may end anywhere in an event); an event still arriving is left out."""
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        body = b""
        while True:
            size_line, sep, after = rest.partition(b"\r\n")
            if not sep:
                break
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0 or len(after) < size + 2:
                break
            body += after[:size]
            rest = after[size + 2:]
        text = body.decode()
        complete = text[:text.rfind("\n\n") + 2] if "\n\n" in text else ""
        out = []
        for block in complete.split("\n\n"):
            fields = {}
            for line in block.splitlines():
                if line and not line.startswith(":") and ": " in line:
                    k, v = line.split(": ", 1)
                    fields[k] = v
            if fields:
                out.append(fields)
        return out

    def wait_event(self, pred, what, timeout=15):
        """Reads until a complete event satisfies pred; returns it (an AssertionError names what)."""
        deadline = time.time() + timeout
        while True:
            found = [e for e in self.events() if pred(e)]
            if found:
                return found[0]
            self.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                raise AssertionError(f"no {what} within {timeout} s: {self.buf[-500:]!r}")
            if not chunk:
                raise AssertionError(f"the stream closed before {what}: {self.buf[-500:]!r}")
            self.buf += chunk

    def close(self):
        self.sock.close()
