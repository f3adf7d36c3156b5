"""Pure-Python reference model of the repayment waterfall (DESIGN §3, §4.4–§4.6).

The contracts implement the same rule; property tests compare the two fen by fen, so
everything here is integer arithmetic on fen and unix seconds, floors taken exactly where
the design takes them, and every split of an amount sums exactly to that amount.

All functions are pure: they take a `LoanState` and return a new one, never mutating
their inputs.

- `accrue` checkpoints borrower interest, penalty interest and senior coupons to a time,
  each stream carrying its sub-fen remainder to the next checkpoint (DESIGN §3), so the
  interest accrued is the floor of the exact sum however often a loan is checkpointed.
- `settle` runs one receipt through the waterfall: fee, provision, senior coupons,
  junior interest, principal, residual.
- `cover` is the provision pool's principal-only payment into a defaulted loan
  (always sequential, seniors first).
- `split_pro_rata` is the largest-remainder split used for every pro-rata part.
- `quote` runs a list of receipts from disbursement, for a repayment preview.
- `TechBook` is a tech partner's book of loans (DESIGN §6.6): while its defaulted ÷
  outstanding principal, as a receipt leaves it, is above `tech_fee_npl_bps`, that
  receipt's fee share goes to the provision pool (`TechBook.settled`, `withhold_fee`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ledger.errors import BadInput

YEAR = 31_536_000
"""Seconds in the ACT/365 fixed year."""
BPS = 10_000
"""Basis points in 100%."""
DAY = 86_400
"""Seconds in a day."""

Mode = Literal["sequential", "pro-rata"]
MODES: tuple[str, ...] = ("sequential", "pro-rata")


def _check_int(value: object, what: str, *, minimum: int = 0) -> int:
    """`value` as an int ≥ `minimum`; floats and bools are refused (integer fen only)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadInput(f"{what} must be an integer, not {type(value).__name__} {value!r}")
    if value < minimum:
        raise BadInput(f"{what} is {value}; it must be at least {minimum}")
    return value


def interest_for(principal: int, bps: int, seconds: int) -> int:
    """Simple interest, ACT/365 fixed, per second (DESIGN §3).

    `floor(principal × bps × seconds / (10000 × 31,536,000))`; all three inputs ≥ 0.
    """
    _check_int(principal, "principal")
    _check_int(bps, "rate")
    _check_int(seconds, "seconds")
    return principal * bps * seconds // (BPS * YEAR)


def accrue_stream(principal: int, bps: int, seconds: int, carry: int) -> tuple[int, int]:
    """One accrual stream with its carry: (fen accrued, new carry).

    The carry is the sub-fen remainder of the stream so far, in units of
    1 / (10000 × 31,536,000) fen: `divmod(principal × bps × seconds + carry, 10000 × YEAR)`.
    """
    _check_int(principal, "principal")
    _check_int(bps, "rate")
    _check_int(seconds, "seconds")
    _check_int(carry, "carry")
    return divmod(principal * bps * seconds + carry, BPS * YEAR)


def sweep_share(amount: int, sweep_bps: int, carry: int) -> tuple[int, int]:
    """The swept share of a payment into a sweeping borrower's wallet (DESIGN §4.2): (share,
    new carry) = divmod(amount × sweep_bps + carry, 10000), the carry being the borrower's
    sub-fen share left over from earlier payments, in 1/10000 fen (below 10000)."""
    _check_int(amount, "amount")
    _check_int(sweep_bps, "sweep share")
    _check_int(carry, "sweep carry")
    if sweep_bps > BPS or carry >= BPS:
        raise BadInput(f"sweep share {sweep_bps} or carry {carry} out of range")
    return divmod(amount * sweep_bps + carry, BPS)


