"""The loan book as the index recorded it, and what it was at any moment.

`load` reads the local event index (`ledger.supervision.index`) into memory once, as a `Book`
of loans, receivables and members with their histories; `loan_at` gives one loan as it stood
at a moment. The report's figures (`ledger.supervision.figures`) and the early-warning rules
(`ledger.supervision.alerts`) are both computed from it.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ledger.engine.loans import LOAN_STATUS

DAY = 86_400
BPS = 10_000
DEFINITIONS_FILE = Path(__file__).with_name("report_definitions.json")
LOAN_STATUSES = tuple(LOAN_STATUS[1:])  # "NONE" is no loan
LIVE = ("DISBURSED", "DEFAULTED")
# Exposure as the contract counts it against the single-borrower limit: funded tranche
# amounts of loans neither repaid nor cancelled (LoanBook.fund / _close / cancel).
EXPOSED = ("FUNDING", "FUNDED", "DISBURSED", "DEFAULTED")
OVERDUE_BUCKETS = (("1-30", 1, 30), ("31-90", 31, 90), ("90+", 91, None))
NPL_DAYS = 90
TENORS = (
    ("<=30d", 1, 30),
    ("31-90d", 31, 90),
    ("91-180d", 91, 180),
    ("181-365d", 181, 365),
    (">365d", 366, None),
)
POLICY_DEFAULTS = {
    "min_originator_share_bps": 3000,
    "max_apr_bps": 2400,
    "max_fee_share_bps": 3000,
    "max_single_borrower_bps": 1000,
    "default_days": 90,
    "max_tech_cover_bps": 2000,
    "min_lender_retention_bps": 2000,
    "claim_days": 30,
}
TOP = 10
ALL_POSITIONS = [list(range(n)) for n in range(17)]  # at most 8 tranches a loan
HISTORY_POINTS = 12
# Integer fields that name or locate something rather than measure it.
LABELS = frozenset(
    {
        "id",
        "loan",
        "tier",
        "at",
        "since_at",
        "maturity_at",
        "disbursed_at",
        "layer",
        "due_at",
        "breached_at",
        "defaulted_at",
    }
)


# --------------------------------------------------------------------------- ratios


def ratio_bps(num: int, den: int, scale: int = BPS) -> int | None:
    """`num / den` in basis points (× `scale`), rounded half up; None when `den` is 0."""
    if den == 0:
        return None
    return (2 * num * scale + den) // (2 * den)


@dataclass(frozen=True)
class Ratio:
    """An exact ratio; `scale` is BPS for a share, 1 for an average already in bps."""

    num: int
    den: int
    scale: int = BPS

    @property
    def bps(self) -> int | None:
        return ratio_bps(self.num, self.den, self.scale)

    def below(self, threshold_bps: int) -> bool:
        """Exactly `num / den < threshold` (no rounding); False when `den` is 0."""
        return self.den != 0 and self.num * self.scale < threshold_bps * self.den


def days_past(at: int, due: int) -> int:
    """Whole days past `due` at `at`, any part of a day counting as a day; 0 if not past."""
    return 0 if at <= due else -(-(at - due) // DAY)


def bucket_of(days: int, buckets: tuple[tuple[str, int, int | None], ...]) -> str | None:
    for name, low, high in buckets:
        if days >= low and (high is None or days <= high):
            return name
    return None


# --------------------------------------------------------------------------- loading


@dataclass(slots=True)
class Settled:
    at: int
    source: str
    amount: int
    fee: int
    provision: int
    interest: list[int]
    principal: list[int]
    residual: int
    tx: str


@dataclass(slots=True)
class Loan:
    id: int
    borrower: str
    originator: str
    rate_bps: int
    term_days: int
    sweep_bps: int
    tech_partner: str | None
    lenders: list[str]
    senior: list[bool]
    amounts: list[int]
    receivable_ids: list[int]
    proposed_at: int
    disbursed_at: int
    maturity_at: int
    events: list[tuple[int, str, str | None]] = field(default_factory=list)
    settlements: list[Settled] = field(default_factory=list)
    debtor_weights: dict[str, int] | None = None
    _timeline: Timeline | None = None

    def positions(self, lender: str | None) -> list[int]:
        """Indices of the tranches of `lender` (all tranches when None)."""
        if lender is None:
            return ALL_POSITIONS[len(self.amounts)]
        return [i for i, who in enumerate(self.lenders) if who == lender]

    @property
    def timeline(self) -> Timeline:
        if self._timeline is None:
            self._timeline = Timeline(self)
        return self._timeline


class Timeline:
    """A loan's history as sorted arrays, to read its state at many moments quickly."""

    def __init__(self, loan: Loan) -> None:
        self.loan = loan
        self.event_at = [at for at, _, _ in loan.events]
        self.status = [st for _, st, _ in loan.events]
        self.settled_at = [s.at for s in loan.settlements]
        paid = [0] * len(loan.amounts)
        self.paid: list[list[int]] = []
        for s in loan.settlements:
            paid = [p + x for p, x in zip(paid, s.principal, strict=True)]
            self.paid.append(paid)

    def at(self, t: int, positions: list[int]) -> tuple[str, int, int] | None:
        """(status, principal outstanding of `positions`, days past due) at `t`; None when
        the loan was not live (DISBURSED or DEFAULTED) then."""
        n = bisect.bisect_right(self.event_at, t)
        if n == 0 or self.status[n - 1] not in LIVE:
            return None
        k = bisect.bisect_right(self.settled_at, t)
        paid = self.paid[k - 1] if k else None
        amounts = self.loan.amounts
        out = sum(amounts[i] - (paid[i] if paid else 0) for i in positions)
        return self.status[n - 1], out, days_past(t, self.loan.maturity_at)


