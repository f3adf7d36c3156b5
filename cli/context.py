"""What every command shares: the home, the chain choice, the signer, output and parsing.

Heavy modules (web3, pydantic, rich) are imported inside functions so `--help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ledger.engine.client import Ledger
    from ledger.home import Home

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """Options given before the command, and the ledger opened for it."""

    home_dir: str | None
    rpc: str | None
    signer: str
    _ledger: Ledger | None = field(default=None, repr=False)

    @property
    def home(self) -> Home:
        from ledger.home import Home

        return Home.at(self.home_dir)

    def ledger(self) -> Ledger:
        if self._ledger is None:
            from ledger.engine.client import Ledger

            self._ledger = Ledger.open(
                self.home, rpc=self.rpc, signer=self.signer, password=password_prompt
            )
        return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


pass_app = click.make_pass_decorator(App)


def password_prompt(prompt: str) -> str:
    """LIANDAI_PASSWORD if set, else ask on the terminal (twice for a new password)."""
    env = os.environ.get("LIANDAI_PASSWORD")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        from ledger.errors import Refused

        raise Refused(f"a password is needed ({prompt}): set LIANDAI_PASSWORD or run in a terminal")
    return str(
        click.prompt(
            prompt.capitalize(), hide_input=True, confirmation_prompt=prompt.startswith("new")
        )
    )


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        fn
    )


def emit_json(data: Any) -> None:
    click.echo(json.dumps(_plain(data), ensure_ascii=False, indent=2))


def _plain(data: Any) -> Any:
    if hasattr(data, "model_dump"):
        return data.model_dump()
    if isinstance(data, list):
        return [_plain(d) for d in data]
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    return data


def table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        justify = "right" if c.endswith(("(¥)", "#", "block", "seq")) else "left"
        t.add_column(c, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        t.add_row(*r)
    # Piped output gets room for wide tables (a settlement breakdown) instead of "…".
    Console(width=None if sys.stdout.isatty() else 220).print(t)


def say(text: str) -> None:
    click.echo(text)


@contextmanager
def bad_input_as_usage() -> Iterator[None]:
    """Turn ledger.BadInput raised while parsing into click's exit-2 usage error."""
    from ledger.errors import BadInput

    try:
        yield
    except BadInput as exc:
        raise click.BadParameter(str(exc)) from None


class _Parsed(click.ParamType):
    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        from ledger.errors import BadInput

        try:
            return self._parse(value)
        except BadInput as exc:
            self.fail(str(exc), param, ctx)


def parse_id(value: str, what: str) -> int:
    """A positive integer id, `#` allowed in front; `what` names it in the refusal."""
    from ledger.errors import BadInput

    text = value.strip().removeprefix("#")
    if not text.isascii() or not text.isdigit() or int(text) == 0:
        raise BadInput(f"{value!r} is not a {what} id (a positive integer)")
    return int(text)


def _amount(text: str) -> int:
    from ledger.money import parse_amount

    return parse_amount(text)


def _date(text: str) -> int:
    from ledger.money import parse_date

    return parse_date(text)


def _rate(text: str) -> int:
    from ledger.money import parse_rate

    return parse_rate(text)


AMOUNT = _Parsed("amount", _amount)
# Commands taking amounts read `-5` as an amount (and refuse it as negative), not an option.
NEGATIVE_OK = {"ignore_unknown_options": True}
DATE = _Parsed("date", _date)
RATE = _Parsed("rate", _rate)
