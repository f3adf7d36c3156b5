"""Staged drawdown (分期提款, DESIGN §6.4) on the embedded chain.

A story like the acceptance scenario — a stage refused before its day, exact stage payments,
a repayment whose split equals the reference model with interest on drawn principal only,
lapse from maturity — and every refusal of `draw`, `lapse` and of staged terms, the lapse
of undrawn stages when a loan is repaid or defaulted, rounding that would overdraw a
tranche, and unstaged loans' terms documents unchanged. After every test: the loan book's
e-CNY equals the funding it holds plus the undrawn stages, and the audit trail verifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi import decode, encode
from web3.logs import DISCARD

from ledger.audit.trail import verify_trail
from ledger.engine.client import Ledger
from ledger.engine.loans import STAGED_TERMS_TYPES, TERMS_TYPES, LoanRequest, decode_terms
from ledger.reference import stages, waterfall
from tests.contracts.test_loan_book import (
    DAY,
    OPEN_FOR_FUNDING,
    World,
    argsof,
    entries_of,
    raw_request,
    refused,
)


def book_holds(ledger: Ledger) -> int:
    """What the loan book should hold: funding of loans not yet disbursed, plus the undrawn
    stages of disbursed ones (from the terms and the stage events)."""
    book = ledger.contract("LoanBook").functions
    held = 0
    for loan in range(1, int(book.nextLoanId().call())):
        info = book.loanOf(loan).call()
        if info[0] in OPEN_FOR_FUNDING:
            for i in range(int(info[10])):
                t = book.trancheOf(loan, i).call()
                if t[6]:
                    held += int(t[2])
        elif info[6]:  # disbursed at some point
            held += ledger.loans.get(loan).undrawn_fen
    return held


@pytest.fixture(autouse=True)
def _books_balance(ledger: Ledger) -> Iterator[None]:
    yield
    assert ledger.balance_fen(ledger.deployment.address("LoanBook")) == book_holds(ledger)
    verdict = verify_trail(ledger)
    assert verdict.ok, verdict


@pytest.fixture
def w(ledger: Ledger) -> World:
    world = World(ledger)
    world.as_("issuer", fast=True).mint(world.addr("supplier1"), 5_000_000)
    return world


def staged(w: World, **kw: Any) -> LoanRequest:
    """bank senior 700,000 fen at 5% + microloan junior 300,000, 10%, 90 days; supplier2 gets
    400,000 at disbursement, core 350,000 from day 30, supplier2 250,000 from day 60."""
    fields: dict[str, Any] = {
        "payees": [
            (w.addr("supplier2"), 400_000),
            (w.addr("core"), 350_000),
            (w.addr("supplier2"), 250_000),
        ],
        "payee_stages": [0, 1, 2],
        "stage_days": {1: 30, 2: 60},
    }
    fields.update(kw)
    return w.request(**fields)


def drawn_event(w: World, sent: Any) -> dict[str, Any]:
    book = w.ledger.contract("LoanBook")
    (event,) = book.events.StageDrawn().process_receipt(sent.receipt, errors=DISCARD)
    return dict(event["args"])


def lapsed_events(w: World, sent: Any) -> list[dict[str, Any]]:
    book = w.ledger.contract("LoanBook")
    return [
        dict(e["args"])
        for e in book.events.StagesLapsed().process_receipt(sent.receipt, errors=DISCARD)
    ]


def at(w: World, sent: Any) -> int:
    return int(w.ledger.chain.w3.eth.get_block(sent.block)["timestamp"])


def outstanding(w: World, loan: int) -> list[int]:
    book = w.ledger.contract("LoanBook").functions
    return [int(book.trancheOf(loan, i).call()[4]) for i in range(2)]


# =========================================================================== the story


def test_a_staged_loan_pays_each_stage_exactly_and_charges_interest_on_drawn_money_only(
    w: World,
) -> None:
    req = staged(w)
    before = w.balances("supplier2", "core", "bank", "microloan")
    loan = w.open(req)
    view = w.get(loan)
    t0 = view.disbursed_at
    # Stage 0 only: 400,000 to supplier2, drawn 280,000 / 120,000 by commitment (70/30).
    assert w.bal("supplier2") - before["supplier2"] == 400_000
    assert outstanding(w, loan) == [280_000, 120_000]
    assert view.outstanding_fen == 400_000 and view.undrawn_fen == 600_000
    assert [(s.stage, s.day, s.amount_fen, s.drawn_at) for s in view.stages] == [
        (0, 0, 400_000, t0),
        (1, 30, 350_000, None),
        (2, 60, 250_000, None),
    ]
    terms = req.model_terms(t0)
    first, state, undrawn = stages.start(terms, 400_000)
    assert first.principal_fen == (280_000, 120_000)

    # Stage 1 before its day: refused, naming the day and now.
    borrower = w.as_("supplier1")
    e = refused(borrower.loans.draw, loan, 1)
    assert e.name == "StageNotYetDue"
    assert argsof(e)["dueAt"] == t0 + 30 * DAY and argsof(e)["stage"] == 1
    assert "may be drawn from" in e.rule
    # Only the borrower draws.
    e = refused(w.as_("bank").loans.draw, loan, 1)
    assert e.name == "NotBorrower"

    w.advance_to(t0 + 30 * DAY)
    core_before = w.bal("core")
    sent = borrower.loans.draw(loan, 1)
    ev = drawn_event(w, sent)
    assert w.bal("core") - core_before == 350_000
    assert list(ev["principalFen"]) == [245_000, 105_000]
    assert list(ev["amountsFen"]) == [350_000] and ev["amountFen"] == 350_000
    drawn, state, undrawn = stages.draw(terms, state, undrawn, 350_000, at(w, sent))
    assert drawn.principal_fen == (245_000, 105_000)
    assert outstanding(w, loan) == [525_000, 225_000]
    # Interest accrued to the draw on 400,000 only, as the model says.
    assert w.get(loan).interest_due_fen == waterfall.accrue(terms, state, w.now()).interest_due_fen
    e = refused(borrower.loans.draw, loan, 1)
    assert e.name == "StageAlreadyDrawn" and argsof(e)["drawnAt"] == at(w, sent)
    assert len(entries_of(w, "LOAN_STAGE_DRAWN")) == 1

    # A repayment at day 45: its split is the model's, on drawn principal only.
    w.advance_to(t0 + 45 * DAY)
    sent = borrower.loans.repay(loan, 100_000)
    model, state = waterfall.settle(terms, state, 100_000, at(w, sent))
    chain = w.ledger.loans.settlements(loan)[-1]
    assert (chain.fee_fen, chain.provision_fen, chain.interest_fen, chain.principal_fen) == (
        model.fee_fen,
        model.provision_fen,
        list(model.interest_fen),
        list(model.principal_fen),
    )
    # interest on the whole commitment would have been more
    whole = waterfall.accrue(terms, waterfall.LoanState.initial(terms), at(w, sent))
    assert sum(model.interest_fen) < whole.interest_due_fen

    # Stage 2 is never drawn: lapse is refused before maturity, then returns it.
    e = refused(w.as_("bank").loans.lapse, loan)
    assert e.name == "LapseBeforeMaturity"
    assert argsof(e)["maturityAt"] == t0 + 90 * DAY
    w.advance_to(t0 + 90 * DAY)
    e = refused(borrower.loans.draw, loan, 2)
    assert e.name == "StageLapsed" and argsof(e)["maturityAt"] == t0 + 90 * DAY
    e = refused(w.as_("supplier2").loans.lapse, loan)
    assert e.name == "NotPartyToLoan"
    mid = w.balances("bank", "microloan")
    sent = w.as_("bank").loans.lapse(loan)
    (lapse_ev,) = lapsed_events(w, sent)
    refunds, undrawn = stages.lapse(undrawn)
    assert list(lapse_ev["stages"]) == [2]
    assert list(lapse_ev["refundsFen"]) == list(refunds) == [175_000, 75_000]
    assert w.bal("bank") - mid["bank"] == 175_000
    assert w.bal("microloan") - mid["microloan"] == 75_000
    assert refused(w.as_("bank").loans.lapse, loan).name == "NothingToLapse"
    assert [s.lapsed for s in w.get(loan).stages] == [False, False, True]

    # Repay everything: the model closes it too; lenders got back exactly principal + interest.
    owed = waterfall.accrue(terms, state, w.now() + 1)
    total = owed.interest_due_fen + owed.principal_outstanding_fen + 50
    sent = borrower.loans.repay(loan, total)
    model, state = waterfall.settle(terms, state, total, at(w, sent))
    assert state.repaid and w.status(loan) == "REPAID"
    assert lapsed_events(w, sent) == []  # nothing left to lapse at close
    assert w.get(loan).settlements[-1].principal_fen == list(model.principal_fen)
    assert w.exposure("bank") == 0 and w.exposure("microloan") == 0
    paid_bank = sum(s.interest_fen[0] + s.principal_fen[0] for s in w.get(loan).settlements)
    assert w.bal("bank") - before["bank"] == paid_bank - 700_000 + 175_000


def test_repaying_in_full_before_a_stage_lapses_it_in_the_same_transaction(w: World) -> None:
    loan = w.open(staged(w))
    t0 = w.get(loan).disbursed_at
    w.advance_to(t0 + 10 * DAY)
    before = w.balances("bank", "microloan")
    sent = w.as_("supplier1").loans.repay(loan, 500_000)
    assert w.status(loan) == "REPAID"
    (ev,) = lapsed_events(w, sent)
    assert list(ev["stages"]) == [1, 2]
    assert list(ev["refundsFen"]) == [420_000, 180_000]
    settled = w.get(loan).settlements[-1]
    assert w.bal("bank") - before["bank"] == 420_000 + settled.interest_fen[0] + 280_000
    assert w.bal("microloan") - before["microloan"] == 180_000 + settled.interest_fen[1] + 120_000
    assert len(entries_of(w, "LOAN_STAGES_LAPSED")) == 1
    assert refused(w.as_("supplier1").loans.draw, loan, 1).name == "WrongLoanStatus"


def test_a_default_lapses_the_undrawn_stages_and_covers_drawn_principal_only(w: World) -> None:
    w.as_("regulator").loans.set_policy("default_days", 1)
    loan = w.open(staged(w))
    t0 = w.get(loan).disbursed_at
    w.advance_to(t0 + 91 * DAY + 1)
    before = w.balances("bank", "microloan")
    sent = w.as_("bank").loans.declare_default(loan)
    (ev,) = lapsed_events(w, sent)
    assert list(ev["refundsFen"]) == [420_000, 180_000]
    assert w.bal("bank") - before["bank"] == 420_000  # the pool is empty: no cover
    view = w.get(loan)
    assert view.status == "DEFAULTED" and view.outstanding_fen == 400_000
    assert view.undrawn_fen == 0


def prudential_books(w: World, loan: int) -> dict[str, int]:
    """The Prudential contract's books (DESIGN §6.6) that a staged loan touches: each
    lender's funded book and exposure to the borrower's group, the tech partner's book."""
    prudential = w.ledger.contract("Prudential").functions
    group = bytes(prudential.groupOfLoan(loan).call())
    if group == bytes(32):  # no group: the borrower's own key
        group = bytes(12) + bytes.fromhex(w.addr("supplier1")[2:])
    books: dict[str, int] = {}
    for name in ("bank", "microloan"):
        books[f"{name} book"] = int(prudential.bookOf(w.addr(name)).call())
        books[f"{name} group"] = int(prudential.groupExposureOf(w.addr(name), group).call())
    tech = w.tech_book("tech")
    books["tech outstanding"] = tech.outstanding_fen
    books["tech defaulted"] = tech.defaulted_fen
    return books


