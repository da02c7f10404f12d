# SPDX-License-Identifier: Apache-2.0
"""What two real stores' pods may connect to, as the NetworkPolicies the agent applied decide it.

The test cluster has no network plugin, so nothing enforces a policy and no traffic is sent.
Instead the policies, pods and namespaces the cluster holds for two stores made by the real
daemon are exported and handed, with model endpoints for what lies outside the stores (an
ingress controller and kube-dns in kube-system, a pod in another namespace, the API server,
the node, cloud metadata, internet addresses), to cyclonus, an established NetworkPolicy
analyzer (`cyclonus analyze --mode query-traffic`). Each connection below is a question to it.
"""

import json
import os
import re
import shutil
import subprocess

from conftest import REPO, kubectl_json, wait_status

CLUSTER = os.path.join(REPO, "tests", "cluster")
INGRESS_NS = {"kubernetes.io/metadata.name": "kube-system"}
INGRESS_POD = {"app.kubernetes.io/name": "traefik"}  # what k3s's traefik pods carry
DNS_POD = {"k8s-app": "kube-dns"}
METADATA_IP = "169.254.169.254"
API_SERVICE_IP = "10.43.0.1"  # the "kubernetes" Service in k3s's service network
INTERNET_IP = "1.1.1.1"
PROBE_PORTS = [22, 53, 80, 443, 3306, 6443, 8080, 10250]


