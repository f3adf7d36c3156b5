"""LoanBook: joint loans (DESIGN §4.4–§4.7) on the embedded chain.

Every compliance rule at, just below and just above its limit; every lifecycle refusal;
pledges only by the borrower's own signature; targeted disbursement; sweep; default with
the provision pool. After every test an autouse check proves that no e-CNY is stranded in
the loan book or the pool, that every settlement's parts sum to its receipt, and that the
audit trail verifies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from ledger.audit.trail import read_entries, verify_trail
from ledger.engine.client import Ledger
from ledger.engine.loans import LOAN_STATUS, LoanRequest, LoanView, TrancheRequest
from ledger.errors import BadInput, ContractRefusal
from ledger.models import Admission
from ledger.money import format_bps, format_fen, format_time
from ledger.reference import waterfall
from ledger.roles import Role

DAY = 86_400
ST = {name: i for i, name in enumerate(LOAN_STATUS)}
OPEN_FOR_FUNDING = (ST["ACCEPTED"], ST["FUNDING"], ST["FUNDED"])


# --------------------------------------------------------------------------- helpers


@dataclass
class World:
    """The seeded consortium, with shorthands for the steps of a loan."""

    ledger: Ledger

    def addr(self, name: str) -> str:
        return self.ledger.resolve(name)

    def as_(self, name: str, *, fast: bool = False) -> Ledger:
        """Sign as `name`; `fast` skips the pre-send simulation (setup steps that succeed)."""
        other = self.ledger.as_signer(name)
        other.simulate = not fast
        return other

    def now(self) -> int:
        return int(self.ledger.chain.w3.eth.get_block("latest")["timestamp"])

    def advance_to(self, ts: int) -> None:
        """Move the chain clock until the latest block is at or after `ts`."""
        while (now := self.now()) < ts:
            self.ledger.chain.advance_time(ts - now)

    def bal(self, name_or_address: str) -> int:
        address = (
            name_or_address if name_or_address.startswith("0x") else self.addr(name_or_address)
        )
        return self.ledger.balance_fen(address)

    def balances(self, *names: str) -> dict[str, int]:
        return {n: self.bal(n) for n in names}

    @property
    def book(self) -> str:
        return self.ledger.deployment.address("LoanBook")

    @property
    def pool(self) -> str:
        return self.ledger.deployment.address("ProvisionPool")

    def receivable(self, fen: int = 2_000_000, holder: str = "supplier1", days: int = 365) -> int:
        """Issued by core to `holder`, accepted: ACTIVE."""
        issued = self.as_("core", fast=True).receivables.issue(
            self.addr(holder), fen, self.now() + days * DAY, os.urandom(32)
        )
        self.as_(holder, fast=True).receivables.accept(issued.id)
        return issued.id

    def tech_book(self, name: str) -> waterfall.TechBook:
        """A tech partner's book as the Prudential contract holds it."""
        prudential = self.ledger.contract("Prudential").functions
        outstanding, defaulted = prudential.techBookOf(self.addr(name)).call()
        return waterfall.TechBook(outstanding_fen=outstanding, defaulted_fen=defaulted)

    def rstatus(self, rid: int) -> str:
        return self.ledger.receivables.get(rid).status

    def request(self, rids: list[int] | None = None, **kw: Any) -> LoanRequest:
        """Default: bank senior 700,000 fen at 5%, microloan junior 300,000 (30%), 10%, 90 days."""
        fields: dict[str, Any] = {
            "borrower": self.addr("supplier1"),
            "tranches": [
                TrancheRequest(
                    lender=self.addr("bank"), senior=True, amount_fen=700_000, coupon_bps=500
                ),
                TrancheRequest(lender=self.addr("microloan"), senior=False, amount_fen=300_000),
            ],
            "receivable_ids": rids if rids is not None else [self.receivable()],
            "rate_bps": 1000,
            "term_days": 90,
        }
        fields.update(kw)
        return LoanRequest(**fields)

    def tranche(self, lender: str, fen: int, coupon: int | None = None) -> TrancheRequest:
        return TrancheRequest(
            lender=self.addr(lender),
            senior=coupon is not None,
            amount_fen=fen,
            coupon_bps=coupon or 0,
        )

    def propose(self, req: LoanRequest, originator: str = "microloan") -> int:
        return self.as_(originator, fast=True).loans.propose(req).id

    def open(
        self,
        req: LoanRequest | None = None,
        *,
        until: str = "DISBURSED",
        originator: str = "microloan",
    ) -> int:
        """Propose and take the loan as far as `until` (ACCEPTED, FUNDED or DISBURSED)."""
        req = req if req is not None else self.request()
        loan = self.propose(req, originator)
        if until == "PROPOSED":
            return loan
        borrower = self.ledger.name_of(req.borrower)
        self.as_(borrower, fast=True).loans.accept(loan)
        if until == "ACCEPTED":
            return loan
        lenders: dict[str, None] = {}
        for t in req.tranches:
            lenders[self.ledger.name_of(t.lender)] = None
        for name in lenders:
            self.as_(name, fast=True).loans.fund(loan)
        if until == "FUNDED":
            return loan
        self.as_(originator, fast=True).loans.disburse(loan)
        return loan

    def get(self, loan: int) -> LoanView:
        return self.ledger.loans.get(loan)

    def status(self, loan: int) -> str:
        return LOAN_STATUS[self.ledger.contract("LoanBook").functions.loanOf(loan).call()[0]]

    def exposure(self, lender: str, borrower: str = "supplier1") -> int:
        return int(
            self.ledger.contract("LoanBook")
            .functions.exposureOf(self.addr(lender), self.addr(borrower))
            .call()
        )

    def sweep_of(self, borrower: str = "supplier1") -> tuple[int, int]:
        loan, bps = self.ledger.contract("DigitalRMB").functions.sweepOf(self.addr(borrower)).call()
        return int(loan), int(bps)

    def model(self, loan: int) -> waterfall.LoanTerms:
        view = self.get(loan)
        return self.ledger.loans.request_of(loan).model_terms(view.disbursed_at)


def argsof(e: ContractRefusal) -> dict[str, Any]:
    """A refusal's arguments, addresses checksummed (the decoder gives them in lower case)."""
    return {
        k: to_checksum_address(v)
        if isinstance(v, str) and v.startswith("0x") and len(v) == 42
        else v
        for k, v in e.args_by_name.items()
    }


def refused(fn: Any, *args: Any, **kw: Any) -> ContractRefusal:
    with pytest.raises(ContractRefusal) as info:
        fn(*args, **kw)
    return info.value


def raw_request(w: World, **kw: Any) -> LoanRequest:
    """A request that skips the client's own validation, to reach the contract's checks."""
    fields: dict[str, Any] = {
        "borrower": w.addr("supplier1"),
        "tranches": [
            TrancheRequest.model_construct(
                lender=w.addr("microloan"), senior=False, amount_fen=1_000_000, coupon_bps=0
            )
        ],
        "receivable_ids": [1],
        "rate_bps": 1000,
        "term_days": 90,
        "penalty_bps": 0,
        "grace_days": 0,
        "fee_share_bps": 0,
        "provision_share_bps": 0,
        "mode": "sequential",
        "tech_partner": None,
        "payees": [],
        "sweep_bps": 0,
    }
    fields.update(kw)
    return LoanRequest.model_construct(**fields)


def propose_raw(w: World, req: LoanRequest, originator: str = "microloan") -> Any:
    return w.as_(originator)._send("LoanBook", "propose", req.terms_document(), gas=1_500_000)


def rendered(key: str, value: int) -> str:
    """How a refusal's `.rule` writes a number: fen as yuan, bps as percent."""
    if key.endswith("Fen"):
        return format_fen(value)
    if key.endswith("Bps"):
        return format_bps(value)
    return str(value)


def entries_of(w: World, kind: str) -> list[Any]:
    return [e for e in read_entries(w.ledger) if e.kind_name == kind]


