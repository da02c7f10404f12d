# SPDX-License-Identifier: Apache-2.0
"""The database under the daemon: every schema it has shipped, damaged files, read-only and full disks.

What is checked is what an operator and a client see: the stores, timelines and tokens of an old file
served by today's daemon; a refusal at start with a sentence that names the file and the trouble (and
an exit status, not a crash); 507 with a code of its own while the disk cannot be written, and every
row committed before it still there after a restart.
"""

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

import pytest

import schema_history as H
from daemon import DAEMON, Daemon

STORES = "/api/v1/stores"


def error_of(r):
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]["code"]


def load_fixture(path, version):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(H.fixture_path(version)) as f:
        sql = f.read()
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.close()


def db_path_of(d):
    return d.config["database"]


def run_to_exit(d, timeout=20):
    """Runs the daemon of d in the foreground (it is expected to refuse to start); returns (rc, output)."""
    p = subprocess.run([DAEMON, "--config", d.config_path], capture_output=True, text=True, env=d.env,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr


# ---- migrations ----

@pytest.mark.parametrize("version", H.VERSIONS)
def test_every_shipped_schema_is_served_by_today(daemon_factory, version):
    d = daemon_factory(token=False, start=False)
    load_fixture(db_path_of(d), version)
    d.token = H.TOKEN_OPS
    d.start()

    current = sqlite3.connect(db_path_of(d)).execute("PRAGMA user_version").fetchone()[0]
    assert current >= 4
    if version < current:
        assert f"migrated from schema version {version} to {current}." in d.logs(), d.logs()[-2000:]

    # Every store, as it was: name, owner, status, what helm and the cluster had said.
    stores = H.STORES + ([H.ACME_STORE] if version >= 4 else [])
    for sid, name, owner, status in stores:
        r = d.request("GET", f"{STORES}/{sid}")
        assert r.status == 200, r
        s = r.json()
        assert (s["name"], s["owner"], s["status"]) == (name, owner, status), s
        if status in ("READY", "DELETED"):
            assert s["url"] == f"http://{name}.localtest.me" and s["chart_version"] == "0.1.0", s
            assert s["helm_revision"] == 2, s
        if status == "FAILED":
            assert "exceeded quota" in s["status_reason"], s
        if status == "DELETED":
            assert s["deleted_at"] is not None, s
        assert s["created_at"].startswith("2025-11-20T"), s
        # Its timeline, in order (the queued create may have added to the provisioning store's since).
        events = d.request("GET", f"{STORES}/{sid}/events?limit=500").json()["items"]
        want = [(e[3], e[4]) for e in H.EVENTS + H.ACME_EVENTS if e[0] == sid]
        got = [(e["action"], e.get("detail")) for e in events]
        assert got[:len(want)] == want or got[-len(want):] == want, (got, want)

    listed = d.request("GET", f"{STORES}?limit=500").json()["items"]
    assert {s["name"] for s in listed} >= {s[1] for s in stores if s[3] != "DELETED"}

    # Every store belongs to the account of its owner (schema 4 made them from token names and owners),
    # which counts its active stores and live tokens.
    accounts = {a["name"]: a for a in d.request("GET", "/api/v1/accounts").json()["items"]}
    want = {"ops": ("admin", 2, 1), "ci": ("admin", 1, 0), "root": ("admin", 0, 0)}
    if version >= 4:
        want["acme"] = ("tenant", 1, 1)
    assert {n: (a["role"], a["stores"], a["tokens"]) for n, a in accounts.items()} == want, accounts

    # Tokens: the live one works (it did above), the revoked one stays revoked.
    assert d.request("GET", STORES, auth=H.TOKEN_CI).status == 401
    if version >= 2:
        # The Idempotency-Key ops used still answers with its store.
        r = d.request("POST", STORES, {"name": "shop-ready", "engine": "woocommerce"},
                      headers={"Idempotency-Key": H.IDEMPOTENCY_KEY})
        assert r.status == 202 and r.json()["id"] == "00000000000000a1", r
        assert r.header("Idempotent-Replayed") == "true"
    if version >= 4:
        # The tenant sees its own store only, and the audit log kept its records.
        mine = d.request("GET", STORES, auth=H.TOKEN_ACME).json()["items"]
        assert [s["name"] for s in mine] == ["acme-shop"]
        audit = d.request("GET", "/api/v1/audit?limit=500").json()["items"]
        assert {a.get("request_id") for a in audit} >= {f"{i:016x}" for i in range(len(stores))}, audit

    # The migrated file takes new writes, and a second start has nothing to migrate.
    assert d.request("POST", STORES, {"name": "after-migration", "engine": "woocommerce"}).status == 202
    assert d.stop() == 0
    before = d.logs()
    d.start()
    assert "migrated" not in d.logs()[len(before):]
    assert d.request("GET", f"{STORES}/00000000000000a1").json()["name"] == "shop-ready"


def test_fixtures_are_the_schema_they_claim():
    """Each fixture file has its version's tables and nothing of a later one (a v2 file made with v3's
    schema would test nothing): the tables are those the shipped migrations 1..N create."""
    for v in H.VERSIONS:
        db = sqlite3.connect(":memory:")
        with open(H.fixture_path(v)) as f:
            db.executescript(f.read())
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} - {"sqlite_sequence"}
        assert db.execute("PRAGMA user_version").fetchone()[0] == v
        want = {1: {"stores", "tasks", "events", "api_tokens"},
                2: {"stores", "tasks", "events", "api_tokens", "idempotency_keys"},
                3: {"stores", "tasks", "events", "api_tokens", "idempotency_keys", "sessions"},
                4: {"stores", "tasks", "events", "tokens", "accounts", "idempotency_keys", "sessions", "audit"}}[v]
        assert tables == want, (v, tables)
        assert db.execute("SELECT count(*) FROM stores").fetchone()[0] >= 4


