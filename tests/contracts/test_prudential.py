"""DESIGN §6.6 on the embedded chain: licences, the online micro-loan caps, the related-group
limit, the micro-lender book limit, each at the fen and one fen over; the Prudential
contract's books; the tech fee withheld while its loans' NPL is high.

After every test the lenders' exposures, group exposures and books agree with their loans
(the same check the invariant suite runs on random histories).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.engine.client import Ledger
from ledger.models import LICENCES, Admission, Profile, group_bytes
from ledger.money import format_fen
from ledger.reference import waterfall
from ledger.roles import Role
from tests.contracts.test_loan_book import DAY, World, argsof, refused

FAR = 4_102_444_799  # 2099-12-31 end of day, China time


def admit(w: World, name: str, roles: int, net_fen: int = 0, **profile: object) -> str:
    address = w.ledger.keyring.create(name, dev=True).address
    w.ledger.admit(
        Admission(address=address, roles=roles, net_assets_fen=net_fen, profile=Profile(**profile))  # type: ignore[arg-type]
    )
    return address


def fund_lender(w: World, name: str, fen: int) -> None:
    w.as_("issuer", fast=True).mint(w.addr(name), fen)


def solo(w: World, lender: str, borrower: str, fen: int, **kw: object) -> object:
    """A one-tranche loan of `lender` to `borrower` against a fresh receivable."""
    rid = w.receivable(max(fen, 1), holder=borrower)
    return w.request([rid], borrower=w.addr(borrower), tranches=[w.tranche(lender, fen)], **kw)


def books_agree(ledger: Ledger) -> None:
    """Σ over open loans of each lender's funded principal (for a bought tranche, what its
    buyer booked) = its book = Σ its group exposures, and the single-borrower exposures sum
    to the same (Prudential and LoanBook agree)."""
    book = ledger.contract("LoanBook").functions
    prud = ledger.contract("Prudential").functions
    # A sold tranche (DESIGN §6.3) counts for its holder what was booked for it at the sale.
    booked = {
        (int(e["args"]["loanId"]), int(e["args"]["index"])): int(e["args"]["bookedFen"])
        for e in ledger.events("LoanBook", "TrancheTransferred")
    }
    funded: dict[str, int] = {}
    by_group: dict[tuple[str, bytes], int] = {}
    by_borrower: dict[tuple[str, str], int] = {}
    for loan_id in range(1, book.nextLoanId().call()):
        info = book.loanOf(loan_id).call()
        status, borrower, count = info[0], info[2], info[10]
        if status in (6, 8):  # REPAID, CANCELLED: released
            continue
        group = bytes(prud.groupOfLoan(loan_id).call())
        if group == bytes(32):  # no group: the borrower's own key
            group = bytes(12) + bytes.fromhex(borrower[2:])
        for i in range(count):
            t = book.trancheOf(loan_id, i).call()
            if t[6]:  # funded
                fen = booked.get((loan_id, i), t[2])
                funded[t[0]] = funded.get(t[0], 0) + fen
                by_group[(t[0], group)] = by_group.get((t[0], group), 0) + fen
                by_borrower[(t[0], borrower)] = by_borrower.get((t[0], borrower), 0) + fen
    for lender, total in funded.items():
        assert prud.bookOf(lender).call() == total
    for (lender, group), total in by_group.items():
        assert prud.groupExposureOf(lender, group).call() == total
    for (lender, borrower), total in by_borrower.items():
        assert book.exposureOf(lender, borrower).call() == total


@pytest.fixture
def w(ledger: Ledger) -> Iterator[World]:
    world = World(ledger)
    yield world
    books_agree(ledger)


# --------------------------------------------------------------------------- licences


def test_lending_needs_a_fitting_licence(w: World) -> None:
    for licence in ("NONE", "GUARANTEE", "INSURER"):
        name = f"l-{licence.lower()}"
        admit(w, name, Role.LENDER, 10**12, licence=licence)
        e = refused(w.as_(name).loans.propose, solo(w, name, "supplier1", 100_000))
        assert e.name == "LicenceUnfit"
        assert argsof(e)["licence"] == LICENCES.index(licence)
        assert "BANK, MICROLOAN, ONLINE_MICROLOAN, FACTORING" in e.rule
    admit(w, "factor", Role.LENDER, 10**12, licence="FACTORING")
    fund_lender(w, "factor", 100_000)
    w.open(solo(w, "factor", "supplier1", 100_000), originator="factor")


def test_an_expired_licence_is_refused_at_proposal_and_at_funding(w: World) -> None:
    expiry = w.now() + 10 * DAY
    admit(w, "lic", Role.LENDER, 10**12, licence="MICROLOAN", licence_expiry_at=expiry)
    fund_lender(w, "lic", 1_000_000)
    loan = w.open(solo(w, "lic", "supplier1", 100_000), until="ACCEPTED", originator="lic")
    w.advance_to(expiry - 60)  # valid up to its expiry second…
    w.open(solo(w, "lic", "supplier1", 100_000), until="PROPOSED", originator="lic")
    w.advance_to(expiry + 1)  # …and not one second more
    e = refused(w.as_("lic").loans.fund, loan)
    assert e.name == "LicenceExpired"
    assert argsof(e)["expiredAt"] == expiry and argsof(e)["nowAt"] > expiry
    e = refused(w.as_("lic").loans.propose, solo(w, "lic", "supplier1", 100_000))
    assert e.name == "LicenceExpired" and "expired" in e.rule
    # renewed by a regulator of its region (national here), it lends again
    w.as_("regulator").set_profile(
        w.addr("lic"), Profile(licence="MICROLOAN", licence_expiry_at=FAR)
    )
    w.as_("lic").loans.fund(loan)


# --------------------------------------------------------------------------- online caps


@pytest.mark.parametrize(
    ("kind", "cap"),
    [("INDIVIDUAL", 30_000_000), ("UNSPECIFIED", 30_000_000), ("SME", 100_000_000)],
)
def test_the_online_micro_loan_cap_by_borrower_kind_at_the_fen(
    w: World, kind: str, cap: int
) -> None:
    admit(w, "online", Role.LENDER, 10**13, licence="ONLINE_MICROLOAN")
    admit(w, "b", Role.SUPPLIER, kind=kind)
    fund_lender(w, "online", cap)
    ask = w.as_("online").loans.propose
    e = refused(ask, solo(w, "online", "b", cap + 1))
    assert e.name == "OnlineCapExceeded"
    assert argsof(e)["exposureFen"] == cap + 1 and argsof(e)["capFen"] == cap
    assert format_fen(cap) in e.rule
    assert ("individual" if cap == 30_000_000 else "business") in e.rule
    # two loans count together: the cap is on the borrower's outstanding with the lender
    first = w.open(solo(w, "online", "b", cap - 1), originator="online")
    e = refused(ask, solo(w, "online", "b", 2))
    assert e.name == "OnlineCapExceeded" and argsof(e)["exposureFen"] == cap + 1
    w.open(solo(w, "online", "b", 1), until="FUNDED", originator="online")
    assert w.exposure("online", "b") == cap
    assert first


def test_the_online_cap_is_checked_again_at_funding(w: World) -> None:
    admit(w, "online", Role.LENDER, 10**13, licence="ONLINE_MICROLOAN")
    admit(w, "b", Role.SUPPLIER, kind="INDIVIDUAL")
    fund_lender(w, "online", 40_000_000)
    a = w.open(solo(w, "online", "b", 20_000_000), until="ACCEPTED", originator="online")
    b = w.open(solo(w, "online", "b", 10_000_001), until="ACCEPTED", originator="online")
    w.as_("online").loans.fund(a)
    e = refused(w.as_("online").loans.fund, b)
    assert e.name == "OnlineCapExceeded" and argsof(e)["exposureFen"] == 30_000_001


def test_other_licences_have_no_online_cap(w: World) -> None:
    admit(w, "bank2", Role.LENDER, 10**13, licence="BANK")
    admit(w, "b", Role.SUPPLIER, kind="INDIVIDUAL")
    w.open(solo(w, "bank2", "b", 30_000_001), until="PROPOSED", originator="bank2")


# --------------------------------------------------------------------------- related groups


def test_the_related_group_limit_at_the_fen(w: World) -> None:
    # net assets 10,000,000.00: single borrower 10% = 1,000,000.00, group 15% = 1,500,000.00
    admit(w, "l2", Role.LENDER, 10_000_000_00, licence="BANK")
    admit(w, "f1", Role.SUPPLIER, kind="SME", group="Delta 集团")
    admit(w, "f2", Role.SUPPLIER, kind="SME", group="Delta 集团")
    admit(w, "f3", Role.SUPPLIER, kind="SME")  # no group: a group of its own
    fund_lender(w, "l2", 3_000_000_00)
    w.open(solo(w, "l2", "f1", 1_000_000_00), originator="l2")
    e = refused(w.as_("l2").loans.propose, solo(w, "l2", "f2", 500_000_01))
    assert e.name == "RelatedGroupAboveLimit"
    assert argsof(e)["group"] == group_bytes("Delta 集团")
    assert argsof(e)["exposureFen"] == 1_500_000_01 and argsof(e)["limitFen"] == 1_500_000_00
    assert "'Delta 集团'" in e.rule
    last = w.open(solo(w, "l2", "f2", 500_000_00), originator="l2")
    # a borrower outside the group is not affected
    w.open(solo(w, "l2", "f3", 1_000_000_00), until="FUNDED", originator="l2")
    # repaying releases the group's exposure
    view = w.get(last)
    w.as_("issuer", fast=True).mint(w.addr("f2"), 10_000_00)
    w.as_("f2").loans.repay(last, view.outstanding_fen + view.interest_due_fen + 1_000_00)
    assert w.status(last) == "REPAID"
    w.open(solo(w, "l2", "f2", 500_000_00), until="PROPOSED", originator="l2")


def test_a_loan_counts_toward_the_group_of_its_proposal(w: World) -> None:
    admit(w, "l2", Role.LENDER, 10_000_000_00, licence="BANK")
    admit(w, "f1", Role.SUPPLIER, group="G1")
    fund_lender(w, "l2", 1_000_000_00)
    loan = w.open(solo(w, "l2", "f1", 1_000_000_00), until="FUNDED", originator="l2")
    prud = w.ledger.contract("Prudential").functions
    assert prud.groupExposureOf(w.addr("l2"), group_bytes("G1")).call() == 1_000_000_00
    w.as_("regulator").set_profile(w.addr("f1"), Profile(group="G2"))
    w.as_("l2").loans.cancel(loan)  # released from G1, where it was counted
    assert prud.groupExposureOf(w.addr("l2"), group_bytes("G1")).call() == 0
    assert prud.groupExposureOf(w.addr("l2"), group_bytes("G2")).call() == 0


# --------------------------------------------------------------------------- book limit


def test_the_micro_lender_book_limit_at_the_fen(w: World) -> None:
    reg = w.as_("regulator").loans
    reg.set_policy("max_single_borrower_bps", 10_000)
    reg.set_policy("max_related_group_bps", 10_000)
    # net assets 100,000.00: the book may reach 5 × = 500,000.00 (one borrower: 1 ×)
    admit(w, "ml", Role.LENDER, 100_000_00, licence="MICROLOAN")
    admit(w, "bk", Role.LENDER, 100_000_00, licence="BANK")
    fund_lender(w, "ml", 600_000_00)
    for i in range(7):
        admit(w, f"b{i}", Role.SUPPLIER)
    for i in range(4):
        w.open(solo(w, "ml", f"b{i}", 100_000_00), until="FUNDED", originator="ml")
    last = w.open(solo(w, "ml", "b4", 100_000_00), until="ACCEPTED", originator="ml")
    tiny = w.open(solo(w, "ml", "b5", 1), until="FUNDED", originator="ml")
    e = refused(w.as_("ml").loans.propose, solo(w, "ml", "b6", 100_000_00))
    assert e.name == "BookAboveLimit"
    assert argsof(e)["bookFen"] == 500_000_01 and argsof(e)["limitFen"] == 500_000_00
    e = refused(w.as_("ml").loans.fund, last)  # checked again at funding
    assert e.name == "BookAboveLimit" and argsof(e)["bookFen"] == 500_000_01
    w.as_("ml").loans.cancel(tiny)
    w.as_("ml").loans.fund(last)
    assert w.ledger.contract("Prudential").functions.bookOf(w.addr("ml")).call() == 500_000_00
    # a bank has no book limit
    fund_lender(w, "bk", 600_000_00)
    for i in range(6):
        w.open(solo(w, "bk", f"b{i}", 100_000_00), until="FUNDED", originator="bk")
    assert w.ledger.contract("Prudential").functions.bookOf(w.addr("bk")).call() == 600_000_00


# --------------------------------------------------------------------------- tranche sales


def sold_books(w: World, *names: str) -> dict[str, int]:
    prud = w.ledger.contract("Prudential").functions
    return {n: int(prud.bookOf(w.addr(n)).call()) for n in names}


def test_a_tranche_buyer_is_checked_by_the_micro_lender_book_limit_and_the_books_move(
    w: World,
) -> None:
    """DESIGN §6.3 with §6.6: the sale reports to Prudential (`transferred`), which checks
    the buyer as a funding lender, books the tranche's outstanding to it and releases the
    seller's booking; a refused sale moves nothing."""
    reg = w.as_("regulator").loans
    reg.set_policy("max_single_borrower_bps", 10_000)
    reg.set_policy("max_related_group_bps", 10_000)
    reg.set_policy("min_originator_share_bps", 0)  # the seller sells its only tranche
    # net assets 100,000.00: a micro-lender's book may reach 5 × = 500,000.00
    admit(w, "ml", Role.LENDER, 100_000_00, licence="MICROLOAN")
    admit(w, "bk", Role.LENDER, 10**12, licence="BANK")
    admit(w, "nolic", Role.LENDER, 10**12)
    fund_lender(w, "ml", 1_000_000_00)
    fund_lender(w, "bk", 100_000_00)
    fund_lender(w, "nolic", 100_000_00)
    for i in range(6):
        admit(w, f"b{i}", Role.SUPPLIER)
    for i in range(4):
        w.open(solo(w, "ml", f"b{i}", 100_000_00), until="FUNDED", originator="ml")
    tiny = w.open(solo(w, "ml", "b5", 1), until="FUNDED", originator="ml")
    sold = w.open(solo(w, "bk", "b4", 100_000_00), originator="bk")
    assert sold_books(w, "ml", "bk") == {"ml": 400_000_01, "bk": 100_000_00}

    # a buyer without a lending licence is refused as a funding lender would be
    w.as_("bk").tranches.offer(sold, 0, w.addr("nolic"), 99_000_00, 7)
    e = refused(w.as_("nolic").tranches.buy, sold, 0)
    assert e.name == "LicenceUnfit"
    assert "BANK, MICROLOAN, ONLINE_MICROLOAN, FACTORING" in e.rule

    w.as_("bk").tranches.offer(sold, 0, w.addr("ml"), 99_000_00, 7)
    before = w.balances("ml", "bk")
    e = refused(w.as_("ml").tranches.buy, sold, 0)
    assert e.name == "BookAboveLimit"
    assert argsof(e) == {
        "lender": w.addr("ml"),
        "bookFen": 500_000_01,
        "limitFen": 500_000_00,
    }
    assert format_fen(500_000_01) in e.rule and format_fen(500_000_00) in e.rule
    # nothing moved: the tranche, the money, both books
    assert w.get(sold).tranches[0].lender == w.addr("bk")
    assert w.balances("ml", "bk") == before
    assert sold_books(w, "ml", "bk") == {"ml": 400_000_01, "bk": 100_000_00}

    w.as_("ml").loans.cancel(tiny)  # one fen less on ml's book: the sale fits at the fen
    w.as_("ml").tranches.buy(sold, 0)
    assert sold_books(w, "ml", "bk") == {"ml": 500_000_00, "bk": 0}
    assert w.exposure("ml", "b4") == 100_000_00 and w.exposure("bk", "b4") == 0
    prud = w.ledger.contract("Prudential").functions
    own = bytes(12) + bytes.fromhex(w.addr("b4")[2:])  # b4 has no group: its own key
    assert prud.groupExposureOf(w.addr("ml"), own).call() == 100_000_00
    assert prud.groupExposureOf(w.addr("bk"), own).call() == 0
    (moved,) = w.ledger.events("LoanBook", "TrancheTransferred")
    assert (moved["args"]["releasedFen"], moved["args"]["bookedFen"]) == (100_000_00, 100_000_00)

    # repaid, the loan leaves the buyer's books, not the seller's
    view = w.get(sold)
    fund_lender(w, "b4", view.interest_due_fen + 1_000_00)
    w.as_("b4").loans.repay(sold, view.outstanding_fen + view.interest_due_fen + 1_000_00)
    assert w.status(sold) == "REPAID"
    assert sold_books(w, "ml", "bk") == {"ml": 400_000_00, "bk": 0}


