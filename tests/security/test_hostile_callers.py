"""Reentrancy and hostile callers: member contracts that call back, forged engines, amounts
at the limits of uint256, random calldata.

The engines call out to exactly two kinds of code: each other (fixed at deployment) and, in
`ReceivableToken.safeTransferFrom`, the receiving contract's ERC-721 hook. So:

- a hostile member contract (`fixtures/HostileMember.sol`) that is a loan's borrower,
  payee, junior lender and tech partner, armed to re-enter the engines, is never called
  back during funding, disbursement, any settlement (repayment, receivable payment, sweep)
  or the pool's cover — no member code runs while an engine is mid-settlement;
- the one callback there is, the ERC-721 hook, re-enters every engine: every entry point it
  may not call is refused with the rule's error, and what it may do (as the new holder)
  leaves the ledger's invariants intact;
- contracts posing as engines are refused at every engine-only entry point;
- amounts at uint256, uint128, uint96, uint80 and uint72 limits at every entry point that
  takes an amount revert, or succeed harmlessly (the invariants of test_invariants hold);
- random calldata sent by a non-member to any function never succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.engine.client import Ledger
from ledger.engine.deploy import SUITE
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.errors import ContractRefusal, LedgerError
from ledger.models import Admission, Profile
from ledger.roles import Role
from ledger.solidity import artifacts
from tests.security import support
from tests.security.support import (
    DAY,
    Books,
    Deployed,
    Lens,
    deploy_fixture,
    encode_call,
    probe,
)

U256 = 2**256 - 1
ZERO = "0x" + "00" * 20


@pytest.fixture
def world(deployed: Deployed) -> Iterator[Deployed]:
    """The session's seeded deployment, reverted after the test."""
    snapshot = deployed.snapshot()
    deployed.reopen()
    try:
        yield deployed
    finally:
        deployed.revert(snapshot)
        deployed.reopen()


def send(ledger: Ledger, to: str, data: str, gas: int = 3_000_000) -> Any:
    return ledger.sender.transact(to, data, gas=gas, simulate=False)


def admit(world: Deployed, address: str, roles: Role, net_assets: int = 0) -> None:
    """Admit as the operator; a lender gets a bank licence, REGULATOR comes from the
    regulator (the operator may not grant it)."""
    profile = Profile(licence="BANK") if roles & Role.LENDER else Profile()
    world.ledger.admit(
        Admission(
            address=address,
            roles=int(roles) & ~int(Role.REGULATOR),
            net_assets_fen=net_assets,
            profile=profile,
        )
    )
    if roles & Role.REGULATOR:
        regulator = world.ledger.as_signer("regulator")
        regulator._send("Membership", "setRoles", address, int(roles), gas=400_000)


class Hostile:
    """A deployed HostileMember, driven by the operator's key (its owner)."""

    def __init__(self, world: Deployed) -> None:
        self.world = world
        self.contract = deploy_fixture(world.ledger, "HostileMember")
        self.address = self.contract.address

    def do(self, contract: str, fn: str, *args: Any) -> Any:
        """Act as this member: `contract.fn(*args)` called by the hostile contract."""
        target = self.world.contract_address(contract)
        inner = encode_call(self.world.ledger, contract, fn, *args)
        data = self.contract.functions.exec(target, inner)._encode_transaction_data()
        return send(self.world.ledger, self.address, data)

    def arm(self, calls: list[tuple[str, str, tuple[Any, ...]]]) -> None:
        targets = [self.world.contract_address(c) for c, _, _ in calls]
        datas = [bytes.fromhex(encode_call(self.world.ledger, c, f, *a)[2:]) for c, f, a in calls]
        data = self.contract.functions.arm(targets, datas)._encode_transaction_data()
        send(self.world.ledger, self.address, data)

    @property
    def callbacks(self) -> int:
        return int(self.contract.functions.callbacks().call())

    def reentries(self, receipt: Any) -> list[tuple[bool, str]]:
        """(ok, error name) of each re-entry the receipt logged."""
        from web3.logs import DISCARD

        out = []
        for ev in self.contract.events.Reentered().process_receipt(receipt, errors=DISCARD):
            ok, result = ev["args"]["ok"], bytes(ev["args"]["result"])
            decoded = artifacts.decode_error(result) if not ok else None
            out.append((ok, decoded[0] if decoded else ("" if ok else result.hex()[:8])))
        return out


