# SPDX-License-Identifier: Apache-2.0
"""Rewrites the status inside a Helm release record, the state a helm killed mid-operation leaves.

Helm keeps each revision in a Secret (sh.helm.release.v1.<name>.v<rev>): data.release is
base64(gzip(JSON)) and the "status" label mirrors info.status. A helm process killed with
SIGKILL after writing its pending record leaves exactly such a record behind; the tests use
this to produce that state deterministically (a real kill races helm on a fast control plane).

    python3 helm_release.py KUBECTL KUBECONFIG NAMESPACE RELEASE STATUS
"""

import base64
import gzip
import json
import subprocess
import sys


def set_status(kubectl, kubeconfig, ns, release, status):
    k = [kubectl, "--kubeconfig", kubeconfig, "-n", ns]
    secrets = json.loads(subprocess.run(k + ["get", "secrets", "-l", f"owner=helm,name={release}", "-o", "json"],
                                        check=True, capture_output=True, text=True).stdout)["items"]
    newest = max(secrets, key=lambda s: int(s["metadata"]["labels"]["version"]))
    raw = base64.b64decode(base64.b64decode(newest["data"]["release"]))
    rel = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    rel["info"]["status"] = status
    packed = base64.b64encode(gzip.compress(json.dumps(rel).encode())).decode()
    patch = {"metadata": {"labels": {"status": status}},
             "data": {"release": base64.b64encode(packed.encode()).decode()}}
    subprocess.run(k + ["patch", "secret", newest["metadata"]["name"], "--type=merge", "-p", json.dumps(patch)],
                   check=True, capture_output=True)


if __name__ == "__main__":
    set_status(*sys.argv[1:6])