# ---- damaged files ----

def damaged_page(path):
    """A real database of the current schema with a page in its middle overwritten: SQLite opens it
    without complaint, and only reading that page finds the damage."""
    load_fixture(path, 4)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = DELETE")
    for i in range(400):
        db.execute("INSERT INTO events (store_id, time, actor, action, detail) VALUES (?, ?, 'worker', 'helm.log', ?)",
                   ("00000000000000a1", H.T0 + i, "x" * 400))
    db.commit()
    db.close()
    size = os.path.getsize(path)
    page = 4096
    rnd = random.Random(7)
    with open(path, "r+b") as f:
        f.seek((size // page // 2) * page)
        f.write(bytes(rnd.getrandbits(8) for _ in range(page)))


def garbage(path):
    with open(path, "wb") as f:
        f.write(bytes(random.Random(1).getrandbits(8) for _ in range(50_000)))


def not_sqlite(path):
    with open(path, "w") as f:
        f.write("database: /var/lib/storeagent/storeagent.db\n" * 200)


def truncated(size):
    def make(path):
        load_fixture(path, 4)
        db = sqlite3.connect(path)
        for i in range(200):
            db.execute("INSERT INTO events (store_id, time, actor, action, detail) VALUES (?, ?, 'w', 'x', ?)",
                       ("00000000000000a1", i, "y" * 400))
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        with open(path, "r+b") as f:
            f.truncate(size if size > 0 else os.path.getsize(path) + size)
    return make


@pytest.mark.parametrize("damage", [garbage, not_sqlite, truncated(60), truncated(4096), truncated(-4096),
                                    damaged_page],
                         ids=["garbage", "not-sqlite", "truncated-header", "truncated-to-one-page",
                              "last-page-cut", "damaged-page"])
def test_damaged_database_is_refused_at_start(tmp_path, damage):
    d = Daemon(workdir=str(tmp_path))
    path = db_path_of(d)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    damage(path)
    with open(path, "rb") as f:
        before = f.read()

    rc, out = run_to_exit(d)
    assert rc == 1, f"exit {rc}:\n{out}"
    assert f"Refusing to use database '{path}': the file is damaged or is not an SQLite database" in out, out
    # Nothing was written over what an operator may still want to recover.
    with open(path, "rb") as f:
        assert f.read() == before
    # The token command refuses it the same way.
    p = d.cli("token", "create", "--name", "x", check=False)
    assert p.returncode == 1 and "is damaged or is not an SQLite database" in p.stderr, p.stderr


# ---- read-only ----

@pytest.fixture
def as_nobody():
    """A directory nobody may use, and the setpriv prefix to run as nobody (root only)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("running the daemon as another user needs root and setpriv")
    top = tempfile.mkdtemp(prefix="storeagent-ro-")
    os.chmod(top, 0o755)
    yield top, ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    shutil.rmtree(top, ignore_errors=True)


def nobody_daemon(top):
    d = Daemon(workdir=top)
    load_fixture(db_path_of(d), 4)
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            shutil.chown(os.path.join(root, n), "nobody")
    shutil.chown(top, "nobody")
    os.chmod(d.config_path, 0o644)
    return d


@pytest.mark.parametrize("what", ["file", "directory"])
def test_read_only_database_is_refused_at_start(as_nobody, what):
    top, prefix = as_nobody
    # A read-only file is read-only; a directory where the daemon may not create its lock, -wal and -shm
    # files is refused as a permission, naming what the daemon needs.
    words = {"file": "the file, its directory or its file system is read-only",
             "directory": "permission denied (the daemon must be able to read and write the file and create files "
                          "in its directory)"}
    d = nobody_daemon(top)
    path = db_path_of(d)
    if what == "file":
        os.chmod(path, 0o444)
    else:
        os.chmod(os.path.dirname(path), 0o555)
    p = subprocess.run(prefix + [DAEMON, "--config", d.config_path], capture_output=True, text=True, timeout=20,
                       env=d.env)
    assert p.returncode == 1, p.stderr
    assert f"Refusing to use database '{path}': " + words[what] in p.stderr, \
        p.stderr
    os.chmod(os.path.dirname(path), 0o755)
    os.chmod(path, 0o644)
    # The same files, writable, are served with everything in them.
    d.token = H.TOKEN_OPS
    d.start(argv_prefix=prefix)
    try:
        assert d.request("GET", f"{STORES}/00000000000000a1").json()["name"] == "shop-ready"
    finally:
        assert d.stop() == 0


def test_read_only_file_system_is_refused_at_start(daemon_factory):
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    d = daemon_factory(token=False, start=False)
    path = db_path_of(d)
    load_fixture(path, 4)
    state = os.path.dirname(path)
    subprocess.run(["mount", "--bind", state, state], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", state], check=True)
        rc, out = run_to_exit(d)
        assert rc == 1, out
        assert f"Refusing to use database '{path}': the file, its directory or its file system is read-only" in out
    finally:
        subprocess.run(["umount", state], check=True)


@pytest.fixture
def ext4_volume(tmp_path):
    """A small ext4 file system on a loop device, mounted errors=remount-ro: writing its
    trigger_fs_error makes the kernel turn it read-only under open files, as a disk error would."""
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        pytest.skip("a loop-mounted ext4 needs root and mkfs.ext4")
    image, mnt = tmp_path / "volume.img", tmp_path / "volume"
    mnt.mkdir()
    with open(image, "wb") as f:
        f.truncate(32 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    if subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(image), str(mnt)]).returncode != 0:
        pytest.skip("no loop device to mount an ext4 image on")

    def fail():
        dev = os.path.basename(subprocess.run(["findmnt", "-no", "SOURCE", str(mnt)], capture_output=True,
                                              text=True, check=True).stdout.strip())
        with open(f"/sys/fs/ext4/{dev}/trigger_fs_error", "w") as f:
            f.write("storeagent test: disk error")
        assert "emergency_ro" in subprocess.run(["findmnt", "-no", "OPTIONS", str(mnt)], capture_output=True,
                                      text=True).stdout.strip().split(",")

    def remount_rw():
        subprocess.run(["umount", str(mnt)], check=True)
        subprocess.run(["e2fsck", "-fy", str(image)], capture_output=True)
        subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(image), str(mnt)], check=True)

    try:
        yield str(mnt), fail, remount_rw
    finally:
        subprocess.run(["umount", "--lazy", str(mnt)])  # mount -o loop detaches its device on umount


def test_file_system_gone_read_only_refuses_writes_and_keeps_what_was_committed(daemon_factory, ext4_volume):
    mnt, fail, remount_rw = ext4_volume
    db_path = os.path.join(mnt, "storeagent.db")
    d = daemon_factory(config={"database": db_path, "state_dir": mnt})
    try:
        committed = []
        for name in ("before-one", "before-two"):
            r = d.request("POST", STORES, {"name": name, "engine": "woocommerce"})
            assert r.status == 202, r
            committed.append(r.json()["id"])

        fail()
        r = d.request("POST", STORES, {"name": "after-error", "engine": "woocommerce"})
        assert r.status == 507, r
        assert error_of(r) == "storage_read_only"
        assert "read-only" in r.json()["error"]["message"]
        assert r.header("Retry-After") is None, "a broken disk does not clear in a second"
        r = d.request("DELETE", f"{STORES}/{committed[0]}")
        assert r.status == 507 and error_of(r) == "storage_read_only", r
        # Reads say the same (each connection opens the database, which cannot be opened for writing now).
        r = d.request("GET", f"{STORES}/{committed[0]}")
        assert r.status in (200, 507), r
        if r.status == 507:
            assert error_of(r) == "storage_read_only", r
        # The workers do not spin on a task whose lease they cannot record: over two seconds the queued
        # create (waiting for a cluster, with backoff) starts at most once or twice, not thousands of times.
        mark = d.logs().count(" started (attempt ")
        time.sleep(2)
        assert d.logs().count(" started (attempt ") - mark <= 2, d.logs()[-2000:]
        # The log names the database, as an error, for each refusal; no other error is logged.
        errors = [rec for rec in d.log_records() if rec.get("level") == "error"]
        assert errors and all(rec.get("database") == db_path for rec in errors), d.logs()[-3000:]
        assert all("read-only" in rec["message"].lower() for rec in errors), errors
    finally:
        d.stop(sig=signal.SIGKILL)  # the disk is gone: no clean shutdown to ask of it

    remount_rw()
    d.start()
    items = d.request("GET", f"{STORES}?limit=500").json()["items"]
    assert sorted(s["name"] for s in items) == ["before-one", "before-two"]
    for sid in committed:
        actions = [e["action"] for e in d.request("GET", f"{STORES}/{sid}/events").json()["items"]]
        assert actions[0] == "store.create", actions
    assert d.request("POST", STORES, {"name": "after-repair", "engine": "woocommerce"}).status == 202
    assert d.stop() == 0


# ---- a full disk, across a restart ----

@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "full"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "storeagent-test-full", str(mnt)], check=True)
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", "--lazy", str(mnt)], check=True)


def fill(directory):
    """Takes every free byte of the file system holding directory; returns the file that holds them."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(b"\0" * 65536)
            except OSError:
                break
        while True:
            try:
                f.write(b"\0")
            except OSError:
                break
    assert os.statvfs(directory).f_bavail == 0
    return path


def test_full_disk_loses_nothing_committed_across_a_restart(daemon_factory, small_tmpfs):
    db_path = os.path.join(small_tmpfs, "storeagent.db")
    d = daemon_factory(config={"database": db_path})
    accepted = {}
    filler = None
    try:
        for i in range(3):
            r = d.request("POST", STORES, {"name": f"kept-{i}", "engine": "woocommerce"})
            assert r.status == 202, r
            accepted[r.json()["name"]] = r.json()["id"]
        filler = fill(small_tmpfs)
        for i in range(40):
            r = d.request("POST", STORES, {"name": f"fill-{i}", "engine": "woocommerce"})
            if r.status != 202:
                break
            accepted[r.json()["name"]] = r.json()["id"]
        assert r.status == 507 and error_of(r) == "storage_full", r
        # Stopped while the disk is still full: the shutdown must not need room it does not have.
        assert d.stop() == 0
    finally:
        if filler:
            os.unlink(filler)
        d.stop()

    d.start()
    items = d.request("GET", f"{STORES}?limit=500").json()["items"]
    assert {s["name"]: s["id"] for s in items} == accepted
    for sid in accepted.values():
        actions = [e["action"] for e in d.request("GET", f"{STORES}/{sid}/events").json()["items"]]
        assert "store.create" in actions
    assert d.request("GET", STORES).status == 200  # the token committed before is still there


def test_another_reader_never_takes_the_daemons_write_ahead_log(daemon_factory):
    """An operator's sqlite3 (a report, a backup script) that opens the database while the daemon runs
    and closes it must not take the daemon's write-ahead log with it: what the daemon commits after
    that is in the database for every reader, not in a log file nobody else sees (and lost at the
    next restart). The daemon never opens the database file itself outside SQLite, whose close would
    drop the locks that tell other processes it is still in use."""
    d = daemon_factory()
    db_path = d.config["database"]

    def names_seen_by_another_process():
        p = subprocess.run(["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                            "print(' '.join(r[0] for r in c.execute('SELECT name FROM tokens'))); c.close()",
                            db_path], capture_output=True, text=True, timeout=30, check=True)
        return p.stdout.split()

    for name in ("first-write", "second-write", "third-write"):
        r = d.request("POST", "/api/v1/tokens", {"name": name})
        assert r.status == 201, r
        assert name in names_seen_by_another_process(), (name, os.path.exists(db_path + "-wal"))
    assert os.path.exists(db_path + "-wal"), "the daemon's write-ahead log was removed under it"
