# SPDX-License-Identifier: Apache-2.0
"""Databases of every schema version the project has shipped, with what a platform has in them.

The schema text is not retyped here: it is read from the daemon's source as git history holds it
(the C string literals db_schema_v1 .. db_schema_vN of agent/src/db.c or agent/src/core/db.c at the
commit named below), applied in order, and filled with rows through the columns that version has.
The result is written as SQL to tests/api/testdata/schema-vN.sql, which test_database.py loads:

    python3 tests/api/schema_history.py        # regenerates the fixtures (needs git)
"""

import hashlib
import os
import re
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTDATA = os.path.join(HERE, "testdata")

# Where each version's text was first written. A migration's text never changes once shipped: main()
# checks that today's agent/src/core/db.c still holds the same text for each.
SOURCES = {
    1: ("bcefde3", "agent/src/db.c"),
    2: ("bcefde3", "agent/src/db.c"),
    3: ("bcefde3", "agent/src/db.c"),
    4: ("bd0d65e", "agent/src/core/db.c"),
}
VERSIONS = sorted(SOURCES)

# Clear tokens of the fixtures (only their SHA-256 is in the files, as the daemon keeps them).
TOKEN_OPS = "sa_" + "0pS" * 13 + "x"          # live admin token "ops"
TOKEN_CI = "sa_" + "c1T" * 13 + "y"           # revoked token "ci"
TOKEN_ACME = "sa_" + "aCm" * 13 + "z"         # v4: tenant account acme's token "deploy"
SESSION_OPS = "f" * 64                        # v3, v4: a signed-in dashboard of ops
IDEMPOTENCY_KEY = "fixture-key-1"             # v2+: ops created shop-ready with this key

T0 = 1_763_600_000_000_000  # 2025-11-20, in microseconds as the daemon writes times
HOUR = 3_600_000_000

# id, name, owner, status, fields by version; the same stores in every file (acme's only from v4).
STORES = [
    ("00000000000000a1", "shop-ready", "ops", "READY"),
    ("00000000000000a2", "shop-failed", "ci", "FAILED"),
    ("00000000000000a3", "shop-provisioning", "ops", "PROVISIONING"),
    ("00000000000000a4", "shop-gone", "root", "DELETED"),
]
ACME_STORE = ("00000000000000b1", "acme-shop", "acme", "READY")

# The timeline of each store: (store id, minutes after T0, actor, action, detail).
EVENTS = [
    ("00000000000000a1", 0, "ops", "store.create", "engine woocommerce, chart 0.1.0"),
    ("00000000000000a1", 3, "worker", "helm.install", "helm upgrade --install (exit 0)"),
    ("00000000000000a1", 5, "worker", "store.ready", "http://shop-ready.localtest.me"),
    ("00000000000000a2", 10, "ci", "store.create", "engine woocommerce, chart 0.1.0"),
    ("00000000000000a2", 20, "worker", "store.failed", "Timed out: 0/1 pods ready; FailedCreate: exceeded quota"),
    ("00000000000000a3", 30, "ops", "store.create", "engine woocommerce, chart 0.1.0"),
    ("00000000000000a4", 40, "root", "store.create", "engine woocommerce, chart 0.1.0"),
    ("00000000000000a4", 45, "worker", "store.ready", "http://shop-gone.localtest.me"),
    ("00000000000000a4", 50, "root", "store.delete", None),
    ("00000000000000a4", 52, "worker", "store.deleted", "namespace store-shop-gone removed"),
]
ACME_EVENTS = [
    ("00000000000000b1", 60, "acme", "store.create", "engine woocommerce, chart 0.1.0"),
    ("00000000000000b1", 65, "worker", "store.ready", "http://acme-shop.localtest.me"),
]


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


def schema_text(version):
    """The SQL of one migration, read from the C source at its commit."""
    commit, path = SOURCES[version]
    src = subprocess.run(["git", "-C", REPO, "show", f"{commit}:{path}"], capture_output=True, text=True,
                         check=True).stdout
    return c_string(src, f"db_schema_v{version}")


def c_string(src, name):
    """The value of `const char NAME[] = "..." "...";` in C source: its literals joined."""
    m = re.search(r"\b" + re.escape(name) + r"\[\]\s*=", src)
    if not m:
        raise LookupError(f"{name} not found")
    out, i = [], m.end()
    while True:
        while src[i].isspace():
            i += 1
        if src[i] == ";":
            return "".join(out)
        if src[i:i + 2] == "/*":
            i = src.index("*/", i) + 2
            continue
        assert src[i] == '"', src[i:i + 40]
        j = i + 1
        lit = []
        while src[j] != '"':
            if src[j] == "\\":
                lit.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}[src[j + 1]])
                j += 2
            else:
                lit.append(src[j])
                j += 1
        out.append("".join(lit))
        i = j + 1


