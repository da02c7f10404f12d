# SPDX-License-Identifier: Apache-2.0
"""Backups of a store, taken by the real daemon over pods/exec through the real API server.

kwok runs no containers. STAND-IN: kwok's `Exec` objects map an exec into the store's pods to a
command on this host (tests/cluster/up enables them): the database pod's exec runs the real
mysqldump of Debian's MariaDB against a real MariaDB server this test starts on 127.0.0.1 with a
throw-away data directory, and the WordPress pod's exec runs tar in a directory of this test
standing in for /var/www/html. Everything between the daemon and those commands is real: the
WebSocket upgrade, the apiserver's exec proxy to the (kwok) kubelet, the channels, the status.
"""

import gzip
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import tarfile
import time

import pytest
import yaml

from conftest import env, kubectl, kubectl_json, wait_status
from test_races import STORECTL, private_bus  # noqa: F401 (a fixture: the daemon's D-Bus for storectl)

ROOT_PASSWORD = "backup-test-root-pw"
PRODUCTS = [(1, "Blue mug", 1200), (2, "Red scarf", 2500), (3, "Green hat \u00e9t\u00e9", 900)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MariaDB:
    """A real MariaDB server on 127.0.0.1 (and a socket) with a throw-away data directory."""

    def __init__(self, base):
        self.dir = base
        self.data = os.path.join(base, "data")
        # A socket's path has at most 107 bytes, and pytest's temporary folders can be deeper than that.
        self.socket = os.path.join(tempfile.mkdtemp(prefix="sa-mysql-"), "mysqld.sock")
        self.port = free_port()
        self.proc = None

    def sql(self, statement, password=ROOT_PASSWORD):
        args = ["mariadb", f"--socket={self.socket}", "--user=root", "--batch", "--skip-column-names"]
        env = dict(os.environ, MYSQL_PWD=password) if password else dict(os.environ)
        p = subprocess.run(args + ["-e", statement], capture_output=True, text=True, timeout=30, env=env)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def start(self):
        if shutil.which("mariadbd") is None and not os.path.exists("/usr/sbin/mariadbd"):
            pytest.fail("mariadb-server is not installed (contrib/install-deps installs it)", pytrace=False)
        os.makedirs(self.data)
        subprocess.run(["mariadb-install-db", f"--datadir={self.data}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        self.proc = subprocess.Popen(
            ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.data}", f"--socket={self.socket}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--user=root", "--skip-log-bin",
             f"--pid-file={os.path.join(self.dir, 'mysqld.pid')}", "--innodb-buffer-pool-size=16M"],
            stdout=open(os.path.join(self.dir, "mysqld.log"), "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            p = subprocess.run(["mariadb", f"--socket={self.socket}", "--user=root", "-e", "SELECT 1"],
                               capture_output=True, timeout=10)
            if p.returncode == 0:
                break
            assert self.proc.poll() is None, open(os.path.join(self.dir, "mysqld.log")).read()
            assert time.monotonic() < deadline, "MariaDB did not start"
            time.sleep(0.2)
        self.sql(f"ALTER USER root@localhost IDENTIFIED BY '{ROOT_PASSWORD}'", password=None)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        shutil.rmtree(os.path.dirname(self.socket), ignore_errors=True)


@pytest.fixture
def mariadb(tmp_path):
    db = MariaDB(str(tmp_path / "mariadb"))
    os.makedirs(db.dir)
    db.start()
    yield db
    db.stop()


def pod_of(ns, component):
    pods = kubectl_json("get", "pods", "-n", ns, "-l", f"app.kubernetes.io/component={component}")["items"]
    assert pods, f"no {component} pod in {ns}"
    return pods[0]["metadata"]["name"]


def map_exec(ns, pod, workdir, envs):
    """STAND-IN: a kwok Exec object, so that an exec into this pod runs on this host."""
    obj = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Exec",
           "metadata": {"name": pod, "namespace": ns},
           "spec": {"execs": [{"local": {"workDir": workdir,
                                         "envs": [{"name": k, "value": v} for k, v in envs.items()]}}]}}
    p = subprocess.run([env()["KUBECTL"], "--kubeconfig", env()["KUBECONFIG"], "apply", "-f", "-"],
                       input=json.dumps(obj), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_backup(d, sid, bid, auth=True):
    def done():
        items = d.request("GET", f"/api/v1/stores/{sid}/backups", auth=auth).json()["items"]
        b = next(i for i in items if i["id"] == bid)
        return b if b["status"] in ("succeeded", "failed") else None
    return d.wait_for(done, timeout=120, interval=0.3, what=f"backup {bid} finished")


def products(db):
    rows = db.sql("SELECT id, title, price_cents FROM wordpress.wp_products ORDER BY id").splitlines()
    return [(int(i), t, int(p)) for i, t, p in (r.split("\t") for r in rows)]


def wait_event(d, sid, actions, after=0):
    def seen():
        items = d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000&after={after}").json()["items"]
        return next((e for e in items if e["action"] in actions), None)
    return d.wait_for(seen, timeout=120, interval=0.3, what=f"one of {actions}")


def shop_on_this_host(d, mariadb, tmp_path, name, token, db_path=None):
    """A READY store whose pods' execs run here (the stand-in above), with a shop's data: a table of
    products in the real MariaDB and a wp-content with an upload. Returns (id, html dir, password file)."""
    # The shop's data: a table of products in the store's database (the real MariaDB).
    mariadb.sql("CREATE DATABASE wordpress; CREATE TABLE wordpress.wp_products "
                "(id INT PRIMARY KEY, title VARCHAR(100), price_cents INT) CHARACTER SET utf8mb4")
    for pid, title, price in PRODUCTS:
        mariadb.sql(f"INSERT INTO wordpress.wp_products VALUES ({pid}, '{title}', {price})")
    password_file = tmp_path / "mysql-root-password"
    password_file.write_text(ROOT_PASSWORD)
    html = tmp_path / "html"
    (html / "wp-content" / "uploads" / "2026").mkdir(parents=True)
    (html / "wp-content" / "uploads" / "2026" / "mug.jpg").write_bytes(os.urandom(200_000))
    (html / "wp-content" / "themes").mkdir()
    (html / "wp-content" / "themes" / "style.css").write_text("body { color: teal }\n")
    (html / "wp-config.php").write_text("<?php // not part of wp-content\n")

    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"}, auth=token)
    assert r.status == 202, r
    sid = r.json()["id"]
    assert wait_status(d, sid, {"READY", "FAILED"})["status"] == "READY"
    ns = f"store-{name}"
    # The pod's environment as the chart sets it; HOME's .my.cnf points the client at this test's
    # server instead of the container's own socket (Debian's /etc/mysql names another).
    home = tmp_path / "mysql-home"
    home.mkdir()
    (home / ".my.cnf").write_text(f"[client]\nsocket={mariadb.socket}\n")
    db_env = {"MYSQL_ROOT_PASSWORD_FILE": str(password_file), "MYSQL_DATABASE": "wordpress", "HOME": str(home)}
    if db_path:
        db_env["PATH"] = db_path
    map_exec(ns, pod_of(ns, "database"), str(tmp_path), db_env)
    map_exec(ns, pod_of(ns, "web"), str(html), {})
    return sid, html, password_file


def test_backup_restore_and_failures(cluster_daemon, mariadb, private_bus, tmp_path):
    bus_env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = cluster_daemon(start=False, env=bus_env)
    d.cli("account", "create", "acme", "--role", "tenant")
    d.cli("account", "create", "globex", "--role", "tenant")
    acme = d.cli("token", "create", "--name", "laptop", "--account", "acme").stdout.strip()
    globex = d.cli("token", "create", "--name", "laptop", "--account", "globex").stdout.strip()
    d.start()

    sid, html, password_file = shop_on_this_host(d, mariadb, tmp_path, "bakshop", acme)

    # Another tenant's view: as if the store did not exist.
    for method in ("GET", "POST"):
        theirs = d.request(method, f"/api/v1/stores/{sid}/backups", auth=globex)
        assert theirs.status == 404 and theirs.json()["error"]["code"] == "not_found", theirs

    r = d.request("POST", f"/api/v1/stores/{sid}/backups", auth=acme)
    assert r.status == 202, r
    queued = r.json()
    assert queued["status"] in ("queued", "running", "succeeded"), queued
    b = wait_backup(d, sid, queued["id"], auth=acme)
    assert b["status"] == "succeeded", b["reason"]
    assert b["reason"] is None

    # On disk: the parts and the manifest, under the state directory, whole (no .partial left).
    bdir = os.path.join(d.config["state_dir"], "backups", b["path"])
    assert sorted(os.listdir(bdir)) == ["database.sql.gz", "manifest.json", "wp-content.tar.gz"]
    assert not [n for n in os.listdir(os.path.dirname(bdir)) if n.endswith(".partial")]
    manifest = json.load(open(os.path.join(bdir, "manifest.json")))
    assert manifest == b["manifest"]
    assert manifest["store"] == {"id": sid, "name": "bakshop"}
    assert manifest["chart_version"] == "0.1.0" and manifest["app_version"]
    parts = {p["name"]: p for p in manifest["parts"]}
    for name, p in parts.items():
        path = os.path.join(bdir, name)
        assert p["sha256"] == sha256(path), name
        assert p["size_bytes"] == os.path.getsize(path), name
    assert b["size_bytes"] == sum(p["size_bytes"] for p in parts.values())

    # The dump holds the rows (mysqldump's own output, gzip as written).
    dump = gzip.open(os.path.join(bdir, "database.sql.gz")).read().decode()
    assert parts["database.sql.gz"]["uncompressed_bytes"] == len(dump.encode())
    assert "CREATE TABLE `wp_products`" in dump
    for pid, title, price in PRODUCTS:
        assert f"({pid},'{title}',{price})" in dump, dump[-2000:]
    # The archive holds wp-content, byte for byte, and nothing beside it.
    with tarfile.open(os.path.join(bdir, "wp-content.tar.gz")) as tar:
        names = tar.getnames()
        assert "wp-content/uploads/2026/mug.jpg" in names and not any("wp-config" in n for n in names)
        assert (tar.extractfile("wp-content/uploads/2026/mug.jpg").read() ==
                (html / "wp-content" / "uploads" / "2026" / "mug.jpg").read_bytes())

    # The list shows it; the timeline says so; the store stayed READY throughout.
    items = d.request("GET", f"/api/v1/stores/{sid}/backups", auth=acme).json()["items"]
    assert [i["id"] for i in items] == [b["id"]]
    actions = [e["action"] for e in d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]]
    assert "backup.create" in actions and "backup.succeeded" in actions
    assert d.request("GET", f"/api/v1/stores/{sid}").json()["status"] == "READY"
    assert ROOT_PASSWORD not in d.logs()

    # A dump that fails (the pod's password file says something else), asked for with storectl: a
    # failed backup with the dump's own words, no files, and the store as it was.
    password_file.write_text("not-the-password")
    run_env = dict(os.environ, **bus_env)
    p = subprocess.run([STORECTL, "backup", "bakshop", "--wait"], capture_output=True, text=True, env=run_env,
                       timeout=120)
    assert p.returncode == 1 and "failed" in p.stdout and "Access denied" in p.stdout, (p.stdout, p.stderr)
    p = subprocess.run([STORECTL, "backups", "bakshop", "--json"], capture_output=True, text=True, env=run_env,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    listed = json.loads(p.stdout)
    assert [i["status"] for i in listed] == ["failed", "succeeded"] and listed[1]["id"] == b["id"]
    failed = listed[0]
    assert "mysqldump" in failed["reason"] and "Access denied" in failed["reason"], failed
    assert failed["path"] is None and failed["manifest"] is None and failed["size_bytes"] == 0
    assert sorted(os.listdir(os.path.dirname(bdir))) == [os.path.basename(bdir)]
    assert d.request("GET", f"/api/v1/stores/{sid}").json()["status"] == "READY"
    events = d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]
    assert any(e["action"] == "backup.failed" and "Access denied" in e["detail"] for e in events)
    password_file.write_text(ROOT_PASSWORD)

    # Restore: the shop changes after the backup (a product sold out and deleted, a new one, an
    # upload gone, a file added), and the restore puts it back as it was, byte for byte, after a
    # safety backup of the changed shop.
    mariadb.sql("DELETE FROM wordpress.wp_products WHERE id = 2; "
                "INSERT INTO wordpress.wp_products VALUES (4, 'After the backup', 100)")
    (html / "wp-content" / "uploads" / "2026" / "mug.jpg").unlink()
    (html / "wp-content" / "themes" / "new.css").write_text("/* after */\n")
    r = d.request("POST", f"/api/v1/stores/{sid}/restore", {"backup": b["id"]}, auth=acme)
    assert r.status == 202, r
    safety_id = r.json()["safety_backup"]["id"]
    assert r.json()["restore_of"] == b["id"]
    outcome = wait_event(d, sid, ("backup.restored", "backup.restore_failed"))
    assert outcome["action"] == "backup.restored", outcome
    assert products(mariadb) == PRODUCTS
    assert ((html / "wp-content" / "uploads" / "2026" / "mug.jpg").read_bytes() ==
            tarfile.open(os.path.join(bdir, "wp-content.tar.gz")).extractfile("wp-content/uploads/2026/mug.jpg").read())
    assert not (html / "wp-content" / "themes" / "new.css").exists()
    assert sorted(os.listdir(html)) == ["wp-config.php", "wp-content"]
    safety = next(i for i in d.request("GET", f"/api/v1/stores/{sid}/backups", auth=acme).json()["items"]
                  if i["id"] == safety_id)
    assert safety["status"] == "succeeded", safety
    sdump = gzip.open(os.path.join(d.config["state_dir"], "backups", safety["path"], "database.sql.gz")).read()
    assert b"'After the backup'" in sdump
    assert d.request("GET", f"/api/v1/stores/{sid}").json()["status"] == "READY"

    # A damaged backup (one byte of its archive changed) is refused before anything changes.
    mariadb.sql("INSERT INTO wordpress.wp_products VALUES (5, 'Kept', 1)")
    archive = os.path.join(bdir, "wp-content.tar.gz")
    data = bytearray(open(archive, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(archive, "wb").write(bytes(data))
    r = d.request("POST", f"/api/v1/stores/{sid}/restore", {"backup": b["id"]}, auth=acme)
    assert r.status == 202, r
    outcome = wait_event(d, sid, ("backup.restored", "backup.restore_failed"), after=outcome["id"])
    assert outcome["action"] == "backup.restore_failed", outcome
    assert "wp-content.tar.gz" in outcome["detail"] and "SHA-256" in outcome["detail"], outcome
    assert products(mariadb) == PRODUCTS + [(5, "Kept", 1)]
    assert d.request("GET", f"/api/v1/stores/{sid}").json()["status"] == "READY"


def test_scheduled_backups_retention_and_budget(cluster_daemon, mariadb, tmp_path):
    # The platform schedules no backups; the store gets its own short schedule (seconds, allowed by
    # backups.min_schedule here); retention keeps the last two scheduled backups.
    d = cluster_daemon(config={"backups": {"schedule": 0, "min_schedule": 1, "scheduler_interval": 1,
                                           "keep_last": 2, "keep_daily": 0, "keep_weekly": 0},
                               "limits": {"requests_per_window": 100000}}, start=False)
    d.cli("account", "create", "acme", "--role", "tenant")
    acme = d.cli("token", "create", "--name", "laptop", "--account", "acme").stdout.strip()
    d.start()
    sid, html, _ = shop_on_this_host(d, mariadb, tmp_path, "schedshop", acme)
    url = f"/api/v1/stores/{sid}/backup-schedule"

    s = d.request("GET", url, auth=acme).json()
    assert s["every_sec"] == 0 and s["store_every_sec"] is None and s["next_backup_at"] is None, s
    assert s["keep"] == {"last": 2, "daily": 0, "weekly": 0}
    r = d.request("PATCH", url, {"every_sec": "daily"}, auth=acme)
    assert r.status == 400, r
    r = d.request("PATCH", url, {"every_sec": 2}, auth=acme)
    assert r.status == 200, r
    assert r.json()["every_sec"] == 2 and r.json()["store_every_sec"] == 2 and r.json()["next_backup_at"], r

    # The scheduler takes backups through the queue, one at a time, and prunes after each success.
    def four_taken():
        events = d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]
        ok = [e for e in events if e["action"] == "backup.succeeded"]
        return events if len(ok) >= 4 else None
    d.wait_for(four_taken, timeout=300, interval=0.5, what="four scheduled backups")
    r = d.request("PATCH", url, {"every_sec": 0}, auth=acme)
    assert r.status == 200 and r.json()["next_backup_at"] is None, r

    # Once the last one has finished and been pruned after: the two newest scheduled backups.
    def settled():
        items = d.request("GET", f"/api/v1/stores/{sid}/backups").json()["items"]
        if any(i["status"] in ("queued", "running") for i in items):
            return None
        return items if len([i for i in items if i["status"] == "succeeded"]) == 2 else None
    items = d.wait_for(settled, timeout=120, interval=0.5, what="retention down to two backups")
    assert all(i["scheduled"] and i["actor"] == "scheduler" for i in items), items
    events = d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000", auth=acme).json()["items"]
    succeeded = [e["detail"].split()[1].rstrip(":") for e in events if e["action"] == "backup.succeeded"]
    pruned = [e["detail"].split()[1] for e in events if e["action"] == "backup.pruned"]
    kept = [i["id"] for i in items if i["status"] == "succeeded"]
    assert sorted(kept) == sorted(succeeded[-2:]), (kept, succeeded)
    assert len(pruned) == len(succeeded) - 2 and not set(pruned) & set(kept), (pruned, kept)
    # On disk: the kept backups' directories, nothing of the pruned ones.
    store_dir = os.path.join(d.config["state_dir"], "backups", "schedshop")
    paths = sorted(os.path.basename(i["path"]) for i in items if i["status"] == "succeeded")
    assert sorted(os.listdir(store_dir)) == paths
    assert d.request("GET", url, auth=acme).json()["last_backup_at"]

    # A disk budget smaller than what one more backup takes (the upload alone is 200 kB that does
    # not compress): the backup fails with the budget as its reason, and leaves no files.
    used = sum(i["size_bytes"] for i in items if i["status"] == "succeeded")
    d.stop()
    d.config["backups"]["max_bytes"] = used + 50_000
    with open(d.config_path, "w") as f:
        yaml.safe_dump(d.config, f)
    d.start()
    r = d.request("POST", f"/api/v1/stores/{sid}/backups", auth=acme)
    assert r.status == 202, r
    b = wait_backup(d, sid, r.json()["id"], auth=acme)
    assert b["status"] == "failed", b
    assert "backups.max_bytes" in b["reason"] and "disk budget" in b["reason"], b["reason"]
    assert sorted(os.listdir(store_dir)) == paths
    assert d.request("GET", f"/api/v1/stores/{sid}").json()["status"] == "READY"

    # Download: each file of a kept backup, streamed, byte for byte what its manifest's SHA-256 says.
    newest = next(i for i in items if i["status"] == "succeeded")
    for part in newest["manifest"]["parts"]:
        r = d.request("GET", f"/api/v1/stores/{sid}/backups/{newest['id']}/files/{part['name']}", auth=acme)
        assert r.status == 200, r
        assert hashlib.sha256(r.body).hexdigest() == part["sha256"] and len(r.body) == part["size_bytes"]
        assert "attachment" in r.header("Content-Disposition")
    r = d.request("GET", f"/api/v1/stores/{sid}/backups/{newest['id']}/files/storeagent.db", auth=acme)
    assert r.status == 404, r

    # Delete: the older kept backup goes, files and row; that makes room in the budget, and the
    # next backup succeeds.
    older = [i for i in items if i["status"] == "succeeded"][1]
    r = d.request("DELETE", f"/api/v1/stores/{sid}/backups/{older['id']}", auth=acme)
    assert r.status == 204, r
    assert sorted(os.listdir(store_dir)) == [os.path.basename(newest["path"])]
    listed = d.request("GET", f"/api/v1/stores/{sid}/backups", auth=acme).json()["items"]
    assert older["id"] not in [i["id"] for i in listed]
    r = d.request("POST", f"/api/v1/stores/{sid}/backups", auth=acme)
    assert r.status == 202, r
    assert wait_backup(d, sid, r.json()["id"], auth=acme)["status"] == "succeeded"


def map_namespace_exec(ns, mysql_workdir, mysql_envs, html):
    """STAND-IN: a kwok ClusterExec for every pod of a namespace that does not exist yet (a clone's
    exec comes as soon as its pods are ready, before a test could map them one by one): the mysql
    container runs here with mysql_envs, the wordpress container in html."""
    obj = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterExec",
           "metadata": {"name": f"exec-{ns}"},
           "spec": {"selector": {"matchNamespaces": [ns]},
                    "execs": [{"containers": ["mysql"],
                               "local": {"workDir": mysql_workdir,
                                         "envs": [{"name": k, "value": v} for k, v in mysql_envs.items()]}},
                              {"containers": ["wordpress"], "local": {"workDir": html}}]}}
    p = subprocess.run([env()["KUBECTL"], "--kubeconfig", env()["KUBECONFIG"], "apply", "-f", "-"],
                       input=json.dumps(obj), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return obj["metadata"]["name"]


def wordpress_tables(db, url):
    """The tables of WordPress a clone rewrites (its own schema, cut to the columns that matter)."""
    db.sql("CREATE TABLE wordpress.wp_options (option_id INT AUTO_INCREMENT PRIMARY KEY, "
           "option_name VARCHAR(191) UNIQUE, option_value LONGTEXT) CHARACTER SET utf8mb4; "
           "CREATE TABLE wordpress.wp_posts (ID INT PRIMARY KEY, post_content LONGTEXT, guid VARCHAR(255)) "
           "CHARACTER SET utf8mb4; "
           "CREATE TABLE wordpress.wp_users (ID INT PRIMARY KEY, user_login VARCHAR(60), user_pass VARCHAR(255)); "
           "CREATE TABLE wordpress.wp_usermeta (umeta_id INT AUTO_INCREMENT PRIMARY KEY, user_id INT, "
           "meta_key VARCHAR(255), meta_value LONGTEXT)")
    db.sql(f"INSERT INTO wordpress.wp_options (option_name, option_value) VALUES ('siteurl', '{url}'), "
           f"('home', '{url}'), ('blogname', 'Bakery'); "
           f"INSERT INTO wordpress.wp_posts VALUES (1, 'See <a href=\"{url}/shop/\">the shop</a>', '{url}/?p=1'); "
           "INSERT INTO wordpress.wp_users VALUES (1, 'admin', '$wp$2y$10$sourcehash'); "
           "INSERT INTO wordpress.wp_usermeta (user_id, meta_key, meta_value) VALUES (1, 'session_tokens', 'a:1:{}'), "
           "(1, 'nickname', 'admin')")


def test_clone_from_backup(cluster_daemon, mariadb, tmp_path):
    d = cluster_daemon(start=False)
    d.cli("account", "create", "acme", "--role", "tenant")
    d.cli("account", "create", "globex", "--role", "tenant")
    acme = d.cli("token", "create", "--name", "laptop", "--account", "acme").stdout.strip()
    globex = d.cli("token", "create", "--name", "laptop", "--account", "globex").stdout.strip()
    d.start()

    src_dir = tmp_path / "source"
    src_dir.mkdir()
    sid, html, _ = shop_on_this_host(d, mariadb, src_dir, "srcshop", acme)
    source = d.request("GET", f"/api/v1/stores/{sid}", auth=acme).json()
    src_url = source["url"]
    assert src_url and "srcshop" in src_url, source
    wordpress_tables(mariadb, src_url)
    r = d.request("POST", f"/api/v1/stores/{sid}/backups", auth=acme)
    assert r.status == 202, r
    b = wait_backup(d, sid, r.json()["id"], auth=acme)
    assert b["status"] == "succeeded", b["reason"]
    src_dump = mariadb.sql("SELECT option_name, option_value FROM wordpress.wp_options ORDER BY option_id")
    src_creds = d.request("GET", f"/api/v1/stores/{sid}/credentials", auth=acme).json()
    def own_events():  # the source's timeline but for backups (the scheduler may take one meanwhile)
        items = d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000", auth=acme).json()["items"]
        return [e for e in items if not e["action"].startswith("backup.")]
    src_events = own_events()

    # The clone's own database server (its own MySQL pod in real life) and its own html directory,
    # holding what a fresh install would: the clone replaces them.
    clone_db = MariaDB(str(tmp_path / "clone-mariadb"))
    os.makedirs(clone_db.dir)
    clone_db.start()
    try:
        clone_db.sql("CREATE DATABASE wordpress; CREATE TABLE wordpress.fresh_install (id INT)")
        clone_html = tmp_path / "clone-html"
        (clone_html / "wp-content" / "plugins").mkdir(parents=True)
        (clone_html / "wp-content" / "plugins" / "hello.php").write_text("<?php // fresh\n")
        home = tmp_path / "clone-mysql-home"
        home.mkdir()
        (home / ".my.cnf").write_text(f"[client]\nsocket={clone_db.socket}\n")
        pw = tmp_path / "clone-root-password"
        pw.write_text(ROOT_PASSWORD)
        exec_name = map_namespace_exec("store-cloneshop", str(tmp_path),
                                       {"MYSQL_ROOT_PASSWORD_FILE": str(pw), "MYSQL_DATABASE": "wordpress",
                                        "HOME": str(home)}, str(clone_html))
        try:
            # Another tenant cannot clone acme's backup: as if it did not exist, and nothing is made.
            r = d.request("POST", "/api/v1/stores", {"name": "cloneshop", "engine": "woocommerce",
                                                     "from_backup": {"store": sid, "backup": b["id"]}}, auth=globex)
            assert r.status == 404 and r.json()["error"]["code"] == "not_found", r
            assert d.request("GET", "/api/v1/stores", auth=globex).json()["items"] == []

            r = d.request("POST", "/api/v1/stores", {"name": "cloneshop", "engine": "woocommerce",
                                                     "from_backup": {"store": "srcshop", "backup": b["id"]}},
                          auth=acme)
            assert r.status == 202, r
            cid = r.json()["id"]
            assert cid != sid
            clone = wait_status(d, cid, {"READY", "FAILED"})
            assert clone["status"] == "READY", clone

            # The clone's data: the source's rows and files, byte for byte.
            assert products(clone_db) == PRODUCTS
            assert clone_db.sql("SHOW TABLES FROM wordpress LIKE 'fresh_install'") == ""
            assert (clone_html / "wp-content" / "uploads" / "2026" / "mug.jpg").read_bytes() == \
                (html / "wp-content" / "uploads" / "2026" / "mug.jpg").read_bytes()
            assert not (clone_html / "wp-content" / "plugins").exists()
            # Its own URL, written into WordPress (home, siteurl, the links of posts).
            assert clone["url"] and clone["url"] != src_url and "cloneshop" in clone["url"], clone
            opts = dict(line.split("\t") for line in clone_db.sql(
                "SELECT option_name, option_value FROM wordpress.wp_options").splitlines())
            assert opts == {"siteurl": clone["url"], "home": clone["url"], "blogname": "Bakery"}, opts
            post = clone_db.sql("SELECT post_content, guid FROM wordpress.wp_posts WHERE ID = 1").strip()
            assert post == f'See <a href="{clone["url"]}/shop/">the shop</a>\t{clone["url"]}/?p=1', post
            # Its own credentials: a new password, which is the administrator's in its WordPress now,
            # and no session of the source's carried over.
            creds = d.request("GET", f"/api/v1/stores/{cid}/credentials", auth=acme).json()
            assert creds["password"] and creds["password"] != src_creds["password"], creds["url"]
            assert creds["url"] == clone["url"]
            user_pass = clone_db.sql("SELECT user_pass FROM wordpress.wp_users WHERE user_login = 'admin'").strip()
            assert user_pass == hashlib.md5(creds["password"].encode()).hexdigest()
            assert clone_db.sql("SELECT meta_key FROM wordpress.wp_usermeta ORDER BY umeta_id").split() == ["nickname"]
            # The timeline says where it came from.
            events = d.request("GET", f"/api/v1/stores/{cid}/events?limit=1000", auth=acme).json()["items"]
            created = next(e for e in events if e["action"] == "store.create")
            assert "clone of store 'srcshop'" in created["detail"] and b["id"] in created["detail"], created
            cloned = next(e for e in events if e["action"] == "store.cloned")
            assert f"from {src_url} to {clone['url']}" in cloned["detail"] and b["id"] in cloned["detail"], cloned
        finally:
            kubectl("delete", "clusterexec", exec_name, "--ignore-not-found", check=False)
    finally:
        clone_db.stop()

    # The source is untouched: its database, its files, its store, its timeline.
    assert products(mariadb) == PRODUCTS
    assert mariadb.sql("SELECT option_name, option_value FROM wordpress.wp_options ORDER BY option_id") == src_dump
    assert mariadb.sql("SELECT user_pass FROM wordpress.wp_users").strip() == "$wp$2y$10$sourcehash"
    assert sorted(os.listdir(html / "wp-content")) == ["themes", "uploads"]
    after = d.request("GET", f"/api/v1/stores/{sid}", auth=acme).json()
    assert after["status"] == "READY" and after["url"] == src_url
    assert own_events() == src_events
    assert d.request("GET", f"/api/v1/stores/{sid}/credentials", auth=acme).json() == src_creds
    assert ROOT_PASSWORD not in d.logs() and creds["password"] not in d.logs()


WP_MAINTENANCE_CHECK = ('$f = $argv[1] . "/.maintenance"; if (!file_exists($f)) { echo "off"; exit; } '
                        'require $f; echo (time() - $upgrading) >= 600 ? "lapsed" : "on";')


def held_standins(tmp_path, html):
    """STAND-IN wrappers in front of Debian's real mysqldump and mysql, found first on the database
    pod's PATH. Each call of mysql notes, before it runs, whether WordPress would be in maintenance
    mode (the check of wp-includes/load.php run by the real PHP on the web directory's .maintenance).
    They hold at a point the test chooses: when the file hold-dump (hold-load) exists, the first dump
    (load) that follows does its work and then waits on the fifo `release` before it exits; with
    fail-load, the next load fails without loading. The test takes each file away as it is used."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.mkfifo(tmp_path / "release")
    t = str(tmp_path)
    (bindir / "mysqldump").write_text(f"""#!/bin/sh
/usr/bin/mysqldump "$@"; rc=$?
if mv {t}/hold-dump {t}/hold-dump.taken 2>/dev/null; then touch {t}/dump-held; cat {t}/release >/dev/null; fi
exit $rc
""")
    (bindir / "mysql").write_text(f"""#!/bin/sh
case " $* " in *" -e "*) what=flush ;; *) what=load ;; esac
echo "$what $(php -r '{WP_MAINTENANCE_CHECK}' {html})" >> {t}/mysql-calls.log
if [ $what = load ] && mv {t}/fail-load {t}/fail-load.taken 2>/dev/null; then
    cat >/dev/null; echo "ERROR 2013 (HY000): the stand-in lost the connection" >&2; exit 1