def moved(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in before if after[k] != before[k]}


def test_a_lapse_takes_the_undrawn_money_off_the_prudential_books(w: World) -> None:
    # Funded and disbursed, the loan counts its committed principal, drawn or not; a draw
    # changes nothing there; the lapse from maturity takes what went back off each lender's
    # book and group exposure and off the tech partner's book; the repayment the rest.
    req = staged(w, fee_share_bps=1_000, tech_partner=w.addr("tech"))
    start = prudential_books(w, 0)
    loan = w.open(req)
    t0 = w.get(loan).disbursed_at
    committed = {
        "bank book": 700_000,
        "bank group": 700_000,
        "microloan book": 300_000,
        "microloan group": 300_000,
        "tech outstanding": 1_000_000,
    }
    assert moved(start, prudential_books(w, loan)) == committed
    w.advance_to(t0 + 30 * DAY)
    w.as_("supplier1").loans.draw(loan, 1)
    assert moved(start, prudential_books(w, loan)) == committed
    w.advance_to(t0 + 90 * DAY)
    before = prudential_books(w, loan)
    sent = w.as_("bank").loans.lapse(loan)
    (ev,) = lapsed_events(w, sent)
    assert list(ev["stages"]) == [2] and list(ev["refundsFen"]) == [175_000, 75_000]
    assert moved(before, prudential_books(w, loan)) == {
        "bank book": -175_000,
        "bank group": -175_000,
        "microloan book": -75_000,
        "microloan group": -75_000,
        "tech outstanding": -250_000,
    }
    owed = w.ledger.contract("LoanBook").functions.loanOf(loan).call()
    w.as_("supplier1").loans.repay(loan, int(owed[4]) + int(owed[5]) + 1_000)
    assert w.status(loan) == "REPAID"
    assert moved(start, prudential_books(w, loan)) == {}


