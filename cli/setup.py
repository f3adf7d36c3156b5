"""Setup commands: init, node, chain info, chain advance."""

from __future__ import annotations

import click

from cli.context import App, emit_json, json_option, pass_app, password_prompt, say, table


@click.command(
    epilog="Examples: liandai init --dev · liandai --rpc http://127.0.0.1:8545 init --dev"
)
@click.option(
    "--dev",
    is_flag=True,
    help="Also create the dev consortium's accounts with plaintext keys (UNSAFE for real "
    "money) and admit them with their roles and net assets.",
)
@pass_app
def init(app: App, dev: bool) -> None:
    """Create the home, the operator's key, deploy the contracts and record them.

    With --rpc URL the home remembers the node: later commands use it without --rpc.
    """
    from ledger.engine.setup import initialise
    from ledger.money import format_fen, format_wei
    from ledger.roles import Role

    result = initialise(app.home, rpc=app.rpc, dev=dev, consortium=dev, password=password_prompt)
    d = result.deployment
    say(f"deployed liandai on {d.network} (chain {d.chain_id}) at block {d.block}")
    for name, address in d.contracts.items():
        say(f"  {name:<15} {address}")
    for acct in result.created:
        say(f"  account {acct.name:<10} {acct.address}{'  [dev key: unsafe]' if acct.dev else ''}")
    if result.funded_wei:
        say(f"  each dev account got {format_wei(result.funded_wei)} of gas money")
    for m in result.admitted:
        assets = f", net assets {format_fen(m.net_assets_fen)}" if m.net_assets_fen else ""
        say(f"  admitted {m.name:<10} {Role(m.roles).name}{assets}")
    say(f"record: {app.home.deployment_file(d.network)}")
    if app.rpc:
        say(f"this home now uses {app.rpc} (no --rpc needed)")


@click.command(
    epilog="""\b
Examples:
  liandai node --port 8545                 HTTP and websocket on 8545
  liandai node --port 8545 --ws-port 8546  a websocket-only port too, as geth has
  liandai node --port 8545 --detach        in the background; `liandai node --stop` ends it
"""
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8545,
    show_default=True,
    help="Port on 127.0.0.1 for HTTP and websocket JSON-RPC (0 picks a free one).",
)
@click.option(
    "--ws-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Also a websocket-only port (0 picks a free one).",
)
@click.option(
    "--detach",
    is_flag=True,
    help="Run in the background (output in <home>/node.log); return once it serves.",
)
@click.option("--stop", is_flag=True, help="Stop this home's running node.")
@pass_app
def node(app: App, port: int, ws_port: int | None, detach: bool, stop: bool) -> None:
    """Serve the embedded chain as Ethereum JSON-RPC on 127.0.0.1 until Ctrl-C.

    While it runs, liandai commands on this home go through it, and any Ethereum tool
    can connect to it: HTTP, and websocket (eth_subscribe) on the same port. Only active
    members may send transactions, only an OPERATOR may create contracts (DESIGN §6.8).
    """
    from ledger.errors import BadInput

    if app.rpc:
        raise BadInput("`node` serves this home's embedded chain; drop --rpc")
    if detach and stop:
        raise BadInput("give --detach or --stop, not both")
    if stop:
        from ledger.chain.noderun import stop_node

        pid = stop_node(app.home)
        say(f"node (pid {pid}) stopped; chain saved")
        return
    if detach:
        from ledger.chain.noderun import start_detached

        info = start_detached(app.home, port)
        say(
            f"serving {app.home.root} at {info['url']} in the background (pid {info['pid']}; "
            "stop it with `liandai node --stop`)"
        )
        return
    from ledger.chain.noderun import run_node

    run_node(
        app.home,
        port,
        on_ready=lambda url: say(f"serving {app.home.root} at {url} (Ctrl-C stops)"),
        ws_port=ws_port,
        on_ws_ready=lambda url: say(f"websocket-only port at {url}"),
    )
    say("node stopped; chain saved")


@click.group()
def chain() -> None:
    """The chain in use: show it, move a dev chain's clock."""


@chain.command("info")
@json_option
@pass_app
def chain_info(app: App, as_json: bool) -> None:
    """Network, chain id, latest block and time, contracts, audit head."""
    from ledger.money import format_time

    info = app.ledger().chain_info()
    if as_json:
        emit_json(info)
        return
    rows = [
        ["network", info.network],
        ["chain id", str(info.chain_id)],
        ["backend", f"{info.backend} ({info.client})"],
        ["block", str(info.block)],
        ["time", format_time(info.time)],
        ["audit head", f"#{info.audit_seq} {info.audit_head}"],
    ]
    rows += [[name, address] for name, address in info.contracts.items()]
    table(None, ["", ""], rows)


@chain.command("advance", epilog="Example: liandai chain advance 90")
@click.argument("days", type=click.IntRange(1, 36_500))
@json_option
@pass_app
def chain_advance(app: App, days: int, as_json: bool) -> None:
    """Move a dev chain's clock DAYS days ahead (embedded chain, its node, anvil)."""
    from ledger.money import format_time

    ledger = app.ledger()
    ledger.chain.advance_time(days * 86_400)
    info = ledger.chain_info()
    if as_json:
        emit_json({"block": info.block, "time": info.time})
    else:
        say(f"chain time is now {format_time(info.time)} (block {info.block})")