@dataclass(slots=True)
class Receivable:
    id: int
    root: int
    parent: int | None
    debtor: str
    face: int
    maturity_at: int
    doc_hash: str
    depth: int
    issued_at: int
    accepted_at: int | None
    ended_at: int | None
    ended_as: str | None
    payments: list[tuple[int, int, int | None]] = field(default_factory=list)


@dataclass(slots=True)
class Member:
    address: str
    roles: int
    admitted_at: int
    region: str = "000000"
    net_assets: list[tuple[int, int]] = field(default_factory=list)
    statuses: list[tuple[int, str, str | None]] = field(default_factory=list)
    regions: list[tuple[int, str]] = field(default_factory=list)

    def region_at(self, t: int) -> str:
        """The member's GB/T 2260 region at `t` (as admitted, then as regulators set it)."""
        value = self.region
        for at, code in self.regions:
            if at <= t:
                value = code
        return value

    def net_assets_at(self, t: int) -> int:
        value = 0
        for at, fen in self.net_assets:
            if at <= t:
                value = fen
        return value

    def status_at(self, t: int) -> tuple[str, int, str | None]:
        """(status, since, by) at `t`."""
        current: tuple[str, int, str | None] = ("ACTIVE", self.admitted_at, None)
        for at, status, actor in self.statuses:
            if at <= t:
                current = (status, at, actor)
        return current


@dataclass(slots=True)
class Claim:
    """One cover layer's claim on its provider, set when its loan defaulted (DESIGN §6.2).

    Attributes:
        loan_id, layer: the loan and the layer's index in its terms (0-based).
        provider, kind: who gives it, GUARANTEE / INSURANCE / REPURCHASE.
        owed: min(floor(D × share / 10000), cap), set at `defaulted_at`; due at `due_at`.
        paid: (at, fen) in chain order: the margin at the default, then each honour.
        reimbursed: (at, fen) in chain order: what recoveries paid back to the provider.
        breached_at: when a member marked it breached (None: never).
    """

    loan_id: int
    layer: int
    provider: str | None
    kind: str
    owed: int
    defaulted_at: int
    due_at: int
    paid: list[tuple[int, int]] = field(default_factory=list)
    reimbursed: list[tuple[int, int]] = field(default_factory=list)
    breached_at: int | None = None

    def paid_at(self, t: int) -> int:
        return sum(fen for at, fen in self.paid if at <= t)

    def reimbursed_at(self, t: int) -> int:
        return sum(fen for at, fen in self.reimbursed if at <= t)


