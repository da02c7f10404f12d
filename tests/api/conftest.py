# SPDX-License-Identifier: Apache-2.0
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from daemon import Daemon  # noqa: E402


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

    yield make
    for d in started:
        try:
            d.stop()
        except AssertionError as e:
            print(e)


@pytest.fixture
def daemon(daemon_factory):
    return daemon_factory()
