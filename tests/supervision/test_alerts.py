"""Early-warning rules on the hand-built scenario: each names the rule, the subject and the
numbers; thresholds move them; a lender sees its own; refused duplicates are counted from
the home's record and from the chain."""

from __future__ import annotations

import json
from typing import Any

from ledger.engine.attempts import REFUSED_FILE, read_refused
from ledger.home import Home
from tests.supervision.conftest import cli_json
from tests.supervision.scenario import Facts
from tests.supervision.scenario import doc as document

Scenario = tuple[Home, Facts]
DAY = 86_400


def by_rule(alerts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        out.setdefault(a["rule"], []).append(a)
    return out


def test_the_scenario_raises_each_rule_with_its_numbers(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    alerts = by_rule(doc["alerts"])
    assert {k: len(v) for k, v in alerts.items()} == {
        "receivable_overdue": 1,
        "loan_overdue": 2,
        "exposure_near_limit": 1,
        "provision_coverage_low": 1,
        "collections_lagging": 1,
        "duplicate_document": 2,
        "cover_breached": 1,
    }
    for a in doc["alerts"]:
        assert a["message"] and "\n" not in a["message"]

    (r,) = alerts["receivable_overdue"]
    assert r["subject"]["id"] == facts.r["R3"] and r["subject"]["pledged_to"] == facts.loan["L5"]
    assert r["subject"]["debtor"]["address"] == facts.addr("core2")
    assert r["numbers"]["unpaid_fen"] == 50_000_000 and r["numbers"]["days_past_due"] == 110

    loans = {a["subject"]["id"]: a["numbers"] for a in alerts["loan_overdue"]}
    assert {
        k: (n["days_past_due"], n["bucket"], n["outstanding_fen"], n["status"])
        for k, n in loans.items()
    } == {
        facts.loan["L4"]: (110, "90+", 52_960_000, "DEFAULTED"),
        facts.loan["L3"]: (70, "31-90", 60_000_000, "DISBURSED"),
    }

    (x,) = alerts["exposure_near_limit"]
    assert x["subject"]["lender"]["address"] == facts.addr("microloan")
    assert x["subject"]["borrower"]["address"] == facts.addr("supplier1")
    assert x["numbers"] == {
        "exposure_fen": 85_000_000,
        "limit_fen": 100_000_000,
        "used_bps": 8500,
        "warning_bps": 8000,
        "net_assets_fen": 1_000_000_000,
        "max_single_borrower_bps": 1000,
    }
    assert "85.00% of its limit ¥1,000,000.00" in x["message"]

    (c,) = alerts["provision_coverage_low"]
    assert c["numbers"] == {
        "balance_fen": 1_000_000,
        "npl_fen": 52_960_000,
        "coverage_bps": 189,
        "threshold_bps": 15_000,
    }

    (lag,) = alerts["collections_lagging"]
    assert lag["subject"]["id"] == facts.loan["L5"]
    assert lag["numbers"]["expected_fen"] == 30_000_000  # R3's 500k due, capped at 300k
    assert lag["numbers"]["collected_fen"] == 0
    assert lag["numbers"]["shortfall_fen"] == 30_000_000
    assert lag["numbers"]["matured_receivables"] == [facts.r["R3"]]

    # L4's guarantee: 40% of the 600,000 outstanding at the default, capped at 100,000, due
    # claim_days (5) after the default, nothing paid, marked breached on day 130
    (b,) = alerts["cover_breached"]
    assert b["subject"] == {
        "kind": "cover",
        "loan": facts.loan["L4"],
        "layer": 1,
        "provider": {"address": facts.addr("guarantor"), "name": "guarantor"},
    }
    due = facts.at["defaulted"] + 5 * DAY
    assert b["numbers"] == {
        "unpaid_fen": 10_000_000,
        "owed_fen": 10_000_000,
        "paid_fen": 0,
        "due_at": due,
        "breached_at": facts.at["breached"],
        "days_past_due": -(-(facts.as_of - due) // DAY),
    }
    assert b["numbers"]["days_past_due"] == 14
    assert "GUARANTEE by guarantor) breached: ¥100,000.00 of ¥100,000.00 unpaid" in b["message"]


def test_duplicate_documents_refused_before_sending_and_mined_and_reverted(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    first, second = by_rule(doc["alerts"])["duplicate_document"]
    assert first["subject"]["doc_hash"] == "0x" + document(1).hex()
    assert first["numbers"]["existing_receivable"] == facts.r["R1"]
    assert first["numbers"]["source"] == "home" and first["numbers"]["tx"] is None
    assert first["numbers"]["by"]["address"] == facts.addr("core")
    assert first["numbers"]["supplier"]["address"] == facts.addr("supplier2")
    assert first["numbers"]["value_fen"] == 100_000
    assert first["numbers"]["attempted_at"] == facts.at["refused"]
    # the mined one: found on chain, and recorded by the client that tried: counted once
    assert second["subject"]["doc_hash"] == "0x" + document(3).hex()
    assert second["numbers"]["existing_receivable"] == facts.r["R3"]
    assert second["numbers"]["source"] == "chain+home"
    assert second["numbers"]["tx"] == facts.reverted_tx
    assert second["numbers"]["attempted_at"] == facts.at["reverted"]
    assert "refused before sending" in first["message"]
    assert "mined and reverted" in second["message"]


def test_the_home_records_each_refused_duplicate_on_one_json_line(scenario: Scenario) -> None:
    home, facts = scenario
    lines = (home.root / REFUSED_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert records == read_refused(home, "embedded", 19524)
    assert read_refused(home, "chain-31337", 31337) == []
    assert records[0]["tx"] is None and records[1]["tx"] == facts.reverted_tx
    assert {r["doc_hash"] for r in records} == {"0x" + document(1).hex(), "0x" + document(3).hex()}
    for r in records:
        assert set(r) == {
            "at",
            "network",
            "chain_id",
            "by",
            "supplier",
            "value_fen",
            "maturity_at",
            "doc_hash",
            "existing",
            "tx",
        }


def test_without_the_homes_record_only_the_mined_attempt_is_seen(scenario_copy: Scenario) -> None:
    home, facts = scenario_copy
    (home.root / REFUSED_FILE).unlink()
    dupes = by_rule(cli_json(home, "report")["alerts"])["duplicate_document"]
    assert [(d["numbers"]["source"], d["numbers"]["tx"]) for d in dupes] == [
        ("chain", facts.reverted_tx)
    ]


def test_thresholds_move_the_coverage_and_exposure_alerts(scenario: Scenario) -> None:
    home, _ = scenario
    relaxed = cli_json(home, "report", "--coverage-threshold", "1.88%", "--exposure-warning", "85%")
    rules = by_rule(relaxed["alerts"])
    assert "provision_coverage_low" not in rules  # 1.888…% is not below 1.88%
    assert "exposure_near_limit" not in rules  # 85% exactly is not above 85%
    strict = cli_json(home, "report", "--coverage-threshold", "1.89%", "--exposure-warning", "84%")
    rules = by_rule(strict["alerts"])
    assert rules["provision_coverage_low"][0]["numbers"]["threshold_bps"] == 189
    assert rules["exposure_near_limit"][0]["numbers"]["warning_bps"] == 8400
    assert strict["thresholds"] == {"coverage_threshold_bps": 189, "exposure_warning_bps": 8400}


def test_a_lender_sees_the_alerts_that_concern_it(scenario: Scenario) -> None:
    home, facts = scenario
    bank = cli_json(home, "report", "--lender", "bank")
    assert "ledger" not in bank and bank["lender"]["address"] == facts.addr("bank")
    assert [s["lender"]["name"] for s in bank["lenders"]] == ["bank"]
    assert "history" in bank["lenders"][0]
    rules = [(a["rule"], a["subject"].get("id")) for a in bank["alerts"]]
    assert rules == [
        ("loan_overdue", facts.loan["L4"]),
        ("loan_overdue", facts.loan["L3"]),
        ("provision_coverage_low", None),
        ("duplicate_document", None),
        ("duplicate_document", None),
        ("cover_breached", None),  # the claim on L4's cover: bank lends to L4
    ]
    micro = by_rule(cli_json(home, "report", "--lender", "microloan")["alerts"])
    assert set(micro) == {
        "receivable_overdue",
        "loan_overdue",
        "exposure_near_limit",
        "provision_coverage_low",
        "collections_lagging",
        "duplicate_document",
        "cover_breached",
    }


def test_watch_prints_the_alerts_in_force_as_raised_json_lines(run, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    home, _ = scenario
    r = run(home, "watch", "--polls", "1", "--json")
    assert r.code == 0, r.err
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert [x["event"] for x in lines] == ["raised"] * 9
    assert [x["rule"] for x in lines] == [a["rule"] for a in cli_json(home, "report")["alerts"]]
    text = run(home, "watch", "--polls", "1", "--lender", "bank")
    assert text.code == 0 and text.out.count("ALERT") == 6