def invariants_hold(world: Deployed, books: Books, extra_holders: list[str]) -> None:
    """The invariants of test_invariants.py, on this world (the Lens deployed for the call)."""
    ledger = world.ledger
    contracts = {n: world.contract_address(n) for n in SUITE}
    names = ("operator", "issuer", "core", "supplier1", "supplier2", "bank", "microloan", "tech")
    holders = [ledger.resolve(n) for n in names] + list(contracts.values()) + extra_holders
    snapshot = Lens(ledger, deploy_fixture(ledger, "Lens"), holders).read()
    problems = (
        support.ecny_supply_is_minted_less_burnt(snapshot, books, contracts)
        + support.contract_balances_match_books(snapshot, books, contracts)
        + support.no_receivable_pledged_to_two_loans(snapshot)
        + support.receivable_roots_conserve_face_value(snapshot, books)
        + support.loan_outstanding_is_principal_less_repaid_and_cover(snapshot, books)
        + support.exposure_is_open_funding(snapshot)
        + books.problems
    )
    assert problems == []
    from ledger.audit.trail import verify_trail

    assert verify_trail(ledger).ok


def test_a_hostile_member_contract_is_never_called_back_during_funding_or_any_settlement(
    world: Deployed,
) -> None:
    op = world.ledger
    a = {n: op.resolve(n) for n in ("core", "supplier1", "bank", "tech")}
    borrower, lender, tech = Hostile(world), Hostile(world), Hostile(world)
    admit(world, borrower.address, Role.SUPPLIER)
    admit(world, lender.address, Role.LENDER, 10**12)
    admit(world, tech.address, Role.TECH_PARTNER)
    issuer, core = op.as_signer("issuer"), op.as_signer("core")
    books = Books(minted=op.total_supply_fen())
    issuer.mint(lender.address, 1_000_000)
    books.minted += 1_000_000
    due = world.now() + 200 * DAY
    rid = core.receivables.issue(borrower.address, 5_000_000, due, keccak(text="hostile")).id
    borrower.do("ReceivableToken", "accept", rid)
    request = LoanRequest(
        borrower=borrower.address,
        tranches=[
            TrancheRequest(lender=a["bank"], senior=True, amount_fen=600_000, coupon_bps=500),
            TrancheRequest(lender=lender.address, senior=False, amount_fen=400_000),
        ],
        receivable_ids=[rid],
        rate_bps=1800,
        term_days=10,
        fee_share_bps=2000,
        provision_share_bps=1000,
        tech_partner=tech.address,
        payees=[(borrower.address, 1_000_000)],
        sweep_bps=3000,
    )
    lid = 1
    lender.do("LoanBook", "propose", request.terms_document())
    terms_hash = op.contract("LoanBook").functions.loanOf(lid).call()[9]
    # Each hostile member re-enters, if ever called: repay, settle directly, take money.
    armed = [
        ("LoanBook", "repay", (lid, 1)),
        ("LoanBook", "settleSweep", (lid, a["core"], 1)),
        ("DigitalRMB", "engineTransfer", (a["core"], borrower.address, 10**6)),
        ("ReceivableToken", "transfer", (rid, a["supplier1"])),
    ]
    for h in (borrower, lender, tech):
        h.arm(armed)
    borrower.do("LoanBook", "accept", lid, terms_hash)
    lender.do("LoanBook", "fund", lid)
    op.as_signer("bank").loans.fund(lid)
    lender.do("LoanBook", "disburse", lid)
    world.warp(5 * DAY)
    for sent in (
        core.loans.repay(lid, 50_000),  # a repayment by a third member
        core.transfer(borrower.address, 100_000),  # swept into the waterfall
        core.receivables.pay(rid, 100_000),  # the pledged receivable pays, in part
    ):
        books.read_receipt(op, sent.receipt)
    books.paid_on_root[rid] += 100_000
    world.warp(20 * DAY)
    op.as_signer("bank").loans.contribute(100_000)
    books.contributed += 100_000
    op.as_signer("regulator").loans.set_policy("default_days", 1)
    books.read_receipt(op, op.loans.declare_default(lid).receipt)  # the pool covers
    assert [h.callbacks for h in (borrower, lender, tech)] == [0, 0, 0]
    assert books.settlements == 3
    invariants_hold(world, books, [borrower.address, lender.address, tech.address])


