"""The lifecycle defects an outside review found, each reproduced and then refused or fixed.

Held balances (finding 1) are in test_held_balances.py; the collateral paid before
disbursement (finding 2) and the sweep's carry and residuals (finding 8) sit with the other
sweep and receipt tests in test_loan_book.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ledger.engine.client import Ledger
from ledger.engine.loans import MAX_RECEIVABLES
from ledger.reference import waterfall
from tests.contracts.test_loan_book import (
    DAY,
    ST,
    World,
    argsof,
    check_no_value_stranded,
    propose_raw,
    raw_request,
    refused,
)


@pytest.fixture
def w(ledger: Ledger) -> Iterator[World]:
    world = World(ledger)
    yield world
    check_no_value_stranded(ledger)


# --------------------------------------------------------------- 3. a co-lender's exit


def test_after_the_deadline_a_co_lender_cancels_and_every_lender_is_refunded(w: World) -> None:
    # The originator (microloan) never funds: the bank's 700,000 would be locked for ever.
    loan = w.open(w.request(expiry_days=10), until="ACCEPTED")
    w.as_("bank").loans.fund(loan)
    assert w.status(loan) == "FUNDING"
    e = refused(w.as_("bank").loans.cancel, loan)
    assert e.name == "NotOriginatorOrBorrower"
    expires_at = w.get(loan).expires_at
    w.advance_to(expires_at + 1)
    # after the deadline nothing moves the loan forward
    e = refused(w.as_("microloan").loans.fund, loan)
    assert e.name == "ProposalExpired" and argsof(e)["expiresAt"] == expires_at
    # a member that is not a lender of the loan still cannot cancel it
    e = refused(w.as_("core").loans.cancel, loan)
    assert e.name == "NotOriginatorOrBorrower"
    before = w.bal("bank")
    w.as_("bank").loans.cancel(loan)
    assert w.status(loan) == "CANCELLED"
    assert w.bal("bank") == before + 700_000
    assert w.exposure("bank") == 0
    assert all(w.rstatus(r) == "ACTIVE" for r in w.get(loan).receivables)


def test_the_deadline_defaults_to_30_days_after_the_proposal(w: World) -> None:
    loan = w.open(w.request(), until="PROPOSED")
    view = w.get(loan)
    proposed_at = w.ledger.chain.w3.eth.get_block(
        w.ledger.events("LoanBook", "LoanProposed", argument_filters={"loanId": loan})[0][
            "blockNumber"
        ]
    )["timestamp"]
    assert view.expires_at == proposed_at + 30 * DAY
    # a raw zero in the terms means the default too
    req = raw_request(w, receivable_ids=[w.receivable()], expiry_days=0)
    propose_raw(w, req)
    assert w.get(loan + 1).expires_at > 0


# --------------------------------------------------------------- 6. policy and expiry


@pytest.mark.parametrize("stage", ["fund", "disburse"])
def test_a_tightened_apr_cap_is_enforced_at_funding_and_disbursement(w: World, stage: str) -> None:
    loan = w.open(w.request(rate_bps=2_000), until="ACCEPTED" if stage == "fund" else "FUNDED")
    w.as_("regulator").loans.set_policy("max_apr_bps", 1_500)
    if stage == "fund":
        e = refused(w.as_("bank").loans.fund, loan)
    else:
        e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "AprAboveCap"
    assert argsof(e) == {"rateBps": 2_000, "penaltyBps": 0, "maxAprBps": 1_500}
    w.as_("regulator").loans.set_policy("max_apr_bps", 2_400)
    w.as_("microloan").loans.cancel(loan)


def test_a_raised_originator_floor_and_a_lower_fee_cap_are_enforced_before_disbursement(
    w: World,
) -> None:
    loan = w.open(w.request(fee_share_bps=2_500, tech_partner=w.addr("tech")), until="FUNDED")
    w.as_("regulator").loans.set_policy("max_fee_share_bps", 2_000)
    e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "FeeShareAboveCap"
    w.as_("regulator").loans.set_policy("max_fee_share_bps", 3_000)
    w.as_("regulator").loans.set_policy("min_originator_share_bps", 4_000)
    e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "OriginatorShareTooLow"
    assert argsof(e) == {"shareBps": 3_000, "minBps": 4_000}
    w.as_("regulator").loans.set_policy("min_originator_share_bps", 3_000)
    w.as_("microloan").loans.disburse(loan)
    assert w.status(loan) == "DISBURSED"


@pytest.mark.parametrize("step", ["accept", "disburse"])
def test_an_expired_proposal_is_neither_accepted_nor_disbursed(w: World, step: str) -> None:
    loan = w.open(w.request(expiry_days=3), until="PROPOSED" if step == "accept" else "FUNDED")
    w.advance_to(w.get(loan).expires_at + 1)
    if step == "accept":
        e = refused(w.as_("supplier1").loans.accept, loan)
    else:
        e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "ProposalExpired"
    assert argsof(e)["loanId"] == loan
    if step == "disburse":
        w.as_("bank").loans.cancel(loan)
        assert w.status(loan) == "CANCELLED"


# --------------------------------------------------------------- 7. rounding carry


def test_a_stream_of_one_fen_repayments_cannot_avoid_interest(w: World) -> None:
    # The review: 87 one-fen repayments over 3 days accrued 0 fen instead of 82, because
    # interest was floored at every checkpoint. 1,000 fen at 10% accrue 0.0000317 fen a
    # second; one checkpoint every ~3,000 s floors each accrual to 0.
    rid = w.receivable()
    req = w.request(
        [rid],
        tranches=[w.tranche("microloan", 1_000_000)],
        rate_bps=1_000,
    )
    loan = w.open(req)
    start = w.get(loan).disbursed_at
    step = 3 * DAY // 87
    for k in range(1, 88):
        w.advance_to(start + k * step)
        w.as_("supplier1", fast=True).loans.repay(loan, 1)
    view = w.get(loan)
    assert len(view.settlements) == 87
    paid_interest = sum(sum(s.interest_fen) for s in view.settlements)
    exact = waterfall.interest_for(1_000_000, 1_000, view.settlements[-1].at - start)
    assert exact >= 82
    # interest paid + still due = the floor of the exact accrual over the whole time
    assert paid_interest + view.interest_due_fen == exact
    # and the contract agrees with the reference model fen for fen
    model = waterfall.quote(w.model(loan), [(s.at, s.amount_fen) for s in view.settlements])
    assert [s.interest_fen for s in model] == [tuple(s.interest_fen) for s in view.settlements]


# --------------------------------------------------------------- 5. self-issued receivables


def test_a_member_cannot_issue_a_receivable_to_itself(w: World) -> None:
    both = w.addr("core")
    w.ledger.as_signer("operator")._send(
        "Membership", "setRoles", both, 0b1100, gas=300_000
    )  # CORE_ENTERPRISE | SUPPLIER
    e = refused(
        w.as_("core").receivables.issue, both, 1_000_000, w.now() + 90 * DAY, os.urandom(32)
    )
    assert e.name == "SelfIssue"


def test_a_receivable_owed_by_the_borrower_cannot_back_its_loan(w: World) -> None:
    # supplier1 becomes a core enterprise too, issues to supplier2, which passes it back.
    s1, s2 = w.addr("supplier1"), w.addr("supplier2")
    roles = w.ledger.member(s1).roles
    assert roles == ["SUPPLIER"]
    w.ledger._send("Membership", "setRoles", s1, 0b1100, gas=300_000)
    own = w.as_("supplier1").receivables.issue(s2, 1_500_000, w.now() + 90 * DAY, os.urandom(32))
    w.as_("supplier2").receivables.accept(own.id)
    w.as_("supplier2").receivables.transfer(own.id, s1)
    loan = w.propose(w.request([own.id]))
    e = refused(w.as_("supplier1").loans.accept, loan)
    assert e.name == "DebtorIsBorrower"
    assert argsof(e) == {"id": own.id, "borrower": s1}


# --------------------------------------------------------------- 9. bounded lists


def test_receivables_and_payees_per_loan_are_capped(w: World) -> None:
    rids = [w.receivable(100_000) for _ in range(MAX_RECEIVABLES + 1)]
    req = raw_request(w, receivable_ids=rids)
    e = refused(propose_raw, w, req)
    assert e.name == "TooManyReceivables"
    assert argsof(e) == {"count": MAX_RECEIVABLES + 1, "max": MAX_RECEIVABLES}
    payees = [(w.addr("supplier2"), 1)] * 16 + [(w.addr("core"), 999_984)]
    e = refused(propose_raw, w, raw_request(w, receivable_ids=rids[:1], payees=payees))
    assert e.name == "TooManyPayees"
    assert argsof(e) == {"count": 17, "max": 16}


def test_a_loan_with_the_most_receivables_and_payees_closes_with_the_clients_gas(
    w: World,
) -> None:
    # The review: a loan with 18 receivables could not be closed with the client's fixed gas.
    rids = [w.receivable(100_000) for _ in range(MAX_RECEIVABLES)]
    payees = [(w.addr("supplier2"), 62_500)] * 16
    loan = w.open(w.request(rids, payees=payees))
    w.as_("core").loans.repay(loan, 1_100_000)
    assert w.status(loan) == "REPAID"
    assert all(w.rstatus(r) == "ACTIVE" for r in rids)


# --------------------------------------------------------------- 11. further findings


def test_a_senior_coupon_above_the_borrowers_rate_is_refused(w: World) -> None:
    req = w.request(
        tranches=[w.tranche("bank", 700_000, 1_001), w.tranche("microloan", 300_000)],
        rate_bps=1_000,
    )
    e = refused(w.propose, req)
    assert e.name == "CouponAboveRate"
    assert argsof(e) == {"index": 0, "couponBps": 1_001, "rateBps": 1_000}
    # at the rate is fine
    w.propose(
        w.request(
            tranches=[w.tranche("bank", 700_000, 1_000), w.tranche("microloan", 300_000)],
            rate_bps=1_000,
        )
    )


def test_receivables_pass_only_to_suppliers_and_lenders(w: World) -> None:
    rid = w.receivable(100_000)
    for name in ("core", "tech", "auditor", "regulator"):
        e = refused(w.as_("supplier1").receivables.transfer, rid, w.addr(name))
        assert e.name == "MissingRole", name
    w.as_("supplier1").receivables.transfer(rid, w.addr("bank"))  # a factor
    w.as_("bank").receivables.transfer(rid, w.addr("supplier2"))
    assert w.ledger.receivables.get(rid).holder == w.addr("supplier2")


def test_the_status_names_of_a_refused_payment_before_disbursement(w: World) -> None:
    rid = w.receivable(100_000)
    loan = w.open(w.request([rid]), until="ACCEPTED")
    e = refused(w.as_("core").receivables.pay, rid, 1)
    assert "ACCEPTED" in e.rule and e.args_by_name["status"] == ST["ACCEPTED"]
    w.as_("supplier1").loans.cancel(loan)


# --------------------------------------------------------------- 8. the sweep cannot be dodged


def test_payments_below_one_fen_of_share_add_up_and_are_swept(w: World) -> None:
    # The review: at 1% a payment under 100 fen was never swept (its share floored to 0).
    loan = w.open(w.request(sweep_bps=100))
    for _ in range(20):
        w.as_("core", fast=True).transfer(w.addr("supplier1"), 99)
    swept = [s.amount_fen for s in w.get(loan).settlements]
    assert sum(swept) == 20 * 99 * 100 // 10_000 == 19
    assert all(s.source == "SWEEP" for s in w.get(loan).settlements)


def test_another_loans_residual_paid_to_the_borrower_is_swept(w: World) -> None:
    # The review: the residual of a loan that does not sweep escaped the one that does.
    sweeping = w.open(w.request(sweep_bps=2_000))
    other = w.open(w.request())
    w.advance_to(w.now() + 10 * DAY)
    before = w.bal("supplier1")
    w.as_("core").loans.repay(other, 1_500_000)
    residual = w.get(other).settlements[-1].residual_fen
    assert w.status(other) == "REPAID" and residual > 0
    (s,) = w.get(sweeping).settlements
    assert (s.source, s.payer, s.amount_fen) == ("SWEEP", w.addr("core"), residual // 5)
    assert w.bal("supplier1") == before + residual - s.amount_fen + s.residual_fen
    # the sweeping loan's own residual is never swept by itself
    w.as_("core").loans.repay(sweeping, 1_500_000)
    assert len(w.get(sweeping).settlements) == 2 and w.status(sweeping) == "REPAID"


def test_the_swept_shares_follow_the_reference_model_with_its_carry(w: World) -> None:
    """Differential: random payments into a sweeping borrower's wallet, each swept share as
    `waterfall.sweep_share` says, the carry running across all of them."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    bps = 2_345
    loan = w.open(
        w.request(
            tranches=[w.tranche("bank", 70_000_000, 500), w.tranche("microloan", 30_000_000)],
            sweep_bps=bps,
            rids=[w.receivable(200_000_000)],
        )
    )
    state = {"carry": 0, "settled": 0}
    core = w.as_("core", fast=True)

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(amounts=st.lists(st.integers(1, 20_000), min_size=1, max_size=4))
    def payments(amounts: list[int]) -> None:
        for amount in amounts:
            share, state["carry"] = waterfall.sweep_share(amount, bps, state["carry"])
            before = w.bal("supplier1")
            core.transfer(w.addr("supplier1"), amount)
            settlements = w.get(loan).settlements
            if share:
                state["settled"] += 1
                assert settlements[-1].amount_fen == share
            assert len(settlements) == state["settled"]
            assert w.bal("supplier1") == before + amount - share + (
                settlements[-1].residual_fen if share else 0
            )

    payments()
