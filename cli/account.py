"""Local accounts: `account new`, `account list`."""

from __future__ import annotations

import click

from cli.context import App, emit_json, json_option, pass_app, password_prompt, say, table


@click.group()
def account() -> None:
    """Local accounts (encrypted keystores in the home)."""


@account.command("new", epilog="Example: LIANDAI_PASSWORD=… liandai account new bank")
@click.argument("name")
@click.option("--dev", is_flag=True, help="Keep the key in plaintext (dev only, UNSAFE).")
@json_option
@pass_app
def account_new(app: App, name: str, dev: bool, as_json: bool) -> None:
    """Create account NAME with a new key, encrypted with a password you choose."""
    from cli.context import bad_input_as_usage
    from ledger.engine.accounts import Keyring, check_name

    with bad_input_as_usage():
        check_name(name)
    info = Keyring(app.home, password_prompt).create(name, dev=dev)
    if as_json:
        emit_json({"name": info.name, "address": info.address, "dev": info.dev})
    else:
        say(f"created {info.name} {info.address}{'  [dev key: unsafe]' if info.dev else ''}")


@account.command("list")
@json_option
@pass_app
def account_list(app: App, as_json: bool) -> None:
    """List the local accounts of this home."""
    from ledger.engine.accounts import Keyring

    accounts = Keyring(app.home).accounts()
    if as_json:
        emit_json([{"name": a.name, "address": a.address, "dev": a.dev} for a in accounts])
        return
    table(
        None,
        ["name", "address", "key"],
        [[a.name, a.address, "dev (plaintext)" if a.dev else "keystore"] for a in accounts],
    )
