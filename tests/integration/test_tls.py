# SPDX-License-Identifier: Apache-2.0
"""HTTPS stores: cert-manager issues each store's certificate, and READY waits for it.

cert-manager's real controller (built from its Go module, tests/cluster/cert-manager-up) runs as a
process against the test control plane. A CA ClusterIssuer signs with a CA made here with openssl.
The agent only sets the chart's value; cert-manager's ingress-shim reads the Ingress annotation,
makes the Certificate, and its CA issuer signs it into the store's TLS Secret.
"""

import base64
import os
import re
import subprocess

import pytest

from conftest import REPO, env, kubectl, kubectl_json, wait_status

CLUSTER = os.path.join(REPO, "tests", "cluster")
CA_SECRET = "storeagent-test-shops-ca"
ISSUER = "storeagent-test-shops"


def openssl(*args, **kw):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60, **kw)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def cert_manager():
    """cert-manager's controller, built into the cluster cache the first time (a cold build takes
    minutes) and started once; tests/cluster/down stops it with the cluster."""
    p = subprocess.run([os.path.join(CLUSTER, "cert-manager-up")], capture_output=True, text=True, timeout=3600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]


@pytest.fixture
def ca(tmp_path):
    """A self-signed CA, in a Secret of cert-manager's cluster-resource namespace; the ClusterIssuer
    that signs with it is the test's to create (and is deleted afterwards)."""
    key, crt = str(tmp_path / "ca.key"), str(tmp_path / "ca.crt")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", crt, "-days", "30", "-subj", "/CN=storeagent test shops CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    kubectl("delete", "clusterissuer", ISSUER, "--ignore-not-found", "--wait=true")
    kubectl("-n", "cert-manager", "delete", "secret", CA_SECRET, "--ignore-not-found")
    kubectl("-n", "cert-manager", "create", "secret", "tls", CA_SECRET, f"--cert={crt}", f"--key={key}")
    yield crt
    kubectl("delete", "clusterissuer", ISSUER, "--ignore-not-found", check=False)
    kubectl("-n", "cert-manager", "delete", "secret", CA_SECRET, "--ignore-not-found", check=False)


def create_issuer():
    manifest = ("apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\n"
                f"metadata: {{name: {ISSUER}}}\nspec: {{ca: {{secretName: {CA_SECRET}}}}}\n")
    e = env()
    p = subprocess.run([e["KUBECTL"], "--kubeconfig", e["KUBECONFIG"], "apply", "-f", "-"], input=manifest,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def condition(obj, kind):
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), {})


def test_https_store_waits_for_its_certificate(cluster_daemon, cert_manager, ca, tmp_path):
    name, ns = "tls-shop", "store-tls-shop"
    host = f"{name}.shops.test"
    # The issuer the agent names does not exist yet: cert-manager makes the Certificate but cannot
    # issue it, so everything but the certificate gets ready.
    d = cluster_daemon({"stores": {"url_scheme": "https", "tls": {"cluster_issuer": ISSUER}}})
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    sid = r.json()["id"]

    def waiting_on_certificate():
        s = d.request("GET", f"/api/v1/stores/{sid}").json()
        assert s["status"] not in ("READY", "FAILED"), s
        return s if f"waiting on Certificate {name}-tls" in (s["step"] or "") else None
    s = d.wait_for(waiting_on_certificate, timeout=180, interval=0.5, what="the store to wait on its certificate")
    # What it waits on is the certificate alone: every workload is ready.
    m = re.search(r"(\d+) of (\d+) ready", s["step"])
    assert m and int(m.group(1)) == int(m.group(2)) - 1, s["step"]
    assert s["status"] == "PROVISIONING", s

    # (The agent may have seen it before cert-manager's ingress-shim made the Certificate.)
    d.wait_for(lambda: kubectl("-n", ns, "get", "certificate", f"{name}-tls", check=False).returncode == 0,
               timeout=120, what="cert-manager to make the store's Certificate")
    ingress = kubectl_json("-n", ns, "get", "ingress", name)
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == ISSUER
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": f"{name}-tls"}]
    cert = kubectl_json("-n", ns, "get", "certificate", f"{name}-tls")
    assert cert["spec"]["dnsNames"] == [host]
    assert cert["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": ISSUER}
    assert condition(cert, "Ready").get("status") != "True", cert.get("status")

    # The issuer appears: cert-manager issues, and only then is the store READY.
    create_issuer()
    s = wait_status(d, sid, {"READY", "FAILED"}, timeout=180)
    assert s["status"] == "READY", s
    assert s["url"] == f"https://{host}"
    cert = kubectl_json("-n", ns, "get", "certificate", f"{name}-tls")
    assert condition(cert, "Ready").get("status") == "True", cert.get("status")

    # The TLS Secret holds a certificate for the store's host, signed by the CA.
    secret = kubectl_json("-n", ns, "get", "secret", f"{name}-tls")
    assert secret["type"] == "kubernetes.io/tls"
    pem = tmp_path / "tls.crt"
    pem.write_bytes(base64.b64decode(secret["data"]["tls.crt"]))
    text = openssl("x509", "-in", str(pem), "-noout", "-ext", "subjectAltName", "-issuer")
    assert re.search(rf"DNS:{re.escape(host)}\b", text), text
    assert "storeagent test shops CA" in text, text
    assert f"{pem}: OK" in openssl("verify", "-CAfile", ca, str(pem))
    assert base64.b64decode(secret["data"]["tls.key"]).startswith(b"-----BEGIN")


def test_http_store_ignores_the_issuer(cluster_daemon, cert_manager):
    """stores.tls.cluster_issuer without https: no TLS section, no certificate to wait for."""
    name, ns = "tls-plain", "store-tls-plain"
    d = cluster_daemon({"stores": {"url_scheme": "http", "tls": {"cluster_issuer": "no-such-issuer"}}})
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    s = wait_status(d, r.json()["id"], {"READY", "FAILED"}, timeout=180)
    assert s["status"] == "READY", s
    assert s["url"] == f"http://{name}.shops.test"
    ingress = kubectl_json("-n", ns, "get", "ingress", name)
    assert "tls" not in ingress["spec"]
    assert "cert-manager.io/cluster-issuer" not in ingress["metadata"].get("annotations", {})
    assert kubectl_json("-n", ns, "get", "certificates")["items"] == []
