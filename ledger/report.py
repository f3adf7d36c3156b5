"""The supervision report (穿透式监管): the loan book, the provision pool, concentration,
pricing and receivables, for the whole ledger and per lender, as of any moment.

Everything is computed from the local event index (`ledger.index`), which is built from
chain logs alone, so anyone with chain access gets the same numbers. `load` reads the
index into memory once (a `Book`); `Report` computes every figure at `as_of` (unix seconds,
the chain's clock) from that history, so a past date gives the figures as they were then;
`document` is the JSON `liandai report --json` prints, `ledger.report_html` its page.

Every figure in the result carries the key of its definition in
`ledger/report_definitions.json`: an amount or a count is ``{"def": key, "value": int}``;
a ratio is ``{"def": key, "bps": int | None, "fraction": "num/den" | None}`` with the
basis points rounded half up (`ratio_bps`). Money is integer fen throughout.
"""

from __future__ import annotations

import bisect
import functools
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.loans import LOAN_STATUS

if TYPE_CHECKING:
    from ledger.client import Ledger

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
}
TOP = 10
ALL_POSITIONS = [list(range(n)) for n in range(17)]  # at most 8 tranches a loan
HISTORY_POINTS = 12
# Integer fields that name or locate something rather than measure it.
LABELS = frozenset({"id", "loan", "tier", "at", "since_at", "maturity_at", "disbursed_at"})


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


@dataclass
class Book:
    """Everything the report reads, loaded from the index once.

    Attributes:
        loans: by id.
        receivables: by id.
        members: by address.
        pool: (at, kind, member, amount) in chain order; kind PROVISION, CONTRIBUTION, COVER.
        policy: (at, name, old, new, actor, tx) in chain order.
        reverted_issues: mined-but-reverted `issue` transactions (rows of the index).
        block: the block the index was synced to; head_at its time.
        refused: `issue` attempts on a used document refused in this home before sending
            (`ledger.alerts.read_refused`).
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

    def policy_at(self, t: int) -> dict[str, int]:
        values = dict(POLICY_DEFAULTS)
        for at, name, _, new, _, _ in self.policy:
            if at <= t and name in values:
                values[name] = new
        return values


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


def _json_column(values: list[str]) -> list[Any]:
    """Decode many small JSON texts in one call (one C-level parse instead of thousands)."""
    return list(json.loads("[" + ",".join(values) + "]")) if values else []


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
    return Book(loans, receivables, members, pool, policy, reverted, block, head_at)


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
    from ledger.waterfall import split_pro_rata

    keys = [k for k, w in weights.items() if w]
    if len(keys) == 1:
        return {keys[0]: amount}
    if not keys:
        return {}
    parts = split_pro_rata(amount, [weights[k] for k in keys])
    return dict(zip(keys, parts, strict=True))


# --------------------------------------------------------------------------- figures


class Scope:
    """Sums of one scope: the whole ledger (`lender` None) or one lender's tranches."""

    def __init__(self, lender: str | None) -> None:
        self.lender = lender
        self.count = 0
        self.principal = 0
        self.outstanding = 0
        self.by_status = {s: [0, 0, 0] for s in LOAN_STATUSES}
        self.overdue = {b: [0, 0] for b, _, _ in OVERDUE_BUCKETS}
        self.npl = 0
        self.loss = 0
        self.cover = 0
        self.borrowers: dict[str, int] = {}
        self.limit_exposure: dict[str, int] = {}
        self.debtors: dict[str, int] = {}
        self.tenors = {name: [0, 0, 0] for name, _, _ in TENORS}
        self.fees: dict[str, int] = {}
        self.interest_to: dict[str, list[int]] = {}
        self.interest_from: dict[str, int] = {}
        self.provisions = 0
        self.loans: list[LoanAt] = []

    def add(self, la: LoanAt, receivables: dict[int, Receivable]) -> None:
        loan = la.loan
        mine = loan.positions(self.lender)
        if not mine:
            return
        self.loans.append(la)
        amount = sum(loan.amounts[i] for i in mine)
        out = sum(la.outstanding[i] for i in mine)
        self.count += 1
        row = self.by_status[la.status]
        row[0] += 1
        row[1] += amount
        row[2] += out
        if la.disbursed:
            self.principal += amount
            self.outstanding += out
            if la.tenor is not None:
                t = self.tenors[la.tenor]
                t[0] += 1
                t[1] += amount
                t[2] += amount * loan.rate_bps
        if la.bucket is not None:
            self.overdue[la.bucket][0] += 1
            self.overdue[la.bucket][1] += out
        if la.npl:
            self.npl += out
        if la.status == "DEFAULTED":
            self.loss += out
        self.cover += sum(la.cover[i] for i in mine)
        if out:
            self.borrowers[loan.borrower] = self.borrowers.get(loan.borrower, 0) + out
            for debtor, part in split_by(out, debtor_shares(loan, receivables)).items():
                self.debtors[debtor] = self.debtors.get(debtor, 0) + part
        if la.status in EXPOSED:
            exposed = sum(loan.amounts[i] for i in mine if la.funded[i])
            if exposed:
                key = loan.borrower
                self.limit_exposure[key] = self.limit_exposure.get(key, 0) + exposed
        if la.fee and loan.tech_partner:
            self.fees[loan.tech_partner] = self.fees.get(loan.tech_partner, 0) + la.fee
        self.provisions += la.provision
        interest_in_scope = 0
        for i in mine:
            got = self.interest_to.setdefault(loan.lenders[i], [0, 0])
            got[0] += la.interest[i]
            got[1] += la.principal_paid[i]
            interest_in_scope += la.interest[i]
        taken = (
            la.fee + la.provision + sum(la.interest) if self.lender is None else interest_in_scope
        )
        if taken:
            self.interest_from[loan.borrower] = self.interest_from.get(loan.borrower, 0) + taken


