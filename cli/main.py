"""`liandai` — the command line of the liandai ledger.

Command groups live in their own modules and are imported only when used, so `--help`
and simple commands start fast. Errors are one line on stderr: exit 2 for bad input
(nothing sent), 1 for a refusal by the chain or the environment.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from cli.context import App
from ledger import _lazy
from ledger.errors import LedgerError

# Before anything imports web3 or py-evm: defer the BLS12-381 modules no command uses.
_lazy.install()

# command name → "module:attribute"
COMMANDS = {
    "init": "cli.setup:init",
    "node": "cli.setup:node",
    "demo": "cli.demo:demo",
    "chain": "cli.setup:chain",
    "account": "cli.account:account",
    "member": "cli.member:member",
    "cny": "cli.cny:cny",
    "receivable": "cli.receivable:receivable",
    "loan": "cli.loan:loan",
    "cover": "cli.pool:cover",
    "pool": "cli.pool:pool",
    "tranche": "cli.markets.tranche:tranche",
    "abs": "cli.markets.abs:abs_",
    "policy": "cli.pool:policy",
    "audit": "cli.audit:audit",
    "consent": "cli.consent:consent",
    "credit": "cli.consent:credit",
    "report": "cli.report:report",
    "watch": "cli.report:watch",
    "besu": "cli.besu:besu",
}

EPILOG = """\b
Examples:
  liandai init --dev                      create a home, keys and the contracts
  liandai member add bank --role LENDER --net-assets 50,000,000
  liandai --as issuer cny mint bank 1,000,000.00
  liandai cny balance bank --json
"""


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module, attr = self._lazy[cmd_name].split(":")
            cmd = getattr(importlib.import_module(module), attr)
            assert isinstance(cmd, click.Command)
            return cmd
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--home",
    "home_dir",
    envvar="LIANDAI_HOME",
    metavar="DIR",
    help="Home with keys, chain and deployments [env LIANDAI_HOME; default ~/.liandai].",
)
@click.option(
    "--rpc",
    envvar="LIANDAI_RPC",
    metavar="URL",
    help="Use this Ethereum JSON-RPC node instead of the embedded chain [env LIANDAI_RPC].",
)
@click.option(
    "--as",
    "signer",
    envvar="LIANDAI_AS",
    default="operator",
    show_default=True,
    metavar="NAME",
    help="Local account that signs [env LIANDAI_AS].",
)
@click.version_option("0.1.0", prog_name="liandai")
@click.pass_context
def cli(ctx: click.Context, home_dir: str | None, rpc: str | None, signer: str) -> None:
    """链贷 liandai: a permissioned ledger and loan engine for supply-chain finance.

    Receivables, joint loans and digital-RMB settlement on an EVM chain: the embedded
    chain in your home by default, or any Ethereum node with --rpc.
    """
    app = App(home_dir=home_dir, rpc=rpc or None, signer=signer)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# The chain's "no such id" refusals → the one message and exit code a missing id gets
# everywhere (`receivable show`, `loan accept`, `report --loan`): `no loan #9`, exit 2.
_UNKNOWN = {"UnknownLoan": ("loan", "loanId"), "UnknownReceivable": ("receivable", "id")}


def _not_found(exc: LedgerError) -> LedgerError:
    from ledger.errors import ContractRefusal, NotFound

    if isinstance(exc, ContractRefusal) and exc.name in _UNKNOWN:
        what, arg = _UNKNOWN[exc.name]
        return NotFound(f"no {what} #{exc.args_by_name.get(arg)}")
    return exc


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (never raise, never print a traceback)."""

    args = sys.argv[1:] if argv is None else list(argv)
    if os.environ.get("_LIANDAI_COMPLETE"):  # shell completion: click's own main handles it
        cli.main(args=args, prog_name="liandai")
    try:
        # make_context + invoke rather than cli.main: click's main turns Ctrl-C into Abort
        # after printing a blank line, and this function prints one line of its own.
        with cli.make_context("liandai", args) as ctx:
            cli.invoke(ctx)
        return 0
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("liandai: aborted", err=True)
        return 130
    except click.exceptions.NoArgsIsHelpError as exc:  # `liandai`, `liandai loan`: the help
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        return 0
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(f"liandai: {_one_line(exc.format_message())}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"liandai: {_one_line(exc.format_message())}", err=True)
        return exc.exit_code
    except LedgerError as exc:
        said = _not_found(exc)
        click.echo(f"liandai: {_one_line(str(said))}", err=True)
        return said.exit_code
    except BrokenPipeError:  # `liandai … | head`: the reader has gone; stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        if sys.stderr.isatty():  # end the line the terminal's ^C echo is on
            click.echo(err=True)
        click.echo("liandai: interrupted; nothing half-done was kept", err=True)
        return 130
    except Exception as exc:  # the last guard: one line, never a traceback
        if os.environ.get("LIANDAI_DEBUG"):
            raise
        click.echo(
            f"liandai: internal error: {type(exc).__name__}: {_one_line(str(exc))}", err=True
        )
        return 1


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