def test_a_default_lapses_stages_off_the_prudential_books_and_defaults_drawn_principal(
    w: World,
) -> None:
    w.as_("regulator").loans.set_policy("default_days", 1)
    req = staged(w, fee_share_bps=1_000, tech_partner=w.addr("tech"))
    start = prudential_books(w, 0)
    loan = w.open(req)
    t0 = w.get(loan).disbursed_at
    w.advance_to(t0 + 91 * DAY + 1)
    w.as_("bank").loans.declare_default(loan)
    # Stage 0 (400,000) was drawn; stages 1 and 2 (600,000) lapsed, leaving the books; the
    # drawn principal stays in them, defaulted (the pool is empty: no cover).
    assert moved(start, prudential_books(w, loan)) == {
        "bank book": 280_000,
        "bank group": 280_000,
        "microloan book": 120_000,
        "microloan group": 120_000,
        "tech outstanding": 400_000,
        "tech defaulted": 400_000,
    }


def test_cancelling_a_staged_loan_refunds_whole_tranches(w: World) -> None:
    loan = w.open(staged(w), until="FUNDED")
    before = w.balances("bank", "microloan")
    w.as_("microloan").loans.cancel(loan)
    assert w.bal("bank") - before["bank"] == 700_000
    assert w.bal("microloan") - before["microloan"] == 300_000
    assert all(s.lapsed for s in w.get(loan).stages)