def same_split(chain: Any, model: waterfall.Settlement) -> None:
    """A LoanBook settlement equals the reference model's, fen for fen."""
    assert chain.at == model.at
    assert (
        chain.amount_fen,
        chain.fee_fen,
        chain.provision_fen,
        tuple(chain.interest_fen),
        tuple(chain.principal_fen),
        chain.residual_fen,
    ) == (
        model.amount_fen,
        model.fee_fen,
        model.provision_fen,
        model.interest_fen,
        model.principal_fen,
        model.residual_fen,
    )


# --------------------------------------------------------------------------- fixtures


def check_no_value_stranded(ledger: Ledger) -> None:
    book = ledger.contract("LoanBook").functions
    held = 0
    for loan in range(1, int(book.nextLoanId().call())):
        info = book.loanOf(loan).call()
        if info[0] in OPEN_FOR_FUNDING:
            for i in range(int(info[10])):
                t = book.trancheOf(loan, i).call()
                if t[6]:
                    held += int(t[2])
    assert ledger.balance_fen(ledger.deployment.address("LoanBook")) == held

    contributed = sum(
        int(e["args"]["amountFen"]) for e in ledger.events("ProvisionPool", "PoolContributed")
    )
    settled = ledger.events("LoanBook", "LoanSettled")
    provisions = sum(int(e["args"]["provisionFen"]) for e in settled)
    cover = sum(int(e["args"]["coverFen"]) for e in ledger.events("LoanBook", "LoanDefaulted"))
    # The margins' part of a default's cover came from the cover book, not the pool; what
    # recoveries paid back to the pool came in (DESIGN §6.2).
    margins = sum(
        sum(e["args"]["marginPaidFen"]) for e in ledger.events("CoverBook", "CoverCalled")
    )
    reimbursements = ledger.events("CoverBook", "CoverReimbursed")
    back = sum(int(e["args"]["poolFen"]) for e in reimbursements)
    pool = contributed + provisions - (cover - margins) + back
    assert ledger.balance_fen(ledger.deployment.address("ProvisionPool")) == pool
    assert ledger.loans.pool_balance_fen() == pool

    reimbursed = {
        bytes(e["transactionHash"]): sum(e["args"]["layersFen"]) + e["args"]["poolFen"]
        for e in reimbursements
    }
    for e in settled:
        a = e["args"]
        parts = (
            a["feeFen"]
            + a["provisionFen"]
            + sum(a["interestFen"])
            + sum(a["principalFen"])
            + a["residualFen"]
            + reimbursed.get(bytes(e["transactionHash"]), 0)
        )
        assert parts == a["amountFen"], dict(a)

    verdict = verify_trail(ledger)
    assert verdict.ok, verdict


@pytest.fixture(autouse=True)
def _nothing_stranded(ledger: Ledger) -> Iterator[None]:
    yield
    check_no_value_stranded(ledger)


@pytest.fixture
def w(ledger: Ledger) -> World:
    return World(ledger)


# =========================================================================== compliance


def test_originator_share_at_just_below_and_just_above_the_30_percent_floor(w: World) -> None:
    rid = w.receivable()
    for bank_fen, micro_fen in ((7_000, 3_000), (6_999, 3_001)):
        req = w.request(
            [rid], tranches=[w.tranche("bank", bank_fen, 500), w.tranche("microloan", micro_fen)]
        )
        assert w.status(w.propose(req)) == "PROPOSED"
    req = w.request([rid], tranches=[w.tranche("bank", 7_001, 500), w.tranche("microloan", 2_999)])
    e = refused(w.as_("microloan").loans.propose, req)
    assert e.name == "OriginatorShareTooLow"
    assert argsof(e) == {"shareBps": 2_999, "minBps": 3_000}
    assert "29.99%" in e.rule and "30.00%" in e.rule
    # an originator that lends nothing has a share of 0
    req = w.request([rid], tranches=[w.tranche("bank", 10_000, 500)])
    e = refused(w.as_("microloan").loans.propose, req)
    assert argsof(e) == {"shareBps": 0, "minBps": 3_000}


def test_rate_plus_penalty_at_just_below_and_just_above_the_24_percent_cap(w: World) -> None:
    rid = w.receivable()
    for rate, penalty in ((2_000, 400), (2_000, 399), (2_400, 0)):
        w.propose(w.request([rid], rate_bps=rate, penalty_bps=penalty))
    e = refused(w.as_("microloan").loans.propose, w.request([rid], rate_bps=2_000, penalty_bps=401))
    assert e.name == "AprAboveCap"
    assert argsof(e) == {"rateBps": 2_000, "penaltyBps": 401, "maxAprBps": 2_400}
    assert "20.00%" in e.rule and "4.01%" in e.rule and "24.00%" in e.rule
    e = refused(w.as_("microloan").loans.propose, w.request([rid], rate_bps=2_401))
    assert argsof(e) == {"rateBps": 2_401, "penaltyBps": 0, "maxAprBps": 2_400}


def test_fee_share_at_just_below_and_just_above_the_30_percent_cap(w: World) -> None:
    rid = w.receivable()
    tech = w.addr("tech")
    for fee in (3_000, 2_999):
        w.propose(w.request([rid], fee_share_bps=fee, provision_share_bps=1_000, tech_partner=tech))
    e = refused(
        w.as_("microloan").loans.propose, w.request([rid], fee_share_bps=3_001, tech_partner=tech)
    )
    assert e.name == "FeeShareAboveCap"
    assert argsof(e) == {"feeShareBps": 3_001, "maxFeeShareBps": 3_000}
    assert "30.01%" in e.rule and "30.00%" in e.rule
    # a fee share needs a tech partner, and that partner must hold TECH_PARTNER
    e = refused(w.as_("microloan").loans.propose, w.request([rid], fee_share_bps=100))
    assert e.name == "MissingTechPartner"
    e = refused(
        w.as_("microloan").loans.propose,
        w.request([rid], fee_share_bps=100, tech_partner=w.addr("bank")),
    )
    assert e.name == "MissingRole" and argsof(e)["account"] == w.addr("bank")


def test_a_tech_partner_cannot_fund_a_tranche(w: World) -> None:
    rid = w.receivable()
    hybrid = Account.create().address
    w.ledger.admit(
        Admission(address=hybrid, roles=Role.LENDER | Role.TECH_PARTNER, net_assets_fen=10**12)
    )
    req = w.request(
        [rid],
        tranches=[
            w.tranche("microloan", 300_000),
            TrancheRequest(lender=hybrid, senior=False, amount_fen=700_000),
        ],
    )
    e = refused(w.as_("microloan").loans.propose, req)
    assert e.name == "TechPartnerCannotFund"
    assert argsof(e) == {"lender": hybrid}
    assert hybrid.lower() in e.rule.lower()
    # the plain tech partner is no lender at all
    req = w.request([rid], tranches=[w.tranche("microloan", 300_000), w.tranche("tech", 700_000)])
    e = refused(w.as_("microloan").loans.propose, req)
    assert e.name == "MissingRole"
    assert argsof(e) == {
        "account": w.addr("tech"),
        "required": int(Role.LENDER),
        "held": int(Role.TECH_PARTNER),
    }
    assert "tech needs role LENDER but holds TECH_PARTNER" in e.rule
    # checked again at funding: a lender that became a tech partner after the proposal
    loan = w.open(w.request([rid]), until="ACCEPTED")
    bank = w.addr("bank")
    w.ledger._send(
        "Membership", "setRoles", bank, int(Role.LENDER | Role.TECH_PARTNER), gas=400_000
    )
    e = refused(w.as_("bank").loans.fund, loan)
    assert e.name == "TechPartnerCannotFund" and argsof(e) == {"lender": bank}
    assert not w.get(loan).tranches[0].funded
    w.ledger._send("Membership", "setRoles", bank, int(Role.LENDER), gas=400_000)
    w.as_("bank").loans.fund(loan)
    assert w.get(loan).tranches[0].funded


