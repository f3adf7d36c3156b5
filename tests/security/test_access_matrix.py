"""The access-control matrix: every state-changing function × every role, from the ABIs.

Deny by default (DESIGN §4.1) is a table: for each state-changing function of each deployed
contract (read from the committed ABIs, so a new function without a row fails the test)
and each caller — an account of each of the eight roles, a non-member, and the allowed
account itself once suspended — the test simulates the call (`eth_call` from that
account) against one fixture state in which every function's allowed caller would
succeed, and asserts that exactly the allowed cells do. Engine-only entry points are
refused for every member; the engine contracts themselves are called as a positive control
(so a refusal is known to come from the caller, not from bad arguments), and a wrong
engine must be refused too. Refused cells must fail for an access reason (the custom error
is recorded), never for a broken fixture.

The table is written to docs/access-matrix.md (checked: rerun with LIANDAI_UPDATE_DOCS=1
after a deliberate change) and printed in the test report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address

from ledger.engine.deploy import AUDIT_WRITERS, SUITE
from ledger.engine.loans import CoverRequest, LoanRequest, TrancheRequest
from ledger.models import Admission, Profile
from ledger.roles import Role
from ledger.solidity import artifacts
from tests.security.report import MATRIX_TEXT
from tests.security.support import (
    DAY,
    ZERO32,
    Deployed,
    Outcome,
    encode_call,
    probe,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "access-matrix.md"
ROLES = [r.name for r in Role if r.name]
ROLE_ACCOUNT = {
    "OPERATOR": "operator",
    "ECNY_ISSUER": "issuer",
    "CORE_ENTERPRISE": "core",
    "SUPPLIER": "supplier1",
    "LENDER": "bank",
    "TECH_PARTNER": "tech",
    "AUDITOR": "auditor",
    "REGULATOR": "regulator",
    "GUARANTOR": "guarantor",
    "INVESTOR": "investor",
}
COLUMNS = [*ROLES, "non-member", "suspended"]
MEMBERS = {role: "" for role in ROLES}  # any active member may call
# DigitalRMB's engines
ENGINES = (
    "ReceivableToken",
    "LoanBook",
    "ProvisionPool",
    "TrancheMarket",
    "Securitisation",
    "CoverBook",
)
WRONG_ENGINES = ("ReceivableToken", "DigitalRMB", "LoanBook", "Policy", "LoanOrigination")
# Errors that say "not you": a refused cell must fail with one of them.
ACCESS_ERRORS = {
    "MissingRole",
    "NotAMember",
    "MemberNotActive",
    "NotHolder",
    "NotDebtor",
    "NotBorrower",
    "NotOriginator",
    "NotOriginatorOrBorrower",
    "NotLenderOfLoan",
    "NotEngine",
    "NotLoanBook",
    "NotReceivableToken",
    "NotTokenContract",
    "NotAuditWriter",
    "ApprovalsDisabled",
    "NotTrancheMarket",
    "NotTrancheHolder",
    "NotOfferedBuyer",
    "NotSecuritisation",
    "NotNoteHolderRole",
    "NotDealOriginator",
    "NotServicer",
    "TooEarlyToDistribute",
    "NothingToClaim",
    "NotNoteToken",
    "NotCoverBook",
    "NotProvider",
    "NoLayerToAccept",
    "ConsentNotGranted",
    "NothingHeld",
    "NotPartyToLoan",
    "NotLoanBookCaller",
    # fund: the caller holds no tranche of the loan (lenders are checked at proposal, and
    # again — role, licence, limits — by Prudential when they fund)
    "NothingToFund",
    "OutsideJurisdiction",
    "NationalRegulatorOnly",
    "RegulatorOnlyByRegulator",
    "RegulatorSuspendedOnlyByRegulator",
    "CannotChangeOwnRecord",
}


PURPOSE = b"credit assessment".ljust(32, b"\0")


def _address(label: str) -> str:
    """A fixed address nobody holds the key of (eth_call needs none)."""
    return to_checksum_address(keccak(text=f"liandai access matrix: {label}")[:20])


NON_MEMBER = _address("non-member")
NEWCOMER = _address("newcomer")
VICTIM = _address("suspended victim")
OMNI = _address("suspended member holding every role")


@dataclass
class Fixture:
    """One state in which every row's allowed caller succeeds (see `build_fixture`)."""

    world: Deployed
    receivables: dict[str, int] = field(default_factory=dict)
    loans: dict[str, int] = field(default_factory=dict)
    terms_hash: dict[str, bytes] = field(default_factory=dict)
    new_terms: bytes = b""
    deals: dict[str, int] = field(default_factory=dict)
    deal_terms: tuple[Any, ...] = ()

    def a(self, name: str) -> str:
        return self.world.addr(name)

    def c(self, name: str) -> str:
        return self.world.contract_address(name)


@dataclass(frozen=True)
class Row:
    """One function of the matrix.

    Attributes:
        contract, signature: the function (signature as in the ABI).
        allowed: role → the relation that lets it act ("" when the role alone does).
        engines: for engine-only entry points, the contracts that may call.
        args: the arguments, from the fixture.
        given: the fixture state the arguments point at, in words.
        actor: the role whose account is suspended for the "suspended" cell (default: the
            first allowed role).
    """

    contract: str
    signature: str
    allowed: dict[str, str]
    args: Callable[[Fixture], tuple[Any, ...]]
    given: str
    engines: tuple[str, ...] = ()
    actor: str | None = None

    @property
    def key(self) -> str:
        return f"{self.contract}.{self.signature}"

    @property
    def suspended_role(self) -> str | None:
        if self.actor is not None:
            return self.actor
        return next((r for r in ROLES if r in self.allowed), None)