def test_a_tranche_buyer_is_checked_by_the_related_group_limit(w: World) -> None:
    # net assets 10,000,000.00: single borrower 10% = 1,000,000.00, group 15% = 1,500,000.00
    w.as_("regulator").loans.set_policy("min_originator_share_bps", 0)
    admit(w, "l2", Role.LENDER, 10_000_000_00, licence="BANK")
    admit(w, "bk2", Role.LENDER, 10**12, licence="BANK")
    admit(w, "f1", Role.SUPPLIER, kind="SME", group="Delta 集团")
    admit(w, "f2", Role.SUPPLIER, kind="SME", group="Delta 集团")
    fund_lender(w, "l2", 2_000_000_00)
    fund_lender(w, "bk2", 1_000_000_00)
    w.open(solo(w, "l2", "f1", 1_000_000_00), until="FUNDED", originator="l2")
    sold = w.open(solo(w, "bk2", "f2", 500_000_01), originator="bk2")
    w.as_("bk2").tranches.offer(sold, 0, w.addr("l2"), 500_000_00, 7)
    e = refused(w.as_("l2").tranches.buy, sold, 0)
    assert e.name == "RelatedGroupAboveLimit"
    assert argsof(e) == {
        "lender": w.addr("l2"),
        "group": group_bytes("Delta 集团"),
        "exposureFen": 1_500_000_01,
        "limitFen": 1_500_000_00,
    }
    assert "'Delta 集团'" in e.rule and format_fen(1_500_000_01) in e.rule
    prud = w.ledger.contract("Prudential").functions
    delta = group_bytes("Delta 集团")
    assert prud.groupExposureOf(w.addr("l2"), delta).call() == 1_000_000_00
    assert prud.groupExposureOf(w.addr("bk2"), delta).call() == 500_000_01
    # a limit one fen per ten thousand higher: the sale goes through and the group moves
    w.as_("regulator").loans.set_policy("max_related_group_bps", 1_501)
    w.as_("l2").tranches.buy(sold, 0)
    assert prud.groupExposureOf(w.addr("l2"), delta).call() == 1_500_000_01
    assert prud.groupExposureOf(w.addr("bk2"), delta).call() == 0
    assert sold_books(w, "l2", "bk2") == {"l2": 1_500_000_01, "bk2": 0}


