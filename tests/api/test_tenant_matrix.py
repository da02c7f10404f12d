# SPDX-License-Identifier: Apache-2.0
"""Every route the daemon serves (storeagentd --list-routes), asked by every kind of caller, with the
status each must get. The expectation table maps each route to its rule; a route served without an
entry fails the test, so a new route cannot ship without deciding who may call it."""

import json

from daemon import DAEMON  # noqa: F401 (the build under test)
from tenancy import create_store, error_of, make_account, make_token, status_only
from test_api import SERVED_ROUTES

# The rules:
#   public      no credentials needed; every caller gets the same answer, never 401/403
#   signin      the body's token signs in: live tokens 200, dead ones 401 invalid_token
#   own         any live account, acting on its own things (its stores, its tokens, its audit view)
#   store       one store: its owner and admins get past authorization (2xx, or a documented error
#               that is not 401/403/404, e.g. a cluster route without a cluster); another tenant
#               gets 404 not_found exactly like a missing store
#   backup      one backup of a store (that does not exist here): past authorization as for
#               store, where a 404 must say the store has no such backup; another tenant gets
#               404 not_found for the store, exactly like a missing store
#   own-token   one token by name, looked up in the caller's own account only: the owner revokes
#               its token (204); another account, admins included, has no token of that name (404)
#   admin       admins only: tenants 403 forbidden before anything else
#   domain      one of a store's own domains: like backup, a 404 for the owner must say the store has no
#               such domain; another tenant gets 404 not_found for the store
#   own-webhook one webhook by id, looked up in the caller's own account only: the owner gets 2xx;
#               another account, admins included, 404 webhook_not_found like a missing one
EXPECTATIONS = {
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "admin",
    ("POST", "/api/v1/session"): "signin",
    ("GET", "/api/v1/session"): "own",
    ("DELETE", "/api/v1/session"): "public",
    ("GET", "/api/v1/stores"): "own",
    ("POST", "/api/v1/stores"): "own",
    ("GET", "/api/v1/stores/{id}"): "store",
    ("DELETE", "/api/v1/stores/{id}"): "store",
    ("GET", "/api/v1/stores/{id}/events"): "store",
    ("GET", "/api/v1/stores/{id}/releases"): "store",
    ("POST", "/api/v1/stores/{id}/retry"): "store",
    ("POST", "/api/v1/stores/{id}/upgrade"): "store",
    ("POST", "/api/v1/stores/{id}/rollback"): "store",
    ("POST", "/api/v1/stores/{id}/redeploy"): "store",
    ("GET", "/api/v1/stores/{id}/settings"): "store",
    ("PATCH", "/api/v1/stores/{id}/settings"): "store",
    ("GET", "/api/v1/stores/{id}/domains"): "store",
    ("POST", "/api/v1/stores/{id}/domains"): "store",
    ("DELETE", "/api/v1/stores/{id}/domains/{domain}"): "domain",
    ("POST", "/api/v1/stores/{id}/primary-domain"): "store",
    ("POST", "/api/v1/stores/{id}/transfer"): "admin",
    ("GET", "/api/v1/stores/{id}/credentials"): "store",
    ("POST", "/api/v1/stores/{id}/credentials/rotate"): "store",
    ("GET", "/api/v1/stores/{id}/backups"): "store",
    ("POST", "/api/v1/stores/{id}/backups"): "store",
    ("POST", "/api/v1/stores/{id}/restore"): "store",
    ("DELETE", "/api/v1/stores/{id}/backups/{backup}"): "backup",
    ("GET", "/api/v1/stores/{id}/backups/{backup}/files/{file}"): "backup",
    ("GET", "/api/v1/stores/{id}/backup-schedule"): "store",
    ("PATCH", "/api/v1/stores/{id}/backup-schedule"): "store",
    ("GET", "/api/v1/stores/{id}/logs"): "store",
    ("GET", "/api/v1/stores/{id}/usage"): "store",
    ("GET", "/api/v1/stores/{id}/logs/{pod}"): "store",
    ("GET", "/api/v1/charts"): "own",
    ("GET", "/api/v1/platform"): "own",
    ("GET", "/api/v1/platform/stats"): "admin",
    ("GET", "/api/v1/stream"): "own",
    ("GET", "/api/v1/accounts"): "admin",
    ("POST", "/api/v1/accounts"): "admin",
    ("GET", "/api/v1/accounts/{name}"): "admin",
    ("PATCH", "/api/v1/accounts/{name}"): "admin",
    ("GET", "/api/v1/accounts/{name}/tokens"): "admin",
    ("POST", "/api/v1/accounts/{name}/tokens"): "admin",
    ("DELETE", "/api/v1/accounts/{name}/tokens/{token}"): "admin",
    ("GET", "/api/v1/tokens"): "own",
    ("POST", "/api/v1/tokens"): "own",
    ("DELETE", "/api/v1/tokens/{name}"): "own-token",
    ("GET", "/api/v1/audit"): "own",
    ("GET", "/api/v1/webhooks"): "own",
    ("POST", "/api/v1/webhooks"): "own",
    ("GET", "/api/v1/webhooks/{id}"): "own-webhook",
    ("PATCH", "/api/v1/webhooks/{id}"): "own-webhook",
    ("DELETE", "/api/v1/webhooks/{id}"): "own-webhook",
    ("GET", "/api/v1/webhooks/{id}/deliveries"): "own-webhook",
    ("POST", "/api/v1/webhooks/{id}/test"): "own-webhook",
}
# Entries for routes another part of the feature adds (the store credentials); until the daemon
# serves them they are the only entries allowed without a served route.
NOT_YET_SERVED = {("GET", "/api/v1/stores/{id}/credentials"), ("POST", "/api/v1/stores/{id}/credentials/rotate")}