def _loan_request(f: Fixture, receivable: int, *, covered: bool = False) -> LoanRequest:
    covers = [
        CoverRequest(provider=f.a("guarantor"), kind="GUARANTEE", share_bps=4000, cap_fen=100_000)
    ]
    return LoanRequest(
        borrower=f.a("supplier1"),
        tranches=[TrancheRequest(lender=f.a("bank"), senior=False, amount_fen=100_000)],
        receivable_ids=[receivable],
        rate_bps=1000,
        term_days=1,
        covers=covers if covered else [],
    )


def _staged_request(f: Fixture, receivable: int, term_days: int) -> LoanRequest:
    """¥600.00 to supplier1 at disbursement, ¥400.00 to supplier2 as stage 1 from day 0."""
    return LoanRequest(
        borrower=f.a("supplier1"),
        tranches=[TrancheRequest(lender=f.a("bank"), senior=False, amount_fen=100_000)],
        receivable_ids=[receivable],
        rate_bps=1000,
        term_days=term_days,
        payees=[(f.a("supplier1"), 60_000), (f.a("supplier2"), 40_000)],
        payee_stages=[0, 1],
        stage_days={1: 0},
    )


def _cover_spec(f: Fixture) -> list[tuple[Any, ...]]:
    return [(f.a("guarantor"), 0, 4000, 100_000, 0)]


