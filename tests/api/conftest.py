# SPDX-License-Identifier: Apache-2.0
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import daemon as daemon_module  # noqa: E402
from daemon import Daemon  # noqa: E402


@pytest.fixture(autouse=True)
def daemons_exit_cleanly():
    """Each daemon a test started must still be able to stop cleanly at its end (or have been
    stopped cleanly by the test): a crash or a hang on SIGTERM is an error of that test."""
    since = len(daemon_module.INSTANCES)
    yield
    daemon_module.check_daemons_exit_cleanly(since)


@pytest.fixture
def daemon_factory(tmp_path):
    started = []

    def make(config=None, token=True, start=True, **kw):
        d = Daemon(config=config, workdir=str(tmp_path / f"d{len(started)}"), **kw)
        os.makedirs(d.dir, exist_ok=True)
        if token:
            d.token = d.create_token()
        if start:
            d.start()
        started.append(d)
        return d

    yield make  # daemons_exit_cleanly stops them and checks how they ended


@pytest.fixture
def daemon(daemon_factory):
    return daemon_factory()
