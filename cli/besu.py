"""Besu permissioning: the accounts allowlist from Membership (DESIGN §6.8)."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import App, emit_json, json_option, pass_app, say


@click.group(epilog="Example: liandai --rpc http://127.0.0.1:8545 besu permissions perm.toml")
def besu() -> None:
    """Hyperledger Besu: keep its accounts allowlist equal to the active members."""


@besu.command(
    "permissions",
    epilog="""\b
Examples:
  liandai --rpc http://besu:8545 besu permissions permissions_config.toml
  liandai --rpc http://besu:8545 besu permissions permissions_config.toml --watch
""",
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--watch",
    is_flag=True,
    help="Keep going: every --interval seconds, rewrite FILE and bring the node's list "
    "to the active members through perm_addAccountsToAllowlist / perm_removeAccountsFromAllowlist.",
)
@click.option(
    "--besu-rpc",
    metavar="URL",
    help="The Besu node whose perm_* methods --watch calls [default: --rpc].",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 86_400),
    default=5.0,
    show_default=True,
    help="Seconds between two --watch rounds.",
)
@click.option(
    "--rounds",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Stop --watch after this many rounds (0: until Ctrl-C).",
)
@json_option
@pass_app
def permissions(
    app: App,
    file: Path,
    watch: bool,
    besu_rpc: str | None,
    interval: float,
    rounds: int,
    as_json: bool,
) -> None:
    """Write Besu's local permissioning FILE: accounts-allowlist = the active members.

    Members come from the Membership contract of this home's deployment (a suspended
    member is left out; node allowlists and other keys already in FILE are kept). With
    --watch the command keeps FILE and the running node's list current.
    """
    from ledger.chain import besu as perm
    from ledger.errors import BadInput

    node = None
    if watch:
        url = besu_rpc or app.rpc
        if not url:
            raise click.UsageError("--watch needs the Besu node's URL: --besu-rpc URL or --rpc URL")
        try:
            node = perm.PermRPC(url)
        except BadInput as exc:
            raise click.BadParameter(str(exc), param_hint="--besu-rpc") from None
    elif besu_rpc or rounds:
        raise click.UsageError("--besu-rpc and --rounds go with --watch")
    perm.read_file(file)  # bad file: exit 2 before anything is read or sent
    ledger = app.ledger()

    def show(result: perm.SyncResult) -> None:
        if as_json:
            emit_json({"file": str(file), **result.as_json()})
            return
        state = "written" if result.written else "unchanged"
        say(f"{file}: {len(result.accounts)} active members ({state})")
        for account in result.added:
            say(f"  allowed {account}")
        for account in result.removed:
            say(f"  removed {account}")

    if not watch:
        show(perm.sync(ledger, file))
        return
    perm.watch(ledger, file, node, interval=interval, rounds=rounds, on_round=show)