MATRIX: list[Row] = [
    # --- AuditTrail
    Row(
        "AuditTrail",
        "append(bytes32,address,uint256,bytes32)",
        {},
        lambda f: (keccak(text="MEMBER_ADMITTED"), f.a("operator"), 1, ZERO32),
        "any entry",
        engines=AUDIT_WRITERS,
    ),
    Row(
        "AuditTrail",
        "checkpoint(uint64,bytes32)",
        {"AUDITOR": ""},
        lambda f: (f.world.ledger.audit_head()[0], keccak(text="root")),
        "size = the trail's length",
    ),
    # --- Membership
    Row(
        "Membership",
        "admit(address,uint16,bytes32,uint128,(uint8,uint64,uint32,uint8,bytes32))",
        {"OPERATOR": ""},
        lambda f: (NEWCOMER, int(Role.SUPPLIER), ZERO32, 0, Profile(region="440300").as_tuple()),
        "a new address as SUPPLIER in Shenzhen (REGULATOR: only by a regulator, see "
        "tests/contracts/test_membership.py)",
    ),
    Row(
        "Membership",
        "suspend(address,bytes32)",
        {"OPERATOR": "", "REGULATOR": ""},
        lambda f: (f.a("supplier2"), ZERO32),
        "an active supplier",
    ),
    Row(
        "Membership",
        "reinstate(address)",
        {"OPERATOR": "", "REGULATOR": ""},
        lambda f: (VICTIM,),
        "a suspended supplier",
    ),
    Row(
        "Membership",
        "setRoles(address,uint16)",
        {"OPERATOR": ""},
        lambda f: (f.a("supplier2"), int(Role.SUPPLIER | Role.LENDER)),
        "an active supplier, to SUPPLIER+LENDER",
    ),
    Row(
        "Membership",
        "setNetAssets(address,uint128)",
        {"REGULATOR": ""},
        lambda f: (f.a("bank"), 1),
        "a lender in Guangzhou; the regulator is national",
    ),
    Row(
        "Membership",
        "setProfile(address,(uint8,uint64,uint32,uint8,bytes32))",
        {"REGULATOR": ""},
        lambda f: (f.a("bank"), Profile(licence="BANK", region="440100").as_tuple()),
        "a lender in Guangzhou, its licence renewed; the regulator is national",
    ),
    # --- DigitalRMB
    Row(
        "DigitalRMB",
        "mint(address,uint256)",
        {"ECNY_ISSUER": ""},
        lambda f: (f.a("supplier2"), 1),
        "1 fen to an active member",
    ),
    Row("DigitalRMB", "burn(uint256)", {"ECNY_ISSUER": ""}, lambda f: (1,), "1 fen of its own"),
    Row(
        "DigitalRMB",
        "transfer(address,uint256)",
        MEMBERS,
        lambda f: (f.a("supplier2"), 1),
        "1 fen to an active member; every caller holds e-CNY",
    ),
    Row(
        "DigitalRMB",
        "transferFrom(address,address,uint256)",
        MEMBERS,
        lambda f: (f.a("core"), f.a("supplier2"), 1),
        "1 fen of core's, which approved every caller",
        actor="SUPPLIER",
    ),
    Row(
        "DigitalRMB",
        "approve(address,uint256)",
        MEMBERS,
        lambda f: (f.a("supplier2"), 1),
        "an active member as spender",
    ),
    Row(
        "DigitalRMB",
        "engineTransfer(address,address,uint256)",
        {},
        lambda f: (f.a("core"), f.a("supplier2"), 1),
        "1 fen from core to a member",
        engines=ENGINES,
    ),
    Row(
        "DigitalRMB",
        "engineSplit(address,address[],uint256[])",
        {},
        lambda f: (f.a("core"), [f.a("supplier2")], [1]),
        "1 fen from core to a member",
        engines=ENGINES,
    ),
    Row(
        "DigitalRMB",
        "claimHeld()",
        {"SUPPLIER": "held for it"},
        lambda f: (),
        "supplier1 was paid a receivable while suspended, then reinstated",
    ),
    Row(
        "DigitalRMB",
        "sweepShare(address,uint256,uint256)",
        {},
        lambda f: (f.a("supplier1"), 0, 1),
        "a borrower's sweep share of a residual of 1 fen",
        engines=("LoanBook",),
    ),
    Row(
        "DigitalRMB",
        "setSweep(address,uint256,uint16)",
        {},
        lambda f: (f.a("supplier1"), 0, 0),
        "stop a borrower's sweep",
        engines=("LoanBook",),
    ),
    # --- ReceivableToken
    Row(
        "ReceivableToken",
        "issue(address,uint256,uint64,bytes32)",
        {"CORE_ENTERPRISE": ""},
        lambda f: (f.a("supplier1"), 100, f.world.now() + 365 * DAY, keccak(text="new doc")),
        "to an active supplier, a new document",
    ),
    Row(
        "ReceivableToken",
        "accept(uint256)",
        {"SUPPLIER": "holder"},
        lambda f: (f.receivables["pending"],),
        "a PENDING receivable issued by core to supplier1",
    ),
    Row(
        "ReceivableToken",
        "reject(uint256)",
        {"SUPPLIER": "holder"},
        lambda f: (f.receivables["pending"],),
        "the same PENDING receivable",
    ),
    Row(
        "ReceivableToken",
        "cancel(uint256)",
        {"CORE_ENTERPRISE": "debtor"},
        lambda f: (f.receivables["pending"],),
        "the same PENDING receivable",
    ),
    Row(
        "ReceivableToken",
        "split(uint256,uint256[])",
        {"SUPPLIER": "holder"},
        lambda f: (f.receivables["active"], [999_999, 1]),
        "an ACTIVE receivable (¥10,000.00) held by supplier1",
    ),
    Row(
        "ReceivableToken",
        "transfer(uint256,address)",
        {"SUPPLIER": "holder"},
        lambda f: (f.receivables["active"], f.a("supplier2")),
        "the same ACTIVE receivable, to supplier2",
    ),
    Row(
        "ReceivableToken",
        "transferFrom(address,address,uint256)",
        {"SUPPLIER": "holder"},
        lambda f: (f.a("supplier1"), f.a("supplier2"), f.receivables["active"]),
        "the same, from supplier1 to supplier2",
    ),
    Row(
        "ReceivableToken",
        "safeTransferFrom(address,address,uint256)",
        {"SUPPLIER": "holder"},
        lambda f: (f.a("supplier1"), f.a("supplier2"), f.receivables["active"]),
        "the same, from supplier1 to supplier2",
    ),
    Row(
        "ReceivableToken",
        "safeTransferFrom(address,address,uint256,bytes)",
        {"SUPPLIER": "holder"},
        lambda f: (f.a("supplier1"), f.a("supplier2"), f.receivables["active"], b""),
        "the same, from supplier1 to supplier2",
    ),
    Row(
        "ReceivableToken",
        "approve(address,uint256)",
        {},
        lambda f: (f.a("supplier2"), f.receivables["active"]),
        "approvals are disabled (pure, always reverts)",
    ),
    Row(
        "ReceivableToken",
        "setApprovalForAll(address,bool)",
        {},
        lambda f: (f.a("supplier2"), True),
        "approvals are disabled (pure, always reverts)",
    ),
    Row(
        "ReceivableToken",
        "pay(uint256,uint256)",
        {"CORE_ENTERPRISE": "debtor"},
        lambda f: (f.receivables["active"], 1),
        "1 fen of the ACTIVE receivable",
    ),
    Row(
        "ReceivableToken",
        "pledge(uint256,address,uint256[])",
        {},
        lambda f: (f.loans["proposed"], f.a("supplier1"), [f.receivables["proposed"]]),
        "the PROPOSED loan's ACTIVE receivable",
        engines=("LoanBook",),
    ),
    Row(
        "ReceivableToken",
        "release(uint256,address,uint256[])",
        {},
        lambda f: (f.loans["accepted"], f.a("supplier1"), [f.receivables["accepted"]]),
        "the ACCEPTED loan's PLEDGED receivable",
        engines=("LoanBook",),
    ),
    # --- Policy and pool
    Row(
        "Policy",
        "set(bytes32,uint256)",
        {"REGULATOR": ""},
        lambda f: (b"max_apr_bps".ljust(32, b"\0"), 2000),
        "max_apr_bps to 20%; the regulator is national (a regional one is refused, see "
        "tests/contracts/test_membership.py)",
    ),
    # --- Prudential (reported to by the loan book only)
    Row(
        "Prudential",
        "register(uint256,address,address,uint256,address[],uint256[],uint256[])",
        {},
        lambda f: (10**6, f.a("supplier1"), f.a("tech"), 1, [f.a("bank")], [1], [1]),
        "a new loan id, bank lending 1 fen to supplier1",
        engines=("LoanBook",),
    ),
    Row(
        "Prudential",
        "fund(uint256,address,address,uint256,uint256)",
        {},
        lambda f: (f.loans["accepted"], f.a("bank"), f.a("supplier1"), 1, 1),
        "1 fen of the ACCEPTED loan by its lender",
        engines=("LoanBook",),
    ),
    Row(
        "Prudential",
        "release(uint256,address)",
        {},
        lambda f: (f.loans["funded"], f.a("supplier1")),
        "the FUNDED loan",
        engines=("LoanBook",),
    ),
    Row(
        "Prudential",
        "transferred(uint256,address,address,address,uint256,uint256,uint256)",
        {},
        lambda f: (
            f.loans["disbursed"],
            f.a("bank"),
            f.a("microloan"),
            f.a("supplier1"),
            1,
            1,
            1,
        ),
        "1 fen of the DISBURSED loan's tranche, sold by bank to microloan",
        engines=("LoanBook",),
    ),
    Row(
        "Prudential",
        "disbursed(uint256)",
        {},
        lambda f: (f.loans["funded"],),
        "the FUNDED loan",
        engines=("LoanBook",),
    ),
    Row(
        "Prudential",
        "settled(uint256,uint256,uint256)",
        {},
        lambda f: (f.loans["disbursed"], 0, 0),
        "no principal, no fee, on the DISBURSED loan",
        engines=("LoanBook",),
    ),
    Row(
        "Prudential",
        "defaulted(uint256,uint256,uint256)",
        {},
        lambda f: (f.loans["disbursed"], 0, 0),
        "the DISBURSED loan",
        engines=("LoanBook",),
    ),
    Row(
        "Prudential",
        "lapsed(uint256,address,address[],uint256[])",
        {},
        lambda f: (f.loans["staged"], f.a("supplier1"), [f.a("bank")], [0]),
        "nothing lapsed of the staged DISBURSED loan",
        engines=("LoanBook",),
    ),
    Row(
        "ProvisionPool",
        "contribute(uint256)",
        MEMBERS,
        lambda f: (1,),
        "1 fen; every caller holds e-CNY",
    ),
    # --- LoanBook
    Row(
        "LoanBook",
        "propose(bytes)",
        {"LENDER": "originator"},
        lambda f: (f.new_terms,),
        "supplier1 borrows ¥1,000.00 from bank against an ACTIVE receivable",
    ),
    Row(
        "LoanBook",
        "accept(uint256,bytes32)",
        {"SUPPLIER": "borrower"},
        lambda f: (f.loans["proposed"], f.terms_hash["proposed"]),
        "a PROPOSED loan and its terms hash",
    ),
    Row(
        "LoanBook",
        "fund(uint256)",
        {"LENDER": "lender of the loan"},
        lambda f: (f.loans["accepted"],),
        "an ACCEPTED loan",
    ),
    Row(
        "LoanBook",
        "disburse(uint256)",
        {"LENDER": "originator"},
        lambda f: (f.loans["funded"],),
        "a FUNDED loan",
    ),
    Row(
        "LoanBook",
        "repay(uint256,uint256)",
        MEMBERS,
        lambda f: (f.loans["disbursed"], 1),
        "1 fen on a DISBURSED loan; every caller holds e-CNY",
    ),
    Row(
        "LoanBook",
        "repayMany(uint256[],uint256[])",
        MEMBERS,
        lambda f: ([f.loans["disbursed"]], [1]),
        "1 fen on the DISBURSED loan, as a batch of one",
    ),
    Row(
        "LoanBook",
        "cancel(uint256)",
        {"SUPPLIER": "borrower", "LENDER": "originator"},
        lambda f: (f.loans["proposed"],),
        "a PROPOSED loan",
    ),
    Row(
        "LoanBook",
        "declareDefault(uint256)",
        {"OPERATOR": "", "LENDER": "lender of the loan"},
        lambda f: (f.loans["disbursed"],),
        "a DISBURSED loan past maturity + default_days",
    ),
    Row(
        "LoanBook",
        "draw(uint256,uint256)",
        {"SUPPLIER": "borrower"},
        lambda f: (f.loans["staged"], 1),
        "stage 1 of a DISBURSED 10-day staged loan, due from day 0",
    ),
    Row(
        "LoanBook",
        "lapse(uint256)",
        {"OPERATOR": "", "SUPPLIER": "borrower", "LENDER": "lender of the loan"},
        lambda f: (f.loans["staged-matured"],),
        "a DISBURSED 1-day staged loan past maturity, stage 1 undrawn",
    ),
    Row(
        "LoanBook",
        "settleReceivablePayment(uint256,uint256,address,address,uint256)",
        {},
        lambda f: (
            f.loans["disbursed"],
            f.receivables["disbursed"],
            f.a("core"),
            f.a("supplier1"),
            1,
        ),
        "1 fen paid by core on the DISBURSED loan's receivable",
        engines=("ReceivableToken",),
    ),
    Row(
        "LoanBook",
        "settleSweep(uint256,address,uint256)",
        {},
        lambda f: (f.loans["disbursed"], f.a("core"), 1),
        "1 fen swept from a payment by core",
        engines=("DigitalRMB",),
    ),
    Row(
        "LoanBook",
        "transferTranche(uint256,uint256,address,address)",
        {},
        lambda f: (f.loans["disbursed"], 0, f.a("bank"), f.a("microloan")),
        "the DISBURSED loan's tranche, from bank to microloan",
        engines=("TrancheMarket",),
    ),
    # --- TrancheMarket
    Row(
        "TrancheMarket",
        "offer(uint256,uint256,address,uint256,uint256)",
        {"LENDER": "holder"},
        lambda f: (f.loans["disbursed"], 0, f.a("microloan"), 1, 1),
        "bank's tranche of the DISBURSED loan, to microloan (min_originator_share_bps 0)",
    ),
    Row(
        "TrancheMarket",
        "buy(uint256,uint256)",
        {"LENDER": "offered buyer"},
        lambda f: (f.loans["sold"], 0),
        "microloan's tranche of another DISBURSED loan, offered to bank",
    ),
    Row(
        "TrancheMarket",
        "withdraw(uint256,uint256)",
        {"LENDER": "seller"},
        lambda f: (f.loans["disbursed"], 0),
        "bank's open offer of its tranche of the DISBURSED loan",
    ),
    Row(
        "TrancheMarket",
        "lock(uint256,uint256,address,uint256)",
        {},
        lambda f: (f.loans["disbursed"], 0, f.a("bank"), 1),
        "bank's tranche, into deal 1 (only the securitisation contract)",
    ),
    Row(
        "TrancheMarket",
        "unlock(uint256,uint256,uint256)",
        {},
        lambda f: (f.loans["disbursed"], 0, 1),
        "the same (only the securitisation contract)",
    ),
    Row(
        "TrancheMarket",
        "deliver(uint256,uint256,uint256,address)",
        {},
        lambda f: (f.loans["disbursed"], 0, 1, f.a("microloan")),
        "the same (only the securitisation contract)",
    ),
    # --- Securitisation
    Row(
        "Securitisation",
        "create((uint256[],uint256[],bytes32[],uint256[],uint16[],address,uint16,uint16))",
        {"LENDER": "holder"},
        lambda f: (f.deal_terms,),
        "bank's tranche of another DISBURSED loan in classes A ¥900.00 at 5%, J ¥100.00",
    ),
    Row(
        "Securitisation",
        "subscribe(uint256,uint256,uint256)",
        {"LENDER": "", "INVESTOR": ""},
        lambda f: (f.deals["open"], 0, 1),
        "1 fen of class A of a SUBSCRIBING deal",
    ),
    Row(
        "Securitisation",
        "close(uint256)",
        {"LENDER": "originator"},
        lambda f: (f.deals["full"],),
        "a fully subscribed deal of bank's",
    ),
    Row(
        "Securitisation",
        "cancel(uint256)",
        {"LENDER": "originator"},
        lambda f: (f.deals["open"],),
        "the SUBSCRIBING deal of bank's",
    ),
    Row(
        "Securitisation",
        "distribute(uint256)",
        {"TECH_PARTNER": "servicer"},
        lambda f: (f.deals["closed"],),
        "a CLOSED deal with cash, its period (30 days) not yet passed",
    ),
    Row(
        "Securitisation",
        "writeOff(uint256,uint256,uint256)",
        {"TECH_PARTNER": "servicer"},
        lambda f: (f.deals["closed"], f.loans["deal"], 0),
        "the CLOSED deal's tranche of a loan DEFAULTED, past its claim_days (1)",
    ),
    Row(
        "Securitisation",
        "claim(uint256)",
        {"INVESTOR": "holder"},
        lambda f: (f.deals["closed"],),
        "the CLOSED deal, whose class A (held by investor) was paid",
    ),
    Row(
        "Securitisation",
        "noteTransfer(uint256,uint256,address,address,uint256)",
        {},
        lambda f: (f.deals["closed"], 0, f.a("investor"), f.a("bank"), 1),
        "a class A unit (only the class's note token)",
    ),
    Row(
        "LoanBook",
        "settleCover(uint256,address,uint256)",
        {},
        lambda f: (f.loans["cover defaulted"], f.a("guarantor"), 1),
        "1 fen honoured by the guarantor on the DEFAULTED covered loan",
        engines=("CoverBook",),
    ),
    # --- CoverBook
    Row(
        "CoverBook",
        "register(uint256,bytes32,uint256[],(address,uint8,uint16,uint256,uint256)[])",
        {},
        lambda f: (10_000, ZERO32, [f.receivables["active"]], _cover_spec(f)),
        "a guarantee layer of a loan id not yet used",
        engines=("LoanBook",),
    ),
    Row(
        "CoverBook",
        "accept(uint256,bytes32)",
        {"GUARANTOR": "provider"},
        lambda f: (f.loans["cover proposed"], f.terms_hash["cover proposed"]),
        "a PROPOSED loan with the guarantor's layer, and its terms hash",
    ),
    Row(
        "CoverBook",
        "release(uint256,address)",
        {},
        lambda f: (f.loans["cover proposed"], f.a("supplier1")),
        "the same loan, cancelled by its borrower",
        engines=("LoanBook",),
    ),
    Row(
        "CoverBook",
        "onDefault(uint256,uint256,address)",
        {},
        lambda f: (f.loans["disbursed"], 1, f.a("bank")),
        "the DISBURSED loan (no layers) defaulting on 1 fen",
        engines=("LoanBook",),
    ),
    Row(
        "CoverBook",
        "reimburse(uint256,address,uint256)",
        {},
        lambda f: (f.loans["cover defaulted"], f.a("core"), 1),
        "1 fen of a recovery paid by core on the DEFAULTED covered loan",
        engines=("LoanBook",),
    ),
    Row(
        "CoverBook",
        "honour(uint256,uint256,uint256)",
        {"GUARANTOR": "provider"},
        lambda f: (f.loans["cover defaulted"], 0, 1),
        "1 fen of the guarantor's claim on a DEFAULTED loan",
    ),
    Row(
        "CoverBook",
        "breach(uint256,uint256)",
        MEMBERS,
        lambda f: (f.loans["cover defaulted"], 0),
        "the same claim, unpaid past its due date",
    ),
    # --- CreditConsent
    Row(
        "CreditConsent",
        "grant(address,uint16,bytes32)",
        MEMBERS,
        lambda f: (f.a("microloan"), 30, PURPOSE),
        "consent to microloan (a lender) for 30 days; any member grants for its own file",
    ),
    Row(
        "CreditConsent",
        "revoke(address)",
        {role: "grantor" for role in ROLES},
        lambda f: (f.a("microloan"),),
        "the live consent every role's account granted microloan",
    ),
    Row(
        "CreditConsent",
        "query(address)",
        {"LENDER": "holding the consent"},
        lambda f: (f.a("supplier1"),),
        "supplier1's file; supplier1 granted bank consent",
    ),
]


