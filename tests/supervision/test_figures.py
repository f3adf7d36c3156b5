"""Every figure of `liandai report --json` against the hand-built scenario's known numbers.

The scenario (tests/supervision/scenario.py) has two lenders, three borrowers, two debtors, one
default partly covered by the pool, one overdue receivable, one split chain three tiers
deep. Amounts below are fen. Only loan L1's interest depends on the second its receipt was
mined; its parts are read from the chain's own LoanSettled event, not from the index.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.engine.client import Ledger
from ledger.engine.loans import SettlementView
from ledger.home import Home
from ledger.money import format_date
from ledger.supervision.book import ratio_bps
from ledger.supervision.figures import (
    Options,
    Report,
    book_of,
    definitions,
    figure_keys,
)
from tests.supervision.conftest import cli_json
from tests.supervision.scenario import DAY, Facts

Scenario = tuple[Home, Facts]


def v(fig: dict[str, Any]) -> int:
    return int(fig["value"])


def ratio(fig: dict[str, Any]) -> tuple[int | None, str | None]:
    return fig["bps"], fig["fraction"]


def named(entries: list[dict[str, Any]], role: str, facts: Facts) -> dict[str, dict[str, Any]]:
    """Entries keyed by the scenario name of their party (`role` is the party's field)."""
    by_address = {a: n for n, a in facts.names.items()}
    return {by_address[e[role]["address"]]: e for e in entries}


def lender(doc: dict[str, Any], facts: Facts, name: str) -> dict[str, Any]:
    return named(doc["lenders"], "lender", facts)[name]


@pytest.fixture(scope="session")
def l1(scenario: Scenario) -> SettlementView:
    """L1's one receipt, from the chain's LoanSettled event."""
    home, facts = scenario
    with Ledger.open(home) as ledger:
        (receipt,) = ledger.loans.settlements(facts.loan["L1"])
    return receipt


# --------------------------------------------------------------------------- ledger


def test_loan_book_counts_statuses_and_outstanding_principal(doc: dict[str, Any]) -> None:
    book = doc["ledger"]["loan_book"]
    assert v(book["count"]) == 5
    assert v(book["principal_fen"]) == 315_000_000  # 800k + 600k + 300k + 600k + 850k yuan
    # L2 850k + L3 600k + L4 600k − 70.4k cover + L5 300k
    assert v(book["outstanding_fen"]) == 227_960_000
    statuses = {
        r["status"]: (v(r["count"]), v(r["principal_fen"]), v(r["outstanding_fen"]))
        for r in book["by_status"]
    }
    assert statuses == {
        "PROPOSED": (0, 0, 0),
        "ACCEPTED": (0, 0, 0),
        "FUNDING": (0, 0, 0),
        "FUNDED": (0, 0, 0),
        "DISBURSED": (3, 175_000_000, 175_000_000),
        "REPAID": (1, 80_000_000, 0),
        "DEFAULTED": (1, 60_000_000, 52_960_000),
        "CANCELLED": (0, 0, 0),
    }


def test_overdue_buckets_npl_ratio_and_loss_after_cover(doc: dict[str, Any]) -> None:
    book = doc["ledger"]["loan_book"]
    buckets = {b["bucket"]: (v(b["count"]), v(b["outstanding_fen"])) for b in book["overdue"]}
    # L3 is 70 days past maturity, L4 (defaulted) 110 days
    assert buckets == {"1-30": (0, 0), "31-90": (1, 60_000_000), "90+": (1, 52_960_000)}
    assert v(book["npl_fen"]) == 52_960_000
    # 529,600 / 2,279,600 = 23.2321…% → 2323 bps
    assert ratio(book["npl_ratio"]) == (2323, "52960000/227960000")
    # the pool's 70,400 covered the senior first: 600,000 − 70,400 remains
    assert v(book["loss_after_cover_fen"]) == 52_960_000
    assert v(book["cover_received_fen"]) == 7_040_000


def test_provision_pool_inflows_cover_and_coverage_ratio(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    pool = doc["ledger"]["pool"]
    assert v(pool["provisions_fen"]) == 40_000  # 10% of L3's 4,000 interest receipt
    assert v(pool["contributions_fen"]) == 8_000_000
    contributions = {
        k: v(e["amount_fen"]) for k, e in named(pool["contributions"], "member", facts).items()
    }
    assert contributions == {"core": 5_000_000, "bank": 2_000_000, "tech": 1_000_000}
    assert v(pool["cover_paid_fen"]) == 7_040_000  # all the pool held at the default
    assert v(pool["balance_fen"]) == 1_000_000  # tech's contribution after the default
    # 10,000 / 529,600 = 1.888…% → 189 bps
    assert ratio(pool["coverage_ratio"]) == (189, "1000000/52960000")


def test_the_pool_balance_equals_the_pool_contract(doc: dict[str, Any], scenario: Scenario) -> None:
    home, _ = scenario
    with Ledger.open(home) as ledger:
        assert ledger.loans.pool_balance_fen() == v(doc["ledger"]["pool"]["balance_fen"])


def test_concentration_top_borrowers_and_debtors_as_shares_of_the_book(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    conc = doc["ledger"]["concentration"]
    assert v(conc["borrower_count"]) == 3
    assert ratio(conc["top_borrowers_share_of_book"]) == (10_000, "227960000/227960000")
    borrowers = [
        (
            named([b], "borrower", facts).popitem()[0],
            v(b["exposure_fen"]),
            ratio(b["share_of_book"]),
        )
        for b in conc["borrowers"]
    ]
    assert borrowers == [
        ("supplier1", 85_000_000, (3729, "85000000/227960000")),
        ("supplier3", 82_960_000, (3639, "82960000/227960000")),  # L4 after cover + L5
        ("supplier2", 60_000_000, (2632, "60000000/227960000")),
    ]
    # L2, L3 and L4 are backed by core's receivables, L5 by core2's
    debtors = {
        k: (v(d["exposure_fen"]), ratio(d["share_of_book"]), v(d["receivables_outstanding_fen"]))
        for k, d in named(conc["debtors"], "debtor", facts).items()
    }
    assert debtors == {
        "core": (197_960_000, (8684, "197960000/227960000"), 290_000_000),
        "core2": (30_000_000, (1316, "30000000/227960000"), 50_000_000),
    }


def test_joint_loan_funding_shares_by_lender(doc: dict[str, Any], scenario: Scenario) -> None:
    _, facts = scenario
    funding = named(doc["ledger"]["concentration"]["funding"], "lender", facts)
    got = {
        k: (
            v(f["funded_fen"]),
            ratio(f["share_of_funded"]),
            v(f["outstanding_fen"]),
            ratio(f["share_of_book"]),
            v(f["net_assets_fen"]),
        )
        for k, f in funding.items()
    }
    assert got == {
        "bank": (
            126_000_000,
            (4000, "126000000/315000000"),
            62_960_000,
            (2762, "62960000/227960000"),
            500_000_000_000,
        ),
        "microloan": (
            189_000_000,
            (6000, "189000000/315000000"),
            165_000_000,
            (7238, "165000000/227960000"),
            1_000_000_000,
        ),
    }


def test_pricing_weighted_average_rate_by_tenor(doc: dict[str, Any]) -> None:
    pricing = doc["ledger"]["pricing"]
    tenors = {
        t["tenor"]: (v(t["count"]), v(t["principal_fen"]), ratio(t["average_rate"]))
        for t in pricing["tenors"]
    }
    assert tenors == {
        # L1 800k @10% + L4 600k @12% = 10.857…%
        "<=30d": (2, 140_000_000, (1086, "152000000000/140000000")),
        "31-90d": (1, 60_000_000, (900, "54000000000/60000000")),  # L3
        # L2 850k @12% + L5 300k @8% = 10.956…%
        "91-180d": (2, 115_000_000, (1096, "126000000000/115000000")),
        "181-365d": (0, 0, (None, None)),
        ">365d": (0, 0, (None, None)),
    }
    assert ratio(pricing["average_rate"]) == (1054, "332000000000/315000000")


def test_fees_interest_and_provisions_paid_by_party(
    doc: dict[str, Any], scenario: Scenario, l1: SettlementView
) -> None:
    _, facts = scenario
    pricing = doc["ledger"]["pricing"]
    # L1: one receipt of 850,000 split by the chain; L3: 4,000 of interest split
    # fee 400, provision 400, 1,600 to each junior
    assert sum(l1.principal_fen) == 80_000_000 and l1.provision_fen == 0
    assert v(pricing["fees_fen"]) == l1.fee_fen + 40_000
    assert v(pricing["provisions_fen"]) == 40_000
    fees = {
        k: v(f["fee_fen"])
        for k, f in named(pricing["fees_by_tech_partner"], "party", facts).items()
    }
    assert fees == {"tech": l1.fee_fen + 40_000}
    to_lenders = {
        k: (v(f["interest_fen"]), v(f["principal_fen"]))
        for k, f in named(pricing["interest_by_lender"], "party", facts).items()
    }
    assert to_lenders == {
        "bank": (l1.interest_fen[0] + 160_000, 56_000_000 + 7_040_000),
        "microloan": (l1.interest_fen[1] + 160_000, 24_000_000),
    }
    assert v(pricing["interest_fen"]) == sum(l1.interest_fen) + 320_000
    from_borrowers = {
        k: v(f["interest_fen"])
        for k, f in named(pricing["interest_by_borrower"], "party", facts).items()
    }
    assert from_borrowers == {
        "supplier1": l1.fee_fen + sum(l1.interest_fen),
        "supplier2": 400_000,
    }


def test_receivables_issued_outstanding_tiers_and_payment_timeliness(doc: dict[str, Any]) -> None:
    rec = doc["ledger"]["receivables"]
    assert (v(rec["issued_count"]), v(rec["issued_fen"])) == (5, 375_000_000)
    assert (v(rec["pending_count"]), v(rec["pending_fen"])) == (1, 5_000_000)  # R5
    assert v(rec["rejected_or_cancelled_count"]) == 0
    # R1 2,000,000 + R2a 600,000 + R2b1 300,000 + R3 500,000
    assert (v(rec["outstanding_count"]), v(rec["outstanding_fen"])) == (4, 340_000_000)
    assert v(rec["splits"]) == 2
    assert v(rec["max_tier"]) == 3
    tiers = [(t["tier"], v(t["count"]), v(t["outstanding_fen"])) for t in rec["tiers"]]
    assert tiers == [(1, 2, 250_000_000), (2, 1, 60_000_000), (3, 1, 30_000_000)]
    assert v(rec["paid_on_time_fen"]) == 10_000_000  # R2b2, tier 3, on day 50
    assert v(rec["paid_late_fen"]) == 20_000_000  # R4, due day 20, paid day 35
    assert (v(rec["overdue_count"]), v(rec["overdue_fen"])) == (1, 50_000_000)  # R3
    assert v(rec["not_due_fen"]) == 290_000_000


def test_receivables_by_debtor(doc: dict[str, Any], scenario: Scenario) -> None:
    _, facts = scenario
    debtors = {
        k: (
            v(d["issued_fen"]),
            v(d["paid_on_time_fen"]),
            v(d["paid_late_fen"]),
            v(d["overdue_count"]),
            v(d["overdue_fen"]),
            v(d["not_due_fen"]),
        )
        for k, d in named(doc["ledger"]["receivables"]["by_debtor"], "debtor", facts).items()
    }
    assert debtors == {
        "core": (305_000_000, 10_000_000, 0, 0, 0, 290_000_000),
        "core2": (70_000_000, 0, 20_000_000, 1, 50_000_000, 0),
    }


def test_supervision_policy_in_force_changes_and_suspensions(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    sup = doc["ledger"]["supervision"]
    assert {k: v(x) for k, x in sup["policy"].items()} == {
        "min_originator_share_bps": 3000,
        "max_apr_bps": 2000,
        "max_fee_share_bps": 3000,
        "max_single_borrower_bps": 1000,
        "default_days": 90,
        "max_tech_cover_bps": 2000,
        "min_lender_retention_bps": 2000,
        "claim_days": 5,
    }
    days, change = sup["policy_changes"]
    assert (days["name"], v(days["old"]), v(days["new"])) == ("claim_days", 30, 5)
    assert days["at"] == facts.at["claim_days"]
    assert (change["name"], v(change["old"]), v(change["new"])) == ("max_apr_bps", 2400, 2000)
    assert change["by"]["address"] == facts.addr("regulator") and change["at"] == facts.at["policy"]
    assert v(sup["member_count"]) == 13  # operator, 9 seeded, supplier3, core2, guarantor
    (suspended,) = sup["suspended"]  # supplier2 was suspended and reinstated
    assert suspended["member"]["address"] == facts.addr("core2")
    assert suspended["by"]["address"] == facts.addr("regulator")
    assert suspended["since_at"] == facts.at["core2_suspended"]


# --------------------------------------------------------------------------- per lender


def test_bank_book_over_its_own_tranches(doc: dict[str, Any], scenario: Scenario) -> None:
    _, facts = scenario
    bank = lender(doc, facts, "bank")
    book = bank["loan_book"]
    assert (v(book["count"]), v(book["principal_fen"]), v(book["outstanding_fen"])) == (
        3,
        126_000_000,  # L1 senior 560k, L3 junior 300k, L4 senior 400k
        62_960_000,  # L3 300k + L4 400k − 70.4k cover
    )
    buckets = {b["bucket"]: (v(b["count"]), v(b["outstanding_fen"])) for b in book["overdue"]}
    assert buckets == {"1-30": (0, 0), "31-90": (1, 30_000_000), "90+": (1, 32_960_000)}
    assert ratio(book["npl_ratio"]) == (5235, "32960000/62960000")
    assert v(book["loss_after_cover_fen"]) == 32_960_000
    assert v(book["cover_received_fen"]) == 7_040_000  # seniors first: all of it
    conc = bank["concentration"]
    assert v(conc["net_assets_fen"]) == 500_000_000_000
    assert ratio(conc["share_of_ledger_book"]) == (2762, "62960000/227960000")
    borrowers = named(conc["borrowers"], "borrower", facts)
    s3 = borrowers["supplier3"]
    assert v(s3["exposure_fen"]) == 32_960_000
    assert ratio(s3["share_of_book"]) == (5235, "32960000/62960000")
    assert ratio(s3["share_of_net_assets"]) == (1, "32960000/500000000000")
    # as the contract counts it: the funded 400k until the loan is repaid
    assert v(s3["limit_exposure_fen"]) == 40_000_000
    assert v(s3["limit_fen"]) == 50_000_000_000
    assert ratio(s3["limit_used"]) == (8, "40000000/50000000000")
    assert ratio(borrowers["supplier2"]["share_of_book"]) == (4765, "30000000/62960000")


def test_microloan_book_concentration_against_its_updated_net_assets(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    micro = lender(doc, facts, "microloan")
    book = micro["loan_book"]
    assert (v(book["count"]), v(book["principal_fen"]), v(book["outstanding_fen"])) == (
        5,
        189_000_000,
        165_000_000,
    )
    statuses = {r["status"]: (v(r["count"]), v(r["outstanding_fen"])) for r in book["by_status"]}
    assert statuses["DISBURSED"] == (3, 145_000_000) and statuses["DEFAULTED"] == (1, 20_000_000)
    assert ratio(book["npl_ratio"]) == (1212, "20000000/165000000")
    assert v(book["cover_received_fen"]) == 0  # the junior got none of the cover
    conc = micro["concentration"]
    # the regulator registered 10,000,000 yuan of net assets on day 129
    assert v(conc["net_assets_fen"]) == 1_000_000_000
    got = {
        k: (
            v(b["exposure_fen"]),
            ratio(b["share_of_book"])[0],
            ratio(b["share_of_net_assets"])[0],
            v(b["limit_exposure_fen"]),
            v(b["limit_fen"]),
            ratio(b["limit_used"])[0],
        )
        for k, b in named(conc["borrowers"], "borrower", facts).items()
    }
    assert got == {
        "supplier1": (85_000_000, 5152, 850, 85_000_000, 100_000_000, 8500),
        "supplier3": (50_000_000, 3030, 500, 50_000_000, 100_000_000, 5000),
        "supplier2": (30_000_000, 1818, 300, 30_000_000, 100_000_000, 3000),
    }
    debtors = {
        k: (v(d["exposure_fen"]), ratio(d["share_of_net_assets"])[0])
        for k, d in named(conc["debtors"], "debtor", facts).items()
    }
    assert debtors == {"core": (135_000_000, 1350), "core2": (30_000_000, 300)}


def test_a_lenders_receivables_are_those_pledged_to_its_loans(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    bank = lender(doc, facts, "bank")["receivables"]
    # R2a (L3) and R2b1 (L4); R1 left the bank's L1 when it was repaid
    assert (v(bank["issued_count"]), v(bank["outstanding_fen"])) == (2, 90_000_000)
    assert [(t["tier"], v(t["count"])) for t in bank["tiers"]] == [(2, 1), (3, 1)]
    micro = lender(doc, facts, "microloan")["receivables"]
    assert (v(micro["outstanding_count"]), v(micro["outstanding_fen"])) == (4, 340_000_000)
    assert (v(micro["overdue_count"]), v(micro["overdue_fen"])) == (1, 50_000_000)


def test_lender_pricing_weights_the_lenders_own_tranches(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    bank = lender(doc, facts, "bank")["pricing"]
    tenors = {t["tenor"]: ratio(t["average_rate"]) for t in bank["tenors"]}
    # L1 560k @10% + L4 400k @12%
    assert tenors["<=30d"] == (1083, "104000000000/96000000")
    assert tenors["31-90d"] == (900, "27000000000/30000000")
    assert ratio(bank["average_rate"]) == (1040, "131000000000/126000000")


# --------------------------------------------------------------------------- history, waterfall


def test_book_by_status_over_time_matches_the_scenario_days(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    history = doc["ledger"]["history"]
    assert v(history["step_days"]) == 13 and len(history["points"]) == 12
    m = 1_000_000 * 100  # a million yuan in fen
    # day → (current, 1–30, 31–90, 90+, defaulted, live loans)
    expected = {
        23: (235 * m // 100, 0, 0, 0, 0, 4),
        36: (175 * m // 100, 60 * m // 100, 0, 0, 0, 4),
        49: (175 * m // 100, 60 * m // 100, 0, 0, 0, 4),
        62: (175 * m // 100, 0, 60 * m // 100, 0, 0, 4),
        75: (115 * m // 100, 60 * m // 100, 60 * m // 100, 0, 0, 4),
        88: (115 * m // 100, 60 * m // 100, 60 * m // 100, 0, 0, 4),
        101: (115 * m // 100, 0, 120 * m // 100, 0, 0, 4),
        114: (115 * m // 100, 0, 120 * m // 100, 0, 0, 4),
        127: (115 * m // 100, 0, 60 * m // 100, 0, 52_960_000, 4),
        140: (115 * m // 100, 0, 60 * m // 100, 0, 52_960_000, 4),
    }
    seen = {}
    for p in history["points"]:
        day = round((p["at"] - facts.t0) / DAY)
        seen[day] = tuple(
            v(p[k])
            for k in (
                "current_fen",
                "overdue_1_30_fen",
                "overdue_31_90_fen",
                "overdue_90_plus_fen",
                "defaulted_fen",
                "loans_count",
            )
        )
    assert {d: seen[d] for d in expected} == expected
    # the axis starts at the chain's first block (the operator's admission), not before it
    home, _ = scenario
    with Ledger.open(home) as ledger:
        first_block = ledger.member(ledger.resolve("operator")).admitted_at
    assert history["points"][0]["at"] == first_block
    assert seen[min(seen)] == (0, 0, 0, 0, 0, 0)


def test_the_waterfall_of_a_loan_is_its_chain_settlements(
    doc: dict[str, Any], scenario: Scenario, l1: SettlementView
) -> None:
    _, facts = scenario
    w = doc["waterfall"]
    assert w["loan"] == facts.loan["L1"] and w["status"] == "REPAID"
    assert [(t["class"], v(t["amount_fen"])) for t in w["tranches"]] == [
        ("senior", 56_000_000),
        ("junior", 24_000_000),
    ]
    (r,) = w["receipts"]
    assert r["tx"] == l1.tx and r["at"] == l1.at and r["source"] == "REPAYMENT"
    assert v(r["amount_fen"]) == 85_000_000
    assert (v(r["fee_fen"]), v(r["provision_fen"]), v(r["residual_fen"])) == (
        l1.fee_fen,
        0,
        l1.residual_fen,
    )
    assert [v(x) for x in r["interest_fen"]] == l1.interest_fen
    assert [v(x) for x in r["principal_fen"]] == [56_000_000, 24_000_000]
    total = w["total"]
    parts = (
        v(total["fee_fen"])
        + v(total["provision_fen"])
        + sum(v(x) for x in total["interest_fen"])
        + sum(v(x) for x in total["principal_fen"])
        + v(total["residual_fen"])
    )
    assert parts == v(total["amount_fen"]) == 85_000_000


# --------------------------------------------------------------------------- as of a past date


def test_a_past_as_of_date_gives_the_figures_as_they_stood(scenario: Scenario) -> None:
    home, facts = scenario
    day25 = format_date(facts.t0 + 25 * DAY)
    past = cli_json(home, "report", "--as-of", day25)
    assert past["as_of"].startswith(day25) and past["as_of"].endswith("23:59:59 CST")
    assert past["provisional"] is False
    book = past["ledger"]["loan_book"]
    statuses = {r["status"]: v(r["count"]) for r in book["by_status"] if v(r["count"])}
    assert statuses == {"DISBURSED": 4, "REPAID": 1}
    assert v(book["outstanding_fen"]) == 235_000_000
    assert ratio(book["npl_ratio"]) == (0, "0/235000000")
    pool = past["ledger"]["pool"]
    assert v(pool["balance_fen"]) == 7_000_000 and ratio(pool["coverage_ratio"]) == (None, None)
    rec = past["ledger"]["receivables"]
    # R4 was due on day 20 and not yet paid; nothing paid yet
    assert (v(rec["overdue_count"]), v(rec["overdue_fen"])) == (1, 20_000_000)
    assert (v(rec["paid_on_time_fen"]), v(rec["paid_late_fen"])) == (0, 0)
    sup = past["ledger"]["supervision"]
    assert v(sup["policy"]["max_apr_bps"]) == 2400 and sup["suspended"] == []
    micro = lender(past, facts, "microloan")["concentration"]
    assert v(micro["net_assets_fen"]) == 30_000_000_000  # before the regulator's update
    assert [a["rule"] for a in past["alerts"]] == ["receivable_overdue", "duplicate_document"]
    assert past["alerts"][0]["subject"]["id"] == facts.r["R4"]


def test_an_as_of_date_after_the_last_block_is_marked_provisional(scenario: Scenario) -> None:
    home, facts = scenario
    later = cli_json(home, "report", "--as-of", format_date(facts.as_of + 10 * DAY))
    assert later["provisional"] is True and later["chain_time_at"] == facts.as_of
    overdue = {b["bucket"]: v(b["count"]) for b in later["ledger"]["loan_book"]["overdue"]}
    assert overdue == {"1-30": 0, "31-90": 1, "90+": 1}


def test_history_points_agree_with_reports_as_of_those_moments(
    scenario: Scenario, doc: dict[str, Any]
) -> None:
    home, _ = scenario
    with Ledger.open(home) as ledger:
        book = book_of(ledger)
        for p in doc["ledger"]["history"]["points"]:
            past = Report(book, Options(as_of=p["at"])).figures()["ledger"]["loan_book"]
            live = sum(
                v(r["outstanding_fen"])
                for r in past["by_status"]
                if r["status"] in ("DISBURSED", "DEFAULTED")
            )
            total = sum(v(p[k]) for k in p if k.endswith("_fen"))
            assert live == total == v(past["outstanding_fen"])


# --------------------------------------------------------------------------- the JSON itself


def walk(value: Any) -> Any:
    if isinstance(value, dict):
        for x in value.values():
            yield from walk(x)
    elif isinstance(value, list):
        for x in value:
            yield from walk(x)
    else:
        yield value


def test_every_figure_names_a_definition_and_every_definition_is_used(doc: dict[str, Any]) -> None:
    defs = definitions()
    used = set(figure_keys(doc))
    assert used == set(defs["figures"])
    for key, d in defs["figures"].items():
        assert d["title"] and d["unit"] and d["definition"], key
    assert {a["rule"] for a in doc["alerts"]} == set(defs["alerts"])


def test_the_json_has_no_floats_and_ratios_are_exact_fractions(doc: dict[str, Any]) -> None:
    assert not any(isinstance(x, float) for x in walk(doc))

    def ratios(value: Any) -> Any:
        if isinstance(value, dict):
            if "fraction" in value:
                yield value
            for x in value.values():
                yield from ratios(x)
        elif isinstance(value, list):
            for x in value:
                yield from ratios(x)

    found = list(ratios(doc))
    assert len(found) > 40
    for r in found:
        if r["fraction"] is None:
            assert r["bps"] is None
        else:
            num, den = (int(x) for x in r["fraction"].split("/"))
            scale = 1 if r["def"].endswith("average_rate") else 10_000
            assert r["bps"] == ratio_bps(num, den, scale)


def test_basis_points_round_half_up() -> None:
    assert ratio_bps(1, 20_000) == 1  # 0.5 bps
    assert ratio_bps(1, 20_001) == 0
    assert ratio_bps(2, 3) == 6667
    assert ratio_bps(1, 3) == 3333
    assert ratio_bps(5, 0) is None


def test_the_report_reads_the_index_only_and_rebuilding_it_changes_nothing(
    scenario: Scenario, tmp_path: Any
) -> None:
    import shutil

    home, _ = scenario
    copy = Home.at(tmp_path / "home")
    shutil.copytree(home.root, copy.root)
    before = cli_json(copy, "report")
    for f in (copy.root / "index").glob("*"):
        f.unlink()
    assert cli_json(copy, "report") == before


def test_document_carries_when_and_where_it_was_read(
    doc: dict[str, Any], scenario: Scenario
) -> None:
    _, facts = scenario
    assert doc["as_of_at"] == doc["chain_time_at"] == facts.as_of
    assert doc["network"] == "embedded" and doc["lender"] is None
    assert doc["thresholds"] == {"coverage_threshold_bps": 15_000, "exposure_warning_bps": 8_000}
    assert doc["definitions"] == "ledger/report_definitions.json"


def test_the_guarantors_claim_owed_paid_and_breached(
    scenario: Scenario, doc: dict[str, Any]
) -> None:
    """L4's guarantee (40%, cap 100,000, no margin): the claim set at the default, its state
    as time passes (open, overdue, breached), the guarantor's figures and the totals."""
    home, facts = scenario
    cover = doc["ledger"]["cover"]
    guarantor = {"address": facts.addr("guarantor"), "name": "guarantor"}
    due = facts.at["defaulted"] + 5 * DAY  # claim_days 5
    # owed = min(floor(600,000.00 × 40%), cap 100,000.00): the cap binds
    assert min(60_000_000 * 4000 // 10_000, 10_000_000) == 10_000_000
    (claim,) = cover["claims"]
    assert {k: v(x) if isinstance(x, dict) and "def" in x else x for k, x in claim.items()} == {
        "loan": facts.loan["L4"],
        "layer": 1,
        "provider": guarantor,
        "kind": "GUARANTEE",
        "owed_fen": 10_000_000,
        "paid_fen": 0,
        "unpaid_fen": 10_000_000,
        "reimbursed_fen": 0,
        "due_at": due,
        "breached_at": facts.at["breached"],
        "status": "breached",
    }
    (provider,) = cover["providers"]
    assert provider["provider"] == guarantor
    assert {k: v(x) for k, x in provider.items() if k != "provider"} == {
        "claim_count": 1,
        "owed_fen": 10_000_000,
        "paid_fen": 0,
        "unpaid_fen": 10_000_000,
        "reimbursed_fen": 0,
        "breached_count": 1,
        "breached_unpaid_fen": 10_000_000,
    }
    assert {k: v(x) for k, x in cover.items() if k not in ("providers", "claims")} == {
        "owed_fen": 10_000_000,
        "paid_fen": 0,
        "unpaid_fen": 10_000_000,
        "reimbursed_fen": 0,
        "breached_count": 1,
        "breached_unpaid_fen": 10_000_000,
    }
    with Ledger.open(home) as ledger:
        book = book_of(ledger)

    def state(at: int) -> list[str]:
        figures = Report(book, Options(as_of=at)).figures()["ledger"]["cover"]
        return [c["status"] for c in figures["claims"]]

    assert state(facts.at["defaulted"] - 1) == []
    assert state(facts.at["defaulted"]) == state(due) == ["open"]
    assert state(due + 1) == state(facts.at["breached"] - 1) == ["overdue"]
    assert state(facts.at["breached"]) == ["breached"]