def test_single_borrower_exposure_at_proposal(w: World) -> None:
    micro, s1 = w.addr("microloan"), w.addr("supplier1")
    w.as_("regulator", fast=True).set_net_assets(micro, 10_000_000)  # limit: 10% = 1,000,000 fen
    rid = w.receivable()
    solo = lambda fen: w.request([rid], tranches=[w.tranche("microloan", fen)])  # noqa: E731
    e = refused(w.as_("microloan").loans.propose, solo(1_000_001))
    assert e.name == "ExposureAboveLimit"
    assert argsof(e) == {
        "lender": micro,
        "borrower": s1,
        "exposureFen": 1_000_001,
        "limitFen": 1_000_000,
    }
    assert "¥10,000.01" in e.rule and "¥10,000.00" in e.rule
    w.propose(solo(1_000_000))
    w.propose(solo(999_999))
    # funded exposure counts against the next proposal
    loan = w.open(solo(600_000), until="FUNDED")
    assert w.exposure("microloan") == 600_000
    w.propose(solo(400_000))
    e = refused(w.as_("microloan").loans.propose, solo(400_001))
    assert argsof(e)["exposureFen"] == 1_000_001
    # the limit is per borrower: another borrower is not affected
    other = w.request(
        [w.receivable(holder="supplier2")],
        borrower=w.addr("supplier2"),
        tranches=[w.tranche("microloan", 1_000_000)],
    )
    w.propose(other)
    w.as_("microloan").loans.cancel(loan)
    assert w.exposure("microloan") == 0


def test_single_borrower_exposure_at_funding(w: World) -> None:
    micro, s1 = w.addr("microloan"), w.addr("supplier1")
    w.as_("regulator", fast=True).set_net_assets(micro, 10_000_000)  # limit 1,000,000 fen
    solo = lambda fen: w.request(tranches=[w.tranche("microloan", fen)])  # noqa: E731
    a = w.open(solo(600_000), until="ACCEPTED")
    b = w.open(solo(400_001), until="ACCEPTED")
    c = w.open(solo(400_000), until="ACCEPTED")
    w.as_("microloan").loans.fund(a)
    e = refused(w.as_("microloan").loans.fund, b)
    assert e.name == "ExposureAboveLimit"
    assert argsof(e) == {
        "lender": micro,
        "borrower": s1,
        "exposureFen": 1_000_001,
        "limitFen": 1_000_000,
    }
    assert w.status(b) == "ACCEPTED"
    w.as_("microloan").loans.fund(c)  # exactly at the limit
    assert w.exposure("microloan") == 1_000_000
    # cancelling a funded loan releases its exposure
    w.as_("supplier1").loans.cancel(a)
    assert w.exposure("microloan") == 400_000
    w.as_("microloan").loans.fund(b)
    assert w.exposure("microloan") == 800_001
    # repaid loans release it too
    w.as_("microloan").loans.disburse(b)
    w.as_("core").loans.repay(b, 400_001 + 10_000)
    assert w.status(b) == "REPAID"
    assert w.exposure("microloan") == 400_000


def test_exposure_at_proposal_counts_all_tranches_of_the_lender(w: World) -> None:
    w.as_("regulator", fast=True).set_net_assets(w.addr("microloan"), 10_000_000)
    req = w.request(tranches=[w.tranche("microloan", 600_000), w.tranche("microloan", 600_000)])
    e = refused(w.as_("microloan").loans.propose, req)
    assert e.name == "ExposureAboveLimit"
    assert argsof(e)["exposureFen"] == 1_200_000


def test_policy_is_set_only_by_the_regulator_and_each_change_is_audited(w: World) -> None:
    for who in ("operator", "bank", "tech", "auditor"):
        e = refused(w.as_(who).loans.set_policy, "max_apr_bps", 1_000)
        assert e.name == "MissingRole"
        assert argsof(e)["required"] == int(Role.REGULATOR)
        assert "needs role REGULATOR" in e.rule
    # a suspended regulator cannot act either (suspended by another national regulator:
    # an operator cannot suspend a regulator)
    reg2 = w.ledger.keyring.create("regulator2", dev=True).address
    w.as_("regulator").admit(Admission(address=reg2, roles=Role.REGULATOR))
    w.as_("regulator2").suspend(w.addr("regulator"))
    e = refused(w.as_("regulator").loans.set_policy, "max_apr_bps", 1_000)
    assert e.name == "MemberNotActive"
    w.as_("regulator2").reinstate(w.addr("regulator"))
    assert w.ledger.loans.policy().max_apr_bps == 2_400

    before = len(entries_of(w, "POLICY_CHANGED"))
    changes = [
        ("max_apr_bps", 1_500),
        ("min_originator_share_bps", 5_000),
        ("max_fee_share_bps", 1_000),
        ("max_single_borrower_bps", 1),
        ("default_days", 30),
        ("max_tech_cover_bps", 1_500),
        ("min_lender_retention_bps", 3_000),
        ("max_servicing_fee_bps", 40),
        ("min_retention_bps", 1_000),
        ("claim_days", 10),
    ]
    old = w.ledger.loans.policy().model_dump()
    for name, value in changes:
        sent = w.as_("regulator").loans.set_policy(name, value)
        entry = entries_of(w, "POLICY_CHANGED")[-1]
        raw = name.encode().ljust(32, b"\0")
        assert entry.tx == sent.tx
        assert entry.actor == w.addr("regulator")
        assert entry.subject == int.from_bytes(raw, "big")
        assert entry.data_hash == keccak(
            encode(["bytes32", "uint256", "uint256"], [raw, old[name], value])
        )
    assert len(entries_of(w, "POLICY_CHANGED")) == before + len(changes)
    assert w.ledger.loans.policy().model_dump().items() >= dict(changes).items()

    # the new values apply to the next proposal
    rid = w.receivable()
    ask = w.as_("microloan").loans.propose
    e = refused(ask, w.request([rid], rate_bps=1_501))
    assert argsof(e) == {"rateBps": 1_501, "penaltyBps": 0, "maxAprBps": 1_500}
    half = [w.tranche("bank", 500_000, 500), w.tranche("microloan", 500_000)]
    e = refused(
        ask,
        w.request(
            [rid], tranches=[w.tranche("bank", 500_001, 500), w.tranche("microloan", 499_999)]
        ),
    )
    assert argsof(e) == {"shareBps": 4_999, "minBps": 5_000}
    e = refused(
        ask, w.request([rid], tranches=half, fee_share_bps=1_001, tech_partner=w.addr("tech"))
    )
    assert argsof(e) == {"feeShareBps": 1_001, "maxFeeShareBps": 1_000}
    # 1 bp of microloan's ¥300,000,000 net assets is 3,000,000 fen
    big = [w.tranche("bank", 3_000_000, 500), w.tranche("microloan", 3_000_001)]
    e = refused(ask, w.request([rid], tranches=big))
    assert e.name == "ExposureAboveLimit"
    assert argsof(e)["exposureFen"] == 3_000_001
    assert argsof(e)["limitFen"] == 3_000_000
    ok = [w.tranche("bank", 3_000_000, 500), w.tranche("microloan", 3_000_000)]
    w.propose(
        w.request(
            [rid], tranches=ok, rate_bps=1_500, fee_share_bps=1_000, tech_partner=w.addr("tech")
        )
    )


def test_out_of_range_and_unknown_policy_values_are_refused(w: World) -> None:
    reg = w.as_("regulator").loans
    maxima = {
        "min_originator_share_bps": 10_000,
        "max_apr_bps": 65_535,
        "max_fee_share_bps": 10_000,
        "max_single_borrower_bps": 10_000,
        "default_days": 3_650,
        "max_tech_cover_bps": 10_000,
        "min_lender_retention_bps": 10_000,
        "claim_days": 3_650,
        "max_online_individual_fen": 2**64 - 1,
        "max_online_business_fen": 2**64 - 1,
        "max_related_group_bps": 10_000,
        "max_book_x100": 65_535,
        "tech_fee_npl_bps": 10_000,
        "max_servicing_fee_bps": 10_000,
        "min_retention_bps": 10_000,
    }
    before = w.ledger.audit_head()
    for name, top in maxima.items():
        e = refused(reg.set_policy, name, top + 1)
        assert e.name == "ParameterOutOfRange"
        assert argsof(e) == {"name": name.encode().ljust(32, b"\0"), "value": top + 1, "max": top}
        assert str(top + 1) in e.rule and str(top) in e.rule
    assert w.ledger.audit_head() == before  # refusals append nothing
    for name, top in maxima.items():
        reg.set_policy(name, top)
    assert w.ledger.loans.policy().model_dump() == maxima
    for name in maxima:
        reg.set_policy(name, 0)
    assert set(w.ledger.loans.policy().model_dump().values()) == {0}
    with pytest.raises(BadInput):
        reg.set_policy("max_rate_bps", 1)
    e = refused(
        w.as_("regulator")._send, "Policy", "set", b"max_rate_bps".ljust(32, b"\0"), 1, gas=300_000
    )
    assert e.name == "UnknownParameter"


