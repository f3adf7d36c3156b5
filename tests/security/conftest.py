"""Fixtures of the security suite: a seeded deployment on a real node (anvil)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.engine.client import Ledger
from ledger.engine.setup import initialise
from ledger.home import Home
from tests.conftest import seed
from tests.security.report import (  # noqa: F401  (hooks, see report.py)
    pytest_configure_node,
    pytest_sessionfinish,
    pytest_terminal_summary,
)
from tests.security.support import Deployed, anvil_node


@pytest.fixture(scope="session")
def deployed() -> Iterator[Deployed]:
    """The suite deployed on anvil with the seeded consortium (one per xdist worker).

    Tests that change it snapshot and revert around themselves.
    """
    with anvil_node() as url, tempfile.TemporaryDirectory(prefix="liandai-sec-") as tmp:
        home = Home.at(Path(tmp) / "home")
        initialise(home, rpc=url, dev=True)
        ledger = Ledger.open(home, rpc=url)
        ledger.simulate = False
        seed(ledger)
        world = Deployed(home, url, ledger)
        yield world
        world.ledger.close()