def columns(db, table):
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def insert(db, table, row):
    """Inserts the fields of row that this version's table has (a later column is simply not there yet)."""
    have = columns(db, table)
    row = {k: v for k, v in row.items() if k in have}
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def fill(db, version):
    v4 = version >= 4
    tokens = "tokens" if v4 else "api_tokens"
    account = {}
    if v4:
        for name, role in (("ops", "admin"), ("ci", "admin"), ("root", "admin"), ("acme", "tenant")):
            cur = db.execute("INSERT INTO accounts (name, role, max_stores, created_at) VALUES (?, ?, ?, ?)",
                             (name, role, 2 if role == "tenant" else None, T0 - HOUR))
            account[name] = cur.lastrowid
    insert(db, tokens, {"id": 1, "account_id": account.get("ops"), "name": "ops", "hash": sha256(TOKEN_OPS),
                        "created_at": T0 - HOUR, "last_used_at": T0 + 30 * 60_000_000})
    insert(db, tokens, {"id": 2, "account_id": account.get("ci"), "name": "ci", "hash": sha256(TOKEN_CI),
                        "created_at": T0 - HOUR, "last_used_at": T0 + 10 * 60_000_000,
                        "revoked_at": T0 + 25 * 60_000_000})
    if v4:
        insert(db, tokens, {"id": 3, "account_id": account["acme"], "name": "deploy", "hash": sha256(TOKEN_ACME),
                            "created_at": T0, "expires_at": T0 + 10_000 * 24 * HOUR})

    stores = STORES + ([ACME_STORE] if v4 else [])
    for seq, (sid, name, owner, status) in enumerate(stores, 1):
        minute = [e[1] for e in EVENTS + ACME_EVENTS if e[0] == sid][0]
        row = {"id": sid, "name": name, "engine": "woocommerce", "owner": owner, "status": status,
               "created_at": T0 + minute * 60_000_000, "updated_at": T0 + (minute + 5) * 60_000_000, "seq": seq,
               "account_id": account.get(owner)}
        if status in ("READY", "DELETED"):
            row.update(url=f"http://{name}.localtest.me", chart_version="0.1.0", helm_revision=2)
        if status == "FAILED":
            row.update(status_reason="Timed out: 0/1 pods ready; FailedCreate: exceeded quota",
                       chart_version="0.1.0", helm_revision=1)
        if status == "PROVISIONING":
            row.update(step="creating namespace", progress_current=2, progress_total=7)
        if status == "DELETED":
            row.update(deleted_at=T0 + 52 * 60_000_000)
        insert(db, "stores", row)
        # Its tasks: done, failed, or still queued for the one that provisions.
        state = {"READY": "done", "FAILED": "failed", "PROVISIONING": "queued", "DELETED": "done"}[status]
        insert(db, "tasks", {"store_id": sid, "kind": "create", "state": state, "attempts": 0 if state == "queued" else 1,
                             "created_at": row["created_at"], "updated_at": row["updated_at"], "actor": owner,
                             "last_error": row.get("status_reason"),
                             "finished_at": None if state == "queued" else row["updated_at"]})
        if status == "DELETED":
            insert(db, "tasks", {"store_id": sid, "kind": "delete", "state": "done", "attempts": 1,
                                 "created_at": row["updated_at"], "updated_at": row["updated_at"], "actor": owner,
                                 "finished_at": row["updated_at"]})
    for sid, minute, actor, action, detail in EVENTS + (ACME_EVENTS if v4 else []):
        insert(db, "events", {"store_id": sid, "time": T0 + minute * 60_000_000, "actor": actor, "action": action,
                              "detail": detail})
    if version >= 2:
        insert(db, "idempotency_keys", {"key": IDEMPOTENCY_KEY, "actor": "ops",
                                        "request_hash": sha256("shop-ready\nwoocommerce"),
                                        "store_id": "00000000000000a1", "created_at": T0})
    if version >= 3:
        insert(db, "sessions", {"hash": sha256(SESSION_OPS), "token_id": 1, "csrf": "c" * 32, "created_at": T0,
                                "expires_at": T0 + 10_000 * 24 * HOUR})
    if v4:
        for i, (sid, name, owner, _) in enumerate(stores):
            insert(db, "audit", {"time": T0 + i * 60_000_000, "actor": owner, "account_id": account[owner],
                                 "token_name": "deploy" if owner == "acme" else owner, "action": "store.create",
                                 "target_kind": "store", "target": name, "store_id": sid, "result": "ok",
                                 "source": "127.0.0.1", "request_id": f"{i:016x}"})


def build(version):
    """An in-memory database of this version with the fixture rows."""
    db = sqlite3.connect(":memory:")
    for v in range(1, version + 1):
        db.executescript(schema_text(v))
    fill(db, version)
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    return db


def dump(version):
    db = build(version)
    lines = [f"-- storeagent database, schema version {version}, generated by tests/api/schema_history.py",
             "-- from the schema text of " + ":".join(SOURCES[version]) + "; do not edit.",
             f"PRAGMA user_version = {version};"]
    lines += list(db.iterdump())
    return "\n".join(lines) + "\n"


def fixture_path(version):
    return os.path.join(TESTDATA, f"schema-v{version}.sql")


def main():
    with open(os.path.join(REPO, "agent", "src", "core", "db.c")) as f:
        today = f.read()
    for v in VERSIONS:
        if c_string(today, f"db_schema_v{v}") != schema_text(v):
            raise SystemExit(f"db_schema_v{v} differs from the text shipped at {SOURCES[v][0]}: a shipped migration "
                             "must not change")
    os.makedirs(TESTDATA, exist_ok=True)
    for v in VERSIONS:
        with open(fixture_path(v), "w") as f:
            f.write(dump(v))
        print(fixture_path(v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
