"""Consortium members: add, list, show, set, suspend, reinstate, net assets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.context import (
    AMOUNT,
    NEGATIVE_OK,
    App,
    bad_input_as_usage,
    emit_json,
    json_option,
    pass_app,
    say,
    table,
)

if TYPE_CHECKING:
    from ledger.models import Profile


def _tx_out(as_json: bool, address: str, sent: object, text: str) -> None:
    if as_json:
        emit_json({"address": address, "tx": sent.tx, "block": sent.block})  # type: ignore[attr-defined]
    else:
        say(text)


@click.group()
def member() -> None:
    """Consortium members and their roles."""


_PROFILE_HELP = {
    "licence": "Licence TYPE[:EXPIRY]: BANK, MICROLOAN, ONLINE_MICROLOAN, FACTORING, GUARANTEE, "
    "INSURER or NONE; EXPIRY YYYY-MM-DD (valid through that day, China time), none if left out.",
    "region": "6-digit GB/T 2260 region code (440100 Guangzhou, 440300 Shenzhen, 440000 "
    "Guangdong, 000000 national). A regulator's region is its jurisdiction.",
    "kind": "Borrower kind: INDIVIDUAL, MICRO, SME, LARGE (or UNSPECIFIED).",
    "group": "Related-party group name (UTF-8, at most 32 bytes; '' for none).",
}


def _profile_options(fn):  # type: ignore[no-untyped-def]
    for name in ("group", "kind", "region", "licence"):
        metavar = {"licence": "TYPE[:EXPIRY]", "region": "CODE", "kind": "KIND", "group": "G"}
        option = click.option(
            f"--{name}", default=None, metavar=metavar[name], help=_PROFILE_HELP[name]
        )
        fn = option(fn)
    return fn


def _profile(
    base: Profile, licence: str | None, region: str | None, kind: str | None, group: str | None
) -> Profile:
    from ledger.models import parse_group, parse_kind, parse_licence, parse_region

    fields: dict[str, object] = {}
    if licence is not None:
        fields["licence"], fields["licence_expiry_at"] = parse_licence(licence)
    if region is not None:
        fields["region"] = parse_region(region)
    if kind is not None:
        fields["kind"] = parse_kind(kind)
    if group is not None:
        fields["group"] = parse_group(group)
    return base.model_copy(update=fields)


@member.command(
    "add",
    epilog="Example: liandai member add bank --role LENDER --net-assets 50,000,000 "
    "--licence BANK:2030-12-31 --region 440100",
)
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE",
    help="OPERATOR, ECNY_ISSUER, CORE_ENTERPRISE, SUPPLIER, LENDER, TECH_PARTNER, "
    "AUDITOR or REGULATOR; repeat for several.",
)
@click.option("--kyc-hash", metavar="HEX", help="32-byte hash of the off-chain KYC file.")
@click.option(
    "--net-assets",
    type=AMOUNT,
    default=None,
    metavar="AMT",
    help="Registered net assets in yuan (lenders: base of the concentration limits).",
)
@_profile_options
@json_option
@pass_app
def member_add(
    app: App,
    name: str,
    roles: tuple[str, ...],
    kyc_hash: str | None,
    net_assets: int | None,
    licence: str | None,
    region: str | None,
    kind: str | None,
    group: str | None,
    as_json: bool,
) -> None:
    """Admit account NAME (a local name or an address) with one or more roles.

    Operators admit; only a regulator (inside its region) admits a REGULATOR, except the
    first one.
    """
    from ledger.models import Admission, Profile, parse_bytes32
    from ledger.roles import parse_roles, role_names

    with bad_input_as_usage():
        mask = parse_roles(r for part in roles for r in part.split(","))
        kyc = parse_bytes32(kyc_hash, "--kyc-hash") if kyc_hash else b"\0" * 32
        profile = _profile(Profile(), licence, region, kind, group)
    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(name)
    sent = ledger.admit(
        Admission(
            address=address,
            roles=mask,
            kyc_hash=kyc,
            net_assets_fen=net_assets or 0,
            profile=profile,
        )
    )
    where = f" in region {profile.region}" if profile.region != "000000" else ""
    _tx_out(
        as_json,
        address,
        sent,
        f"admitted {ledger.name_of(address)} as {', '.join(role_names(mask))}{where} "
        f"(tx {sent.tx})",
    )


@member.command(
    "set",
    epilog="Example: liandai --as regulator member set microloan --licence MICROLOAN:2031-06-30",
)
@click.argument("name")
@_profile_options
@json_option
@pass_app
def member_set(
    app: App,
    name: str,
    licence: str | None,
    region: str | None,
    kind: str | None,
    group: str | None,
    as_json: bool,
) -> None:
    """Change a member's licence, region, kind or group (the options given; the rest stay).

    Only a regulator whose region holds the member's region, before and after.
    """
    from ledger.errors import BadInput
    from ledger.models import Profile

    with bad_input_as_usage():
        if licence is None and region is None and kind is None and group is None:
            raise BadInput("give at least one of --licence, --region, --kind, --group")
        _profile(Profile(), licence, region, kind, group)  # bad input before any chain access
    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(name)
    current = ledger.member(address)
    if current.status == "NONE":
        with bad_input_as_usage():
            raise BadInput(f"{name} is not a member")
    base = Profile(
        licence=current.licence,
        licence_expiry_at=current.licence_expiry_at,
        region=current.region,
        kind=current.kind,
        group=current.group,
    )
    profile = _profile(base, licence, region, kind, group)
    sent = ledger.set_profile(address, profile)
    if as_json:
        emit_json({"address": address, **profile.model_dump(), "tx": sent.tx, "block": sent.block})
        return
    say(f"profile of {ledger.name_of(address)} set: {_describe(profile)} (tx {sent.tx})")


def _describe(p: Profile) -> str:
    from ledger.money import format_date

    licence = p.licence
    if p.licence_expiry_at:
        licence += f" until {format_date(p.licence_expiry_at)}"
    group = f", group {p.group}" if p.group else ""
    return f"licence {licence}, region {p.region}, kind {p.kind}{group}"


@member.command("list")
@json_option
@pass_app
def member_list(app: App, as_json: bool) -> None:
    """Every member with roles and status."""
    from ledger.money import format_fen

    members = app.ledger().members()
    if as_json:
        emit_json(members)
        return
    table(
        "members",
        [
            "name",
            "address",
            "roles",
            "status",
            "net assets (¥)",
            "licence",
            "region",
            "kind",
            "group",
        ],
        [
            [
                m.name or "",
                m.address,
                ", ".join(m.roles),
                m.status,
                format_fen(m.net_assets_fen, symbol=False),
                "" if m.licence == "NONE" else m.licence,
                m.region,
                "" if m.kind == "UNSPECIFIED" else m.kind,
                m.group,
            ]
            for m in members
        ],
    )


@member.command("show")
@click.argument("name")
@json_option
@pass_app
def member_show(app: App, name: str, as_json: bool) -> None:
    """One member's record."""
    from ledger.money import format_fen, format_time

    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(name)
    m = ledger.member(address)
    if as_json:
        emit_json(m)
        return
    table(
        None,
        ["", ""],
        [
            ["name", m.name or ""],
            ["address", m.address],
            ["roles", ", ".join(m.roles)],
            ["status", m.status],
            ["kyc hash", m.kyc_hash],
            ["net assets", format_fen(m.net_assets_fen)],
            ["admitted", format_time(m.admitted_at) if m.admitted_at else ""],
            ["licence", m.licence],
            [
                "licence expiry",
                format_time(m.licence_expiry_at) if m.licence_expiry_at else "none",
            ],
            ["region", m.region],
            ["borrower kind", m.kind],
            ["related group", m.group],
        ],
    )


