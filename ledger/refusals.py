"""Custom errors in words: each names the rule and the numbers.

The chain's answer is decoded from the revert data (never from a message string) and
rendered here with local account names, yuan amounts and role names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.money import format_bps, format_fen
from ledger.roles import STATUS_NAMES, role_names

NameOf = Callable[[str], str]

_RULES: dict[str, str] = {
    "NotAMember": "membership: {account} is not a member of the consortium",
    "MemberNotActive": (
        "membership: {account} is {status}; a suspended member can neither send, receive nor act"
    ),
    "MissingRole": "membership: {account} needs role {required} but holds {held}",
    "AlreadyMember": "membership: {account} is already a member",
    "InvalidRoles": "membership: role set {roles} is empty or unknown",
    "ZeroAddressMember": "membership: the zero address cannot be a member",
    "StatusUnchanged": "membership: {account} is already {status}",
    "CannotSuspendSelf": "membership: {account} cannot suspend itself",
    "NotAuditWriter": "audit: {caller} is not an engine contract of this deployment",
    "NotEngine": "e-CNY: {caller} is not an engine contract of this deployment",
    "LengthMismatch": "e-CNY: {payees} payees but {amounts} amounts",
    "ZeroAmount": "e-CNY: the amount must be positive",
    "ERC20InsufficientBalance": "e-CNY: {sender} holds {balance}, needs {needed}",
    "ERC20InsufficientAllowance": "e-CNY: allowance of {spender} is {allowance}, needs {needed}",
    "ERC20InvalidReceiver": "e-CNY: {receiver} cannot receive",
    "ERC20InvalidSender": "e-CNY: {sender} cannot send",
    "ERC20InvalidApprover": "e-CNY: {approver} cannot approve",
    "ERC20InvalidSpender": "e-CNY: {spender} cannot be a spender",
    "Error": "{message}",
    "Panic": "contract panic (code {code})",
}

_ROLE_ARGS = {"roles", "required", "held", "anyOf", "oldRoles", "newRoles"}
_FEN_ARGS = {"balance", "needed", "allowance"}


def _render(key: str, value: Any, name_of: NameOf) -> str:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return name_of(value)
    if key in _ROLE_ARGS and isinstance(value, int):
        return "|".join(role_names(value)) or "no role"
    if key == "status" and isinstance(value, int):
        return STATUS_NAMES.get(value, str(value))
    if isinstance(value, int) and (key in _FEN_ARGS or key.endswith("Fen")):
        return format_fen(value)
    if isinstance(value, int) and key.endswith("Bps"):
        return format_bps(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def explain(name: str, args: dict[str, Any], name_of: NameOf) -> str:
    """`MissingRole`, {...} → 'MissingRole — membership: bank needs role ECNY_ISSUER …'."""
    rendered = {k: _render(k, v, name_of) for k, v in args.items()}
    template = _RULES.get(name)
    if template is None:
        detail = ", ".join(f"{k}={v}" for k, v in rendered.items())
        return f"{name}({detail})"
    return f"{name} — {template.format(**rendered)}"
