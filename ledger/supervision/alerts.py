"""Early-warning rules (风控链), evaluated on the report's figures at one moment.

Each rule is a small function over a `Report` that returns `Alert`s naming the rule, the
subject and the numbers; `RULES` lists them in one place. `liandai report` prints the
alerts of its as-of moment; `liandai watch` evaluates them at every new block and prints
those that appear (and those that clear).

Refused duplicates. The CLI simulates every transaction first, so a second `issue` of a
document hash is refused before anything reaches the chain: only the home that tried knows.
`ledger.engine.receivables.Receivables.issue` therefore appends each `DocumentAlreadyUsed`
refusal to `<home>/alerts/refused.jsonl` (`ledger.engine.attempts`); the rule reads that
file and, from the index, any `issue` that was mined but reverted on a document already used
(visible to anyone with chain access).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.money import format_bps, format_date, format_fen
from ledger.supervision.book import (
    OVERDUE_BUCKETS,
    Ratio,
    bucket_of,
    days_past,
    pledged_at,
)

if TYPE_CHECKING:
    from ledger.supervision.figures import Report


@dataclass(frozen=True)
class Alert:
    """One early warning.

    Attributes:
        rule: the rule's key in the definitions file (`alerts.<rule>`).
        subject: what it is about (`kind` and identifiers; parties as address and name).
        numbers: the figures that triggered it (fen, bps, days, times as `_at`).
        message: one line for people.
    """

    rule: str
    subject: dict[str, Any]
    numbers: dict[str, Any]
    message: str

    @property
    def key(self) -> str:
        """Identity across evaluations: the same rule on the same subject."""
        ident = {k: v["address"] if isinstance(v, dict) else v for k, v in self.subject.items()}
        return f"{self.rule}:{json.dumps(ident, sort_keys=True)}"

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "numbers": self.numbers,
            "message": self.message,
        }


# --------------------------------------------------------------------------- rules


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def receivable_overdue(r: Report) -> Iterator[Alert]:
    """A live, accepted receivable past maturity with value unpaid."""
    pledged: dict[int, int] = {}
    for la in r.loans_at:
        if pledged_at(la, r.t):
            for rid in la.loan.receivable_ids:
                pledged[rid] = la.loan.id
    for rec, unpaid in r.outstanding_receivables:
        if r.t <= rec.maturity_at:
            continue
        days = days_past(r.t, rec.maturity_at)
        loan = pledged.get(rec.id)
        debtor = r.party(rec.debtor)
        yield Alert(
            "receivable_overdue",
            {"kind": "receivable", "id": rec.id, "debtor": debtor, "pledged_to": loan},
            {"unpaid_fen": unpaid, "days_past_due": days, "maturity_at": rec.maturity_at},
            f"receivable #{rec.id} owed by {debtor['name'] or rec.debtor} is {_days(days)} "
            f"past maturity ({format_date(rec.maturity_at)}) with {format_fen(unpaid)} unpaid"
            + (f"; pledged to loan #{loan}" if loan else ""),
        )


def loan_overdue(r: Report) -> Iterator[Alert]:
    """A disbursed or defaulted loan past maturity (principal or interest still owed)."""
    for la in r.loans_at:
        if not la.days_past_due:
            continue
        out = sum(la.outstanding)
        borrower = r.party(la.loan.borrower)
        yield Alert(
            "loan_overdue",
            {"kind": "loan", "id": la.loan.id, "borrower": borrower},
            {
                "days_past_due": la.days_past_due,
                "bucket": bucket_of(la.days_past_due, OVERDUE_BUCKETS),
                "outstanding_fen": out,
                "maturity_at": la.loan.maturity_at,
                "status": la.status,
            },
            f"loan #{la.loan.id} to {borrower['name'] or la.loan.borrower} is "
            f"{_days(la.days_past_due)} past maturity ({format_date(la.loan.maturity_at)}), "
            f"{format_fen(out)} principal outstanding, {la.status}",
        )


def exposure_near_limit(r: Report) -> Iterator[Alert]:
    """A lender's exposure to one borrower above the warning share of its limit."""
    policy = r.book.policy_at(r.t)
    warning = r.options.exposure_warning_bps
    for lender, scope in r.lenders.items():
        net = r.net_assets(lender)
        limit = net * policy["max_single_borrower_bps"] // 10_000
        for borrower, exposure in sorted(scope.limit_exposure.items()):
            if exposure * 10_000 <= limit * warning:
                continue
            used = None if limit == 0 else (2 * exposure * 10_000 + limit) // (2 * limit)
            who, whom = r.party(lender), r.party(borrower)
            yield Alert(
                "exposure_near_limit",
                {"kind": "exposure", "lender": who, "borrower": whom},
                {
                    "exposure_fen": exposure,
                    "limit_fen": limit,
                    "used_bps": used,
                    "warning_bps": warning,
                    "net_assets_fen": net,
                    "max_single_borrower_bps": policy["max_single_borrower_bps"],
                },
                f"{who['name'] or lender}'s exposure to {whom['name'] or borrower} is "
                f"{format_fen(exposure)}, "
                + (f"{format_bps(used)} of" if used is not None else "above")
                + f" its limit {format_fen(limit)} (warning above {format_bps(warning)})",
            )


