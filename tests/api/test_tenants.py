# SPDX-License-Identifier: Apache-2.0
"""Accounts and tenants over the REST API: what a tenant sees of other accounts (nothing), its caps,
disabling and revoking, the audit log, and the rate limits that key on accounts."""

import json

from tenancy import Stream, create_store, error_of, make_account, make_token, sign_in, tenant

MISSING = "ffffffffffffffff"


def test_another_tenants_store_is_a_missing_store(daemon):
    alice, bob = tenant(daemon, "alice"), tenant(daemon, "bob")
    sid = create_store(daemon, "alices", alice)["id"]
    assert daemon.request("GET", f"/api/v1/stores/{sid}", auth=alice).status == 200

    theirs = daemon.request("GET", f"/api/v1/stores/{sid}", auth=bob, headers={"X-Request-Id": "req-theirs"})
    missing = daemon.request("GET", f"/api/v1/stores/{MISSING}", auth=bob, headers={"X-Request-Id": "req-missing"})
    print(f"\nGET /api/v1/stores/{sid} as bob ->\n{theirs.status} {theirs.headers}\n{theirs.body.decode()}")
    print(f"GET /api/v1/stores/{MISSING} as bob ->\n{missing.status} {missing.headers}\n{missing.body.decode()}")
    assert theirs.status == missing.status == 404
    assert theirs.body.decode().replace(sid, "ID") == missing.body.decode().replace(MISSING, "ID")
    assert error_of(theirs) == "not_found"

    def comparable(r):
        return sorted((k.lower(), v) for k, v in r.headers if k.lower() not in ("x-request-id", "date"))
    assert comparable(theirs) == comparable(missing)
    assert theirs.header("X-Request-Id") == "req-theirs"

    # Every store route answers the same; nothing of alice's store changed.
    for method, suffix, body in [("GET", "/events", None), ("GET", "/releases", None), ("DELETE", "", None),
                                 ("POST", "/retry", None), ("POST", "/upgrade", {"chart_version": "0.1.0"}),
                                 ("POST", "/rollback", {"revision": 1})]:
        r = daemon.request(method, f"/api/v1/stores/{sid}{suffix}", body, auth=bob)
        assert r.status == 404 and error_of(r) == "not_found", (method, suffix, r)
    assert daemon.request("GET", f"/api/v1/stores/{sid}", auth=alice).json()["status"] == "PROVISIONING"


def test_lists_count_only_what_the_caller_sees(daemon):
    alice, bob = tenant(daemon, "alice"), tenant(daemon, "bob")
    create_store(daemon, "a1", alice)
    create_store(daemon, "b1", bob)
    create_store(daemon, "b2", bob)
    create_store(daemon, "adm", daemon.token)
    r = daemon.request("GET", "/api/v1/stores", auth=alice).json()
    assert r["total"] == 1 and [s["name"] for s in r["items"]] == ["a1"] and r["items"][0]["owner"] == "alice"
    # A tenant's owner filter cannot reach another account.
    r = daemon.request("GET", "/api/v1/stores?owner=bob", auth=alice).json()
    assert r["total"] == 1 and {s["owner"] for s in r["items"]} == {"alice"}
    assert daemon.request("GET", "/api/v1/stores").json()["total"] == 4
    r = daemon.request("GET", "/api/v1/stores?owner=bob").json()
    assert r["total"] == 2 and {s["owner"] for s in r["items"]} == {"bob"}

    # The platform view: a tenant's own account and stores, no platform-wide numbers.
    p = daemon.request("GET", "/api/v1/platform", auth=alice).json()
    assert "limits" not in p
    assert p["stores_by_status"] == {"PROVISIONING": 1} or p["stores_by_status"].get("PROVISIONING") == 1
    assert sum(p["stores_by_status"].values()) == 1
    assert p["account"]["name"] == "alice" and p["account"]["role"] == "tenant"
    assert p["account"]["limits"]["max_stores"] == {"limit": 3, "used": 1}
    assert p["account"]["limits"]["creates_per_hour"] == {"limit": 5, "used": 1}
    p = daemon.request("GET", "/api/v1/platform").json()
    assert p["limits"]["max_stores"]["used"] == 4 and sum(p["stores_by_status"].values()) == 4
    assert p["account"]["limits"]["max_stores"]["limit"] is None
    r = daemon.request("GET", "/metrics", auth=alice)
    assert r.status == 403 and error_of(r) == "forbidden"