def test_a_hostile_receiver_re_entering_every_engine_from_the_erc721_hook_is_refused_or_harmless(
    world: Deployed,
) -> None:
    op = world.ledger
    a = {n: op.resolve(n) for n in ("core", "supplier1", "supplier2", "bank")}
    hostile = Hostile(world)
    admit(world, hostile.address, Role.SUPPLIER)
    core, s1 = op.as_signer("core"), op.as_signer("supplier1")
    books = Books(minted=op.total_supply_fen())
    due = world.now() + 200 * DAY
    ids = []
    for i in range(3):
        rid = core.receivables.issue(a["supplier1"], 1_000_000, due, keccak(text=f"r{i}")).id
        s1.receivables.accept(rid)
        ids.append(rid)
    given_, other, backing = ids
    # A disbursed loan of supplier1's to aim settlements at, and one the hostile may accept.
    request = LoanRequest(
        borrower=a["supplier1"],
        tranches=[TrancheRequest(lender=a["bank"], senior=False, amount_fen=100_000)],
        receivable_ids=[backing],
        rate_bps=1000,
        term_days=30,
    )
    bank = op.as_signer("bank")
    live = bank.loans.propose(request).id
    s1.loans.accept(live)
    bank.loans.fund(live)
    bank.loans.disburse(live)
    own = LoanRequest(
        borrower=hostile.address,
        tranches=[TrancheRequest(lender=a["bank"], senior=False, amount_fen=50_000)],
        receivable_ids=[given_],
        rate_bps=1000,
        term_days=30,
    )
    own_id = bank.loans.propose(own).id
    own_hash = op.contract("LoanBook").functions.loanOf(own_id).call()[9]
    calls: list[tuple[str, str, tuple[Any, ...], str]] = [
        (
            "LoanBook",
            "settleReceivablePayment",
            (live, backing, a["core"], hostile.address, 1),
            "NotReceivableToken",
        ),
        ("LoanBook", "settleSweep", (live, a["core"], 1), "NotTokenContract"),
        ("DigitalRMB", "engineTransfer", (a["core"], hostile.address, 10**6), "NotEngine"),
        ("DigitalRMB", "engineSplit", (a["core"], [hostile.address], [10**6]), "NotEngine"),
        ("DigitalRMB", "setSweep", (hostile.address, live, 10_000), "NotEngine"),
        (
            "DigitalRMB",
            "transferFrom",
            (a["core"], hostile.address, 1),
            "ERC20InsufficientAllowance",
        ),
        ("ReceivableToken", "pledge", (live, hostile.address, [given_]), "NotLoanBook"),
        ("ReceivableToken", "release", (live, a["supplier1"], [backing]), "NotLoanBook"),
        ("ReceivableToken", "transferFrom", (a["supplier1"], hostile.address, other), "NotHolder"),
        ("ReceivableToken", "pay", (given_, 1), "NotDebtor"),
        (
            "AuditTrail",
            "append",
            (keccak(text="LOAN_SETTLED"), hostile.address, live, b"\0" * 32),
            "NotAuditWriter",
        ),
        # What the new holder may do, it may do even from inside the hook: accept its own
        # loan (pledging the receivable still being delivered). Harmless: checked below.
        ("LoanBook", "accept", (own_id, own_hash), ""),
        ("LoanBook", "repay", (live, 1), "ERC20InsufficientBalance"),
    ]
    hostile.arm([(c, f, args) for c, f, args, _ in calls])
    sent = s1.sender.transact(
        world.contract_address("ReceivableToken"),
        encode_call(
            op,
            "ReceivableToken",
            "safeTransferFrom(address,address,uint256)",
            a["supplier1"],
            hostile.address,
            given_,
        ),
        gas=5_000_000,
        simulate=False,
    )
    outcomes = hostile.reentries(sent.receipt)
    assert [ok for ok, _ in outcomes] == [expected == "" for *_, expected in calls]
    assert [err for _, err in outcomes] == [expected for *_, expected in calls]
    info = op.contract("ReceivableToken").functions.receivableOf(given_).call()
    assert (info[2], info[11]) == (hostile.address, own_id)  # held by it, pledged to its loan
    invariants_hold(world, books, [hostile.address])