@dataclass
class Book:
    """Everything the report reads, loaded from the index once.

    Attributes:
        loans: by id.
        receivables: by id.
        members: by address.
        pool: (at, kind, member, amount) in chain order; kind PROVISION, CONTRIBUTION, COVER,
            REIMBURSED (cover paid back to the pool by a recovery).
        policy: (at, name, old, new, actor, tx) in chain order.
        reverted_issues: mined-but-reverted `issue` transactions (rows of the index).
        block: the block the index was synced to; head_at its time.
        refused: `issue` attempts on a used document refused in this home before sending
            (`ledger.engine.attempts.read_refused`).
        claims: cover claims of defaulted loans, by loan then layer (DESIGN §6.2).
    """

    loans: dict[int, Loan]
    receivables: dict[int, Receivable]
    members: dict[str, Member]
    pool: list[tuple[int, str, str | None, int]]
    policy: list[tuple[int, str, int, int, str | None, str]]
    reverted_issues: list[dict[str, Any]]
    block: int
    head_at: int
    refused: list[dict[str, Any]] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)

    def policy_at(self, t: int) -> dict[str, int]:
        values = dict(POLICY_DEFAULTS)
        for at, name, _, new, _, _ in self.policy:
            if at <= t and name in values:
                values[name] = new
        return values


def _json_column(values: list[str]) -> list[Any]:
    """Decode many small JSON texts in one call (one C-level parse instead of thousands)."""
    return list(json.loads("[" + ",".join(values) + "]")) if values else []


def in_region(book: Book, region: str, t: int) -> Book:
    """The part of `book` inside `region` at `t`: loans whose borrower is there, receivables
    pledged to those loans or owed by a debtor there (DESIGN §6.6). Members stay all there
    (a lender elsewhere lends into the region: its net assets bound its limits)."""
    from ledger.models import covers

    def inside(address: str) -> bool:
        m = book.members.get(address)
        return m is not None and covers(region, m.region_at(t))

    loans = {i: loan for i, loan in book.loans.items() if inside(loan.borrower)}
    pledged = {rid for loan in loans.values() for rid in loan.receivable_ids}
    receivables = {i: r for i, r in book.receivables.items() if i in pledged or inside(r.debtor)}
    return replace(book, loans=loans, receivables=receivables)


def load(db: sqlite3.Connection, block: int = 0, head_at: int = 0) -> Book:
    """Read the index tables into a `Book` (one query per table)."""
    factory = db.row_factory
    db.row_factory = None
    try:
        return _load(db, block, head_at)
    finally:
        db.row_factory = factory


def _load(db: sqlite3.Connection, block: int, head_at: int) -> Book:
    rows = db.execute(
        "SELECT id, borrower, originator, rate_bps, term_days, sweep_bps, tech_partner,"
        " tranches_json, receivable_ids_json, proposed_at, disbursed_at, maturity_at FROM loans"
    ).fetchall()
    all_tranches = _json_column([r[7] for r in rows])
    all_rids = _json_column([r[8] for r in rows])
    loans: dict[int, Loan] = {}
    for r, tranches, rids in zip(rows, all_tranches, all_rids, strict=True):
        loans[r[0]] = Loan(
            id=r[0],
            borrower=r[1],
            originator=r[2],
            rate_bps=r[3],
            term_days=r[4],
            sweep_bps=r[5],
            tech_partner=r[6],
            lenders=[t[0] for t in tranches],
            senior=[bool(t[1]) for t in tranches],
            amounts=[int(t[2]) for t in tranches],
            receivable_ids=rids,
            proposed_at=r[9],
            disbursed_at=r[10],
            maturity_at=r[11],
        )
    for loan_id, at, status, lender in db.execute(
        "SELECT loan_id, at, status, lender FROM loan_events ORDER BY block, log_index"
    ):
        loans[loan_id].events.append((at, status, lender))
    rows = db.execute(
        "SELECT loan_id, at, source, amount_fen, fee_fen, provision_fen, interest_json,"
        " principal_json, residual_fen, tx FROM settlements ORDER BY block, log_index"
    ).fetchall()
    interest = _json_column([r[6] for r in rows])
    principal = _json_column([r[7] for r in rows])
    for row, i, p in zip(rows, interest, principal, strict=True):
        loans[row[0]].settlements.append(
            Settled(
                row[1], row[2], int(row[3]), int(row[4]), int(row[5]), i, p, int(row[8]), row[9]
            )
        )
    receivables = {
        r[0]: Receivable(
            r[0],
            r[1],
            r[2],
            r[3],
            int(r[4]),
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            r[10],
            r[11] if r[10] is not None else None,
        )
        for r in db.execute(
            "SELECT id, root, parent, debtor, face_value_fen, maturity_at, doc_hash, depth,"
            " issued_at, accepted_at, ended_at, status FROM receivables"
        )
    }
    for rid, at, amount, loan_id in db.execute(
        "SELECT id, at, amount_fen, loan_id FROM receivable_payments ORDER BY block, log_index"
    ):
        receivables[rid].payments.append((at, int(amount), loan_id))
    members: dict[str, Member] = {}
    for address, roles, admitted_at, region in db.execute(
        "SELECT address, roles, admitted_at, region FROM members"
    ):
        members[address] = Member(address, roles, admitted_at, region)
    for at, address, kind, value, actor in db.execute(
        "SELECT at, address, kind, value, actor FROM member_events ORDER BY block, log_index"
    ):
        m = members.get(address)
        if m is None:
            continue
        if kind in ("ADMITTED", "NET_ASSETS"):
            m.net_assets.append((at, int(value)))
        elif kind in ("SUSPENDED", "REINSTATED"):
            m.statuses.append((at, "SUSPENDED" if kind == "SUSPENDED" else "ACTIVE", actor))
        elif kind == "REGION":
            m.regions.append((at, str(value)))
    pool = [
        (at, kind, member, int(amount))
        for at, kind, member, amount in db.execute(
            "SELECT at, kind, member, amount_fen FROM pool ORDER BY block, log_index"
        )
    ]
    policy = [
        (at, name, int(old), int(new), actor, tx)
        for at, name, old, new, actor, tx in db.execute(
            "SELECT at, name, old_value, new_value, actor, tx FROM policy_events"
            " ORDER BY block, log_index"
        )
    ]
    columns = ("tx", "block", "at", "sender", "supplier", "value_fen", "maturity_at", "doc_hash")
    reverted = [
        dict(zip(columns, r, strict=True))
        for r in db.execute(f"SELECT {', '.join(columns)} FROM reverted_issues ORDER BY block")
    ]
    book = Book(loans, receivables, members, pool, policy, reverted, block, head_at)
    book.claims = _claims(db)
    return book


