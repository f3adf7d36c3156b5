"""TrancheMarket: tranche sales with delivery versus payment (DESIGN §6.3).

A sale moves the price from buyer to seller in the transaction that makes the buyer the
tranche's lender; the next receipt pays the buyer. Every rule is refused on-chain with its
numbers: the originator's floor, a tech-partner buyer, a buyer over its exposure limit, a
wrong buyer, an expired or withdrawn offer, a stale offer, a loan not yet disbursed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.engine.client import Ledger
from ledger.models import Admission, Profile
from ledger.reference import waterfall
from ledger.roles import Role
from tests.contracts.test_loan_book import (
    DAY,
    World,
    argsof,
    check_no_value_stranded,
    entries_of,
    refused,
    same_split,
)


@pytest.fixture(autouse=True)
def _nothing_stranded(ledger: Ledger) -> Iterator[None]:
    yield
    check_no_value_stranded(ledger)


@pytest.fixture
def w(ledger: Ledger) -> World:
    world = World(ledger)
    # A second bank to buy tranches, and a tech partner that is also a lender (both licensed
    # banks, so that only the rule a test is about refuses them).
    bank = Profile(licence="BANK", region="440100")
    for name, roles, assets in (
        ("fund2", Role.LENDER, 1_000_000_000),
        ("techlender", Role.LENDER | Role.TECH_PARTNER, 1_000_000_000),
    ):
        ledger.keyring.create(name, dev=True)
        ledger._names = None
        ledger.admit(
            Admission(address=world.addr(name), roles=roles, net_assets_fen=assets, profile=bank)
        )
        ledger.as_signer("issuer").mint(world.addr(name), 5_000_000)
    return world


def offer(w: World, seller: str, loan: int, index: int, buyer: str, price: int, days: int = 7):
    return w.as_(seller).tranches.offer(loan, index, w.addr(buyer), price, days)


def test_a_sale_pays_the_seller_and_the_buyer_takes_the_next_receipt(w: World) -> None:
    loan = w.open()  # bank senior 700,000 at 5%, microloan junior 300,000 (originator)
    w.advance_to(w.now() + 30 * DAY)
    offer(w, "bank", loan, 0, "fund2", 650_000)
    before = w.balances("bank", "fund2")
    t0 = w.get(loan).tranches[0]
    sale = w.as_("fund2").tranches.buy(loan, 0)
    after = w.balances("bank", "fund2")
    assert after["bank"] - before["bank"] == 650_000
    assert before["fund2"] - after["fund2"] == 650_000
    assert sale.outstanding_fen == t0.outstanding_fen == 700_000
    view = w.get(loan)
    assert view.tranches[0].lender == w.addr("fund2")
    # unpaid coupon passes with the tranche: the next receipt's coupon goes to the buyer
    assert view.tranches[0].coupon_due_fen >= t0.coupon_due_fen > 0
    assert w.exposure("bank") == 0
    assert w.exposure("fund2") == 700_000
    w.as_("supplier1", fast=True).loans.repay(loan, 500_000)
    settlement = w.ledger.loans.settlements(loan)[-1]
    model = waterfall.quote(w.model(loan), [(settlement.at, 500_000)])[-1]
    same_split(settlement, model)
    sold_receipt = model.interest_fen[0] + model.principal_fen[0]
    assert w.bal("fund2") - after["fund2"] == sold_receipt
    assert w.bal("bank") == after["bank"]
    # one audit entry for the sale, bound to its event (the trail verifies after each test)
    (entry,) = entries_of(w, "TRANCHE_SOLD")
    assert entry.subject == loan


def test_the_originator_keeps_its_floor_of_the_outstanding(w: World) -> None:
    loan = w.open()
    # the originator's junior is 30% of the outstanding: selling any of it breaks the floor
    e = refused(offer, w, "microloan", loan, 1, "fund2", 100_000)
    assert e.name == "OriginatorShareBelowFloor"
    assert argsof(e) == {
        "loanId": loan,
        "originator": w.addr("microloan"),
        "heldFen": 0,
        "outstandingFen": 1_000_000,
        "minBps": 3_000,
    }
    assert "30.00%" in e.rule
    # at 0% the floor allows it; raised again before the purchase, the purchase is refused
    w.as_("regulator").loans.set_policy("min_originator_share_bps", 0)
    offer(w, "microloan", loan, 1, "fund2", 100_000)
    w.as_("regulator").loans.set_policy("min_originator_share_bps", 3_000)
    e = refused(w.as_("fund2").tranches.buy, loan, 1)
    assert e.name == "OriginatorShareBelowFloor"


def test_a_tech_partner_buyer_is_refused(w: World) -> None:
    loan = w.open()
    e = refused(offer, w, "bank", loan, 0, "techlender", 100_000)
    assert e.name == "TechPartnerCannotFund"
    assert argsof(e) == {"lender": w.addr("techlender")}


def test_a_buyer_over_its_exposure_limit_is_refused_and_nothing_moves(w: World) -> None:
    loan = w.open()
    offer(w, "bank", loan, 0, "fund2", 100_000)
    # fund2's limit: 10% of net assets 6,999,990 fen = 699,999 < 700,000 outstanding
    w.as_("regulator", fast=True).set_net_assets(w.addr("fund2"), 6_999_990)
    before = w.balances("bank", "fund2")
    e = refused(w.as_("fund2").tranches.buy, loan, 0)
    assert e.name == "ExposureAboveLimit"
    assert argsof(e) == {
        "lender": w.addr("fund2"),
        "borrower": w.addr("supplier1"),
        "exposureFen": 700_000,
        "limitFen": 699_999,
    }
    assert w.balances("bank", "fund2") == before
    assert w.get(loan).tranches[0].lender == w.addr("bank")
    # exactly at the limit it goes through
    w.as_("regulator", fast=True).set_net_assets(w.addr("fund2"), 7_000_000)
    w.as_("fund2").tranches.buy(loan, 0)
    assert w.exposure("fund2") == 700_000


def test_only_the_named_buyer_before_expiry_and_only_the_holder_offers(w: World) -> None:
    loan = w.open()
    e = refused(offer, w, "fund2", loan, 0, "microloan", 100_000)
    assert e.name == "NotTrancheHolder"
    offer(w, "bank", loan, 0, "fund2", 100_000, days=1)
    e = refused(w.as_("microloan").tranches.buy, loan, 0)
    assert e.name == "NotOfferedBuyer"
    w.advance_to(w.now() + DAY + 1)
    e = refused(w.as_("fund2").tranches.buy, loan, 0)
    assert e.name == "OfferExpired"
    assert [o.status for o in w.ledger.tranches.offers(loan)] == ["EXPIRED"]
    offer(w, "bank", loan, 0, "fund2", 100_000)
    w.as_("bank").tranches.withdraw(loan, 0)
    e = refused(w.as_("fund2").tranches.buy, loan, 0)
    assert e.name == "NoOffer"
    assert [o.status for o in w.ledger.tranches.offers(loan)] == ["EXPIRED", "WITHDRAWN"]


def test_a_stale_offer_cannot_be_taken_after_the_seller_sold_elsewhere(w: World) -> None:
    loan = w.open()
    offer(w, "bank", loan, 0, "fund2", 100_000)
    offer(w, "bank", loan, 0, "microloan", 100_000)  # replaces the first
    w.as_("microloan").tranches.buy(loan, 0)
    e = refused(w.as_("fund2").tranches.buy, loan, 0)
    assert e.name == "NoOffer"
    statuses = [o.status for o in w.ledger.tranches.offers(loan)]
    assert statuses == ["REPLACED", "SOLD"]
    # the new holder sells on; its booking (the outstanding it bought) is what is released
    offer(w, "microloan", loan, 0, "fund2", 90_000)
    w.as_("fund2").tranches.buy(loan, 0)
    assert w.exposure("microloan") == 300_000
    assert w.exposure("fund2") == 700_000


def test_a_loan_not_disbursed_has_no_tranche_to_sell(w: World) -> None:
    loan = w.open(until="FUNDED")
    e = refused(offer, w, "bank", loan, 0, "fund2", 100_000)
    assert e.name == "WrongLoanStatus"
    e = refused(offer, w, "bank", w.open(), 5, "fund2", 100_000)
    assert e.name == "UnknownTranche"


def test_the_hook_is_only_for_the_market(w: World) -> None:
    loan = w.open()
    e = refused(
        w.as_("bank")._send,
        "LoanBook",
        "transferTranche",
        loan,
        0,
        w.addr("bank"),
        w.addr("fund2"),
        gas=300_000,
    )
    assert e.name == "NotTrancheMarket"


def test_exposure_released_at_close_is_what_each_holder_booked(w: World) -> None:
    loan = w.open()
    w.as_("supplier1", fast=True).loans.repay(loan, 400_000)
    outstanding = w.get(loan).tranches[0].outstanding_fen
    assert outstanding < 700_000
    offer(w, "bank", loan, 0, "fund2", outstanding)
    w.as_("fund2").tranches.buy(loan, 0)
    assert w.exposure("bank") == 0
    assert w.exposure("fund2") == outstanding
    w.advance_to(w.now() + DAY)
    w.as_("core", fast=True).loans.repay(loan, 1_000_000)
    assert w.status(loan) == "REPAID"
    assert w.exposure("fund2") == 0
    assert w.exposure("microloan") == 0


def test_a_suspended_seller_is_held_the_price_and_the_sale_goes_through(w: World) -> None:
    """DESIGN §6.1: the buyer's payment never blocks on the seller's suspension."""
    loan = w.open()
    offer(w, "bank", loan, 0, "fund2", 650_000)
    w.ledger.suspend(w.addr("bank"))
    before = w.balances("bank", "fund2")
    w.as_("fund2").tranches.buy(loan, 0)
    assert w.get(loan).tranches[0].lender == w.addr("fund2")
    assert w.balances("bank", "fund2") == {
        "bank": before["bank"],
        "fund2": before["fund2"] - 650_000,
    }
    assert w.ledger.held_fen(w.addr("bank")) == 650_000
    w.ledger.reinstate(w.addr("bank"))
    _, claimed = w.as_("bank").claim_held()
    assert claimed == 650_000 and w.bal("bank") == before["bank"] + 650_000


def test_a_staged_loan_s_tranche_changes_holder_only_once_every_stage_is_drawn(w: World) -> None:
    # bank senior 700,000, microloan junior 300,000; 400,000 drawn at disbursement, 350,000
    # from day 30, 250,000 from day 60 (DESIGN §6.4)
    req = w.request(
        payees=[
            (w.addr("supplier2"), 400_000),
            (w.addr("core"), 350_000),
            (w.addr("supplier2"), 250_000),
        ],
        payee_stages=[0, 1, 2],
        stage_days={1: 30, 2: 60},
    )
    loan = w.open(req)
    t0 = w.get(loan).disbursed_at
    e = refused(offer, w, "bank", loan, 0, "fund2", 100_000)
    assert e.name == "StagesNotDrawn"
    assert argsof(e) == {"loanId": loan, "index": 0, "notDrawn": 2}
    assert "only once every stage is drawn (2 undrawn or lapsed)" in e.rule
    # The loan book refuses the move itself: an offer sent around the client cannot be bought.
    w.as_("bank")._send(
        "TrancheMarket", "offer", loan, 0, w.addr("fund2"), 100_000, 90, gas=400_000
    )
    before = w.balances("bank", "fund2")
    e = refused(w.as_("fund2").tranches.buy, loan, 0)
    assert e.name == "StagesNotDrawn"
    assert argsof(e) == {"loanId": loan, "index": 0, "notDrawn": 2}
    assert w.balances("bank", "fund2") == before
    assert w.get(loan).tranches[0].lender == w.addr("bank")
    w.advance_to(t0 + 30 * DAY)
    w.as_("supplier1").loans.draw(loan, 1)
    e = refused(w.as_("fund2").tranches.buy, loan, 0)
    assert argsof(e)["notDrawn"] == 1
    w.advance_to(t0 + 60 * DAY)
    w.as_("supplier1").loans.draw(loan, 2)
    # every stage drawn: the standing offer goes through, the buyer books the outstanding
    w.as_("fund2").tranches.buy(loan, 0)
    assert w.get(loan).tranches[0].lender == w.addr("fund2")
    assert w.exposure("fund2") == 700_000 and w.exposure("bank") == 0
