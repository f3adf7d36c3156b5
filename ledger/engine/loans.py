"""Joint loans (联合贷款): the typed wrapper of LoanBook, its pool and its policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, model_validator

from ledger.engine.covers import CoverLayerView
from ledger.engine.tx import EngineClient, Sent
from ledger.errors import BadInput, NotFound
from ledger.reference import stages as staging
from ledger.reference import waterfall

if TYPE_CHECKING:
    pass

LOAN_STATUS = [
    "NONE",
    "PROPOSED",
    "ACCEPTED",
    "FUNDING",
    "FUNDED",
    "DISBURSED",
    "REPAID",
    "DEFAULTED",
    "CANCELLED",
]
MODES: tuple[Literal["sequential"], Literal["pro-rata"]] = ("sequential", "pro-rata")
SOURCES = ["REPAYMENT", "RECEIVABLE", "SWEEP", "COVER"]
MAX_TRANCHES = 8
MAX_RECEIVABLES = 16  # LoanOrigination.MAX_RECEIVABLES
MAX_PAYEES = 16  # LoanOrigination.MAX_PAYEES
DEFAULT_EXPIRY_DAYS = 30
MAX_PRINCIPAL_FEN = 2**64 - 1  # LoanOrigination.MAX_PRINCIPAL
ZERO_ADDRESS = "0x" + "00" * 20
TERMS_TYPES = [
    "(address,address,uint16,uint16,uint16,uint16,uint16,uint16,uint16,uint8,uint16)",
    "(address,bool,uint256,uint16)[]",
    "uint256[]",
    "address[]",
    "uint256[]",
    "(address,uint8,uint16,uint256,uint256)[]",
]
# A staged loan's terms document adds each payee's stage and the day of each stage k ≥ 1.
STAGED_TERMS_TYPES = [*TERMS_TYPES, "uint256[]", "uint256[]"]
MAX_STAGES = staging.MAX_STAGES
COVER_KINDS = ("GUARANTEE", "INSURANCE", "REPURCHASE")
MAX_COVER_LAYERS = 4
POLICY_NAMES = (
    "min_originator_share_bps",
    "max_apr_bps",
    "max_fee_share_bps",
    "max_single_borrower_bps",
    "default_days",
    # DESIGN §6.2
    "max_tech_cover_bps",
    "min_lender_retention_bps",
    "claim_days",
    # DESIGN §6.6
    "max_online_individual_fen",
    "max_online_business_fen",
    "max_related_group_bps",
    "max_book_x100",
    "tech_fee_npl_bps",
    # IPolicy.DealParams (DESIGN §6.5)
    "max_servicing_fee_bps",
    "min_retention_bps",
)
# Gas limits: explicit so no node estimates, sized from what the transaction loops over.
GAS_LIFECYCLE = 800_000
GAS_LAPSE = 300_000 + 30_000 * MAX_TRANCHES
# A residual paid to a borrower another of whose loans sweeps settles on that loan too.
GAS_SWEEP_RESIDUAL = 250_000 + 60_000 * MAX_TRANCHES


def gas_settle(
    tranches: int, receivables: int = 1, sweeps_residual: bool = False, layers: int = 0
) -> int:
    """A settlement: its tranches, the receivables a repaying one releases, room for
    sweeping its residual into another loan when the borrower has one that sweeps, and its
    cover layers (a default's claims and margins, a recovery's reimbursements, DESIGN §6.2)."""
    extra = GAS_SWEEP_RESIDUAL if sweeps_residual else 0
    cover = 60_000 + 60_000 * layers if layers else 0
    # The base covers the worst single settlement: a closing receipt whose payees are held
    # (DESIGN §6.1), with the prudential books (§6.6) updated, before its storage refunds.
    return 330_000 + 60_000 * tranches + 12_000 * receivables + extra + cover


def gas_propose(
    tranches: int, receivables: int, payees: int, layers: int = 0, stages: int = 0
) -> int:
    """A proposal: each tranche's lender checked and registered (DESIGN §4.7, §6.6), each
    receivable and payee checked and stored (measured: 1.55 M for 2 / 16 / 16), each
    cover layer checked and recorded by the cover book (DESIGN §6.2; measured: some 85,000
    a layer), and a staged loan's stages (DESIGN §6.4: the stages decoded again, one word
    each, and a stage's payee list)."""
    staged = 60_000 + 50_000 * stages if stages > 1 else 0
    return (
        600_000 + 150_000 * tranches + 45_000 * (receivables + payees) + 120_000 * layers + staged
    )


