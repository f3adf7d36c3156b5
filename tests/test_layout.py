"""The layout rule of the packages (`tools/layout_check.py`), checked over the real imports."""

from __future__ import annotations

from tools import layout_check


def test_ledger_and_cli_have_no_import_circle_upward_import_or_crowded_folder() -> None:
    assert layout_check.findings() == []


def test_the_check_finds_a_circle_and_an_upward_import() -> None:
    edges = {
        "ledger.engine.a": {"ledger.engine.b", "ledger.supervision.figures"},
        "ledger.engine.b": {"ledger.engine.a"},
        "ledger.supervision.figures": set(),
    }
    assert layout_check.circles(edges) == [["ledger.engine.a", "ledger.engine.b"]]
    assert layout_check.upward_imports(edges) == [
        "upward import: ledger.engine.a (floor 3) imports ledger.supervision.figures (floor 5)"
    ]
