# SPDX-License-Identifier: Apache-2.0
"""The reverse-proxy examples of docs/tls-proxy.md, run as written: the nginx and Caddy blocks are
read from the document (so the test and the docs cannot drift apart), pointed at loopback ports,
a throw-away certificate and the test's daemon, and then used the way a browser would: over
HTTPS with the public name. What a user sees: sign-in gives a Secure session cookie, the live
stream's first bytes come through at once (no proxy buffering), plain HTTP is sent to HTTPS, and
a name the daemon does not serve is refused (the Host header reaches the daemon as sent).

nginx and caddy are Debian's binaries, unpacked into the cache by tests/api/proxies (installing
the packages would start two web servers on port 80); the test runs them as plain processes on
127.0.0.1. The daemon also sends X-Accel-Buffering: no on the stream, so the example's
proxy_buffering off is a second guard, not the one this test can see fail."""

import os
import re
import subprocess
import time

import pytest

from daemon import REPO, free_port

DOC = os.path.join(REPO, "docs", "tls-proxy.md")
NAME = "agent.example.com"


@pytest.fixture(scope="module")
def proxy_bin():
    r = subprocess.run([os.path.join(REPO, "tests", "api", "proxies")], capture_output=True, text=True)
    assert r.returncode == 0, f"tests/api/proxies could not fetch nginx and caddy: {r.stderr}"
    return os.path.join(r.stdout.strip(), "bin")


def doc_block(heading):
    """The first fenced code block under the '## heading...' section of docs/tls-proxy.md."""
    text = open(DOC).read()
    m = re.search(r"^## " + re.escape(heading) + r".*?^```[a-z]*\n(.*?)^```", text, re.S | re.M)
    assert m, f"docs/tls-proxy.md has no code block under '## {heading}'"
    return m.group(1)


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME}",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def wait_listening(proc, port, log):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the proxy exited ({proc.returncode}): {open(log).read()[-2000:]}")
        r = subprocess.run(["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"], capture_output=True)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    pytest.fail(f"the proxy did not listen on {port}: {open(log).read()[-2000:]}")


