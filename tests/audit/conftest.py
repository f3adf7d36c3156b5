"""Fixtures for the audit tests: the demo's story on a seeded home (a loan, a split
receivable, settlements, a published checkpoint), its exported bundle and loan evidence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledger.audit.bundle import export
from ledger.demo import run_demo
from ledger.engine.client import Ledger
from ledger.home import Home

LOAN = 1


@pytest.fixture(scope="session")
def story_template(template_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("story") / "home"
    shutil.copytree(template_home, root)
    run_demo(Home.at(root), lambda _: None).close()
    return root


@pytest.fixture
def story(story_template: Path, tmp_path: Path) -> Home:
    """A home of this test's own where the whole story has happened."""
    root = tmp_path / "story"
    shutil.copytree(story_template, root)
    return Home.at(root)


@pytest.fixture(scope="session")
def story_bundle(story_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story's trail, exported (do not modify: copy it)."""
    path = tmp_path_factory.mktemp("bundle") / "trail.jsonl"
    home = tmp_path_factory.mktemp("bundle-home") / "home"
    shutil.copytree(story_template, home)
    with Ledger.open(Home.at(home)) as ledger:
        export(ledger, path)
    return path


@pytest.fixture(scope="session")
def story_evidence(story_template: Path) -> Path:
    """The demo's evidence bundle for its loan (do not modify: copy it)."""
    return story_template / f"evidence-loan-{LOAN}.jsonl"
