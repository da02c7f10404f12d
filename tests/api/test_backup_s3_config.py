# SPDX-License-Identifier: Apache-2.0
"""The backups.s3 keys at the daemon's start: checked together, the credentials file read then.

(The copies themselves, against a real S3-compatible server, are tested in
tests/integration/test_backup_s3.py.)"""

import subprocess

from daemon import DAEMON, Daemon

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY"


def s3_config(creds, **more):
    return {"backups": {"s3": dict({"endpoint": "http://127.0.0.1:9", "bucket": "shop-backups",
                                    "credentials_file": str(creds)}, **more)}}


def run_to_exit(d):
    p = subprocess.run([DAEMON, "--config", d.config_path], capture_output=True, text=True, env=d.env, timeout=30)
    return p.returncode, p.stdout + p.stderr


def test_s3_keys_checked_and_credentials_read_at_start(daemon_factory, tmp_path):
    creds = tmp_path / "s3-credentials"

    # An endpoint without a bucket: the configuration is refused, naming the keys.
    d = Daemon(config={"backups": {"s3": {"endpoint": "http://127.0.0.1:9", "credentials_file": str(creds)}}},
               workdir=str(tmp_path / "nobucket"))
    p = subprocess.run([DAEMON, "--config", d.config_path, "--check-config"], capture_output=True, text=True)
    assert p.returncode == 1 and "backups.s3.bucket" in p.stderr, p.stderr

    # A credentials file that cannot be read, or lacks a key, stops the start with its name.
    d = Daemon(config=s3_config(creds), workdir=str(tmp_path / "missing"))
    rc, out = run_to_exit(d)
    assert rc != 0 and f"cannot read backups.s3.credentials_file {creds}" in out, out
    creds.write_text(f"[default]\naws_secret_access_key = {SECRET}\n")
    rc, out = run_to_exit(d)
    assert rc != 0 and "has no aws_access_key_id and aws_secret_access_key" in out, out
    assert SECRET not in out

    # A whole one: the daemon starts, the effective configuration names the file, never the keys;
    # backups list no copy ("remote": "none" is in the API's answers, see test_backup_s3.py).
    creds.write_text(f"[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = {SECRET}\n")
    d = daemon_factory(config=s3_config(creds, prefix="agent1/"))
    assert d.request("GET", "/readyz").status in (200, 503)
    p = subprocess.run([DAEMON, "--config", d.config_path, "--check-config"], capture_output=True, text=True)
    assert p.returncode == 0 and str(creds) in p.stdout and "agent1/" in p.stdout, p.stderr
    assert SECRET not in p.stdout and SECRET not in d.logs()