def test_idempotency_keys_do_not_cross_accounts(daemon):
    alice, bob = tenant(daemon, "alice"), tenant(daemon, "bob")
    key = {"Idempotency-Key": "same-key"}
    a = daemon.request("POST", "/api/v1/stores", {"name": "ak", "engine": "woocommerce"}, auth=alice, headers=key)
    assert a.status == 202
    # bob's identical key and body is bob's own request: not a replay of alice's store.
    b = daemon.request("POST", "/api/v1/stores", {"name": "ak", "engine": "woocommerce"}, auth=bob, headers=key)
    assert b.status == 409 and error_of(b) == "name_taken" and b.header("Idempotent-Replayed") is None
    assert a.json()["id"] not in b.body.decode()
    b = daemon.request("POST", "/api/v1/stores", {"name": "bk", "engine": "woocommerce"}, auth=bob, headers=key)
    assert b.status == 202 and b.header("Idempotent-Replayed") is None
    assert b.json()["owner"] == "bob" and b.json()["id"] != a.json()["id"]
    again = daemon.request("POST", "/api/v1/stores", {"name": "ak", "engine": "woocommerce"}, auth=alice, headers=key)
    assert again.status == 202 and again.header("Idempotent-Replayed") == "true"
    assert again.json()["id"] == a.json()["id"]


def test_per_account_caps(daemon_factory):
    d = daemon_factory({"limits": {"tenant_max_stores": 2}})
    alice = tenant(d, "alice")
    create_store(d, "c1", alice)
    create_store(d, "c2", alice)
    r = d.request("POST", "/api/v1/stores", {"name": "c3", "engine": "woocommerce"}, auth=alice)
    assert r.status == 429 and error_of(r) == "account_store_cap_reached", r
    assert int(r.header("Retry-After")) >= 1
    message = r.json()["error"]["message"]
    assert "2" in message and "store" in message, message
    # The admin raises alice's own cap; another account is not affected by alice's use.
    assert d.request("PATCH", "/api/v1/accounts/alice", {"max_stores": 3}).json()["max_stores"] == 3
    create_store(d, "c3", alice)
    bob = tenant(d, "bob", creates_per_hour=1)
    create_store(d, "b1", bob)
    r = d.request("POST", "/api/v1/stores", {"name": "b2", "engine": "woocommerce"}, auth=bob)
    assert r.status == 429 and error_of(r) == "creation_limited" and r.header("Retry-After")
    assert "1" in r.json()["error"]["message"]
    assert d.request("GET", "/api/v1/accounts/bob").json()["creates_per_hour"] == 1


def test_disable_stops_tokens_sessions_and_streams_at_once(daemon):
    alice = tenant(daemon, "alice")
    cookie, csrf = sign_in(daemon, alice)
    by_token = Stream(daemon, {"Authorization": f"Bearer {alice}"})
    by_session = Stream(daemon, cookie)
    assert by_token.status == 200 and by_session.status == 200

    r = daemon.request("PATCH", "/api/v1/accounts/alice", {"disabled": True})
    assert r.status == 200 and r.json()["disabled"] is True and r.json()["disabled_at"]
    r = daemon.request("GET", "/api/v1/stores", auth=alice)
    assert r.status == 401 and "disabled" in r.json()["error"]["message"]
    assert daemon.request("GET", "/api/v1/stores", headers=cookie, auth=False).status == 401
    for s in (by_token, by_session):
        end = s.wait_event(lambda e: e.get("event") == "end", "the end event", timeout=10)
        assert json.loads(end["data"])["reason"] == "account_disabled", end
        s.wait_closed(timeout=10)
        s.close()
    r = daemon.request("POST", "/api/v1/session", {"token": alice}, auth=False)
    assert r.status == 401 and error_of(r) == "invalid_token"

    assert daemon.request("PATCH", "/api/v1/accounts/alice", {"disabled": False}).json()["disabled"] is False
    assert daemon.request("GET", "/api/v1/stores", auth=alice).status == 200
    # An admin cannot lock itself out.
    r = daemon.request("PATCH", "/api/v1/accounts/admin", {"disabled": True})
    assert r.status == 400
    assert daemon.request("GET", "/api/v1/stores").status == 200