def state_changing_functions() -> set[str]:
    """`Contract.name(types)` of every non-view function the deployed suite exposes."""
    out = set()
    for name in SUITE:
        for entry in artifacts.load(name).abi:
            if entry.get("type") != "function" or entry["stateMutability"] == "view":
                continue
            if entry["stateMutability"] == "pure" and entry["name"] == "decimals":
                continue
            types = ",".join(_canonical(i) for i in entry["inputs"])
            out.add(f"{name}.{entry['name']}({types})")
    return out


def _canonical(param: dict[str, Any]) -> str:
    """An ABI parameter's type as a signature spells it (a struct as its field types)."""
    typ = str(param["type"])
    if typ.startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in param["components"]) + ")" + typ[5:]
    return typ


def test_every_state_changing_function_has_a_row_in_the_access_matrix() -> None:
    rows = {row.key for row in MATRIX}
    assert len(rows) == len(MATRIX), "duplicate rows"
    functions = state_changing_functions()
    assert functions - rows == set(), "functions without a row: deny-by-default undocumented"
    assert rows - functions == set(), "rows for functions the contracts no longer have"
    for name in ("LoanOrigination", "LoanLifecycle", "LoanStages", "TrancheTransfer"):
        library = artifacts.load(name).abi
        assert [e for e in library if e.get("type") == "function"] == [], f"{name} entry point"