# =========================================================================== proposals


@pytest.mark.parametrize(
    ("case", "error", "args"),
    [
        ("no tranche", "NoTranches", {}),
        ("nine tranches", "TooManyTranches", {"count": 9, "max": 8}),
        ("zero tranche", "InvalidTrancheAmount", {"index": 1, "amountFen": 0}),
        (
            "principal over the cap",
            "PrincipalAboveCap",
            {"principalFen": 2**64, "capFen": 2**64 - 1},
        ),
        ("junior with coupon", "JuniorWithCoupon", {"index": 1, "couponBps": 100}),
        ("no receivables", "NoReceivables", {}),
        ("payees short", "PayeesMismatch", {"payeesSumFen": 999_999, "principalFen": 1_000_000}),
        ("payees over", "PayeesMismatch", {"payeesSumFen": 1_000_001, "principalFen": 1_000_000}),
        (
            "fee + provision > 100%",
            "SharesAboveWhole",
            {"feeShareBps": 2_000, "provisionShareBps": 8_001},
        ),
        ("zero term", "InvalidTerm", {"termDays": 0}),
        ("term over ten years", "InvalidTerm", {"termDays": 3_651}),
        ("sweep > 100%", "SweepAboveWhole", {"sweepBps": 10_001}),
    ],
)
def test_malformed_proposals_are_refused(
    w: World, case: str, error: str, args: dict[str, int]
) -> None:
    def tr(lender: str, fen: int, senior: bool = False, coupon: int = 0) -> TrancheRequest:
        return TrancheRequest.model_construct(
            lender=w.addr(lender), senior=senior, amount_fen=fen, coupon_bps=coupon
        )

    base = [tr("bank", 700_000, True, 500), tr("microloan", 300_000)]
    kw: dict[str, Any] = {"tranches": base}
    if case == "no tranche":
        kw["tranches"] = []
    elif case == "nine tranches":
        kw["tranches"] = [tr("microloan", 100_000) for _ in range(9)]
    elif case == "zero tranche":
        kw["tranches"] = [tr("microloan", 700_000), tr("bank", 0, True, 500)]
    elif case == "principal over the cap":
        kw["tranches"] = [tr("bank", 2**63, True, 500), tr("microloan", 2**63)]
    elif case == "junior with coupon":
        kw["tranches"] = [tr("microloan", 700_000), tr("bank", 300_000, False, 100)]
    elif case == "no receivables":
        kw["receivable_ids"] = []
    elif case == "payees short":
        kw["payees"] = [(w.addr("supplier2"), 999_999)]
    elif case == "payees over":
        kw["payees"] = [(w.addr("supplier2"), 500_000), (w.addr("supplier1"), 500_001)]
    elif case == "fee + provision > 100%":
        kw.update(fee_share_bps=2_000, provision_share_bps=8_001, tech_partner=w.addr("tech"))
    elif case == "zero term":
        kw["term_days"] = 0
    elif case == "term over ten years":
        kw["term_days"] = 3_651
    elif case == "sweep > 100%":
        kw["sweep_bps"] = 10_001
    next_id = w.ledger.contract("LoanBook").functions.nextLoanId().call()
    e = refused(propose_raw, w, raw_request(w, **kw))
    assert e.name == error
    assert argsof(e) == args
    for key, value in args.items():
        assert rendered(key, value) in e.rule, (key, e.rule)
    assert w.ledger.contract("LoanBook").functions.nextLoanId().call() == next_id
    # the client refuses these too before anything is signed (bar the payee sum)
    if case not in ("payees short", "payees over", "fee + provision > 100%"):
        with pytest.raises(ValueError):
            LoanRequest.model_validate(raw_request(w, **kw).model_dump())


def test_a_proposal_needs_an_active_lender_and_active_members(w: World) -> None:
    rid = w.receivable()
    e = refused(w.as_("supplier2").loans.propose, w.request([rid]))
    assert e.name == "MissingRole" and argsof(e)["required"] == int(Role.LENDER)
    e = refused(w.as_("tech").loans.propose, w.request([rid]))
    assert e.name == "MissingRole"
    w.as_("regulator").suspend(w.addr("supplier2"))
    e = refused(
        w.as_("microloan").loans.propose,
        w.request([rid], payees=[(w.addr("supplier2"), 1_000_000)]),
    )
    assert e.name == "MemberNotActive"
    e = refused(w.as_("microloan").loans.propose, w.request([rid], borrower=w.addr("supplier2")))
    assert e.name == "MemberNotActive"
    outsider = Account.create().address
    e = refused(w.as_("microloan").loans.propose, w.request([rid], borrower=outsider))
    assert e.name == "NotAMember"


# =========================================================================== lifecycle


def test_full_lifecycle_statuses_balances_and_audit(w: World) -> None:
    rid = w.receivable(2_000_000)
    req = w.request([rid])
    start = w.balances("bank", "microloan", "supplier1")
    proposed = w.as_("microloan").loans.propose(req)
    loan = proposed.id
    view = w.get(loan)
    assert view.status == "PROPOSED"
    assert view.terms_hash == proposed.terms_hash == "0x" + keccak(req.terms_document()).hex()
    assert w.ledger.loans.request_of(loan) == req.model_copy(
        update={"payees": req.effective_payees()}
    )
    assert view.originator == w.addr("microloan") and view.principal_fen == 1_000_000
    assert w.rstatus(rid) == "ACTIVE"
    w.as_("supplier1").loans.accept(loan)
    assert w.status(loan) == "ACCEPTED" and w.rstatus(rid) == "PLEDGED"
    assert w.ledger.receivables.get(rid).pledged_to == loan
    w.as_("bank").loans.fund(loan)
    assert w.status(loan) == "FUNDING"
    assert w.bal(w.book) == 700_000
    w.as_("microloan").loans.fund(loan)
    assert w.status(loan) == "FUNDED"
    assert w.bal(w.book) == 1_000_000
    assert w.exposure("bank") == 700_000 and w.exposure("microloan") == 300_000
    w.as_("microloan").loans.disburse(loan)
    view = w.get(loan)
    assert view.status == "DISBURSED"
    assert view.maturity_at == view.disbursed_at + 90 * DAY
    assert w.bal(w.book) == 0
    assert w.bal("supplier1") == start["supplier1"] + 1_000_000
    # a partial repayment, then the rest: each split exactly as the reference model says
    w.advance_to(view.disbursed_at + 30 * DAY)
    w.as_("supplier1").loans.repay(loan, 400_000)
    assert w.status(loan) == "DISBURSED"
    w.advance_to(view.disbursed_at + 60 * DAY)
    w.as_("core").transfer(w.addr("supplier1"), 100_000)  # a sales receipt
    w.as_("supplier1").loans.repay(loan, 700_000)
    view = w.get(loan)
    assert view.status == "REPAID"
    assert view.outstanding_fen == 0 and view.interest_due_fen == 0
    terms = w.model(loan)
    model = waterfall.quote(terms, [(s.at, s.amount_fen) for s in view.settlements])
    for chain, expected in zip(view.settlements, model, strict=True):
        same_split(chain, expected)
        assert chain.source == "REPAYMENT" and chain.payer == w.addr("supplier1")
    interest = [sum(s.interest_fen[i] for s in view.settlements) for i in range(2)]
    residual = sum(s.residual_fen for s in view.settlements)
    assert w.bal("bank") == start["bank"] + interest[0]
    assert w.bal("microloan") == start["microloan"] + interest[1]
    assert w.bal("supplier1") == start["supplier1"] + 1_000_000 + 100_000 - 1_100_000 + residual
    # REPAID releases the receivables and the exposure
    assert w.rstatus(rid) == "ACTIVE"
    assert w.exposure("bank") == 0 and w.exposure("microloan") == 0
    kinds = [e.kind_name for e in read_entries(w.ledger)]
    for kind in (
        "LOAN_PROPOSED",
        "LOAN_ACCEPTED",
        "RECEIVABLES_PLEDGED",
        "LOAN_FUNDED",
        "LOAN_DISBURSED",
        "LOAN_SETTLED",
        "RECEIVABLES_RELEASED",
    ):
        assert kind in kinds
    assert kinds.count("LOAN_FUNDED") == 2 and kinds.count("LOAN_SETTLED") == 2
    assert verify_trail(w.ledger).ok


