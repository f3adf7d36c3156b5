"""Reference model of staged drawdown (分期提款, DESIGN §6.4), on top of `waterfall`.

Lenders fund whole tranches up front; stage 0 is drawn at disbursement and stage k ≥ 1 when
the borrower draws it. Each stage's amount is drawn from the tranches pro rata by commitment
(largest remainder, ties to the lower index) — or, where that rounding would take more from a
tranche than it has left undrawn, pro rata by undrawn money (which never overdraws, and for
the last stage is exactly what each tranche has left). A tranche's outstanding principal is
what was drawn from it less what was repaid, so `waterfall.accrue` and `waterfall.settle`
charge interest and coupons on drawn money only. Undrawn stages lapse: each tranche's undrawn
money goes back to its lender.

All functions are pure, like `waterfall`'s: they return new values and change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ledger.errors import BadInput
from ledger.reference import waterfall

MAX_STAGES = 8
"""Stages per loan (LoanStages.MAX_STAGES): stage 0 and up to 7 drawn later."""


@dataclass(frozen=True)
class Drawn:
    """One stage drawn.

    Attributes:
        at: unix seconds of the draw (stage 0: the disbursement).
        amount_fen: the stage's amount, paid to its payees.
        principal_fen: per tranche, what was drawn from it; sums to `amount_fen`.
    """

    at: int
    amount_fen: int
    principal_fen: tuple[int, ...]


def draw_parts(amount: int, committed: Sequence[int], undrawn: Sequence[int]) -> list[int]:
    """Split a stage of `amount` fen over the tranches: pro rata by `committed`, unless a part
    would exceed that tranche's `undrawn` money, then pro rata by `undrawn`.

    Raises BadInput if `amount` is more than the money left undrawn.
    """
    if len(committed) != len(undrawn):
        raise BadInput(f"{len(committed)} commitments but {len(undrawn)} undrawn amounts")
    if amount > sum(undrawn):
        raise BadInput(f"a stage of {amount} fen is more than the {sum(undrawn)} fen undrawn")
    parts = waterfall.split_pro_rata(amount, committed)
    if any(p > u for p, u in zip(parts, undrawn, strict=True)):
        parts = waterfall.split_pro_rata(amount, undrawn)
    return parts


def start(
    terms: waterfall.LoanTerms, first_fen: int
) -> tuple[Drawn, waterfall.LoanState, tuple[int, ...]]:
    """Disbursement of a staged loan: stage 0 (`first_fen`) drawn at `terms.disbursed_at`.

    Returns the draw, the state (outstanding = what was drawn) and each tranche's undrawn money.
    """
    committed = [t.principal_fen for t in terms.tranches]
    parts = draw_parts(first_fen, committed, committed)
    state = replace(waterfall.LoanState.initial(terms), outstanding_fen=tuple(parts))
    undrawn = tuple(c - p for c, p in zip(committed, parts, strict=True))
    return Drawn(terms.disbursed_at, first_fen, tuple(parts)), state, undrawn


def draw(
    terms: waterfall.LoanTerms,
    state: waterfall.LoanState,
    undrawn: Sequence[int],
    amount: int,
    t: int,
) -> tuple[Drawn, waterfall.LoanState, tuple[int, ...]]:
    """Draw a stage of `amount` fen at time `t`: interest and coupons are accrued to `t` on
    what was drawn before, then each tranche's part is added to its outstanding."""
    state = waterfall.accrue(terms, state, t)
    committed = [tr.principal_fen for tr in terms.tranches]
    parts = draw_parts(amount, committed, undrawn)
    outstanding = tuple(o + p for o, p in zip(state.outstanding_fen, parts, strict=True))
    left = tuple(u - p for u, p in zip(undrawn, parts, strict=True))
    return Drawn(t, amount, tuple(parts)), replace(state, outstanding_fen=outstanding), left


def lapse(undrawn: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Undrawn stages lapse: (refund per tranche — its undrawn money —, undrawn now: zeros)."""
    return tuple(undrawn), (0,) * len(undrawn)