# ---------------------------------------------------------------------------- fixture


def build_fixture(world: Deployed) -> Fixture:
    """The state every row points at; see each row's `given`."""
    op = world.ledger
    f = Fixture(world)
    regulator, issuer, core = (
        op.as_signer("regulator"),
        op.as_signer("issuer"),
        op.as_signer("core"),
    )
    supplier, bank = op.as_signer("supplier1"), op.as_signer("bank")
    op.admit(Admission(address=f.a("investor"), roles=int(Role.INVESTOR)))  # a dev account
    regulator.loans.set_policy("default_days", 1)
    regulator.loans.set_policy("claim_days", 1)
    op.admit(Admission(address=f.a("guarantor"), roles=Role.GUARANTOR))
    for name in [*ROLE_ACCOUNT.values(), "supplier2", "microloan"]:
        issuer.mint(f.a(name), 1_000_000_00)
    for name in ROLE_ACCOUNT.values():  # core lets every role's account spend 1,000 fen
        data = encode_call(op, "DigitalRMB", "approve", f.a(name), 1_000)
        core.sender.transact(f.c("DigitalRMB"), data, gas=200_000, simulate=False)
    for address, roles in ((VICTIM, Role.SUPPLIER), (OMNI, Role(0x1FF) | Role.INVESTOR)):
        # REGULATOR is the regulator's to grant: the operator admits with the rest
        op.admit(Admission(address=address, roles=int(roles) & ~int(Role.REGULATOR)))
        if roles & Role.REGULATOR:
            regulator._send("Membership", "setRoles", address, int(roles), gas=400_000)
        regulator.suspend(address)
    # a second national regulator, to suspend the first (an operator cannot)
    second = op.keyring.create("regulator2", dev=True).address
    regulator.admit(Admission(address=second, roles=int(Role.REGULATOR)))
    due = world.now() + 365 * DAY
    labels = ("pending", "active", "proposed", "accepted", "funded", "disbursed")
    for label in (*labels, "staged", "staged-matured", "cover proposed", "cover defaulted"):
        issued = core.receivables.issue(f.a("supplier1"), 1_000_000, due, keccak(text=label))
        f.receivables[label] = issued.id
        if label != "pending":
            supplier.receivables.accept(issued.id)
    for label in ("proposed", "accepted", "funded", "disbursed"):
        proposed = bank.loans.propose(_loan_request(f, f.receivables[label]))
        f.loans[label], f.terms_hash[label] = proposed.id, bytes.fromhex(proposed.terms_hash[2:])
        if label == "proposed":
            continue
        supplier.loans.accept(proposed.id)
        if label != "accepted":
            bank.loans.fund(proposed.id)
        if label == "disbursed":
            bank.loans.disburse(proposed.id)
    for label, term in (("staged", 10), ("staged-matured", 1)):
        proposed = bank.loans.propose(_staged_request(f, f.receivables[label], term))
        f.loans[label] = proposed.id
        supplier.loans.accept(proposed.id)
        bank.loans.fund(proposed.id)
        bank.loans.disburse(proposed.id)
    for label in ("cover proposed", "cover defaulted"):
        proposed = bank.loans.propose(_loan_request(f, f.receivables[label], covered=True))
        f.loans[label], f.terms_hash[label] = proposed.id, bytes.fromhex(proposed.terms_hash[2:])
    covered = f.loans["cover defaulted"]
    supplier.loans.accept(covered)
    op.as_signer("guarantor").covers.accept(covered)
    bank.loans.fund(covered)
    bank.loans.disburse(covered)
    # Tranche sales: bank offers its tranche of the disbursed loan to microloan; microloan
    # originates another loan and offers its tranche to bank.
    regulator.loans.set_policy("min_originator_share_bps", 0)
    bank.tranches.offer(f.loans["disbursed"], 0, f.a("microloan"), 1, 30)
    micro = op.as_signer("microloan")
    issued = core.receivables.issue(f.a("supplier1"), 1_000_000, due, keccak(text="sold"))
    supplier.receivables.accept(issued.id)
    request = _loan_request(f, issued.id)
    request.tranches[0].lender = f.a("microloan")
    f.loans["sold"] = micro.loans.propose(request).id
    supplier.loans.accept(f.loans["sold"])
    micro.loans.fund(f.loans["sold"])
    micro.loans.disburse(f.loans["sold"])
    micro.tranches.offer(f.loans["sold"], 0, f.a("bank"), 1, 30)
    _deals(f, op, core, supplier, bank, due)
    # Something held for supplier1: a receivable paid to it while it was suspended.
    held = core.receivables.issue(f.a("supplier1"), 100, due, keccak(text="held")).id
    supplier.receivables.accept(held)
    regulator.suspend(f.a("supplier1"))
    core.receivables.pay(held, 100)
    regulator.reinstate(f.a("supplier1"))
    f.new_terms = _loan_request(f, f.receivables["active"]).terms_document()
    for name in ROLE_ACCOUNT.values():  # every role's account consents to microloan
        op.as_signer(name).consents.grant(f.a("microloan"), 30)
    supplier.consents.grant(f.a("bank"), 30)
    world.warp(3 * DAY)  # past the 1-day term and the 1-day default delay
    bank.loans.declare_default(covered)
    world.warp(3 * DAY)  # past the 1-day claim delay
    return f


