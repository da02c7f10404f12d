# SPDX-License-Identifier: Apache-2.0
"""A store's settings reach its Helm release on the real control plane, with the same chart version."""

import json

from conftest import helm, kubectl_json, wait_status


def test_settings_change_is_a_redeploy_of_the_same_chart(cluster_daemon):
    d = cluster_daemon()
    r = d.request("POST", "/api/v1/stores", {"name": "tuned", "engine": "woocommerce"})
    assert r.status == 202, r
    sid = r.json()["id"]
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY" and s["helm_revision"] == 1, s
    version = s["chart_version"]

    r = d.request("PATCH", f"/api/v1/stores/{sid}/settings",
                  {"title": "Tuned Goods", "currency": "EUR", "country": "DE", "admin_email": "owner@example.com"})
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY" and s["helm_revision"] == 2 and s["chart_version"] == version, s

    values = json.loads(helm("get", "values", "tuned", "-n", "store-tuned", "-o", "json").stdout)
    assert values["store"] == {"title": "Tuned Goods", "currency": "EUR", "country": "DE"}, values
    assert values["admin"]["email"] == "owner@example.com", values
    history = json.loads(helm("history", "tuned", "-n", "store-tuned", "-o", "json").stdout)
    assert [h["chart"] for h in history] == [f"store-woocommerce-{version}"] * 2, history
    # The setup Job of the new revision runs with them.
    job = kubectl_json("get", "job", "tuned-setup-r2", "-n", "store-tuned")
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["STORE_TITLE"], env["STORE_CURRENCY"], env["STORE_COUNTRY"], env["ADMIN_EMAIL"]) == (
        "Tuned Goods", "EUR", "DE", "owner@example.com"), env

    # A redeploy keeps them: the same chart again, a new revision, the same values.
    r = d.request("POST", f"/api/v1/stores/{sid}/redeploy")
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY" and s["helm_revision"] == 3 and s["chart_version"] == version, s
    again = json.loads(helm("get", "values", "tuned", "-n", "store-tuned", "-o", "json").stdout)
    assert again["store"] == values["store"] and again["admin"] == values["admin"], again


def test_settings_of_a_failed_upgrade_are_put_back(cluster_daemon, tmp_path):
    """A settings change whose upgrade fails is rolled back: the store's settings are again the ones
    its release runs, not the refused ones. Stand-in: a helm wrapper that refuses upgrades once a
    marker file exists (a chart or cluster that refuses them would do the same)."""
    from conftest import env
    marker = tmp_path / "refuse-upgrades"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f'#!/bin/sh\nif [ "$1" = upgrade ] && [ -e {marker} ]; then\n'
                       f'  echo "Error: UPGRADE FAILED: refused by the test" >&2; exit 1\nfi\n'
                       f'exec {env()["HELM"]} "$@"\n')
    wrapper.chmod(0o755)
    d = cluster_daemon(config={"helm": {"binary": str(wrapper)}})
    r = d.request("POST", "/api/v1/stores", {"name": "steady", "engine": "woocommerce",
                                             "settings": {"title": "Steady Shop", "currency": "USD"}})
    assert r.status == 202, r
    sid = r.json()["id"]
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY", s

    marker.touch()
    r = d.request("PATCH", f"/api/v1/stores/{sid}/settings", {"title": "Never Applied", "currency": "EUR"})
    assert r.status == 202, r
    d.wait_for(lambda: "store.upgrade_failed" in [e["action"] for e in
                                                  d.request("GET", f"/api/v1/stores/{sid}/events?limit=1000").json()["items"]],
               timeout=180, interval=0.5, what="the failed upgrade in the timeline")
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY" and "The settings are back as they were." in s["status_reason"], s
    got = d.request("GET", f"/api/v1/stores/{sid}/settings").json()
    assert got.get("title") == "Steady Shop" and got.get("currency") == "USD", got
    values = json.loads(helm("get", "values", "steady", "-n", "store-steady", "-o", "json").stdout)
    assert values["store"]["title"] == "Steady Shop" and values["store"]["currency"] == "USD", values
