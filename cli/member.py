"""Consortium members: add, list, show, suspend, reinstate, net assets."""

from __future__ import annotations

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


def _tx_out(as_json: bool, address: str, sent: object, text: str) -> None:
    if as_json:
        emit_json({"address": address, "tx": sent.tx, "block": sent.block})  # type: ignore[attr-defined]
    else:
        say(text)


@click.group()
def member() -> None:
    """Consortium members and their roles."""


@member.command(
    "add", epilog="Example: liandai member add bank --role LENDER --net-assets 50,000,000"
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
    help="Registered net assets in yuan (lenders: base of the concentration limit).",
)
@json_option
@pass_app
def member_add(
    app: App,
    name: str,
    roles: tuple[str, ...],
    kyc_hash: str | None,
    net_assets: int | None,
    as_json: bool,
) -> None:
    """Admit account NAME (a local name or an address) with one or more roles. Operators only."""
    from ledger.models import Admission, parse_bytes32
    from ledger.roles import parse_roles, role_names

    ledger = app.ledger()
    with bad_input_as_usage():
        mask = parse_roles(r for part in roles for r in part.split(","))
        kyc = parse_bytes32(kyc_hash, "--kyc-hash") if kyc_hash else b"\0" * 32
        address = ledger.resolve(name)
    sent = ledger.admit(
        Admission(address=address, roles=mask, kyc_hash=kyc, net_assets_fen=net_assets or 0)
    )
    _tx_out(
        as_json,
        address,
        sent,
        f"admitted {ledger.name_of(address)} as {', '.join(role_names(mask))} (tx {sent.tx})",
    )


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
        ["name", "address", "roles", "status", "net assets (¥)"],
        [
            [
                m.name or "",
                m.address,
                ", ".join(m.roles),
                m.status,
                format_fen(m.net_assets_fen, symbol=False),
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
        ],
    )


@member.command("suspend", epilog="Example: liandai --as regulator member suspend supplier2")
@click.argument("name")
@click.option("--reason-hash", metavar="HEX", help="32-byte hash of the off-chain decision.")
@json_option
@pass_app
def member_suspend(app: App, name: str, reason_hash: str | None, as_json: bool) -> None:
    """Suspend a member: it can neither send, receive nor act. Operators and regulators."""
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
    """Reinstate a suspended member. Operators and regulators."""
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
    """Register a member's net assets (base of the concentration limit).

    Operators and regulators only.
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
