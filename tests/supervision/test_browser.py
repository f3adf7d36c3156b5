"""The HTML report in headless Chromium (Debian's `chromium`, installed by `make test`):
it loads with no console error and no request, its charts are there, their labels carry
the report's numbers, and a screenshot is kept for the record."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ledger.home import Home
from ledger.money import format_bps, format_fen
from tests.supervision.browser import chromium, open_page
from tests.supervision.scenario import Facts

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "bench-results" / "report-screenshot.png"
LABELS = """JSON.stringify(Array.from(document.querySelectorAll('svg[data-chart] text.label'))
  .map(t => ({chart: t.closest('svg').dataset.chart, key: t.dataset.key,
              fen: t.dataset.fen === undefined ? null : Number(t.dataset.fen),
              bps: t.dataset.bps === undefined ? null : Number(t.dataset.bps),
              count: t.dataset.count === undefined ? null : Number(t.dataset.count),
              text: t.textContent})))"""

pytestmark = pytest.mark.skipif(
    chromium() is None and not os.environ.get("LIANDAI_REQUIRE_TOOLS"),
    reason="chromium missing: run `make test`, which installs it",
)


def v(fig: dict[str, Any]) -> int:
    return int(fig["value"])


@pytest.fixture(scope="module")
def page_labels(
    scenario: tuple[Home, Facts], doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[str], list[str], list[dict[str, Any]], dict[str, Any]]:
    """Load the page once: (problems, requests, chart labels, figures of the page)."""
    import contextlib
    import io
    import json

    from cli.main import main

    home, facts = scenario
    page_file = tmp_path_factory.mktemp("html") / "report.html"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(
            [
                "--home",
                str(home.root),
                "report",
                "--html",
                str(page_file),
                "--loan",
                str(facts.loan["L1"]),
            ]
        )
    assert code == 0
    with open_page(page_file.as_uri()) as page:
        labels = json.loads(page.evaluate(LABELS))
        charts = page.evaluate(
            "Array.from(document.querySelectorAll('svg[data-chart]')).map(s => s.dataset.chart)"
        )
        page.screenshot(SCREENSHOT)
        print(f"report screenshot: {SCREENSHOT}")
        return page.problems(), page.requests(), labels, {"charts": charts}


def of(labels: list[dict[str, Any]], chart: str) -> dict[str, dict[str, Any]]:
    return {label["key"]: label for label in labels if label["chart"] == chart}


def test_the_page_loads_with_no_console_error_and_no_request(page_labels: Any) -> None:
    problems, requests, _, page = page_labels
    assert problems == []
    assert [u for u in requests if not u.startswith(("file:", "data:", "about:"))] == []
    assert page["charts"] == ["waterfall", "history", "overdue", "borrowers", "debtors", "funding"]
    assert SCREENSHOT.stat().st_size > 10_000


def test_the_waterfall_labels_carry_where_each_part_of_the_receipts_went(
    page_labels: Any, doc: dict[str, Any]
) -> None:
    labels = of(page_labels[2], "waterfall")
    total = doc["waterfall"]["total"]
    expected = {
        "receipts": v(total["amount_fen"]),
        "fee": v(total["fee_fen"]),
        "provision": v(total["provision_fen"]),
        "t1-interest": v(total["interest_fen"][0]),
        "t1-principal": 56_000_000,
        "t2-interest": v(total["interest_fen"][1]),
        "t2-principal": 24_000_000,
        "residual": v(total["residual_fen"]),
    }
    assert {k: label["fen"] for k, label in labels.items()} == expected
    assert expected["receipts"] == 85_000_000
    for key, fen in expected.items():
        assert labels[key]["text"] == format_fen(fen)


def test_the_book_over_time_labels_carry_each_points_total(
    page_labels: Any, doc: dict[str, Any]
) -> None:
    labels = of(page_labels[2], "history")
    points = doc["ledger"]["history"]["points"]
    assert len(labels) == len(points) == 12
    for i, p in enumerate(points):
        total = sum(v(p[k]) for k in p if k.endswith("_fen"))
        assert labels[f"point-{i}"]["fen"] == total
        assert labels[f"point-{i}"]["text"] == format_fen(total)
    assert labels["point-11"]["text"] == "¥2,279,600.00"


def test_the_overdue_bucket_labels(page_labels: Any) -> None:
    labels = of(page_labels[2], "overdue")
    assert {k: (x["fen"], x["count"], x["text"]) for k, x in labels.items()} == {
        "1-30": (0, 0, "¥0.00 (0 loans)"),
        "31-90": (60_000_000, 1, "¥600,000.00 (1 loan)"),
        "90+": (52_960_000, 1, "¥529,600.00 (1 loan)"),
    }


def test_the_concentration_labels_carry_exposures_and_shares(page_labels: Any) -> None:
    labels = page_labels[2]
    borrowers = {k: (x["fen"], x["bps"]) for k, x in of(labels, "borrowers").items()}
    assert borrowers == {
        "supplier1": (85_000_000, 3729),
        "supplier3": (82_960_000, 3639),
        "supplier2": (60_000_000, 2632),
    }
    for label in of(labels, "borrowers").values():
        assert label["text"] == f"{format_fen(label['fen'])} · {format_bps(label['bps'])}"
    assert of(labels, "borrowers")["supplier1"]["text"] == "¥850,000.00 · 37.29%"
    debtors = {k: (x["fen"], x["bps"]) for k, x in of(labels, "debtors").items()}
    assert debtors == {"core": (197_960_000, 8684), "core2": (30_000_000, 1316)}
    funding = {k: (x["fen"], x["bps"]) for k, x in of(labels, "funding").items()}
    assert funding == {"microloan": (189_000_000, 6000), "bank": (126_000_000, 4000)}
