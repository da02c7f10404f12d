# SPDX-License-Identifier: Apache-2.0
"""The cluster refuses the agent: credentials it no longer takes (HTTP 401) and an identity without
the rights it needs (HTTP 403). Neither passes by waiting, so a create ends FAILED at once with a
reason that says what to do, instead of retrying for ever and filling the pending-task cap."""

import time
import uuid

import pytest
import yaml

from conftest import env, kubectl, wait_status


def create(d, name):
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    return r.json()


def kubeconfig_with_token(path, token):
    """The test cluster's kubeconfig (server and CA) with a bearer token instead of the admin's certificate."""
    real = yaml.safe_load(open(env()["KUBECONFIG"]))
    real["users"] = [{"name": "agent", "user": {"token": token}}]
    for c in real["contexts"]:
        c["context"]["user"] = "agent"
    path.write_text(yaml.safe_dump(real))
    path.chmod(0o600)
    return str(path)


def test_revoked_token_fails_creates_at_once_and_says_how_to_renew(cluster_daemon, tmp_path):
    kc = kubeconfig_with_token(tmp_path / "revoked.kubeconfig", "revoked-" + uuid.uuid4().hex)
    # A cap of two pending tasks: three creates in a row fit only when failed tasks do not stay pending.
    d = cluster_daemon(kubeconfig=kc, config={"limits": {"max_pending_tasks": 2, "requests_per_window": 100000}})
    for name in ("expired-a", "expired-b", "expired-c"):
        started = time.monotonic()
        s = create(d, name)
        s = wait_status(d, s["id"], {"FAILED", "READY"}, timeout=60)
        assert s["status"] == "FAILED", s
        assert time.monotonic() - started < 30, "a refused token must not be retried"
        assert "refused the agent's credentials (HTTP 401)" in s["status_reason"], s
        assert "contrib/rbac/install --rotate" in s["status_reason"], s
        events = d.request("GET", f"/api/v1/stores/{s['id']}/events?limit=1000").json()["items"]
        assert not [e for e in events if e["action"] == "cluster.unreachable"], events
    assert d.request("GET", "/api/v1/platform").status == 200
    r = d.request("POST", "/api/v1/stores", {"name": "expired-d", "engine": "woocommerce"})
    assert r.status == 202, r  # not 429: the pending-task cap was not consumed

    # Not ready, and the admin reads why; anyone else learns only that it is not ready.
    def unauthorized_detail():
        r = d.request("GET", "/readyz")
        return r.status == 503 and "refused the agent's credentials (HTTP 401)" in \
            (r.json()["checks"]["cluster"].get("detail") or "")
    d.wait_for(unauthorized_detail, timeout=30, what="/readyz naming the refused credentials")
    r = d.request("GET", "/readyz", auth=False)
    assert r.status == 503 and r.json() == {"status": "not ready"}


@pytest.fixture
def powerless_account():
    """A ServiceAccount that may authenticate and nothing else, and a token for it."""
    ns = "refusal-" + uuid.uuid4().hex[:8]
    kubectl("create", "namespace", ns)
    try:
        kubectl("create", "serviceaccount", "nobody", "-n", ns)
        token = kubectl("create", "token", "nobody", "-n", ns, "--duration=1h").stdout.strip()
        yield ns, token
    finally:
        kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_identity_without_rights_fails_naming_what_was_refused(cluster_daemon, tmp_path, powerless_account):
    ns, token = powerless_account
    d = cluster_daemon(kubeconfig=kubeconfig_with_token(tmp_path / "nobody.kubeconfig", token),
                       config={"limits": {"max_pending_tasks": 1, "requests_per_window": 100000}})
    started = time.monotonic()
    s = create(d, "forbidden")
    s = wait_status(d, s["id"], {"FAILED", "READY"}, timeout=60)
    assert s["status"] == "FAILED", s
    assert time.monotonic() - started < 30
    reason = s["status_reason"]
    assert reason.startswith("The cluster refused the agent (HTTP 403)"), reason
    assert f"system:serviceaccount:{ns}:nobody" in reason, reason
    assert 'cannot get resource "namespaces"' in reason, reason
    # The task is done: the cap of one pending task takes the next create.
    r = d.request("POST", "/api/v1/stores", {"name": "forbidden-2", "engine": "woocommerce"})
    assert r.status == 202, r