def provision_coverage_low(r: Report) -> Iterator[Alert]:
    """Pool balance ÷ NPL balance below the threshold (none while there is no NPL)."""
    pool = r.pool()
    coverage: Ratio = pool["coverage_ratio"]
    threshold = r.options.coverage_threshold_bps
    if coverage.below(threshold):
        yield Alert(
            "provision_coverage_low",
            {"kind": "pool"},
            {
                "balance_fen": pool["balance_fen"],
                "npl_fen": coverage.den,
                "coverage_bps": coverage.bps,
                "threshold_bps": threshold,
            },
            f"provision coverage {format_bps(coverage.bps or 0)}: pool "
            f"{format_fen(pool['balance_fen'])} for {format_fen(coverage.den)} non-performing, "
            f"below {format_bps(threshold)}",
        )


def collections_lagging(r: Report) -> Iterator[Alert]:
    """Before its maturity, a loan has collected less principal than its pledged
    receivables that have come due were expected to bring."""
    for la in r.loans_at:
        loan = la.loan
        if la.status != "DISBURSED" or r.t > loan.maturity_at:
            continue
        due = 0
        matured = []
        for rid in loan.receivable_ids:
            rec = r.book.receivables.get(rid)
            if rec is None or rec.maturity_at >= r.t:
                continue
            unpaid = rec.face - sum(a for at, a, _ in rec.payments if at < loan.disbursed_at)
            due += max(unpaid, 0)
            matured.append(rid)
        expected = min(sum(loan.amounts), due)
        collected = la.collected_principal
        if collected >= expected:
            continue
        borrower = r.party(loan.borrower)
        yield Alert(
            "collections_lagging",
            {"kind": "loan", "id": loan.id, "borrower": borrower},
            {
                "expected_fen": expected,
                "collected_fen": collected,
                "shortfall_fen": expected - collected,
                "matured_receivables": matured,
                "maturity_at": loan.maturity_at,
            },
            f"loan #{loan.id} to {borrower['name'] or loan.borrower} has collected "
            f"{format_fen(collected)} of principal, {format_fen(expected)} expected from "
            f"receivable(s) {', '.join(f'#{i}' for i in matured)} already due; shortfall "
            f"{format_fen(expected - collected)}",
        )


