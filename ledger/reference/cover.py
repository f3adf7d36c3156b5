"""Pure-Python reference model of cover layers and the reimbursement of cover (DESIGN §6.2).

The contracts (CoverBook with the loan book's hooks) implement the same rules; a
differential property test compares the two fen by fen. Built on the waterfall model
(`ledger.reference.waterfall`): a default's cover and every honour are its principal-only `cover`
receipts, seniors first; a recovery is its `settle` followed by the reimbursement of cover
out of the residual. Everything is integer fen and unix seconds; all functions are pure.

- `declare_default`: D = principal outstanding; each layer owes
  `min(floor(D × share / 10000), cap)`; each margin pays `min(margin, owed)` at once and the
  rest of it goes back; the pool covers `min(pool balance, D − Σ owed)`; the margins' and the
  pool's payments are one principal-only receipt; the rest of each claim is due
  `claim_days` later.
- `honour`: a provider pays any part of its unpaid claim, capped at the principal
  outstanding (a claim lapses once that is 0).
- `breach`: an unpaid claim past its due date is marked breached; it stays payable.
- `recover`: a receipt after the default runs the waterfall (interest, principal seniors
  first); what is left reimburses the pool and the layers pro rata by what each paid and has
  not had back (largest remainder; ties in layer order, the pool last), then the residual.
- `release`: the loan was repaid or cancelled: the margins still held go back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ledger.errors import BadInput
from ledger.reference import waterfall

BPS = 10_000
DAY = 86_400
MAX_LAYERS = 4

Kind = Literal["GUARANTEE", "INSURANCE", "REPURCHASE"]
KINDS: tuple[str, ...] = ("GUARANTEE", "INSURANCE", "REPURCHASE")


@dataclass(frozen=True)
class Layer:
    """One cover layer as the terms list it.

    Attributes:
        provider: who gives it (opaque here).
        kind: GUARANTEE, INSURANCE or REPURCHASE.
        share_bps: share of the principal outstanding at default it covers, 1..10000.
        cap_fen: the most it ever owes, > 0.
        margin_fen: deposited at acceptance, ≤ cap; pays first at default.
    """

    provider: str
    kind: Kind
    share_bps: int
    cap_fen: int
    margin_fen: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadInput(f"unknown cover kind {self.kind!r} (one of {', '.join(KINDS)})")
        for value, what in (
            (self.share_bps, "cover share"),
            (self.cap_fen, "cover cap"),
            (self.margin_fen, "margin"),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise BadInput(f"{what} must be a non-negative integer, not {value!r}")
        if not 0 < self.share_bps <= BPS:
            raise BadInput(f"cover share {self.share_bps} bps must be 1 to {BPS}")
        if self.cap_fen == 0:
            raise BadInput("a cover layer's cap must be positive")
        if self.margin_fen > self.cap_fen:
            raise BadInput(f"margin {self.margin_fen} fen is above the cap of {self.cap_fen}")


@dataclass(frozen=True)
class Policy:
    """The policy parameters cover rules read (DESIGN §4.7, §6.2)."""

    max_tech_cover_bps: int = 2000
    min_lender_retention_bps: int = 2000
    claim_days: int = 30


def check_layers(
    layers: Sequence[Layer],
    policy: Policy,
    *,
    tech_partners: frozenset[str] = frozenset(),
    debtors: frozenset[str] = frozenset(),
) -> list[str]:
    """The rules of a proposal's layers, as data: one line per rule broken (empty: admissible).

    `tech_partners` are the providers holding the TECH_PARTNER role; `debtors` are the
    debtors of the pledged receivables. Roles of GUARANTOR providers are the chain's to check.
    """
    errors: list[str] = []
    if len(layers) > MAX_LAYERS:
        errors.append(f"{len(layers)} cover layers, at most {MAX_LAYERS}")
    tech_share: dict[str, int] = {}
    for i, layer in enumerate(layers):
        if layer.provider in tech_partners:
            if layer.kind != "GUARANTEE":
                errors.append(f"layer {i}: a tech partner may give a GUARANTEE only")
            tech_share[layer.provider] = tech_share.get(layer.provider, 0) + layer.share_bps
        if layer.kind == "REPURCHASE" and layer.provider not in debtors:
            errors.append(f"layer {i}: a REPURCHASE is given by a debtor of a pledged receivable")
    for provider, share in tech_share.items():
        if share > policy.max_tech_cover_bps:
            errors.append(
                f"tech partner {provider} covers {share} bps, above max_tech_cover_bps "
                f"{policy.max_tech_cover_bps}"
            )
    covered = sum(x.share_bps for x in layers if x.kind != "REPURCHASE")
    if covered + policy.min_lender_retention_bps > BPS:
        errors.append(
            f"GUARANTEE + INSURANCE cover {covered} bps, leaving lenders {BPS - covered}, below "
            f"min_lender_retention_bps {policy.min_lender_retention_bps}"
        )
    total = sum(x.share_bps for x in layers)
    if total > BPS:
        errors.append(f"the layers cover {total} bps, more than {BPS}")
    return errors


@dataclass(frozen=True)
class CoverState:
    """A loan's cover after what has happened so far.

    Attributes:
        layers: the layers, in listed order (the order of every per-layer tuple).
        owed_fen: per layer, its claim set at default (0 before).
        paid_fen: per layer, paid by its margin at default and by honours since.
        reimbursed_fen: per layer, paid back to it by recoveries.
        breached: per layer, whether its claim was marked breached.
        pool_paid_fen: what the pool paid at default.
        pool_reimbursed_fen: paid back to the pool by recoveries.
        principal_at_default_fen: D (0 before a default).
        defaulted_at: unix seconds of the default, None before.
        due_at: when the claims fall due, None before a default.
        closed: the margins went back (repaid or cancelled before any default).
    """

    layers: tuple[Layer, ...]
    owed_fen: tuple[int, ...]
    paid_fen: tuple[int, ...]
    reimbursed_fen: tuple[int, ...]
    breached: tuple[bool, ...]
    pool_paid_fen: int = 0
    pool_reimbursed_fen: int = 0
    principal_at_default_fen: int = 0
    defaulted_at: int | None = None
    due_at: int | None = None
    closed: bool = False

    @classmethod
    def initial(cls, layers: Sequence[Layer]) -> CoverState:
        n = len(layers)
        if n > MAX_LAYERS:
            raise BadInput(f"{n} cover layers, at most {MAX_LAYERS}")
        return cls(
            layers=tuple(layers),
            owed_fen=(0,) * n,
            paid_fen=(0,) * n,
            reimbursed_fen=(0,) * n,
            breached=(False,) * n,
        )

    def unpaid_fen(self, layer: int) -> int:
        """What is left of a layer's claim."""
        return self.owed_fen[layer] - self.paid_fen[layer]


