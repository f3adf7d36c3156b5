"""Reference model of a securitisation deal's note waterfall (DESIGN §6.5).

Integer fen and unix seconds only; every function is pure. The Securitisation contract
implements the same rules and a property test compares the two distribution by
distribution.

- `accrue`: the servicing fee (on the notes' total balance) and each coupon class's coupon
  (on its own balance), simple interest per second, floored at each checkpoint; what is not
  paid carries over.
- `distribute`: cash in, in order: (1) the fee due to the servicer; (2) each coupon class in
  order, its coupon due; (3) principal sequentially, senior first, each class up to its
  balance, the junior last; (4) once every class is repaid, the rest to the junior (excess).
- `write_off`: a loss reduces class balances junior first.
- `retention_fen`: ceil(B × min_retention_bps / 10000), the junior units the originator keeps.
- `PerUnit`: what each holder of a class can claim, pro rata by units, exactly:
  floor(paid × units held / class units), a transfer's correction keeping earlier payments
  with the sender; a holder's sub-fen part waits, under one fen per holder per class, and a
  sole holder is owed every fen paid to the class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ledger.errors import BadInput
from ledger.reference.waterfall import BPS, interest_for

MIN_CLASSES, MAX_CLASSES = 2, 5


@dataclass(frozen=True)
class NoteClass:
    """One class of notes.

    Attributes:
        name: e.g. "A".
        amount_fen: initial balance (= units).
        coupon_bps: a year; 0 for the junior (the last class).
    """

    name: str
    amount_fen: int
    coupon_bps: int = 0


@dataclass(frozen=True)
class DealTerms:
    """What the waterfall needs of a deal: its classes (senior first) and servicing fee."""

    classes: tuple[NoteClass, ...]
    fee_bps: int

    def __post_init__(self) -> None:
        n = len(self.classes)
        if not MIN_CLASSES <= n <= MAX_CLASSES:
            raise BadInput(f"a deal has {MIN_CLASSES} to {MAX_CLASSES} classes, not {n}")
        if self.classes[-1].coupon_bps:
            raise BadInput("the junior class (the last) has no coupon")
        if any(c.amount_fen <= 0 for c in self.classes):
            raise BadInput("every class needs a positive amount")

    @property
    def pool_fen(self) -> int:
        return sum(c.amount_fen for c in self.classes)


@dataclass(frozen=True)
class DealState:
    """A closed deal between distributions."""

    balances: tuple[int, ...]
    coupon_due: tuple[int, ...]
    fee_due: int
    accrued_to: int


@dataclass(frozen=True)
class Distribution:
    """One distribution, field for field the contract's `Distributed` event."""

    at: int
    cash_fen: int
    fee_fen: int
    coupon_fen: tuple[int, ...]
    principal_fen: tuple[int, ...]
    excess_fen: int

    def to_class(self, c: int) -> int:
        """What class `c` received (coupon, principal and, for the junior, the excess)."""
        last = len(self.coupon_fen) - 1
        return self.coupon_fen[c] + self.principal_fen[c] + (self.excess_fen if c == last else 0)


def closed(terms: DealTerms, at: int) -> DealState:
    """The state at close: every class at its amount, nothing accrued."""
    n = len(terms.classes)
    return DealState(tuple(c.amount_fen for c in terms.classes), (0,) * n, 0, at)


def retention_fen(pool_fen: int, min_retention_bps: int) -> int:
    """ceil(B × min_retention_bps / 10000)."""
    return -(-pool_fen * min_retention_bps // BPS)


def accrue(terms: DealTerms, state: DealState, t: int) -> DealState:
    dt = t - state.accrued_to
    if dt < 0:
        raise BadInput(f"time {t} is before the last checkpoint {state.accrued_to}")
    if dt == 0:
        return state
    coupon = tuple(
        due + interest_for(balance, c.coupon_bps, dt)
        for due, balance, c in zip(state.coupon_due, state.balances, terms.classes, strict=True)
    )
    fee = state.fee_due + interest_for(sum(state.balances), terms.fee_bps, dt)
    return replace(state, coupon_due=coupon, fee_due=fee, accrued_to=t)


def distribute(
    terms: DealTerms, state: DealState, cash: int, t: int
) -> tuple[Distribution, DealState]:
    """Pay `cash` fen out by the note waterfall at time `t`."""
    if cash <= 0:
        raise BadInput("a distribution needs cash")
    s = accrue(terms, state, t)
    left = cash
    fee = min(left, s.fee_due)
    left -= fee
    coupon_due = list(s.coupon_due)
    coupon = [0] * len(terms.classes)
    for c in range(len(terms.classes)):
        coupon[c] = min(left, coupon_due[c])
        coupon_due[c] -= coupon[c]
        left -= coupon[c]
    balances = list(s.balances)
    principal = [0] * len(terms.classes)
    for c in range(len(terms.classes)):
        principal[c] = min(left, balances[c])
        balances[c] -= principal[c]
        left -= principal[c]
    excess = left if not any(balances) else 0
    assert excess == left, "cash left while a class still has a balance"
    out = Distribution(t, cash, fee, tuple(coupon), tuple(principal), excess)
    return out, DealState(tuple(balances), tuple(coupon_due), s.fee_due - fee, t)


def write_off(
    terms: DealTerms, state: DealState, loss: int, t: int
) -> tuple[tuple[int, ...], DealState]:
    """Reduce class balances junior first by `loss` (accruing to `t` first)."""
    s = accrue(terms, state, t)
    balances = list(s.balances)
    reduced = [0] * len(balances)
    left = loss
    for c in reversed(range(len(balances))):
        reduced[c] = min(left, balances[c])
        balances[c] -= reduced[c]
        left -= reduced[c]
    return tuple(reduced), replace(s, balances=tuple(balances))


@dataclass
class PerUnit:
    """Pro-rata accounting of one class, exact: payments in, holders' claims out. A holder of
    `u` of the class's `units` is owed floor((paid × u + correction) / units) less what it
    claimed; a transfer moves `paid × units moved` of correction from sender to recipient."""

    units: int
    paid: int = 0
    holdings: dict[str, int] = field(default_factory=dict)
    correction: dict[str, int] = field(default_factory=dict)
    withdrawn: dict[str, int] = field(default_factory=dict)

    def pay(self, amount: int) -> None:
        self.paid += amount

    def move(self, src: str, dst: str, units: int) -> None:
        self.holdings[src] = self.holdings.get(src, 0) - units
        self.holdings[dst] = self.holdings.get(dst, 0) + units
        self.correction[src] = self.correction.get(src, 0) + self.paid * units
        self.correction[dst] = self.correction.get(dst, 0) - self.paid * units

    def claimable(self, holder: str) -> int:
        scaled = self.paid * self.holdings.get(holder, 0) + self.correction.get(holder, 0)
        return scaled // self.units - self.withdrawn.get(holder, 0)

    def claim(self, holder: str) -> int:
        owed = self.claimable(holder)
        self.withdrawn[holder] = self.withdrawn.get(holder, 0) + owed
        return owed


def replay(
    terms: DealTerms,
    closed_at: int,
    events: Sequence[tuple[str, int, int]],
) -> tuple[list[Distribution], DealState]:
    """Run ("cash", amount, t) distributions and ("loss", amount, t) write-offs in order."""
    state = closed(terms, closed_at)
    out: list[Distribution] = []
    for kind, amount, t in events:
        if kind == "cash":
            d, state = distribute(terms, state, amount, t)
            out.append(d)
        elif kind == "loss":
            _, state = write_off(terms, state, amount, t)
        else:
            raise BadInput(f"unknown event {kind!r}")
    return out, state