def gas_lifecycle(receivables: int, payees: int) -> int:
    """Accept (pledge), fund, disburse (payees), cancel (release, refunds)."""
    return 400_000 + 30_000 * receivables + 40_000 * payees


def gas_draw(tranches: int, payees: int) -> int:
    """A stage drawn: accrual and one storage word per tranche, a payment per payee."""
    return 250_000 + 40_000 * tranches + 40_000 * payees


class TrancheRequest(BaseModel):
    """One tranche of a proposal."""

    lender: str
    senior: bool
    amount_fen: int = Field(gt=0, lt=2**72)
    coupon_bps: int = Field(default=0, ge=0, lt=2**16)

    @model_validator(mode="after")
    def _junior_has_no_coupon(self) -> TrancheRequest:
        if not self.senior and self.coupon_bps:
            raise ValueError("a junior tranche has no coupon: it shares the residual interest")
        return self


class CoverRequest(BaseModel):
    """One cover layer of a proposal (DESIGN §6.2): its provider accepts it by the terms hash.

    Attributes:
        provider: who gives it (a GUARANTOR; a TECH_PARTNER for a GUARANTEE; the debtor of a
            pledged receivable for a REPURCHASE).
        kind: GUARANTEE, INSURANCE or REPURCHASE.
        share_bps: the share of the principal outstanding at default it covers.
        cap_fen: the most it ever owes.
        margin_fen: deposited at acceptance; pays first at default.
    """

    provider: str
    kind: str
    share_bps: int = Field(gt=0, le=10_000)
    cap_fen: int = Field(gt=0, lt=2**128)
    margin_fen: int = Field(default=0, ge=0, lt=2**128)

    @model_validator(mode="after")
    def _margin_within_cap(self) -> CoverRequest:
        if self.kind not in COVER_KINDS:
            raise ValueError(f"cover kind {self.kind!r} is not one of {', '.join(COVER_KINDS)}")
        if self.margin_fen > self.cap_fen:
            raise ValueError(f"margin {self.margin_fen} fen is above the cap of {self.cap_fen} fen")
        return self


