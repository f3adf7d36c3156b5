"""Tables never cut an amount: every figure of a loan with nine-digit amounts and odd
interest appears whole in `loan show` and `loan list` at 80 columns, and no line is wider."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from ledger.home import Home
from ledger.money import format_fen

DUE = "2099-12-31"
LIST_FIGURES = ("principal_fen", "outstanding_fen", "interest_due_fen")


def ok(run, home: Home, *args: str) -> str:  # type: ignore[no-untyped-def]
    r = run(home, *args)
    assert r.code == 0, (args, r.err)
    return str(r.out)


def fen_values(data: object) -> Iterator[int]:
    """Every `*_fen` amount in a JSON document, lists of them included."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("_fen") and isinstance(value, int):
                yield value
            elif key.endswith("_fen") and isinstance(value, list):
                yield from (v for v in value if isinstance(v, int))
            else:
                yield from fen_values(value)
    elif isinstance(data, list):
        for item in data:
            yield from fen_values(item)


@pytest.fixture
def big_loan(run, home: Home) -> Home:  # type: ignore[no-untyped-def]
    """Loan #1: ¥214,285,714.29 in two tranches, disbursed, two odd receipts settled."""
    ok(run, home, "--as", "regulator", "member", "set-net-assets", "microloan", "1,000,000,000")
    ok(run, home, "--as", "issuer", "cny", "mint", "bank", "150,000,000")
    ok(run, home, "--as", "issuer", "cny", "mint", "microloan", "64,285,714.29")
    ok(run, home, "--as", "issuer", "cny", "mint", "supplier1", "9,876,543.21")
    doc = "0x" + "ab" * 32
    ok(
        run,
        home,
        *("--as", "core", "receivable", "issue", "--to", "supplier1"),
        *("--amount", "300,000,000.00", "--due", DUE, "--doc-hash", doc),
    )
    ok(run, home, "--as", "supplier1", "receivable", "accept", "1")
    ok(
        run,
        home,
        *("--as", "microloan", "loan", "propose", "--borrower", "supplier1", "--receivable", "1"),
        *("--tranche", "bank:senior:150,000,000.00:5%"),
        *("--tranche", "microloan:junior:64,285,714.29"),
        *("--rate", "11.5%", "--days", "120", "--fee-share", "20%", "--tech", "tech"),
        *("--provision-share", "10%"),
    )
    ok(run, home, "--as", "supplier1", "loan", "accept", "1", "--yes")
    ok(run, home, "--as", "bank", "loan", "fund", "1")
    ok(run, home, "--as", "microloan", "loan", "fund", "1")
    ok(run, home, "--as", "microloan", "loan", "disburse", "1")
    ok(run, home, "chain", "advance", "47")
    ok(run, home, "--as", "supplier1", "loan", "repay", "1", "9,013,698.63")
    ok(run, home, "chain", "advance", "31")
    ok(run, home, "--as", "supplier1", "loan", "repay", "1", "12,345,678.91")
    return home


@pytest.mark.parametrize("command", [["loan", "show", "1"], ["loan", "list"]])
def test_every_amount_appears_whole_at_80_columns(  # type: ignore[no-untyped-def]
    run, big_loan: Home, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    data = json.loads(ok(run, big_loan, *command, "--json"))
    if command[1] == "list":  # the list shows each loan's own figures, not its tranches'
        data = [{k: v for k, v in loan.items() if k in LIST_FIGURES} for loan in data]
    amounts = {format_fen(f, symbol=False) for f in fen_values(data)}
    assert "214,285,714.29" in amounts and len(amounts) >= 3
    for width in (80, 60, 120):
        monkeypatch.setenv("COLUMNS", str(width))
        text = ok(run, big_loan, *command)
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width, text
        assert "…" not in text
        for amount in amounts:
            # whole, not the tail of a longer number
            pattern = rf"(?<![\d,]){re.escape(amount)}(?![\d])"
            assert any(re.search(pattern, line) for line in lines), (width, amount, text)


def test_a_table_that_fits_is_one_boxed_table(run, big_loan: Home, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")
    text = ok(run, big_loan, "loan", "show", "1")
    assert text.count("settlements") == 1 and "(1 of 2)" not in text
    monkeypatch.setenv("COLUMNS", "80")
    text = ok(run, big_loan, "loan", "show", "1")
    assert "loan #1 settlements (1 of 2)" in text and "(2 of 2)" in text
