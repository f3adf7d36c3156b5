"""The only place where yuan text becomes integer fen, and rates and dates become numbers.

Amounts are integer fen everywhere else. Input may be `1000000`, `1,000,000.00` or
`¥1,000,000.00`; more than two decimals is an error, never a rounding. Rates are basis
points per year, written `10%` or `1000bps`. Dates are `YYYY-MM-DD`, meaning the end of that
day in China Standard Time (UTC+8).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from ledger.errors import BadInput

FEN_PER_YUAN = 100
# Amounts must fit the contracts' uint128 fields with room to add them up.
MAX_FEN = 2**96 - 1
CST = timezone(timedelta(hours=8), "CST")
SECONDS_PER_DAY = 86_400

# ASCII digits only: Python's int() would accept full-width digits such as "１２３".
_AMOUNT = re.compile(r"^(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?$")
_PERCENT = re.compile(r"^(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?%$")
_BPS = re.compile(r"^(?P<bps>[0-9]+)\s*bps$", re.IGNORECASE)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_amount(text: str, *, allow_zero: bool = False) -> int:
    """Yuan text → fen. Raises BadInput naming what is wrong."""
    raw = text.strip()
    body = raw.removeprefix("¥").removeprefix("￥").strip()
    if body.startswith("-"):
        raise BadInput(f"amount {text!r} is negative; amounts are positive yuan")
    match = _AMOUNT.match(body)
    if not match:
        raise BadInput(
            f"amount {text!r} is not a yuan amount (write 1000000, 1,000,000.00 or ¥1,000,000.00)"
        )
    frac = match.group("frac") or ""
    if len(frac) > 2:
        raise BadInput(f"amount {text!r} has more than two decimals (the smallest unit is 1 fen)")
    fen = int(match.group("int").replace(",", "")) * FEN_PER_YUAN + int(frac.ljust(2, "0") or 0)
    if fen == 0 and not allow_zero:
        raise BadInput(f"amount {text!r} is zero")
    if fen > MAX_FEN:
        raise BadInput(f"amount {text!r} is too large (at most {format_fen(MAX_FEN)})")
    return fen


def format_fen(fen: int, *, symbol: bool = True) -> str:
    """Fen → `¥1,234.56` (exact, integer arithmetic)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{'¥' if symbol else ''}{yuan:,}.{cents:02d}"


def parse_rate(text: str) -> int:
    """`10%`, `9.75%` or `975bps` → basis points per year."""
    raw = text.strip()
    if m := _BPS.match(raw):
        bps = int(m.group("bps"))
    elif m := _PERCENT.match(raw):
        frac = m.group("frac") or ""
        if len(frac) > 2:
            raise BadInput(f"rate {text!r} is finer than one basis point (0.01%)")
        bps = int(m.group("int")) * 100 + int(frac.ljust(2, "0") or 0)
    else:
        raise BadInput(f"rate {text!r} is not a rate (write 10% or 1000bps)")
    if bps > 100_000:
        raise BadInput(f"rate {text!r} is above 1000% a year")
    return bps


def format_bps(bps: int) -> str:
    whole, part = divmod(bps, 100)
    return f"{whole}.{part:02d}%"


def parse_date(text: str) -> int:
    """`YYYY-MM-DD` → unix seconds of the last second of that day in China Standard Time."""
    raw = text.strip()
    if not _DATE.match(raw):
        raise BadInput(f"date {text!r} is not YYYY-MM-DD")
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise BadInput(f"date {text!r} does not exist ({exc})") from None
    end = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CST)
    return int(end.timestamp())


def format_time(unix: int) -> str:
    """Unix seconds → `YYYY-MM-DD HH:MM:SS CST`."""
    return datetime.fromtimestamp(unix, tz=UTC).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S CST")


def format_date(unix: int) -> str:
    return datetime.fromtimestamp(unix, tz=UTC).astimezone(CST).strftime("%Y-%m-%d")


def format_wei(wei: int) -> str:
    """Gas money in ether, exact to the wei (`0.5 ETH`, `1,000 ETH`, `2 gwei`)."""
    if 0 < wei < 10**15:
        whole, rest = divmod(wei, 10**9)
        return f"{whole:,}{'.' + f'{rest:09d}'.rstrip('0') if rest else ''} gwei"
    whole, rest = divmod(wei, 10**18)
    return f"{whole:,}{'.' + f'{rest:018d}'.rstrip('0') if rest else ''} ETH"
