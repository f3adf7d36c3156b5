"""Audit entry kinds and the business event each one is bound to.

An entry of kind K appended by contract C is bound to the nearest preceding log of C's
event E in the same transaction: `dataHash == keccak256(abi.encode(E's fields in
declaration order))`. docs/audit-kinds.md is generated from this table and the ABIs.
"""

from __future__ import annotations

import functools

from eth_utils import keccak

# kind name → (contract, event)
AUDIT_KINDS: dict[str, tuple[str, str]] = {
    "MEMBER_ADMITTED": ("Membership", "MemberAdmitted"),
    "MEMBER_SUSPENDED": ("Membership", "MemberSuspended"),
    "MEMBER_REINSTATED": ("Membership", "MemberReinstated"),
    "MEMBER_ROLES_CHANGED": ("Membership", "MemberRolesChanged"),
    "MEMBER_NET_ASSETS_SET": ("Membership", "MemberNetAssetsSet"),
    "ECNY_MINTED": ("DigitalRMB", "Transfer"),
    "ECNY_BURNT": ("DigitalRMB", "Transfer"),
    "ECNY_TRANSFERRED": ("DigitalRMB", "Transfer"),
    "ECNY_APPROVED": ("DigitalRMB", "Approval"),
}

KIND_NOTES: dict[str, str] = {
    "MEMBER_ADMITTED": "an operator admitted a member (subject: the member's address)",
    "MEMBER_SUSPENDED": "an operator or regulator suspended a member",
    "MEMBER_REINSTATED": "an operator or regulator reinstated a member",
    "MEMBER_ROLES_CHANGED": "an operator replaced a member's roles",
    "MEMBER_NET_ASSETS_SET": "an operator or regulator registered a member's net assets",
    "ECNY_MINTED": "the issuer minted e-CNY (Transfer from the zero address; subject: recipient)",
    "ECNY_BURNT": "the issuer burnt its own e-CNY (Transfer to the zero address; subject: issuer)",
    "ECNY_TRANSFERRED": "a member paid another member (subject: recipient)",
    "ECNY_APPROVED": "a member set an allowance (subject: spender)",
}


@functools.cache
def kind_names() -> dict[bytes, str]:
    """keccak256(name) → name."""
    return {keccak(text=name): name for name in AUDIT_KINDS}