def _deals(f: Fixture, op: Any, core: Any, supplier: Any, bank: Any, due: int) -> None:
    """Securitisation: a SUBSCRIBING deal, a full one, a CLOSED one (class A paid, cash
    waiting, its loan DEFAULTED), and a free tranche of bank's for a new deal."""
    from ledger.engine.markets.deals import ClassRequest, DealRequest

    loans = {}
    for label in ("deal_open", "deal_full", "deal", "deal_new"):
        issued = core.receivables.issue(f.a("supplier1"), 1_000_000, due, keccak(text=label))
        supplier.receivables.accept(issued.id)
        loan = bank.loans.propose(_loan_request(f, issued.id)).id
        supplier.loans.accept(loan)
        bank.loans.fund(loan)
        bank.loans.disburse(loan)
        loans[label] = loan
    f.loans["deal"] = loans["deal"]

    def request(loan: int, servicer: str, period: int) -> DealRequest:
        return DealRequest(
            tranches=[(loan, 0)],
            classes=[
                ClassRequest(name="A", amount_fen=90_000, coupon_bps=500),
                ClassRequest(name="J", amount_fen=10_000),
            ],
            servicer=f.a(servicer),
            fee_bps=50,
            period_days=period,
        )

    investor = op.as_signer("investor")
    for label in ("open", "full", "closed"):
        loan = loans["deal" if label == "closed" else f"deal_{label}"]
        f.deals[label], _ = bank.deals.create(request(loan, "tech", 30))
        if label != "open":
            investor.deals.subscribe(f.deals[label], 0, 90_000)
            bank.deals.subscribe(f.deals[label], 1, 10_000)
    bank.deals.close(f.deals["closed"])
    supplier.loans.repay(loans["deal"], 1_000)
    op.as_signer("tech").deals.distribute(f.deals["closed"])
    f.world.warp(3 * DAY)  # past the 1-day term and the 1-day default delay
    op.loans.declare_default(loans["deal"])  # its one tranche is the deal's
    supplier.loans.repay(loans["deal"], 1_000)
    new = request(loans["deal_new"], "bank", 1)
    f.deal_terms = (
        [loans["deal_new"]],
        [0],
        [b"A".ljust(32, b"\0"), b"J".ljust(32, b"\0")],
        [c.amount_fen for c in new.classes],
        [c.coupon_bps for c in new.classes],
        new.servicer,
        new.fee_bps,
        new.period_days,
    )


