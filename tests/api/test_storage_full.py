# SPDX-License-Identifier: Apache-2.0
"""A full disk under the database, for real: a small tmpfs holds the daemon's SQLite file and is filled up.

The user must see 507 storage_full (not a queue limit to retry in a second), nothing half-created may
appear, the daemon's log must name the database that could not grow, and once space is freed the same
request goes through.
"""

import errno
import os
import subprocess

import pytest

STORES = "/api/v1/stores"


def error_of(r):
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"], body
    return body["error"]["code"]


def fill(directory):
    """Takes every free byte of the file system holding directory; returns the file that holds them."""
    path = os.path.join(directory, "filler")
    st = os.statvfs(directory)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        if st.f_bavail:
            try:
                os.posix_fallocate(fd, 0, st.f_bavail * st.f_frsize)
            except OSError as e:
                # The daemon wrote (its log, the WAL) since statvfs(): the loop below takes the rest.
                if e.errno != errno.ENOSPC:
                    raise
        # Whatever fallocate left (rounding, metadata) goes one page at a time.
        os.lseek(fd, 0, os.SEEK_END)
        while True:
            try:
                os.write(fd, b"\0" * 4096)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
                break
        try:
            os.write(fd, b"\0")
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)
    assert os.statvfs(directory).f_bavail == 0
    return path


def names(d):
    r = d.request("GET", STORES + "?limit=500")
    assert r.status == 200, r
    return sorted(s["name"] for s in r.json()["items"])


@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs this as root)")
    mnt = tmp_path / "full"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "storeagent-test-full", str(mnt)],
                   check=True)
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", "--lazy", str(mnt)], check=True)


def test_create_on_full_disk_is_507_and_changes_nothing(daemon_factory, small_tmpfs):
    db_path = os.path.join(small_tmpfs, "storeagent.db")
    d = daemon_factory(config={"database": db_path})
    try:
        r = d.request("POST", STORES, {"name": "before-full", "engine": "woocommerce"})
        assert r.status == 202, r
        before = names(d)

        filler = fill(small_tmpfs)

        # SQLite may still have room inside files it already holds (a write-ahead log it reuses after a
        # checkpoint, free pages): a few creates can fit before one needs the disk to grow. The first
        # that needs it is refused; a bounded number of tries finds it.
        accepted = []
        for i in range(40):
            r = d.request("POST", STORES, {"name": f"fill-{i}", "engine": "woocommerce"})
            if r.status != 202:
                break
            accepted.append(f"fill-{i}")
        assert r.status == 507, r
        assert error_of(r) == "storage_full"
        assert r.header("Retry-After") is None, "a full disk is not a limit that clears in a second"
        refused = f"fill-{len(accepted)}"

        # Nothing of the refused create is visible: not in the list, not by name.
        assert names(d) == sorted(before + accepted)
        assert refused not in names(d)

        # The log says which database could not grow, once, as an error.
        full = [rec for rec in d.log_records()
                if rec.get("level") == "error" and rec.get("database") == db_path]
        assert len(full) == 1, d.logs()[-4000:]
        assert db_path in full[0]["message"]

        # Space back: the same request goes through.
        os.unlink(filler)
        r = d.request("POST", STORES, {"name": "on-full-disk", "engine": "woocommerce"})
        assert r.status == 202, r
        assert names(d) == sorted(before + accepted + ["on-full-disk"])
    finally:
        # The daemon holds the database open; it must be gone before the tmpfs is unmounted.
        d.stop()
