# SPDX-License-Identifier: Apache-2.0
"""Copies of backups on S3-compatible storage, restored from there when the host lost them.

The S3 server is REAL: versitygw (Versity's S3 gateway, built from its Go module into the cluster
cache by tests/cluster/build), serving a directory of this test on 127.0.0.1 and checking every
request's AWS Signature Version 4 and x-amz-content-sha256. The store's pods are the STAND-IN of
test_backups.py: kwok's `Exec` maps their execs to this host (a real MariaDB, a directory as
/var/www/html).
"""

import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import time

import pytest

from test_backups import (PRODUCTS, free_port, mariadb, products, sha256,  # noqa: F401 (mariadb: a fixture)
                          shop_on_this_host, wait_backup, wait_event)
from test_races import STORECTL, private_bus  # noqa: F401 (a fixture: the daemon's D-Bus for storectl)

CLUSTER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cluster")
BUCKET = "shop-backups"
ACCESS_KEY = "storeagent-test"


def versitygw_bin():
    """versitygw, built into the cluster cache when missing (cold: a few minutes)."""
    subprocess.run([os.path.join(CLUSTER, "build"), "versitygw"], check=True, capture_output=True, timeout=1200)
    path = subprocess.run(["bash", "-c", f'. "{CLUSTER}/lib.sh"; echo "$VERSITYGW_BIN"'], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert os.access(path, os.X_OK), path
    return path


class S3Server:
    def __init__(self, tmp_path):
        self.root = tmp_path / "s3"
        (self.root / BUCKET).mkdir(parents=True)  # versitygw's posix backend: a directory per bucket
        self.secret = secrets.token_urlsafe(24)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, ROOT_ACCESS_KEY_ID=ACCESS_KEY, ROOT_SECRET_ACCESS_KEY=self.secret)
        self.log = open(tmp_path / "versitygw.log", "w")
        self.proc = subprocess.Popen([versitygw_bin(), "--port", f"127.0.0.1:{self.port}", "--quiet", "posix",
                                      str(self.root)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.proc.poll() is None, open(tmp_path / "versitygw.log").read()
                assert time.monotonic() < deadline, "versitygw did not start"
                time.sleep(0.1)

    def get(self, key, out):
        """GET an object with curl's own SigV4 (a client independent of the daemon's)."""
        p = subprocess.run(["curl", "-sS", "-o", str(out), "-w", "%{http_code}", "--aws-sigv4",
                            "aws:amz:us-east-1:s3", "-u", f"{ACCESS_KEY}:{self.secret}", "-H",
                            "x-amz-content-sha256: " + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                            f"{self.endpoint}/{BUCKET}/{key}"], capture_output=True, text=True, timeout=60)
        return p.stdout

    def objects(self, prefix):
        base = self.root / BUCKET / prefix
        if not base.exists():
            return []
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def s3(tmp_path):
    server = S3Server(tmp_path)
    yield server
    server.stop()


def backup_item(d, sid, bid):
    return next(i for i in d.request("GET", f"/api/v1/stores/{sid}/backups").json()["items"] if i["id"] == bid)


def wait_remote(d, sid, bid):
    return d.wait_for(lambda: (lambda b: b if b["remote"] != "none" else None)(backup_item(d, sid, bid)),
                      timeout=120, interval=0.3, what=f"the copy of backup {bid}")


def test_backup_copied_to_s3_and_restored_from_it(cluster_daemon, mariadb, s3, private_bus, tmp_path):
    creds = tmp_path / "s3-credentials"
    creds.write_text(f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {s3.secret}\n")
    bus_env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = cluster_daemon(config={"backups": {"s3": {"endpoint": s3.endpoint, "bucket": BUCKET, "prefix": "agent1/",
                                                  "credentials_file": str(creds)}}},
                       start=False, env=bus_env)
    d.cli("account", "create", "acme", "--role", "tenant")
    acme = d.cli("token", "create", "--name", "laptop", "--account", "acme").stdout.strip()
    d.start()
    sid, html, _ = shop_on_this_host(d, mariadb, tmp_path, "s3shop", acme)

    # A backup, then its copy: every file in the bucket under agent1/<store>/<time>-<id>/, byte for byte.
    r = d.request("POST", f"/api/v1/stores/{sid}/backups", auth=acme)
    assert r.status == 202, r
    b = wait_backup(d, sid, r.json()["id"], auth=acme)
    assert b["status"] == "succeeded", b["reason"]
    b = wait_remote(d, sid, b["id"])
    assert b["remote"] == "copied" and b["remote_reason"] is None, b
    assert b["remote_key"] == f"agent1/{b['path']}"
    bdir = os.path.join(d.config["state_dir"], "backups", b["path"])
    files = sorted(os.listdir(bdir))
    assert files == ["database.sql.gz", "manifest.json", "wp-content.tar.gz"]
    assert s3.objects(b["remote_key"]) == files
    for name in files:
        got = tmp_path / f"got-{name}"
        assert s3.get(f"{b['remote_key']}/{name}", got) == "200"
        assert got.read_bytes() == open(os.path.join(bdir, name), "rb").read(), name
    copied = wait_event(d, sid, ("backup.copied", "backup.copy_failed"))
    assert copied["action"] == "backup.copied", copied
    assert f"s3://{BUCKET}/{b['remote_key']}/" in copied["detail"]
    # storectl's list says where the copy is.
    p = subprocess.run([STORECTL, "backups", "s3shop"], capture_output=True, text=True,
                       env=dict(os.environ, **bus_env), timeout=30)
    assert p.returncode == 0 and "copied" in p.stdout, (p.stdout, p.stderr)

    # The host loses the backup's directory; the shop changes; the restore downloads the copy,
    # checks it and puts the shop back as it was.
    upload = (html / "wp-content" / "uploads" / "2026" / "mug.jpg").read_bytes()
    shutil.rmtree(bdir)
    mariadb.sql("DELETE FROM wordpress.wp_products WHERE id = 2")
    (html / "wp-content" / "uploads" / "2026" / "mug.jpg").unlink()
    r = d.request("POST", f"/api/v1/stores/{sid}/restore", {"backup": b["id"]}, auth=acme)
    assert r.status == 202, r
    outcome = wait_event(d, sid, ("backup.restored", "backup.restore_failed"), after=copied["id"])
    assert outcome["action"] == "backup.restored", outcome
    assert products(mariadb) == PRODUCTS
    assert (html / "wp-content" / "uploads" / "2026" / "mug.jpg").read_bytes() == upload
    assert sorted(os.listdir(bdir)) == files
    for part in b["manifest"]["parts"]:
        assert sha256(os.path.join(bdir, part["name"])) == part["sha256"]
    events = d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]
    assert any(e["action"] == "backup.fetched" and e["detail"] == b["id"] for e in events)

    # A copy that fails (the credentials file now holds a wrong secret, read at the next copy):
    # S3's own refusal in the reason, and the backup itself good and listed as such.
    creds.write_text(f"aws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = not-{s3.secret}\n")
    r = d.request("POST", f"/api/v1/stores/{sid}/backups", auth=acme)
    assert r.status == 202, r
    bad = wait_backup(d, sid, r.json()["id"], auth=acme)
    assert bad["status"] == "succeeded", bad["reason"]
    bad = wait_remote(d, sid, bad["id"])
    assert bad["remote"] == "failed", bad
    assert "HTTP 403" in bad["remote_reason"] and "SignatureDoesNotMatch" in bad["remote_reason"], bad
    failed = wait_event(d, sid, ("backup.copy_failed",))
    assert "SignatureDoesNotMatch" in failed["detail"] and "good" in failed["detail"], failed
    assert sorted(os.listdir(os.path.join(d.config["state_dir"], "backups", bad["path"]))) == files
    assert s3.objects(bad["remote_key"]) == []

    # Deleting a backup deletes its copy too.
    creds.write_text(f"aws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {s3.secret}\n")
    r = d.request("DELETE", f"/api/v1/stores/{sid}/backups/{b['id']}", auth=acme)
    assert r.status in (200, 204), r
    d.wait_for(lambda: s3.objects(b["remote_key"]) == [], timeout=60, what="the copy deleted")
    logs = d.logs()
    assert s3.secret not in logs
    with tarfile.open(os.path.join(d.config["state_dir"], "backups", bad["path"], "wp-content.tar.gz")) as t:
        assert "wp-content/uploads/2026/mug.jpg" in t.getnames()
