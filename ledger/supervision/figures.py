"""The supervision report (穿透式监管): the loan book, the provision pool, concentration,
pricing and receivables, for the whole ledger and per lender, as of any moment.

Everything is computed from the local event index (`ledger.supervision.index`), which is built from
chain logs alone, so anyone with chain access gets the same numbers. The index is read into memory
once (a `Book`, `ledger.supervision.book`); `Report` computes every figure at `as_of` (unix seconds,
the chain's clock) from that history, so a past date gives the figures as they were then;
`document` is the JSON `liandai report --json` prints, `ledger.supervision.html` its page.

Every figure in the result carries the key of its definition in
`ledger/report_definitions.json`: an amount or a count is ``{"def": key, "value": int}``;
a ratio is ``{"def": key, "bps": int | None, "fraction": "num/den" | None}`` with the
basis points rounded half up (`ratio_bps`). Money is integer fen throughout.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.supervision.book import (
    BPS,
    DAY,
    DEFINITIONS_FILE,
    EXPOSED,
    HISTORY_POINTS,
    LABELS,
    LOAN_STATUSES,
    OVERDUE_BUCKETS,
    TENORS,
    TOP,
    Book,
    Claim,
    LoanAt,
    Ratio,
    Receivable,
    bucket_of,
    debtor_shares,
    in_region,
    load,
    loan_at,
    pledged_at,
    split_by,
)

if TYPE_CHECKING:
    from ledger.engine.client import Ledger

# The per-loan table lists this many open loans, worst first.
TOP_LOANS = 20


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
        # open loans for the per-loan table: (worst-first key, loan, outstanding, principal)
        self.open: list[tuple[tuple[bool, int, int, int], LoanAt, int, int]] = []

    def add(self, la: LoanAt, receivables: dict[int, Receivable]) -> None:
        loan = la.loan
        mine = loan.positions(self.lender)
        if not mine:
            return
        self.loans.append(la)
        amount = sum(loan.amounts[i] for i in mine)
        out = sum(la.outstanding[i] for i in mine)
        self.count += 1
        if la.status not in ("REPAID", "CANCELLED"):
            worst = (la.status != "DEFAULTED", -la.days_past_due, -out, loan.id)
            self.open.append((worst, la, out, amount))
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
        loan: the loan whose waterfall is charted (default: the worst with receipts:
            defaulted first, then most days past due, most outstanding, most receipts).
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
        self._claims: list[tuple[Claim, dict[str, Any]]] | None = None
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
        totals = {"PROVISION": 0, "CONTRIBUTION": 0, "COVER": 0, "REIMBURSED": 0}
        by_member: dict[str, int] = {}
        for at, kind, member, amount in self.book.pool:
            if at > self.t:
                break
            totals[kind] += amount
            if kind == "CONTRIBUTION" and member:
                by_member[member] = by_member.get(member, 0) + amount
        balance = (
            totals["PROVISION"] + totals["CONTRIBUTION"] - totals["COVER"] + totals["REIMBURSED"]
        )
        return {
            "balance_fen": balance,
            "provisions_fen": totals["PROVISION"],
            "contributions_fen": totals["CONTRIBUTION"],
            "contributions": [
                {"member": self.party(m), "amount_fen": v} for m, v in _ranked(by_member, None)
            ],
            "cover_paid_fen": totals["COVER"],
            "cover_reimbursed_fen": totals["REIMBURSED"],
            "coverage_ratio": Ratio(balance, self.ledger.npl),
        }

    def claims_at(self) -> list[tuple[Claim, dict[str, Any]]]:
        """Each cover claim set by then, with its figures at as-of (DESIGN §6.2): what it
        owes, has paid (margin, honours), has unpaid and had back, and its state — `paid`,
        `lapsed` (unpaid, but its loan's principal outstanding is 0: nothing left to cover),
        `breached`, `overdue` (past its due date, not marked breached) or `open`."""
        if self._claims is None:
            outstanding = {la.loan.id: sum(la.outstanding) for la in self.loans_at}
            found = []
            for c in self.book.claims:
                if c.defaulted_at > self.t:
                    continue
                paid = c.paid_at(self.t)
                unpaid = c.owed - paid
                lapsed = unpaid > 0 and outstanding.get(c.loan_id, 0) == 0
                breached = c.breached_at is not None and c.breached_at <= self.t
                state = (
                    "paid"
                    if unpaid == 0
                    else "lapsed"
                    if lapsed
                    else "breached"
                    if breached
                    else "overdue"
                    if self.t > c.due_at
                    else "open"
                )
                found.append(
                    (
                        c,
                        {
                            "loan": c.loan_id,
                            "layer": c.layer + 1,
                            "provider": self.party(c.provider),
                            "kind": c.kind,
                            "owed_fen": c.owed,
                            "paid_fen": paid,
                            "unpaid_fen": 0 if lapsed else unpaid,
                            "reimbursed_fen": c.reimbursed_at(self.t),
                            "due_at": c.due_at,
                            "breached_at": c.breached_at if breached else None,
                            "status": state,
                        },
                    )
                )
            self._claims = found
        return self._claims

    def cover(self) -> dict[str, Any]:
        """The cover providers' figures (guarantee funds, insurers, core enterprises'
        repurchase): per claim, per provider and in all."""
        claims = [row for _, row in self.claims_at()]
        providers: dict[str, dict[str, Any]] = {}
        keys = ("owed_fen", "paid_fen", "unpaid_fen", "reimbursed_fen")
        for row in claims:
            address = row["provider"]["address"] or ""
            p = providers.setdefault(
                address,
                {
                    "provider": row["provider"],
                    "claim_count": 0,
                    **dict.fromkeys(keys, 0),
                    "breached_count": 0,
                    "breached_unpaid_fen": 0,
                },
            )
            p["claim_count"] += 1
            for k in keys:
                p[k] += row[k]
            if row["status"] == "breached":
                p["breached_count"] += 1
                p["breached_unpaid_fen"] += row["unpaid_fen"]
        ranked = sorted(
            providers.values(),
            key=lambda p: (-p["unpaid_fen"], -p["owed_fen"], p["provider"]["address"] or ""),
        )
        return {
            **{k: sum(p[k] for p in ranked) for k in keys},
            "breached_count": sum(p["breached_count"] for p in ranked),
            "breached_unpaid_fen": sum(p["breached_unpaid_fen"] for p in ranked),
            "providers": ranked,
            "claims": claims,
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
        """Outstanding principal by book status at evenly spaced moments up to as-of, the
        first at the chain's first block (the operator's admission at deployment)."""
        start = min((m.admitted_at for m in self.book.members.values()), default=None)
        proposed = min((la.loan.proposed_at for la in s.loans), default=self.t)
        first = min(proposed, self.t) if start is None else min(start, self.t)
        span = max(0, -(-(self.t - first) // DAY))
        n = max(2, self.options.history_points)
        step = max(1, -(-span // (n - 1)))
        # Anchored at as-of; the earliest moment falls at or before the first block: the
        # axis starts there, not before the chain existed.
        moments = sorted({max(first, self.t - k * step * DAY) for k in range(n)})
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

    def loans(self, s: Scope) -> list[dict[str, Any]]:
        """The open loans of the scope, worst first (defaulted, then most days past due,
        then most outstanding), at most TOP_LOANS: what a credit officer reads loan by loan,
        with each loan's collateral (its receivables' unpaid value) against its outstanding."""
        rows = []
        for _, la, outstanding, principal in heapq.nsmallest(TOP_LOANS, s.open):
            loan = la.loan
            collateral = self._collateral(loan.receivable_ids)
            rows.append(
                {
                    "id": loan.id,
                    "status": la.status,
                    "borrower": self.party(loan.borrower),
                    "principal_fen": principal,
                    "outstanding_fen": outstanding,
                    "maturity_at": loan.maturity_at or None,
                    "days_past_due": la.days_past_due,
                    "collateral_fen": collateral,
                    "collateral_cover": Ratio(collateral, outstanding),
                }
            )
        return rows

    def _collateral(self, receivable_ids: Iterable[int]) -> int:
        """What the debtors of these receivables still owe at t (live tokens only)."""
        paid, t = self._paid, self.t
        total = 0
        for rid in receivable_ids:
            r = self.book.receivables.get(rid)
            if r is None or (r.ended_at is not None and r.ended_at <= t):
                continue
            total += max(0, r.face - paid.get(r.id, 0))
        return total

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
            candidates = [
                la
                for la in (scope.loans if scope else [])
                if any(x.at <= self.t for x in la.loan.settlements)
            ]
            if candidates:  # the loan that matters: the worst one with receipts to show
                chosen = max(
                    candidates,
                    key=lambda la: (
                        la.status == "DEFAULTED",
                        la.days_past_due,
                        sum(la.outstanding),
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
            "loans": self.loans(s),
        }
        if s.lender is None:
            out["pool"] = self.pool()
            out["cover"] = self.cover()
            out["supervision"] = self.members()
        if history:
            out["history"] = self.history(s)
        return out

    def figures(self) -> dict[str, Any]:
        """Every section with every figure annotated by its definition key.

        Definition keys are shared by the scopes: `loan_book.npl_ratio` is the same figure
        for the whole ledger and for each lender (computed over the lender's tranches).
        """
        from ledger.supervision.alerts import evaluate

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
    from ledger.engine.attempts import read_refused
    from ledger.supervision.index import Index

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