ENGINE_ONLY = [
    ("AuditTrail", "append", lambda a: (keccak(text="X"), a["core"], 1, b"\0" * 32)),
    ("DigitalRMB", "engineTransfer", lambda a: (a["core"], a["supplier1"], 1)),
    ("DigitalRMB", "engineSplit", lambda a: (a["core"], [a["supplier1"]], [1])),
    ("DigitalRMB", "setSweep", lambda a: (a["supplier1"], 1, 10_000)),
    ("ReceivableToken", "pledge", lambda a: (1, a["supplier1"], [1])),
    ("ReceivableToken", "release", lambda a: (1, a["supplier1"], [1])),
    ("LoanBook", "settleReceivablePayment", lambda a: (1, 1, a["core"], a["supplier1"], 1)),
    ("LoanBook", "settleSweep", lambda a: (1, a["core"], 1)),
]


def test_a_contract_posing_as_an_engine_is_refused_at_every_engine_only_entry_point(
    world: Deployed,
) -> None:
    hostile = Hostile(world)
    admit(world, hostile.address, Role(0xFF))  # every role: still not an engine
    a = {n: world.ledger.resolve(n) for n in ("core", "supplier1")}
    for contract, fn, args in ENGINE_ONLY:
        target = world.contract_address(contract)
        inner = encode_call(world.ledger, contract, fn, *args(a))
        data = hostile.contract.functions.exec(target, inner)._encode_transaction_data()
        outcome = probe(world.ledger, world.ledger.resolve("operator"), hostile.address, data)
        assert not outcome.ok and outcome.error in {
            "NotAuditWriter",
            "NotEngine",
            "NotLoanBook",
            "NotReceivableToken",
            "NotTokenContract",
        }, (contract, fn, outcome)


# ------------------------------------------------------------------------------- limits

LIMITS = {
    "2^256-1": U256,
    "2^255": 2**255,
    "2^128": 2**128,
    "2^128-1": 2**128 - 1,
    "2^96": 2**96,
    "2^80": 2**80,
    "2^72": 2**72,
    "2^72-1": 2**72 - 1,
}


def _limit_calls(world: Deployed, x: int) -> list[tuple[str, str, str]]:
    """(who, contract, calldata) of every entry point taking an amount, with amount x."""
    op = world.ledger
    a = {n: op.resolve(n) for n in ("core", "supplier1", "supplier2", "bank", "regulator")}
    due = world.now() + 300 * DAY
    huge_terms = encode(
        [
            "(address,address,uint16,uint16,uint16,uint16,uint16,uint16,uint16,uint8)",
            "(address,bool,uint256,uint16)[]",
            "uint256[]",
            "address[]",
            "uint256[]",
        ],
        [
            (a["supplier1"], "0x" + "00" * 20, 1000, 0, 30, 0, 0, 0, 0, 0),
            [(a["bank"], False, x, 0)],
            [1],
            [a["supplier1"]],
            [x],
        ],
    )
    set_net_assets = keccak(text="setNetAssets(address,uint128)")[:4]
    raw_net_assets = "0x" + (set_net_assets + encode(["address", "uint256"], [a["bank"], x])).hex()
    return [
        ("issuer", "DigitalRMB", encode_call(op, "DigitalRMB", "mint", a["supplier2"], x)),
        ("issuer", "DigitalRMB", encode_call(op, "DigitalRMB", "burn", x)),
        ("core", "DigitalRMB", encode_call(op, "DigitalRMB", "transfer", a["supplier2"], x)),
        ("core", "DigitalRMB", encode_call(op, "DigitalRMB", "approve", a["bank"], x)),
        (
            "bank",
            "DigitalRMB",
            encode_call(op, "DigitalRMB", "transferFrom", a["core"], a["bank"], x),
        ),
        ("core", "ProvisionPool", encode_call(op, "ProvisionPool", "contribute", x)),
        (
            "core",
            "ReceivableToken",
            encode_call(
                op, "ReceivableToken", "issue", a["supplier1"], x, due, keccak(text=f"limit {x}")
            ),
        ),
        ("supplier1", "ReceivableToken", encode_call(op, "ReceivableToken", "split", 1, [x, 1])),
        (
            "supplier1",
            "ReceivableToken",
            encode_call(op, "ReceivableToken", "split", 1, [x, U256 - x + 2]),
        ),
        ("core", "ReceivableToken", encode_call(op, "ReceivableToken", "pay", 1, x)),
        ("core", "LoanBook", encode_call(op, "LoanBook", "repay", 1, x)),
        ("core", "LoanBook", encode_call(op, "LoanBook", "repayMany", [1, 1], [x, x])),
        ("bank", "LoanBook", encode_call(op, "LoanBook", "propose", huge_terms)),
        ("regulator", "Membership", raw_net_assets),
        (
            "regulator",
            "Policy",
            encode_call(op, "Policy", "set", b"max_apr_bps".ljust(32, b"\0"), x),
        ),
        (
            "regulator",
            "Policy",
            encode_call(op, "Policy", "set", b"default_days".ljust(32, b"\0"), x),
        ),
    ]


