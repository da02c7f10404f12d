# SPDX-License-Identifier: Apache-2.0
"""A store's own domain on the real control plane: an extra host of the store's Ingress, with its own
certificate issued by cert-manager (its real controller and a CA ClusterIssuer, as in test_tls.py), and the
shop's URL following the primary domain through the chart's values and the setup Job.

In kwok the setup Job completes without running, so the search-replace itself is not run here; what is
checked is what the Job and the web pod are given (STORE_URL, WP_HOME).
"""

import base64
import json
import re

from conftest import helm, kubectl, kubectl_json, wait_status
from test_tls import ISSUER, ca, cert_manager, condition, create_issuer, openssl  # noqa: F401 (fixtures)

DOMAIN = "dom-shop.example.org"


def ingress_hosts(ns, name):
    ing = kubectl_json("-n", ns, "get", "ingress", name)
    rules = [r["host"] for r in ing["spec"]["rules"]]
    tls = {h: t["secretName"] for t in ing["spec"].get("tls", []) for h in t["hosts"]}
    return rules, tls


def container_env(obj):
    return {e["name"]: e.get("value") for e in obj["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_own_domain_gets_a_host_a_certificate_and_the_url(cluster_daemon, cert_manager, ca, tmp_path):
    name, ns = "dom-shop", "store-dom-shop"
    own = f"{name}.shops.test"
    create_issuer()
    d = cluster_daemon({"stores": {"url_scheme": "https", "tls": {"cluster_issuer": ISSUER}}})
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    sid = r.json()["id"]
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY" and s["url"] == f"https://{own}", s

    # Added as the primary domain: one redeploy serves it, certifies it and moves the URL to it.
    r = d.request("POST", f"/api/v1/stores/{sid}/domains", {"domain": DOMAIN, "primary": True})
    assert r.status == 202 and r.json()["status"] == "UPGRADING", r
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY" and s["helm_revision"] == 2, s
    assert s["url"] == f"https://{DOMAIN}", s

    rules, tls = ingress_hosts(ns, name)
    assert rules == [own, DOMAIN], rules
    assert tls[own] == f"{name}-tls", tls
    secret_name = tls[DOMAIN]
    assert secret_name != f"{name}-tls", tls

    def certificate_ready():
        p = kubectl("-n", ns, "get", "certificate", secret_name, "-o", "json", check=False)
        if p.returncode != 0:
            return None
        cert = json.loads(p.stdout)
        return cert if condition(cert, "Ready").get("status") == "True" else None
    cert = d.wait_for(certificate_ready, timeout=120, what=f"the Certificate of {DOMAIN} to be Ready")
    assert cert["spec"]["dnsNames"] == [DOMAIN], cert["spec"]
    assert cert["spec"]["issuerRef"]["name"] == ISSUER
    secret = kubectl_json("-n", ns, "get", "secret", secret_name)
    pem = tmp_path / "domain.crt"
    pem.write_bytes(base64.b64decode(secret["data"]["tls.crt"]))
    text = openssl("x509", "-in", str(pem), "-noout", "-ext", "subjectAltName")
    assert re.search(rf"DNS:{re.escape(DOMAIN)}\b", text), text
    assert f"{pem}: OK" in openssl("verify", "-CAfile", ca, str(pem))

    # The shop's URL: the chart's values, the setup Job of the new revision, and the web pod's WP_HOME.
    values = json.loads(helm("get", "values", name, "-n", ns, "-o", "json").stdout)
    assert values["domains"] == {"extra": [DOMAIN], "primary": DOMAIN}, values
    job = kubectl_json("-n", ns, "get", "job", f"{name}-setup-r2")
    assert container_env(job)["STORE_URL"] == f"https://{DOMAIN}"
    web = container_env(kubectl_json("-n", ns, "get", "deployment", f"{name}-wordpress"))
    assert f"define('WP_HOME', 'https://{DOMAIN}');" in web["WORDPRESS_CONFIG_EXTRA"], web

    # Removed: the host and its TLS entry go, and the store's own host is the URL's again.
    r = d.request("DELETE", f"/api/v1/stores/{sid}/domains/{DOMAIN}")
    assert r.status == 202, r
    s = wait_status(d, sid, {"READY", "FAILED"})
    assert s["status"] == "READY" and s["helm_revision"] == 3 and s["url"] == f"https://{own}", s
    rules, tls = ingress_hosts(ns, name)
    assert rules == [own] and list(tls) == [own], (rules, tls)
    job = kubectl_json("-n", ns, "get", "job", f"{name}-setup-r3")
    assert container_env(job)["STORE_URL"] == f"https://{own}"
    assert d.request("GET", f"/api/v1/stores/{sid}/domains").json() == {"items": [], "primary": None}
