"""CoverBook on the embedded chain: the rules of DESIGN §6.2, each refusal naming its numbers.

Worked example 3 (test_cover_example.py) and the differential test check the money to the
fen; here each rule is checked on its own: the proposal rules (tech partner's cap and kind,
lenders' retention, repurchase by the debtor, roles), acceptance by the terms hash with the
margin deposited, funding held until every layer is accepted, margins back on repayment and
on cancellation, and after a default: honours only by the provider, capped at the principal
outstanding; breaches only after the due date, once; claims lapsing at 0.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.audit.trail import verify_trail
from ledger.engine.client import Ledger
from ledger.engine.loans import CoverRequest, LoanRequest, TrancheRequest
from ledger.errors import ContractRefusal
from ledger.models import Admission
from ledger.roles import Role

DAY = 86_400
PRINCIPAL = 10_000_000  # ¥100,000.00: bank senior 70%, microloan junior 30%


@pytest.fixture
def book(ledger: Ledger) -> Iterator[Ledger]:
    for name in ("guarantor", "insurer"):
        ledger.admit(Admission(address=ledger.resolve(name), roles=Role.GUARANTOR))
    issuer = ledger.as_signer("issuer")
    for name in ("guarantor", "insurer", "tech", "supplier1"):
        issuer.mint(ledger.resolve(name), 50_000_000)
    yield ledger


_docs = iter(range(1, 10**6))


def request(ledger: Ledger, *covers: CoverRequest) -> LoanRequest:
    r = ledger.resolve
    rid = (
        ledger.as_signer("core")
        .receivables.issue(
            r("supplier1"),
            2 * PRINCIPAL,
            int(ledger.chain.w3.eth.get_block("latest")["timestamp"]) + 200 * DAY,
            next(_docs).to_bytes(32, "big"),
        )
        .id
    )
    ledger.as_signer("supplier1").receivables.accept(rid)
    return LoanRequest(
        borrower=r("supplier1"),
        tranches=[
            TrancheRequest(lender=r("bank"), senior=True, amount_fen=7_000_000, coupon_bps=500),
            TrancheRequest(lender=r("microloan"), senior=False, amount_fen=3_000_000),
        ],
        receivable_ids=[rid],
        rate_bps=1000,
        term_days=30,
        covers=list(covers),
    )


def layer(
    ledger: Ledger, who: str, kind: str, share: int, cap: int, margin: int = 0
) -> CoverRequest:
    return CoverRequest(
        provider=ledger.resolve(who), kind=kind, share_bps=share, cap_fen=cap, margin_fen=margin
    )


def refused(name: str, fn: object, *args: object) -> str:
    with pytest.raises(ContractRefusal) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.name == name, str(info.value)
    return str(info.value)


def proposed(ledger: Ledger, *covers: CoverRequest) -> int:
    return ledger.as_signer("microloan").loans.propose(request(ledger, *covers)).id


def funded(ledger: Ledger, loan: int, providers: tuple[str, ...]) -> None:
    ledger.as_signer("supplier1").loans.accept(loan)
    for p in providers:
        ledger.as_signer(p).covers.accept(loan)
    ledger.as_signer("bank").loans.fund(loan)
    ledger.as_signer("microloan").loans.fund(loan)
    ledger.as_signer("microloan").loans.disburse(loan)


def test_a_tech_partner_guarantees_at_most_max_tech_cover_bps(book: Ledger) -> None:
    originator = book.as_signer("microloan").loans
    text = refused(
        "TechCoverAboveCap",
        originator.propose,
        request(book, layer(book, "tech", "GUARANTEE", 2001, 10**6)),
    )
    assert "20.01%" in text and "20.00%" in text and "max_tech_cover_bps" in text
    # Two layers of the same tech partner count together.
    refused(
        "TechCoverAboveCap",
        originator.propose,
        request(
            book,
            layer(book, "tech", "GUARANTEE", 1000, 10**6),
            layer(book, "tech", "GUARANTEE", 1001, 10**6),
        ),
    )
    refused(
        "TechPartnerCoverKind",
        originator.propose,
        request(book, layer(book, "tech", "INSURANCE", 1000, 10**6)),
    )
    assert originator.propose(request(book, layer(book, "tech", "GUARANTEE", 2000, 10**6))).id


def test_guarantee_and_insurance_leave_lenders_min_lender_retention_bps(book: Ledger) -> None:
    originator = book.as_signer("microloan").loans
    text = refused(
        "LenderRetentionTooLow",
        originator.propose,
        request(
            book,
            layer(book, "guarantor", "GUARANTEE", 5000, 10**7),
            layer(book, "insurer", "INSURANCE", 3001, 10**7),
        ),
    )
    assert "80.01%" in text and "19.99%" in text and "20.00%" in text
    # A repurchase is outside the retention rule but not beyond 100% in all.
    refused(
        "CoverSharesAboveWhole",
        originator.propose,
        request(
            book,
            layer(book, "guarantor", "GUARANTEE", 8000, 10**7),
            layer(book, "core", "REPURCHASE", 2001, 10**7),
        ),
    )
    assert originator.propose(
        request(
            book,
            layer(book, "guarantor", "GUARANTEE", 5000, 10**7),
            layer(book, "insurer", "INSURANCE", 3000, 10**7),
            layer(book, "core", "REPURCHASE", 2000, 10**7),
        )
    ).id
    book.as_signer("regulator").loans.set_policy("min_lender_retention_bps", 5000)
    refused(
        "LenderRetentionTooLow",
        originator.propose,
        request(book, layer(book, "guarantor", "GUARANTEE", 5001, 10**7)),
    )


def test_providers_need_the_role_of_their_kind(book: Ledger) -> None:
    originator = book.as_signer("microloan").loans
    refused(
        "MissingRole",
        originator.propose,
        request(book, layer(book, "bank", "GUARANTEE", 1000, 10**6)),
    )
    refused(
        "MissingRole",
        originator.propose,
        request(book, layer(book, "guarantor", "REPURCHASE", 1000, 10**6)),
    )
    # A core enterprise that owes none of the pledged receivables cannot promise repurchase.
    book.keyring.create("core2", dev=True)
    book.admit(Admission(address=book.resolve("core2"), roles=Role.CORE_ENTERPRISE))
    text = refused(
        "RepurchaseNotByDebtor",
        originator.propose,
        request(book, layer(book, "core2", "REPURCHASE", 1000, 10**6)),
    )
    assert "owes none of the pledged receivables" in text


def test_funding_waits_for_every_layer_and_margins_return_on_repayment(book: Ledger) -> None:
    loan = proposed(
        book,
        layer(book, "guarantor", "GUARANTEE", 4000, 5_000_000, 1_000_000),
        layer(book, "insurer", "INSURANCE", 3000, 5_000_000, 200_000),
    )
    book.as_signer("supplier1").loans.accept(loan)
    text = refused("CoverNotAccepted", book.as_signer("bank").loans.fund, loan)
    assert "layer 1 by guarantor" in text
    refused("NoLayerToAccept", book.as_signer("bank").covers.accept, loan)
    refused("CoverTermsMismatch", book.as_signer("guarantor").covers.accept, loan, b"\1" * 32)
    before = book.balance_fen(book.resolve("guarantor"))
    book.as_signer("guarantor").covers.accept(loan)
    assert book.balance_fen(book.resolve("guarantor")) == before - 1_000_000
    refused("NoLayerToAccept", book.as_signer("guarantor").covers.accept, loan)
    refused("CoverNotAccepted", book.as_signer("bank").loans.fund, loan)
    book.as_signer("insurer").covers.accept(loan)
    assert book.balance_fen(book.deployment.address("CoverBook")) == 1_200_000
    book.as_signer("bank").loans.fund(loan)
    book.as_signer("microloan").loans.fund(loan)
    book.as_signer("microloan").loans.disburse(loan)
    book.as_signer("supplier1").loans.repay(loan, 2 * PRINCIPAL)
    assert book.loans.get(loan).status == "REPAID"
    assert book.balance_fen(book.resolve("guarantor")) == before
    assert book.balance_fen(book.deployment.address("CoverBook")) == 0
    (released,) = book.events("CoverBook", "CoverReleased", argument_filters={"loanId": loan})
    assert list(released["args"]["marginsFen"]) == [1_000_000, 200_000]
    assert verify_trail(book).ok


def test_cancelling_returns_the_margins_deposited_and_closes_the_cover(book: Ledger) -> None:
    loan = proposed(
        book,
        layer(book, "guarantor", "GUARANTEE", 4000, 5_000_000, 1_000_000),
        layer(book, "insurer", "INSURANCE", 3000, 5_000_000, 200_000),
    )
    before = book.balance_fen(book.resolve("guarantor"))
    book.as_signer("guarantor").covers.accept(loan)
    book.as_signer("microloan").loans.cancel(loan)
    assert book.balance_fen(book.resolve("guarantor")) == before
    (released,) = book.events("CoverBook", "CoverReleased", argument_filters={"loanId": loan})
    assert list(released["args"]["marginsFen"]) == [1_000_000, 0]
    refused("CoverClosed", book.as_signer("insurer").covers.accept, loan)


def test_after_a_default_claims_are_honoured_breached_and_lapse(book: Ledger) -> None:
    # G's margin exceeds what it owes: the rest goes back at the default.
    loan = proposed(
        book,
        layer(book, "guarantor", "GUARANTEE", 1000, 10_000_000, 1_500_000),
        layer(book, "insurer", "INSURANCE", 5000, 3_000_000),
        layer(book, "core", "REPURCHASE", 2000, 10_000_000, 100_000),
    )
    funded(book, loan, ("guarantor", "insurer", "core"))
    insurer = book.as_signer("insurer").covers
    refused("NotDefaulted", insurer.honour, loan, 1, 1)
    book.chain.advance_time(121 * DAY)  # 30-day term + 90 default days
    g_before = book.balance_fen(book.resolve("guarantor"))
    book.loans.declare_default(loan)
    view = book.covers.view(loan)
    # D = 10,000,000: G owes 1,000,000 (its margin pays it, 500,000 back); I owes 5,000,000
    # capped at 3,000,000; R owes 2,000,000 (its margin pays 100,000); the pool is empty.
    assert [(x.owed_fen, x.paid_fen) for x in view.layers] == [
        (1_000_000, 1_000_000),
        (3_000_000, 0),
        (2_000_000, 100_000),
    ]
    assert book.balance_fen(book.resolve("guarantor")) == g_before + 500_000
    assert book.loans.get(loan).outstanding_fen == PRINCIPAL - 1_100_000
    refused("NotProvider", book.as_signer("guarantor").covers.honour, loan, 1, 1)
    refused("NothingClaimed", book.as_signer("guarantor").covers.honour, loan, 0, 1)
    text = refused("HonourAboveClaim", insurer.honour, loan, 1, 3_000_001)
    assert "¥30,000.01" in text and "¥30,000.00" in text
    insurer.honour(loan, 1, 1_000_000)  # a partial honour
    refused("ClaimNotDue", book.as_signer("bank").covers.breach, loan, 1)
    book.chain.advance_time(31 * DAY)
    book.as_signer("bank").covers.breach(loan, 1)
    refused("AlreadyBreached", book.as_signer("bank").covers.breach, loan, 1)
    refused("UnknownLayer", book.as_signer("bank").covers.breach, loan, 7)
    insurer.honour(loan, 1, 2_000_000)  # late, after the breach: still payable
    view = book.covers.view(loan)
    assert (view.layers[1].paid_fen, view.layers[1].breached) == (3_000_000, True)
    # The borrower repays all but 50,000 of principal; R's claim is then capped there.
    loan_view = book.loans.get(loan)
    book.as_signer("supplier1").loans.repay(
        loan, loan_view.interest_due_fen + loan_view.outstanding_fen - 50_000
    )
    core = book.as_signer("core").covers
    core.honour(loan, 2, 1_000_000)
    view = book.covers.view(loan)
    assert view.layers[2].paid_fen == 100_000 + 50_000
    assert book.loans.get(loan).outstanding_fen == 0
    assert view.layers[2].lapsed and view.layers[2].unpaid_fen == 0
    refused("ClaimLapsed", core.honour, loan, 2, 1)
    refused("ClaimLapsed", book.as_signer("bank").covers.breach, loan, 2)
    assert verify_trail(book).ok


def test_the_new_policy_parameters_are_set_by_a_regulator(book: Ledger) -> None:
    p = book.loans.policy()
    assert (p.max_tech_cover_bps, p.min_lender_retention_bps, p.claim_days) == (2000, 2000, 30)
    regulator = book.as_signer("regulator").loans
    regulator.set_policy("claim_days", 45)
    regulator.set_policy("max_tech_cover_bps", 1000)
    assert book.loans.policy().claim_days == 45
    refused("ParameterOutOfRange", regulator.set_policy, "min_lender_retention_bps", 10_001)
    refused("MissingRole", book.as_signer("bank").loans.set_policy, "claim_days", 1)


def test_money_the_cover_book_owes_a_suspended_provider_is_held_never_blocks(
    book: Ledger,
) -> None:
    """DESIGN §6.1 for cover: a margin coming back (at repayment, at a default) and a
    reimbursement reach a suspended provider's held balance; the loan's repayment, default
    and recovery go through for everyone else; the provider's own actions stay refused."""
    r = book.resolve
    regulator = book.as_signer("regulator")
    cover_book = book.deployment.address("CoverBook")
    g0 = book.balance_fen(r("guarantor"))

    # A margin back at repayment, to a suspended guarantor.
    a = proposed(book, layer(book, "guarantor", "GUARANTEE", 4000, 3_000_000, 500_000))
    funded(book, a, ("guarantor",))
    b = proposed(book, layer(book, "guarantor", "GUARANTEE", 4000, 3_000_000))
    book.as_signer("supplier1").loans.accept(b)
    regulator.suspend(r("guarantor"))
    refused("MemberNotActive", book.as_signer("guarantor").covers.accept, b)
    # nor is a suspended provider taken on in a new proposal
    refused("MemberNotActive", proposed, book, layer(book, "guarantor", "GUARANTEE", 1000, 10**6))
    book.as_signer("supplier1").loans.repay(a, 2 * PRINCIPAL)
    assert book.loans.get(a).status == "REPAID"
    assert book.held_fen(r("guarantor")) == 500_000
    assert book.balance_fen(r("guarantor")) == g0 - 500_000
    assert book.balance_fen(cover_book) == 0
    regulator.reinstate(r("guarantor"))
    book.as_signer("guarantor").claim_held()
    assert (book.balance_fen(r("guarantor")), book.held_fen(r("guarantor"))) == (g0, 0)

    # At a default: the margin's rest back, then a recovery's reimbursement, both held.
    c = proposed(
        book,
        layer(book, "guarantor", "GUARANTEE", 4000, 5_000_000, 5_000_000),
        layer(book, "insurer", "INSURANCE", 3000, 10**7),
    )
    funded(book, c, ("guarantor", "insurer"))
    book.chain.advance_time(121 * DAY)
    for name in ("guarantor", "insurer"):
        regulator.suspend(r(name))
    book.as_signer("bank").loans.declare_default(c)
    view = book.covers.view(c)
    g, i = view.layers
    # owed 40% of 10,000,000 = 4,000,000 ≤ cap: the margin pays it, 1,000,000 comes back
    assert (g.owed_fen, g.paid_fen, i.owed_fen, i.paid_fen) == (4_000_000, 4_000_000, 3_000_000, 0)
    assert book.held_fen(r("guarantor")) == 1_000_000
    refused(
        "MemberNotActive", book.as_signer("insurer").covers.honour, c, 1, 1_000_000
    )  # its own action
    book.as_signer("supplier1").loans.repay(c, 2 * PRINCIPAL)  # a recovery: all back
    view = book.covers.view(c)
    assert view.layers[0].reimbursed_fen == 4_000_000
    assert book.held_fen(r("guarantor")) == 1_000_000 + 4_000_000
    assert book.held_fen(r("insurer")) == 0  # it paid nothing, so nothing comes back to it
    assert book.loans.get(c).status == "REPAID"
    assert book.balance_fen(cover_book) == 0
