# SPDX-License-Identifier: Apache-2.0
"""contrib/rbac/install --rotate: a new token for the agent's ServiceAccount, written over the old
kubeconfig in one rename, with the file's mode kept."""

import os
import stat
import subprocess

from conftest import REPO, env, kubectl

INSTALL = os.path.join(REPO, "contrib", "rbac", "install")


def install(*args):
    return subprocess.run([INSTALL, "--kubeconfig", env()["KUBECONFIG"], *args], capture_output=True, text=True,
                          env=dict(os.environ, KUBECTL=env()["KUBECTL"]), timeout=300)


def token_of(path):
    return [line.split(":", 1)[1].strip() for line in open(path) if line.strip().startswith("token:")]


def test_rotate_replaces_the_token_in_place(tmp_path):
    out = tmp_path / "agent.kubeconfig"
    p = install("--output", str(out))
    assert p.returncode == 0, p.stderr
    os.chmod(out, 0o640)
    before, inode = token_of(out), os.stat(out).st_ino
    assert len(before) == 1

    p = install("--rotate", "--output", str(out), "--duration", "2h")
    assert p.returncode == 0, p.stderr
    after = token_of(out)
    assert len(after) == 1 and after != before
    st = os.stat(out)
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert st.st_ino != inode  # replaced by a rename, not rewritten in place
    assert [f for f in os.listdir(tmp_path) if f.startswith("agent.kubeconfig.")] == []
    who = kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}", kubeconfig=str(out))
    assert who.stdout == "system:serviceaccount:storeagent:storeagent"


def test_rotate_needs_a_kubeconfig_to_rotate(tmp_path):
    p = install("--rotate", "--output", str(tmp_path / "missing"))
    assert p.returncode != 0 and "run without --rotate first" in p.stderr