def test_revoking_a_token_ends_its_stream_and_sessions(daemon):
    alice = tenant(daemon, "alice")
    spare = make_token(daemon, "alice", "spare")
    cookie, _ = sign_in(daemon, spare)
    s = Stream(daemon, {"Authorization": f"Bearer {spare}"})
    listing = daemon.request("GET", "/api/v1/tokens", auth=alice).json()["items"]
    assert {t["name"] for t in listing} == {"main", "spare"} and {t["account"] for t in listing} == {"alice"}
    assert all("token" not in t and "hash" not in t for t in listing)
    assert daemon.request("DELETE", "/api/v1/tokens/spare", auth=alice).status == 204
    end = s.wait_event(lambda e: e.get("event") == "end", "the end event", timeout=10)
    assert json.loads(end["data"])["reason"] == "token_revoked", end
    s.wait_closed(timeout=10)
    s.close()
    assert daemon.request("GET", "/api/v1/session", headers=cookie, auth=False).status == 401
    r = daemon.request("DELETE", "/api/v1/tokens/spare", auth=alice)
    assert r.status == 404 and error_of(r) == "token_not_found"
    # A tenant's own new token: shown once, works, never logged.
    r = daemon.request("POST", "/api/v1/tokens", {"name": "ci", "expires_in": 3600}, auth=alice)
    assert r.status == 201 and r.json()["account"] == "alice" and r.json()["expires_at"]
    new = r.json()["token"]
    assert daemon.request("GET", "/api/v1/session", auth=new).json()["name"] == "alice"
    assert new not in daemon.logs() and new[3:] not in daemon.logs()


def test_stream_carries_only_the_callers_view(daemon_factory):
    d = daemon_factory({"limits": {"streams_per_account": 1}})
    alice, bob = tenant(d, "alice"), tenant(d, "bob")
    s = Stream(d, {"Authorization": f"Bearer {bob}"})
    second = Stream(d, {"Authorization": f"Bearer {bob}"})
    assert second.status == 429
    assert second.read_until(b"stream_limited") and b"streams_per_account is 1" in second.buf
    second.close()
    hidden = create_store(d, "alices", alice)["id"]
    mine = create_store(d, "bobs", bob)["id"]
    s.wait_event(lambda e: e.get("event") == "store" and json.loads(e["data"])["id"] == mine, "bob's store")
    assert not any(hidden in e.get("data", "") or "alices" in e.get("data", "") for e in s.events()), s.buf
    # Event ids count this stream's events (1, 2, ... without gaps), not the platform's changes.
    stored = [e for e in s.events() if e.get("event") == "store"]
    assert stored and [int(e["id"]) for e in stored] == list(range(1, len(stored) + 1)), s.buf
    s.close()