class LoanRequest(BaseModel):
    """A loan proposal: what `loan propose` sends and the borrower accepts by its hash."""

    borrower: str
    tranches: list[TrancheRequest] = Field(min_length=1, max_length=MAX_TRANCHES)
    receivable_ids: list[int] = Field(min_length=1, max_length=MAX_RECEIVABLES)
    rate_bps: int = Field(ge=0, lt=2**16)
    term_days: int = Field(ge=1, le=3650)
    penalty_bps: int = Field(default=0, ge=0, lt=2**16)
    grace_days: int = Field(default=0, ge=0, lt=2**16)
    fee_share_bps: int = Field(default=0, ge=0, le=10_000)
    provision_share_bps: int = Field(default=0, ge=0, le=10_000)
    mode: Literal["sequential", "pro-rata"] = "sequential"
    tech_partner: str | None = None
    payees: list[tuple[str, int]] = Field(default_factory=list)
    # Staged drawdown (DESIGN §6.4): each payee's stage (empty: all stage 0, paid at
    # disbursement) and, for each stage k ≥ 1, its earliest day after disbursement.
    payee_stages: list[int] = Field(default_factory=list)
    stage_days: dict[int, int] = Field(default_factory=dict)
    sweep_bps: int = Field(default=0, ge=0, le=10_000)
    covers: list[CoverRequest] = Field(default_factory=list, max_length=MAX_COVER_LAYERS)
    # Days after the proposal until it lapses: no acceptance, funding or disbursement after
    # it, and any lender of the loan may cancel it (refunds for all).
    expiry_days: int = Field(default=DEFAULT_EXPIRY_DAYS, ge=1, lt=2**16)

    @model_validator(mode="after")
    def _principal_within_cap(self) -> LoanRequest:
        if self.principal_fen > MAX_PRINCIPAL_FEN:
            raise ValueError(
                f"principal {self.principal_fen} fen is above the cap of {MAX_PRINCIPAL_FEN} fen"
            )
        return self

    @model_validator(mode="after")
    def _stages_are_whole(self) -> LoanRequest:
        if self.payee_stages and len(self.payee_stages) != len(self.payees):
            raise ValueError(f"{len(self.payees)} payees but {len(self.payee_stages)} payee stages")
        if self.stage_days and not self.payees:
            raise ValueError("stages need their payees: --payee NAME:AMT:STAGE")
        used = set(self.payee_stages) | {0}
        last = max(used | set(self.stage_days))
        if last >= MAX_STAGES:
            raise ValueError(f"stage {last}: a loan has stages 0 to {MAX_STAGES - 1}")
        for k in range(last + 1):
            if k not in used:
                raise ValueError(f"stage {k} has no payee (stages run 0, 1, 2, … without gaps)")
            if k and k not in self.stage_days:
                raise ValueError(f"stage {k} needs its day: --stage-day {k}:DAYS")
        for k, day in self.stage_days.items():
            if k < 1:
                raise ValueError("stage 0 is paid at disbursement and takes no day")
            if not 0 <= day < self.term_days:
                raise ValueError(
                    f"stage {k}'s day {day} must be before maturity (0 to {self.term_days - 1})"
                )
        return self

    @property
    def principal_fen(self) -> int:
        return sum(t.amount_fen for t in self.tranches)

    @property
    def staged(self) -> bool:
        """True when some payee is paid at a later stage than disbursement."""
        return any(self.payee_stages) or bool(self.stage_days)

    def stage_count(self) -> int:
        return 1 + max(self.payee_stages, default=0)

    def stage_of_payees(self) -> list[int]:
        """Each effective payee's stage (0 for all of an unstaged loan)."""
        return list(self.payee_stages) or [0] * len(self.effective_payees())

    def stage_payees(self, stage: int) -> list[tuple[str, int]]:
        """The payees paid when `stage` is drawn (stage 0: at disbursement)."""
        return [
            p
            for p, k in zip(self.effective_payees(), self.stage_of_payees(), strict=True)
            if k == stage
        ]

    def stage_amounts(self) -> list[int]:
        """What each stage pays, stage 0 first."""
        return [sum(a for _, a in self.stage_payees(k)) for k in range(self.stage_count())]

    def effective_payees(self) -> list[tuple[str, int]]:
        """Targeted disbursement: the named payees, or the borrower for the whole principal."""
        return self.payees or [(self.borrower, self.principal_fen)]

    def terms_document(self) -> bytes:
        """abi.encode(Terms, TrancheSpec[], receivableIds, payees, amounts, CoverSpec[]): what
        the borrower and the cover providers accept by its hash."""
        from eth_abi import encode

        payees = self.effective_payees()
        terms = (
            self.borrower,
            self.tech_partner or ZERO_ADDRESS,
            self.rate_bps,
            self.penalty_bps,
            self.term_days,
            self.grace_days,
            self.fee_share_bps,
            self.provision_share_bps,
            self.sweep_bps,
            MODES.index(self.mode),
            self.expiry_days,
        )
        tranches = [(t.lender, t.senior, t.amount_fen, t.coupon_bps) for t in self.tranches]
        covers = [
            (c.provider, COVER_KINDS.index(c.kind), c.share_bps, c.cap_fen, c.margin_fen)
            for c in self.covers
        ]
        fields = [
            terms,
            tranches,
            self.receivable_ids,
            [p for p, _ in payees],
            [a for _, a in payees],
            covers,
        ]
        if not self.staged:  # exactly the document of an unstaged loan
            return encode(TERMS_TYPES, fields)
        days = [self.stage_days[k] for k in range(1, self.stage_count())]
        return encode(STAGED_TERMS_TYPES, [*fields, self.payee_stages, days])

    def model_terms(self, disbursed_at: int) -> waterfall.LoanTerms:
        """The reference model's terms, as if disbursed at `disbursed_at`."""
        return waterfall.LoanTerms.for_term(
            [
                waterfall.Tranche(t.lender, t.senior, t.amount_fen, t.coupon_bps)
                for t in self.tranches
            ],
            rate_bps=self.rate_bps,
            disbursed_at=disbursed_at,
            term_days=self.term_days,
            penalty_bps=self.penalty_bps,
            fee_share_bps=self.fee_share_bps,
            provision_share_bps=self.provision_share_bps,
            mode=self.mode,
            grace_days=self.grace_days,
        )


