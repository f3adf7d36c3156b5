"""ReceivableToken: lifecycle, split and transfer, payment, refusals, pledges, gas, audit.

DESIGN §4.3 (receivables) and §4.8 (one audit entry per action). Every refusal is checked
by its custom error's name and by the ledger being exactly as it was (receivables, e-CNY
and ERC-721 balances, the audit head).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3.logs import DISCARD

from ledger.audit.trail import read_entries, verify_trail
from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.engine.receivables import MAX_PARTS, MAX_VALUE_FEN, STATUS_NAMES
from ledger.errors import BadInput, ContractRefusal
from ledger.models import Admission
from ledger.money import format_fen
from ledger.roles import Role
from tests.conftest import OPENING_BALANCES

DAY = 86_400
GAS = 300_000
FACE = 1_000_000_00  # ¥1,000,000.00


# -- helpers ---------------------------------------------------------------------------------


def doc(label: object) -> bytes:
    """A document hash (存证) for `label`."""
    return keccak(text=f"doc:{label}")


def chain_now(ledger: Ledger) -> int:
    return int(ledger.chain.w3.eth.get_block("latest")["timestamp"])


def issue(
    ledger: Ledger,
    label: object,
    *,
    to: str = "supplier1",
    value: int = FACE,
    days: int = 90,
    by: str = "core",
) -> int:
    maturity = chain_now(ledger) + days * DAY
    return (
        ledger.as_signer(by).receivables.issue(ledger.resolve(to), value, maturity, doc(label)).id
    )


def active(ledger: Ledger, label: object, *, to: str = "supplier1", **kw: Any) -> int:
    rid = issue(ledger, label, to=to, **kw)
    ledger.as_signer(to).receivables.accept(rid)
    return rid


def token(ledger: Ledger) -> Any:
    return ledger.contract("ReceivableToken").functions


def status(ledger: Ledger, rid: int) -> str:
    return STATUS_NAMES[token(ledger).statusOf(rid).call()]


def admit(ledger: Ledger, name: str, roles: int) -> str:
    address = ledger.keyring.create(name, dev=True).address
    ledger.admit(Admission(address=address, roles=roles))
    return address


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def snapshot(ledger: Ledger) -> tuple[Any, ...]:
    """Everything a refused action must leave as it was."""
    t = token(ledger)
    next_id = t.nextId().call()
    records = tuple(tuple(t.receivableOf(i).call()) for i in range(1, next_id))
    accounts = [info.address for info in ledger.keyring.accounts()]
    money = tuple(ledger.balance_fen(a) for a in accounts)
    nfts = tuple(t.balanceOf(a).call() for a in accounts)
    return (next_id, records, money, nfts, ledger.total_supply_fen(), ledger.audit_head())


def refused(ledger: Ledger, error: str, action: Callable[[], object]) -> ContractRefusal:
    """Run `action`, expect the custom error `error`, and that nothing changed."""
    before = snapshot(ledger)
    with pytest.raises(ContractRefusal) as exc:
        action()
    assert exc.value.name == error, exc.value.rule
    assert snapshot(ledger) == before
    return exc.value


def loan_against(ledger: Ledger, rids: list[int], borrower: str = "supplier1") -> int:
    """A loan proposed by `microloan` (sole, junior tranche) against `rids`; not yet accepted."""
    request = LoanRequest(
        borrower=ledger.resolve(borrower),
        tranches=[
            TrancheRequest(lender=ledger.resolve("microloan"), senior=False, amount_fen=500_000_00)
        ],
        receivable_ids=rids,
        rate_bps=1000,
        term_days=90,
    )
    return ledger.as_signer("microloan").loans.propose(request).id


def last_entry(ledger: Ledger) -> Any:
    return list(read_entries(ledger))[-1]


# -- lifecycle -------------------------------------------------------------------------------


def test_issue_creates_a_pending_receivable_held_by_the_supplier(ledger: Ledger) -> None:
    core, s1 = ledger.resolve("core"), ledger.resolve("supplier1")
    assert token(ledger).nextId().call() == 1
    maturity = chain_now(ledger) + 90 * DAY
    issued = ledger.as_signer("core").receivables.issue(s1, 12_345_67, maturity, doc("inv-1"))
    assert issued.id == 1
    view = ledger.receivables.get(1)
    assert view.status == "PENDING"
    assert same(view.holder, s1)
    assert same(view.debtor, core)
    assert (view.face_value_fen, view.paid_fen, view.maturity_at) == (12_345_67, 0, maturity)
    assert view.doc_hash == "0x" + doc("inv-1").hex()
    assert (view.parent, view.children, view.pledged_to, view.root) == (None, [], None, 1)
    t = token(ledger)
    assert t.nextId().call() == 2
    assert t.receivableOfDocument(ledger.resolve("core"), doc("inv-1")).call() == 1
    assert t.unpaidOf(1).call() == 12_345_67
    # ERC-721: the supplier owns token 1, minted to it.
    assert same(t.ownerOf(1).call(), s1)
    assert t.balanceOf(s1).call() == 1
    assert t.supportsInterface(bytes.fromhex("80ac58cd")).call()
    receipt = ledger.chain.w3.eth.get_transaction_receipt(issued.tx)  # type: ignore[arg-type]
    (minted,) = (
        ledger.contract("ReceivableToken")
        .events.Transfer()
        .process_receipt(receipt, errors=DISCARD)
    )
    assert int(minted["args"]["from"], 16) == 0
    assert same(minted["args"]["to"], s1)
    assert minted["args"]["tokenId"] == 1


def test_accept_makes_a_pending_receivable_active(ledger: Ledger) -> None:
    rid = issue(ledger, "a")
    ledger.as_signer("supplier1").receivables.accept(rid)
    view = ledger.receivables.get(rid)
    assert view.status == "ACTIVE"
    assert same(view.holder, ledger.resolve("supplier1"))


def test_reject_burns_a_pending_receivable_and_marks_it_rejected(ledger: Ledger) -> None:
    s1 = ledger.resolve("supplier1")
    rid = issue(ledger, "r")
    ledger.as_signer("supplier1").receivables.reject(rid)
    view = ledger.receivables.get(rid)
    assert view.status == "REJECTED"
    assert view.holder is None
    assert token(ledger).balanceOf(s1).call() == 0
    with pytest.raises(ContractRefusal) as exc:
        ledger.receivables._call("ownerOf", rid)
    assert exc.value.name == "ERC721NonexistentToken"


def test_cancel_by_the_debtor_burns_a_pending_receivable_and_marks_it_cancelled(
    ledger: Ledger,
) -> None:
    rid = issue(ledger, "c")
    ledger.as_signer("core").receivables.cancel(rid)
    view = ledger.receivables.get(rid)
    assert view.status == "CANCELLED"
    assert view.holder is None
    assert token(ledger).balanceOf(ledger.resolve("supplier1")).call() == 0


def test_split_replaces_an_active_receivable_by_consecutive_active_children(
    ledger: Ledger,
) -> None:
    s1 = ledger.resolve("supplier1")
    other = issue(ledger, "other", to="supplier2")
    rid = active(ledger, "s")
    root = ledger.receivables.get(rid)
    first = token(ledger).nextId().call()
    result = ledger.as_signer("supplier1").receivables.split(
        rid, [600_000_00, 300_000_00, 100_000_00]
    )
    assert result.children == [first, first + 1, first + 2]
    parent = ledger.receivables.get(rid)
    assert parent.status == "SPLIT"
    assert parent.holder is None
    assert parent.children == result.children
    assert token(ledger).balanceOf(s1).call() == 3
    for child_id, value in zip(result.children, [600_000_00, 300_000_00, 100_000_00], strict=True):
        child = ledger.receivables.get(child_id)
        assert child.status == "ACTIVE"
        assert same(child.holder, s1)
        assert (child.parent, child.root) == (rid, rid)
        assert (child.face_value_fen, child.paid_fen) == (value, 0)
        assert same(child.debtor, root.debtor)
        assert child.maturity_at == root.maturity_at
        assert child.doc_hash == root.doc_hash
        assert child.pledged_to is None
    # A grandchild still descends from the issued root, whose document it keeps.
    (g1, g2) = ledger.as_signer("supplier1").receivables.split(first, [1, 600_000_00 - 1]).children
    assert g1 == first + 3
    grandchild = ledger.receivables.get(g2)
    assert (grandchild.parent, grandchild.root, grandchild.doc_hash) == (first, rid, root.doc_hash)
    assert ledger.receivables.get(other).children == []


def test_split_of_a_partly_paid_receivable_divides_its_unpaid_value(ledger: Ledger) -> None:
    rid = active(ledger, "pp")
    ledger.as_signer("core").receivables.pay(rid, 250_000_00)
    supplier = ledger.as_signer("supplier1").receivables
    refused(ledger, "PartsMismatch", lambda: supplier.split(rid, [500_000_00, 500_000_00]))
    children = supplier.split(rid, [500_000_00, 250_000_00]).children
    assert [ledger.receivables.get(c).face_value_fen for c in children] == [
        500_000_00,
        250_000_00,
    ]
    parent = ledger.receivables.get(rid)
    assert (parent.status, parent.paid_fen) == ("SPLIT", 250_000_00)


def test_transfer_passes_an_active_receivable_to_another_member(ledger: Ledger) -> None:
    s1, s2, bank = (ledger.resolve(n) for n in ("supplier1", "supplier2", "bank"))
    rid = active(ledger, "t")
    sent = ledger.as_signer("supplier1").receivables.transfer(rid, s2)
    view = ledger.receivables.get(rid)
    assert (view.status, view.holder) == ("ACTIVE", s2)
    t = token(ledger)
    assert (t.balanceOf(s1).call(), t.balanceOf(s2).call()) == (0, 1)
    (moved,) = (
        ledger.contract("ReceivableToken")
        .events.Transfer()
        .process_receipt(sent.receipt, errors=DISCARD)
    )
    assert same(moved["args"]["from"], s1) and same(moved["args"]["to"], s2)
    # …and on to a lender acting as factor.
    ledger.as_signer("supplier2").receivables.transfer(rid, bank)
    assert same(ledger.receivables.get(rid).holder, bank)


def test_partial_payments_grow_paid_and_the_full_payment_marks_it_paid(ledger: Ledger) -> None:
    core, s1 = ledger.resolve("core"), ledger.resolve("supplier1")
    rid = active(ledger, "p")
    debtor = ledger.as_signer("core").receivables
    debtor.pay(rid, 100_000_00)
    view = ledger.receivables.get(rid)
    assert (view.status, view.paid_fen) == ("ACTIVE", 100_000_00)
    debtor.pay(rid, 1)
    assert ledger.receivables.get(rid).paid_fen == 100_000_01
    assert ledger.receivables.unpaid(rid) == FACE - 100_000_01
    debtor.pay(rid)  # the rest
    view = ledger.receivables.get(rid)
    assert (view.status, view.paid_fen) == ("PAID", FACE)
    assert ledger.receivables.unpaid(rid) == 0
    assert same(view.holder, s1)  # a paid receivable stays with its holder, as a record
    assert ledger.balance_fen(core) == OPENING_BALANCES["core"] - FACE
    assert ledger.balance_fen(s1) == FACE


def test_paying_an_unpledged_receivable_moves_ecny_from_debtor_to_holder_exactly(
    ledger: Ledger,
) -> None:
    core, s1, bank = (ledger.resolve(n) for n in ("core", "supplier1", "bank"))
    rid = active(ledger, "pay")
    a, b = ledger.as_signer("supplier1").receivables.split(rid, [700_000_00, 300_000_00]).children
    ledger.as_signer("supplier1").receivables.transfer(b, bank)
    supply = ledger.total_supply_fen()
    before = {x: ledger.balance_fen(x) for x in (core, s1, bank)}
    ledger.as_signer("core").receivables.pay(b, 123_456_78)
    assert ledger.balance_fen(core) == before[core] - 123_456_78
    assert ledger.balance_fen(bank) == before[bank] + 123_456_78
    assert ledger.balance_fen(s1) == before[s1]
    ledger.as_signer("core").receivables.pay(a, 1)
    assert ledger.balance_fen(core) == before[core] - 123_456_79
    assert ledger.balance_fen(s1) == before[s1] + 1
    assert ledger.total_supply_fen() == supply


def test_a_receivable_is_overdue_after_maturity_while_unpaid_but_not_once_paid(
    ledger: Ledger,
) -> None:
    unpaid = active(ledger, "o1", days=10, value=1_000_00)
    partly = active(ledger, "o2", days=10, value=1_000_00)
    paid = active(ledger, "o3", days=10, value=1_000_00)
    pending = issue(ledger, "o4", days=10, value=1_000_00)
    later = active(ledger, "o5", days=30, value=1_000_00)
    debtor = ledger.as_signer("core").receivables
    debtor.pay(partly, 1)
    debtor.pay(paid)
    assert [status(ledger, r) for r in (unpaid, partly, paid, pending)] == [
        "ACTIVE",
        "ACTIVE",
        "PAID",
        "PENDING",
    ]
    ledger.chain.advance_time(10 * DAY + 60)
    assert ledger.receivables.get(unpaid).status == "OVERDUE"
    assert ledger.receivables.get(partly).status == "OVERDUE"
    assert ledger.receivables.get(paid).status == "PAID"
    assert ledger.receivables.get(pending).status == "PENDING"  # only active/pledged ones
    assert ledger.receivables.get(later).status == "ACTIVE"
    # Children of an overdue receivable are overdue too (same maturity).
    kids = ledger.as_signer("supplier1").receivables.split(unpaid, [1_000_00 - 5, 5]).children
    assert [status(ledger, k) for k in kids] == ["OVERDUE", "OVERDUE"]
    # Paid after maturity: PAID, no longer overdue.
    debtor.pay(partly)
    assert ledger.receivables.get(partly).status == "PAID"
    debtor.pay(kids[1])
    assert [status(ledger, k) for k in kids] == ["OVERDUE", "PAID"]


# -- refusals: who may act -------------------------------------------------------------------


def test_only_an_active_core_enterprise_issues(ledger: Ledger) -> None:
    s1 = ledger.resolve("supplier1")
    maturity = chain_now(ledger) + 90 * DAY
    for name in ("supplier1", "bank", "microloan", "operator", "regulator", "issuer"):
        rc = ledger.as_signer(name).receivables
        exc = refused(ledger, "MissingRole", lambda rc=rc: rc.issue(s1, FACE, maturity, doc("x")))
        assert "needs role CORE_ENTERPRISE" in exc.rule
    outsider = ledger.keyring.create("outsider", dev=True)
    rc = ledger.as_signer(outsider.name).receivables
    refused(ledger, "NotAMember", lambda: rc.issue(s1, FACE, maturity, doc("x")))


def test_a_receivable_is_issued_only_to_an_active_supplier(ledger: Ledger) -> None:
    core = ledger.as_signer("core").receivables
    maturity = chain_now(ledger) + 90 * DAY
    for name in ("bank", "core", "tech", "auditor"):
        to = ledger.resolve(name)
        exc = refused(ledger, "MissingRole", lambda to=to: core.issue(to, FACE, maturity, doc(1)))
        assert "needs role SUPPLIER" in exc.rule
    stranger = Account.create().address
    refused(ledger, "NotAMember", lambda: core.issue(stranger, FACE, maturity, doc(1)))
    ledger.as_signer("regulator").suspend(ledger.resolve("supplier2"))
    s2 = ledger.resolve("supplier2")
    refused(ledger, "MemberNotActive", lambda: core.issue(s2, FACE, maturity, doc(1)))


def test_a_suspended_core_enterprise_cannot_issue(ledger: Ledger) -> None:
    ledger.as_signer("regulator").suspend(ledger.resolve("core"))
    core = ledger.as_signer("core").receivables
    s1, maturity = ledger.resolve("supplier1"), chain_now(ledger) + 90 * DAY
    refused(ledger, "MemberNotActive", lambda: core.issue(s1, FACE, maturity, doc(1)))
    ledger.as_signer("regulator").reinstate(ledger.resolve("core"))
    assert core.issue(s1, FACE, maturity, doc(1)).id == 1


def test_a_suspended_supplier_can_neither_accept_reject_split_nor_transfer(
    ledger: Ledger,
) -> None:
    pending = issue(ledger, "pending")
    held = active(ledger, "held")
    ledger.as_signer("regulator").suspend(ledger.resolve("supplier1"))
    s1 = ledger.as_signer("supplier1").receivables
    s2 = ledger.resolve("supplier2")
    for action in (
        lambda: s1.accept(pending),
        lambda: s1.reject(pending),
        lambda: s1.split(held, [1, FACE - 1]),
        lambda: s1.transfer(held, s2),
        lambda: ledger.as_signer("supplier1")._send(
            "ReceivableToken", "transferFrom", ledger.resolve("supplier1"), s2, held, gas=GAS
        ),
    ):
        refused(ledger, "MemberNotActive", action)
    # The debtor can still pay it: what is owed to a suspended holder is held (DESIGN §6.1).
    before = ledger.balance_fen(ledger.resolve("supplier1"))
    ledger.as_signer("core").receivables.pay(held, 1)
    assert ledger.balance_fen(ledger.resolve("supplier1")) == before
    assert ledger.held_fen(ledger.resolve("supplier1")) == 1
    ledger.as_signer("regulator").reinstate(ledger.resolve("supplier1"))
    s1.accept(pending)
    s1.transfer(held, s2)


def test_a_suspended_debtor_can_neither_cancel_nor_pay(ledger: Ledger) -> None:
    pending = issue(ledger, "pending")
    held = active(ledger, "held")
    ledger.as_signer("regulator").suspend(ledger.resolve("core"))
    core = ledger.as_signer("core").receivables
    refused(ledger, "MemberNotActive", lambda: core.cancel(pending))
    refused(ledger, "MemberNotActive", lambda: core.pay(held, 1))


def test_nothing_is_transferred_to_a_suspended_member_an_outsider_or_a_contract(
    ledger: Ledger,
) -> None:
    rid = active(ledger, "t")
    s1 = ledger.as_signer("supplier1").receivables
    s2 = ledger.resolve("supplier2")
    ledger.as_signer("regulator").suspend(s2)
    refused(ledger, "MemberNotActive", lambda: s1.transfer(rid, s2))
    refused(ledger, "NotAMember", lambda: s1.transfer(rid, Account.create().address))
    loan_book = to_checksum_address(ledger.deployment.address("LoanBook"))
    refused(ledger, "NotAMember", lambda: s1.transfer(rid, loan_book))
    refused(ledger, "NotAMember", lambda: s1.transfer(rid, "0x" + "00" * 20))


def test_only_the_holder_accepts_rejects_splits_and_transfers(ledger: Ledger) -> None:
    pending = issue(ledger, "pending")
    held = active(ledger, "held")
    bank = ledger.resolve("bank")
    for name in ("supplier2", "core", "bank", "operator"):
        rc = ledger.as_signer(name).receivables
        to = bank if name != "bank" else ledger.resolve("core")
        for action in (
            lambda rc=rc: rc.accept(pending),
            lambda rc=rc: rc.reject(pending),
            lambda rc=rc: rc.split(held, [1, FACE - 1]),
            lambda rc=rc, to=to: rc.transfer(held, to),
        ):
            exc = refused(ledger, "NotHolder", action)
            assert same(exc.args_by_name["caller"], ledger.resolve(name))
            assert same(exc.args_by_name["holder"], ledger.resolve("supplier1"))


def test_only_the_debtor_cancels_and_pays(ledger: Ledger) -> None:
    admit(ledger, "core2", Role.CORE_ENTERPRISE)
    ledger.as_signer("issuer").mint(ledger.resolve("core2"), FACE)
    pending = issue(ledger, "pending")
    held = active(ledger, "held")
    for name in ("supplier1", "core2", "bank", "operator"):
        rc = ledger.as_signer(name).receivables
        exc = refused(ledger, "NotDebtor", lambda rc=rc: rc.cancel(pending))
        assert same(exc.args_by_name["debtor"], ledger.resolve("core"))
        refused(ledger, "NotDebtor", lambda rc=rc: rc.pay(held, 1))


# -- refusals: wrong status ------------------------------------------------------------------


def test_a_receivable_is_accepted_once_and_then_cannot_be_rejected_or_cancelled(
    ledger: Ledger,
) -> None:
    rid = active(ledger, "once")
    s1 = ledger.as_signer("supplier1").receivables
    exc = refused(ledger, "WrongStatus", lambda: s1.accept(rid))
    assert exc.args_by_name["status"] == STATUS_NAMES.index("ACTIVE")
    refused(ledger, "WrongStatus", lambda: s1.reject(rid))
    refused(ledger, "WrongStatus", lambda: ledger.as_signer("core").receivables.cancel(rid))


def test_a_pending_receivable_cannot_be_split_transferred_or_paid(ledger: Ledger) -> None:
    rid = issue(ledger, "pending")
    s1 = ledger.as_signer("supplier1").receivables
    pending = STATUS_NAMES.index("PENDING")
    for action in (
        lambda: s1.split(rid, [1, FACE - 1]),
        lambda: s1.transfer(rid, ledger.resolve("supplier2")),
        lambda: ledger.as_signer("core").receivables.pay(rid, 1),
    ):
        assert refused(ledger, "WrongStatus", action).args_by_name["status"] == pending


def test_a_rejected_or_cancelled_receivable_is_final(ledger: Ledger) -> None:
    rejected, cancelled = issue(ledger, "r"), issue(ledger, "c")
    ledger.as_signer("supplier1").receivables.reject(rejected)
    ledger.as_signer("core").receivables.cancel(cancelled)
    s1, core = ledger.as_signer("supplier1").receivables, ledger.as_signer("core").receivables
    for rid in (rejected, cancelled):
        refused(ledger, "NotHolder", lambda rid=rid: s1.accept(rid))  # burnt: no holder
        refused(ledger, "WrongStatus", lambda rid=rid: core.cancel(rid))


def test_split_rejects_parts_that_do_not_sum_to_unpaid_value(ledger: Ledger) -> None:
    rid = active(ledger, "sum")
    s1 = ledger.as_signer("supplier1").receivables
    over = refused(ledger, "PartsMismatch", lambda: s1.split(rid, [FACE, 1]))
    assert (over.args_by_name["sumFen"], over.args_by_name["unpaidFen"]) == (FACE + 1, FACE)
    assert format_fen(FACE + 1) in over.rule and format_fen(FACE) in over.rule
    under = refused(ledger, "PartsMismatch", lambda: s1.split(rid, [FACE // 2, FACE // 2 - 1]))
    assert under.args_by_name["sumFen"] == FACE - 1


def test_split_rejects_a_zero_part(ledger: Ledger) -> None:
    rid = active(ledger, "zero")
    s1 = ledger.as_signer("supplier1").receivables
    exc = refused(ledger, "PartsMismatch", lambda: s1.split(rid, [FACE, 0]))
    assert exc.args_by_name["sumFen"] == 0
    refused(ledger, "PartsMismatch", lambda: s1.split(rid, [0, FACE]))


def test_split_needs_between_2_and_20_parts(ledger: Ledger) -> None:
    rid = active(ledger, "parts")
    s1 = ledger.as_signer("supplier1")
    for parts in ([], [FACE], [FACE // 21] * 20 + [FACE - 20 * (FACE // 21)]):
        # The client refuses before sending …
        with pytest.raises(BadInput):
            s1.receivables.split(rid, parts)
        # … and so does the contract.
        exc = refused(
            ledger,
            "PartCount",
            lambda parts=parts: s1._send("ReceivableToken", "split", rid, parts, gas=3_000_000),
        )
        assert (exc.args_by_name["parts"], exc.args_by_name["max"]) == (len(parts), MAX_PARTS)


def test_split_into_20_parts_works(ledger: Ledger) -> None:
    rid = active(ledger, "twenty")
    parts = [FACE // 20 + i for i in range(19)]
    parts.append(FACE - sum(parts))
    first = token(ledger).nextId().call()
    children = ledger.as_signer("supplier1").receivables.split(rid, parts).children
    assert children == list(range(first, first + 20))
    assert [ledger.receivables.get(c).face_value_fen for c in children] == parts
    assert token(ledger).balanceOf(ledger.resolve("supplier1")).call() == 20
    assert ledger.receivables.get(rid).children == children


def test_a_document_hash_backs_one_receivable_ever(ledger: Ledger) -> None:
    split_root = active(ledger, "split")
    ledger.as_signer("supplier1").receivables.split(split_root, [1, FACE - 1])
    paid = active(ledger, "paid")
    ledger.as_signer("core").receivables.pay(paid)
    rejected = issue(ledger, "rejected")
    ledger.as_signer("supplier1").receivables.reject(rejected)
    cancelled = issue(ledger, "cancelled")
    ledger.as_signer("core").receivables.cancel(cancelled)
    pending = issue(ledger, "pending")
    maturity = chain_now(ledger) + 30 * DAY
    for label, rid in [
        ("split", split_root),
        ("paid", paid),
        ("rejected", rejected),
        ("cancelled", cancelled),
        ("pending", pending),
    ]:
        core = ledger.resolve("core")
        assert token(ledger).receivableOfDocument(core, doc(label)).call() == rid
        if label in ("rejected", "cancelled"):
            continue  # freed: see the test below
        for to in ("supplier1", "supplier2"):
            rc, supplier = ledger.as_signer("core").receivables, ledger.resolve(to)
            exc = refused(
                ledger,
                "DocumentAlreadyUsed",
                lambda rc=rc, s=supplier, label=label: rc.issue(s, 5, maturity, doc(label)),
            )
            assert exc.args_by_name["existing"] == rid
            assert bytes(exc.args_by_name["docHash"]) == doc(label)


def test_a_document_is_bound_to_its_debtor_and_freed_by_rejection_or_cancellation(
    ledger: Ledger,
) -> None:
    # The review: a cancelled or rejected issue could never be re-issued for the same invoice,
    # and another debtor could burn a document hash it does not own by issuing on it first.
    core, core2 = ledger.resolve("core"), admit(ledger, "core2", Role.CORE_ENTERPRISE)
    s1 = ledger.resolve("supplier1")
    maturity = chain_now(ledger) + 30 * DAY
    squatted = ledger.as_signer("core2").receivables.issue(s1, 5, maturity, doc("invoice")).id
    mine = ledger.as_signer("core").receivables.issue(s1, 7, maturity, doc("invoice")).id
    t = token(ledger)
    assert t.receivableOfDocument(core2, doc("invoice")).call() == squatted
    assert t.receivableOfDocument(core, doc("invoice")).call() == mine
    # rejected: free again for the same debtor
    ledger.as_signer("supplier1").receivables.reject(mine)
    again = ledger.as_signer("core").receivables.issue(s1, 7, maturity, doc("invoice")).id
    assert t.receivableOfDocument(core, doc("invoice")).call() == again
    # cancelled: free again
    ledger.as_signer("core").receivables.cancel(again)
    third = ledger.as_signer("core").receivables.issue(s1, 7, maturity, doc("invoice")).id
    # accepted: never again, even after it is paid
    ledger.as_signer("supplier1").receivables.accept(third)
    ledger.as_signer("core").receivables.pay(third)
    exc = refused(
        ledger,
        "DocumentAlreadyUsed",
        lambda: ledger.as_signer("core").receivables.issue(s1, 7, maturity, doc("invoice")),
    )
    assert exc.args_by_name["existing"] == third


def test_issue_refuses_a_zero_document_hash(ledger: Ledger) -> None:
    core, s1 = ledger.as_signer("core").receivables, ledger.resolve("supplier1")
    maturity = chain_now(ledger) + 30 * DAY
    refused(ledger, "MissingDocument", lambda: core.issue(s1, FACE, maturity, b"\0" * 32))


def test_issue_refuses_a_maturity_not_in_the_future(ledger: Ledger) -> None:
    core, s1 = ledger.as_signer("core").receivables, ledger.resolve("supplier1")
    now = chain_now(ledger)
    for maturity in (now, now - 1, 0):
        exc = refused(
            ledger, "MaturityInPast", lambda m=maturity: core.issue(s1, FACE, m, doc("late"))
        )
        assert exc.args_by_name["maturityAt"] == maturity
        assert exc.args_by_name["nowAt"] >= now


def test_issue_refuses_a_zero_value_or_one_above_uint72(ledger: Ledger) -> None:
    core = ledger.as_signer("core")
    s1, maturity = ledger.resolve("supplier1"), chain_now(ledger) + 30 * DAY
    for value in (0, MAX_VALUE_FEN + 1, 2**256 - 1):
        with pytest.raises(BadInput):
            core.receivables.issue(s1, value, maturity, doc("v"))
        exc = refused(
            ledger,
            "InvalidValue",
            lambda v=value: core._send(
                "ReceivableToken", "issue", s1, v, maturity, doc("v"), gas=400_000
            ),
        )
        assert exc.args_by_name == {"valueFen": value, "maxFen": 2**72 - 1}
    # The largest value is storable, and splits and pays exactly.
    rid = core.receivables.issue(s1, MAX_VALUE_FEN, maturity, doc("max")).id
    ledger.as_signer("supplier1").receivables.accept(rid)
    a, b = ledger.as_signer("supplier1").receivables.split(rid, [MAX_VALUE_FEN - 1, 1]).children
    assert ledger.receivables.get(a).face_value_fen == MAX_VALUE_FEN - 1
    core.receivables.pay(b)
    assert ledger.receivables.get(b).status == "PAID"


def test_payment_is_refused_above_the_unpaid_value_and_at_zero(ledger: Ledger) -> None:
    rid = active(ledger, "over")
    core = ledger.as_signer("core")
    exc = refused(ledger, "Overpayment", lambda: core.receivables.pay(rid, FACE + 1))
    assert (exc.args_by_name["amountFen"], exc.args_by_name["unpaidFen"]) == (FACE + 1, FACE)
    core.receivables.pay(rid, FACE - 10)
    exc = refused(ledger, "Overpayment", lambda: core.receivables.pay(rid, 11))
    assert exc.args_by_name["unpaidFen"] == 10
    assert format_fen(10) in exc.rule
    # Zero: the client refuses before sending (None means "the rest"), and so does the contract.
    before = snapshot(ledger)
    with pytest.raises(BadInput):
        core.receivables.pay(rid, 0)
    assert snapshot(ledger) == before
    exc = refused(
        ledger, "Overpayment", lambda: core._send("ReceivableToken", "pay", rid, 0, gas=900_000)
    )
    assert exc.args_by_name["amountFen"] == 0


def test_paid_cancelled_rejected_and_split_receivables_cannot_be_paid(ledger: Ledger) -> None:
    paid = active(ledger, "paid")
    core = ledger.as_signer("core")
    core.receivables.pay(paid)
    with pytest.raises(BadInput):
        core.receivables.pay(paid)  # nothing left: the client does not even send
    cancelled = issue(ledger, "cancelled")
    core.receivables.cancel(cancelled)
    rejected = issue(ledger, "rejected")
    ledger.as_signer("supplier1").receivables.reject(rejected)
    split = active(ledger, "split")
    ledger.as_signer("supplier1").receivables.split(split, [FACE - 1, 1])
    for rid, name in ((paid, "PAID"), (cancelled, "CANCELLED"), (rejected, "REJECTED")):
        exc = refused(
            ledger,
            "WrongStatus",
            lambda rid=rid: core._send("ReceivableToken", "pay", rid, 1, gas=900_000),
        )
        assert exc.args_by_name["status"] == STATUS_NAMES.index(name)
    exc = refused(ledger, "WrongStatus", lambda: core.receivables.pay(split, 1))
    assert exc.args_by_name["status"] == STATUS_NAMES.index("SPLIT")


def test_an_unknown_id_is_refused_everywhere(ledger: Ledger) -> None:
    active(ledger, "known")
    next_id = token(ledger).nextId().call()
    s1, core = ledger.as_signer("supplier1").receivables, ledger.as_signer("core").receivables
    s2 = ledger.resolve("supplier2")
    for rid in (0, next_id):
        for action in (
            lambda rid=rid: s1.accept(rid),
            lambda rid=rid: s1.reject(rid),
            lambda rid=rid: s1.split(rid, [1, 1]),
            lambda rid=rid: s1.transfer(rid, s2),
            lambda rid=rid: core.cancel(rid),
            lambda rid=rid: ledger.as_signer("core")._send(
                "ReceivableToken", "pay", rid, 1, gas=900_000
            ),
        ):
            exc = refused(ledger, "UnknownReceivable", action)
            assert exc.args_by_name["id"] == rid
        for view in (
            lambda rid=rid: ledger.receivables.get(rid),
            lambda rid=rid: ledger.receivables.unpaid(rid),
            lambda rid=rid: ledger.receivables._call("statusOf", rid),
        ):
            with pytest.raises(ContractRefusal) as info:
                view()
            assert info.value.name == "UnknownReceivable"
            assert f"no receivable #{rid}" in info.value.rule


# -- ERC-721 ---------------------------------------------------------------------------------


def test_approvals_are_disabled(ledger: Ledger) -> None:
    rid = active(ledger, "approve")
    s1 = ledger.as_signer("supplier1")
    bank = ledger.resolve("bank")
    refused(
        ledger,
        "ApprovalsDisabled",
        lambda: s1._send("ReceivableToken", "approve", bank, rid, gas=GAS),
    )
    for flag in (True, False):
        refused(
            ledger,
            "ApprovalsDisabled",
            lambda f=flag: s1._send("ReceivableToken", "setApprovalForAll", bank, f, gas=GAS),
        )
    assert int(token(ledger).getApproved(rid).call(), 16) == 0
    assert not token(ledger).isApprovedForAll(ledger.resolve("supplier1"), bank).call()


def test_erc721_transfer_from_by_a_non_holder_is_refused(ledger: Ledger) -> None:
    rid = active(ledger, "tf")
    s1, bank, s2 = (ledger.resolve(n) for n in ("supplier1", "bank", "supplier2"))
    thief = ledger.as_signer("bank")
    for fn in ("transferFrom", "safeTransferFrom"):
        for frm in (s1, bank):  # naming the real holder, or pretending to be it
            exc = refused(
                ledger,
                "NotHolder",
                lambda fn=fn, frm=frm: thief._send("ReceivableToken", fn, frm, s2, rid, gas=GAS),
            )
            assert same(exc.args_by_name["caller"], bank)
            assert same(exc.args_by_name["holder"], s1)
    assert same(ledger.receivables.get(rid).holder, s1)


def test_erc721_transfer_from_by_the_holder_works_like_transfer(ledger: Ledger) -> None:
    rid = active(ledger, "tf")
    s1, s2, bank = (ledger.resolve(n) for n in ("supplier1", "supplier2", "bank"))
    seq, _ = ledger.audit_head()
    sent = ledger.as_signer("supplier1")._send(
        "ReceivableToken", "transferFrom", s1, s2, rid, gas=GAS
    )
    assert same(ledger.receivables.get(rid).holder, s2)
    (event,) = (
        ledger.contract("ReceivableToken")
        .events.ReceivableTransferred()
        .process_receipt(sent.receipt, errors=DISCARD)
    )
    assert (event["args"]["id"], event["args"]["from"], event["args"]["to"]) == (rid, s1, s2)
    assert ledger.audit_head()[0] == seq + 1
    assert last_entry(ledger).kind_name == "RECEIVABLE_TRANSFERRED"
    ledger.as_signer("supplier2")._send(
        "ReceivableToken", "safeTransferFrom", s2, bank, rid, gas=GAS
    )
    assert same(ledger.receivables.get(rid).holder, bank)
    # The same rules as `transfer`: not a pending one, not to a suspended member, not to self.
    pending = issue(ledger, "pending")
    s1_signer = ledger.as_signer("supplier1")
    refused(
        ledger,
        "WrongStatus",
        lambda: s1_signer._send("ReceivableToken", "transferFrom", s1, s2, pending, gas=GAS),
    )
    other = active(ledger, "other")
    ledger.as_signer("regulator").suspend(s2)
    refused(
        ledger,
        "MemberNotActive",
        lambda: s1_signer._send("ReceivableToken", "transferFrom", s1, s2, other, gas=GAS),
    )
    refused(
        ledger,
        "SelfTransfer",
        lambda: s1_signer._send("ReceivableToken", "transferFrom", s1, s1, other, gas=GAS),
    )


def test_transfer_to_self_is_refused(ledger: Ledger) -> None:
    rid = active(ledger, "self")
    s1 = ledger.resolve("supplier1")
    exc = refused(
        ledger, "SelfTransfer", lambda: ledger.as_signer("supplier1").receivables.transfer(rid, s1)
    )
    assert exc.args_by_name["id"] == rid


# -- pledges ---------------------------------------------------------------------------------


def test_only_the_loan_book_pledges_and_releases(ledger: Ledger) -> None:
    rid = active(ledger, "hook")
    s1 = ledger.resolve("supplier1")
    for name in ("supplier1", "core", "microloan", "operator"):
        signer = ledger.as_signer(name)
        for fn, args in (("pledge", (1, s1, [rid])), ("release", (1, s1, [rid]))):
            exc = refused(
                ledger,
                "NotLoanBook",
                lambda signer=signer, fn=fn, args=args: signer._send(
                    "ReceivableToken", fn, *args, gas=GAS
                ),
            )
            assert same(exc.args_by_name["caller"], ledger.resolve(name))
    assert ledger.receivables.get(rid).status == "ACTIVE"


def test_a_pledged_receivable_cannot_be_split_transferred_or_pledged_again(
    ledger: Ledger,
) -> None:
    rid = active(ledger, "pledged")
    loan = loan_against(ledger, [rid])
    second = loan_against(ledger, [rid])
    ledger.as_signer("supplier1").loans.accept(loan)
    view = ledger.receivables.get(rid)
    assert (view.status, view.pledged_to) == ("PLEDGED", loan)
    s1 = ledger.as_signer("supplier1")
    pledged = STATUS_NAMES.index("PLEDGED")
    for action in (
        lambda: s1.receivables.split(rid, [1, FACE - 1]),
        lambda: s1.receivables.transfer(rid, ledger.resolve("supplier2")),
        lambda: s1._send(
            "ReceivableToken",
            "transferFrom",
            ledger.resolve("supplier1"),
            ledger.resolve("bank"),
            rid,
            gas=GAS,
        ),
        lambda: s1.loans.accept(second),
    ):
        assert refused(ledger, "WrongStatus", action).args_by_name["status"] == pledged
    assert ledger.loans.get(second).status == "PROPOSED"


def test_a_pledged_receivable_becomes_overdue_after_maturity(ledger: Ledger) -> None:
    rid = active(ledger, "pledged", days=5)
    ledger.as_signer("supplier1").loans.accept(loan_against(ledger, [rid]))
    ledger.chain.advance_time(5 * DAY + 60)
    assert ledger.receivables.get(rid).status == "OVERDUE"


def test_cancelling_the_loan_releases_the_receivable_back_to_active(ledger: Ledger) -> None:
    rid = active(ledger, "released")
    other = active(ledger, "other")
    ledger.as_signer("supplier1").receivables.split(other, [FACE - 1, 1])
    loan = loan_against(ledger, [rid])
    ledger.as_signer("supplier1").loans.accept(loan)
    ledger.as_signer("microloan").loans.fund(loan)
    ledger.as_signer("supplier1").loans.cancel(loan)
    assert ledger.receivables.get(rid).status == "ACTIVE"
    # It can be split, transferred and pledged again.
    second = loan_against(ledger, [rid])
    ledger.as_signer("supplier1").loans.accept(second)
    assert ledger.receivables.get(rid).status == "PLEDGED"
    ledger.as_signer("microloan").loans.cancel(second)
    a, _ = ledger.as_signer("supplier1").receivables.split(rid, [FACE - 1, 1]).children
    ledger.as_signer("supplier1").receivables.transfer(a, ledger.resolve("bank"))
    assert same(ledger.receivables.get(a).holder, ledger.resolve("bank"))


def test_a_released_receivable_no_longer_reports_a_loan(ledger: Ledger) -> None:
    rid = active(ledger, "released")
    loan = loan_against(ledger, [rid])
    ledger.as_signer("supplier1").loans.accept(loan)
    ledger.as_signer("supplier1").loans.cancel(loan)
    view = ledger.receivables.get(rid)
    assert view.status == "ACTIVE"
    assert view.pledged_to is None


def test_only_the_borrowers_active_receivables_can_be_pledged(ledger: Ledger) -> None:
    pending = issue(ledger, "pending")
    theirs = active(ledger, "theirs", to="supplier2")
    s1 = ledger.as_signer("supplier1").loans
    loan = loan_against(ledger, [pending])
    exc = refused(ledger, "WrongStatus", lambda: s1.accept(loan))
    assert exc.args_by_name["status"] == STATUS_NAMES.index("PENDING")
    loan = loan_against(ledger, [theirs])
    exc = refused(ledger, "NotBorrowersReceivable", lambda: s1.accept(loan))
    assert same(exc.args_by_name["holder"], ledger.resolve("supplier2"))


# -- gas -------------------------------------------------------------------------------------


def _fresh_supplier(ledger: Ledger, prefix: str) -> str:
    """Admit a new SUPPLIER whose address has no zero byte (so calldata costs the same)."""
    for i in range(64):
        info = ledger.keyring.create(f"{prefix}-{i}", dev=True)
        if 0 not in bytes.fromhex(info.address[2:]):
            ledger.admit(Admission(address=info.address, roles=Role.SUPPLIER))
            return info.name
    raise AssertionError("no zero-free address in 64 tries")


def _round(ledger: Ledger, tag: str) -> tuple[int, int, int, int]:
    """Issue to a fresh supplier, accept, split in 2, transfer a part to another fresh one."""
    a, b = _fresh_supplier(ledger, f"{tag}-a"), _fresh_supplier(ledger, f"{tag}-b")
    maturity = 2_000_000_000  # fixed, so every issue sends the same calldata bytes
    doc_hash = b"\x5a" * 31 + b"\x01" if tag == "first" else b"\x5a" * 31 + b"\x02"
    issued = ledger.as_signer("core").receivables.issue(
        ledger.resolve(a), 999_999_99, maturity, doc_hash
    )
    issue_gas = int(ledger.chain.w3.eth.get_transaction_receipt(issued.tx)["gasUsed"])  # type: ignore[arg-type]
    ledger.as_signer(a).receivables.accept(issued.id)
    split = ledger.as_signer(a).receivables.split(issued.id, [555_555_55, 444_444_44])
    split_gas = int(ledger.chain.w3.eth.get_transaction_receipt(split.tx)["gasUsed"])  # type: ignore[arg-type]
    transfer_gas = (
        ledger.as_signer(a).receivables.transfer(split.children[0], ledger.resolve(b)).gas_used
    )
    return issued.id, issue_gas, split_gas, transfer_gas


def test_gas_of_issue_split_and_transfer_does_not_grow_with_the_ledger(ledger: Ledger) -> None:
    first_id, *first = _round(ledger, "first")
    assert first_id == 1
    core = ledger.as_signer("core").receivables
    s1, s2 = ledger.resolve("supplier1"), ledger.resolve("supplier2")
    maturity = chain_now(ledger) + 90 * DAY
    for i in range(200):
        rid = core.issue(s1 if i % 2 else s2, 1_000_00 + i, maturity, doc(f"filler-{i}")).id
        if i % 40 == 0:
            holder = ledger.as_signer("supplier1" if i % 2 else "supplier2").receivables
            holder.accept(rid)
            holder.split(rid, [1_000_00 + i - 1, 1])
    later_id, *later = _round(ledger, "later")
    assert 200 < later_id < 256  # ids in calldata still take one non-zero byte
    assert later == first, "gas (issue, split in 2, transfer) must not depend on ledger size"


# -- audit -----------------------------------------------------------------------------------


def test_every_receivable_action_appends_exactly_one_audit_entry_of_its_kind(
    ledger: Ledger,
) -> None:
    s1, s2 = ledger.resolve("supplier1"), ledger.resolve("supplier2")
    core = ledger.resolve("core")
    maturity = chain_now(ledger) + 90 * DAY
    rc = {n: ledger.as_signer(n).receivables for n in ("core", "supplier1", "supplier2")}
    rc["core"].issue(s1, FACE, maturity, doc(1))  # id 1
    rc["core"].issue(s1, FACE, maturity, doc(2))  # id 2
    rc["core"].issue(s1, FACE, maturity, doc(3))  # id 3
    steps: list[tuple[Callable[[], object], str, int, str]] = [
        (lambda: rc["core"].issue(s1, FACE, maturity, doc(4)), "RECEIVABLE_ISSUED", 4, core),
        (lambda: rc["supplier1"].accept(1), "RECEIVABLE_ACCEPTED", 1, s1),
        (lambda: rc["supplier1"].reject(2), "RECEIVABLE_REJECTED", 2, s1),
        (lambda: rc["core"].cancel(3), "RECEIVABLE_CANCELLED", 3, core),
        (lambda: rc["supplier1"].split(1, [FACE - 1, 1]), "RECEIVABLE_SPLIT", 1, s1),
        (lambda: rc["supplier1"].transfer(5, s2), "RECEIVABLE_TRANSFERRED", 5, s1),
        (
            lambda: ledger.as_signer("supplier1")._send(
                "ReceivableToken", "transferFrom", s1, s2, 6, gas=GAS
            ),
            "RECEIVABLE_TRANSFERRED",
            6,
            s1,
        ),
        (lambda: rc["core"].pay(5, 10), "RECEIVABLE_PAID", 5, core),
        (lambda: rc["core"].pay(5), "RECEIVABLE_PAID", 5, core),
    ]
    for action, kind, subject, actor in steps:
        before, _ = ledger.audit_head()
        result = action()
        after, head = ledger.audit_head()
        assert after == before + 1, kind
        entry = last_entry(ledger)
        assert (entry.kind_name, entry.subject, entry.seq) == (kind, subject, after)
        assert same(entry.actor, actor)
        assert "0x" + entry.entry_hash.hex() == head
        tx = getattr(result, "tx", None)
        assert tx is None or entry.tx == tx
    assert verify_trail(ledger).ok


def test_pledge_and_release_are_audited_as_the_borrower_and_the_member_who_closed_the_loan(
    ledger: Ledger,
) -> None:
    rid = active(ledger, "p")
    loan = loan_against(ledger, [rid])
    sent = ledger.as_signer("supplier1").loans.accept(loan)
    entries = [e for e in read_entries(ledger) if e.tx == sent.tx]
    assert [e.kind_name for e in entries] == ["RECEIVABLES_PLEDGED", "LOAN_ACCEPTED"]
    assert entries[0].subject == loan
    assert same(entries[0].actor, ledger.resolve("supplier1"))
    sent = ledger.as_signer("microloan").loans.cancel(loan)
    entries = [e for e in read_entries(ledger) if e.tx == sent.tx]
    assert [e.kind_name for e in entries] == ["RECEIVABLES_RELEASED", "LOAN_CANCELLED"]
    assert same(entries[0].actor, ledger.resolve("microloan"))
    assert verify_trail(ledger).ok


def test_the_trail_verifies_after_a_mixed_sequence(ledger: Ledger) -> None:
    core = ledger.as_signer("core").receivables
    s1 = ledger.as_signer("supplier1").receivables
    a = active(ledger, "a")
    b = issue(ledger, "b", to="supplier2")
    c = issue(ledger, "c")
    ledger.as_signer("supplier2").receivables.reject(b)
    core.cancel(c)
    core.pay(a, 3)
    kids = s1.split(a, [FACE - 103, 50, 50])
    s1.transfer(kids.children[1], ledger.resolve("bank"))
    ledger.as_signer("bank").receivables.transfer(kids.children[1], ledger.resolve("supplier2"))
    core.pay(kids.children[1])
    loan = loan_against(ledger, [kids.children[0]])
    ledger.as_signer("supplier1").loans.accept(loan)
    ledger.as_signer("supplier1").loans.cancel(loan)
    grandkids = s1.split(kids.children[0], [1, FACE - 104])
    core.pay(grandkids.children[0])
    with pytest.raises(ContractRefusal):
        core.pay(grandkids.children[1], FACE)
    verdict = verify_trail(ledger)
    assert verdict.ok, verdict.problem
    assert verdict.entries == ledger.audit_head()[0]
    assert verdict.head == ledger.audit_head()[1]


# -- refusals in words -----------------------------------------------------------------------


def test_a_wrong_status_refusal_names_the_receivables_status_in_words(ledger: Ledger) -> None:
    pending = issue(ledger, "pending")
    s1 = ledger.as_signer("supplier1").receivables
    with pytest.raises(ContractRefusal) as exc:
        s1.transfer(pending, ledger.resolve("supplier2"))
    assert "PENDING" in exc.value.rule, exc.value.rule
    s1.accept(pending)
    with pytest.raises(ContractRefusal) as exc:
        s1.accept(pending)
    assert "ACTIVE" in exc.value.rule and "SUSPENDED" not in exc.value.rule, exc.value.rule


# -- the client ------------------------------------------------------------------------------


def test_two_handles_of_the_same_account_can_send_in_turn(ledger: Ledger) -> None:
    first, second = ledger.as_signer("core"), ledger.as_signer("core")
    s1, maturity = ledger.resolve("supplier1"), chain_now(ledger) + 30 * DAY
    first.receivables.issue(s1, 1_00, maturity, doc(1))
    second.receivables.issue(s1, 1_00, maturity, doc(2))
    first.receivables.issue(s1, 1_00, maturity, doc(3))
    assert token(ledger).nextId().call() == 4