@dataclass(frozen=True)
class Default:
    """What a default did (DESIGN §6.2 steps 1–5).

    Attributes:
        at: unix seconds of the default.
        principal_fen: D, the principal outstanding.
        interest_due_fen: interest due at the default (not covered).
        owed_fen: per layer, its claim.
        margin_paid_fen: per layer, what its margin paid at once.
        margin_returned_fen: per layer, what of its margin went back.
        pool_fen: the pool's cover.
        receipt: the one principal-only receipt of margins + pool, seniors first.
        due_at: when the rest of the claims fall due.
    """

    at: int
    principal_fen: int
    interest_due_fen: int
    owed_fen: tuple[int, ...]
    margin_paid_fen: tuple[int, ...]
    margin_returned_fen: tuple[int, ...]
    pool_fen: int
    receipt: waterfall.Cover
    due_at: int


@dataclass(frozen=True)
class Honour:
    """A provider's payment under its claim: principal only, seniors first.

    Attributes:
        at: unix seconds.
        layer: the layer's index.
        amount_fen: what was paid (the amount asked, capped at the principal outstanding).
        principal_fen: per tranche, principal repaid; sums to `amount_fen`.
    """

    at: int
    layer: int
    amount_fen: int
    principal_fen: tuple[int, ...]


@dataclass(frozen=True)
class Recovery:
    """A receipt after the default: the waterfall, then the reimbursement of cover.

    Attributes:
        settlement: the waterfall's split, its `residual_fen` what reached the borrower
            (or holder) after the reimbursement.
        layers_fen: per layer, what it had back.
        pool_fen: what the pool had back.
    """

    settlement: waterfall.Settlement
    layers_fen: tuple[int, ...]
    pool_fen: int

    @property
    def reimbursed_fen(self) -> int:
        return sum(self.layers_fen) + self.pool_fen