def _claims(db: sqlite3.Connection) -> list[Claim]:
    """The cover claims: one per layer of each defaulted loan with layers (its OWED row),
    then its payments, reimbursements and breach. Only those loans' terms are decoded, for
    the layers' kinds."""
    from ledger.engine.loans import decode_terms

    claims: dict[tuple[int, int], Claim] = {}
    rows = db.execute(
        "SELECT loan_id, layer, provider, kind, amount_fen, at, due_at FROM cover_events"
        " ORDER BY block, log_index, kind != 'OWED', layer"
    ).fetchall()
    kinds: dict[int, list[str]] = {}
    for loan_id in dict.fromkeys(r[0] for r in rows if r[3] == "OWED"):
        terms = db.execute("SELECT terms FROM loans WHERE id = ?", (loan_id,)).fetchone()
        kinds[loan_id] = [c.kind for c in decode_terms(bytes(terms[0])).covers] if terms else []
    for loan_id, layer, provider, kind, amount, at, due_at in rows:
        key = (loan_id, layer)
        if kind == "OWED":
            names = kinds.get(loan_id, [])
            claims[key] = Claim(
                loan_id,
                layer,
                provider,
                names[layer] if layer < len(names) else "",
                int(amount),
                at,
                int(due_at),
            )
            continue
        claim = claims.get(key)
        if claim is None:
            continue
        if kind == "PAID":
            claim.paid.append((at, int(amount)))
        elif kind == "REIMBURSED":
            claim.reimbursed.append((at, int(amount)))
        elif kind == "BREACHED" and claim.breached_at is None:
            claim.breached_at = at
    return sorted(claims.values(), key=lambda c: (c.loan_id, c.layer))


# --------------------------------------------------------------------------- loans at a time