def decode_terms(document: bytes) -> LoanRequest:
    """The terms document of a LoanProposed event → the request it encodes."""
    from eth_abi import decode
    from eth_utils import to_checksum_address

    # The Terms struct is 11 static words; word 11 is the first dynamic field's offset,
    # 18 words in a staged document (8 fields) and 16 in an unstaged one (6 fields).
    staged = len(document) >= 12 * 32 and int.from_bytes(document[352:384], "big") == 18 * 32
    payee_stages: list[int] = []
    stage_days: dict[int, int] = {}
    if staged:
        terms, tranches, rids, payees, amounts, covers, pstages, days = decode(
            STAGED_TERMS_TYPES, document
        )
        payee_stages = [int(k) for k in pstages]
        stage_days = {k + 1: int(d) for k, d in enumerate(days)}
    else:
        terms, tranches, rids, payees, amounts, covers = decode(TERMS_TYPES, document)
    (borrower, tech, rate, penalty, term, grace, fee, provision, sweep, mode, expiry) = terms
    return LoanRequest(
        borrower=to_checksum_address(borrower),
        tranches=[
            TrancheRequest(
                lender=to_checksum_address(t[0]), senior=t[1], amount_fen=t[2], coupon_bps=t[3]
            )
            for t in tranches
        ],
        receivable_ids=list(rids),
        rate_bps=rate,
        term_days=term,
        penalty_bps=penalty,
        grace_days=grace,
        fee_share_bps=fee,
        provision_share_bps=provision,
        mode=MODES[mode],
        tech_partner=None if int(tech, 16) == 0 else to_checksum_address(tech),
        payees=[(to_checksum_address(p), int(a)) for p, a in zip(payees, amounts, strict=True)],
        payee_stages=payee_stages,
        stage_days=stage_days,
        sweep_bps=sweep,
        covers=[
            CoverRequest(
                provider=to_checksum_address(c[0]),
                kind=COVER_KINDS[c[1]],
                share_bps=c[2],
                cap_fen=c[3],
                margin_fen=c[4],
            )
            for c in covers
        ],
        expiry_days=expiry or DEFAULT_EXPIRY_DAYS,
    )


class TrancheView(BaseModel):
    lender: str
    lender_name: str | None
    class_: str = Field(serialization_alias="class")
    amount_fen: int
    coupon_bps: int
    outstanding_fen: int
    coupon_due_fen: int
    funded: bool


