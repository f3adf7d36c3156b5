"""What every command shares: the home, the chain choice, the signer, output and parsing.

Heavy modules (web3, pydantic, rich) are imported inside functions so `--help` stays fast.
"""

from __future__ import annotations

import io
import json
import os
import re
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


# An amount as the CLI prints it: 1,234.56, ¥1,234.56, -0.01.
_MONEY = re.compile(r"-?¥?\d{1,3}(?:,\d{3})*\.\d{2}\b")
# Piped output without COLUMNS gets room for wide tables; a terminal, its own width.
PIPE_WIDTH = 220


def console_width() -> int:
    """The width tables are laid out for: the terminal's, else $COLUMNS, else PIPE_WIDTH."""
    import shutil

    if sys.stdout.isatty():
        return shutil.get_terminal_size((80, 24)).columns
    try:
        return max(20, int(os.environ["COLUMNS"]))
    except (KeyError, ValueError):
        return PIPE_WIDTH


def table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    """Print a table that never cuts an amount, whatever the width.

    Tried in turn until every amount of every cell appears whole and no line is wider
    than the console: a boxed table with amounts, short words and header words held whole
    (longer text, such as hashes, folds); the same without borders; then one small table
    per row (column, value).
    """
    width = console_width()
    for text in _layouts(title, columns, rows, width):
        if _fits(text, rows, width):
            break
    sys.stdout.write(text)
    sys.stdout.flush()


def _layouts(
    title: str | None, columns: list[str], rows: list[list[str]], width: int
) -> Iterator[str]:
    from rich import box

    yield _render(title, columns, rows, width, box.HEAVY_HEAD, words=FOLD_AFTER)
    yield _render(title, columns, rows, width, box.SIMPLE_HEAD, words=FOLD_AFTER)
    yield "".join(
        _render(
            f"{title} ({i + 1} of {len(rows)})" if title and len(rows) > 1 else title,
            ["", ""],
            [[c or "", v] for c, v in zip(columns, row, strict=True)],
            width,
            box.HEAVY_HEAD,
            words=FOLD_AFTER,
            header=False,
        )
        for i, row in enumerate(rows)
    )


# Text cells up to this many characters (names, dates, states) are kept on one line while
# a table can afford it; longer ones (hashes, addresses) fold.
FOLD_AFTER = 12


def _render(
    title: str | None,
    columns: list[str],
    rows: list[list[str]],
    width: int,
    style: Any,
    *,
    words: int,
    header: bool = True,
) -> str:
    """One layout: every amount held whole, and every text cell up to `words` characters
    and each word of a header too; "" when that cannot fit in `width`."""
    from rich import box
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    compact = style is box.SIMPLE_HEAD
    n = len(columns)
    # Borders and padding: boxed, a space each side and a rule between and around columns;
    # compact, one space of padding and a blank rule between columns.
    room = width - ((2 * n - 1) if compact else (3 * n + 1))
    natural, least = [], []
    for i, c in enumerate(columns):
        cells = [r[i] for r in rows]
        natural.append(max([cell_len(x) for x in [*cells, c if header else ""]], default=1))
        held = [cell_len(w) for w in c.split()] if header else []
        held += [cell_len(m) for cell in cells for m in _MONEY.findall(cell)]
        held += [min(cell_len(cell), words) for cell in cells if not _MONEY.search(cell)]
        least.append(max(held, default=1))
    if sum(least) > room:
        return ""
    widths = list(natural)
    while sum(widths) > room:  # narrow the column with the most to give, one cell at a time
        i = max(range(n), key=lambda k: widths[k] - least[k])
        widths[i] -= 1
    t = Table(
        title=title,
        box=style,
        header_style="bold",
        show_header=header and any(columns),
        show_edge=not compact,
        padding=(0, 1, 0, 0) if compact else (0, 1),
    )
    for i, (c, w) in enumerate(zip(columns, widths, strict=True)):
        cells = [r[i] for r in rows if r[i]]
        figures = bool(cells) and all(_MONEY.fullmatch(x) for x in cells)
        right = figures or c.endswith(("(¥)", "#", "block", "seq"))
        justify = "right" if right else "left"
        t.add_column(c, justify=justify, width=w, overflow="fold")  # type: ignore[arg-type]
    for r in rows:
        t.add_row(*r)
    console = Console(width=width, file=io.StringIO(), force_terminal=sys.stdout.isatty())
    with console.capture() as captured:
        console.print(t, crop=False)
    return captured.get()


def _fits(text: str, rows: list[list[str]], width: int) -> bool:
    from rich.cells import cell_len
    from rich.text import Text

    if not text:
        return False
    plain = Text.from_ansi(text).plain
    lines = plain.splitlines()
    if any(cell_len(line) > width for line in lines):
        return False
    return all(
        any(m in line for line in lines) for r in rows for cell in r for m in _MONEY.findall(cell)
    )


def say(text: str) -> None:
    click.echo(text)


@contextmanager
def bad_input_as_usage() -> Iterator[None]:
    """Turn ledger.BadInput raised while parsing into click's exit-2 usage error."""
    from ledger.errors import BadInput, NotFound

    try:
        yield
    except NotFound:
        raise  # "no loan #9", the same line whichever command met it
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
