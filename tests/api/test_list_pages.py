# SPDX-License-Identifier: Apache-2.0
"""Pages of GET /api/v1/stores along next_cursor: the whole list once, while it changes; a tenant's
cursor stays in its own stores; a cursor the daemon did not make is a 400."""

import os
import re
import urllib.parse

import pytest
import yaml

from tenancy import create_store, error_of, tenant

SPEC = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "api", "openapi.yaml")))
CURSOR = re.compile(SPEC["components"]["schemas"]["ListCursor"]["pattern"])

LIMITS = {"limits": {"requests_per_window": 100000, "tenant_max_stores": 1000, "creates_per_hour": 1000,
                     "max_stores": 1000, "max_pending_tasks": 100000}}


def page(d, query, token=None):
    r = d.request("GET", "/api/v1/stores?" + urllib.parse.urlencode(query), auth=token or d.token)
    assert r.status == 200, r
    body = r.json()
    assert set(body) == {"items", "total", "limit", "offset", "next_cursor"}, body
    assert body["next_cursor"] is None or CURSOR.match(body["next_cursor"]), body  # as the spec says
    return body


def walk(d, query, token=None, between=None):
    """Every page along next_cursor; between(n, items) runs after page n. Returns the ids in order
    and the last page's total."""
    ids, cursor, n = [], None, 0
    while True:
        body = page(d, dict(query, **({"cursor": cursor} if cursor else {})), token)
        assert len(body["items"]) <= query["limit"]
        ids += [s["id"] for s in body["items"]]
        assert len(ids) < 1000, "the cursor does not move on"
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, body["total"]
        assert len(body["items"]) == query["limit"], body  # only a full page has a next one
        if between:
            between(n, body["items"])
        n += 1


def test_cursor_walks_the_whole_list_while_stores_come_and_go(daemon_factory):
    d = daemon_factory(LIMITS)
    before = [create_store(d, f"shop{i:02d}", d.token)["id"] for i in range(23)]
    before.reverse()  # newest first, as the list shows them
    assert walk(d, {"limit": 500})[0] == before

    deleted_seen, deleted_ahead, created = set(), set(), []

    def churn(n, items):
        # A store already shown and one not yet reached leave the list (DELETING is not PROVISIONING),
        # and a new one comes in at its head: an offset would now skip one store and could repeat none,
        # the cursor must do neither.
        victim = items[0]["id"]
        assert d.request("DELETE", f"/api/v1/stores/{victim}").status == 202
        deleted_seen.add(victim)
        pos = before.index(items[-1]["id"])
        ahead = [i for i in before[pos + 2:] if i not in deleted_ahead]
        if ahead:
            assert d.request("DELETE", f"/api/v1/stores/{ahead[0]}").status == 202
            deleted_ahead.add(ahead[0])
        created.append(create_store(d, f"new{n:02d}", d.token)["id"])

    ids, total = walk(d, {"limit": 4, "status": "PROVISIONING"}, between=churn)
    assert len(ids) == len(set(ids)), "a store was listed twice"
    expected = [i for i in before if i not in deleted_ahead]
    assert ids == expected, "the walk skipped or reordered stores"
    assert not set(ids) & set(created)  # newer than the first page: not behind the cursor
    assert total == len(before) - len(deleted_seen) - len(deleted_ahead) + len(created)

    # The default list keeps DELETING stores: the same walk over it shows every store exactly once.
    everything, total = walk(d, {"limit": 3})
    assert sorted(everything) == sorted(before + created) and total == len(everything)


def test_a_tenants_cursor_stays_in_its_own_stores(daemon_factory):
    d = daemon_factory(LIMITS)
    alice, bob = tenant(d, "alice", max_stores=100), tenant(d, "bob", max_stores=100)
    mine, theirs = [], []
    for i in range(9):  # interleaved, so every page boundary of alice's falls between bob's stores
        mine.append(create_store(d, f"a{i}", alice)["id"])
        theirs.append(create_store(d, f"b{i}", bob)["id"])
        create_store(d, f"root{i}", d.token)

    ids, total = walk(d, {"limit": 2}, alice)
    assert ids == mine[::-1] and total == len(mine)
    ids, total = walk(d, {"limit": 2, "owner": "bob"}, alice)  # the owner filter cannot reach another account
    assert ids == mine[::-1] and total == len(mine)
    ids, total = walk(d, {"limit": 4, "owner": "bob"})
    assert ids == theirs[::-1] and total == len(theirs)

    # A cursor from bob's list (or the admin's) is only a position: alice still sees her own stores after it.
    bob_cursor = page(d, {"limit": 3}, bob)["next_cursor"]
    admin_cursor = page(d, {"limit": 1})["next_cursor"]
    for cursor in (bob_cursor, admin_cursor):
        body = page(d, {"limit": 500, "cursor": cursor}, alice)
        assert body["items"] and {s["owner"] for s in body["items"]} == {"alice"}
        assert set(s["id"] for s in body["items"]) <= set(mine)
        assert body["total"] == len(mine) and body["next_cursor"] is None


@pytest.mark.parametrize("cursor", [
    "",
    "abc",
    "1",
    "10000000000000001",                      # no id
    "20000000000000001" + "0123456789abcdef",  # a version the daemon does not make
    "1000000000000000A" + "0123456789abcdef",  # upper case
    "10000000000000001" + "0123456789abcdeg",  # not hex
    "18000000000000000" + "0123456789abcdef",  # a time past what the daemon stores
    "10000000000000001" + "ab" * 40,          # too long
    "1000000000000000 1abc",
    "' OR 1=1 --",
])
def test_a_cursor_the_daemon_did_not_make_is_refused(daemon, cursor):
    r = daemon.request("GET", "/api/v1/stores?" + urllib.parse.urlencode({"cursor": cursor}))
    assert r.status == 400 and error_of(r) == "invalid_parameter", r
    assert "cursor" in r.json()["error"]["message"]


def test_cursor_and_offset_together_are_refused(daemon):
    for i in range(3):
        create_store(daemon, f"s{i}", daemon.token)
    cursor = page(daemon, {"limit": 1})["next_cursor"]
    assert cursor
    r = daemon.request("GET", f"/api/v1/stores?limit=1&offset=1&cursor={cursor}")
    assert r.status == 400 and error_of(r) == "invalid_parameter"
    # offset still pages on its own, and offset=0 goes with a cursor.
    assert [s["name"] for s in page(daemon, {"limit": 1, "offset": 1})["items"]] == ["s1"]
    body = page(daemon, {"limit": 5, "offset": 0, "cursor": cursor})
    assert [s["name"] for s in body["items"]] == ["s1", "s0"] and body["next_cursor"] is None and body["total"] == 3