# =========================================================================== rules


def test_draw_refusals_name_the_rule_and_numbers(w: World) -> None:
    loan = w.open(staged(w), until="FUNDED")
    borrower = w.as_("supplier1")
    e = refused(borrower.loans.draw, loan, 1)
    assert e.name == "WrongLoanStatus"
    w.as_("microloan", fast=True).loans.disburse(loan)
    e = refused(borrower.loans.draw, loan, 0)
    assert e.name == "StageAlreadyDrawn" and argsof(e)["stage"] == 0
    e = refused(borrower.loans.draw, loan, 3)
    assert e.name == "UnknownStage" and argsof(e)["stages"] == 3
    e = refused(borrower.loans.draw, 99, 1)
    assert e.name == "UnknownLoan"
    # A payee of the stage who is suspended: a targeted payment is never held.
    w.advance_to(w.get(loan).disbursed_at + 30 * DAY)
    w.as_("regulator").suspend(w.addr("core"))
    e = refused(borrower.loans.draw, loan, 1)
    assert e.name == "MemberNotActive"
    w.as_("regulator").reinstate(w.addr("core"))
    borrower.loans.draw(loan, 1)
    # An unstaged loan has only stage 0, drawn at disbursement; nothing lapses.
    plain = w.open()
    assert refused(borrower.loans.draw, plain, 0).name == "StageAlreadyDrawn"
    assert refused(borrower.loans.draw, plain, 1).name == "UnknownStage"
    w.advance_to(w.get(plain).maturity_at)
    assert refused(w.as_("operator").loans.lapse, plain).name == "NothingToLapse"


def test_the_operator_and_the_borrower_may_lapse_from_maturity(w: World) -> None:
    for who in ("operator", "supplier1"):
        loan = w.open(staged(w))
        w.advance_to(w.get(loan).maturity_at)
        sent = w.as_(who).loans.lapse(loan)
        assert list(lapsed_events(w, sent)[0]["stages"]) == [1, 2]
        assert w.get(loan).undrawn_fen == 0