def split_pro_rata(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` fen by `weights`, exactly, with the largest remainder method.

    Each part first gets `amount × w_i // W` (W = Σw); the fen left over go one each to
    the parts with the largest remainders `amount × w_i % W`, ties to the lower index.
    Zero-weight entries get 0. The parts always sum to `amount`.

    Raises BadInput for a negative amount or weight, or a non-zero amount with all
    weights zero (there is nowhere to put it).
    """
    _check_int(amount, "amount")
    for i, w in enumerate(weights):
        _check_int(w, f"weight {i}")
    total = sum(weights)
    if total == 0:
        if amount == 0:
            return [0] * len(weights)
        raise BadInput(f"cannot split {amount} fen by weights that are all zero")
    parts = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    leftover = amount - sum(parts)
    # Σ remainders = leftover × W and each remainder < W, so at least `leftover` entries
    # have a positive remainder: the fen never reach a zero-weight entry.
    order = sorted(range(len(parts)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Tranche:
    """One lender's part of a joint loan.

    Attributes:
        lender: who funds it (an account name or address; opaque here).
        senior: True for a senior tranche (fixed coupon, first in line), False for junior.
        principal_fen: the amount funded, > 0.
        coupon_bps: a senior's yearly coupon in bps; 0 for a junior.
    """

    lender: str
    senior: bool
    principal_fen: int
    coupon_bps: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.senior, bool):
            raise BadInput(f"tranche class flag must be a bool, not {self.senior!r}")
        _check_int(self.principal_fen, "tranche principal", minimum=1)
        _check_int(self.coupon_bps, "tranche coupon")
        if not self.senior and self.coupon_bps != 0:
            raise BadInput(
                f"junior tranche of {self.lender} has coupon {self.coupon_bps} bps; "
                "juniors share the residual interest and have no coupon"
            )


@dataclass(frozen=True)
class LoanTerms:
    """The immutable terms of a disbursed loan.

    Attributes:
        tranches: the tranches in listed order (the order of every per-tranche list).
        rate_bps: the borrower's yearly rate (the disclosed APR).
        disbursed_at: unix seconds of disbursement; accrual starts here.
        maturity_at: unix seconds of maturity (disbursed_at + term_days × DAY).
        penalty_bps: yearly penalty rate on outstanding principal past maturity + grace.
        fee_share_bps: the tech partner's share of interest collected.
        provision_share_bps: the provision pool's share of interest collected.
        mode: principal mode, "sequential" (seniors first) or "pro-rata".
        grace_days: days after maturity before penalty interest starts.
    """

    tranches: tuple[Tranche, ...]
    rate_bps: int
    disbursed_at: int
    maturity_at: int
    penalty_bps: int = 0
    fee_share_bps: int = 0
    provision_share_bps: int = 0
    mode: Mode = "sequential"
    grace_days: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.tranches, tuple):
            object.__setattr__(self, "tranches", tuple(self.tranches))
        if not self.tranches:
            raise BadInput("a loan needs at least one tranche")
        for tranche in self.tranches:
            if not isinstance(tranche, Tranche):
                raise BadInput(f"not a tranche: {tranche!r}")
        _check_int(self.rate_bps, "rate")
        _check_int(self.penalty_bps, "penalty rate")
        _check_int(self.fee_share_bps, "fee share")
        _check_int(self.provision_share_bps, "provision share")
        if self.fee_share_bps + self.provision_share_bps > BPS:
            raise BadInput(
                f"fee share {self.fee_share_bps} bps + provision share "
                f"{self.provision_share_bps} bps is more than {BPS} bps"
            )
        if self.mode not in MODES:
            raise BadInput(f"unknown principal mode {self.mode!r} (use one of {', '.join(MODES)})")
        _check_int(self.disbursed_at, "disbursement time")
        _check_int(self.maturity_at, "maturity time")
        if self.maturity_at < self.disbursed_at:
            raise BadInput(
                f"maturity {self.maturity_at} is before disbursement {self.disbursed_at}"
            )
        _check_int(self.grace_days, "grace days")

    @classmethod
    def for_term(
        cls,
        tranches: Sequence[Tranche],
        *,
        rate_bps: int,
        disbursed_at: int,
        term_days: int,
        penalty_bps: int = 0,
        fee_share_bps: int = 0,
        provision_share_bps: int = 0,
        mode: Mode = "sequential",
        grace_days: int = 0,
    ) -> LoanTerms:
        """Terms with `maturity_at = disbursed_at + term_days × DAY`."""
        _check_int(term_days, "term days")
        _check_int(disbursed_at, "disbursement time")
        return cls(
            tranches=tuple(tranches),
            rate_bps=rate_bps,
            disbursed_at=disbursed_at,
            maturity_at=disbursed_at + term_days * DAY,
            penalty_bps=penalty_bps,
            fee_share_bps=fee_share_bps,
            provision_share_bps=provision_share_bps,
            mode=mode,
            grace_days=grace_days,
        )

    @property
    def principal_fen(self) -> int:
        """Total principal funded."""
        return sum(t.principal_fen for t in self.tranches)

    @property
    def penalty_from(self) -> int:
        """Unix seconds from which penalty interest accrues (maturity + grace)."""
        return self.maturity_at + self.grace_days * DAY


@dataclass(frozen=True)
class LoanState:
    """What a loan owes at its last checkpoint.

    Attributes:
        outstanding_fen: per tranche, unpaid principal.
        coupon_due_fen: per tranche, accrued unpaid senior coupon (always 0 for a junior).
        interest_due_fen: accrued unpaid borrower interest, penalty included.
        accrued_to: unix seconds of the last accrual checkpoint.
        defaulted: True once the loan was declared defaulted (`cover`); from then on
            principal is repaid seniors first whatever the mode (DESIGN §4.6).
        interest_carry: sub-fen remainder of borrower interest, in 1 / (10000 × YEAR) fen.
        penalty_carry: the same for penalty interest.
        coupon_carry: the same per tranche for senior coupons (empty: all zero).
    """

    outstanding_fen: tuple[int, ...]
    coupon_due_fen: tuple[int, ...]
    interest_due_fen: int
    accrued_to: int
    defaulted: bool = False
    interest_carry: int = 0
    penalty_carry: int = 0
    coupon_carry: tuple[int, ...] = ()

    @classmethod
    def initial(cls, terms: LoanTerms) -> LoanState:
        """The state at disbursement: all principal outstanding, nothing accrued."""
        return cls(
            outstanding_fen=tuple(t.principal_fen for t in terms.tranches),
            coupon_due_fen=(0,) * len(terms.tranches),
            interest_due_fen=0,
            accrued_to=terms.disbursed_at,
        )

    @property
    def principal_outstanding_fen(self) -> int:
        """Total unpaid principal."""
        return sum(self.outstanding_fen)

    @property
    def repaid(self) -> bool:
        """True when no principal and no interest is owed (the loan is REPAID)."""
        return self.principal_outstanding_fen == 0 and self.interest_due_fen == 0


@dataclass(frozen=True)
class Settlement:
    """How one receipt was split (DESIGN §4.5); the parts sum exactly to `amount_fen`.

    Attributes:
        at: unix seconds of the receipt.
        amount_fen: the receipt R.
        fee_fen: to the tech partner.
        provision_fen: to the provision pool.
        interest_fen: per tranche, interest paid (senior coupon + share of the rest).
        principal_fen: per tranche, principal repaid.
        residual_fen: to the borrower (or the receivable's holder).
    """

    at: int
    amount_fen: int
    fee_fen: int
    provision_fen: int
    interest_fen: tuple[int, ...]
    principal_fen: tuple[int, ...]
    residual_fen: int


@dataclass(frozen=True)
class Cover:
    """A provision-pool cover of a defaulted loan: principal only, seniors first.

    Attributes:
        at: unix seconds of the cover.
        offered_fen: what the pool offered.
        used_fen: what was used, `min(offered, outstanding principal)`.
        principal_fen: per tranche, principal repaid; sums to `used_fen`.
    """

    at: int
    offered_fen: int
    used_fen: int
    principal_fen: tuple[int, ...]


@dataclass(frozen=True)
class AprDisclosure:
    """What the borrower is shown before accepting.

    Attributes:
        apr_bps: the disclosed APR, the borrower rate.
        penalty_bps: the penalty rate past maturity + grace, shown separately.
    """

    apr_bps: int
    penalty_bps: int


def _check_state(terms: LoanTerms, state: LoanState) -> None:
    n = len(terms.tranches)
    if len(state.outstanding_fen) != n or len(state.coupon_due_fen) != n:
        raise BadInput(f"state has the wrong number of tranches for a {n}-tranche loan")
    for i, value in enumerate(state.outstanding_fen):
        _check_int(value, f"outstanding of tranche {i}")
    for i, value in enumerate(state.coupon_due_fen):
        _check_int(value, f"coupon due of tranche {i}")
    _check_int(state.interest_due_fen, "interest due")
    _check_int(state.accrued_to, "accrual time")


def accrue(terms: LoanTerms, state: LoanState, t: int) -> LoanState:
    """Checkpoint interest, penalty and senior coupons from `state.accrued_to` to `t`.

    A time before the last checkpoint accrues nothing and leaves the checkpoint where
    it is (time never runs backwards on a chain).
    """
    _check_state(terms, state)
    _check_int(t, "time")
    start = state.accrued_to
    if t <= start:
        return state
    dt = t - start
    total = state.principal_outstanding_fen
    penalty_seconds = max(0, t - max(start, terms.penalty_from))
    interest, interest_carry = accrue_stream(total, terms.rate_bps, dt, state.interest_carry)
    penalty, penalty_carry = accrue_stream(
        total, terms.penalty_bps, penalty_seconds, state.penalty_carry
    )
    carries = state.coupon_carry or (0,) * len(terms.tranches)
    coupons: list[int] = []
    coupon_carry: list[int] = []
    for tranche, out, due, carry in zip(
        terms.tranches, state.outstanding_fen, state.coupon_due_fen, carries, strict=True
    ):
        if tranche.senior:
            accrued, carry = accrue_stream(out, tranche.coupon_bps, dt, carry)
            due += accrued
        coupons.append(due)
        coupon_carry.append(carry)
    return replace(
        state,
        coupon_due_fen=tuple(coupons),
        interest_due_fen=state.interest_due_fen + interest + penalty,
        accrued_to=t,
        interest_carry=interest_carry,
        penalty_carry=penalty_carry,
        coupon_carry=tuple(coupon_carry),
    )


def _split_among(amount: int, indices: Sequence[int], weights: Sequence[int], n: int) -> list[int]:
    """Split `amount` among the tranches `indices` by `weights`; a list over all n tranches."""
    parts = [0] * n
    for i, part in zip(indices, split_pro_rata(amount, weights), strict=True):
        parts[i] = part
    return parts


def _sequential_principal(terms: LoanTerms, outstanding: Sequence[int], amount: int) -> list[int]:
    """Seniors in listed order up to their outstanding, then juniors pro rata by outstanding.

    `amount` must be at most Σ outstanding.
    """
    n = len(terms.tranches)
    parts = [0] * n
    left = amount
    for i, tranche in enumerate(terms.tranches):
        if tranche.senior:
            paid = min(left, outstanding[i])
            parts[i] = paid
            left -= paid
    juniors = [i for i, tranche in enumerate(terms.tranches) if not tranche.senior]
    junior_parts = _split_among(left, juniors, [outstanding[i] for i in juniors], n)
    return [p + q for p, q in zip(parts, junior_parts, strict=True)]


def settle(
    terms: LoanTerms, state: LoanState, amount: int, t: int, *, fee_withheld: bool = False
) -> tuple[Settlement, LoanState]:
    """Run a receipt of `amount` fen at time `t` through the waterfall (DESIGN §4.5).

    With `fee_withheld` (the tech partner's book is above `tech_fee_npl_bps`, DESIGN §6.6)
    the fee share goes to the provision pool: the settlement's fee is 0 and its provision
    is the fee plus the provision share. Returns the settlement and the new state; the
    inputs are not changed.
    """
    _check_int(amount, "receipt amount")
    state = accrue(terms, state, t)
    n = len(terms.tranches)
    tranches = terms.tranches

    # 1. Interest: fee and provision first.
    interest_paid = min(amount, state.interest_due_fen)
    fee = interest_paid * terms.fee_share_bps // BPS
    provision = interest_paid * terms.provision_share_bps // BPS
    lenders_left = interest_paid - fee - provision

    # 2. Senior coupons in listed order.
    interest = [0] * n
    coupon_due = list(state.coupon_due_fen)
    for i, tranche in enumerate(tranches):
        if tranche.senior:
            paid = min(lenders_left, coupon_due[i])
            interest[i] = paid
            coupon_due[i] -= paid
            lenders_left -= paid

    # 3. The rest of L: juniors pro rata by outstanding (no junior: all tranches).
    chosen = [i for i, tranche in enumerate(tranches) if not tranche.senior] or list(range(n))
    weights = [state.outstanding_fen[i] for i in chosen]
    if sum(weights) == 0:
        weights = [tranches[i].principal_fen for i in chosen]
    shares = _split_among(lenders_left, chosen, weights, n)
    interest = [a + b for a, b in zip(interest, shares, strict=True)]

    # 4. Interest due goes down by what was paid.
    interest_due = state.interest_due_fen - interest_paid

    # 5. Principal.
    principal_paid = min(amount - interest_paid, state.principal_outstanding_fen)
    if terms.mode == "sequential" or state.defaulted:
        principal = _sequential_principal(terms, state.outstanding_fen, principal_paid)
    else:
        principal = split_pro_rata(principal_paid, state.outstanding_fen)
    outstanding = tuple(o - p for o, p in zip(state.outstanding_fen, principal, strict=True))

    # 6. Residual to the borrower.
    residual = amount - interest_paid - principal_paid

    settlement = Settlement(
        at=t,
        amount_fen=amount,
        fee_fen=fee,
        provision_fen=provision,
        interest_fen=tuple(interest),
        principal_fen=tuple(principal),
        residual_fen=residual,
    )
    new_state = replace(
        state,
        outstanding_fen=outstanding,
        coupon_due_fen=tuple(coupon_due),
        interest_due_fen=interest_due,
    )
    return (withhold_fee(settlement) if fee_withheld else settlement), new_state


def withhold_fee(settlement: Settlement) -> Settlement:
    """The settlement with its fee share sent to the provision pool (DESIGN §6.6)."""
    return replace(
        settlement, fee_fen=0, provision_fen=settlement.provision_fen + settlement.fee_fen
    )


def cover(terms: LoanTerms, state: LoanState, amount: int, t: int) -> tuple[Cover, LoanState]:
    """The provision pool pays up to `amount` fen of principal into a defaulted loan.

    Marks the loan defaulted (later receipts repay principal seniors first). Accrues to `t`
    first, then pays `min(amount, outstanding principal)` in sequential
    order (seniors in listed order, then juniors pro rata by outstanding) whatever the
    loan's mode. No fee, no provision, no interest; interest due is unchanged.
    """
    _check_int(amount, "cover amount")
    state = accrue(terms, state, t)
    used = min(amount, state.principal_outstanding_fen)
    principal = _sequential_principal(terms, state.outstanding_fen, used)
    outstanding = tuple(o - p for o, p in zip(state.outstanding_fen, principal, strict=True))
    result = Cover(at=t, offered_fen=amount, used_fen=used, principal_fen=tuple(principal))
    return result, replace(state, outstanding_fen=outstanding, defaulted=True)


def quote(terms: LoanTerms, receipts: Sequence[tuple[int, int]]) -> list[Settlement]:
    """Settle `(time, amount)` receipts in order from disbursement; a repayment preview.

    Raises BadInput if the receipts are not in time order or come before disbursement.
    """
    state = LoanState.initial(terms)
    settlements: list[Settlement] = []
    last = terms.disbursed_at
    for at, amount in receipts:
        _check_int(at, "receipt time")
        if at < terms.disbursed_at:
            raise BadInput(f"receipt at {at} comes before disbursement at {terms.disbursed_at}")
        if at < last:
            raise BadInput(f"receipt at {at} comes before the previous one at {last}")
        last = at
        settlement, state = settle(terms, state, amount, at)
        settlements.append(settlement)
    return settlements


@dataclass(frozen=True)
class TechBook:
    """A tech partner's loans, those paying it a fee share (DESIGN §6.6).

    Attributes:
        outstanding_fen: principal outstanding of its disbursed and defaulted loans.
        defaulted_fen: of which, that of its defaulted loans.
    """

    outstanding_fen: int = 0
    defaulted_fen: int = 0

    def fee_withheld(self, threshold_bps: int) -> bool:
        """True while defaulted ÷ outstanding > threshold_bps / 10000, compared exactly."""
        _check_int(threshold_bps, "threshold")
        return self.defaulted_fen * BPS > threshold_bps * self.outstanding_fen

    def disbursed(self, principal_fen: int) -> TechBook:
        """A loan of `principal_fen` was disbursed."""
        _check_int(principal_fen, "principal")
        return replace(self, outstanding_fen=self.outstanding_fen + principal_fen)

    def repaid(self, principal_fen: int, *, defaulted: bool) -> TechBook:
        """A settlement repaid `principal_fen` of a loan (`defaulted`: a defaulted one)."""
        _check_int(principal_fen, "principal")
        if principal_fen > self.outstanding_fen or (
            defaulted and principal_fen > self.defaulted_fen
        ):
            raise BadInput(f"{principal_fen} fen repaid is more than the book holds")
        return TechBook(
            outstanding_fen=self.outstanding_fen - principal_fen,
            defaulted_fen=self.defaulted_fen - (principal_fen if defaulted else 0),
        )

    def lapsed(self, refund_fen: int) -> TechBook:
        """Undrawn stages of a staged loan lapsed (DESIGN §6.4): the book counted the loan's
        committed principal from its disbursement; `refund_fen`, undrawn, went back to the
        lenders and leaves it."""
        _check_int(refund_fen, "refund")
        if refund_fen > self.outstanding_fen - self.defaulted_fen:
            raise BadInput(f"{refund_fen} fen lapsed is more than the book's performing part")
        return replace(self, outstanding_fen=self.outstanding_fen - refund_fen)

    def settled(
        self, principal_fen: int, *, defaulted: bool, threshold_bps: int, lapsed_fen: int = 0
    ) -> tuple[TechBook, bool]:
        """A receipt repaid `principal_fen` of one of its loans: the book after it, and
        whether the receipt's fee goes to the pool — decided on the book as the receipt
        leaves it, so a recovery that repays the last defaulted principal pays the fee
        (DESIGN §6.2 worked example 3). A receipt that repays a staged loan lapses its
        undrawn stages (`lapsed_fen`) in the same transaction, before the fee is decided."""
        book = self.lapsed(lapsed_fen) if lapsed_fen else self
        book = book.repaid(principal_fen, defaulted=defaulted)
        return book, book.fee_withheld(threshold_bps)

    def default(self, cover_fen: int, remaining_fen: int) -> TechBook:
        """A loan defaulted: `cover_fen` of its principal was covered, `remaining_fen` not."""
        _check_int(cover_fen, "cover")
        _check_int(remaining_fen, "remaining principal")
        if cover_fen + remaining_fen > self.outstanding_fen - self.defaulted_fen:
            raise BadInput("the defaulted loan's principal is more than the book's performing part")
        return TechBook(
            outstanding_fen=self.outstanding_fen - cover_fen,
            defaulted_fen=self.defaulted_fen + remaining_fen,
        )


def apr_disclosure(terms: LoanTerms) -> AprDisclosure:
    """The APR disclosed to the borrower (the borrower rate) and the penalty rate."""
    return AprDisclosure(apr_bps=terms.rate_bps, penalty_bps=terms.penalty_bps)