def _ranked(values: dict[str, int], top: int | None = TOP) -> list[tuple[str, int]]:
    ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked if top is None else ranked[:top]


@dataclass(frozen=True)
class Options:
    """What to report.

    Attributes:
        as_of: unix seconds (the chain's clock).
        lender: report this lender only (its address).
        region: a GB/T 2260 code; every figure looks through to the loans whose borrower
            is in that region (穿透), and the receivables pledged to them or owed by a debtor
            there; members are those of the region; the pool stays the ledger's one pool.
        loan: the loan whose waterfall is charted (default: the one with most receipts).
        coverage_threshold_bps: provision coverage below this raises an alert (150%).
        exposure_warning_bps: a lender's exposure to one borrower above this share of its
            limit raises an alert (80%).
        history_points: points of the book-over-time series.
    """

    as_of: int
    lender: str | None = None
    region: str | None = None
    loan: int | None = None
    coverage_threshold_bps: int = 15_000
    exposure_warning_bps: int = 8_000
    history_points: int = HISTORY_POINTS


class Report:
    """Figures of a `Book` at one moment, ready to be written as JSON, HTML or tables."""

    def __init__(
        self,
        book: Book,
        options: Options,
        name_of: Callable[[str], str | None] = lambda a: None,
    ) -> None:
        self.options = options
        self.t = options.as_of
        self.book = book if options.region is None else in_region(book, options.region, self.t)
        self.name_of = name_of
        self.loans_at = [
            la
            for la in (loan_at(loan, self.t) for loan in self.book.loans.values())
            if la is not None
        ]
        self.ledger = Scope(None)
        self.lenders: dict[str, Scope] = {}
        for address in self._lender_addresses():
            self.lenders[address] = Scope(address)
        for la in self.loans_at:
            self.ledger.add(la, self.book.receivables)
            for lender in dict.fromkeys(la.loan.lenders):
                if lender in self.lenders:
                    self.lenders[lender].add(la, self.book.receivables)

    def _lender_addresses(self) -> list[str]:
        from ledger.models import covers
        from ledger.roles import Role

        region = self.options.region
        found: dict[str, None] = {}
        for m in self.book.members.values():
            in_scope = region is None or covers(region, m.region_at(self.t))
            if m.roles & Role.LENDER and m.admitted_at <= self.t and in_scope:
                found[m.address] = None
        for loan in self.book.loans.values():
            if loan.proposed_at <= self.t:
                for lender in loan.lenders:
                    found[lender] = None
        if self.options.lender is not None:
            return [self.options.lender]
        return sorted(found)

    # -- helpers -----------------------------------------------------------------------------

    def party(self, address: str | None) -> dict[str, Any]:
        return {"address": address, "name": self.name_of(address) if address else None}

    def net_assets(self, address: str) -> int:
        m = self.book.members.get(address)
        return m.net_assets_at(self.t) if m is not None else 0

    # -- sections ----------------------------------------------------------------------------

    def loan_book(self, s: Scope) -> dict[str, Any]:
        return {
            "count": s.count,
            "principal_fen": s.principal,
            "outstanding_fen": s.outstanding,
            "by_status": [
                {"status": st, "count": c, "principal_fen": p, "outstanding_fen": o}
                for st, (c, p, o) in s.by_status.items()
            ],
            "overdue": [
                {"bucket": b, "count": c, "outstanding_fen": o} for b, (c, o) in s.overdue.items()
            ],
            "npl_fen": s.npl,
            "npl_ratio": Ratio(s.npl, s.outstanding),
            "loss_after_cover_fen": s.loss,
            "cover_received_fen": s.cover,
        }

    def pool(self) -> dict[str, Any]:
        totals = {"PROVISION": 0, "CONTRIBUTION": 0, "COVER": 0}
        by_member: dict[str, int] = {}
        for at, kind, member, amount in self.book.pool:
            if at > self.t:
                break
            totals[kind] += amount
            if kind == "CONTRIBUTION" and member:
                by_member[member] = by_member.get(member, 0) + amount
        balance = totals["PROVISION"] + totals["CONTRIBUTION"] - totals["COVER"]
        return {
            "balance_fen": balance,
            "provisions_fen": totals["PROVISION"],
            "contributions_fen": totals["CONTRIBUTION"],
            "contributions": [
                {"member": self.party(m), "amount_fen": v} for m, v in _ranked(by_member, None)
            ],
            "cover_paid_fen": totals["COVER"],
            "coverage_ratio": Ratio(balance, self.ledger.npl),
        }

    def concentration(self, s: Scope) -> dict[str, Any]:
        policy = self.book.policy_at(self.t)
        net = self.net_assets(s.lender) if s.lender else None
        borrowers = []
        for borrower, exposure in _ranked(s.borrowers):
            entry: dict[str, Any] = {
                "borrower": self.party(borrower),
                "exposure_fen": exposure,
                "share_of_book": Ratio(exposure, s.outstanding),
            }
            if s.lender is not None and net is not None:
                limit = net * policy["max_single_borrower_bps"] // BPS
                used = s.limit_exposure.get(borrower, 0)
                entry.update(
                    share_of_net_assets=Ratio(exposure, net),
                    limit_exposure_fen=used,
                    limit_fen=limit,
                    limit_used=Ratio(used, limit),
                )
            borrowers.append(entry)
        receivable_debt = self._receivables_outstanding_by_debtor
        debtors = []
        for debtor, exposure in _ranked(s.debtors):
            entry = {
                "debtor": self.party(debtor),
                "exposure_fen": exposure,
                "share_of_book": Ratio(exposure, s.outstanding),
                "receivables_outstanding_fen": receivable_debt.get(debtor, 0),
            }
            if net is not None:
                entry["share_of_net_assets"] = Ratio(exposure, net)
            debtors.append(entry)
        top = sum(e for _, e in _ranked(s.borrowers))
        out: dict[str, Any] = {
            "borrower_count": len(s.borrowers),
            "top_borrowers_share_of_book": Ratio(top, s.outstanding),
            "borrowers": borrowers,
            "debtors": debtors,
        }
        if s.lender is None:
            funded_total = sum(lender.principal for lender in self.lenders.values())
            out["funding"] = [
                {
                    "lender": self.party(address),
                    "funded_fen": scope.principal,
                    "share_of_funded": Ratio(scope.principal, funded_total),
                    "outstanding_fen": scope.outstanding,
                    "share_of_book": Ratio(scope.outstanding, s.outstanding),
                    "net_assets_fen": self.net_assets(address),
                }
                for address, scope in sorted(
                    self.lenders.items(), key=lambda kv: (-kv[1].principal, kv[0])
                )
            ]
        else:
            out["net_assets_fen"] = net or 0
            out["share_of_ledger_book"] = Ratio(s.outstanding, self.ledger.outstanding)
        return out

    def pricing(self, s: Scope) -> dict[str, Any]:
        weighted = sum(t[2] for t in s.tenors.values())
        principal = sum(t[1] for t in s.tenors.values())
        return {
            "tenors": [
                {
                    "tenor": name,
                    "count": c,
                    "principal_fen": p,
                    "average_rate": Ratio(w, p, 1),
                }
                for name, (c, p, w) in s.tenors.items()
            ],
            "average_rate": Ratio(weighted, principal, 1),
            "fees_fen": sum(s.fees.values()),
            "provisions_fen": s.provisions,
            "interest_fen": sum(v[0] for v in s.interest_to.values()),
            "fees_by_tech_partner": [
                {"party": self.party(p), "fee_fen": v} for p, v in _ranked(s.fees, None)
            ],
            "interest_by_lender": [
                {"party": self.party(p), "interest_fen": v[0], "principal_fen": v[1]}
                for p, v in sorted(s.interest_to.items(), key=lambda kv: (-kv[1][0], kv[0]))
            ],
            "interest_by_borrower": [
                {"party": self.party(p), "interest_fen": v} for p, v in _ranked(s.interest_from)
            ],
        }

    @functools.cached_property
    def _paid(self) -> dict[int, int]:
        """Each receivable's payments up to t (only those with payments)."""
        t = self.t
        return {
            r.id: sum(amount for at, amount, _ in r.payments if at <= t)
            for r in self.book.receivables.values()
            if r.payments
        }

    @functools.cached_property
    def outstanding_receivables(self) -> list[tuple[Receivable, int]]:
        """Receivables outstanding at t — issued, accepted, not split, rejected or cancelled,
        value unpaid — with their unpaid value then."""
        paid, t = self._paid, self.t
        out = []
        for r in self.book.receivables.values():
            if r.accepted_at is None or r.accepted_at > t or r.issued_at > t:
                continue
            if r.ended_at is not None and r.ended_at <= t:
                continue
            unpaid = r.face - paid.get(r.id, 0)
            if unpaid > 0:
                out.append((r, unpaid))
        return out

    @functools.cached_property
    def _receivables_outstanding_by_debtor(self) -> dict[str, int]:
        debt: dict[str, int] = {}
        for r, unpaid in self.outstanding_receivables:
            debt[r.debtor] = debt.get(r.debtor, 0) + unpaid
        return debt

    def receivables(self, s: Scope) -> dict[str, Any]:
        t = self.t
        if s.lender is None:
            tokens = [r for r in self.book.receivables.values() if r.issued_at <= t]
        else:
            ids: dict[int, None] = {}
            for la in s.loans:
                if pledged_at(la, t):
                    ids.update(dict.fromkeys(la.loan.receivable_ids))
            tokens = [self.book.receivables[i] for i in ids if i in self.book.receivables]
        issued = issued_count = pending_count = pending = refused = 0
        by_debtor: dict[str, list[int]] = {}
        tiers: dict[int, list[int]] = {}
        totals = [0, 0, 0, 0, 0, 0]  # on time, late, overdue count, overdue, not due, live count
        outstanding = 0
        splits = 0
        max_tier = 0
        paid = self._paid
        for r in tokens:
            d = by_debtor.get(r.debtor)
            if d is None:
                d = by_debtor[r.debtor] = [0, 0, 0, 0, 0, 0]
            ended = r.ended_at is not None and r.ended_at <= t
            accepted = r.accepted_at is not None and r.accepted_at <= t
            if r.parent is None or s.lender is not None:  # an issue (a lender: a pledge)
                d[0] += r.face
                issued += r.face
                issued_count += 1
                if not accepted and not ended:
                    pending_count += 1
                    pending += r.face
                elif ended and r.ended_as in ("REJECTED", "CANCELLED"):
                    refused += 1
            if r.id in paid:
                for at, amount, _ in r.payments:
                    if at > t:
                        break
                    slot = 1 if at <= r.maturity_at else 2
                    d[slot] += amount
                    totals[slot - 1] += amount
            if ended:
                splits += r.ended_as == "SPLIT"
                continue
            if not accepted:
                continue
            max_tier = max(max_tier, r.depth + 1)
            unpaid = r.face - paid.get(r.id, 0)
            if unpaid <= 0:
                continue
            outstanding += unpaid
            totals[5] += 1
            tier = tiers.setdefault(r.depth + 1, [0, 0])
            tier[0] += 1
            tier[1] += unpaid
            if t > r.maturity_at:
                d[3] += 1
                d[4] += unpaid
                totals[2] += 1
                totals[3] += unpaid
            else:
                d[5] += unpaid
                totals[4] += unpaid
        return {
            "issued_count": issued_count,
            "issued_fen": issued,
            "pending_count": pending_count,
            "pending_fen": pending,
            "rejected_or_cancelled_count": refused,
            "outstanding_count": totals[5],
            "outstanding_fen": outstanding,
            "splits": splits,
            "max_tier": max_tier,
            "tiers": [
                {"tier": tier, "count": c, "outstanding_fen": o}
                for tier, (c, o) in sorted(tiers.items())
            ],
            "paid_on_time_fen": totals[0],
            "paid_late_fen": totals[1],
            "overdue_count": totals[2],
            "overdue_fen": totals[3],
            "not_due_fen": totals[4],
            "by_debtor": [
                {
                    "debtor": self.party(debtor),
                    "issued_fen": v[0],
                    "paid_on_time_fen": v[1],
                    "paid_late_fen": v[2],
                    "overdue_count": v[3],
                    "overdue_fen": v[4],
                    "not_due_fen": v[5],
                }
                for debtor, v in sorted(by_debtor.items(), key=lambda kv: (-kv[1][0], kv[0]))
            ],
        }

    def history(self, s: Scope) -> dict[str, Any]:
        """Outstanding principal by book status at evenly spaced moments up to as-of."""
        first = min((la.loan.proposed_at for la in s.loans), default=self.t)
        span = max(0, -(-(self.t - first) // DAY))
        n = max(2, self.options.history_points)
        step = max(1, -(-span // (n - 1)))
        moments = sorted({self.t - k * step * DAY for k in range(n)})
        keys = ("current_fen", "overdue_1_30_fen", "overdue_31_90_fen", "overdue_90_plus_fen")
        names = [b for b, _, _ in OVERDUE_BUCKETS]
        rows = [dict.fromkeys((*keys, "defaulted_fen", "loans_count"), 0) for _ in moments]
        for la in s.loans:
            if not la.disbursed:
                continue
            # only the moments inside the loan's life: from disbursement to repayment
            lo = bisect.bisect_left(moments, la.loan.disbursed_at)
            hi = len(moments) if la.closed_at is None else bisect.bisect_left(moments, la.closed_at)
            if lo >= hi:
                continue
            timeline, mine = la.loan.timeline, la.loan.positions(s.lender)
            for k in range(lo, hi):
                state = timeline.at(moments[k], mine)
                if state is None:
                    continue
                status, out, dpd = state
                row = rows[k]
                row["loans_count"] += 1
                if status == "DEFAULTED":
                    row["defaulted_fen"] += out
                elif dpd == 0:
                    row["current_fen"] += out
                else:
                    row[keys[1 + names.index(str(bucket_of(dpd, OVERDUE_BUCKETS)))]] += out
        points = [{"at": m, **row} for m, row in zip(moments, rows, strict=True)]
        return {"step_days": step, "points": points}

    def members(self) -> dict[str, Any]:
        policy = self.book.policy_at(self.t)
        suspended = []
        for m in self.book.members.values():
            if m.admitted_at > self.t:
                continue
            status, since, by = m.status_at(self.t)
            if status == "SUSPENDED":
                suspended.append(
                    {"member": self.party(m.address), "since_at": since, "by": self.party(by)}
                )
        return {
            "policy": dict(policy),
            "policy_changes": [
                {
                    "name": name,
                    "old": old,
                    "new": new,
                    "at": at,
                    "by": self.party(actor),
                    "tx": tx,
                }
                for at, name, old, new, actor, tx in self.book.policy
                if at <= self.t
            ],
            "member_count": sum(1 for m in self.book.members.values() if m.admitted_at <= self.t),
            "suspended": suspended,
        }

    def waterfall(self) -> dict[str, Any] | None:
        """Where each receipt of the chosen loan went, up to as-of."""
        chosen: LoanAt | None = None
        if self.options.loan is not None:
            chosen = next((la for la in self.loans_at if la.loan.id == self.options.loan), None)
        else:
            scope = self.lenders.get(self.options.lender) if self.options.lender else self.ledger
            candidates = [la for la in (scope.loans if scope else []) if la.loan.settlements]
            if candidates:
                chosen = max(
                    candidates,
                    key=lambda la: (
                        sum(1 for x in la.loan.settlements if x.at <= self.t),
                        la.loan.id,
                    ),
                )
        if chosen is None:
            return None
        loan = chosen.loan
        receipts = [x for x in loan.settlements if x.at <= self.t]
        tranches = [
            {
                "lender": self.party(lender),
                "class": "senior" if senior else "junior",
                "amount_fen": amount,
            }
            for lender, senior, amount in zip(loan.lenders, loan.senior, loan.amounts, strict=True)
        ]
        return {
            "loan": loan.id,
            "status": chosen.status,
            "borrower": self.party(loan.borrower),
            "tranches": tranches,
            "receipts": [
                {
                    "at": x.at,
                    "source": x.source,
                    "amount_fen": x.amount,
                    "fee_fen": x.fee,
                    "provision_fen": x.provision,
                    "interest_fen": list(x.interest),
                    "principal_fen": list(x.principal),
                    "residual_fen": x.residual,
                    "tx": x.tx,
                }
                for x in receipts
            ],
            "total": {
                "amount_fen": sum(x.amount for x in receipts),
                "fee_fen": sum(x.fee for x in receipts),
                "provision_fen": sum(x.provision for x in receipts),
                "interest_fen": [
                    sum(x.interest[i] for x in receipts) for i in range(len(tranches))
                ],
                "principal_fen": [
                    sum(x.principal[i] for x in receipts) for i in range(len(tranches))
                ],
                "residual_fen": sum(x.residual for x in receipts),
            },
        }

    # -- the whole -----------------------------------------------------------------------------

    def scope(self, s: Scope, *, history: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "loan_book": self.loan_book(s),
            "concentration": self.concentration(s),
            "pricing": self.pricing(s),
            "receivables": self.receivables(s),
        }
        if s.lender is None:
            out["pool"] = self.pool()
            out["supervision"] = self.members()
        if history:
            out["history"] = self.history(s)
        return out

    def figures(self) -> dict[str, Any]:
        """Every section with every figure annotated by its definition key.

        Definition keys are shared by the scopes: `loan_book.npl_ratio` is the same figure
        for the whole ledger and for each lender (computed over the lender's tranches).
        """
        from ledger.alerts import evaluate

        lender = self.options.lender
        out: dict[str, Any] = {}
        if lender is None:
            out["ledger"] = annotate(self.scope(self.ledger, history=True), "")
        out["lenders"] = [
            {
                "lender": self.party(address),
                **annotate(self.scope(s, history=lender is not None), ""),
            }
            for address, s in self.lenders.items()
        ]
        out["waterfall"] = annotate(self.waterfall(), "waterfall")
        out["alerts"] = [a.as_json() for a in evaluate(self)]
        return out


def annotate(value: Any, path: str) -> Any:
    """Turn every figure into `{"def": key, ...}`; the key is its path without list indices."""
    if isinstance(value, Ratio):
        return {
            "def": path,
            "bps": value.bps,
            "fraction": None if value.den == 0 else f"{value.num}/{value.den}",
        }
    if isinstance(value, dict):
        return {
            k: annotate(v, f"{path}.{k}" if path else k)
            if k not in ("address", "name", "tx", "status", "bucket", "tenor", "source", "class")
            else v
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [annotate(v, path) for v in value]
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if path.rsplit(".", 1)[-1] in LABELS:
        return value
    return {"def": path, "value": value}


def figure_keys(value: Any) -> Iterable[str]:
    """Every definition key used in an annotated report."""
    if isinstance(value, dict):
        if "def" in value:
            yield str(value["def"])
        for v in value.values():
            yield from figure_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from figure_keys(v)


@functools.cache
def definitions() -> dict[str, Any]:
    """The definitions file: every figure and alert rule, written once."""
    data: dict[str, Any] = json.loads(DEFINITIONS_FILE.read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- entry points


def book_of(ledger: Ledger, *, scan: bool = True) -> Book:
    """Sync the index with the chain and load it (with this home's refused attempts)."""
    from ledger.alerts import read_refused
    from ledger.index import Index

    index = Index(ledger)
    try:
        head = index.sync()
        if scan:
            index.scan_attempts(head)
        head_at = int(ledger.chain.w3.eth.get_block(head)["timestamp"])
        book = load(index.db, head, head_at)
    finally:
        index.close()
    book.refused = read_refused(ledger.home, ledger.chain.network, ledger.chain.chain_id)
    return book


def local_names(ledger: Ledger) -> Callable[[str], str | None]:
    """Local account names (labels only: the figures never depend on them). Addresses in
    the index are checksummed already, so this is a dictionary look-up."""
    names = dict(ledger.keyring.names_by_address())
    names.update({a: f"contract {n}" for n, a in ledger.deployment.contracts.items()})

    def name_of(address: str) -> str | None:
        return names.get(address)

    return name_of


def document(report: Report, *, network: str) -> dict[str, Any]:
    """The whole report as JSON: when and where it was read, then every figure."""
    from ledger.money import format_time

    o = report.options
    return {
        "as_of_at": o.as_of,
        "as_of": format_time(o.as_of),
        "block": report.book.block,
        "chain_time_at": report.book.head_at,
        "provisional": o.as_of > report.book.head_at,
        "network": network,
        "lender": report.party(o.lender) if o.lender else None,
        "region": o.region,
        "loan_ids": sorted(la.loan.id for la in report.loans_at),
        "thresholds": {
            "coverage_threshold_bps": o.coverage_threshold_bps,
            "exposure_warning_bps": o.exposure_warning_bps,
        },
        "definitions": f"ledger/{DEFINITIONS_FILE.name}",
        **report.figures(),
    }