def test_audit_records_changes_and_denials(daemon):
    alice = tenant(daemon, "alice")
    bob = tenant(daemon, "bob")
    create_store(daemon, "a1", alice)
    r = daemon.request("GET", "/api/v1/accounts", auth=bob, headers={"X-Request-Id": "denied-req-1"})
    assert r.status == 403
    expiring = make_token(daemon, "bob", "brief", expires_in=1)
    daemon.wait_for(lambda: daemon.request("GET", "/api/v1/stores", auth=expiring).status == 401,
                    what="the token to expire")
    daemon.request("POST", "/api/v1/session", {"token": "sa_" + "z" * 40}, auth=False)
    daemon.request("PATCH", "/api/v1/accounts/bob", {"disabled": True})

    everything = daemon.request("GET", "/api/v1/audit?limit=1000").json()["items"]
    actions = [(i["action"], i["result"]) for i in everything]
    for expected in [("account.create", "ok"), ("token.create", "ok"), ("store.create", "ok"),
                     ("auth.forbidden", "denied"), ("auth.failed", "denied"), ("session.create", "denied"),
                     ("account.disable", "ok")]:
        assert expected in actions, (expected, actions)
    forbidden = next(i for i in everything if i["action"] == "auth.forbidden")
    assert forbidden["actor"] == "bob" and forbidden["source"] == "127.0.0.1"
    assert forbidden["request_id"] == "denied-req-1" and forbidden["error"] == "forbidden"
    expired = [i for i in everything if i["action"] == "auth.failed" and i["error"] == "token_expired"]
    assert expired and expired[0]["source"] == "127.0.0.1" and expired[0]["request_id"]
    failed_signin = next(i for i in everything if i["action"] == "session.create")
    assert failed_signin["actor"] == "anonymous" and failed_signin["error"] == "token_unknown_or_revoked"

    # Filters and paging.
    denied = daemon.request("GET", "/api/v1/audit?result=denied").json()["items"]
    assert denied and all(i["result"] == "denied" for i in denied)
    accounts = daemon.request("GET", "/api/v1/audit?action=account.").json()["items"]
    assert accounts and all(i["action"].startswith("account.") for i in accounts)
    page = daemon.request("GET", "/api/v1/audit?limit=2").json()
    assert len(page["items"]) == 2 and page["next"] == page["items"][-1]["id"]
    nxt = daemon.request("GET", f"/api/v1/audit?limit=2&before={page['next']}").json()
    assert nxt["items"][0]["id"] < page["items"][-1]["id"]
    assert daemon.request("GET", "/api/v1/audit?since=2999-01-01T00:00:00Z").json()["items"] == []
    assert daemon.request("GET", "/api/v1/audit?result=maybe").status == 400

    # A tenant's view: its own records only, whatever it asks.
    mine = daemon.request("GET", "/api/v1/audit?limit=1000", auth=alice).json()["items"]
    assert mine and {i["actor"] for i in mine} == {"alice"}
    assert daemon.request("GET", "/api/v1/audit?actor=admin", auth=alice).json()["items"] == []

    r = daemon.request("GET", "/api/v1/audit?format=jsonl&limit=3")
    assert r.status == 200 and r.header("Content-Type") == "application/x-ndjson"
    lines = [json.loads(x) for x in r.body.decode().splitlines()]
    assert len(lines) == 3 and lines[0]["id"] == everything[0]["id"]