@dataclass(slots=True)
class LoanAt:
    """One loan as it stood at a moment.

    Attributes:
        status: the loan status then.
        disbursed: whether it had been disbursed by then.
        outstanding: per tranche, principal unpaid (0 for a loan not disbursed).
        funded: per tranche, whether its lender had funded it.
        interest, principal_paid, cover: per tranche, sums of settlements up to then.
        days_past_due: whole days past maturity when live and past it, else 0.
        closed_at: when it was repaid or cancelled, if it was by then.
        tenor, bucket: its tenor bucket, and its overdue bucket if overdue.
        npl: whether it was non-performing (`is_npl`).
    """

    loan: Loan
    status: str
    disbursed: bool
    outstanding: list[int]
    funded: list[bool]
    interest: list[int]
    principal_paid: list[int]
    cover: list[int]
    fee: int
    provision: int
    collected_principal: int
    receipts: int
    days_past_due: int
    accepted_at: int | None
    closed_at: int | None
    tenor: str | None = None
    bucket: str | None = None
    npl: bool = False


def loan_at(loan: Loan, t: int) -> LoanAt | None:
    """The loan at `t`, from its event and settlement history; None if not yet proposed."""
    if loan.proposed_at > t:
        return None
    n = len(loan.amounts)
    status = "PROPOSED"
    funded = [False] * n
    accepted_at = closed_at = None
    for at, st, lender in loan.events:
        if at > t:
            break
        status = st
        if st == "ACCEPTED":
            accepted_at = at
        elif st in ("FUNDING", "FUNDED"):
            funded = [f or lender == who for f, who in zip(funded, loan.lenders, strict=True)]
        elif st in ("REPAID", "CANCELLED"):
            closed_at = at
    disbursed = 0 < loan.disbursed_at <= t and status in ("DISBURSED", "REPAID", "DEFAULTED")
    interest = [0] * n
    paid = [0] * n
    cover = [0] * n
    fee = provision = receipts = 0
    for s in loan.settlements:
        if s.at > t:
            break
        for i in range(n):
            interest[i] += s.interest[i]
            paid[i] += s.principal[i]
            if s.source == "COVER":
                cover[i] += s.principal[i]
        fee += s.fee
        provision += s.provision
        if s.source != "COVER":
            receipts += s.amount
    outstanding = [a - p for a, p in zip(loan.amounts, paid, strict=True)] if disbursed else [0] * n
    dpd = days_past(t, loan.maturity_at) if disbursed and status in LIVE else 0
    la = LoanAt(
        loan=loan,
        status=status,
        disbursed=disbursed,
        outstanding=outstanding,
        funded=funded,
        interest=interest,
        principal_paid=paid,
        cover=cover,
        fee=fee,
        provision=provision,
        collected_principal=sum(paid) - sum(cover),
        receipts=receipts,
        days_past_due=dpd,
        accepted_at=accepted_at,
        closed_at=closed_at,
        tenor=bucket_of(loan.term_days, TENORS),
        bucket=bucket_of(dpd, OVERDUE_BUCKETS) if dpd else None,
    )
    la.npl = is_npl(la)
    return la


def is_npl(la: LoanAt) -> bool:
    """Non-performing: defaulted, or live and more than 90 days past maturity."""
    return la.status == "DEFAULTED" or (la.status in LIVE and la.days_past_due > NPL_DAYS)


def pledged_at(la: LoanAt, t: int) -> bool:
    """The loan's receivables were pledged to it at `t`: accepted, not yet repaid or
    cancelled (a defaulted loan keeps them)."""
    return la.accepted_at is not None and la.accepted_at <= t and la.closed_at is None


def debtor_shares(loan: Loan, receivables: dict[int, Receivable]) -> dict[str, int]:
    """Each debtor's weight in the loan's collateral: the unpaid value, at disbursement,
    of the pledged receivables it owes (computed once per loan)."""
    if loan.debtor_weights is None:
        weights: dict[str, int] = {}
        cut = loan.disbursed_at or loan.proposed_at
        for rid in loan.receivable_ids:
            r = receivables.get(rid)
            if r is None:
                continue
            unpaid = r.face - sum(amount for at, amount, _ in r.payments if at < cut)
            weights[r.debtor] = weights.get(r.debtor, 0) + max(unpaid, 0)
        loan.debtor_weights = weights
    return loan.debtor_weights


def split_by(amount: int, weights: dict[str, int]) -> dict[str, int]:
    """`amount` split over `weights` exactly (largest remainder, ties to the first key)."""
    from ledger.reference.waterfall import split_pro_rata

    keys = [k for k, w in weights.items() if w]
    if len(keys) == 1:
        return {keys[0]: amount}
    if not keys:
        return {}
    parts = split_pro_rata(amount, [weights[k] for k in keys])
    return dict(zip(keys, parts, strict=True))
