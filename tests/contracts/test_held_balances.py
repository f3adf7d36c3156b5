"""Money never blocks (DESIGN §6.1): what the engines owe a member who is not active is held.

Before held balances, suspending one lender, the tech partner or a borrower owed a residual
made every payment that fanned out to it revert: the borrower's repayment, the core
enterprise's payment of a pledged receivable, the pool's cover at default, cancel refunds
and every swept payment into the borrower's wallet. Each test here reproduces one of those
and checks that the share is held to the fen, claimable only after reinstatement, and that
Σ balances + Σ held = supply throughout.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.audit.trail import read_entries
from ledger.engine.client import Ledger
from ledger.reference import waterfall
from tests.contracts.test_loan_book import (
    DAY,
    World,
    argsof,
    check_no_value_stranded,
    refused,
    same_split,
)

NAMES = ("issuer", "core", "supplier1", "supplier2", "bank", "microloan", "tech", "operator")


def check_supply(w: World) -> None:
    """Σ balances (everyone but the token) + Σ held = supply; the token holds exactly Σ held."""
    token = w.ledger.deployment.address("DigitalRMB")
    holders = [w.addr(n) for n in NAMES] + [w.book, w.pool]
    held = sum(w.ledger.held_fen(a) for a in holders)
    assert w.bal(token) == held == w.ledger.total_held_fen()
    assert sum(w.bal(a) for a in holders) + held == w.ledger.total_supply_fen()


@pytest.fixture
def w(ledger: Ledger) -> Iterator[World]:
    world = World(ledger)
    yield world
    check_supply(world)
    check_no_value_stranded(ledger)


def held(w: World, name: str) -> int:
    return w.ledger.held_fen(w.addr(name))


def suspend(w: World, *names: str) -> None:
    for n in names:
        w.ledger.suspend(w.addr(n))


def reinstate(w: World, *names: str) -> None:
    for n in names:
        w.ledger.reinstate(w.addr(n))


def fee_loan(w: World, rid: int, **kw: object) -> int:
    """Bank senior 700,000 at 5%, microloan junior 300,000; 10%; fee 20% to tech; provision 10%."""
    return w.open(
        w.request(
            [rid],
            fee_share_bps=2_000,
            provision_share_bps=1_000,
            tech_partner=w.addr("tech"),
            **kw,
        )
    )


def test_suspended_senior_and_tech_partner_are_held_their_shares_and_claim_after_reinstatement(
    w: World,
) -> None:
    rid = w.receivable(2_000_000)
    loan = fee_loan(w, rid)
    w.advance_to(w.get(loan).disbursed_at + 30 * DAY)
    suspend(w, "bank", "tech")
    start = w.balances("bank", "tech", "microloan", "supplier1")

    # the borrower repays and the core enterprise pays the pledged receivable: both settle
    w.as_("supplier1").loans.repay(loan, 100_000)
    w.advance_to(w.now() + 10 * DAY)
    w.as_("core").receivables.pay(rid, 500_000)
    view = w.get(loan)
    assert [s.source for s in view.settlements] == ["REPAYMENT", "RECEIVABLE"]
    model = waterfall.quote(w.model(loan), [(s.at, s.amount_fen) for s in view.settlements])
    for chain_s, model_s in zip(view.settlements, model, strict=True):
        same_split(chain_s, model_s)

    bank_share = sum(s.interest_fen[0] + s.principal_fen[0] for s in view.settlements)
    fee = sum(s.fee_fen for s in view.settlements)
    junior = sum(s.interest_fen[1] + s.principal_fen[1] for s in view.settlements)
    assert bank_share > 0 and fee > 0
    # held to the fen; the active junior lender and the holder are paid as usual
    assert (held(w, "bank"), held(w, "tech")) == (bank_share, fee)
    assert w.balances("bank", "tech", "microloan") == {
        "bank": start["bank"],
        "tech": start["tech"],
        "microloan": start["microloan"] + junior,
    }
    assert held(w, "microloan") == 0
    check_supply(w)

    # not before reinstatement: a suspended member's own actions stay refused
    e = refused(w.as_("bank").claim_held)
    assert e.name == "MemberNotActive" and argsof(e)["account"] == w.addr("bank")
    assert held(w, "bank") == bank_share

    reinstate(w, "bank", "tech")
    sent, claimed = w.as_("bank").claim_held()
    assert claimed == bank_share
    _, claimed_fee = w.as_("tech").claim_held()
    assert claimed_fee == fee
    assert w.balances("bank", "tech") == {
        "bank": start["bank"] + bank_share,
        "tech": start["tech"] + fee,
    }
    assert held(w, "bank") == held(w, "tech") == 0
    e = refused(w.as_("bank").claim_held)
    assert e.name == "NothingHeld"
    # each claim is one audit entry, bound to its HeldClaimed event (the trail verifies)
    claims = [e for e in read_entries(w.ledger) if e.kind_name == "ECNY_HELD_CLAIMED"]
    assert (claims[0].actor, claims[0].tx) == (w.addr("bank"), sent.tx)
    assert len(claims) == 2


def test_only_the_payer_must_be_active(w: World) -> None:
    rid = w.receivable(2_000_000)
    loan = fee_loan(w, rid)
    suspend(w, "supplier1")
    e = refused(w.as_("supplier1").loans.repay, loan, 10_000)
    assert e.name == "MemberNotActive" and argsof(e)["account"] == w.addr("supplier1")
    # another member repays for the suspended borrower: the residual is held for it
    w.advance_to(w.now() + DAY)
    w.as_("core").loans.repay(loan, 2_000_000)
    (s,) = w.get(loan).settlements
    assert s.residual_fen > 0 and held(w, "supplier1") == s.residual_fen
    suspend(w, "core")
    e = refused(w.as_("core").receivables.pay, rid, 1_000)
    assert e.name == "MemberNotActive" and argsof(e)["account"] == w.addr("core")


def test_a_suspended_holder_of_an_unpledged_receivable_is_held_its_payment(w: World) -> None:
    rid = w.receivable(80_000)
    suspend(w, "supplier1")
    before = w.bal("supplier1")
    w.as_("core").receivables.pay(rid, 80_000)
    assert w.bal("supplier1") == before and held(w, "supplier1") == 80_000


def test_cancel_refunds_a_suspended_lender_into_its_held_balance(w: World) -> None:
    loan = w.open(until="FUNDED")
    suspend(w, "bank")
    start = w.balances("bank", "microloan")
    w.as_("microloan").loans.cancel(loan)
    assert w.status(loan) == "CANCELLED"
    assert held(w, "bank") == 700_000
    assert w.balances("bank", "microloan") == {
        "bank": start["bank"],
        "microloan": start["microloan"] + 300_000,
    }


def test_the_pools_cover_at_default_is_held_for_a_suspended_senior(w: World) -> None:
    w.as_("core").loans.contribute(200_000)
    loan = w.open(w.request(term_days=1))
    w.advance_to(w.get(loan).maturity_at + 90 * DAY)
    suspend(w, "bank")
    before = w.bal("bank")
    w.as_("microloan").loans.declare_default(loan)
    assert w.status(loan) == "DEFAULTED"
    assert w.bal("bank") == before and held(w, "bank") == 200_000


def test_a_swept_payment_settles_while_a_lender_is_suspended(w: World) -> None:
    loan = w.open(w.request(sweep_bps=2_000))
    w.advance_to(w.now() + 5 * DAY)
    suspend(w, "bank")
    before = w.bal("supplier1")
    w.as_("core").transfer(w.addr("supplier1"), 100_000)
    (s,) = w.get(loan).settlements
    assert s.source == "SWEEP" and s.amount_fen == 20_000
    assert w.bal("supplier1") == before + 80_000 + s.residual_fen
    assert held(w, "bank") == s.interest_fen[0] + s.principal_fen[0] > 0
