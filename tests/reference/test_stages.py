"""The staged-drawdown reference model (DESIGN §6.4): splits that sum, never overdraw, and
follow the commitments; interest on drawn principal only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import BadInput
from ledger.reference import stages, waterfall

DAY = 86_400


@given(
    committed=st.lists(st.integers(1, 10**9), min_size=1, max_size=8),
    weights=st.lists(st.integers(1, 10**6), min_size=1, max_size=8),
)
def test_drawing_every_stage_draws_each_tranche_exactly_its_commitment(
    committed: list[int], weights: list[int]
) -> None:
    total = sum(committed)
    if total < len(weights):
        weights = weights[:total]
    amounts = [1 + a for a in waterfall.split_pro_rata(total - len(weights), weights)]
    undrawn = list(committed)
    drawn = [0] * len(committed)
    for amount in amounts:
        parts = stages.draw_parts(amount, committed, undrawn)
        assert sum(parts) == amount
        assert all(0 <= p <= u for p, u in zip(parts, undrawn, strict=True))
        by_commitment = waterfall.split_pro_rata(amount, committed)
        if all(p <= u for p, u in zip(by_commitment, undrawn, strict=True)):
            assert parts == by_commitment  # pro rata by commitment whenever it fits
        undrawn = [u - p for u, p in zip(undrawn, parts, strict=True)]
        drawn = [d + p for d, p in zip(drawn, parts, strict=True)]
    assert drawn == committed and undrawn == [0] * len(committed)


def test_a_stage_larger_than_the_money_left_is_refused() -> None:
    with pytest.raises(BadInput, match="more than the 5 fen undrawn"):
        stages.draw_parts(6, [10, 10], [2, 3])


def test_interest_runs_on_drawn_principal_only() -> None:
    """1,000,000.00 committed at 10%, 400,000.00 drawn at disbursement and 600,000.00 at day
    30: interest to day 90 is 400,000.00 for 90 days + 600,000.00 for 60 days."""
    terms = waterfall.LoanTerms.for_term(
        [waterfall.Tranche("bank", False, 100_000_000)],
        rate_bps=1000,
        disbursed_at=0,
        term_days=90,
    )
    first, state, undrawn = stages.start(terms, 40_000_000)
    assert first.principal_fen == (40_000_000,) and undrawn == (60_000_000,)
    _, state, undrawn = stages.draw(terms, state, undrawn, 60_000_000, 30 * DAY)
    owed = waterfall.accrue(terms, state, 90 * DAY)
    expected = (40_000_000 * 1000 * 90 * DAY + 60_000_000 * 1000 * 60 * DAY) // (
        10_000 * 31_536_000
    )
    # 40 × 90 + 60 × 60 = 80 × 90: worked example 1's interest, not the whole commitment's
    assert owed.interest_due_fen == expected == 1_972_602
    whole = waterfall.accrue(terms, waterfall.LoanState.initial(terms), 90 * DAY)
    assert whole.interest_due_fen == 2_465_753
    assert stages.lapse(undrawn) == ((0,), (0,))


def test_a_receipt_repaying_a_staged_loan_lapses_its_undrawn_stages_before_the_fee() -> None:
    """The tech partner's book counts the staged loan's undrawn 900,000 fen until they lapse:
    the closing receipt's fee is decided on the book without them (DESIGN §6.4, §6.6)."""
    book = waterfall.TechBook(outstanding_fen=2_000_000, defaulted_fen=30_000)
    # judged with the undrawn money still in it: 30,000 / 1,930,000 = 1.55% ≤ 2.50%
    _, withheld = book.settled(70_000, defaulted=False, threshold_bps=250)
    assert not withheld
    # as the receipt leaves it: 30,000 / 1,030,000 = 2.91% > 2.50%, the fee to the pool
    after, withheld = book.settled(70_000, defaulted=False, threshold_bps=250, lapsed_fen=900_000)
    assert withheld
    assert after == waterfall.TechBook(outstanding_fen=1_030_000, defaulted_fen=30_000)