fi
/usr/bin/mysql "$@"; rc=$?
if [ $what = load ] && mv {t}/hold-load {t}/hold-load.taken 2>/dev/null; then
    touch {t}/load-held; cat {t}/release >/dev/null
fi
exit $rc
""")
    for f in ("mysqldump", "mysql"):
        (bindir / f).chmod(0o755)
    return str(bindir)


def release(tmp_path):
    """Lets a held stand-in go on (an exec whose daemon was killed may have been ended already)."""
    try:
        fd = os.open(tmp_path / "release", os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


def mysql_calls(tmp_path):
    log = tmp_path / "mysql-calls.log"
    return log.read_text().split("\n")[:-1] if log.exists() else []


def test_restore_maintenance_caches_and_kill_9(cluster_daemon, mariadb, private_bus, tmp_path):
    """A restore puts the shop in WordPress's maintenance mode while the parts go in, flushes the
    transients, and ends the mode whether it succeeded or returned to the safety backup; a kill -9 of
    the daemon mid-backup and mid-restore ends in a whole backup and a whole restore."""
    bus_env = {"DBUS_SYSTEM_BUS_ADDRESS": private_bus}
    d = cluster_daemon(start=False, env=bus_env)
    d.cli("account", "create", "acme", "--role", "tenant")
    acme = d.cli("token", "create", "--name", "laptop", "--account", "acme").stdout.strip()
    d.start()
    bindir = held_standins(tmp_path, tmp_path / "html")
    sid, html, _ = shop_on_this_host(d, mariadb, tmp_path, "maintshop", acme, db_path=f"{bindir}:/usr/bin:/bin")
    mariadb.sql("CREATE TABLE wordpress.wp_options (option_id INT AUTO_INCREMENT PRIMARY KEY, "
                "option_name VARCHAR(191) UNIQUE, option_value LONGTEXT) CHARACTER SET utf8mb4; "
                "INSERT INTO wordpress.wp_options (option_name, option_value) VALUES ('blogname', 'Bakery'), "
                "('_transient_wc_count', '3'), ('_transient_timeout_wc_count', '1900000000'), "
                "('_site_transient_update_core', 'a:0:{}')")
    store_dir = os.path.join(d.config["state_dir"], "backups", "maintshop")

    # kill -9 mid-backup: mysqldump has written the dump and is held; the files are in .partial.
    (tmp_path / "hold-dump").touch()
    r = d.request("POST", f"/api/v1/stores/{sid}/backups", auth=acme)
    assert r.status == 202, r
    bid = r.json()["id"]
    d.wait_for(lambda: (tmp_path / "dump-held").exists(), timeout=120, interval=0.1, what="the dump to be held")
    assert [n for n in os.listdir(store_dir) if n.endswith(".partial")], os.listdir(store_dir)
    held_at = int(time.time())
    d.stop(signal.SIGKILL)
    release(tmp_path)
    # A directory is named by the second its attempt began: the resumed attempt's must differ, so that
    # what the killed one left cannot pass for the resumed one's.
    d.wait_for(lambda: int(time.time()) > held_at, timeout=5, interval=0.05, what="the next second")
    d.start()
    b = wait_backup(d, sid, bid, auth=acme)
    # Resumed and whole: listed once, succeeded, its directory without .partial, nothing else on disk.
    assert b["status"] == "succeeded", b["reason"]
    assert not b["path"].endswith(".partial") and b["kind"] == "manual" and b["safety_for"] is None, b
    assert os.listdir(store_dir) == [os.path.basename(b["path"])]
    bdir = os.path.join(d.config["state_dir"], "backups", b["path"])
    for p in b["manifest"]["parts"]:
        assert sha256(os.path.join(bdir, p["name"])) == p["sha256"], p
    assert b"'Green hat" in gzip.open(os.path.join(bdir, "database.sql.gz")).read()
    upload = (html / "wp-content" / "uploads" / "2026" / "mug.jpg").read_bytes()

    # The shop changes; a restore is killed while held in its database part: the dump went in,
    # wp-content not yet (half restored), and the shop is in maintenance mode meanwhile.
    mariadb.sql("DELETE FROM wordpress.wp_products WHERE id = 2; "
                "INSERT INTO wordpress.wp_products VALUES (4, 'After the backup', 100); "
                "INSERT INTO wordpress.wp_options (option_name, option_value) VALUES ('_transient_new', 'x')")
    (html / "wp-content" / "uploads" / "2026" / "mug.jpg").unlink()
    (html / "wp-content" / "themes" / "new.css").write_text("/* after */\n")
    before = d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"][-1]["id"]
    (tmp_path / "hold-load").touch()
    r = d.request("POST", f"/api/v1/stores/{sid}/restore", {"backup": bid}, auth=acme)
    assert r.status == 202, r
    safety_id = r.json()["safety_backup"]["id"]
    d.wait_for(lambda: (tmp_path / "load-held").exists(), timeout=120, interval=0.1, what="the load to be held")
    assert mysql_calls(tmp_path) == ["load on"], mysql_calls(tmp_path)
    assert (html / ".maintenance").exists() and not (html / "wp-content" / "uploads" / "2026" / "mug.jpg").exists()
    d.stop(signal.SIGKILL)
    release(tmp_path)
    d.start()
    outcome = wait_event(d, sid, ("backup.restored", "backup.restore_failed"), after=before)
    assert outcome["action"] == "backup.restored", outcome
    # Whole: the rows and the files of the backup, maintenance over, the transients gone (WordPress
    # makes them again), the other options as the backup has them.
    assert products(mariadb) == PRODUCTS
    assert (html / "wp-content" / "uploads" / "2026" / "mug.jpg").read_bytes() == upload
    assert not (html / "wp-content" / "themes" / "new.css").exists()
    assert sorted(os.listdir(html)) == ["wp-config.php", "wp-content"]
    assert mariadb.sql("SELECT option_name FROM wordpress.wp_options ORDER BY option_id").split() == ["blogname"]
    # Every load, the resumed one too, ran in maintenance mode; the flush as well.
    assert mysql_calls(tmp_path) == ["load on", "load on", "flush on"], mysql_calls(tmp_path)
    events = d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000&after={before}").json()["items"]
    steps = [e["detail"] for e in events if e["action"] == "step"]
    for step in ("putting the shop in maintenance mode", "flushing caches", "ending maintenance mode"):
        assert any(step in s for s in steps), (step, steps)
    assert d.request("GET", f"/api/v1/stores/{sid}").json()["status"] == "READY"

    # The safety backup says what it is, in the API and in storectl.
    items = d.request("GET", f"/api/v1/stores/{sid}/backups", auth=acme).json()["items"]
    safety = next(i for i in items if i["id"] == safety_id)
    assert safety["status"] == "succeeded" and safety["kind"] == "safety" and safety["safety_for"] == bid, safety
    assert [i["kind"] for i in items if i["id"] != safety_id] == ["manual"]
    p = subprocess.run([STORECTL, "backups", "maintshop", "--no-legend"], capture_output=True, text=True,
                       env=dict(os.environ, **bus_env), timeout=30)
    assert p.returncode == 0, p.stderr
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith(safety_id))
    assert f"safety for {bid}" in line, p.stdout
    assert "manual" in next(ln for ln in p.stdout.splitlines() if ln.startswith(bid)), p.stdout

    # A restore whose load fails returns to the safety backup: also in maintenance mode, which ends.
    mariadb.sql("INSERT INTO wordpress.wp_products VALUES (5, 'Kept', 1); "
                "INSERT INTO wordpress.wp_options (option_name, option_value) VALUES ('_transient_kept', 'y')")
    (tmp_path / "mysql-calls.log").unlink()
    (tmp_path / "fail-load").touch()
    before = outcome["id"]
    r = d.request("POST", f"/api/v1/stores/{sid}/restore", {"backup": bid}, auth=acme)
    assert r.status == 202, r
    outcome = wait_event(d, sid, ("backup.restored", "backup.restore_failed"), after=before)
    assert outcome["action"] == "backup.restore_failed", outcome
    assert "back as it was" in outcome["detail"] and "stand-in lost the connection" in outcome["detail"], outcome
    assert products(mariadb) == PRODUCTS + [(5, "Kept", 1)]
    assert sorted(os.listdir(html)) == ["wp-config.php", "wp-content"]
    assert mysql_calls(tmp_path) == ["load on", "load on", "flush on"], mysql_calls(tmp_path)
    assert mariadb.sql("SELECT option_name FROM wordpress.wp_options ORDER BY option_id").split() == ["blogname"]
    assert d.request("GET", f"/api/v1/stores/{sid}").json()["status"] == "READY"
