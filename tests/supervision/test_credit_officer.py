"""What a credit officer reads: open loans worst first with days past due and collateral
against outstanding, the waterfall of the worst loan by default, pending receivables, the
policy in percent, a cascade whose fee and provision show."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ledger.engine.client import Ledger
from ledger.home import Home
from ledger.money import format_fen
from ledger.supervision.html import MIN_BAR
from tests.supervision.conftest import cli_json
from tests.supervision.scenario import DAY, Facts

Scenario = tuple[Home, Facts]


def v(fig: dict[str, Any]) -> int:
    return int(fig["value"])


def test_the_open_loans_are_listed_worst_first_with_their_collateral(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    home, _ = scenario
    rows = doc["ledger"]["loans"]
    listed = {x["id"]: x for x in cli_json(home, "loan", "list")}
    open_ids = {i for i, x in listed.items() if x["status"] not in ("REPAID", "CANCELLED")}
    assert [r["id"] for r in rows] and {r["id"] for r in rows} == open_ids
    with Ledger.open(home) as ledger:
        for r in rows:
            loan = listed[r["id"]]
            assert r["status"] == loan["status"]
            assert v(r["outstanding_fen"]) == loan["outstanding_fen"]
            assert v(r["principal_fen"]) == loan["principal_fen"]
            unpaid = sum(
                ledger.receivables.get(rid).face_value_fen - ledger.receivables.get(rid).paid_fen
                for rid in loan["receivables"]
                if ledger.receivables.get(rid).status not in ("SPLIT", "REJECTED", "CANCELLED")
            )
            assert v(r["collateral_fen"]) == unpaid
            cover = r["collateral_cover"]
            assert cover["fraction"] == (
                None if not loan["outstanding_fen"] else f"{unpaid}/{loan['outstanding_fen']}"
            )
            late = loan["status"] in ("DISBURSED", "DEFAULTED") and doc["as_of_at"] > (
                loan["maturity_at"] or doc["as_of_at"]
            )
            assert (v(r["days_past_due"]) > 0) == late
            if late:
                # any part of a day counts as a day
                assert v(r["days_past_due"]) == -(-(doc["as_of_at"] - loan["maturity_at"]) // DAY)
    keys = [
        (r["status"] != "DEFAULTED", -v(r["days_past_due"]), -v(r["outstanding_fen"]), r["id"])
        for r in rows
    ]
    assert keys == sorted(keys)
    assert rows[0]["status"] == "DEFAULTED"


def test_without_loan_the_waterfall_is_the_worst_loan_with_receipts(scenario: Scenario) -> None:
    home, _ = scenario
    doc = cli_json(home, "report")
    w = doc["waterfall"]
    rows = {r["id"]: r for r in doc["ledger"]["loans"]}
    with Ledger.open(home) as ledger:
        with_receipts = [r for r in doc["ledger"]["loans"] if ledger.loans.settlements(r["id"])]
    worst = with_receipts[0]  # the table is worst first
    assert w["loan"] == worst["id"] and w["loan"] in rows and w["receipts"]


def test_the_page_shows_loans_pending_receivables_policy_in_percent_and_a_cascade(
    run,  # type: ignore[no-untyped-def]
    scenario: Scenario,
    tmp_path: Path,
) -> None:
    home, facts = scenario
    page = tmp_path / "report.html"
    assert run(home, "report", "--html", str(page), "--loan", str(facts.loan["L3"])).code == 0
    html = page.read_text(encoding="utf-8")
    doc = cli_json(home, "report", "--loan", str(facts.loan["L3"]))  # fee and provision
    assert "<h3>Open loans, worst first</h3>" in html
    for r in doc["ledger"]["loans"]:
        assert re.search(rf"<td[^>]*>#{r['id']}</td>", html)
        assert format_fen(v(r["collateral_fen"])) in html
    rec = doc["ledger"]["receivables"]
    assert f"pending: issued, not yet accepted ({v(rec['pending_count'])})" in html
    assert not re.search(r"max_apr_bps</a></td><td class=\"n\">\d+</td>", html)
    assert re.search(r"max_apr_bps</a></td><td class=\"n\">20\.00%</td>", html)
    assert re.search(r"default_days</a></td><td class=\"n\">90 days</td>", html)
    svg = html[
        html.index('data-chart="waterfall"') : html.index(
            "</svg>", html.index('data-chart="waterfall"')
        )
    ]
    assert (
        svg.count('stroke-dasharray="3 3"') == len(re.findall(r"<rect ", svg)) - 1
    )  # a connector between each step
    total = doc["waterfall"]["total"]
    for part in ("fee", "provision"):
        fen = v(total[f"{part}_fen"])
        assert fen > 0
        label = "tech fee" if part == "fee" else "provision"
        height = re.search(
            rf'height="([\d.]+)" fill="[^"]+"><title>{label}: {re.escape(format_fen(fen))}</title>',
            svg,
        )
        assert height is not None and float(height.group(1)) >= MIN_BAR