@member.command("suspend", epilog="Example: liandai --as regulator member suspend supplier2")
@click.argument("name")
@click.option("--reason-hash", metavar="HEX", help="32-byte hash of the off-chain decision.")
@json_option
@pass_app
def member_suspend(app: App, name: str, reason_hash: str | None, as_json: bool) -> None:
    """Suspend a member: it can neither send, receive nor act.

    Operators (not of a regulator) and regulators inside their region.
    """
    from ledger.models import parse_bytes32

    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(name)
        reason = parse_bytes32(reason_hash, "--reason-hash") if reason_hash else b"\0" * 32
    sent = ledger.suspend(address, reason)
    _tx_out(as_json, address, sent, f"suspended {ledger.name_of(address)} (tx {sent.tx})")


@member.command("reinstate")
@click.argument("name")
@json_option
@pass_app
def member_reinstate(app: App, name: str, as_json: bool) -> None:
    """Reinstate a suspended member. As suspend."""
    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(name)
    sent = ledger.reinstate(address)
    _tx_out(as_json, address, sent, f"reinstated {ledger.name_of(address)} (tx {sent.tx})")


@member.command(
    "set-net-assets",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as regulator member set-net-assets bank 80,000,000",
)
@click.argument("name")
@click.argument("amount", type=AMOUNT)
@json_option
@pass_app
def member_set_net_assets(app: App, name: str, amount: int, as_json: bool) -> None:
    """Register a member's net assets (base of the concentration limits).

    Only a regulator whose region holds the member's.
    """
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        address = ledger.resolve(name)
    sent = ledger.set_net_assets(address, amount)
    _tx_out(
        as_json,
        address,
        sent,
        f"net assets of {ledger.name_of(address)} set to {format_fen(amount)} (tx {sent.tx})",
    )