# ------------------------------------------------------------------------- the matrix


@dataclass
class Observed:
    cells: dict[str, Outcome]  # column → outcome
    engines: dict[str, Outcome]  # engine contract → outcome


def observe(f: Fixture, row: Row) -> Observed:
    ledger = f.world.ledger
    to = f.c(row.contract)
    data = encode_call(ledger, row.contract, row.signature, *row.args(f))
    cells = {role: probe(ledger, f.a(ROLE_ACCOUNT[role]), to, data) for role in ROLES}
    cells["non-member"] = probe(ledger, NON_MEMBER, to, data)
    cells["suspended"] = _suspended(f, row, to, data)
    engines: dict[str, Outcome] = {}
    if row.engines:
        for engine in row.engines:
            engines[engine] = probe(ledger, f.c(engine), to, data)
        # A real contract of the suite that is not one of this entry point's engines.
        wrong = next(n for n in WRONG_ENGINES if n not in row.engines and n != row.contract)
        engines[wrong] = probe(ledger, f.c(wrong), to, data)
    return Observed(cells, engines)


def _suspended(f: Fixture, row: Row, to: str, data: str) -> Outcome:
    """The allowed caller itself, suspended; a suspended all-roles member for the others."""
    role = row.suspended_role
    ledger = f.world.ledger
    if role is None:
        return probe(ledger, OMNI, to, data)
    account = f.a(ROLE_ACCOUNT[role])
    snapshot = f.world.snapshot()
    try:
        by = "regulator2" if role == "REGULATOR" else "regulator"
        ledger.as_signer(by).suspend(account)
        return probe(ledger, account, to, data)
    finally:
        f.world.revert(snapshot)
        f.world.reopen()


