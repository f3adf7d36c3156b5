"""Worked example 3 of DESIGN §6.2 on the contracts, fen for fen, on a real anvil node.

Worked example 1's loan with two cover layers — G, a GUARANTEE of 40% capped at ¥300,000.00
with a ¥50,000.00 margin, and I, an INSURANCE of 30% capped at ¥1,000,000.00 without one —
repaid in part on day 30, defaulted on day 180, its claims honoured on days 190 and 200, and
its pledged receivable paid late on day 250. anvil's `evm_setNextBlockTimestamp` puts every
action at an exact second, so each figure of the design's table is asserted exactly, the
reference model (`ledger.reference.cover`) must give the same figures, and every party's
e-CNY balance is checked at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit.trail import verify_trail
from ledger.engine.client import Ledger
from ledger.engine.loans import CoverRequest, LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.home import Home
from ledger.models import Admission, Profile
from ledger.reference import cover as model
from ledger.reference import waterfall
from ledger.roles import Role
from tests.conftest import PROFILES

pytestmark = pytest.mark.anvil

DAY = 86_400
MEMBERS: dict[str, tuple[int, int]] = {
    "issuer": (Role.ECNY_ISSUER, 0),
    "core": (Role.CORE_ENTERPRISE, 0),
    "supplier1": (Role.SUPPLIER, 0),
    "bank": (Role.LENDER, 5_000_000_000_00),
    "microloan": (Role.LENDER, 300_000_000_00),
    "tech": (Role.TECH_PARTNER, 0),
    "guarantor": (Role.GUARANTOR, 0),
    "insurer": (Role.GUARANTOR, 0),
    "regulator": (Role.REGULATOR, 0),
}
OPENING = {
    "core": 200_000_000,
    "bank": 100_000_000,
    "microloan": 50_000_000,
    "supplier1": 1_000_000,
    "guarantor": 40_000_000,
    "insurer": 30_000_000,
}
PARTIES = ("core", "supplier1", "bank", "microloan", "tech", "guarantor", "insurer")


@pytest.fixture
def chain(anvil: str, tmp_path: Path) -> Iterator[Ledger]:
    home = Home.at(tmp_path / "home")
    initialise(home, rpc=anvil, dev=True)  # dev accounts, admitted below with these figures
    with Ledger.open(home, rpc=anvil) as ledger:
        # Simulations run against the latest block, not at the next block's set timestamp.
        ledger.simulate = False
        for name, (roles, net_assets) in MEMBERS.items():
            ledger.admit(
                Admission(
                    address=ledger.resolve(name),
                    roles=roles,
                    net_assets_fen=net_assets,
                    profile=PROFILES.get(name, Profile()),
                )
            )
        issuer = ledger.as_signer("issuer")
        for name, fen in OPENING.items():
            issuer.mint(ledger.resolve(name), fen)
        yield ledger


def at(ledger: Ledger, ts: int) -> None:
    ledger.chain.w3.provider.make_request("evm_setNextBlockTimestamp", [ts])  # type: ignore[arg-type]


def now(ledger: Ledger) -> int:
    return int(ledger.chain.w3.eth.get_block("latest")["timestamp"])


def balances(ledger: Ledger) -> dict[str, int]:
    out = {name: ledger.balance_fen(ledger.resolve(name)) for name in PARTIES}
    out["pool"] = ledger.loans.pool_balance_fen()
    out["loan book"] = ledger.balance_fen(ledger.deployment.address("LoanBook"))
    out["cover book"] = ledger.balance_fen(ledger.deployment.address("CoverBook"))
    return out


# The day-250 interest (3,450,523) and senior coupon (1,035,320) are the floors of the exact
# sums over the checkpoints of days 30, 180, 190 and 200: the interest carry of DESIGN §3
# (floored at each checkpoint without it they would be 3,450,522 and 1,035,319).
def test_worked_example_3_cover_layers_default_honours_and_a_late_recovery(
    chain: Ledger,
) -> None:
    ledger = chain
    r = ledger.resolve
    t0 = now(ledger) + 1_000
    rid = (
        ledger.as_signer("core")
        .receivables.issue(r("supplier1"), 60_000_000, t0 + 90 * DAY, b"\x33" * 32)
        .id
    )
    ledger.as_signer("supplier1").receivables.accept(rid)
    req = LoanRequest(
        borrower=r("supplier1"),
        tranches=[
            TrancheRequest(lender=r("bank"), senior=True, amount_fen=56_000_000, coupon_bps=500),
            TrancheRequest(lender=r("microloan"), senior=False, amount_fen=24_000_000),
        ],
        receivable_ids=[rid],
        rate_bps=1000,
        term_days=90,
        fee_share_bps=2000,
        provision_share_bps=1000,
        tech_partner=r("tech"),
        covers=[
            CoverRequest(
                provider=r("guarantor"),
                kind="GUARANTEE",
                share_bps=4000,
                cap_fen=30_000_000,
                margin_fen=5_000_000,
            ),
            CoverRequest(
                provider=r("insurer"), kind="INSURANCE", share_bps=3000, cap_fen=100_000_000
            ),
        ],
    )
    loan = ledger.as_signer("microloan").loans.propose(req).id
    ledger.as_signer("supplier1").loans.accept(loan)
    ledger.as_signer("guarantor").covers.accept(loan)
    ledger.as_signer("insurer").covers.accept(loan)
    assert ledger.balance_fen(ledger.deployment.address("CoverBook")) == 5_000_000
    ledger.as_signer("bank").loans.fund(loan)
    ledger.as_signer("microloan").loans.fund(loan)
    at(ledger, t0)
    ledger.as_signer("microloan").loans.disburse(loan)

    # Day 30: a repayment of ¥100,000.00, then a member contributes ¥20,000.00 to the pool.
    at(ledger, t0 + 30 * DAY)
    ledger.as_signer("supplier1").loans.repay(loan, 10_000_000)
    s30 = ledger.loans.get(loan).settlements[0]
    assert (s30.fee_fen, s30.provision_fen, s30.interest_fen, s30.principal_fen) == (
        131_506,
        65_753,
        [230_136, 230_139],
        [9_342_466, 0],
    )
    ledger.as_signer("core").loans.contribute(2_000_000)
    assert ledger.loans.pool_balance_fen() == 2_065_753

    # Day 180 (maturity + default_days): the default.
    at(ledger, t0 + 180 * DAY)
    ledger.loans.declare_default(loan)
    (called,) = ledger.events("CoverBook", "CoverCalled", argument_filters={"loanId": loan})
    a = called["args"]
    assert a["principalFen"] == 70_657_534
    assert list(a["owedFen"]) == [28_263_013, 21_197_260]
    assert list(a["marginPaidFen"]) == [5_000_000, 0]
    assert list(a["marginReturnedFen"]) == [0, 0]
    assert a["poolFen"] == 2_065_753  # min(2,065,753, 70,657,534 − 49,460,273 = 21,197,261)
    assert a["dueAt"] == t0 + 210 * DAY
    (defaulted,) = ledger.events("LoanBook", "LoanDefaulted", argument_filters={"loanId": loan})
    d = defaulted["args"]
    assert (d["coverFen"], list(d["principalFen"])) == (7_065_753, [7_065_753, 0])
    assert d["interestDueFen"] == 2_903_734
    view = ledger.loans.get(loan)
    assert view.status == "DEFAULTED"
    assert ledger.loans.pool_balance_fen() == 0

    # Day 190: G honours the rest of its claim; day 200: I honours all of its claim.
    at(ledger, t0 + 190 * DAY)
    ledger.as_signer("guarantor").covers.honour(loan, 0, 23_263_013)
    at(ledger, t0 + 200 * DAY)
    ledger.as_signer("insurer").covers.honour(loan, 1, 21_197_260)
    view = ledger.loans.get(loan)
    g, i = view.settlements[2], view.settlements[3]
    assert (g.source, g.payer, g.principal_fen, g.interest_fen) == (
        "COVER",
        r("guarantor"),
        [23_263_013, 0],
        [0, 0],
    )
    assert (i.source, i.payer, i.principal_fen) == ("COVER", r("insurer"), [16_328_768, 4_868_492])
    assert view.outstanding_fen == 19_131_508

    # Day 250: the pledged receivable is paid late, in full. The tech partner's only loan is
    # defaulted, but this receipt repays it: on the book as the receipt leaves it nothing is
    # defaulted (DESIGN §6.6), so the fee of DESIGN §6.2's table is paid.
    at(ledger, t0 + 250 * DAY)
    ledger.as_signer("core").receivables.pay(rid, 60_000_000)
    view = ledger.loans.get(loan)
    last = view.settlements[-1]
    assert last.source == "RECEIVABLE"
    assert last.fee_fen + last.provision_fen + sum(last.interest_fen) == 3_450_523
    assert (last.fee_fen, last.provision_fen, last.interest_fen) == (
        690_104,
        345_052,
        [1_035_320, 1_380_047],
    )
    assert last.principal_fen == [0, 19_131_508]
    (back,) = ledger.events("CoverBook", "CoverReimbursed", argument_filters={"loanId": loan})
    assert (list(back["args"]["layersFen"]), back["args"]["poolFen"]) == (
        [20_524_473, 15_393_355],
        1_500_141,
    )
    assert last.cover_fen == 37_417_969
    assert last.residual_fen == 0
    assert view.status == "REPAID"
    assert [
        (c.owed_fen, c.paid_fen, c.reimbursed_fen, c.unpaid_fen, c.breached) for c in view.cover
    ] == [
        (28_263_013, 28_263_013, 20_524_473, 0, False),
        (21_197_260, 21_197_260, 15_393_355, 0, False),
    ]

    # The reference model gives every figure of the same story.
    terms = req.model_terms(t0)
    loan_state = waterfall.LoanState.initial(terms)
    cover = model.CoverState.initial(
        [
            model.Layer("G", "GUARANTEE", 4000, 30_000_000, 5_000_000),
            model.Layer("I", "INSURANCE", 3000, 100_000_000, 0),
        ]
    )
    rec, loan_state, cover = model.recover(terms, loan_state, cover, 10_000_000, t0 + 30 * DAY)
    assert rec.settlement.principal_fen == (9_342_466, 0)
    dflt, loan_state, cover = model.declare_default(
        terms, loan_state, cover, 2_065_753, t0 + 180 * DAY
    )
    assert (dflt.principal_fen, dflt.interest_due_fen, dflt.owed_fen) == (
        70_657_534,
        2_903_734,
        (28_263_013, 21_197_260),
    )
    assert (dflt.pool_fen, dflt.receipt.principal_fen) == (2_065_753, (7_065_753, 0))
    hg, loan_state, cover = model.honour(terms, loan_state, cover, 0, 23_263_013, t0 + 190 * DAY)
    hi, loan_state, cover = model.honour(terms, loan_state, cover, 1, 21_197_260, t0 + 200 * DAY)
    assert (hg.principal_fen, hi.principal_fen) == ((23_263_013, 0), (16_328_768, 4_868_492))
    # the tech partner's book (DESIGN §6.6): this loan only, defaulted after the cover
    covered = sum(dflt.receipt.principal_fen)  # the margins and the pool
    book = waterfall.TechBook().disbursed(80_000_000).repaid(9_342_466, defaulted=False)
    book = book.default(covered, dflt.principal_fen - covered)
    book = book.repaid(23_263_013, defaulted=True).repaid(21_197_260, defaulted=True)
    assert book == waterfall.TechBook(19_131_508, 19_131_508) and book.fee_withheld(250)
    rec, loan_state, cover = model.recover(terms, loan_state, cover, 60_000_000, t0 + 250 * DAY)
    book, withheld = book.settled(19_131_508, defaulted=True, threshold_bps=250)
    assert not withheld and book == waterfall.TechBook()
    assert (rec.settlement.fee_fen, rec.settlement.provision_fen) == (690_104, 345_052)
    assert list(rec.settlement.interest_fen) == last.interest_fen
    assert (rec.layers_fen, rec.pool_fen, rec.settlement.residual_fen) == (
        (20_524_473, 15_393_355),
        1_500_141,
        0,
    )
    assert loan_state.repaid

    assert balances(ledger) == {
        "core": 200_000_000 - 2_000_000 - 60_000_000,
        "supplier1": 1_000_000 + 80_000_000 - 10_000_000,
        "bank": 100_000_000 - 56_000_000 + 230_136 + 1_035_320 + 56_000_000,
        "microloan": 50_000_000 - 24_000_000 + 230_139 + 1_380_047 + 24_000_000,
        "tech": 131_506 + 690_104,
        "guarantor": 40_000_000 - 28_263_013 + 20_524_473,
        "insurer": 30_000_000 - 21_197_260 + 15_393_355,
        "pool": 345_052 + 1_500_141,
        "loan book": 0,
        "cover book": 0,
    }
    assert ledger.total_supply_fen() == sum(OPENING.values())
    assert verify_trail(ledger).ok
