# SPDX-License-Identifier: Apache-2.0
"""A merchant's first click: reading a store's administrator credentials, and changing the password, on a
real Kubernetes control plane."""

import base64
import json
import sqlite3

from conftest import kubectl, kubectl_json, wait_status

MISSING = "ffffffffffffffff"


def secret_data(ns):
    s = kubectl_json("get", "secret", "store-credentials", "-n", ns)
    return {k: base64.b64decode(v).decode() for k, v in s["data"].items()}


def events(d, sid):
    return d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]


def audit_rows(d, action):
    db = sqlite3.connect(f"file:{d.config['database']}?mode=ro", uri=True)
    try:
        cur = db.execute("SELECT actor, action, target, store_id, result, error, source, request_id FROM audit "
                         "WHERE action = ? ORDER BY id", (action,))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]
    finally:
        db.close()


def same_as_missing(d, token, method, suffix, sid):
    """Another account's store must answer exactly as a store that does not exist."""
    theirs = d.request(method, f"/api/v1/stores/{sid}{suffix}", auth=token)
    missing = d.request(method, f"/api/v1/stores/{MISSING}{suffix}", auth=token)
    assert theirs.status == missing.status == 404, (theirs, missing)
    assert theirs.json()["error"]["code"] == "not_found"
    assert theirs.json()["error"]["message"].replace(sid, "ID") == missing.json()["error"]["message"].replace(MISSING, "ID")


def rotate_job(ns):
    jobs = kubectl_json("get", "jobs", "-n", ns, "-l", "app.kubernetes.io/component=credentials")["items"]
    return jobs[0] if jobs else None


def job_event_reasons(ns, name):
    evs = kubectl_json("get", "events", "-n", ns, "--field-selector",
                       f"involvedObject.kind=Job,involvedObject.name={name}")["items"]
    return [e["reason"] for e in evs]


