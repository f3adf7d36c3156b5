"""Digital RMB: mint, burn, transfer, balance."""

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


@click.group()
def cny() -> None:
    """Digital RMB (e-CNY stand-in): amounts in yuan, kept in fen."""


def _sent(as_json: bool, sent: object, text: str) -> None:
    if as_json:
        emit_json({"tx": sent.tx, "block": sent.block})  # type: ignore[attr-defined]
    else:
        say(text)


@cny.command(
    "mint",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as issuer cny mint bank 1,000,000.00",
)
@click.argument("name")
@click.argument("amount", type=AMOUNT)
@json_option
@pass_app
def cny_mint(app: App, name: str, amount: int, as_json: bool) -> None:
    """Mint AMOUNT yuan to member NAME. e-CNY issuers only."""
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        to = ledger.resolve(name)
    sent = ledger.mint(to, amount)
    _sent(as_json, sent, f"minted {format_fen(amount)} to {ledger.name_of(to)} (tx {sent.tx})")


@cny.command(
    "burn", context_settings=NEGATIVE_OK, epilog="Example: liandai --as issuer cny burn 1,000.00"
)
@click.argument("amount", type=AMOUNT)
@json_option
@pass_app
def cny_burn(app: App, amount: int, as_json: bool) -> None:
    """Burn AMOUNT yuan of the issuer's own balance. e-CNY issuers only."""
    from ledger.money import format_fen

    ledger = app.ledger()
    sent = ledger.burn(amount)
    _sent(as_json, sent, f"burnt {format_fen(amount)} (tx {sent.tx})")


@cny.command(
    "transfer",
    context_settings=NEGATIVE_OK,
    epilog="Example: liandai --as bank cny transfer supplier1 12,500.00",
)
@click.argument("name")
@click.argument("amount", type=AMOUNT)
@json_option
@pass_app
def cny_transfer(app: App, name: str, amount: int, as_json: bool) -> None:
    """Pay AMOUNT yuan from the signer to member NAME (a borrower's loans may sweep a share)."""
    from ledger.money import format_bps, format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        to = ledger.resolve(name)
    sent = ledger.transfer(to, amount)
    _sent(
        as_json,
        sent,
        f"paid {format_fen(amount)} from {ledger.signer_name} to {ledger.name_of(to)} "
        f"(tx {sent.tx})",
    )
    if not as_json:  # a payment into a borrower's wallet may be swept into its loans
        from cli.loan import say_settled

        say_settled(
            ledger,
            sent,
            lambda n, s, v: (
                f"{format_fen(s.amount_fen)} of it swept into loan #{n} "
                f"(sweep {format_bps(v.sweep_bps)} of payments into {ledger.name_of(v.borrower)}'s "
                "wallet):"
            ),
        )


@cny.command("balance", epilog="Example: liandai cny balance bank --json")
@click.argument("name", required=False)
@json_option
@pass_app
def cny_balance(app: App, name: str | None, as_json: bool) -> None:
    """Balance of NAME (default: every local account)."""
    from ledger.money import format_fen

    ledger = app.ledger()
    with bad_input_as_usage():
        targets = [ledger.resolve(name)] if name else [a.address for a in ledger.keyring.accounts()]
    views = [ledger.balance(a) for a in targets]
    if as_json:
        emit_json(views[0] if name else views)
        return
    table(
        None,
        ["account", "address", "balance (¥)", "held (¥)"],
        [
            [
                v.account,
                v.address,
                format_fen(v.balance_fen, symbol=False),
                format_fen(v.held_fen, symbol=False),
            ]
            for v in views
        ],
    )


@cny.command("claim-held", epilog="Example: liandai --as bank cny claim-held --json")
@json_option
@pass_app
def cny_claim_held(app: App, as_json: bool) -> None:
    """Take what the engines held for the signer while it was suspended.

    Settlements, refunds and cover owed to a member who is not active are credited to its
    held balance (see `cny balance`); once reinstated, it claims the whole of it here.
    """
    from ledger.money import format_fen

    ledger = app.ledger()
    sent, held = ledger.claim_held()
    if as_json:
        emit_json({"tx": sent.tx, "block": sent.block, "claimed_fen": held})
    else:
        say(f"{ledger.signer_name} claimed {format_fen(held)} held for it (tx {sent.tx})")