# --------------------------------------------------------------------------- NPL-linked fee


def test_the_tech_fee_goes_to_the_pool_while_its_loans_npl_is_above_the_threshold(
    w: World,
) -> None:
    tech = w.addr("tech")
    prud = w.ledger.contract("Prudential").functions
    fee = {"fee_share_bps": 2_000, "tech_partner": tech, "term_days": 30}
    # 40,000 fen defaulted of 1,600,000 outstanding: exactly 2.5%, not above
    bad = w.open(solo(w, "microloan", "supplier2", 40_000, **fee))
    good = w.open(solo(w, "microloan", "supplier1", 1_560_000, **fee))
    w.advance_to(w.get(bad).maturity_at + 90 * DAY)
    w.as_("microloan").loans.declare_default(bad)  # the pool is empty: all of it defaulted
    assert w.tech_book("tech") == waterfall.TechBook(1_600_000, 40_000)
    assert not prud.feeWithheld(tech).call()
    tech0, pool0 = w.bal("tech"), w.ledger.loans.pool_balance_fen()
    w.as_("supplier1").loans.repay(good, 1_000)  # interest only: the book stays at 2.5%
    s = w.get(good).settlements[-1]
    assert sum(s.principal_fen) == 0 and s.fee_fen == 200 and w.bal("tech") == tech0 + 200
    assert w.ledger.loans.pool_balance_fen() == pool0 + s.provision_fen
    assert w.tech_book("tech") == waterfall.TechBook(1_600_000, 40_000)

    # a receipt that repays principal takes the book above 2.5%: its own fee goes to the
    # pool (decided on the book as the receipt leaves it)
    tech1, pool1 = w.bal("tech"), w.ledger.loans.pool_balance_fen()
    w.as_("supplier1").loans.repay(good, 100_000)
    s = w.get(good).settlements[-1]
    book, withheld = waterfall.TechBook(1_600_000, 40_000).settled(
        sum(s.principal_fen), defaulted=False, threshold_bps=250
    )
    assert withheld and sum(s.principal_fen) > 0 and w.tech_book("tech") == book
    interest = s.provision_fen + sum(s.interest_fen)
    assert s.fee_fen == 0 and s.provision_fen == interest * 2_000 // 10_000 > 0
    assert w.bal("tech") == tech1
    assert w.ledger.loans.pool_balance_fen() == pool1 + s.provision_fen
    assert prud.feeWithheld(tech).call()
    (event,) = w.ledger.events("Prudential", "TechFeeWithheld")
    a = event["args"]
    assert (a["loanId"], a["techPartner"], a["feeFen"]) == (good, tech, s.provision_fen)
    assert (a["defaultedFen"], a["outstandingFen"]) == (book.defaulted_fen, book.outstanding_fen)

    # the threshold is the regulator's: at 100% the fee is never withheld
    w.as_("regulator").loans.set_policy("tech_fee_npl_bps", 10_000)
    assert not prud.feeWithheld(tech).call()
    w.advance_to(w.now() + 30 * DAY)
    w.as_("supplier1").loans.repay(good, 10_000)
    s = w.get(good).settlements[-1]
    assert s.fee_fen > 0 and w.bal("tech") == tech1 + s.fee_fen
    assert w.tech_book("tech") == book.repaid(sum(s.principal_fen), defaulted=False)


