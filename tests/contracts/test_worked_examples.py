"""Both worked examples of DESIGN §4.5, on the contracts, fen for fen, on a real anvil node.

anvil's `evm_setNextBlockTimestamp` puts the disbursement and every receipt at exact
seconds, so each figure of the design's tables can be asserted exactly; the pure-Python
reference model (`ledger.reference.waterfall`) must give the same figures. Every party's e-CNY
balance is checked exactly at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from ledger.audit.trail import verify_trail
from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.engine.setup import initialise
from ledger.home import Home
from ledger.models import Admission, Profile
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
}
# Opening e-CNY balances in fen: core ¥2,000,000, bank ¥1,000,000, microloan ¥500,000, and
# ¥10,000 of the borrower's own (example 2 repays more than it was lent).
OPENING = {
    "core": 200_000_000,
    "bank": 100_000_000,
    "microloan": 50_000_000,
    "supplier1": 1_000_000,
}
PARTIES = ("core", "supplier1", "bank", "microloan", "tech")


@pytest.fixture
def chain(run: Any, anvil: str, tmp_path: Path) -> Iterator[Ledger]:
    """A fresh deployment on the session's anvil node, with the members the examples need."""
    home = Home.at(tmp_path / "home")
    initialise(home, rpc=anvil, dev=True)  # dev accounts, admitted below with these figures
    with Ledger.open(home, rpc=anvil) as ledger:
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


def now(ledger: Ledger) -> int:
    return int(ledger.chain.w3.eth.get_block("latest")["timestamp"])


def at(ledger: Ledger, ts: int) -> None:
    """The next block (the next transaction) is mined at exactly `ts`."""
    ledger.chain.w3.provider.make_request("evm_setNextBlockTimestamp", [ts])  # type: ignore[arg-type]


def balances(ledger: Ledger) -> dict[str, int]:
    out = {name: ledger.balance_fen(ledger.resolve(name)) for name in PARTIES}
    out["pool"] = ledger.loans.pool_balance_fen()
    out["loan book"] = ledger.balance_fen(ledger.deployment.address("LoanBook"))
    return out


def figures(s: Any) -> dict[str, Any]:
    """A settlement (chain view or reference model) as comparable figures."""
    return {
        "at": s.at,
        "amount": s.amount_fen,
        "fee": s.fee_fen,
        "provision": s.provision_fen,
        "interest": list(s.interest_fen),
        "principal": list(s.principal_fen),
        "residual": s.residual_fen,
    }


def test_worked_example_1_sequential_receivable_paid_at_maturity(chain: Ledger) -> None:
    ledger = chain
    r = ledger.resolve
    t0 = now(ledger) + 1_000  # disbursement
    t1 = t0 + 7_776_000  # exactly 90 days later: the receipt
    rid = (
        ledger.as_signer("core").receivables.issue(r("supplier1"), 100_000_000, t1, b"\x11" * 32).id
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
        mode="sequential",
    )
    loan = ledger.as_signer("microloan").loans.propose(req).id  # the originator: 30%
    ledger.as_signer("supplier1").loans.accept(loan)
    ledger.as_signer("bank").loans.fund(loan)
    ledger.as_signer("microloan").loans.fund(loan)
    at(ledger, t0)
    ledger.as_signer("microloan").loans.disburse(loan)
    view = ledger.loans.get(loan)
    assert (view.disbursed_at, view.maturity_at) == (t0, t1)
    assert ledger.receivables.get(rid).status == "PLEDGED"

    at(ledger, t1)
    sent = ledger.as_signer("core").receivables.pay(rid, 100_000_000)
    view = ledger.loans.get(loan)
    (s,) = view.settlements
    assert (s.source, s.payer, s.residual_to, s.tx) == (
        "RECEIVABLE",
        r("core"),
        r("supplier1"),
        sent.tx,
    )
    interest_due = s.fee_fen + s.provision_fen + sum(s.interest_fen)
    assert interest_due == 80_000_000 * 1000 * 7_776_000 // (10_000 * 31_536_000) == 1_972_602
    assert figures(s) == {
        "at": t1,
        "amount": 100_000_000,
        "fee": 394_520,
        "provision": 197_260,
        "interest": [690_410, 690_412],
        "principal": [56_000_000, 24_000_000],
        "residual": 18_027_398,
    }
    (event,) = ledger.events("LoanBook", "LoanSettled", argument_filters={"loanId": loan})
    assert event["args"]["repaid"] is True
    assert view.status == "REPAID"
    assert view.outstanding_fen == view.interest_due_fen == 0
    assert [(t.outstanding_fen, t.coupon_due_fen) for t in view.tranches] == [(0, 0), (0, 0)]
    receivable = ledger.receivables.get(rid)
    assert (receivable.status, receivable.paid_fen) == ("PAID", 100_000_000)

    (model,) = waterfall.quote(req.model_terms(t0), [(t1, 100_000_000)])
    assert figures(model) == figures(s)

    assert balances(ledger) == {
        "core": 200_000_000 - 100_000_000,
        "supplier1": 1_000_000 + 80_000_000 + 18_027_398,
        "bank": 100_000_000 + 690_410,
        "microloan": 50_000_000 + 690_412,
        "tech": 394_520,
        "pool": 197_260,
        "loan book": 0,
    }
    assert sum(balances(ledger).values()) == sum(OPENING.values())
    assert ledger.total_supply_fen() == sum(OPENING.values())
    assert verify_trail(ledger).ok


