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


LICENCES = ("NONE", "BANK", "MICROLOAN", "ONLINE_MICROLOAN", "FACTORING", "GUARANTEE", "INSURER")
"""IMembership.Licence, in enum order."""
KINDS = ("UNSPECIFIED", "INDIVIDUAL", "MICRO", "SME", "LARGE")
"""IMembership.BorrowerKind, in enum order."""
LENDING_LICENCES = ("BANK", "MICROLOAN", "ONLINE_MICROLOAN", "FACTORING")
"""Licences that fit lending (contracts/libraries/Licences.sol)."""
NATIONAL = "000000"
"""The GB/T 2260 code of the whole country: a regulator there has national jurisdiction."""


def _choice(text: str, choices: tuple[str, ...], what: str) -> str:
    key = text.strip().upper().replace("-", "_")
    if key not in choices:
        raise BadInput(f"unknown {what} {text!r} (one of {', '.join(choices)})")
    return key


def parse_licence(text: str) -> tuple[str, int]:
    """`TYPE[:YYYY-MM-DD]` → (licence, expiry as unix seconds, 0 for none).

    The expiry is the end of that day in China Standard Time; the licence is valid through it.
    """
    from ledger.money import parse_date

    kind, sep, expiry = text.partition(":")
    licence = _choice(kind, LICENCES, "licence")
    if not sep:
        return licence, 0
    if licence == "NONE":
        raise BadInput("licence NONE has no expiry")
    return licence, parse_date(expiry)


def parse_region(text: str) -> str:
    """A 6-digit GB/T 2260 administrative division code (000000: national)."""
    code = text.strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise BadInput(
            f"region {text!r} is not a 6-digit GB/T 2260 code (e.g. 440100 Guangzhou, "
            "440000 Guangdong, 000000 national)"
        )
    return code


def parse_kind(text: str) -> str:
    return _choice(text, KINDS, "borrower kind")


def parse_group(text: str) -> str:
    """A related-party group name: UTF-8 text of at most 32 bytes ('' for none)."""
    name = text.strip()
    if len(name.encode()) > 32:
        raise BadInput(f"group name {text!r} is longer than 32 bytes of UTF-8")
    if "\0" in name:
        raise BadInput("a group name cannot contain NUL")
    return name


def group_bytes(name: str) -> bytes:
    return name.encode().ljust(32, b"\0")


def group_name(raw: bytes) -> str:
    """The name stored on-chain ('' for none); a borrower's own key shows as its address."""
    raw = bytes(raw)
    if raw[:12] == b"\0" * 12 and raw != b"\0" * 32:
        from eth_utils import to_checksum_address

        return to_checksum_address(raw[12:])
    return raw.rstrip(b"\0").decode("utf-8", "replace")


def covers(jurisdiction: str, region: str) -> bool:
    """True when `region` lies inside `jurisdiction` (contracts/libraries/Regions.sol)."""
    j, r = int(jurisdiction), int(region)
    if j == 0:
        return True
    if j % 10_000 == 0:
        return j // 10_000 == r // 10_000
    if j % 100 == 0:
        return j // 100 == r // 100
    return j == r


class Profile(BaseModel):
    """A member's prudential profile (DESIGN §6.6).

    Attributes:
        licence: one of LICENCES.
        licence_expiry_at: unix seconds the licence is valid through; 0 for no expiry.
        region: 6-digit GB/T 2260 code; "000000" is national.
        kind: borrower kind, one of KINDS.
        group: related-party group name; "" for none.
    """

    model_config = ConfigDict(frozen=True)

    licence: str = "NONE"
    licence_expiry_at: Annotated[int, Field(ge=0, lt=1 << 64)] = 0
    region: str = NATIONAL
    kind: str = "UNSPECIFIED"
    group: str = ""

    @field_validator("licence")
    @classmethod
    def _licence(cls, v: str) -> str:
        return _choice(v, LICENCES, "licence")

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return parse_kind(v)

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        return parse_region(v)

    @field_validator("group")
    @classmethod
    def _group(cls, v: str) -> str:
        return parse_group(v)

    def as_tuple(self) -> tuple[int, int, int, int, bytes]:
        """The IMembership.Profile struct."""
        return (
            LICENCES.index(self.licence),
            self.licence_expiry_at,
            int(self.region),
            KINDS.index(self.kind),
            group_bytes(self.group),
        )

    @classmethod
    def from_tuple(cls, raw: tuple[int, int, int, int, bytes] | list[object]) -> Profile:
        licence, expiry, region, kind, group = raw
        return cls(
            licence=LICENCES[int(licence)],  # type: ignore[call-overload]
            licence_expiry_at=int(expiry),  # type: ignore[call-overload]
            region=f"{int(region):06d}",  # type: ignore[call-overload]
            kind=KINDS[int(kind)],  # type: ignore[call-overload]
            group=group_name(group),  # type: ignore[arg-type]
        )


class Admission(BaseModel):
    """A member to admit."""

    model_config = ConfigDict(frozen=True)

    address: str
    roles: Annotated[int, Field(gt=0, lt=1 << 10)]
    kyc_hash: bytes = b"\0" * 32
    net_assets_fen: Fen = 0
    profile: Profile = Profile()

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
    licence: str = "NONE"
    licence_expiry_at: int = 0
    region: str = NATIONAL
    kind: str = "UNSPECIFIED"
    group: str = ""


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