class StageView(BaseModel):
    """One stage of a staged loan (DESIGN §6.4), as `loan show --json` prints it."""

    stage: int
    day: int
    # disbursement + day (None before disbursement)
    due_at: int | None
    amount_fen: int
    payees: list[tuple[str, int]]
    drawn_at: int | None
    # per tranche, what the draw took from it (empty while undrawn)
    principal_fen: list[int]
    lapsed: bool


class SettlementView(BaseModel):
    """One receipt's split; `cover_fen` is what it paid back to the pool and the cover layers
    after a default (DESIGN §6.2), so the parts sum to `amount_fen`."""

    at: int
    source: str
    payer: str
    amount_fen: int
    fee_fen: int
    provision_fen: int
    interest_fen: list[int]
    principal_fen: list[int]
    residual_fen: int
    residual_to: str | None
    tx: str
    cover_fen: int = 0


class LoanView(BaseModel):
    """One loan, as `loan show --json` prints it (DESIGN §5, plus its full terms)."""

    id: int
    status: str
    borrower: str
    originator: str
    principal_fen: int
    outstanding_fen: int
    interest_due_fen: int
    rate_bps: int
    penalty_bps: int
    term_days: int
    grace_days: int
    fee_share_bps: int
    provision_share_bps: int
    mode: str
    sweep_bps: int
    tech_partner: str | None
    disbursed_at: int
    maturity_at: int
    # Until disbursement: the proposal's deadline (accept, fund, disburse before it).
    expires_at: int
    terms_hash: str
    receivables: list[int]
    payees: list[tuple[str, int]]
    tranches: list[TrancheView]
    settlements: list[SettlementView]
    # Staged drawdown: the stages (empty for an unstaged loan) and the money not yet drawn.
    stages: list[StageView] = Field(default_factory=list)
    undrawn_fen: int = 0
    cover: list[CoverLayerView] = Field(default_factory=list)


class Proposed(BaseModel):
    id: int
    tx: str
    terms_hash: str


class PolicyView(BaseModel):
    min_originator_share_bps: int
    max_apr_bps: int
    max_fee_share_bps: int
    max_single_borrower_bps: int
    default_days: int
    max_tech_cover_bps: int
    min_lender_retention_bps: int
    claim_days: int
    max_online_individual_fen: int
    max_online_business_fen: int
    max_related_group_bps: int
    max_book_x100: int
    tech_fee_npl_bps: int
    max_servicing_fee_bps: int
    min_retention_bps: int