def duplicate_document(r: Report) -> Iterator[Alert]:
    """A receivable issue attempted on a document hash that already backs one: refused
    before sending (recorded in this home) or mined and reverted (on chain)."""
    # A document is bound to its debtor: only the same debtor's second issue is refused.
    first: dict[tuple[str, str], tuple[int, int]] = {}
    for rec in r.book.receivables.values():
        key = (rec.debtor.lower(), rec.doc_hash)
        if rec.parent is None and (key not in first or rec.issued_at < first[key][1]):
            first[key] = (rec.id, rec.issued_at)
    attempts: list[dict[str, Any]] = []
    on_chain = set()
    for row in r.book.reverted_issues:
        used = first.get((str(row["sender"]).lower(), row["doc_hash"]))
        if used is None or used[1] > row["at"]:
            continue
        on_chain.add(row["tx"])
        attempts.append({**row, "existing": used[0], "source": "chain"})
    for seen in r.book.refused:
        if seen.get("tx") in on_chain:
            for a in attempts:
                if a["tx"] == seen["tx"]:
                    a["source"] = "chain+home"
            continue
        attempts.append(
            {
                "tx": None,
                "at": seen["at"],
                "sender": seen["by"],
                "supplier": seen["supplier"],
                "value_fen": seen["value_fen"],
                "doc_hash": seen["doc_hash"],
                "existing": seen["existing"],
                "source": "home",
            }
        )
    attempts.sort(key=lambda a: (a["at"], a["doc_hash"]))
    how = {
        "home": "refused before sending",
        "chain": "mined and reverted",
        "chain+home": "mined and reverted",
    }
    for n, a in enumerate((a for a in attempts if a["at"] <= r.t), start=1):
        by = r.party(a["sender"])
        yield Alert(
            "duplicate_document",
            {"kind": "document", "doc_hash": a["doc_hash"], "attempt": n},
            {
                "existing_receivable": a["existing"],
                "value_fen": int(a["value_fen"]),
                "attempted_at": a["at"],
                "by": by,
                "supplier": r.party(a["supplier"]),
                "source": a["source"],
                "tx": a["tx"],
            },
            f"document {a['doc_hash'][:10]}… already backs receivable #{a['existing']}; "
            f"{by['name'] or a['sender']} attempted to issue {format_fen(int(a['value_fen']))} "
            f"on it again ({how[a['source']]})",
        )


def cover_breached(r: Report) -> Iterator[Alert]:
    """A cover claim marked breached (unpaid after its due date, DESIGN §6.2) that is still
    unpaid: it clears once the provider pays it in full or it lapses."""
    for claim, row in r.claims_at():
        if row["status"] != "breached":
            continue
        provider = row["provider"]
        days = days_past(r.t, claim.due_at)
        yield Alert(
            "cover_breached",
            {"kind": "cover", "loan": claim.loan_id, "layer": row["layer"], "provider": provider},
            {
                "unpaid_fen": row["unpaid_fen"],
                "owed_fen": row["owed_fen"],
                "paid_fen": row["paid_fen"],
                "due_at": claim.due_at,
                "breached_at": row["breached_at"],
                "days_past_due": days,
            },
            f"layer {row['layer']} of loan #{claim.loan_id} ({claim.kind} by "
            f"{provider['name'] or provider['address']}) breached: "
            f"{format_fen(row['unpaid_fen'])} of {format_fen(row['owed_fen'])} unpaid, "
            f"{_days(days)} past its due date ({format_date(claim.due_at)})",
        )


RULES: dict[str, Callable[[Report], Iterator[Alert]]] = {
    "receivable_overdue": receivable_overdue,
    "loan_overdue": loan_overdue,
    "exposure_near_limit": exposure_near_limit,
    "provision_coverage_low": provision_coverage_low,
    "collections_lagging": collections_lagging,
    "duplicate_document": duplicate_document,
    "cover_breached": cover_breached,
}


def _concerns(alert: Alert, r: Report, lender: str) -> bool:
    """Whether an alert concerns `lender`: its loans, its exposures, receivables pledged to
    its loans, claims on the cover of its loans; pool and document alerts concern everyone."""
    subject = alert.subject
    kind = subject["kind"]
    if kind in ("pool", "document"):
        return True
    if kind == "exposure":
        return bool(subject["lender"]["address"] == lender)
    if kind == "loan":
        return lender in r.book.loans[subject["id"]].lenders
    if kind == "cover":
        return lender in r.book.loans[subject["loan"]].lenders
    if kind == "receivable":
        loan = subject.get("pledged_to")
        return loan is not None and lender in r.book.loans[loan].lenders
    return True


def evaluate(r: Report) -> list[Alert]:
    """Every rule at the report's moment, in rule order (filtered to its lender if any)."""
    alerts = [a for rule in RULES.values() for a in rule(r)]
    if r.options.lender is not None:
        alerts = [a for a in alerts if _concerns(a, r, r.options.lender)]
    region = r.options.region
    if region is not None:
        # A look-through report's alerts name the region they were raised for (DESIGN §6.6).
        alerts = [
            Alert(
                a.rule, {**a.subject, "region": region}, a.numbers, f"[region {region}] {a.message}"
            )
            for a in alerts
        ]
    return alerts