@pytest.mark.parametrize(
    ("payee_stages", "days", "error", "args"),
    [
        ([0, 2, 2], [30, 40], "StageWithoutPayees", {"stage": 1}),
        ([0, 1, 3], [30, 40], "StageWithoutDay", {"stage": 3}),
        ([0, 1, 2], [30, 90], "StageDayNotBeforeMaturity", {"stage": 2, "day": 90, "termDays": 90}),
        ([0, 1], [30], "StagesMismatch", {"payees": 3, "stages": 2}),
        ([0, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8], "TooManyStages", {"count": 9, "max": 8}),
    ],
)
def test_staged_terms_are_checked_on_chain(
    w: World, payee_stages: list[int], days: list[int], error: str, args: dict[str, int]
) -> None:
    rid = w.receivable()
    req = raw_request(
        w,
        receivable_ids=[rid],
        payees=[
            (w.addr("supplier2"), 400_000),
            (w.addr("core"), 350_000),
            (w.addr("supplier2"), 250_000),
        ],
    )
    head = decode(TERMS_TYPES, req.terms_document())
    document = encode(STAGED_TERMS_TYPES, [*head, payee_stages, days])
    e = refused(w.as_("microloan")._send, "LoanBook", "propose", document, gas=1_500_000)
    assert e.name == error
    assert argsof(e) == args


def test_the_client_refuses_incomplete_stages_before_sending(w: World) -> None:
    with pytest.raises(ValueError, match="stage 1 needs its day"):
        staged(w, stage_days={2: 60})
    with pytest.raises(ValueError, match="stage 1 has no payee"):
        staged(w, payee_stages=[0, 2, 2])
    with pytest.raises(ValueError, match="before maturity"):
        staged(w, stage_days={1: 30, 2: 90})


# =========================================================================== splits


def test_rounding_never_overdraws_a_tranche_and_the_last_stage_takes_what_is_left(
    w: World,
) -> None:
    """Three equal tranches of 100 fen and three stages of 100: by commitment each stage is
    34/33/33, which would draw 102 from the first; the last stage is split by undrawn money."""
    req = w.request(
        tranches=[w.tranche("microloan", 100), w.tranche("bank", 100), w.tranche("bank", 100)],
        payees=[(w.addr("supplier2"), 100), (w.addr("core"), 100), (w.addr("supplier2"), 100)],
        payee_stages=[0, 1, 2],
        stage_days={1: 1, 2: 1},
    )
    w.as_("regulator").loans.set_policy("min_originator_share_bps", 0)
    loan = w.open(req)
    terms = req.model_terms(w.get(loan).disbursed_at)
    _, state, undrawn = stages.start(terms, 100)
    w.advance_to(w.get(loan).disbursed_at + DAY)
    parts = []
    for k in (1, 2):
        sent = w.as_("supplier1").loans.draw(loan, k)
        drawn, state, undrawn = stages.draw(terms, state, undrawn, 100, at(w, sent))
        assert list(drawn_event(w, sent)["principalFen"]) == list(drawn.principal_fen)
        parts.append(list(drawn.principal_fen))
    assert parts == [[34, 33, 33], [32, 34, 34]]
    book = w.ledger.contract("LoanBook").functions
    assert [int(book.trancheOf(loan, i).call()[4]) for i in range(3)] == [100, 100, 100]
    assert undrawn == (0, 0, 0)


def test_an_unstaged_terms_document_is_exactly_as_before(w: World) -> None:
    req = w.request([1])
    payees = req.effective_payees()
    terms = (
        req.borrower,
        "0x" + "00" * 20,
        1000,
        0,
        90,
        0,
        0,
        0,
        0,
        0,
        30,
    )
    tranches = [(t.lender, t.senior, t.amount_fen, t.coupon_bps) for t in req.tranches]
    legacy = encode(
        TERMS_TYPES, [terms, tranches, [1], [p for p, _ in payees], [a for _, a in payees], []]
    )
    assert req.terms_document() == legacy
    assert not decode_terms(legacy).staged
    back = decode_terms(staged(w, receivable_ids=[1]).terms_document())
    assert back.payee_stages == [0, 1, 2] and back.stage_days == {1: 30, 2: 60}