class Loans(EngineClient):
    """Propose, accept, fund, disburse, repay, cancel and default loans; read them back."""

    CONTRACT = "LoanBook"

    # -- lifecycle ---------------------------------------------------------------------------

    def propose(self, request: LoanRequest) -> Proposed:
        from eth_utils import keccak
        from web3.logs import DISCARD

        document = request.terms_document()
        gas = gas_propose(
            len(request.tranches),
            len(request.receivable_ids),
            len(request.payees),
            len(request.covers),
            request.stage_count(),
        )
        sent = self._send("propose", document, gas=gas)
        (event,) = self._c.events.LoanProposed().process_receipt(sent.receipt, errors=DISCARD)
        return Proposed(
            id=int(event["args"]["loanId"]), tx=sent.tx, terms_hash="0x" + keccak(document).hex()
        )

    def accept(self, loan_id: int, terms_hash: bytes | None = None) -> Sent:
        """The borrower accepts; `terms_hash` defaults to the proposal's own (after review)."""
        expected = terms_hash if terms_hash is not None else bytes(self._call("loanOf", loan_id)[9])
        return self._send("accept", loan_id, expected, gas=self._gas_lifecycle(loan_id))

    def fund(self, loan_id: int) -> Sent:
        return self._send("fund", loan_id, gas=self._gas_lifecycle(loan_id))

    def disburse(self, loan_id: int) -> Sent:
        return self._send("disburse", loan_id, gas=self._gas_lifecycle(loan_id))

    def _gas_lifecycle(self, loan_id: int) -> int:
        try:
            rids = len(self._c.functions.receivablesOf(loan_id).call())
            payees = len(self._c.functions.payeesOf(loan_id).call()[0])
        except Exception:  # an unknown loan: the simulation names the refusal
            return GAS_LIFECYCLE
        return gas_lifecycle(rids, payees)

    def _gas_settle(self, loan_id: int) -> int:
        info = self._call("loanOf", loan_id)
        rids = len(self._c.functions.receivablesOf(loan_id).call())
        token = self.ledger.contract("DigitalRMB").functions
        sweeping = int(token.sweepOf(info[2]).call()[0])
        layers = self.ledger.covers.layer_count(loan_id)
        return gas_settle(int(info[10]), rids, sweeping not in (0, loan_id), layers)

    def repay(self, loan_id: int, amount_fen: int) -> Sent:
        return self._send("repay", loan_id, amount_fen, gas=self._gas_settle(loan_id))

    def repay_many(self, receipts: list[tuple[int, int]]) -> Sent:
        """Several repayments (loan id, fen) in one transaction, each through the waterfall."""
        if not receipts:
            raise BadInput("no receipts to settle")
        ids, amounts = [r[0] for r in receipts], [r[1] for r in receipts]
        per_loan = {i: self._gas_settle(i) for i in dict.fromkeys(ids)}
        return self._send("repayMany", ids, amounts, gas=100_000 + sum(per_loan[i] for i in ids))

    def cancel(self, loan_id: int) -> Sent:
        return self._send("cancel", loan_id, gas=self._gas_lifecycle(loan_id))

    def declare_default(self, loan_id: int) -> Sent:
        return self._send("declareDefault", loan_id, gas=self._gas_settle(loan_id))

    def draw(self, loan_id: int, stage: int) -> Sent:
        """The borrower draws a stage of a staged loan: paid to that stage's payees."""
        try:
            request = self.request_of(loan_id)
        except NotFound:  # the simulation names the refusal
            return self._send("draw", loan_id, stage, gas=GAS_LIFECYCLE)
        payees = len(request.stage_payees(stage))
        return self._send(
            "draw", loan_id, stage, gas=gas_draw(len(request.tranches), max(payees, 1))
        )

    def lapse(self, loan_id: int) -> Sent:
        """From maturity on, lapse the loan's undrawn stages: their money back to the lenders."""
        return self._send("lapse", loan_id, gas=GAS_LAPSE)

    def stages(self, loan_id: int, request: LoanRequest | None = None) -> list[StageView]:
        """The stages of a staged loan (empty for an unstaged one), from its terms document
        and its StageDrawn / StagesLapsed events; stage 0's parts by the reference split (the
        differential test holds the contract to it)."""
        request = request or self.request_of(loan_id)
        if not request.staged:
            return []
        info = self._call("loanOf", loan_id)
        status, disbursed_at = LOAN_STATUS[info[0]], int(info[6])
        drawn: dict[int, tuple[int | None, list[int]]] = {}
        if disbursed_at:
            committed = [t.amount_fen for t in request.tranches]
            first = staging.draw_parts(request.stage_amounts()[0], committed, committed)
            drawn[0] = (disbursed_at, first)
        events = self.ledger.events
        for log in events("LoanBook", "StageDrawn", argument_filters={"loanId": loan_id}):
            when = int(self.ledger.chain.w3.eth.get_block(log["blockNumber"])["timestamp"])
            drawn[int(log["args"]["stage"])] = (when, list(log["args"]["principalFen"]))
        lapsed: set[int] = set()
        for log in events("LoanBook", "StagesLapsed", argument_filters={"loanId": loan_id}):
            lapsed.update(int(k) for k in log["args"]["stages"])
        out = []
        for k, amount in enumerate(request.stage_amounts()):
            day = request.stage_days.get(k, 0)
            at, parts = drawn.get(k, (None, []))
            out.append(
                StageView(
                    stage=k,
                    day=day,
                    due_at=disbursed_at + day * waterfall.DAY if disbursed_at else None,
                    amount_fen=amount,
                    payees=request.stage_payees(k),
                    drawn_at=at,
                    principal_fen=parts,
                    lapsed=k in lapsed or (status == "CANCELLED" and at is None),
                )
            )
        return out

    def contribute(self, amount_fen: int) -> Sent:
        return self.ledger._send("ProvisionPool", "contribute", amount_fen, gas=300_000)

    def exposure_of(self, lender: str, borrower: str) -> int:
        """The lender's exposure to the borrower, as the single-borrower limit counts it."""
        return int(self._call("exposureOf", lender, borrower))

    def pool_balance_fen(self) -> int:
        return int(self.ledger.contract("ProvisionPool").functions.balanceFen().call())

    def policy(self) -> PolicyView:
        policy = self.ledger.contract("Policy").functions
        p = [*policy.params().call(), *policy.dealParams().call()]
        return PolicyView(**dict(zip(POLICY_NAMES, (int(v) for v in p), strict=True)))

    def set_policy(self, name: str, value: int) -> Sent:
        if name not in POLICY_NAMES:
            raise BadInput(f"unknown policy parameter {name!r} (one of {', '.join(POLICY_NAMES)})")
        return self.ledger._send(
            "Policy", "set", name.encode().ljust(32, b"\0"), value, gas=300_000
        )

    # -- reads -------------------------------------------------------------------------------

    def request_of(self, loan_id: int) -> LoanRequest:
        """The terms document the loan was proposed with (from its LoanProposed event)."""
        logs = self.ledger.events("LoanBook", "LoanProposed", argument_filters={"loanId": loan_id})
        if not logs:
            raise NotFound(f"no loan #{loan_id}")
        return decode_terms(bytes(logs[0]["args"]["terms"]))

    def settled_in(self, sent: Sent) -> list[tuple[int, SettlementView]]:
        """The settlements a transaction ran (a sweep in a payment, a pledged receivable's
        payment, a repayment): (loan id, settlement), in log order."""
        out = []
        at = 0
        for log in self.ledger.events("LoanBook", "LoanSettled", from_block=sent.block):
            tx = "0x" + bytes(log["transactionHash"]).hex()
            if tx.lower() != sent.tx.lower():
                continue
            if not at:
                at = int(self.ledger.chain.w3.eth.get_block(sent.block)["timestamp"])
            a = log["args"]
            view = SettlementView(
                at=at,
                source=SOURCES[a["source"]],
                payer=a["payer"],
                amount_fen=a["amountFen"],
                fee_fen=a["feeFen"],
                provision_fen=a["provisionFen"],
                interest_fen=list(a["interestFen"]),
                principal_fen=list(a["principalFen"]),
                residual_fen=a["residualFen"],
                residual_to=a["residualTo"],
                tx=tx,
            )
            out.append((int(a["loanId"]), view))
        return out

    def settlements(self, loan_id: int) -> list[SettlementView]:
        ledger = self.ledger
        out: list[tuple[int, int, SettlementView]] = []
        for log in ledger.events("LoanBook", "LoanSettled", argument_filters={"loanId": loan_id}):
            a = log["args"]
            out.append(
                (
                    log["blockNumber"],
                    log["logIndex"],
                    SettlementView(
                        at=0,
                        source=SOURCES[a["source"]],
                        payer=a["payer"],
                        amount_fen=a["amountFen"],
                        fee_fen=a["feeFen"],
                        provision_fen=a["provisionFen"],
                        interest_fen=list(a["interestFen"]),
                        principal_fen=list(a["principalFen"]),
                        residual_fen=a["residualFen"],
                        residual_to=a["residualTo"],
                        tx="0x" + bytes(log["transactionHash"]).hex(),
                    ),
                )
            )
        for log in ledger.events("LoanBook", "LoanDefaulted", argument_filters={"loanId": loan_id}):
            a = log["args"]
            n = len(a["principalFen"])
            out.append(
                (
                    log["blockNumber"],
                    log["logIndex"],
                    SettlementView(
                        at=0,
                        source="COVER",
                        payer=ledger.deployment.address("ProvisionPool"),
                        amount_fen=a["coverFen"],
                        fee_fen=0,
                        provision_fen=0,
                        interest_fen=[0] * n,
                        principal_fen=list(a["principalFen"]),
                        residual_fen=0,
                        residual_to=None,
                        tx="0x" + bytes(log["transactionHash"]).hex(),
                    ),
                )
            )
        back: dict[str, int] = {}
        for log in ledger.events(
            "CoverBook", "CoverReimbursed", argument_filters={"loanId": loan_id}
        ):
            tx = "0x" + bytes(log["transactionHash"]).hex()
            back[tx] = back.get(tx, 0) + sum(log["args"]["layersFen"]) + log["args"]["poolFen"]
        for _, _, s in out:
            if s.source != "COVER":
                s.cover_fen = back.get(s.tx, 0)
        out.sort(key=lambda e: (e[0], e[1]))
        times: dict[int, int] = {}
        for block, _, s in out:
            if block not in times:
                times[block] = int(ledger.chain.w3.eth.get_block(block)["timestamp"])
            s.at = times[block]
        return [s for _, _, s in out]

    def get(self, loan_id: int) -> LoanView:
        info = self._call("loanOf", loan_id)
        (
            status,
            originator,
            borrower,
            principal,
            outstanding,
            interest_due,
            disbursed_at,
            maturity_at,
            _accrued_to,
            terms_hash,
            count,
            expires_at,
        ) = info
        terms = self._call("termsOf", loan_id)
        tranches = []
        for i in range(int(count)):
            t = self._call("trancheOf", loan_id, i)
            name = self.ledger.name_of(t[0])
            tranches.append(
                TrancheView(
                    lender=t[0],
                    lender_name=None if name == t[0] else name,
                    class_="senior" if t[1] else "junior",
                    amount_fen=t[2],
                    coupon_bps=t[3],
                    outstanding_fen=t[4] if disbursed_at else 0,
                    coupon_due_fen=t[5],
                    funded=t[6],
                )
            )
        payees, amounts = self._call("payeesOf", loan_id)
        request = self.request_of(loan_id)
        stages = self.stages(loan_id, request)
        everyone = list(zip(payees, (int(a) for a in amounts), strict=True))
        return LoanView(
            id=loan_id,
            status=LOAN_STATUS[status],
            borrower=borrower,
            originator=originator,
            principal_fen=principal,
            # Owed by the borrower: nothing until the money is disbursed (the chain books
            # the tranches' amounts from the proposal on; the report counts 0 as well).
            outstanding_fen=outstanding if disbursed_at else 0,
            interest_due_fen=interest_due,
            rate_bps=terms[2],
            penalty_bps=terms[3],
            term_days=terms[4],
            grace_days=terms[5],
            fee_share_bps=terms[6],
            provision_share_bps=terms[7],
            sweep_bps=terms[8],
            mode=MODES[terms[9]],
            tech_partner=None if int(terms[1], 16) == 0 else terms[1],
            disbursed_at=disbursed_at,
            maturity_at=maturity_at,
            expires_at=expires_at,
            terms_hash="0x" + bytes(terms_hash).hex(),
            receivables=list(self._call("receivablesOf", loan_id)),
            # A staged loan's book keeps stage 0's payees there; the terms list them all.
            payees=request.effective_payees() if stages else everyone,
            tranches=tranches,
            settlements=self.settlements(loan_id),
            stages=stages,
            undrawn_fen=sum(
                s.amount_fen for s in stages if disbursed_at and s.drawn_at is None and not s.lapsed
            ),
            cover=self.ledger.covers.view(loan_id, int(outstanding)).layers,
        )