def test_funding_refusals(w: World) -> None:
    req = w.request()
    loan = w.open(req, until="PROPOSED")
    e = refused(w.as_("bank").loans.fund, loan)
    assert e.name == "WrongLoanStatus"
    assert argsof(e) == {"loanId": loan, "status": ST["PROPOSED"]}
    w.as_("supplier1").loans.accept(loan)
    w.as_("bank").loans.fund(loan)
    e = refused(w.as_("bank").loans.fund, loan)
    assert e.name == "NothingToFund"
    assert argsof(e) == {"loanId": loan, "lender": w.addr("bank")}
    # a lender that is not a lender of this loan
    other = w.request(tranches=[w.tranche("microloan", 500_000)])
    solo = w.open(other, until="ACCEPTED")
    e = refused(w.as_("bank").loans.fund, solo)
    assert e.name == "NothingToFund" and argsof(e)["lender"] == w.addr("bank")
    # members without the LENDER role hold no tranche
    for who in ("supplier1", "supplier2", "core", "tech"):
        e = refused(w.as_(who).loans.fund, solo)
        assert e.name == "NothingToFund" and argsof(e)["lender"] == w.addr(who)
    # a tranche's lender that lost the LENDER role since the proposal
    w.ledger._send("Membership", "setRoles", w.addr("microloan"), int(Role.SUPPLIER), gas=400_000)
    e = refused(w.as_("microloan").loans.fund, solo)
    assert e.name == "MissingRole" and argsof(e)["required"] == int(Role.LENDER)
    w.ledger._send("Membership", "setRoles", w.addr("microloan"), int(Role.LENDER), gas=400_000)
    # a lender without the money (microloan holds ¥500,000.00)
    poor = w.request(tranches=[w.tranche("bank", 100_000, 500), w.tranche("microloan", 60_000_000)])
    short = w.open(poor, until="ACCEPTED")
    e = refused(w.as_("microloan").loans.fund, short)
    assert e.name == "ERC20InsufficientBalance"
    w.as_("microloan").loans.fund(loan)
    assert w.status(loan) == "FUNDED"
    e = refused(w.as_("microloan").loans.fund, loan)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["FUNDED"]
    w.as_("microloan").loans.disburse(loan)
    e = refused(w.as_("bank").loans.fund, loan)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["DISBURSED"]


def test_disbursement_refusals(w: World) -> None:
    loan = w.open(until="PROPOSED")
    e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["PROPOSED"]
    w.as_("supplier1").loans.accept(loan)
    e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["ACCEPTED"]
    w.as_("bank").loans.fund(loan)
    e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["FUNDING"]
    w.as_("microloan").loans.fund(loan)
    for who in ("bank", "supplier1", "operator"):
        e = refused(w.as_(who).loans.disburse, loan)
        assert e.name == "NotOriginator"
        assert argsof(e) == {
            "loanId": loan,
            "caller": w.addr(who),
            "originator": w.addr("microloan"),
        }
    w.as_("microloan").loans.disburse(loan)
    e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["DISBURSED"]


def test_acceptance_refusals(w: World) -> None:
    loan = w.open(until="PROPOSED")
    for who in ("supplier2", "microloan", "core"):
        e = refused(w.as_(who).loans.accept, loan)
        assert e.name == "NotBorrower"
        assert argsof(e) == {"loanId": loan, "caller": w.addr(who), "borrower": w.addr("supplier1")}
    expected = bytes.fromhex(w.get(loan).terms_hash[2:])
    wrong = keccak(b"other terms")
    e = refused(w.as_("supplier1").loans.accept, loan, wrong)
    assert e.name == "TermsMismatch"
    assert argsof(e) == {"loanId": loan, "expected": expected, "given": wrong}
    assert "0x" + wrong.hex() in e.rule and "0x" + expected.hex() in e.rule
    w.as_("supplier1").loans.accept(loan, expected)
    e = refused(w.as_("supplier1").loans.accept, loan)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["ACCEPTED"]


def test_repayment_refusals(w: World) -> None:
    proposed = w.open(until="PROPOSED")
    funded = w.open(until="FUNDED")
    cancelled = w.open(until="ACCEPTED")
    w.as_("supplier1").loans.cancel(cancelled)
    repaid = w.open()
    w.as_("core").loans.repay(repaid, 1_000_000 + 100)
    assert w.status(repaid) == "REPAID"
    for loan, status in (
        (proposed, "PROPOSED"),
        (funded, "FUNDED"),
        (cancelled, "CANCELLED"),
        (repaid, "REPAID"),
    ):
        e = refused(w.as_("supplier1").loans.repay, loan, 1_000)
        assert e.name == "WrongLoanStatus"
        assert argsof(e) == {"loanId": loan, "status": ST[status]}
    live = w.open()
    e = refused(w.as_("supplier1").loans.repay, live, 0)
    assert e.name == "ZeroReceipt" and argsof(e) == {"loanId": live}
    # anyone active may repay; a non-member or one without the money may not
    e = refused(w.as_("supplier2").loans.repay, live, 1_000)
    assert e.name == "ERC20InsufficientBalance"
    w.as_("core").loans.repay(live, 1_000)
    s = w.get(live).settlements[-1]
    assert s.payer == w.addr("core") and s.residual_to == w.addr("supplier1")


def test_wrong_loan_status_rule_names_the_loan_status(w: World) -> None:
    loan = w.open(until="PROPOSED")
    e = refused(w.as_("microloan").loans.disburse, loan)
    assert e.name == "WrongLoanStatus"
    assert "PROPOSED" in e.rule, e.rule


def test_cancellation_refusals(w: World) -> None:
    loan = w.open(until="FUNDED")
    for who in ("bank", "supplier2", "core", "operator"):
        e = refused(w.as_(who).loans.cancel, loan)
        assert e.name == "NotOriginatorOrBorrower"
        assert argsof(e) == {"loanId": loan, "caller": w.addr(who)}
    w.as_("microloan").loans.disburse(loan)
    for who in ("microloan", "supplier1"):
        e = refused(w.as_(who).loans.cancel, loan)
        assert e.name == "WrongLoanStatus"
        assert argsof(e) == {"loanId": loan, "status": ST["DISBURSED"]}
    done = w.open(until="PROPOSED")
    w.as_("microloan").loans.cancel(done)
    e = refused(w.as_("supplier1").loans.cancel, done)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["CANCELLED"]
    e = refused(w.as_("supplier1").loans.accept, done)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["CANCELLED"]


def test_unknown_loan_ids_are_refused(w: World) -> None:
    w.open(until="PROPOSED")
    for loan in (0, 2, 999):
        for who, action, args in (
            ("supplier1", "accept", ()),
            ("bank", "fund", ()),
            ("microloan", "disburse", ()),
            ("supplier1", "repay", (1,)),
            ("supplier1", "cancel", ()),
            ("operator", "declare_default", ()),
        ):
            e = refused(getattr(w.as_(who).loans, action), loan, *args)
            assert e.name == "UnknownLoan", action
            assert argsof(e) == {"loanId": loan}
            assert str(loan) in e.rule
        e = refused(w.ledger.loans.get, loan)
        assert e.name == "UnknownLoan"


# =========================================================================== pledges


