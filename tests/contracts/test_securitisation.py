"""Securitisation (DESIGN §6.5): deals of pooled tranches with note classes.

The rules refused on-chain with their numbers (fee cap, class sums, retention, locked
tranches, early write-off), close at par in one transaction, the note waterfall compared
with the reference model distribution by distribution, write-offs junior first, claims by
per-unit accounting, and the deal's books equal to its account's e-CNY balance after every
step.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.engine.client import Ledger
from ledger.engine.markets.deals import ClassRequest, DealRequest
from ledger.models import Admission
from ledger.reference import securitisation as model
from ledger.roles import Role
from tests.contracts.test_loan_book import DAY, World, argsof, check_no_value_stranded, refused
from tests.security import support

POOL = 1_000_000


@pytest.fixture(autouse=True)
def _nothing_stranded(ledger: Ledger) -> Iterator[None]:
    yield
    check_no_value_stranded(ledger)
    check_books(ledger)


def check_books(ledger: Ledger) -> None:
    assert support.deal_books_match_balances(ledger) == []


@pytest.fixture
def w(ledger: Ledger) -> World:
    world = World(ledger)
    for name, roles, assets in (
        ("inv", Role.INVESTOR, 0),
        ("inv2", Role.INVESTOR, 0),
    ):
        ledger.keyring.create(name, dev=True)
        ledger._names = None
        ledger.admit(Admission(address=world.addr(name), roles=roles, net_assets_fen=assets))
        ledger.as_signer("issuer").mint(world.addr(name), 5_000_000)
    return world


def pooled_loan(w: World, fen: int = POOL) -> int:
    """A disbursed loan whose one junior tranche (microloan, the originator) is `fen`."""
    req = w.request(tranches=[w.tranche("microloan", fen)])
    return w.open(req)


def request(loan: int, classes: list[tuple[str, int, int]], **kw: object) -> DealRequest:
    fields: dict[str, object] = {
        "tranches": [(loan, 0)],
        "classes": [ClassRequest(name=n, amount_fen=a, coupon_bps=c) for n, a, c in classes],
        "servicer": kw.pop("servicer"),
        "fee_bps": 50,
        "period_days": 30,
    }
    fields.update(kw)
    return DealRequest(**fields)  # type: ignore[arg-type]


THREE = [("A", 800_000, 500), ("B", 150_000, 800), ("J", 50_000, 0)]


def open_deal(w: World, classes: list[tuple[str, int, int]] = THREE) -> tuple[int, int]:
    loan = pooled_loan(w, sum(a for _, a, _ in classes))
    deal, _ = w.as_("microloan").deals.create(request(loan, classes, servicer=w.addr("tech")))
    return deal, loan


def fill(w: World, deal: int, classes: list[tuple[str, int, int]] = THREE) -> None:
    subscribers = ["inv", "bank", "inv2", "inv", "inv2"]
    for c, (_, amount, _) in enumerate(classes):
        who = "microloan" if c == len(classes) - 1 else subscribers[c]
        w.as_(who).deals.subscribe(deal, c, amount)


def test_fee_cap_class_sums_and_retention_are_refused_with_their_numbers(w: World) -> None:
    loan = pooled_loan(w)
    deals = w.as_("microloan").deals
    e = refused(deals.create, request(loan, THREE, servicer=w.addr("tech"), fee_bps=51))
    assert e.name == "ServicingFeeAboveCap"
    assert argsof(e) == {"feeBps": 51, "maxBps": 50}
    short = [("A", 800_000, 500), ("J", 199_999, 0)]
    e = refused(deals.create, request(loan, short, servicer=w.addr("tech")))
    assert e.name == "ClassesNotPool"
    assert argsof(e) == {"classesFen": 999_999, "poolFen": 1_000_000}
    thin = [("A", 950_001, 500), ("J", 49_999, 0)]
    e = refused(deals.create, request(loan, thin, servicer=w.addr("tech")))
    assert e.name == "JuniorBelowRetention"
    assert argsof(e) == {"juniorFen": 49_999, "retentionFen": 50_000}
    e = refused(deals.create, request(loan, THREE, servicer=w.addr("supplier2")))
    assert e.name == "InvalidServicer"
    # a tranche the caller does not hold
    e = refused(w.as_("bank").deals.create, request(loan, THREE, servicer=w.addr("bank")))
    assert e.name == "NotTrancheHolder"


def test_a_deal_locks_its_tranches_closes_at_par_and_keeps_the_retention(w: World) -> None:
    deal, loan = open_deal(w)
    e = refused(w.as_("microloan").tranches.offer, loan, 0, w.addr("bank"), 1, 7)
    assert e.name == "TrancheInDeal" and argsof(e)["dealId"] == deal
    e = refused(w.as_("microloan").deals.close, deal)
    assert e.name == "NotFullySubscribed"
    e = refused(w.as_("supplier1").deals.subscribe, deal, 0, 1)
    assert e.name == "NotNoteHolderRole"
    fill(w, deal)
    e = refused(w.as_("inv").deals.subscribe, deal, 0, 1)
    assert e.name == "OverSubscribed"
    before = w.bal("microloan")
    w.as_("microloan").deals.close(deal)
    view = w.ledger.deals.get(deal)
    assert view.status == "CLOSED"
    assert w.bal("microloan") - before == POOL  # every subscription, itself included
    assert w.get(loan).tranches[0].lender == view.account
    assert view.retention_fen == 50_000 == view.originator_junior_fen
    e = refused(w.as_("microloan").deals.transfer, deal, 2, w.addr("inv"), 1)
    assert e.name == "RetentionBreached"
    assert argsof(e) == {"dealId": deal, "heldFen": 49_999, "retentionFen": 50_000}
    # notes move between investors and lenders, not to a supplier
    w.as_("inv").deals.transfer(deal, 0, w.addr("inv2"), 100_000)
    e = refused(w.as_("inv").deals.transfer, deal, 0, w.addr("supplier1"), 1)
    assert e.name == "NotNoteHolderRole"
    # still locked after close
    e = refused(w.as_("microloan").tranches.offer, loan, 0, w.addr("bank"), 1, 7)
    assert e.name in ("TrancheInDeal", "NotTrancheHolder")


def test_cancel_refunds_every_subscriber_and_unlocks(w: World) -> None:
    deal, loan = open_deal(w)
    w.as_("inv").deals.subscribe(deal, 0, 300_000)
    before = w.bal("inv")
    w.as_("microloan").deals.cancel(deal)
    assert w.bal("inv") - before == 300_000
    assert w.ledger.deals.get(deal).status == "CANCELLED"
    w.as_("regulator").loans.set_policy("min_originator_share_bps", 0)
    w.as_("microloan").tranches.offer(loan, 0, w.addr("bank"), 1, 7)


def _terms(classes: list[tuple[str, int, int]], fee: int = 50) -> model.DealTerms:
    return model.DealTerms(tuple(model.NoteClass(n, a, c) for n, a, c in classes), fee)


def test_distributions_pay_the_fee_then_coupons_then_a_first_and_the_junior_nothing(
    w: World,
) -> None:
    deal, loan = open_deal(w)
    fill(w, deal)
    w.as_("microloan").deals.close(deal)
    closed_at = w.ledger.deals.get(deal).closed_at
    state = model.closed(_terms(THREE), closed_at)
    for day, amount in ((30, 100_000), (45, 300_000)):
        w.advance_to(closed_at + day * DAY)
        w.as_("supplier1", fast=True).loans.repay(loan, amount)
        cash = w.ledger.deals.get(deal).cash_fen
        w.as_("tech").deals.distribute(deal)
        got = w.ledger.deals.get(deal).distributions[-1]
        want, state = model.distribute(_terms(THREE), state, cash, got.at)
        assert (got.cash_fen, got.fee_fen, tuple(got.coupon_fen), tuple(got.principal_fen)) == (
            want.cash_fen,
            want.fee_fen,
            want.coupon_fen,
            want.principal_fen,
        )
        assert got.fee_fen > 0 and got.principal_fen[0] > 0
        assert got.principal_fen[1] == got.principal_fen[2] == got.excess_fen == 0
    view = w.ledger.deals.get(deal)
    assert [k.balance_fen for k in view.classes] == list(state.balances)
    # class A's one holder is owed every fen paid to the class; the junior's holder nothing yet
    a_paid = view.classes[0].paid_fen
    assert w.ledger.deals.claimable(deal, w.addr("inv"))[0] == a_paid
    assert w.ledger.deals.claimable(deal, w.addr("microloan")) == [0, 0, 0]
    before = w.bal("inv")
    w.as_("inv").deals.claim(deal)
    assert w.bal("inv") - before == a_paid
    # only the servicer distributes before the period has passed
    w.as_("supplier1", fast=True).loans.repay(loan, 1_000)
    e = refused(w.as_("bank").deals.distribute, deal)
    assert e.name == "TooEarlyToDistribute"


def test_a_written_off_loss_is_taken_by_the_junior_first(w: World) -> None:
    deal, loan = open_deal(w)
    fill(w, deal)
    w.as_("microloan").deals.close(deal)
    maturity = w.get(loan).maturity_at
    w.advance_to(maturity + 90 * DAY)
    w.ledger.loans.declare_default(loan)  # the operator: the deal's account cannot
    e = refused(w.as_("tech").deals.write_off, deal, loan, 0)
    assert e.name == "WriteOffTooEarly"
    w.advance_to(maturity + 120 * DAY)
    e = refused(w.as_("bank").deals.write_off, deal, loan, 0)
    assert e.name == "NotServicer"
    outstanding = w.get(loan).tranches[0].outstanding_fen
    w.as_("tech").deals.write_off(deal, loan, 0)
    view = w.ledger.deals.get(deal)
    (off,) = view.write_offs
    assert off.loss_fen == outstanding
    # junior first, then B, then A
    expected = [0, 0, 0]
    left = outstanding
    for c in (2, 1, 0):
        expected[c] = min(left, THREE[c][1])
        left -= expected[c]
    assert off.reduced_fen == expected
    assert [k.balance_fen for k in view.classes] == [
        a - r for (_, a, _), r in zip(THREE, expected, strict=True)
    ]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    shape=st.sampled_from([2, 4]),
    fee=st.integers(0, 50),
    receipts=st.lists(
        st.tuples(st.integers(1, 60), st.integers(1, 700_000)), min_size=1, max_size=3
    ),
    split=st.integers(1, 499_999),
)
def test_distributions_equal_the_reference_model(
    ledger: Ledger, shape: int, fee: int, receipts: list[tuple[int, int]], split: int
) -> None:
    """Distributions, and class A's claims when two lenders hold it (`split` of its units
    to bank, the rest to microloan): each the floor of its exact pro-rata share."""
    # Each example makes its own loan and deal on the test's chain.
    w = World(ledger)
    classes = (
        [("A", 700_000, 500), ("J", 300_000, 0)]
        if shape == 2
        else [("A", 500_000, 400), ("B", 200_000, 600), ("C", 200_000, 900), ("J", 100_000, 0)]
    )
    loan = pooled_loan(w)
    deal, _ = w.as_("microloan", fast=True).deals.create(
        request(loan, classes, servicer=w.addr("tech"), fee_bps=fee)
    )
    for c, (_, amount, _) in enumerate(classes):
        first = split if c == 0 else amount
        w.as_("microloan" if c == len(classes) - 1 else "bank", fast=True).deals.subscribe(
            deal, c, first
        )
        if first < amount:
            w.as_("microloan", fast=True).deals.subscribe(deal, c, amount - first)
    w.as_("microloan", fast=True).deals.close(deal)
    a_units = classes[0][1]
    holders = model.PerUnit(
        a_units, holdings={w.addr("bank"): split, w.addr("microloan"): a_units - split}
    )
    terms = _terms(classes, fee)
    state = model.closed(terms, w.ledger.deals.get(deal).closed_at)
    for days, amount in receipts:
        if w.status(loan) != "DISBURSED":
            break
        w.advance_to(w.now() + days * DAY)
        w.as_("supplier1", fast=True).loans.repay(loan, amount)
        cash = w.ledger.deals.get(deal).cash_fen
        w.as_("tech", fast=True).deals.distribute(deal)
        got = w.ledger.deals.get(deal).distributions[-1]
        want, state = model.distribute(terms, state, cash, got.at)
        assert (
            got.fee_fen,
            tuple(got.coupon_fen),
            tuple(got.principal_fen),
            got.excess_fen,
        ) == (want.fee_fen, want.coupon_fen, want.principal_fen, want.excess_fen)
        holders.pay(want.coupon_fen[0] + want.principal_fen[0])
        for who in ("bank", "microloan"):
            got_a = w.ledger.deals.claimable(deal, w.addr(who))[0]
            assert got_a == holders.claimable(w.addr(who)), who
    owed = w.ledger.deals.claimable(deal, w.addr("bank"))
    assert owed[0] == holders.claim(w.addr("bank"))
    if any(owed):
        before = w.bal("bank")
        w.as_("bank", fast=True).deals.claim(deal)
        assert w.bal("bank") - before == sum(owed)
        assert w.ledger.deals.claimable(deal, w.addr("bank")) == [0] * len(classes)
    check_books(ledger)


def test_a_suspended_subscriber_or_servicer_is_held_its_money_and_blocks_nobody(
    w: World,
) -> None:
    """DESIGN §6.1: a cancel's refunds and a distribution's fee reach a suspended member's
    held balance; the others are paid as usual."""
    deal, _ = open_deal(w)
    w.as_("inv").deals.subscribe(deal, 0, 300_000)
    w.as_("inv2").deals.subscribe(deal, 0, 200_000)
    w.ledger.suspend(w.addr("inv"))
    before = w.balances("inv", "inv2")
    w.as_("microloan").deals.cancel(deal)
    assert w.balances("inv", "inv2") == {"inv": before["inv"], "inv2": before["inv2"] + 200_000}
    assert w.ledger.held_fen(w.addr("inv")) == 300_000
    w.ledger.reinstate(w.addr("inv"))

    deal, loan = open_deal(w)
    fill(w, deal)
    w.as_("microloan").deals.close(deal)
    w.advance_to(w.ledger.deals.get(deal).closed_at + 30 * DAY)
    w.as_("supplier1", fast=True).loans.repay(loan, 100_000)
    w.ledger.suspend(w.addr("tech"))
    tech = w.bal("tech")
    w.as_("bank").deals.distribute(deal)  # the period has passed: anyone distributes
    fee = w.ledger.deals.get(deal).distributions[-1].fee_fen
    assert fee > 0 and w.bal("tech") == tech
    assert w.ledger.held_fen(w.addr("tech")) == fee
    w.as_("inv").deals.claim(deal)  # holders still claim
