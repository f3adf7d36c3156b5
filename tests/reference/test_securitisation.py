"""The securitisation reference model: the worked example of docs/securitisation.md, and
properties of the note waterfall (cash conserved, sequential principal, junior first)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.reference import securitisation as m

DAY = 86_400
TERMS = m.DealTerms(
    (
        m.NoteClass("A", 80_000_000, 500),
        m.NoteClass("B", 15_000_000, 800),
        m.NoteClass("J", 5_000_000),
    ),
    50,
)


def test_the_worked_example() -> None:
    assert m.retention_fen(100_000_000, 500) == 5_000_000
    assert m.retention_fen(100_000_001, 500) == 5_000_001  # ceil
    s = m.closed(TERMS, 0)
    d, s = m.distribute(TERMS, s, 10_000_000, 30 * DAY)
    assert (d.fee_fen, d.coupon_fen, d.principal_fen, d.excess_fen) == (
        41_095,
        (328_767, 98_630, 0),
        (9_531_508, 0, 0),
        0,
    )
    reduced, s = m.write_off(TERMS, s, 12_000_000, 60 * DAY)
    assert reduced == (0, 7_000_000, 5_000_000)
    assert (s.fee_due, s.coupon_due) == (37_178, (289_596, 98_630, 0))
    d, s = m.distribute(TERMS, s, 3_000_000, 90 * DAY)
    assert (d.fee_fen, d.coupon_fen, d.principal_fen) == (
        69_425,
        (579_192, 151_232, 0),
        (2_200_151, 0, 0),
    )
    assert s.balances == (68_268_341, 8_000_000, 0)
    units = m.PerUnit(80_000_000, holdings={"x": 60_000_000, "y": 20_000_000})
    units.pay(d.to_class(0))
    assert (units.claimable("x"), units.claimable("y")) == (2_084_507, 694_835)


@given(
    payments=st.lists(
        st.tuples(st.integers(0, 400 * DAY), st.integers(1, 150_000_000)), min_size=1, max_size=6
    )
)
def test_cash_is_conserved_and_principal_is_sequential(payments: list[tuple[int, int]]) -> None:
    s = m.closed(TERMS, 0)
    t = 0
    for gap, cash in payments:
        t += gap
        d, after = m.distribute(TERMS, s, cash, t)
        assert d.fee_fen + sum(d.coupon_fen) + sum(d.principal_fen) + d.excess_fen == cash
        # a junior class is paid principal only once every senior one is repaid
        for c in range(1, len(TERMS.classes)):
            if d.principal_fen[c]:
                assert all(b == 0 for b in after.balances[:c])
        assert d.excess_fen == 0 or not any(after.balances)
        s = after


@given(
    paid=st.lists(st.integers(1, 10**9), min_size=1, max_size=8),
    split=st.integers(1, 79_999_999),
    moved=st.integers(0, 10_000),
)
def test_per_unit_claims_never_exceed_payments_and_leave_under_a_fen_per_holder(
    paid: list[int], split: int, moved: int
) -> None:
    units = m.PerUnit(80_000_000, holdings={"x": split, "y": 80_000_000 - split})
    for i, p in enumerate(paid):
        units.pay(p)
        if i == 0 and moved <= units.holdings["x"]:
            units.move("x", "y", moved)
    total = sum(paid)
    # without a transfer each holder is owed the floor of its exact pro-rata share
    if moved > split:
        assert units.claimable("x") == total * split // 80_000_000
    claims = units.claim("x") + units.claim("y")
    assert total - 2 < claims <= total


@given(
    paid=st.lists(st.integers(1, 10**9), min_size=1, max_size=8),
    moved=st.integers(1, 80_000_000),
)
def test_a_sole_holder_is_owed_every_fen_paid_to_its_class(paid: list[int], moved: int) -> None:
    units = m.PerUnit(80_000_000, holdings={"x": 80_000_000})
    units.pay(paid[0])
    units.move("x", "y", moved)  # out and back: the class has one holder again
    units.move("y", "x", moved)
    for p in paid[1:]:
        units.pay(p)
    assert units.claim("x") == sum(paid)
    assert units.claimable("y") == 0