@pytest.fixture
def limit_world(world: Deployed) -> Deployed:
    """Receivable #1 ACTIVE (¥10,000.00) backing loan #1, disbursed; core approved bank."""
    op = world.ledger
    a = {n: op.resolve(n) for n in ("supplier1", "bank")}
    core, s1, bank = op.as_signer("core"), op.as_signer("supplier1"), op.as_signer("bank")
    rid = core.receivables.issue(
        a["supplier1"], 1_000_000, world.now() + 300 * DAY, keccak(text="L")
    )
    s1.receivables.accept(rid.id)
    request = LoanRequest(
        borrower=a["supplier1"],
        tranches=[TrancheRequest(lender=a["bank"], senior=False, amount_fen=100_000)],
        receivable_ids=[rid.id],
        rate_bps=1000,
        term_days=30,
    )
    loan = bank.loans.propose(request).id
    s1.loans.accept(loan)
    bank.loans.fund(loan)
    bank.loans.disburse(loan)
    return world


@pytest.mark.parametrize("x", LIMITS.values(), ids=LIMITS.keys())
def test_amounts_at_integer_limits_revert_or_leave_every_invariant_intact(
    limit_world: Deployed, x: int
) -> None:
    world = limit_world
    op = world.ledger
    succeeded = []
    for who, contract, data in _limit_calls(world, x):
        snapshot = world.snapshot()
        books = Books(minted=op.total_supply_fen(), contributed=op.loans.pool_balance_fen())
        signer = op.as_signer(who)
        try:
            sent = signer.sender.transact(
                world.contract_address(contract), data, gas=5_000_000, simulate=False
            )
        except LedgerError:
            sent = None  # reverted: harmless by definition (mined with status 0)
        if sent is not None:
            succeeded.append((contract, data[:10]))
            selector = data[:10]
            if selector == encode_call(op, "DigitalRMB", "mint", ZERO, 0)[:10]:
                books.minted += x
            elif selector == encode_call(op, "DigitalRMB", "burn", 0)[:10]:
                books.burnt += x
            books.read_receipt(op, sent.receipt)
            invariants_hold(world, books, [])
        world.revert(snapshot)
        world.reopen()
        op = world.ledger
    # Only moves that are legitimate at that size got through.
    allowed = {"DigitalRMB", "Membership", "ReceivableToken"}
    assert {c for c, _ in succeeded} <= allowed, succeeded