def test_nothing_is_pledged_without_the_borrowers_signature(w: World) -> None:
    r1, r2 = w.receivable(600_000), w.receivable(700_000)
    theirs = w.receivable(500_000, holder="supplier2")
    loan = w.open(w.request([r1, r2]), until="PROPOSED")
    assert [w.rstatus(r) for r in (r1, r2)] == ["ACTIVE", "ACTIVE"]
    # while only proposed the holder still disposes of its receivables freely
    w.as_("supplier1").receivables.transfer(r2, w.addr("supplier2"))
    w.as_("supplier2").receivables.transfer(r2, w.addr("supplier1"))
    # a proposal naming someone else's receivable cannot be accepted by the borrower
    stolen = w.open(w.request([r1, theirs]), until="PROPOSED")
    e = refused(w.as_("supplier1").loans.accept, stolen)
    assert e.name == "NotBorrowersReceivable"
    assert argsof(e) == {
        "id": theirs,
        "holder": w.addr("supplier2"),
        "borrower": w.addr("supplier1"),
    }
    assert [w.rstatus(r) for r in (r1, theirs)] == ["ACTIVE", "ACTIVE"]
    w.as_("supplier1").loans.accept(loan)
    assert [w.rstatus(r) for r in (r1, r2)] == ["PLEDGED", "PLEDGED"]
    assert w.ledger.receivables.get(r1).pledged_to == loan
    # a pledged receivable cannot be moved, split or pledged again
    e = refused(w.as_("supplier1").receivables.transfer, r1, w.addr("supplier2"))
    assert e.name == "WrongStatus"
    again = w.open(w.request([r2]), until="PROPOSED")
    e = refused(w.as_("supplier1").loans.accept, again)
    assert e.name == "WrongStatus"


def test_cancel_before_disbursement_refunds_lenders_exactly_and_releases(w: World) -> None:
    rid = w.receivable()
    before = w.balances("bank", "microloan", "supplier1")
    partly = w.open(w.request([rid]), until="ACCEPTED")
    w.as_("bank").loans.fund(partly)
    assert w.bal("bank") == before["bank"] - 700_000
    w.as_("supplier1").loans.cancel(partly)  # the borrower cancels
    assert w.status(partly) == "CANCELLED"
    assert w.balances("bank", "microloan", "supplier1") == before
    assert w.rstatus(rid) == "ACTIVE"
    assert w.exposure("bank") == 0
    cancelled = w.ledger.events("LoanBook", "LoanCancelled", argument_filters={"loanId": partly})
    assert cancelled[0]["args"]["refundedFen"] == 700_000
    full = w.open(w.request([rid]), until="FUNDED")
    assert w.bal(w.book) == 1_000_000
    w.as_("microloan").loans.cancel(full)  # the originator cancels
    assert w.balances("bank", "microloan", "supplier1") == before
    assert w.rstatus(rid) == "ACTIVE" and w.bal(w.book) == 0
    assert w.exposure("bank") == 0 and w.exposure("microloan") == 0
    # a proposal cancelled before acceptance pledged nothing and refunds nothing
    early = w.open(w.request([rid]), until="PROPOSED")
    w.as_("microloan").loans.cancel(early)
    assert w.rstatus(rid) == "ACTIVE"
    # the receivable can now back a fresh loan
    w.open(w.request([rid]), until="ACCEPTED")
    assert w.rstatus(rid) == "PLEDGED"


def test_repaid_releases_the_receivables(w: World) -> None:
    r1, r2 = w.receivable(600_000), w.receivable(900_000)
    loan = w.open(w.request([r1, r2]))
    w.as_("core").receivables.pay(r1, 600_000)  # fully paid while pledged: PAID
    assert w.rstatus(r1) == "PAID" and w.rstatus(r2) == "PLEDGED"
    w.as_("supplier1").loans.repay(loan, 500_000)
    assert w.status(loan) == "REPAID"
    assert w.rstatus(r1) == "PAID" and w.rstatus(r2) == "ACTIVE"
    view = w.ledger.receivables.get(r2)
    assert view.paid_fen == 0
    # an unpledged receivable pays its holder in full again
    before = w.bal("supplier1")
    w.as_("core").receivables.pay(r2, 900_000)
    assert w.bal("supplier1") == before + 900_000
    assert len(w.get(loan).settlements) == 2


def test_release_by_a_receivable_payment_is_audited_as_the_payer(w: World) -> None:
    rid = w.receivable(2_000_000)
    w.open(w.request([rid]))
    w.as_("core").receivables.pay(rid, 2_000_000)
    settled = entries_of(w, "LOAN_SETTLED")[-1]
    released = entries_of(w, "RECEIVABLES_RELEASED")[-1]
    assert settled.actor == w.addr("core")
    assert released.tx == settled.tx
    assert released.actor == w.addr("core")


def test_a_released_receivable_is_no_longer_reported_as_pledged(w: World) -> None:
    rid = w.receivable()
    loan = w.open(w.request([rid]), until="ACCEPTED")
    assert w.ledger.receivables.get(rid).pledged_to == loan
    w.as_("supplier1").loans.cancel(loan)
    view = w.ledger.receivables.get(rid)
    assert view.status == "ACTIVE"
    assert view.pledged_to is None


# =========================================================================== disbursement


def test_targeted_disbursement_pays_exactly_the_fixed_payees(w: World) -> None:
    s1, s2, core = w.addr("supplier1"), w.addr("supplier2"), w.addr("core")
    before = w.balances("supplier1", "supplier2", "core")
    loan = w.open(w.request(payees=[(s2, 650_000), (core, 350_000)]))
    assert w.get(loan).payees == [(s2, 650_000), (core, 350_000)]
    after = w.balances("supplier1", "supplier2", "core")
    assert after == {
        "supplier1": before["supplier1"],
        "supplier2": before["supplier2"] + 650_000,
        "core": before["core"] + 350_000,
    }
    event = w.ledger.events("LoanBook", "LoanDisbursed", argument_filters={"loanId": loan})[0]
    assert list(event["args"]["payees"]) == [s2, core]
    assert list(event["args"]["amountsFen"]) == [650_000, 350_000]
    # the borrower named as one payee gets exactly its part
    before = w.balances("supplier1", "supplier2")
    w.open(w.request(payees=[(s1, 1), (s2, 999_999)]))
    assert w.balances("supplier1", "supplier2") == {
        "supplier1": before["supplier1"] + 1,
        "supplier2": before["supplier2"] + 999_999,
    }
    # no payees: the borrower for the whole principal
    alone = w.bal("supplier1")
    w.open(w.request())
    assert w.bal("supplier1") == alone + 1_000_000
    # a suspended payee blocks the disbursement; the money stays for the loan
    held = w.open(w.request(payees=[(s2, 1_000_000)]), until="FUNDED")
    w.as_("regulator").suspend(s2)
    e = refused(w.as_("microloan").loans.disburse, held)
    assert e.name == "MemberNotActive"
    assert w.status(held) == "FUNDED"
    w.as_("regulator").reinstate(s2)


# =========================================================================== sweep