IDENTITIES = ["none", "revoked", "expired", "disabled", "other", "owner", "admin"]
LIVE = {"owner", "other", "admin"}
# What a dead credential's 401 says, so each case is refused for its own reason.
DEAD_REASON = {"none": "Authentication required", "revoked": "revoked", "expired": "expired",
               "disabled": "disabled"}


class World:
    def __init__(self, d):
        self.d = d
        make_account(d, "alice")
        make_account(d, "bob")
        make_account(d, "carol")
        self.tokens = {
            "admin": d.token,
            "owner": make_token(d, "alice"),
            "other": make_token(d, "bob"),
            "disabled": make_token(d, "carol"),
            "revoked": make_token(d, "alice", "gone"),
            "expired": make_token(d, "alice", "brief", expires_in=1),
        }
        assert d.request("PATCH", "/api/v1/accounts/carol", {"disabled": True}).status == 200
        assert d.request("DELETE", "/api/v1/accounts/alice/tokens/gone").status == 204
        d.wait_for(lambda: d.request("GET", "/api/v1/session", auth=self.tokens["expired"]).status == 401,
                   what="the one-second token to expire")
        self.n = 0

    def unique(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def case(self, method, pattern, who):
        """The path and body of one request, with whatever it needs made beforehand."""
        d = self.d
        body = None
        path = pattern
        if pattern.startswith("/api/v1/webhooks/"):
            r = d.request("POST", "/api/v1/webhooks", {"url": "https://hooks.example.com/m"},
                          auth=self.tokens["owner"])
            assert r.status == 201, r
            path = path.replace("{id}", str(r.json()["id"]))
        elif "{id}" in pattern:
            path = path.replace("{id}", create_store(d, self.unique("m"), self.tokens["owner"])["id"])
        if pattern == "/api/v1/accounts/{name}/tokens/{token}":
            token = self.unique("spare")
            make_token(d, "alice", token)
            path = path.replace("{token}", token)
        if pattern == "/api/v1/tokens/{name}":
            token = self.unique("own")
            make_token(d, "alice", token)
            path = path.replace("{name}", token)
        path = path.replace("{name}", "alice").replace("{pod}", "web-0").replace("{domain}", "shop.example.com")
        path = path.replace("{backup}", "0000000000000000").replace("{file}", "database.sql.gz")
        if pattern == "/api/v1/stores" and method == "POST":
            body = {"name": self.unique("n"), "engine": "woocommerce"}
        elif pattern.endswith("/upgrade"):
            body = {"chart_version": "0.1.0"}
        elif pattern.endswith("/rollback"):
            body = {"revision": 1}
        elif pattern.endswith("/restore"):
            body = {"backup": "0000000000000000"}
        elif pattern.endswith("/transfer"):
            body = {"account": "bob"}
        elif pattern == "/api/v1/webhooks" and method == "POST":
            body = {"url": "https://hooks.example.com/new"}
        elif pattern == "/api/v1/accounts" and method == "POST":
            body = {"name": self.unique("acct"), "role": "tenant"}
        elif method == "PATCH" and pattern.startswith("/api/v1/webhooks/"):
            body = {"enabled": False}
        elif pattern.endswith("/backup-schedule") and method == "PATCH":
            body = {"every_sec": None}
        elif pattern.endswith("/domains") and method == "POST":
            body = {"domain": f"{self.unique('d')}.example.com"}
        elif pattern.endswith("/primary-domain"):
            body = {"domain": None}
        elif pattern.endswith("/settings") and method == "PATCH":
            body = {"currency": "EUR"}
        elif method == "PATCH":
            body = {"max_stores": 5}
        elif pattern.endswith("/tokens") and method == "POST":
            body = {"name": self.unique("t")}
        elif pattern == "/api/v1/session" and method == "POST":
            body = {"token": self.tokens[who]} if who != "none" else {"token": "sa_" + "0" * 40}
        return path, body

    def ask(self, method, pattern, who):
        path, body = self.case(method, pattern, who)
        headers = {} if who == "none" else {"Authorization": f"Bearer {self.tokens[who]}"}
        if pattern == "/api/v1/session" and method == "POST":
            headers = {}
        status, hdrs, raw = status_only(self.d, method, path, body, headers)
        return path, status, raw


def check(rule, method, pattern, who, status, raw, public_status):
    """None when the answer is what the rule says, else what went wrong."""
    code = message = None
    if raw.startswith(b'{"error"'):
        err = json.loads(raw)["error"]
        code, message = err["code"], err["message"]

    def want(expected_status, expected_code=None):
        if status != expected_status or (expected_code and code != expected_code):
            return f"want {expected_status} {expected_code or ''}, got {status} {code}: {message}"
        return None

    if rule == "public":
        if status in (401, 403) or status != public_status:
            return f"public route: want {public_status} as without credentials, got {status}"
        return None
    if rule == "signin":
        if who in LIVE:
            return want(200)
        return want(401, "invalid_token")
    if who not in LIVE:
        problem = want(401, "unauthorized")
        if problem is None and DEAD_REASON[who] not in message:
            problem = f"401 for the wrong reason: {message}"
        return problem
    if rule == "own":
        return None if 200 <= status < 300 else f"want 2xx, got {status} {code}: {message}"
    if rule == "admin":
        if who == "admin":
            return None if 200 <= status < 300 else f"want 2xx, got {status} {code}: {message}"
        return want(403, "forbidden")
    if rule == "store":
        if who == "other":
            return want(404, "not_found")
        if status in (401, 403, 404, 500):
            return f"owner/admin must get past authorization, got {status} {code}: {message}"
        return None
    if rule == "backup":
        if who == "other":
            problem = want(404, "not_found")
            if problem is None and "No store" not in message:
                problem = f"404 for the wrong reason: {message}"
            return problem
        if status in (401, 403, 500) or (status == 404 and "has no backup" not in (message or "")):
            return f"owner/admin must get past authorization, got {status} {code}: {message}"
        return None
    if rule == "domain":
        if who == "other":
            problem = want(404, "not_found")
            if problem is None and "No store" not in message:
                problem = f"404 for the wrong reason: {message}"
            return problem
        if status in (401, 403, 500) or (status == 404 and "has no domain" not in (message or "")):
            return f"owner/admin must get past authorization, got {status} {code}: {message}"
        return None
    if rule == "own-token":
        if who == "owner":
            return want(204)
        return want(404, "token_not_found")
    if rule == "own-webhook":
        if who == "owner":
            return None if 200 <= status < 300 else f"want 2xx, got {status} {code}: {message}"
        return want(404, "webhook_not_found")
    return f"unknown rule {rule!r}"


def test_every_route_by_every_identity(daemon_factory):
    served = set(SERVED_ROUTES)
    missing = served - set(EXPECTATIONS)
    assert not missing, f"routes without an entry in EXPECTATIONS (decide who may call them): {sorted(missing)}"
    stale = set(EXPECTATIONS) - served - NOT_YET_SERVED
    assert not stale, f"EXPECTATIONS names routes the daemon does not serve: {sorted(stale)}"

    d = daemon_factory({"limits": {"requests_per_window": 100000, "tenant_max_stores": 1000,
                                   "creates_per_hour": 1000, "max_stores": 1000, "max_pending_tasks": 100000,
                                   "signin_failures": 1000, "streams_per_account": 100},
                          "webhooks": {"max_per_account": 10000}})
    w = World(d)
    problems, asked = [], 0
    for method, pattern in SERVED_ROUTES:
        rule = EXPECTATIONS[(method, pattern)]
        public_status = None
        for who in IDENTITIES:  # "none" first: a public route's answer to nobody is the reference
            path, status, raw = w.ask(method, pattern, who)
            asked += 1
            if who == "none":
                public_status = status
            problem = check(rule, method, pattern, who, status, raw, public_status)
            if problem:
                problems.append(f"{method} {pattern} ({rule}) as {who}: {problem}")
    assert asked == len(SERVED_ROUTES) * len(IDENTITIES)
    assert not problems, "\n".join(problems)
    print(f"matrix: {len(SERVED_ROUTES)} routes x {len(IDENTITIES)} identities = {asked} requests")