def test_interest_due_beyond_uint80_is_never_silently_truncated(world: Deployed) -> None:
    """Interest due is stored in 80 bits. A principal above 2^64 − 1 fen is refused at
    proposal, so at the 655.35% maximum rate the due stays whole for some 10,000 years; past
    that the stored figure does not wrap: the loan's view reverts (SafeCast)."""
    op = world.ledger
    cap = 2**64 - 1
    reg, issuer, core = op.as_signer("regulator"), op.as_signer("issuer"), op.as_signer("core")
    s1, bank = op.as_signer("supplier1"), op.as_signer("bank")
    reg.loans.set_policy("max_apr_bps", 65_535)
    reg.loans.set_policy("max_single_borrower_bps", 10_000)
    reg.set_net_assets(op.resolve("bank"), 2**128 - 1)
    issuer.mint(op.resolve("bank"), cap)
    rid = core.receivables.issue(
        op.resolve("supplier1"), 100, world.now() + 3650 * DAY, keccak(text="big")
    )
    s1.receivables.accept(rid.id)

    def request(*amounts: int) -> LoanRequest:
        return LoanRequest.model_construct(
            borrower=op.resolve("supplier1"),
            tranches=[
                TrancheRequest(lender=op.resolve("bank"), senior=False, amount_fen=a)
                for a in amounts
            ],
            receivable_ids=[rid.id],
            rate_bps=65_535,
            term_days=3650,
            penalty_bps=0,
            grace_days=0,
            fee_share_bps=0,
            provision_share_bps=0,
            mode="sequential",
            tech_partner=None,
            payees=[],
            sweep_bps=0,
        )

    with pytest.raises(ContractRefusal) as refused:
        bank.loans.propose(request(2**63, 2**63))
    assert refused.value.name == "PrincipalAboveCap"
    assert refused.value.args_by_name == {"principalFen": 2**64, "capFen": cap}
    loan = bank.loans.propose(request(cap // 2, cap - cap // 2)).id
    s1.loans.accept(loan)
    bank.loans.fund(loan)
    bank.loans.disburse(loan)
    book = op.contract("LoanBook").functions
    disbursed = book.loanOf(loan).call()[6]
    world.warp(6 * 365 * DAY)
    due = book.loanOf(loan).call()[5]
    assert due == cap * 65_535 * (world.now() - disbursed) // (10_000 * 31_536_000)
    world.warp(20_000 * 365 * DAY)  # now the due would need more than 80 bits
    assert cap * 65_535 * (world.now() - disbursed) // (10_000 * 31_536_000) >= 2**80
    with pytest.raises(Exception) as reverted:
        book.loanOf(loan).call()
    overflow = op.refusal(reverted.value)
    assert isinstance(overflow, ContractRefusal)
    assert overflow.name == "SafeCastOverflowedUintDowncast", overflow
    assert overflow.args_by_name["bits"] == 80


# ---------------------------------------------------------------------- random calldata


def _canonical(param: dict[str, Any]) -> str:
    typ = str(param["type"])
    if typ.startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in param["components"]) + ")" + typ[5:]
    return typ


def _selectors() -> list[tuple[str, bytes]]:
    out = []
    for name in SUITE:
        for entry in artifacts.load(name).abi:
            if entry.get("type") == "function" and entry["stateMutability"] not in ("view", "pure"):
                types = ",".join(_canonical(i) for i in entry["inputs"])
                out.append((name, keccak(text=f"{entry['name']}({types})")[:4]))
    return out


SELECTORS = _selectors()
NON_MEMBER = to_checksum_address(keccak(text="a stranger with random calldata")[:20])


@settings(
    max_examples=3000 if support.LONG else 300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    target=st.sampled_from(SELECTORS),
    words=st.lists(
        st.one_of(st.integers(0, 2**256 - 1), st.integers(0, 64), st.just(2**256 - 1)), max_size=12
    ),
    tail=st.binary(max_size=40),
)
def test_random_calldata_from_a_non_member_never_succeeds(
    deployed: Deployed, target: tuple[str, bytes], words: list[int], tail: bytes
) -> None:
    contract, selector = target
    data = "0x" + (selector + b"".join(w.to_bytes(32, "big") for w in words) + tail).hex()
    outcome = probe(deployed.ledger, NON_MEMBER, deployed.contract_address(contract), data)
    assert not outcome.ok, (contract, data)
