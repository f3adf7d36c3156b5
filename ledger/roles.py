"""Member roles, as the bit flags of contracts/libraries/Roles.sol."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from ledger.errors import BadInput


class Role(enum.IntFlag):
    OPERATOR = 1 << 0
    ECNY_ISSUER = 1 << 1
    CORE_ENTERPRISE = 1 << 2
    SUPPLIER = 1 << 3
    LENDER = 1 << 4
    TECH_PARTNER = 1 << 5
    AUDITOR = 1 << 6
    REGULATOR = 1 << 7
    GUARANTOR = 1 << 8
    INVESTOR = 1 << 9


ALL_ROLES = [r.name for r in Role if r.name]

STATUS_NAMES = {0: "NONE", 1: "ACTIVE", 2: "SUSPENDED"}


def parse_roles(names: Iterable[str]) -> int:
    """Role names (any case, `-` or `_`) → bit mask. Raises BadInput for an unknown name."""
    mask = 0
    for raw in names:
        key = raw.strip().upper().replace("-", "_")
        if key not in Role.__members__:
            raise BadInput(f"unknown role {raw!r} (roles: {', '.join(ALL_ROLES)})")
        mask |= Role[key]
    if mask == 0:
        raise BadInput("give at least one role")
    return mask


def role_names(mask: int) -> list[str]:
    return [r.name for r in Role if r.name and mask & r]