@pytest.mark.parametrize("mode", ["pro-rata", "sequential"])
def test_worked_example_2_pari_passu_two_direct_repayments(
    chain: Ledger, mode: Literal["sequential", "pro-rata"]
) -> None:
    """All-junior, so both principal modes give the design's figures."""
    ledger = chain
    r = ledger.resolve
    t0 = now(ledger) + 1_000
    t30, t61 = t0 + 30 * DAY, t0 + 61 * DAY
    rid = (
        ledger.as_signer("core")
        .receivables.issue(r("supplier1"), 10_000_000, t0 + 90 * DAY, b"\x22" * 32)
        .id
    )
    ledger.as_signer("supplier1").receivables.accept(rid)
    # tranche order as given; the originator (microloan) lends the first, 33.33% ≥ 30%,
    # and the bank funds the other two in one call
    req = LoanRequest(
        borrower=r("supplier1"),
        tranches=[
            TrancheRequest(lender=r("microloan"), senior=False, amount_fen=3_333_334),
            TrancheRequest(lender=r("bank"), senior=False, amount_fen=3_333_333),
            TrancheRequest(lender=r("bank"), senior=False, amount_fen=3_333_333),
        ],
        receivable_ids=[rid],
        rate_bps=1200,
        term_days=60,
        fee_share_bps=2500,
        provision_share_bps=500,
        tech_partner=r("tech"),
        mode=mode,
    )
    loan = ledger.as_signer("microloan").loans.propose(req).id
    ledger.as_signer("supplier1").loans.accept(loan)
    ledger.as_signer("microloan").loans.fund(loan)
    ledger.as_signer("bank").loans.fund(loan)
    funded = ledger.events("LoanBook", "LoanFunded", argument_filters={"loanId": loan})
    assert [(e["args"]["amountFen"], e["args"]["fullyFunded"]) for e in funded] == [
        (3_333_334, False),
        (6_666_666, True),
    ]
    at(ledger, t0)
    ledger.as_signer("microloan").loans.disburse(loan)
    assert ledger.loans.get(loan).disbursed_at == t0

    borrower = ledger.as_signer("supplier1").loans
    at(ledger, t30)
    borrower.repay(loan, 1_000_000)
    view = ledger.loans.get(loan)
    assert view.status == "DISBURSED"
    assert view.outstanding_fen == 10_000_000 - 901_370
    at(ledger, t61)
    borrower.repay(loan, 9_500_000)
    view = ledger.loans.get(loan)
    first, second = view.settlements
    assert figures(first) == {
        "at": t30,
        "amount": 1_000_000,
        "fee": 24_657,
        "provision": 4_931,
        "interest": [23_014, 23_014, 23_014],
        "principal": [300_457, 300_457, 300_456],
        "residual": 0,
    }
    assert figures(second) == {
        "at": t61,
        "amount": 9_500_000,
        "fee": 23_182,
        "provision": 4_636,
        "interest": [21_638, 21_637, 21_638],
        "principal": [3_032_877, 3_032_876, 3_032_877],
        "residual": 308_639,
    }
    assert all(
        s.source == "REPAYMENT" and s.residual_to == r("supplier1") for s in view.settlements
    )
    assert view.status == "REPAID"
    assert view.outstanding_fen == view.interest_due_fen == 0
    assert ledger.receivables.get(rid).status == "ACTIVE"  # released, unpaid

    model = waterfall.quote(req.model_terms(t0), [(t30, 1_000_000), (t61, 9_500_000)])
    assert [figures(m) for m in model] == [figures(s) for s in view.settlements]

    assert balances(ledger) == {
        "core": 200_000_000,
        "supplier1": 1_000_000 + 10_000_000 - 1_000_000 - 9_500_000 + 308_639,  # 808,639
        "bank": 100_000_000 + (23_014 + 21_637) + (23_014 + 21_638),  # 100,089,303
        "microloan": 50_000_000 + 23_014 + 21_638,  # 50,044,652
        "tech": 24_657 + 23_182,
        "pool": 4_931 + 4_636,
        "loan book": 0,
    }
    assert sum(balances(ledger).values()) == sum(OPENING.values())
    assert verify_trail(ledger).ok