def test_sweep_routes_its_share_to_the_waterfall(w: World) -> None:
    s1 = w.addr("supplier1")
    loan = w.open(w.request(sweep_bps=2_500), until="FUNDED")
    # no sweep before disbursement: the loan is not active yet
    before = w.bal("supplier1")
    w.as_("core").transfer(s1, 10_000)
    assert w.bal("supplier1") == before + 10_000 and w.sweep_of() == (0, 0)
    before = w.bal("supplier1")
    w.as_("microloan").loans.disburse(loan)
    # the disbursement itself is not swept
    assert w.bal("supplier1") == before + 1_000_000
    assert w.get(loan).settlements == []
    assert w.sweep_of() == (loan, 2_500)
    start = w.balances("supplier1", "core", "bank", "microloan")
    w.as_("core").transfer(s1, 1_000_003)
    share = 1_000_003 * 2_500 // 10_000
    assert share == 250_000
    view = w.get(loan)
    (s,) = view.settlements
    assert (s.source, s.payer, s.amount_fen, s.residual_to) == ("SWEEP", w.addr("core"), share, s1)
    same_split(s, waterfall.quote(w.model(loan), [(s.at, share)])[0])
    assert w.balances("supplier1", "core", "bank", "microloan") == {
        "supplier1": start["supplier1"] + 1_000_003 - share + s.residual_fen,
        "core": start["core"] - 1_000_003,
        "bank": start["bank"] + s.interest_fen[0] + s.principal_fen[0],
        "microloan": start["microloan"] + s.interest_fen[1] + s.principal_fen[1],
    }
    # sub-fen shares add up: 1,000,003 left 0.75 fen of share behind, 3 fen bring 0.75 more
    w.as_("core").transfer(s1, 3)
    assert [s.amount_fen for s in w.get(loan).settlements] == [share, 1]
    w.as_("core").transfer(s1, 1)  # 0.5 + 0.25 fen: nothing yet
    assert len(w.get(loan).settlements) == 2
    # the borrower's own repayment is not swept; a payment that overshoots returns the residual
    w.as_("supplier1").loans.repay(loan, 10_000)
    assert [s.source for s in w.get(loan).settlements] == ["SWEEP", "SWEEP", "REPAYMENT"]
    before = w.bal("supplier1")
    w.as_("core").transfer(s1, 8_000_000)  # share 2,000,000 > what is owed
    view = w.get(loan)
    last = view.settlements[-1]
    assert view.status == "REPAID" and last.source == "SWEEP" and last.residual_fen > 0
    assert w.bal("supplier1") == before + 8_000_000 - 2_000_000 + last.residual_fen
    assert w.sweep_of() == (0, 0)
    before = w.bal("supplier1")
    w.as_("core").transfer(s1, 1_000)
    assert w.bal("supplier1") == before + 1_000


