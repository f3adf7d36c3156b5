"""The compliance rules of DESIGN §4.7 as pure functions, to warn before the chain refuses.

`contracts/libraries/LoanOrigination.sol` and `Compliance.sol` check these in the proposal's
transaction and refuse with a custom error; this model mirrors them exactly (integer
comparisons, the same order of tranches) so `loan quote` can say which rule a proposal would
break, with the numbers, before anything is sent. It never replaces the chain's check.
A pledge worth less than the principal is not refused on-chain; it is a warning only.
"""

from __future__ import annotations

from dataclasses import dataclass

BPS = 10_000


@dataclass(frozen=True)
class Policy:
    """The regulator's parameters (as `Policy.params()` returns them).

    Attributes:
        min_originator_share_bps: floor of the originating lender's share of principal.
        max_apr_bps: cap of rate + penalty.
        max_fee_share_bps: cap of the tech partner's share of interest.
        max_single_borrower_bps: one lender's exposure to one borrower, of its net assets.
    """

    min_originator_share_bps: int
    max_apr_bps: int
    max_fee_share_bps: int
    max_single_borrower_bps: int


@dataclass(frozen=True)
class Proposal:
    """What the rules look at in a proposal.

    Attributes:
        originator: the proposing lender.
        borrower: the borrower.
        tranches: (lender, amount in fen), in seniority order.
        rate_bps: the borrower rate.
        penalty_bps: the penalty rate.
        fee_share_bps: the tech partner's share of interest.
    """

    originator: str
    borrower: str
    tranches: tuple[tuple[str, int], ...]
    rate_bps: int
    penalty_bps: int
    fee_share_bps: int


@dataclass(frozen=True)
class Finding:
    """A rule a proposal breaks.

    Attributes:
        rule: the custom error the chain refuses with, or `CollateralBelowPrincipal`.
        refused: True when the chain refuses it (False: a warning only).
        numbers: the figures, by the custom error's parameter names.
    """

    rule: str
    refused: bool
    numbers: dict[str, object]


def check(
    p: Proposal,
    policy: Policy,
    net_assets_fen: dict[str, int],
    exposure_fen: dict[str, int],
    collateral_fen: int,
) -> list[Finding]:
    """Every rule `p` breaks, in the order the chain checks them (collateral last).

    `net_assets_fen` and `exposure_fen` (each lender's funded principal already lent to the
    borrower) are keyed by lender; `collateral_fen` is the pledged receivables' unpaid value.
    """
    found: list[Finding] = []
    if p.rate_bps + p.penalty_bps > policy.max_apr_bps:
        found.append(
            Finding(
                "AprAboveCap",
                True,
                {
                    "rateBps": p.rate_bps,
                    "penaltyBps": p.penalty_bps,
                    "maxAprBps": policy.max_apr_bps,
                },
            )
        )
    if p.fee_share_bps > policy.max_fee_share_bps:
        found.append(
            Finding(
                "FeeShareAboveCap",
                True,
                {"feeShareBps": p.fee_share_bps, "maxFeeShareBps": policy.max_fee_share_bps},
            )
        )
    principal = sum(a for _, a in p.tranches)
    seen: set[str] = set()
    for i, (lender, _) in enumerate(p.tranches):
        # The lender's whole share of the loan so far counts at each of its tranches; the
        # first tranche that breaks the limit is the one refused, so report each lender once.
        total = sum(a for who, a in p.tranches[: i + 1] if who == lender)
        exposure = exposure_fen.get(lender, 0) + total
        limit = net_assets_fen.get(lender, 0) * policy.max_single_borrower_bps // BPS
        if exposure > limit and lender not in seen:
            seen.add(lender)
            found.append(
                Finding(
                    "ExposureAboveLimit",
                    True,
                    {
                        "lender": lender,
                        "borrower": p.borrower,
                        "exposureFen": exposure,
                        "limitFen": limit,
                    },
                )
            )
    originated = sum(a for who, a in p.tranches if who == p.originator)
    if principal and originated * BPS < policy.min_originator_share_bps * principal:
        found.append(
            Finding(
                "OriginatorShareTooLow",
                True,
                {
                    "shareBps": originated * BPS // principal,
                    "minBps": policy.min_originator_share_bps,
                },
            )
        )
    if collateral_fen < principal:
        found.append(
            Finding(
                "CollateralBelowPrincipal",
                False,
                {"collateralFen": collateral_fen, "principalFen": principal},
            )
        )
    return found
