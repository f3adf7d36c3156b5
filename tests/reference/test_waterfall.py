"""The reference waterfall model: DESIGN §4.5's worked examples, hand-computed cases, properties.

Hand-computed numbers use `floor(principal × bps × seconds / (10000 × 31,536,000))`; with
whole days that is `floor(principal × bps × days / (10000 × 365))`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import BadInput
from ledger.reference.waterfall import (
    BPS,
    DAY,
    AprDisclosure,
    LoanState,
    LoanTerms,
    Mode,
    Settlement,
    Tranche,
    accrue,
    apr_disclosure,
    cover,
    interest_for,
    quote,
    settle,
    split_pro_rata,
)

T0 = 1_700_000_000


def parts_total(s: Settlement) -> int:
    return s.fee_fen + s.provision_fen + sum(s.interest_fen) + sum(s.principal_fen) + s.residual_fen


def example_one() -> LoanTerms:
    return LoanTerms.for_term(
        [Tranche("bank", True, 56_000_000, 500), Tranche("microloan", False, 24_000_000)],
        rate_bps=1000,
        disbursed_at=T0,
        term_days=90,
        fee_share_bps=2000,
        provision_share_bps=1000,
    )


def example_two(mode: Mode) -> LoanTerms:
    return LoanTerms.for_term(
        [
            Tranche("a", False, 3_333_334),
            Tranche("b", False, 3_333_333),
            Tranche("c", False, 3_333_333),
        ],
        rate_bps=1200,
        disbursed_at=T0,
        term_days=60,
        fee_share_bps=2500,
        provision_share_bps=500,
        mode=mode,
    )


# ---------------------------------------------------------------- worked examples


def test_worked_example_one_pays_fee_provision_senior_coupon_junior_rest_and_principal() -> None:
    terms = example_one()
    state = accrue(terms, LoanState.initial(terms), T0 + 7_776_000)
    assert state.interest_due_fen == 1_972_602

    s, after = settle(terms, LoanState.initial(terms), 100_000_000, T0 + 7_776_000)

    assert s == Settlement(
        at=T0 + 7_776_000,
        amount_fen=100_000_000,
        fee_fen=394_520,
        provision_fen=197_260,
        interest_fen=(690_410, 690_412),
        principal_fen=(56_000_000, 24_000_000),
        residual_fen=18_027_398,
    )
    assert parts_total(s) == 100_000_000
    assert after.repaid
    assert after.coupon_due_fen == (0, 0)


@pytest.mark.parametrize("mode", ["pro-rata", "sequential"])
def test_worked_example_two_splits_pari_passu_tranches_by_largest_remainder(mode: Mode) -> None:
    terms = example_two(mode)
    state = LoanState.initial(terms)

    first, state = settle(terms, state, 1_000_000, T0 + 30 * DAY)
    assert (first.fee_fen, first.provision_fen) == (24_657, 4_931)
    assert first.interest_fen == (23_014, 23_014, 23_014)
    assert first.principal_fen == (300_457, 300_457, 300_456)
    assert first.residual_fen == 0
    assert not state.repaid

    second, state = settle(terms, state, 9_500_000, T0 + 61 * DAY)
    assert (second.fee_fen, second.provision_fen) == (23_182, 4_636)
    assert second.interest_fen == (21_638, 21_637, 21_638)
    assert second.principal_fen == (3_032_877, 3_032_876, 3_032_877)
    assert second.residual_fen == 308_639
    assert state.repaid

    assert quote(terms, [(T0 + 30 * DAY, 1_000_000), (T0 + 61 * DAY, 9_500_000)]) == [
        first,
        second,
    ]


# ---------------------------------------------------------------- hand-computed cases


def penalty_loan() -> LoanTerms:
    # One junior 10,000,000 at 10%, penalty 5%, 30 days + 5 days grace: penalty from day 35.
    return LoanTerms.for_term(
        [Tranche("microloan", False, 10_000_000)],
        rate_bps=1000,
        penalty_bps=500,
        disbursed_at=T0,
        term_days=30,
        grace_days=5,
    )


def test_penalty_accrues_only_for_the_part_of_a_period_past_maturity_plus_grace() -> None:
    terms = penalty_loan()
    state = LoanState.initial(terms)

    # Day 33, before the penalty starts: 10,000,000 × 1000 × 33 / 3,650,000 = 90,410.9…
    first, state = settle(terms, state, 50_000, T0 + 33 * DAY)
    assert state.interest_due_fen == 90_410 - 50_000
    assert first.interest_fen == (50_000,)
    assert first.principal_fen == (0,)

    # Day 33 → 40 straddles day 35: interest 7 days = 19,178.08…, penalty 5 days
    # 10,000,000 × 500 × 5 / 3,650,000 = 6,849.31…. The 0.958… fen floored off at day 33 is
    # carried: interest over 40 days is floor(109,589.04…) = 90,410 + 19,179, so due is
    # 40,410 + 19,179 + 6,849 = 66,438.
    second, state = settle(terms, state, 200_000, T0 + 40 * DAY)
    assert second.interest_fen == (66_438,)
    assert second.principal_fen == (200_000 - 66_438,)
    assert second.residual_fen == 0
    assert state.outstanding_fen == (9_866_438,)
    assert state.interest_due_fen == 0

    # Day 40 → 45, all past day 35: interest 9,866,438 × 1000 × 5 / 3,650,000 = 13,515.66…
    # plus the 0.04… carried from day 40; penalty 9,866,438 × 500 × 5 / 3,650,000 =
    # 6,757.83… plus its own carry 0.31… (5 days of 6,849.31…): two streams, two floors.
    state = accrue(terms, state, T0 + 45 * DAY)
    assert state.interest_due_fen == 13_515 + 6_758


def test_penalty_is_the_same_whether_the_grace_boundary_is_a_checkpoint_or_not() -> None:
    terms = penalty_loan()
    straight = accrue(terms, LoanState.initial(terms), T0 + 40 * DAY)
    # 40 days of interest 109,589.04… + 5 days of penalty 6,849.31…
    assert straight.interest_due_fen == 109_589 + 6_849
    # Before maturity + grace nothing extra accrues, exactly at it nothing either.
    at_grace_end = accrue(terms, LoanState.initial(terms), T0 + 35 * DAY)
    assert at_grace_end.interest_due_fen == interest_for(10_000_000, 1000, 35 * DAY)


def test_senior_coupon_shortfall_is_carried_to_the_next_receipt_before_juniors_get_anything() -> (
    None
):
    terms = LoanTerms.for_term(
        [Tranche("bank", True, 6_000_000, 800), Tranche("microloan", False, 4_000_000)],
        rate_bps=1000,
        disbursed_at=T0,
        term_days=90,
    )
    state = LoanState.initial(terms)

    # Day 30: interest due 10,000,000 × 1000 × 30 / 3,650,000 = 82,191.78…; senior coupon
    # 6,000,000 × 800 × 30 / 3,650,000 = 39,452.05…; the 30,000 receipt covers only part.
    first, state = settle(terms, state, 30_000, T0 + 30 * DAY)
    assert first.interest_fen == (30_000, 0)
    assert state.coupon_due_fen == (9_452, 0)
    assert state.interest_due_fen == 82_191 - 30_000

    # Day 60: another 82,191 of interest and 39,452 of coupon; the senior's 48,904 first.
    second, state = settle(terms, state, 100_000, T0 + 60 * DAY)
    assert second.interest_fen == (48_904, 100_000 - 48_904)
    assert second.principal_fen == (0, 0)
    assert state.coupon_due_fen == (0, 0)
    # Interest over 60 days on 10,000,000 is floor(164,383.56…), one fen more than the two
    # 30-day floors 82,191 + 82,191: the 0.78… fen floored at day 30 was carried.
    assert state.interest_due_fen == 164_383 - 30_000 - 100_000


@pytest.mark.parametrize(
    ("mode", "principal"), [("sequential", (800_000, 0)), ("pro-rata", (480_000, 320_000))]
)
def test_a_loan_without_juniors_sends_leftover_interest_pro_rata_to_all_tranches(
    mode: Mode, principal: tuple[int, int]
) -> None:
    terms = LoanTerms.for_term(
        [Tranche("bank", True, 6_000_000, 300), Tranche("other", True, 4_000_000, 200)],
        rate_bps=1000,
        disbursed_at=T0,
        term_days=365,
        mode=mode,
    )
    # Day 73 is exactly 1/5 of a year: interest 200,000; coupons 36,000 and 16,000; the
    # remaining 148,000 split 6:4 is 88,800 / 59,200.
    s, state = settle(terms, LoanState.initial(terms), 1_000_000, T0 + 73 * DAY)
    assert s.interest_fen == (36_000 + 88_800, 16_000 + 59_200)
    assert s.principal_fen == principal
    assert s.residual_fen == 0
    assert state.interest_due_fen == 0


def defaulted_loan() -> LoanTerms:
    return LoanTerms.for_term(
        [
            Tranche("bank", True, 6_000_000, 500),
            Tranche("microloan", False, 3_000_000),
            Tranche("factor", False, 1_000_000),
        ],
        rate_bps=1000,
        disbursed_at=T0,
        term_days=30,
        mode="pro-rata",
    )


def test_cover_after_default_pays_seniors_first_then_juniors_and_later_receipts_still_run() -> None:
    terms = defaulted_loan()

    # Day 120: 120 days of interest 328,767.12… and of senior coupon 98,630.13…
    result, state = cover(terms, LoanState.initial(terms), 7_000_000, T0 + 120 * DAY)
    assert result.used_fen == 7_000_000
    assert result.principal_fen == (6_000_000, 750_000, 250_000)  # sequential despite pro-rata
    assert state.outstanding_fen == (0, 2_250_000, 750_000)
    assert state.interest_due_fen == 328_767
    assert state.coupon_due_fen == (98_630, 0, 0)

    # Day 150: 30 more days on 3,000,000 is 24,657.53…; due 353,424. The senior's coupon
    # first, then 254,794 split 3:1 = 191,095.5 / 63,698.5, the tie to the lower index.
    s, state = settle(terms, state, 500_000, T0 + 150 * DAY)
    assert s.interest_fen == (98_630, 191_096, 63_698)
    assert s.principal_fen == (0, 109_932, 36_644)
    assert s.residual_fen == 0
    assert parts_total(s) == 500_000
    assert state.outstanding_fen == (0, 2_140_068, 713_356)


def test_cover_of_everything_leaves_interest_due_shared_by_original_principal() -> None:
    terms = defaulted_loan()
    result, state = cover(terms, LoanState.initial(terms), 20_000_000, T0 + 120 * DAY)
    assert result.offered_fen == 20_000_000
    assert result.used_fen == 10_000_000
    assert state.principal_outstanding_fen == 0
    assert not state.repaid

    # No principal left, so nothing accrues; juniors' outstanding is all zero, so the
    # 328,767 − 98,630 = 230,137 goes 3:1 by original principal: 172,602.75 / 57,534.25.
    s, state = settle(terms, state, 500_000, T0 + 150 * DAY)
    assert s.interest_fen == (98_630, 172_603, 57_534)
    assert s.principal_fen == (0, 0, 0)
    assert s.residual_fen == 500_000 - 328_767
    assert state.repaid


def test_split_pro_rata_gives_tied_leftover_fen_to_the_lower_index() -> None:
    assert split_pro_rata(1, [1, 1, 1]) == [1, 0, 0]
    assert split_pro_rata(2, [1, 1, 1]) == [1, 1, 0]
    assert split_pro_rata(5, [0, 2, 2]) == [0, 3, 2]
    assert split_pro_rata(7, [3, 0, 1]) == [5, 0, 2]  # remainders 1 and 3: index 2 wins
    assert split_pro_rata(0, [0, 0]) == [0, 0]


def test_split_pro_rata_refuses_what_it_cannot_place() -> None:
    with pytest.raises(BadInput):
        split_pro_rata(1, [0, 0])
    with pytest.raises(BadInput):
        split_pro_rata(-1, [1])
    with pytest.raises(BadInput):
        split_pro_rata(1, [1, -1])


def test_accruing_to_an_earlier_time_changes_nothing() -> None:
    terms = example_one()
    state = accrue(terms, LoanState.initial(terms), T0 + 10 * DAY)
    assert accrue(terms, state, T0 + 5 * DAY) == state
    s, after = settle(terms, state, 0, T0 + 5 * DAY)
    assert after == state
    assert parts_total(s) == 0


def test_inputs_are_never_mutated_and_states_are_frozen() -> None:
    terms = example_one()
    initial = LoanState.initial(terms)
    settle(terms, initial, 100_000_000, T0 + 90 * DAY)
    assert initial == LoanState.initial(terms)
    with pytest.raises(AttributeError):
        initial.interest_due_fen = 5  # type: ignore[misc]


def test_apr_disclosure_is_the_borrower_rate_with_the_penalty_shown_apart() -> None:
    assert apr_disclosure(penalty_loan()) == AprDisclosure(apr_bps=1000, penalty_bps=500)


def test_quote_refuses_receipts_out_of_time_order() -> None:
    terms = example_one()
    with pytest.raises(BadInput):
        quote(terms, [(T0 + 2 * DAY, 1), (T0 + DAY, 1)])
    with pytest.raises(BadInput):
        quote(terms, [(T0 - 1, 1)])


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda: LoanTerms(tranches=(), rate_bps=1, disbursed_at=0, maturity_at=1),
            id="no tranche",
        ),
        pytest.param(lambda: Tranche("x", False, -1), id="negative principal"),
        pytest.param(lambda: Tranche("x", False, 0), id="zero principal"),
        pytest.param(lambda: Tranche("x", True, 100, -5), id="negative coupon"),
        pytest.param(lambda: Tranche("x", False, 100, 300), id="junior with a coupon"),
        pytest.param(lambda: Tranche("x", False, 100.0), id="float principal"),  # type: ignore[arg-type]
        pytest.param(
            lambda: LoanTerms(
                (Tranche("x", False, 1),), 1, 0, 1, fee_share_bps=6000, provision_share_bps=4001
            ),
            id="fee plus provision over 100%",
        ),
        pytest.param(lambda: LoanTerms((Tranche("x", False, 1),), -1, 0, 1), id="negative rate"),
        pytest.param(lambda: LoanTerms((Tranche("x", False, 1),), 1, 10, 9), id="maturity first"),
        pytest.param(
            lambda: LoanTerms((Tranche("x", False, 1),), 1, 0, 1, mode="bullet"),  # type: ignore[arg-type]
            id="unknown mode",
        ),
        pytest.param(
            lambda: LoanTerms((Tranche("x", False, 1),), 1, 0, 1, grace_days=-1),
            id="negative grace",
        ),
        pytest.param(
            lambda: settle(example_one(), LoanState.initial(example_one()), -1, T0),
            id="negative receipt",
        ),
        pytest.param(
            lambda: cover(example_one(), LoanState.initial(example_one()), -1, T0),
            id="negative cover",
        ),
    ],
)
def test_impossible_terms_and_amounts_are_bad_input(build: Any) -> None:
    with pytest.raises(BadInput):
        build()


# ---------------------------------------------------------------- properties

amounts = st.integers(min_value=0, max_value=10**12)


@st.composite
def loan_terms(draw: st.DrawFn, modes: tuple[Mode, ...] = ("sequential", "pro-rata")) -> LoanTerms:
    n = draw(st.integers(min_value=1, max_value=4))
    tranches = []
    for i in range(n):
        senior = draw(st.booleans())
        tranches.append(
            Tranche(
                lender=f"lender{i}",
                senior=senior,
                principal_fen=draw(st.integers(min_value=1, max_value=10**11)),
                coupon_bps=draw(st.integers(min_value=0, max_value=3000)) if senior else 0,
            )
        )
    fee = draw(st.integers(min_value=0, max_value=BPS))
    return LoanTerms.for_term(
        tranches,
        rate_bps=draw(st.integers(min_value=0, max_value=3600)),
        penalty_bps=draw(st.integers(min_value=0, max_value=3600)),
        fee_share_bps=fee,
        provision_share_bps=draw(st.integers(min_value=0, max_value=BPS - fee)),
        mode=draw(st.sampled_from(modes)),
        disbursed_at=T0,
        term_days=draw(st.integers(min_value=0, max_value=400)),
        grace_days=draw(st.integers(min_value=0, max_value=60)),
    )


@dataclass(frozen=True)
class Event:
    gap: int  # seconds after the previous event
    amount: int
    is_cover: bool


@st.composite
def loans_with_events(draw: st.DrawFn) -> tuple[LoanTerms, list[Event]]:
    terms = draw(loan_terms())
    top = 2 * terms.principal_fen
    events = draw(
        st.lists(
            st.builds(
                Event,
                gap=st.integers(min_value=0, max_value=500 * DAY),
                amount=st.one_of(st.integers(min_value=0, max_value=top), st.integers(0, 1000)),
                is_cover=st.integers(min_value=0, max_value=4).map(lambda k: k == 0),
            ),
            max_size=8,
        )
    )
    return terms, events


@settings(max_examples=300, deadline=None)
@given(loans_with_events())
def test_every_settlement_is_exact_and_a_loan_conserves_its_principal(
    case: tuple[LoanTerms, list[Event]],
) -> None:
    terms, events = case
    state = LoanState.initial(terms)
    t = terms.disbursed_at
    principal_paid = [0] * len(terms.tranches)
    seniors = [tranche.senior for tranche in terms.tranches]
    for event in events:
        t += event.gap
        before = accrue(terms, state, t)
        if event.is_cover:
            result, state = cover(terms, state, event.amount, t)
            parts = result.principal_fen
            assert (
                result.used_fen == sum(parts) == min(event.amount, before.principal_outstanding_fen)
            )
            assert state.interest_due_fen == before.interest_due_fen
            assert state.coupon_due_fen == before.coupon_due_fen
            # Sequential: no junior is paid while a senior is still owed.
            if any(o for o, sen in zip(state.outstanding_fen, seniors, strict=True) if sen):
                assert all(p == 0 for p, sen in zip(parts, seniors, strict=True) if not sen)
        else:
            s, state = settle(terms, state, event.amount, t)
            parts = s.principal_fen
            values = [s.fee_fen, s.provision_fen, *s.interest_fen, *s.principal_fen, s.residual_fen]
            assert all(v >= 0 for v in values)
            assert parts_total(s) == event.amount
            interest_paid = s.fee_fen + s.provision_fen + sum(s.interest_fen)
            assert interest_paid == before.interest_due_fen - state.interest_due_fen
            assert interest_paid == min(event.amount, before.interest_due_fen)
            # Fee and provision are floors of their shares of what interest was collected.
            assert s.fee_fen == interest_paid * terms.fee_share_bps // BPS
            assert s.provision_fen == interest_paid * terms.provision_share_bps // BPS
            # A residual only once everything owed is paid.
            if s.residual_fen:
                assert state.repaid
        for i, (p, o) in enumerate(zip(parts, before.outstanding_fen, strict=True)):
            assert 0 <= p <= o
            principal_paid[i] += p
        assert all(o >= 0 for o in state.outstanding_fen)
        assert all(c >= 0 for c in state.coupon_due_fen)
        assert all(c == 0 for c, sen in zip(state.coupon_due_fen, seniors, strict=True) if not sen)
        assert state.interest_due_fen >= 0
        assert state.accrued_to == max(t, terms.disbursed_at)
    for tranche, paid, left in zip(
        terms.tranches, principal_paid, state.outstanding_fen, strict=True
    ):
        assert paid + left == tranche.principal_fen


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=8).filter(any),
    amounts,
)
def test_split_pro_rata_sums_exactly_and_each_part_is_within_one_fen_of_its_share(
    weights: list[int], amount: int
) -> None:
    parts = split_pro_rata(amount, weights)
    total = sum(weights)
    assert sum(parts) == amount
    for part, w in zip(parts, weights, strict=True):
        # |part − amount × w / W| < 1, in integers.
        assert abs(part * total - amount * w) < total
        assert part >= amount * w // total
        if w == 0:
            assert part == 0


@settings(max_examples=100, deadline=None)
@given(
    loan_terms(),
    st.lists(st.tuples(st.integers(0, 200 * DAY), amounts), max_size=6),
)
def test_for_an_all_junior_loan_both_principal_modes_agree(
    terms: LoanTerms, gaps_and_amounts: list[tuple[int, int]]
) -> None:
    juniors = tuple(Tranche(t.lender, False, t.principal_fen) for t in terms.tranches)
    base = LoanTerms(
        tranches=juniors,
        rate_bps=terms.rate_bps,
        disbursed_at=terms.disbursed_at,
        maturity_at=terms.maturity_at,
        penalty_bps=terms.penalty_bps,
        fee_share_bps=terms.fee_share_bps,
        provision_share_bps=terms.provision_share_bps,
        grace_days=terms.grace_days,
    )
    pro_rata = replace(base, mode="pro-rata")
    receipts = []
    t = T0
    for gap, amount in gaps_and_amounts:
        t += gap
        receipts.append((t, amount))
    assert quote(base, receipts) == quote(pro_rata, receipts)


@settings(max_examples=100, deadline=None)
@given(loan_terms(), st.integers(0, 400 * DAY), st.integers(0, 400 * DAY))
def test_an_extra_checkpoint_never_charges_more_and_saves_at_most_a_fen_per_floor(
    terms: LoanTerms, first: int, second: int
) -> None:
    start = LoanState.initial(terms)
    once = accrue(terms, start, T0 + first + second)
    twice = accrue(terms, accrue(terms, start, T0 + first), T0 + first + second)
    # floor(x + y) − floor(x) − floor(y) is 0 or 1: interest and penalty are two floors.
    assert 0 <= once.interest_due_fen - twice.interest_due_fen <= 2
    for a, b in zip(once.coupon_due_fen, twice.coupon_due_fen, strict=True):
        assert 0 <= a - b <= 1