def test_only_the_oldest_active_sweeping_loan_sweeps(w: World) -> None:
    s1 = w.addr("supplier1")
    a = w.open(w.request(sweep_bps=1_000))
    b = w.open(w.request(sweep_bps=5_000))  # its disbursement is not swept by a
    c = w.open(w.request(sweep_bps=2_000))
    d = w.open(w.request(sweep_bps=3_000))
    assert w.sweep_of() == (a, 1_000)
    swept = lambda loan: [(s.source, s.amount_fen) for s in w.get(loan).settlements]  # noqa: E731
    w.as_("core").transfer(s1, 100_000)
    assert swept(a) == [("SWEEP", 10_000)]
    assert swept(b) == swept(c) == swept(d) == []
    # an unpledged receivable paid to the borrower is a payment into its wallet: swept too
    rid = w.receivable(50_000)
    w.as_("core").receivables.pay(rid, 50_000)
    assert swept(a) == [("SWEEP", 10_000), ("SWEEP", 5_000)]
    # the oldest is repaid: the next one takes over, starting with a's residual (a payment
    # into the borrower's wallet like any other, DESIGN §4.2)
    w.as_("core").loans.repay(a, 1_100_000)
    assert w.status(a) == "REPAID"
    assert w.sweep_of() == (b, 5_000)
    residual = w.get(a).settlements[-1].residual_fen
    assert residual > 0 and swept(b) == [("SWEEP", residual * 5_000 // 10_000)]
    carry = residual * 5_000 % 10_000
    w.as_("core").transfer(s1, 100_001)
    assert len(swept(a)) == 3
    assert swept(b)[1] == ("SWEEP", (100_001 * 5_000 + carry) // 10_000)
    # a younger one leaving the queue changes nothing; then b leaves and d (not c) follows
    w.as_("core").loans.repay(c, 1_100_000)
    assert w.sweep_of() == (b, 5_000)
    assert len(swept(b)) == 3  # c's residual, swept by b
    w.as_("core").loans.repay(b, 1_100_000)
    assert w.sweep_of() == (d, 3_000)
    assert len(swept(d)) == 1  # b's residual, swept by d
    w.as_("core").transfer(s1, 10_000)
    assert swept(d)[1][0] == "SWEEP" and swept(d)[1][1] in (3_000, 3_001)
    assert len(swept(c)) == 1 and len(swept(b)) == 4
    w.as_("core").loans.repay(d, 1_100_000)
    assert w.sweep_of() == (0, 0)


def test_a_defaulted_loan_stops_sweeping_and_the_next_takes_over(w: World) -> None:
    first = w.open(w.request(sweep_bps=1_000, term_days=1))
    second = w.open(w.request(sweep_bps=2_000))
    view = w.get(first)
    w.advance_to(view.maturity_at + 90 * DAY)
    w.as_("bank").loans.declare_default(first)
    assert w.status(first) == "DEFAULTED"
    assert w.sweep_of() == (second, 2_000)


def test_a_receivable_pledged_to_an_undisbursed_loan_cannot_be_paid_before_disbursement(
    w: World,
) -> None:
    # The review's finding: paid after acceptance and before disbursement, the money went to
    # the borrower, the receivable became PAID and the loan was still funded and disbursed.
    rid = w.receivable(100_000)
    for until in ("ACCEPTED", "FUNDED"):
        loan = w.open(w.request([rid]), until=until)
        e = refused(w.as_("core").receivables.pay, rid, 100_000)
        assert e.name == "PaymentBeforeDisbursement"
        assert argsof(e) == {"loanId": loan, "receivableId": rid, "status": ST[until]}
        assert w.rstatus(rid) == "PLEDGED"
        w.as_("microloan").loans.cancel(loan)
    loan = w.open(w.request([rid]))
    w.as_("core").receivables.pay(rid, 100_000)
    (s,) = w.get(loan).settlements
    assert s.source == "RECEIVABLE" and s.amount_fen == 100_000


# =========================================================================== default


def test_default_with_the_provision_pool_covers_seniors_first(w: World) -> None:
    tech = w.addr("tech")
    rid = w.receivable(3_000_000)
    # contributions from any member
    w.as_("core").loans.contribute(300_000)
    w.as_("bank").loans.contribute(100_000)
    assert w.ledger.loans.pool_balance_fen() == 400_000
    e = refused(w.as_("core").loans.contribute, 0)
    assert e.name == "ZeroContribution"
    req = w.request(
        [rid],
        tranches=[w.tranche("bank", 500_000, 600), w.tranche("microloan", 500_000)],
        rate_bps=1_200,
        fee_share_bps=2_000,
        provision_share_bps=1_000,
        tech_partner=tech,
        term_days=30,
    )
    start = w.balances("bank", "microloan", "tech", "supplier1", "core")
    pool0 = w.ledger.loans.pool_balance_fen()
    loan = w.open(req)
    view = w.get(loan)
    terms = w.model(loan)
    state = waterfall.LoanState.initial(terms)
    w.advance_to(view.disbursed_at + 15 * DAY)
    w.as_("supplier1").loans.repay(loan, 200_000)
    s1 = w.get(loan).settlements[0]
    m1, state = waterfall.settle(terms, state, 200_000, s1.at)
    same_split(s1, m1)
    assert w.ledger.loans.pool_balance_fen() == pool0 + m1.provision_fen

    earliest = view.maturity_at + 90 * DAY
    w.advance_to(earliest - 3_600)
    e = refused(w.as_("bank").loans.declare_default, loan)
    assert e.name == "DefaultTooEarly"
    assert argsof(e)["loanId"] == loan
    assert argsof(e)["earliestAt"] == earliest
    assert argsof(e)["nowAt"] < earliest
    assert format_time(earliest) in e.rule
    for who in ("supplier2", "core", "supplier1"):
        e = refused(w.as_(who).loans.declare_default, loan)
        assert e.name == "NotLenderOfLoan"
        assert argsof(e) == {"loanId": loan, "caller": w.addr(who)}
    w.advance_to(earliest)
    pool = w.ledger.loans.pool_balance_fen()
    lenders = w.balances("bank", "microloan")
    w.as_("microloan").loans.declare_default(loan)  # a lender of the loan, right at the limit
    view = w.get(loan)
    assert view.status == "DEFAULTED"
    cover_view = view.settlements[-1]
    assert cover_view.source == "COVER"
    mc, state = waterfall.cover(terms, state, pool, cover_view.at)
    assert cover_view.at >= earliest
    assert pool < 1_000_000 - sum(m1.principal_fen)  # a partial cover
    assert cover_view.amount_fen == mc.used_fen == pool
    assert tuple(cover_view.principal_fen) == mc.principal_fen
    # seniors first: the senior is repaid in full before the junior gets anything
    assert mc.principal_fen[0] == 500_000 - m1.principal_fen[0]
    assert 0 < mc.principal_fen[1] < 500_000 - m1.principal_fen[1]
    assert w.ledger.loans.pool_balance_fen() == 0
    assert w.balances("bank", "microloan") == {
        "bank": lenders["bank"] + mc.principal_fen[0],
        "microloan": lenders["microloan"] + mc.principal_fen[1],
    }
    (event,) = w.ledger.events("LoanBook", "LoanDefaulted", argument_filters={"loanId": loan})
    a = event["args"]
    loss = state.principal_outstanding_fen
    assert (a["coverFen"], list(a["principalFen"]), a["lossFen"], a["interestDueFen"]) == (
        pool,
        list(mc.principal_fen),
        loss,
        state.interest_due_fen,
    )
    assert view.outstanding_fen == loss
    assert [t.outstanding_fen for t in view.tranches] == [0, loss]
    assert w.rstatus(rid) == "PLEDGED"
    assert w.exposure("bank") == 500_000  # kept while defaulted
    e = refused(w.as_("bank").loans.declare_default, loan)
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["DEFAULTED"]

    # The tech partner's only loan defaulted: its NPL ratio is 100%, above tech_fee_npl_bps,
    # so the fee share of later receipts goes to the pool (DESIGN §6.6).
    book = (
        waterfall.TechBook()
        .disbursed(1_000_000)
        .repaid(sum(m1.principal_fen), defaulted=False)
        .default(mc.used_fen, loss)
    )
    assert w.tech_book("tech") == book
    assert book.fee_withheld(250)

    # later receipts still run the waterfall: a late part-payment of the receivable
    w.advance_to(earliest + 10 * DAY)
    w.as_("core").receivables.pay(rid, 300_000)
    view = w.get(loan)
    s3 = view.settlements[-1]
    assert s3.source == "RECEIVABLE"
    m3, state = waterfall.settle(terms, state, 300_000, s3.at, fee_withheld=True)
    same_split(s3, m3)
    assert m3.fee_fen == 0 and m3.provision_fen > 0
    book = book.repaid(sum(m3.principal_fen), defaulted=True)
    assert w.tech_book("tech") == book
    assert view.status == "DEFAULTED"
    assert w.ledger.loans.pool_balance_fen() == m3.provision_fen
    # then the rest of it: the loan is repaid, the pool's cover is paid back (DESIGN §6.2)
    # and the rest of the residual goes to the holder
    w.as_("core").receivables.pay(rid, 2_700_000)
    view = w.get(loan)
    s4 = view.settlements[-1]
    m4, state = waterfall.settle(terms, state, 2_700_000, s4.at, fee_withheld=True)
    back = min(m4.residual_fen, mc.used_fen)
    assert s4.cover_fen == back == mc.used_fen
    m4 = replace(m4, residual_fen=m4.residual_fen - back)
    same_split(s4, m4)
    assert w.tech_book("tech") == waterfall.TechBook()
    assert view.status == "REPAID" and state.repaid
    assert w.rstatus(rid) == "PAID"
    assert w.exposure("bank") == 0 and w.exposure("microloan") == 0
    settlements = [m1, m3, m4]
    paid = [
        sum(m.interest_fen[i] + m.principal_fen[i] for m in settlements) + mc.principal_fen[i]
        for i in range(2)
    ]
    assert w.balances("bank", "microloan", "tech", "supplier1", "core") == {
        "bank": start["bank"] - 500_000 + paid[0],
        "microloan": start["microloan"] - 500_000 + paid[1],
        "tech": start["tech"] + sum(m.fee_fen for m in settlements),
        "supplier1": start["supplier1"]
        + 1_000_000
        - 200_000
        + sum(m.residual_fen for m in settlements),
        "core": start["core"] - 3_000_000,
    }
    assert w.ledger.loans.pool_balance_fen() == m3.provision_fen + m4.provision_fen + back
    assert verify_trail(w.ledger).ok


def test_default_with_an_ample_pool_and_a_pro_rata_loan(w: World) -> None:
    """Cover is sequential whatever the mode; the operator may declare; policy default_days."""
    w.as_("core").loans.contribute(5_000_000)
    w.as_("regulator").loans.set_policy("default_days", 10)
    loan = w.open(w.request(mode="pro-rata", term_days=20, rate_bps=900))
    view = w.get(loan)
    terms = w.model(loan)
    w.advance_to(view.disbursed_at + 5 * DAY)
    w.as_("supplier1").loans.repay(loan, 300_000)
    s1 = w.get(loan).settlements[0]
    m1, state = waterfall.settle(terms, waterfall.LoanState.initial(terms), 300_000, s1.at)
    same_split(s1, m1)
    assert m1.principal_fen[1] > 0  # pro rata: the junior is repaid alongside
    earliest = view.maturity_at + 10 * DAY
    e = refused(w.as_("bank").loans.declare_default, loan)
    assert e.name == "DefaultTooEarly" and argsof(e)["earliestAt"] == earliest
    w.advance_to(earliest)
    before = w.balances("bank", "microloan")
    w.ledger.loans.declare_default(loan)  # the operator, not a lender
    view = w.get(loan)
    cover_view = view.settlements[-1]
    mc, state = waterfall.cover(terms, state, 5_000_000, cover_view.at)
    assert cover_view.amount_fen == mc.used_fen == 1_000_000 - sum(m1.principal_fen)
    assert tuple(cover_view.principal_fen) == mc.principal_fen
    assert w.balances("bank", "microloan") == {
        "bank": before["bank"] + mc.principal_fen[0],
        "microloan": before["microloan"] + mc.principal_fen[1],
    }
    # all principal covered, but interest is still due: DEFAULTED until it is paid
    assert view.status == "DEFAULTED" and view.outstanding_fen == 0
    assert view.interest_due_fen == state.interest_due_fen > 0
    assert w.ledger.loans.pool_balance_fen() == 5_000_000 + m1.provision_fen - mc.used_fen
    w.as_("supplier1").loans.repay(loan, state.interest_due_fen + 50)
    view = w.get(loan)
    s = view.settlements[-1]
    m, state = waterfall.settle(terms, state, state.interest_due_fen + 50, s.at)
    # what is left after interest pays back the pool's cover before any residual
    same_split(s, replace(m, residual_fen=0))
    assert view.status == "REPAID" and state.repaid
    assert s.cover_fen == 50 and s.residual_fen == 0 and sum(s.principal_fen) == 0


def test_default_with_an_empty_pool_is_all_loss(w: World) -> None:
    loan = w.open(w.request(term_days=1))
    view = w.get(loan)
    e = refused(w.as_("bank").loans.declare_default, loan)
    assert e.name == "DefaultTooEarly"
    e = refused(w.as_("bank").loans.declare_default, w.open(until="FUNDED"))
    assert e.name == "WrongLoanStatus" and argsof(e)["status"] == ST["FUNDED"]
    w.advance_to(view.maturity_at + 90 * DAY)
    before = w.balances("bank", "microloan")
    w.as_("bank").loans.declare_default(loan)
    (event,) = w.ledger.events("LoanBook", "LoanDefaulted", argument_filters={"loanId": loan})
    assert event["args"]["coverFen"] == 0
    assert list(event["args"]["principalFen"]) == [0, 0]
    assert event["args"]["lossFen"] == 1_000_000
    assert w.balances("bank", "microloan") == before
    assert w.status(loan) == "DEFAULTED"
    # a recovery by direct repayment runs the waterfall, seniors first
    w.as_("supplier1").loans.repay(loan, 800_000)
    s = w.get(loan).settlements[-1]
    assert s.principal_fen[0] == 700_000
    assert s.principal_fen[1] == 800_000 - sum(s.interest_fen) - 700_000
