"""Typed requests and views exchanged between the CLI and the ledger client.

Requests are validated here (pydantic) before anything is signed; the contracts check
every rule again. Views are what `show`/`list` commands print, field names as in the
JSON contract (amounts in `*_fen`, times in `*_at`, checksummed addresses).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger.errors import BadInput

UINT128_MAX = 2**128 - 1
Fen = Annotated[int, Field(ge=0, le=UINT128_MAX)]
PositiveFen = Annotated[int, Field(gt=0, le=UINT128_MAX)]


def parse_bytes32(text: str, what: str = "hash") -> bytes:
    raw = text.strip().lower().removeprefix("0x")
    if len(raw) != 64:
        raise BadInput(f"{what} {text!r} must be 32 bytes of hex (64 hex digits)")
    try:
        return bytes.fromhex(raw)
    except ValueError:
        raise BadInput(f"{what} {text!r} is not hex") from None


class Admission(BaseModel):
    """A member to admit."""

    model_config = ConfigDict(frozen=True)

    address: str
    roles: Annotated[int, Field(gt=0, lt=1 << 16)]
    kyc_hash: bytes = b"\0" * 32
    net_assets_fen: Fen = 0

    @field_validator("kyc_hash")
    @classmethod
    def _is_32_bytes(cls, v: bytes) -> bytes:
        if len(v) != 32:
            raise ValueError("kyc hash must be 32 bytes")
        return v


class TxView(BaseModel):
    """What a creating or changing command prints."""

    tx: str
    block: int
    gas_used: int


class MemberView(BaseModel):
    """One member, as `member list --json` prints it."""

    name: str | None
    address: str
    roles: list[str]
    status: str
    kyc_hash: str
    net_assets_fen: int
    admitted_at: int


class BalanceView(BaseModel):
    """`cny balance NAME --json`."""

    account: str
    address: str
    balance_fen: int
    # What the engines owe the account while it is not active (DESIGN §6.1), claimable
    # with `cny claim-held` once it is reinstated; not part of balance_fen.
    held_fen: int = 0


class ChainInfoView(BaseModel):
    """`chain info --json`."""

    network: str
    chain_id: int
    block: int
    time: int
    backend: str
    client: str
    contracts: dict[str, str]
    audit_seq: int
    audit_head: str
