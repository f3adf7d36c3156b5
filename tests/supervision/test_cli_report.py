"""`liandai report` at the command line: its options, one-line errors, the text view, the
HTML file; and the regulator's operations (policy, suspension, net assets) as the report
sees them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger.home import Home
from ledger.supervision.figures import definitions
from tests.supervision.conftest import cli_json
from tests.supervision.scenario import Facts

Scenario = tuple[Home, Facts]


def v(fig: dict[str, Any]) -> int:
    return int(fig["value"])


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["--json", "--html", "x.html"], 2, "not both"),
        (["--as-of", "2027-02-30"], 2, "does not exist"),
        (["--as-of", "yesterday"], 2, "is not YYYY-MM-DD"),
        (["--lender", "core"], 2, "not a lender"),
        (["--lender", "nobody"], 2, "no local account named 'nobody'"),
        (["--loan", "99"], 2, "no loan #99"),
        (["--coverage-threshold", "lots"], 2, "is not a rate"),
        (["--html", "/nonexistent/dir/report.html"], 1, "cannot write"),
    ],
)
def test_bad_options_are_one_line_errors(  # type: ignore[no-untyped-def]
    run, scenario: Scenario, args: list[str], code: int, phrase: str
) -> None:
    home, _ = scenario
    r = run(home, "report", *args)
    assert r.code == code, r.err
    assert phrase in r.err and r.err.count("\n") == 1 and r.out == ""


def test_watch_refuses_a_zero_interval(run, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    r = run(scenario[0], "watch", "--interval", "0")
    assert r.code == 2 and r.err.count("\n") == 1


def test_the_text_view_shows_each_scope_the_pool_and_the_alerts(run, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    home, _ = scenario
    r = run(home, "report")
    assert r.code == 0, r.err
    for phrase in (
        "whole ledger",
        "lender bank",
        "lender microloan",
        "2,279,600.00",
        "23.23%",
        "coverage ratio",
        "1.89%",
        "early warnings (9)",
        "collections_lagging",
    ):
        assert phrase in r.out, phrase


def test_the_html_page_is_self_contained_and_lists_every_definition(  # type: ignore[no-untyped-def]
    run, scenario: Scenario, tmp_path: Path
) -> None:
    home, facts = scenario
    page = tmp_path / "report.html"
    r = run(home, "report", "--html", str(page), "--loan", str(facts.loan["L1"]))
    assert r.code == 0 and str(page) in r.out and "9 alert(s)" in r.out
    html = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for needle in ("<script", "http://", "https://", "src=", "@import", "url("):
        assert needle not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), needle
    for chart in ("waterfall", "history", "overdue", "borrowers", "debtors", "funding"):
        assert f'data-chart="{chart}"' in html
    for key in definitions()["figures"]:
        assert f'id="def-{key}"' in html
    for rule in definitions()["alerts"]:
        assert f'id="def-alert-{rule}"' in html


def test_a_lenders_html_page_charts_its_own_book(  # type: ignore[no-untyped-def]
    run, scenario: Scenario, tmp_path: Path
) -> None:
    home, _ = scenario
    page = tmp_path / "bank.html"
    assert run(home, "report", "--lender", "bank", "--html", str(page)).code == 0
    html = page.read_text(encoding="utf-8")
    assert "Lender bank" in html and 'data-chart="funding"' not in html
    assert 'data-key="90+" data-fen="32960000" data-count="1"' in html


def test_regulator_operations_reach_the_report(run, scenario_copy: Scenario) -> None:  # type: ignore[no-untyped-def]
    home, _ = scenario_copy

    def ok(*args: str) -> None:
        r = run(home, *args)
        assert r.code == 0, (args, r.err)

    # policy: only the regulator, and every change is in the report with who made it
    r = run(home, "--as", "bank", "policy", "set", "max_single_borrower_bps", "5%")
    assert r.code == 1 and "MissingRole" in r.err
    ok("--as", "regulator", "policy", "set", "max_single_borrower_bps", "5%")
    doc = cli_json(home, "report")
    sup = doc["ledger"]["supervision"]
    assert v(sup["policy"]["max_single_borrower_bps"]) == 500
    changes = [
        (c["name"], v(c["old"]), v(c["new"]), c["by"]["name"]) for c in sup["policy_changes"]
    ]
    assert changes == [
        ("claim_days", 30, 5, "regulator"),
        ("max_apr_bps", 2400, 2000, "regulator"),
        ("max_single_borrower_bps", 1000, 500, "regulator"),
    ]
    # microloan's limit is now 500,000: supplier1 (850,000) and supplier3 (500,000) above 80%
    exposure = {
        a["subject"]["borrower"]["name"]: a["numbers"]["used_bps"]
        for a in doc["alerts"]
        if a["rule"] == "exposure_near_limit"
    }
    assert exposure == {"supplier1": 17_000, "supplier3": 10_000}

    # net assets: the regulator registers more, the concentration rule follows
    ok("--as", "regulator", "member", "set-net-assets", "microloan", "100,000,000")
    doc = cli_json(home, "report")
    assert not [a for a in doc["alerts"] if a["rule"] == "exposure_near_limit"]
    micro = next(s for s in doc["lenders"] if s["lender"]["name"] == "microloan")
    s1 = next(
        b for b in micro["concentration"]["borrowers"] if b["borrower"]["name"] == "supplier1"
    )
    assert v(s1["limit_fen"]) == 500_000_000 and s1["limit_used"]["bps"] == 1700
    assert s1["share_of_net_assets"]["fraction"] == "85000000/10000000000"

    # suspension and reinstatement
    ok("--as", "regulator", "member", "suspend", "supplier1")
    ok("--as", "regulator", "member", "reinstate", "core2")
    suspended = cli_json(home, "report")["ledger"]["supervision"]["suspended"]
    assert [(s["member"]["name"], s["by"]["name"]) for s in suspended] == [
        ("supplier1", "regulator")
    ]

    # a lender admitted with its net assets appears with them, before it lends anything
    newbank = "0x" + "5a" * 20
    ok("member", "add", newbank, "--role", "LENDER", "--net-assets", "20,000,000")
    doc = cli_json(home, "report")
    funding = {f["lender"]["address"].lower(): f for f in doc["ledger"]["concentration"]["funding"]}
    assert v(funding[newbank]["net_assets_fen"]) == 2_000_000_000
    assert v(funding[newbank]["funded_fen"]) == 0
    section = next(s for s in doc["lenders"] if s["lender"]["address"].lower() == newbank)
    assert v(section["loan_book"]["count"]) == 0
    assert v(doc["ledger"]["supervision"]["member_count"]) == 14


def test_an_index_of_the_previous_schema_is_rebuilt(scenario_copy: Scenario) -> None:
    home, _ = scenario_copy
    before = cli_json(home, "report")
    (path,) = (home.root / "index").glob("*.sqlite")
    path.unlink()
    db = sqlite3.connect(path)  # what schema 1 left: its own tables, user_version 0
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE receivables (id INTEGER PRIMARY KEY, root INTEGER NOT NULL);"
        "INSERT INTO meta VALUES ('identity', '1:x'), ('last_block', '5');"
    )
    db.commit()
    db.close()
    assert cli_json(home, "report") == before
    assert json.dumps(cli_json(home, "receivable", "list"))


def test_a_ledger_without_loans_reports_zeros_and_undefined_ratios(  # type: ignore[no-untyped-def]
    run, home: Home, tmp_path: Path
) -> None:
    doc = cli_json(home, "report")
    book = doc["ledger"]["loan_book"]
    assert v(book["count"]) == 0 and v(book["outstanding_fen"]) == 0
    assert book["npl_ratio"] == {"def": "loan_book.npl_ratio", "bps": None, "fraction": None}
    assert doc["waterfall"] is None and doc["alerts"] == []
    assert sorted(s["lender"]["name"] for s in doc["lenders"]) == ["bank", "microloan"]
    page = tmp_path / "empty.html"
    assert run(home, "report", "--html", str(page)).code == 0
    assert "no loan with receipts to chart" in page.read_text(encoding="utf-8")