def expected_ok(row: Row, column: str) -> bool:
    return column in row.allowed


def cell_text(row: Row, column: str, outcome: Outcome) -> str:
    if not outcome.ok:
        return "✗"
    relation = row.allowed.get(column, "")
    return f"✓ {relation}".strip()


def render(observed: dict[str, Observed]) -> str:
    header = ["function", *COLUMNS, "engine contracts", "refused with"]
    lines = [
        "# Access-control matrix",
        "",
        "Generated by `tests/security/test_access_matrix.py` from the deployed ABIs; do not edit.",
        "Each cell is the outcome of calling the function (an `eth_call`) from an account of",
        "that role, against one fixture state in which the allowed caller succeeds (see",
        "*Fixture* below). A word after ✓ names the relation that lets the account act: `✓",
        "holder` is allowed because that account holds the receivable (likewise debtor,",
        "borrower, originator, lender of the loan); another account of the same role is",
        "refused. *suspended* is the allowed account itself after a regulator (another one,",
        "for a regulator) suspended it; for functions no member may call it is a suspended",
        "member holding every",
        "role. *engine contracts* are the contracts an engine-only entry point accepts (✓) and",
        "another contract of the suite it must refuse (✗).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    names = [(r.contract, r.signature.split("(")[0]) for r in MATRIX]
    for row in MATRIX:
        o = observed[row.key]
        name = row.signature.split("(")[0]
        shown = row.signature if names.count((row.contract, name)) > 1 else name
        cells = [cell_text(row, c, o.cells[c]) for c in COLUMNS]
        engines = (
            ", ".join(f"{'✓' if out.ok else '✗'} {name}" for name, out in o.engines.items()) or "—"
        )
        reasons = sorted(
            {out.label for out in [*o.cells.values(), *o.engines.values()] if not out.ok}
        )
        lines.append(
            f"| `{row.contract}.{shown}` | "
            + " | ".join(cells)
            + f" | {engines} | {', '.join(reasons)} |"
        )
    total = len(MATRIX) * len(COLUMNS)
    engine_cells = sum(len(observed[r.key].engines) for r in MATRIX)
    allowed = sum(1 for r in MATRIX for c in COLUMNS if observed[r.key].cells[c].ok)
    lines += [
        "",
        f"{len(MATRIX)} functions × {len(COLUMNS)} callers = {total} cells "
        f"({allowed} allowed, {total - allowed} refused), plus {engine_cells} engine-contract "
        "cells.",
        "",
        "## Fixture",
        "",
        "| function | arguments point at |",
        "|---|---|",
    ]
    lines += [f"| `{r.key}` | {r.given} |" for r in MATRIX]
    lines += [
        "",
        "`LoanOrigination`, `LoanLifecycle`, `LoanStages` and `TrancheTransfer` (external",
        "libraries) expose no ABI entry point: their external functions take a storage pointer",
        "and run only by DELEGATECALL from `LoanBook`.",
        "",
    ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def fixture_state(deployed: Deployed) -> Iterator[Fixture]:
    snapshot = deployed.snapshot()
    try:
        yield build_fixture(deployed)
    finally:
        deployed.revert(snapshot)
        deployed.reopen()


def test_exactly_the_allowed_cells_of_the_access_matrix_succeed(
    fixture_state: Fixture, request: pytest.FixtureRequest
) -> None:
    observed = {row.key: observe(fixture_state, row) for row in MATRIX}
    wrong = []
    for row in MATRIX:
        o = observed[row.key]
        for column in COLUMNS:
            outcome = o.cells[column]
            if outcome.ok != expected_ok(row, column):
                wrong.append(f"{row.key} from {column}: {outcome.label}")
            elif not outcome.ok and outcome.error not in ACCESS_ERRORS:
                wrong.append(f"{row.key} from {column}: refused for {outcome.label}")
        for engine, outcome in o.engines.items():
            if outcome.ok != (engine in row.engines):
                wrong.append(f"{row.key} from engine {engine}: {outcome.label}")
    assert wrong == [], "\n".join(wrong)
    text = render(observed)
    request.config.stash[MATRIX_TEXT] = text
    if os.environ.get("LIANDAI_UPDATE_DOCS") == "1" or not DOC.exists():
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/access-matrix.md is stale: rerun with LIANDAI_UPDATE_DOCS=1 and commit it"
    )


def test_the_matrix_never_allows_outsiders_and_engine_rows_allow_no_member() -> None:
    """Sanity of the spec itself: outsiders and suspended members are never allowed."""
    for row in MATRIX:
        assert "non-member" not in row.allowed and "suspended" not in row.allowed
        assert not (row.engines and row.allowed), f"{row.key}: engine-only rows admit no member"
        assert set(row.allowed) <= set(ROLES)