def test_rate_limits_key_on_accounts_and_spare_sign_in(daemon_factory):
    d = daemon_factory({"limits": {"requests_per_window": 5, "window": 600, "signin_failures": 3}})
    alice = tenant(d, "alice")
    second = make_token(d, "alice", "second")
    for _ in range(5):
        assert d.request("GET", "/api/v1/stores", auth=alice).status == 200
    # The budget is alice's, not her token's.
    r = d.request("GET", "/api/v1/stores", auth=second)
    assert r.status == 429 and error_of(r) == "rate_limited" and r.header("Retry-After")

    # An anonymous flood from this address is limited by itself ...
    codes = [d.request("GET", "/api/v1/stores", auth=False).status for _ in range(8)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429
    # ... and locks out neither a valid sign-in from the same address nor the admin's budget.
    assert d.request("POST", "/api/v1/session", {"token": d.token}, auth=False).status == 200
    assert d.request("GET", "/api/v1/stores").status == 200

    # Failed sign-ins have their own small budget per address.
    codes = [d.request("POST", "/api/v1/session", {"token": "sa_" + "q" * 40}, auth=False).status
             for _ in range(4)]
    assert codes == [401, 401, 401, 429], codes
    limited = [i for i in d.request("GET", "/api/v1/audit?result=denied&limit=1000").json()["items"]
               if i["error"] == "rate_limited"]
    assert limited and all(i["source"] == "127.0.0.1" for i in limited)


def test_failed_sign_ins_with_an_accounts_old_token_count_against_that_account(daemon_factory):
    d = daemon_factory({"limits": {"signin_failures": 3}})
    alice, bob = tenant(d, "alice"), tenant(d, "bob")
    old = make_token(d, "alice", "old")
    assert d.request("DELETE", "/api/v1/accounts/alice/tokens/old").status == 204
    codes = [d.request("POST", "/api/v1/session", {"token": old}, auth=False).status for _ in range(4)]
    assert codes == [401, 401, 401, 429], codes
    # alice's sign-ins wait out the window, even with her valid token ...
    r = d.request("POST", "/api/v1/session", {"token": alice}, auth=False)
    assert r.status == 429 and "account 'alice'" in r.json()["error"]["message"] and r.header("Retry-After"), r
    # ... while bob signs in from the same address: the failures were aimed at alice, not at it.
    assert d.request("POST", "/api/v1/session", {"token": bob}, auth=False).status == 200
    # alice sees the attempts on her own audit trail; bob does not.
    mine = d.request("GET", "/api/v1/audit?action=session.create&result=denied", auth=alice).json()["items"]
    assert len(mine) == 5 and {i["actor"] for i in mine} == {"alice"}
    assert d.request("GET", "/api/v1/audit?action=session.create&result=denied", auth=bob).json()["items"] == []


def test_account_and_token_admin_routes(daemon):
    r = daemon.request("POST", "/api/v1/accounts", {"name": "shop-co", "role": "tenant", "max_stores": 7})
    assert r.status == 201
    a = r.json()
    assert a["name"] == "shop-co" and a["role"] == "tenant" and a["max_stores"] == 7
    assert a["creates_per_hour"] is None and a["disabled"] is False and a["stores"] == 0 and a["tokens"] == 0
    r = daemon.request("POST", "/api/v1/accounts", {"name": "shop-co", "role": "tenant"})
    assert r.status == 409 and error_of(r) == "account_name_taken"
    assert daemon.request("POST", "/api/v1/accounts", {"name": "Bad Name", "role": "tenant"}).status == 400
    assert daemon.request("POST", "/api/v1/accounts", {"name": "x", "role": "root"}).status == 400
    r = daemon.request("GET", "/api/v1/accounts/nobody")
    assert r.status == 404 and error_of(r) == "account_not_found"
    tok = make_token(daemon, "shop-co", "deploy")
    assert daemon.request("GET", "/api/v1/accounts/shop-co").json()["tokens"] == 1
    names = [t["name"] for t in daemon.request("GET", "/api/v1/accounts/shop-co/tokens").json()["items"]]
    assert names == ["deploy"]
    r = daemon.request("POST", "/api/v1/accounts/shop-co/tokens", {"name": "deploy"})
    assert r.status == 409 and error_of(r) == "token_name_taken"
    assert daemon.request("PATCH", "/api/v1/accounts/shop-co", {"max_stores": None}).json()["max_stores"] is None
    assert daemon.request("DELETE", "/api/v1/accounts/shop-co/tokens/deploy").status == 204
    assert daemon.request("GET", "/api/v1/stores", auth=tok).status == 401
    items = daemon.request("GET", "/api/v1/accounts").json()["items"]
    assert {"admin", "shop-co"} <= {i["name"] for i in items}
    # Transfer: an admin gives a store to a tenant, who then sees it.
    bob = tenant(daemon, "bob")
    sid = create_store(daemon, "gift", daemon.token)["id"]
    assert daemon.request("GET", f"/api/v1/stores/{sid}", auth=bob).status == 404
    r = daemon.request("POST", f"/api/v1/stores/{sid}/transfer", {"account": "bob"})
    assert r.status == 200 and r.json()["owner"] == "bob"
    assert daemon.request("GET", f"/api/v1/stores/{sid}", auth=bob).json()["owner"] == "bob"
    r = daemon.request("POST", f"/api/v1/stores/{sid}/transfer", {"account": "nobody"})
    assert r.status == 404 and error_of(r) == "account_not_found"