def test_loans_without_a_fee_share_stay_out_of_the_tech_book(w: World) -> None:
    loan = w.open(solo(w, "microloan", "supplier1", 50_000, term_days=30))
    assert w.tech_book("tech") == waterfall.TechBook()
    w.advance_to(w.get(loan).maturity_at + 90 * DAY)
    w.as_("microloan").loans.declare_default(loan)
    assert w.tech_book("tech") == waterfall.TechBook()


def test_only_the_loan_book_reports_to_the_prudential_contract(w: World) -> None:
    for fn, args in [
        ("register", (1, w.addr("supplier1"), w.addr("tech"), 1, [], [], [])),
        ("fund", (1, w.addr("bank"), w.addr("supplier1"), 1, 1)),
        ("release", (1, w.addr("supplier1"))),
        ("disbursed", (1,)),
        ("settled", (1, 0, 0)),
        ("defaulted", (1, 0, 0)),
    ]:
        e = refused(w.ledger._send, "Prudential", fn, *args, gas=300_000)
        assert e.name == "NotLoanBookCaller", fn
        assert argsof(e)["caller"] == w.addr("operator")


def test_no_engine_contract_is_ever_admitted(w: World) -> None:
    for name, address in w.ledger.deployment.contracts.items():
        e = refused(w.ledger.admit, Admission(address=address, roles=Role.SUPPLIER))
        assert e.name == "EngineCannotBeMember", name
        assert w.ledger.contract("Membership").functions.isEngine(address).call()