def declare_default(
    terms: waterfall.LoanTerms,
    loan: waterfall.LoanState,
    cover: CoverState,
    pool_balance_fen: int,
    t: int,
    claim_days: int = 30,
) -> tuple[Default, waterfall.LoanState, CoverState]:
    """Default the loan at `t` with the pool holding `pool_balance_fen`."""
    if cover.defaulted_at is not None:
        raise BadInput("the loan has already defaulted")
    loan = waterfall.accrue(terms, loan, t)
    d = loan.principal_outstanding_fen
    if d == 0:
        raise BadInput("no principal outstanding: nothing to default")
    owed = tuple(min(d * x.share_bps // BPS, x.cap_fen) for x in cover.layers)
    margin_paid = tuple(min(x.margin_fen, o) for x, o in zip(cover.layers, owed, strict=True))
    returned = tuple(x.margin_fen - p for x, p in zip(cover.layers, margin_paid, strict=True))
    pool = min(pool_balance_fen, d - sum(owed))
    receipt, loan = waterfall.cover(terms, loan, sum(margin_paid) + pool, t)
    due_at = t + claim_days * DAY
    result = Default(
        at=t,
        principal_fen=d,
        interest_due_fen=loan.interest_due_fen,
        owed_fen=owed,
        margin_paid_fen=margin_paid,
        margin_returned_fen=returned,
        pool_fen=pool,
        receipt=receipt,
        due_at=due_at,
    )
    state = replace(
        cover,
        owed_fen=owed,
        paid_fen=margin_paid,
        pool_paid_fen=pool,
        principal_at_default_fen=d,
        defaulted_at=t,
        due_at=due_at,
    )
    return result, loan, state


def honour(
    terms: waterfall.LoanTerms,
    loan: waterfall.LoanState,
    cover: CoverState,
    layer: int,
    amount_fen: int,
    t: int,
) -> tuple[Honour, waterfall.LoanState, CoverState]:
    """The provider of `layer` pays `amount_fen` of its claim at `t`."""
    if cover.defaulted_at is None:
        raise BadInput("the loan has not defaulted: there is no claim")
    if not 0 <= layer < len(cover.layers):
        raise BadInput(f"no cover layer {layer}")
    unpaid = cover.unpaid_fen(layer)
    if amount_fen <= 0:
        raise BadInput("an honour must be positive")
    if unpaid == 0:
        raise BadInput(f"layer {layer} owes nothing")
    if amount_fen > unpaid:
        raise BadInput(f"{amount_fen} fen is more than the unpaid claim of {unpaid}")
    if loan.principal_outstanding_fen == 0:
        raise BadInput(f"the claim of layer {layer} has lapsed: no principal outstanding")
    receipt, loan = waterfall.cover(terms, loan, amount_fen, t)
    paid = list(cover.paid_fen)
    paid[layer] += receipt.used_fen
    result = Honour(
        at=t, layer=layer, amount_fen=receipt.used_fen, principal_fen=receipt.principal_fen
    )
    return result, loan, replace(cover, paid_fen=tuple(paid))


def breach(loan: waterfall.LoanState, cover: CoverState, layer: int, t: int) -> CoverState:
    """Mark `layer`'s claim breached at `t` (after its due date, still unpaid, not lapsed)."""
    if cover.defaulted_at is None or cover.due_at is None:
        raise BadInput("the loan has not defaulted: there is no claim")
    if not 0 <= layer < len(cover.layers):
        raise BadInput(f"no cover layer {layer}")
    if t <= cover.due_at:
        raise BadInput(f"the claim of layer {layer} is due at {cover.due_at}, not yet past")
    if cover.unpaid_fen(layer) == 0:
        raise BadInput(f"layer {layer} owes nothing")
    if cover.breached[layer]:
        raise BadInput(f"the claim of layer {layer} is already breached")
    if loan.principal_outstanding_fen == 0:
        raise BadInput(f"the claim of layer {layer} has lapsed: no principal outstanding")
    breached = list(cover.breached)
    breached[layer] = True
    return replace(cover, breached=tuple(breached))


def reimbursement(cover: CoverState, residual_fen: int) -> tuple[tuple[int, ...], int]:
    """Split what a receipt leaves after principal: per layer, then the pool.

    Pro rata by what each paid and has not had back, each at most that (largest remainder;
    ties in layer order, the pool last). Returns (per layer, pool); what is not taken is the
    residual.
    """
    weights = [p - r for p, r in zip(cover.paid_fen, cover.reimbursed_fen, strict=True)]
    weights.append(cover.pool_paid_fen - cover.pool_reimbursed_fen)
    take = min(residual_fen, sum(weights))
    parts = waterfall.split_pro_rata(take, weights) if take else [0] * len(weights)
    return tuple(parts[:-1]), parts[-1]


def recover(
    terms: waterfall.LoanTerms,
    loan: waterfall.LoanState,
    cover: CoverState,
    amount_fen: int,
    t: int,
    *,
    fee_withheld: bool = False,
) -> tuple[Recovery, waterfall.LoanState, CoverState]:
    """A receipt of `amount_fen` at `t` (any receipt; after a default it reimburses cover).
    With `fee_withheld` (the tech partner's book is above `tech_fee_npl_bps`, DESIGN §6.6)
    the fee share goes to the provision pool, as in `waterfall.settle`."""
    settlement, loan = waterfall.settle(terms, loan, amount_fen, t, fee_withheld=fee_withheld)
    layers_fen: tuple[int, ...] = (0,) * len(cover.layers)
    pool_fen = 0
    if loan.defaulted and settlement.residual_fen:
        layers_fen, pool_fen = reimbursement(cover, settlement.residual_fen)
        taken = sum(layers_fen) + pool_fen
        settlement = replace(settlement, residual_fen=settlement.residual_fen - taken)
        cover = replace(
            cover,
            reimbursed_fen=tuple(
                r + x for r, x in zip(cover.reimbursed_fen, layers_fen, strict=True)
            ),
            pool_reimbursed_fen=cover.pool_reimbursed_fen + pool_fen,
        )
    return Recovery(settlement, layers_fen, pool_fen), loan, cover


def release(cover: CoverState, accepted: Sequence[bool] | None = None) -> tuple[int, ...]:
    """The margins that go back when the loan is repaid or cancelled (none after a default)."""
    if cover.defaulted_at is not None or cover.closed:
        return (0,) * len(cover.layers)
    flags = accepted if accepted is not None else [True] * len(cover.layers)
    return tuple(x.margin_fen if a else 0 for x, a in zip(cover.layers, flags, strict=True))