def start_nginx(bin_dir, d, upstream, tls_port, http_port, cert, key):
    site = doc_block("nginx")
    site = site.replace("127.0.0.1:8080", f"127.0.0.1:{upstream}")
    site = re.sub(r"^\s*listen \[::\]:\d+.*\n", "", site, flags=re.M)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace(f"/etc/ssl/certs/{NAME}.pem", cert).replace(f"/etc/ssl/private/{NAME}.key", key)
    # The redirect names the port the browser used; the example's 443 is this test's tls_port.
    site = site.replace("return 301 https://$host$request_uri;",
                        f"return 301 https://$host:{tls_port}$request_uri;")
    tmp = os.path.join(d, "nginx-tmp")
    os.makedirs(tmp, mode=0o777, exist_ok=True)
    os.chmod(tmp, 0o777)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/nginx-access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{site}
}}
""")
    log = os.path.join(d, "nginx.out")
    check = subprocess.run([os.path.join(bin_dir, "nginx"), "-t", "-c", conf, "-p", d], capture_output=True, text=True)
    assert check.returncode == 0, f"nginx -t refuses the documented site:\n{check.stderr}"
    proc = subprocess.Popen([os.path.join(bin_dir, "nginx"), "-c", conf, "-p", d],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    wait_listening(proc, tls_port, log)
    return proc


def start_caddy(bin_dir, d, upstream, tls_port, http_port, cert, key):
    site = doc_block("Caddy")
    site = site.replace("127.0.0.1:8080", f"127.0.0.1:{upstream}")
    # Caddy would ask an ACME CA for the name: the test gives it the throw-away certificate instead.
    site = site.replace(f"{NAME} {{", f"{NAME} {{\n\ttls {cert} {key}", 1)
    conf = os.path.join(d, "Caddyfile")
    with open(conf, "w") as f:
        f.write(f"{{\n\thttp_port {http_port}\n\thttps_port {tls_port}\n\tadmin off\n\tdefault_bind 127.0.0.1\n"
                f"\tskip_install_trust\n}}\n\n{site}")
    env = dict(os.environ, HOME=d, XDG_DATA_HOME=os.path.join(d, "data"), XDG_CONFIG_HOME=os.path.join(d, "config"))
    check = subprocess.run([os.path.join(bin_dir, "caddy"), "validate", "--config", conf, "--adapter", "caddyfile"],
                           capture_output=True, text=True, env=env)
    assert check.returncode == 0, f"caddy validate refuses the documented Caddyfile:\n{check.stderr[-2000:]}"
    log = os.path.join(d, "caddy.out")
    proc = subprocess.Popen([os.path.join(bin_dir, "caddy"), "run", "--config", conf, "--adapter", "caddyfile"],
                            env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    wait_listening(proc, tls_port, log)
    return proc


def curl(tls_port, cert, path, *args, host=NAME, timeout=10):
    r = subprocess.run(["curl", "-sS", "--max-time", str(timeout), "--cacert", cert,
                        "--resolve", f"{host}:{tls_port}:127.0.0.1", *args,
                        f"https://{host}:{tls_port}{path}"], capture_output=True, text=True)
    return r


@pytest.mark.parametrize("proxy", ["nginx", "caddy"])
def test_documented_proxy_works(daemon_factory, tmp_path, proxy_bin, proxy):
    d = daemon_factory(config={"listen": {"hostnames": [NAME]}})
    tls_port, http_port = free_port(), free_port()
    cert, key = make_cert(str(tmp_path))
    start = start_nginx if proxy == "nginx" else start_caddy
    proc = start(proxy_bin, str(tmp_path), d.port, tls_port, http_port, cert, key)
    try:
        # Sign-in over HTTPS: the daemon believed the proxy's X-Forwarded-Proto and marked the cookie Secure.
        r = curl(tls_port, cert, "/api/v1/session", "-i", "-H", "Content-Type: application/json",
                 "--data", '{"token":"%s"}' % d.token)
        assert r.returncode == 0, r.stderr
        status = r.stdout.split("\n", 1)[0]
        assert " 200" in status, r.stdout[:500]
        cookie = [ln for ln in r.stdout.splitlines() if ln.lower().startswith("set-cookie:")]
        assert cookie, r.stdout[:500]
        attrs = [a.strip().lower() for a in cookie[0].split(";")[1:]]
        assert "secure" in attrs, f"{proxy}: the session cookie is not Secure behind HTTPS: {cookie[0]}"

        # The live stream: its greeting comes through while the stream is open (curl stops it at 5 s).
        r = curl(tls_port, cert, "/api/v1/stream", "-N", "-H", f"Authorization: Bearer {d.token}", timeout=5)
        assert "storeagent live stream" in r.stdout, f"{proxy} held the live stream back: {r.stdout!r} {r.stderr}"

        # A name the daemon does not serve: nginx passes the Host on (its only server is the default one) and
        # the daemon refuses it. Caddy matches sites by name itself and has no certificate for another name.
        if proxy == "nginx":
            r = curl(tls_port, cert, "/healthz", "-o", "/dev/null", "-w", "%{http_code}", "-k",
                     host="other.example.com")
            assert r.stdout == "421", f"{proxy}: Host other.example.com answered {r.stdout} {r.stderr}"

        # Plain HTTP goes to HTTPS.
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--max-time", "10",
                            "--resolve", f"{NAME}:{http_port}:127.0.0.1", f"http://{NAME}:{http_port}/stores"],
                           capture_output=True, text=True)
        code, _, location = r.stdout.partition(" ")
        assert code in ("301", "308") and location.startswith(f"https://{NAME}"), f"{proxy}: {r.stdout} {r.stderr}"
        print(f"{proxy}: Secure cookie, live stream unbuffered, {code} to HTTPS")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
