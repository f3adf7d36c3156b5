"""A borrower's credit file, computed from audit entries and their bound events alone.

`credit_file` is a pure function of the entries a credit file holds (each with the fields
of the business event its `dataHash` binds): the writer runs it on entries read from the
chain, and `audit verify --evidence` runs it again on the entries it has just proved, so
a figure that does not follow from the proved events fails verification.

Days past due (逾期天数), the one rule every figure rests on:
- a loan is due at `due_at = maturity_at + grace_days × 86,400`, the moment its penalty
  interest starts (DESIGN §4.5 step 1; `maturity_at` is the disbursement's block time plus
  the term in days, from the `LoanDisbursed` event);
- a receivable is due at its `maturity_at` (the end of its due date in CST, DESIGN §3);
- a payment at block time `t` is `floor(max(0, t − due_at) / 86,400)` days past due: whole
  days elapsed since the due moment, 0 when paid before it or less than a day after it. A
  payment is *on time* when that is 0;
- a loan or receivable still open at the file's time `as_of` (the query's block time) is
  *overdue* when `as_of > due_at`, by the same count of whole days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.audit.evidence import Proved

DAY = 86_400
SOURCES = ("REPAYMENT", "RECEIVABLE", "SWEEP", "COVER")
# Receipts the borrower's side paid (a cover payment is a guarantor's, not a repayment).
BORROWER_SOURCES = frozenset({"REPAYMENT", "RECEIVABLE", "SWEEP"})
LOAN_KINDS = frozenset(
    {
        "LOAN_PROPOSED",
        "LOAN_ACCEPTED",
        "LOAN_FUNDED",
        "LOAN_DISBURSED",
        "LOAN_SETTLED",
        "LOAN_CANCELLED",
        "LOAN_DEFAULTED",
    }
)
RECEIVABLE_KINDS = frozenset(
    {
        "RECEIVABLE_ISSUED",
        "RECEIVABLE_ACCEPTED",
        "RECEIVABLE_REJECTED",
        "RECEIVABLE_CANCELLED",
        "RECEIVABLE_SPLIT",
        "RECEIVABLE_PAID",
    }
)
CONSENT_KINDS = frozenset({"CONSENT_GRANTED", "CREDIT_QUERIED"})
FILE_KINDS = LOAN_KINDS | RECEIVABLE_KINDS | CONSENT_KINDS
OPEN_LOAN = ("DISBURSED", "DEFAULTED")

DEFINITIONS = {
    "due_at": "a loan: maturity_at + grace_days x 86400 (when penalty interest starts); "
    "a receivable: its maturity_at",
    "days_past_due": "floor(max(0, t - due_at) / 86400) for a payment at block time t; "
    "0 means on time",
    "overdue": "open (a loan disbursed and not repaid; a receivable accepted and not fully "
    "paid) at as_of, with as_of > due_at; days counted as for a payment at as_of",
    "on_time_ratio_bps": "floor(10000 x payments with days_past_due 0 / payments), over the "
    "borrower's loan repayments (repayment, pledged receivable, sweep) and its payments of "
    "receivables as debtor; null without payments",
    "worst_days_past_due": "the largest days_past_due of any payment, default or open overdue item",
    "as_of": "block time of the query that produced this file",
}


class Inconsistent(Exception):
    """Entry `seq` does not belong in the credit file it is in."""

    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


# One proved entry with its bound event's fields (as `readable_fields` gives them).
Item = Proved


def days_past_due(at: int, due_at: int) -> int:
    """Whole days from `due_at` to `at`; 0 when `at` is not later."""
    return max(0, at - due_at) // DAY


def _ratio_bps(part: int, whole: int) -> int | None:
    return None if whole == 0 else part * 10_000 // whole


@dataclass
class _Loan:
    id: int
    originator: str
    principal_fen: int
    rate_bps: int
    penalty_bps: int
    term_days: int
    grace_days: int
    proposed_at: int
    status: str = "PROPOSED"
    disbursed_at: int | None = None
    maturity_at: int | None = None
    outstanding_fen: int = 0
    default: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.repayments: list[dict[str, Any]] = []
        self.cover_payments: list[dict[str, Any]] = []

    @property
    def due_at(self) -> int | None:
        return None if self.maturity_at is None else self.maturity_at + self.grace_days * DAY

    def view(self, as_of: int) -> dict[str, Any]:
        due = self.due_at
        open_ = self.status in OPEN_LOAN
        overdue = open_ and due is not None and as_of > due
        return {
            "id": self.id,
            "originator": self.originator,
            "status": self.status,
            "principal_fen": self.principal_fen,
            "rate_bps": self.rate_bps,
            "penalty_bps": self.penalty_bps,
            "term_days": self.term_days,
            "grace_days": self.grace_days,
            "proposed_at": self.proposed_at,
            "disbursed_at": self.disbursed_at,
            "maturity_at": self.maturity_at,
            "due_at": due,
            "outstanding_fen": self.outstanding_fen if self.disbursed_at is not None else 0,
            "overdue": overdue,
            "days_past_due_now": days_past_due(as_of, due) if overdue and due is not None else 0,
            "repayments": self.repayments,
            "default": self.default,
            "cover_payments": self.cover_payments,
        }


@dataclass
class _Receivable:
    id: int
    supplier: str
    face_value_fen: int
    maturity_at: int
    issued_at: int
    status: str = "PENDING"
    paid_fen: int = 0
    paid_in_full_at: int | None = None

    def __post_init__(self) -> None:
        self.payments: list[dict[str, Any]] = []
        self.parts: list[int] = [self.id]

    def view(self, as_of: int) -> dict[str, Any]:
        unpaid = self.face_value_fen - self.paid_fen
        overdue = self.status == "ACTIVE" and unpaid > 0 and as_of > self.maturity_at
        full = self.paid_in_full_at
        return {
            "id": self.id,
            "parts": self.parts,
            "supplier": self.supplier,
            "status": self.status,
            "face_value_fen": self.face_value_fen,
            "issued_at": self.issued_at,
            "maturity_at": self.maturity_at,
            "paid_fen": self.paid_fen,
            "unpaid_fen": unpaid,
            "paid_in_full_at": full,
            "days_late": None if full is None else days_past_due(full, self.maturity_at),
            "overdue": overdue,
            "days_overdue_now": days_past_due(as_of, self.maturity_at) if overdue else 0,
            "payments": self.payments,
        }


class _Builder:
    def __init__(self, borrower: str) -> None:
        self.borrower = borrower
        self.loans: dict[int, _Loan] = {}
        self.receivables: dict[int, _Receivable] = {}
        self.root_of: dict[int, int] = {}

    def _loan(self, item: Item) -> _Loan:
        loan = self.loans.get(item.subject)
        if loan is None:
            problem = f"{item.kind} of loan {item.subject}, not a loan of the file"
            raise Inconsistent(item.seq, problem)
        return loan

    def _root(self, item: Item, rid: int) -> _Receivable:
        root = self.root_of.get(rid)
        if root is None:
            raise Inconsistent(
                item.seq, f"{item.kind} of receivable {rid}, not a receivable of the file"
            )
        return self.receivables[root]

    def add(self, item: Item) -> None:
        f = item.fields
        if item.kind == "LOAN_PROPOSED":
            self._proposed(item)
        elif item.kind in LOAN_KINDS:
            self._loan_event(item, self._loan(item))
        elif item.kind == "RECEIVABLE_ISSUED":
            if f["debtor"] != self.borrower:
                raise Inconsistent(item.seq, f"receivable {f['id']} is owed by {f['debtor']}")
            rid = int(f["id"])
            self.receivables[rid] = _Receivable(
                id=rid,
                supplier=f["supplier"],
                face_value_fen=int(f["valueFen"]),
                maturity_at=int(f["maturityAt"]),
                issued_at=item.at,
            )
            self.root_of[rid] = rid
        elif item.kind in RECEIVABLE_KINDS:
            self._receivable_event(item)
        else:
            raise Inconsistent(item.seq, f"a {item.kind} entry has no place in a credit file")

    def _proposed(self, item: Item) -> None:
        from ledger.engine.loans import decode_terms

        f = item.fields
        if f["borrower"] != self.borrower:
            raise Inconsistent(item.seq, f"loan {f['loanId']} is {f['borrower']}'s")
        terms = decode_terms(bytes.fromhex(str(f["terms"])[2:]))
        self.loans[int(f["loanId"])] = _Loan(
            id=int(f["loanId"]),
            originator=f["originator"],
            principal_fen=terms.principal_fen,
            rate_bps=terms.rate_bps,
            penalty_bps=terms.penalty_bps,
            term_days=terms.term_days,
            grace_days=terms.grace_days,
            proposed_at=item.at,
        )

    def _loan_event(self, item: Item, loan: _Loan) -> None:
        f = item.fields
        if item.kind == "LOAN_ACCEPTED":
            loan.status = "ACCEPTED"
        elif item.kind == "LOAN_FUNDED":
            loan.status = "FUNDED" if f["fullyFunded"] else "FUNDING"
        elif item.kind == "LOAN_CANCELLED":
            loan.status = "CANCELLED"
        elif item.kind == "LOAN_DISBURSED":
            loan.status = "DISBURSED"
            loan.disbursed_at = int(f["disbursedAt"])
            loan.maturity_at = int(f["maturityAt"])
            loan.outstanding_fen = sum(int(a) for a in f["amountsFen"])
        elif item.kind == "LOAN_SETTLED":
            self._settled(item, loan)
        elif item.kind == "LOAN_DEFAULTED":
            covered = sum(int(p) for p in f["principalFen"])
            loan.outstanding_fen -= covered
            loss, interest = int(f["lossFen"]), int(f["interestDueFen"])
            loan.status = "REPAID" if loss == 0 and interest == 0 else "DEFAULTED"
            loan.default = {
                "seq": item.seq,
                "at": item.at,
                "days_past_due": days_past_due(item.at, loan.due_at or item.at),
                "cover_fen": int(f["coverFen"]),
                "loss_fen": loss,
                "interest_due_fen": interest,
            }

    def _settled(self, item: Item, loan: _Loan) -> None:
        f = item.fields
        principal = sum(int(p) for p in f["principalFen"])
        interest = int(f["feeFen"]) + int(f["provisionFen"]) + sum(int(i) for i in f["interestFen"])
        source = SOURCES[int(f["source"])]
        line = {
            "seq": item.seq,
            "at": item.at,
            "source": source,
            "amount_fen": int(f["amountFen"]),
            "interest_fen": interest,
            "principal_fen": principal,
            "residual_fen": int(f["residualFen"]),
            "days_past_due": days_past_due(item.at, loan.due_at or item.at),
        }
        loan.outstanding_fen -= principal
        (loan.repayments if source in BORROWER_SOURCES else loan.cover_payments).append(line)
        if f["repaid"]:
            loan.status = "REPAID"

    def _receivable_event(self, item: Item) -> None:
        f = item.fields
        rid = int(f["id"])
        root = self._root(item, rid)
        if item.kind == "RECEIVABLE_ACCEPTED":
            root.status = "ACTIVE"
        elif item.kind in ("RECEIVABLE_REJECTED", "RECEIVABLE_CANCELLED"):
            root.status = item.kind.removeprefix("RECEIVABLE_")
        elif item.kind == "RECEIVABLE_SPLIT":
            first = int(f["firstChild"])
            for child in range(first, first + len(f["valuesFen"])):
                self.root_of[child] = root.id
                root.parts.append(child)
        elif item.kind == "RECEIVABLE_PAID":
            if f["debtor"] != self.borrower:
                raise Inconsistent(item.seq, f"receivable {rid} was paid by {f['debtor']}")
            amount = int(f["amountFen"])
            root.paid_fen += amount
            root.payments.append(
                {
                    "seq": item.seq,
                    "at": item.at,
                    "id": rid,
                    "amount_fen": amount,
                    "loan_id": int(f["loanId"]),
                    "days_late": days_past_due(item.at, root.maturity_at),
                }
            )
            if root.paid_fen == root.face_value_fen:
                root.status = "PAID"
                root.paid_in_full_at = item.at


def _summary(loans: list[dict[str, Any]], receivables: list[dict[str, Any]]) -> dict[str, Any]:
    repayments = [r for loan in loans for r in loan["repayments"]]
    payments = [p for rec in receivables for p in rec["payments"]]
    on_time_repayments = sum(1 for r in repayments if r["days_past_due"] == 0)
    on_time_payments = sum(1 for p in payments if p["days_late"] == 0)
    overdue_loans = [loan for loan in loans if loan["overdue"]]
    overdue_receivables = [rec for rec in receivables if rec["overdue"]]
    defaults = [loan["default"] for loan in loans if loan["default"] is not None]
    worst = max(
        [r["days_past_due"] for r in repayments]
        + [p["days_late"] for p in payments]
        + [d["days_past_due"] for d in defaults]
        + [loan["days_past_due_now"] for loan in overdue_loans]
        + [rec["days_overdue_now"] for rec in overdue_receivables],
        default=0,
    )
    by_status: dict[str, int] = {}
    for loan in loans:
        by_status[loan["status"]] = by_status.get(loan["status"], 0) + 1
    return {
        "loans": len(loans),
        "loans_by_status": dict(sorted(by_status.items())),
        "borrowed_fen": sum(
            loan["principal_fen"] for loan in loans if loan["disbursed_at"] is not None
        ),
        "outstanding_fen": sum(
            loan["outstanding_fen"] for loan in loans if loan["status"] in OPEN_LOAN
        ),
        "repayments": len(repayments),
        "repayments_on_time": on_time_repayments,
        "receivables": len(receivables),
        "receivable_payments": len(payments),
        "receivable_payments_on_time": on_time_payments,
        "on_time_ratio_bps": _ratio_bps(
            on_time_repayments + on_time_payments, len(repayments) + len(payments)
        ),
        "worst_days_past_due": worst,
        "current_overdue": {
            "loans": len(overdue_loans),
            "outstanding_fen": sum(loan["outstanding_fen"] for loan in overdue_loans),
            "receivables": len(overdue_receivables),
            "unpaid_fen": sum(rec["unpaid_fen"] for rec in overdue_receivables),
            "worst_days": max(
                [loan["days_past_due_now"] for loan in overdue_loans]
                + [rec["days_overdue_now"] for rec in overdue_receivables],
                default=0,
            ),
        },
        "defaults": len(defaults),
        "default_loss_fen": sum(d["loss_fen"] for d in defaults),
        "default_cover_fen": sum(d["cover_fen"] for d in defaults),
    }


def credit_file(items: Sequence[Item], borrower: str) -> dict[str, Any]:
    """The credit file of `borrower` from its entries, in `seq` order; the last one is the
    CREDIT_QUERIED entry of the query that produced it, and one CONSENT_GRANTED entry is
    the consent that query was made under. Raises `Inconsistent` for an entry that does
    not belong."""
    if not items:
        raise Inconsistent(None, "a credit file holds at least its consent and its query")
    query = items[-1]
    q = query.fields
    if query.kind != "CREDIT_QUERIED" or q["borrower"] != borrower:
        raise Inconsistent(query.seq, f"the last entry is not a query of {borrower}'s file")
    consents = [i for i in items[:-1] if i.kind == "CONSENT_GRANTED"]
    if len(consents) != 1:
        raise Inconsistent(query.seq, f"{len(consents)} consents in the file, not the one used")
    consent = consents[0]
    c = consent.fields
    used = (borrower, q["lender"], q["purpose"], q["grantedAt"], q["expiresAt"])
    if (c["borrower"], c["lender"], c["purpose"], c["grantedAt"], c["expiresAt"]) != used:
        raise Inconsistent(consent.seq, "the consent in the file is not the one the query used")
    history = [i for i in items[:-1] if i is not consent]
    builder = _Builder(borrower)
    for item in history:
        builder.add(item)
    as_of = query.at
    loans = [loan.view(as_of) for loan in sorted(builder.loans.values(), key=lambda x: x.id)]
    receivables = [r.view(as_of) for r in sorted(builder.receivables.values(), key=lambda x: x.id)]
    from ledger.engine.consent import decode_purpose

    return {
        "borrower": borrower,
        "lender": q["lender"],
        "purpose": decode_purpose(str(q["purpose"])),
        "as_of": as_of,
        "query": {"seq": query.seq, "number": int(q["queryNumber"])},
        "consent": {
            "seq": consent.seq,
            "granted_at": int(c["grantedAt"]),
            "expires_at": int(c["expiresAt"]),
        },
        "summary": _summary(loans, receivables),
        "loans": loans,
        "receivables": receivables,
        "definitions": DEFINITIONS,
    }