def test_credentials_read_and_rotate(cluster_daemon):
    # Debug logging: the passwords must stay out of the log at every level.
    d = cluster_daemon({"log": {"format": "json", "level": "debug"}}, start=False)
    d.cli("account", "create", "acme", "--role", "tenant")
    d.cli("account", "create", "globex", "--role", "tenant")
    acme = d.cli("token", "create", "--name", "laptop", "--account", "acme").stdout.strip()
    globex = d.cli("token", "create", "--name", "laptop", "--account", "globex").stdout.strip()
    d.start()

    r = d.request("POST", "/api/v1/stores", {"name": "credshop", "engine": "woocommerce"}, auth=acme)
    assert r.status == 202, r
    sid = r.json()["id"]
    # Not READY yet: nothing to show.
    early = d.request("GET", f"/api/v1/stores/{sid}/credentials", auth=acme)
    if early.status != 200:  # unless provisioning already finished
        assert early.status == 409 and early.json()["error"]["code"] == "invalid_state", early
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY", s
    ns = "store-credshop"
    before = secret_data(ns)

    # The owner reads what the Secret holds, and no cache may keep it.
    r = d.request("GET", f"/api/v1/stores/{sid}/credentials", auth=acme)
    assert r.status == 200, r
    assert r.header("Cache-Control") == "no-store"
    assert r.json() == {"url": "http://credshop.shops.test", "admin_url": "http://credshop.shops.test/wp-admin/",
                        "username": "admin", "password": before["admin-password"]}
    read_request_id = r.header("X-Request-Id")

    # Another tenant cannot tell the store exists, neither to read nor to rotate.
    same_as_missing(d, globex, "GET", "/credentials", sid)
    same_as_missing(d, globex, "POST", "/credentials/rotate", sid)
    # An admin reads it too.
    r = d.request("GET", f"/api/v1/stores/{sid}/credentials")
    assert r.status == 200 and r.json()["password"] == before["admin-password"], r

    # Hold the Job's pod back (the quota admits no further pod) to see what happens before it ran.
    kubectl("patch", "resourcequota", "store-quota", "-n", ns, "--type=merge", "-p", '{"spec":{"hard":{"pods":"2"}}}')
    r = d.request("POST", f"/api/v1/stores/{sid}/credentials/rotate", auth=acme)
    assert r.status == 202, r
    assert r.json()["status"] == "READY" and r.json()["id"] == sid
    # One operation at a time.
    busy = d.request("POST", f"/api/v1/stores/{sid}/credentials/rotate", auth=acme)
    assert busy.status == 409 and busy.json()["error"]["code"] == "operation_in_progress", busy

    job = d.wait_for(lambda: rotate_job(ns), timeout=60, what="the password Job")
    name = job["metadata"]["name"]
    d.wait_for(lambda: "FailedCreate" in job_event_reasons(ns, name), timeout=60, what="the Job's pod refused")
    # The Job has not run: the Secret and what the merchant reads still hold the old password, the shop stays READY.
    assert secret_data(ns) == before
    s = d.request("GET", f"/api/v1/stores/{sid}").json()
    assert s["status"] == "READY" and s["step"] == "changing the password in WordPress", s
    assert d.request("GET", f"/api/v1/stores/{sid}/credentials", auth=acme).json()["password"] == before["admin-password"]

    # Let the pod in: the Job runs, and then the Secret gets the new password.
    kubectl("patch", "resourcequota", "store-quota", "-n", ns, "--type=merge", "-p", '{"spec":{"hard":{"pods":"10"}}}')
    d.wait_for(lambda: any(e["action"] in ("credentials.rotated", "credentials.rotate_failed") for e in events(d, sid)),
               timeout=180, interval=0.5, what="the rotation to finish")
    actions = [e["action"] for e in events(d, sid)]
    assert "credentials.rotated" in actions and "credentials.rotate_failed" not in actions, actions
    s = d.request("GET", f"/api/v1/stores/{sid}").json()
    assert s["status"] == "READY" and s["step"] is None and s["status_reason"] is None, s

    after = secret_data(ns)
    new = after["admin-password"]
    assert new != before["admin-password"] and len(new) == 24
    # The database passwords are never touched.
    assert after["mysql-password"] == before["mysql-password"]
    assert after["mysql-root-password"] == before["mysql-root-password"]
    assert after["admin-user"] == "admin"
    r = d.request("GET", f"/api/v1/stores/{sid}/credentials", auth=acme)
    assert r.status == 200 and r.json()["password"] == new, r

    # The Job ran to completion; the new password was in its environment from a Secret, not in its spec.
    job = kubectl_json("get", "job", name, "-n", ns)
    assert job["status"].get("succeeded") == 1, job["status"]
    assert "Completed" in job_event_reasons(ns, name)
    spec = json.dumps(job["spec"])
    assert new not in spec and before["admin-password"] not in spec
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["NEW_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == name
    # That Secret is gone once the password is stored.
    assert kubectl("get", "secret", name, "-n", ns, check=False).returncode != 0

    # The audit log has who read and who rotated, from where, in which request.
    reads = audit_rows(d, "credentials.read")
    ok = [a for a in reads if a["result"] == "ok"]
    assert {a["actor"] for a in ok} >= {"acme", "admin"}, reads
    mine = [a for a in ok if a["request_id"] == read_request_id]
    assert mine and mine[0]["actor"] == "acme" and mine[0]["store_id"] == sid and mine[0]["source"] == "127.0.0.1"
    assert any(a["actor"] == "globex" and a["result"] == "denied" for a in reads), reads
    rotations = audit_rows(d, "credentials.rotate")
    assert [(a["actor"], a["result"]) for a in rotations if a["result"] == "ok"] == [("acme", "ok")], rotations
    assert any(a["actor"] == "globex" and a["result"] == "denied" for a in rotations), rotations

    # Neither password is in the daemon's output (its journal lines included), nor in the store's timeline.
    logs = d.logs()
    assert "credentials.rotated" in logs  # the log is the one this daemon writes
    for pw in (before["admin-password"], new):
        assert pw not in logs
        assert pw not in json.dumps(events(d, sid))


def test_failed_rotation_keeps_the_old_password(cluster_daemon):
    d = cluster_daemon()
    r = d.request("POST", "/api/v1/stores", {"name": "keepshop", "engine": "woocommerce"})
    assert r.status == 202, r
    sid = r.json()["id"]
    assert wait_status(d, sid, {"READY", "FAILED"})["status"] == "READY"
    ns = "store-keepshop"
    before = secret_data(ns)

    # The Job never gets its pod, and is then deleted under the task: the password was not changed.
    kubectl("patch", "resourcequota", "store-quota", "-n", ns, "--type=merge", "-p", '{"spec":{"hard":{"pods":"2"}}}')
    assert d.request("POST", f"/api/v1/stores/{sid}/credentials/rotate").status == 202
    job = d.wait_for(lambda: rotate_job(ns), timeout=60, what="the password Job")
    name = job["metadata"]["name"]
    kubectl("delete", "job", name, "-n", ns, "--wait=true")
    d.wait_for(lambda: any(e["action"] == "credentials.rotate_failed" for e in events(d, sid)), timeout=60,
               what="the rotation to fail")
    s = d.request("GET", f"/api/v1/stores/{sid}").json()
    assert s["status"] == "READY" and s["step"] is None, s
    assert "The administrator password was not changed" in s["status_reason"], s
    assert secret_data(ns) == before
    r = d.request("GET", f"/api/v1/stores/{sid}/credentials")
    assert r.status == 200 and r.json()["password"] == before["admin-password"]
    # The new password it had made leaves the cluster with it.
    assert kubectl("get", "secret", name, "-n", ns, check=False).returncode != 0
    assert "credentials.rotated" not in [e["action"] for e in events(d, sid)]

    # The store is free for the next attempt, which succeeds.
    kubectl("patch", "resourcequota", "store-quota", "-n", ns, "--type=merge", "-p", '{"spec":{"hard":{"pods":"10"}}}')
    assert d.request("POST", f"/api/v1/stores/{sid}/credentials/rotate").status == 202
    d.wait_for(lambda: any(e["action"] == "credentials.rotated" for e in events(d, sid)), timeout=180,
               what="the second rotation")
    after = secret_data(ns)
    assert after["admin-password"] != before["admin-password"]
    assert after["mysql-password"] == before["mysql-password"]
    assert d.request("GET", f"/api/v1/stores/{sid}").json()["status_reason"] is None
