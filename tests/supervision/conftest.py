"""The hand-built scenario, built once per test process and shared read-only; tests that
change the ledger work on their own copy (`scenario_copy`)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from ledger.home import Home
from tests.supervision.scenario import Facts, build


@pytest.fixture(scope="session")
def scenario(template_home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, Facts]:
    root = tmp_path_factory.mktemp("scenario") / "home"
    shutil.copytree(template_home, root)
    home = Home.at(root)
    return home, build(home)


@pytest.fixture
def scenario_copy(scenario: tuple[Home, Facts], tmp_path: Path) -> tuple[Home, Facts]:
    home, facts = scenario
    root = tmp_path / "home"
    shutil.copytree(home.root, root)
    return Home.at(root), facts


def cli_json(home: Home, *args: str) -> Any:
    """Run the CLI in-process and parse its JSON (for session-scoped fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--home", str(home.root), *args, "--json"])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


@pytest.fixture(scope="session")
def doc(scenario: tuple[Home, Facts]) -> dict[str, Any]:
    """`liandai report --json` at the scenario's end, charting loan L1's waterfall."""
    home, facts = scenario
    return dict(cli_json(home, "report", "--loan", str(facts.loan["L1"])))