def cyclonus():
    """The analyzer, built into the cluster cache when missing (tests/cluster/build)."""
    subprocess.run([os.path.join(CLUSTER, "build"), "cyclonus"], check=True, capture_output=True, timeout=1200)
    path = subprocess.run(["bash", "-c", f'. "{CLUSTER}/lib.sh"; echo "$CYCLONUS_BIN"'], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert os.access(path, os.X_OK), path
    return path


def create(d, name):
    r = d.request("POST", "/api/v1/stores", {"name": name, "engine": "woocommerce"})
    assert r.status == 202, r
    return r.json()


class Peer:
    """A traffic endpoint: a pod (namespace, its labels, pod labels, IP, named ports) or a bare IP."""

    def __init__(self, what, ip, ns=None, ns_labels=None, labels=None, ports=None):
        self.what, self.ip, self.ns = what, ip, ns
        self.ns_labels, self.labels, self.ports = ns_labels or {}, labels or {}, ports or {}

    def json(self):
        if self.ns is None:
            return {"Internal": None, "IP": self.ip}
        return {"Internal": {"PodLabels": self.labels, "NamespaceLabels": self.ns_labels, "Namespace": self.ns},
                "IP": self.ip}

    def __repr__(self):
        return self.what


def pods_of(ns):
    """The store's pods as the cluster holds them, by component; the namespace's own labels."""
    ns_labels = kubectl_json("get", "namespace", ns)["metadata"]["labels"]
    pods = {}
    for p in kubectl_json("get", "pods", "-n", ns)["items"]:
        labels = p["metadata"].get("labels", {})
        ports = {c.get("name", ""): c["containerPort"] for k in p["spec"]["containers"] for c in k.get("ports", [])}
        component = labels.get("app.kubernetes.io/component")
        pods[component] = Peer(f"{ns}/{component}", p["status"].get("podIP") or "10.42.250.1", ns, ns_labels,
                               labels, ports)
    return pods


def export_policies(namespaces, dest):
    """Each NetworkPolicy of the namespaces as the API server returns it, one file each."""
    os.makedirs(dest)
    names = []
    for ns in namespaces:
        for p in kubectl_json("get", "networkpolicies", "-n", ns)["items"]:
            p["apiVersion"], p["kind"] = "networking.k8s.io/v1", "NetworkPolicy"
            p["metadata"].pop("managedFields", None)
            with open(os.path.join(dest, f"{ns}_{p['metadata']['name']}.json"), "w") as f:
                json.dump(p, f)
            names.append((ns, p["metadata"]["name"]))
    return names


class Analyzer:
    def __init__(self, binary, tmp):
        self.binary, self.tmp, self.n = binary, tmp, 0

    def allowed(self, policy_dir, questions):
        """questions: [(src Peer, dst Peer, port, protocol)]; answers: [bool], the analyzer's."""
        traffic = []
        for src, dst, port, proto in questions:
            name = next((n for n, p in dst.ports.items() if p == port), "")
            traffic.append({"Source": src.json(), "Destination": dst.json(), "Protocol": proto,
                            "ResolvedPort": port, "ResolvedPortName": name})
        self.n += 1
        path = os.path.join(self.tmp, f"traffic-{self.n}.json")
        with open(path, "w") as f:
            json.dump(traffic, f)
        p = subprocess.run([self.binary, "analyze", "--mode", "query-traffic", "--policy-path", policy_dir,
                            "--traffic-path", path], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        answers = re.findall(r"IS ALLOWED\?\s*\|\s*(TRUE|FALSE)", p.stdout, re.IGNORECASE)
        assert len(answers) == len(questions), p.stdout[-3000:]
        return [a.lower() == "true" for a in answers]


def check(analyzer, policy_dir, expect):
    """expect: [(src, dst, port, protocol, allowed)]; every mismatch is listed in one failure."""
    got = analyzer.allowed(policy_dir, [e[:4] for e in expect])
    wrong = [f"{s} -> {d} {proto}/{port}: analyzer says {'allowed' if g else 'denied'}"
             for (s, d, port, proto, want), g in zip(expect, got) if g != want]
    assert not wrong, "\n".join(wrong)


def test_connectivity_matrix(cluster_daemon, tmp_path):
    binary = cyclonus()
    d = cluster_daemon()
    a, b = create(d, "net-a"), create(d, "net-b")
    for s in (a, b):
        assert wait_status(d, s["id"], {"READY", "FAILED"})["status"] == "READY"
    ns_a, ns_b = "store-net-a", "store-net-b"
    pods_a, pods_b = pods_of(ns_a), pods_of(ns_b)
    for pods in (pods_a, pods_b):
        assert {"web", "database"} <= set(pods), pods

    policies = str(tmp_path / "policies")
    exported = export_policies([ns_a, ns_b], policies)
    assert len(exported) == 18, exported

    node = kubectl_json("get", "nodes")["items"][0]
    node_ip = next(x["address"] for x in node["status"]["addresses"] if x["type"] == "InternalIP")
    ingress = Peer("ingress controller", "10.42.200.10", "kube-system", INGRESS_NS, INGRESS_POD)
    dns = Peer("kube-dns", "10.42.200.11", "kube-system", INGRESS_NS, DNS_POD)
    # A pod labelled like the resolver, outside kube-system: DNS is not "any pod called kube-dns".
    fake_dns = Peer("kube-dns look-alike in default", "10.42.200.12", "default",
                    {"kubernetes.io/metadata.name": "default"}, DNS_POD)
    other = Peer("pod in default", "10.42.200.13", "default", {"kubernetes.io/metadata.name": "default"},
                 {"app": "other"})
    metadata = Peer("cloud metadata", METADATA_IP)
    api_service = Peer("API server Service", API_SERVICE_IP)
    node_peer = Peer(f"node {node_ip}", node_ip)
    # kwok's node answers on loopback; a k3s host's node address is on its LAN.
    node_lan = Peer("node at a LAN address", "192.168.1.10")
    internet = Peer("internet", INTERNET_IP)
    # The password Job's pod exists only while it runs: model it with the labels objects.c gives it.
    web_a = pods_a["web"]
    creds_a = Peer(f"{ns_a}/credentials", "10.42.250.2", ns_a, web_a.ns_labels,
                   {**web_a.labels, "app.kubernetes.io/component": "credentials"})
    setup_a = pods_a.get("setup") or Peer(f"{ns_a}/setup", "10.42.250.3", ns_a, web_a.ns_labels,
                                          {**web_a.labels, "app.kubernetes.io/component": "setup"})
    # cert-manager's ACME HTTP-01 solver pod exists only while a certificate is issued: modelled with the
    # label cert-manager gives it, and its port.
    solver_a = Peer(f"{ns_a}/acme-solver", "10.42.250.4", ns_a, web_a.ns_labels,
                    {"acme.cert-manager.io/http01-solver": "true"}, {"http": 8089})
    store_a = [p for c, p in pods_a.items() if c] + [creds_a, solver_a]
    store_b = [p for c, p in pods_b.items() if c]
    web_port, db_port = web_a.ports["http"], pods_a["database"].ports.get("mysql", 3306)
    assert web_port == 8080 and db_port == 3306

    expect = []
    # Store A and store B: nothing, either way, on any port either side serves or we probe.
    for src_pods, dst_pods in ((store_a, store_b), (store_b, store_a)):
        for s in src_pods:
            for t in dst_pods:
                for port in sorted(set(PROBE_PORTS) | set(t.ports.values())):
                    expect.append((s, t, port, "TCP", False))
                expect.append((s, t, 53, "UDP", False))
    # The ingress controller reaches web's http port and nothing else in the store.
    expect.append((ingress, web_a, web_port, "TCP", True))
    # ... and the ACME solver's port (the CA's HTTP-01 request comes through the ingress controller).
    expect.append((ingress, solver_a, 8089, "TCP", True))
    for t in store_a:
        for port in PROBE_PORTS:
            if not (t is web_a and port == web_port):
                expect.append((ingress, t, port, "TCP", False))
    for t in (web_a, pods_a["database"]):
        expect.append((ingress, t, 8089, "TCP", False))
    # Nothing else reaches the solver: not another namespace, not the other store, not the store's own pods.
    for s in (other, internet, pods_b["web"], web_a, pods_a["database"]):
        expect.append((s, solver_a, 8089, "TCP", False))
    # Nobody else outside the store reaches web, and nothing outside reaches the database. (The
    # ingress rule admits the controller's namespaces, not its pods: any pod of kube-system
    # reaches web's http port, so kube-dns is left out of the web half.)
    db_a = pods_a["database"]
    for s in (other, internet, metadata, node_peer, pods_b["web"], pods_b["database"]):
        expect.append((s, web_a, web_port, "TCP", False))
    for s in (other, dns, ingress, internet, metadata, node_peer, pods_b["web"], pods_b["database"]):
        expect.append((s, db_a, db_port, "TCP", False))
    # Inside the store: web, setup and the password Job reach MySQL on 3306 only.
    for s in (web_a, setup_a, creds_a):
        expect.append((s, db_a, db_port, "TCP", True))
        expect.append((s, db_a, 22, "TCP", False))
    # DNS: the cluster resolver, UDP and TCP 53, and only it.
    for s in (web_a, setup_a, creds_a):
        expect += [(s, dns, 53, "UDP", True), (s, dns, 53, "TCP", True), (s, dns, 80, "TCP", False),
                   (s, fake_dns, 53, "UDP", False), (s, other, 53, "UDP", False)]
    # The internet on 80/443 for web and setup; not on 22; not for the password Job.
    for s in (web_a, setup_a):
        expect += [(s, internet, 443, "TCP", True), (s, internet, 80, "TCP", True),
                   (s, internet, 22, "TCP", False), (s, internet, 443, "UDP", False)]
    expect.append((creds_a, internet, 443, "TCP", False))
    # No store pod reaches cloud metadata, the API server or the node, on any port.
    for s in store_a:
        for t in (metadata, api_service, node_peer):
            for port in PROBE_PORTS:
                expect.append((s, t, port, "TCP", False))
    # MySQL talks to no one.
    for t in (internet, dns, web_a, metadata, ingress):
        for port in (53, 80, 443, web_port):
            expect.append((db_a, t, port, "TCP", False))
        expect.append((db_a, t, 53, "UDP", False))

    analyzer = Analyzer(binary, str(tmp_path))
    check(analyzer, policies, expect)
    print(f"{len(expect)} connections checked against {len(exported)} policies; pods of {ns_a}: "
          f"{sorted((c, p.ip) for c, p in pods_a.items() if c)}, node {node_ip}")

    # Negative controls: the analyzer's answers follow the policies the agent applied. Without
    # store A's default-deny egress MySQL gets out; without its internet rule web does not; without its
    # solver rule the ACME challenge does not reach cert-manager's solver.
    for dropped, (src, dst, port), want in (("default-deny-egress", (db_a, internet, 443), True),
                                            ("allow-egress-to-internet", (web_a, internet, 443), False),
                                            ("allow-ingress-controller-to-acme-solver", (ingress, solver_a, 8089),
                                             False)):
        mutated = str(tmp_path / f"without-{dropped}")
        shutil.copytree(policies, mutated)
        os.remove(os.path.join(mutated, f"{ns_a}_{dropped}.json"))
        assert analyzer.allowed(mutated, [(src, dst, port, "TCP")]) == [want], dropped
