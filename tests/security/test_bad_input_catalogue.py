"""Bad-input catalogue: malformed CLI input across every command group.

Each case runs the real CLI (in-process) against a prepared home and must print exactly one
line on stderr starting `liandai: `, with no traceback, exit with the right code (2: bad
input, nothing sent; 1: refused by the chain or the environment) and leave the chain (head
block, its hash, the audit head), the local event index (its full SQL dump) and the home's
keys and deployment records exactly as they were. A case on a home that does not exist must
not create it.

The catalogue complements tests/cli/test_bad_input.py (39 cases, mostly `cny mint`,
`member` and `account`); none of those is repeated here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from cli.main import COMMANDS, main
from ledger.chain.embedded import EmbeddedChain
from ledger.engine.accounts import Keyring
from ledger.engine.client import Ledger
from ledger.engine.loans import LoanRequest, TrancheRequest
from ledger.home import Home
from ledger.models import Admission
from ledger.roles import Role
from tests.conftest import free_port

DAY = 86_400
PASSWORD = "correct horse"
Z = "0x" + "00" * 32
H = "0x" + "ab" * 32  # a document hash nothing uses


@dataclass(frozen=True)
class Case:
    """One malformed invocation.

    Attributes:
        args: CLI arguments; `{files}`, `{down}`, `{notrpc}` and `{busy}` are filled in.
        code: the exit code it must give.
        phrase: a phrase the one-line message must contain.
        env: environment for the run (e.g. a password).
        home: "prepared" (the shared home), "missing" (a path with nothing there), or the
            name of a damage applied to a private copy of the prepared home.
        xfail: a known bug: what was expected and what happens (strict xfail).
    """

    args: tuple[str, ...]
    code: int
    phrase: str
    env: tuple[tuple[str, str], ...] = ()
    home: str = "prepared"
    xfail: str | None = None

    @property
    def id(self) -> str:
        prefix = "" if self.home == "prepared" else f"[{self.home}] "
        return prefix + " ".join(self.args)


def c(*args: str, code: int = 2, phrase: str = "", **kw: Any) -> Case:
    return Case(tuple(args), code, phrase, **kw)


ISSUE = ("--as", "core", "receivable", "issue", "--to", "supplier1", "--doc-hash", H)
PROPOSE = (
    "--as",
    "bank",
    "loan",
    "propose",
    "--borrower",
    "supplier1",
    "--receivable",
    "2",
    "--days",
    "30",
)
TRANCHE = ("--tranche", "bank:junior:1000")
RATE = ("--rate", "10%")
TREASURER = (("LIANDAI_PASSWORD", PASSWORD),)
ABS_CREATE = ("abs", "create", "--servicer", "tech", "--tranche")
OFFER = ("tranche", "offer", "1", "0", "--to", "bank")

CASES: list[Case] = [
    # --- tranche sales
    c("tranche", "offer", "1", "-1", "--to", "bank", "--price", "1", phrase="tranche index"),
    c("tranche", "offer", "1", "0", "--to", "bank", "--price", "1.001", phrase="two decimals"),
    c(*OFFER, "--price", "1", "--days", "400", phrase="1 to 365"),
    c("tranche", "offer", "1", "0", "--to", "nobody", "--price", "1", phrase="nobody"),
    c("tranche", "buy", "0", "0", phrase="loan id"),
    c("--as", "bank", "tranche", "buy", "999", "0", code=1, phrase="no open offer"),
    # --- abs (securitisation)
    c(*ABS_CREATE, "1", "--class", "A:1", "--class", "J:1", phrase="LOAN:INDEX"),
    c(*ABS_CREATE, "1:0", "--class", "A:1:5%", phrase="at least 2"),
    c(*ABS_CREATE, "1:0", "--class", "A:1", "--class", "J:1:1%", phrase="no coupon"),
    c("abs", "subscribe", "1", "A", "-5", phrase="negative"),
    c("abs", "write-off", "1", "x:0", phrase="loan id"),
    c("abs", "show", "0", phrase="deal id"),
    c("abs", "show", "7", code=1, phrase="no deal #7"),
    # --- account
    c("account", "new", "../evil", phrase="not valid"),
    c("account", "new", "a/b", phrase="not valid"),
    c("account", "new", "x" * 41, phrase="not valid"),
    c("account", "new", "", phrase="not valid"),
    c("account", "new", phrase="Missing argument"),
    c("account", "list", "--bogus", phrase="No such option"),
    # --- consent and credit files
    c("--as", "supplier1", "consent", "grant", "bank", "--days", "0", phrase="1 to 3650 days"),
    c("--as", "supplier1", "consent", "grant", "bank", "--days", "x", phrase="not a valid"),
    c("--as", "supplier1", "consent", "grant", "bank", "--purpose", "x" * 33, phrase="at most 32"),
    c("--as", "supplier1", "consent", "grant", "nobody", phrase="no local account"),
    c("--as", "supplier1", "consent", "revoke", "bank", code=1, phrase="ConsentNotGranted"),
    c("consent", "log", "0x12", phrase="20-byte"),
    c("--as", "bank", "credit", "file", "supplier1", "{files}/c.jsonl", code=1, phrase="never"),
    c("--as", "bank", "credit", "file", "supplier1", "{files}/no/c.jsonl", phrase="directory"),
    c(
        "--as",
        "supplier2",
        "credit",
        "file",
        "supplier1",
        "{files}/c.jsonl",
        code=1,
        phrase="LENDER",
    ),
    c("credit", "file", "supplier1", phrase="Missing argument"),
    # --- audit
    c("audit", "show", "--last", "0", phrase="not in the range"),
    c("audit", "show", "--last", "ten", phrase="is not a valid integer"),
    c("audit", "verify", "--bundle", "{files}/missing.jsonl", phrase="missing.jsonl"),
    c("audit", "verify", "--bundle", "{files}/garbage.jsonl", phrase="bundle"),
    c("audit", "verify", "--from-seq", "-1", phrase="-1"),
    c("audit", "evidence", "{files}/out.jsonl", phrase="--loan"),
    c("audit", "evidence", "--loan", "0", "{files}/out.jsonl", phrase="not in the range"),
    c("--as", "supplier1", "audit", "checkpoint", code=1, phrase="MissingRole"),
    # --- besu: nothing is written when the file, the options or the node are wrong
    c("besu", "permissions", phrase="Missing argument"),
    c("besu", "permissions", "{files}/garbage.jsonl", phrase="not a TOML permissioning file"),
    c("besu", "permissions", "{files}/perm.toml", "--watch", phrase="--besu-rpc URL or --rpc URL"),
    c("besu", "permissions", "{files}/perm.toml", "--rounds", "2", phrase="go with --watch"),
    c("besu", "permissions", "{files}/perm.toml", "--interval", "0", phrase="not in the range"),
    c(
        "besu",
        "permissions",
        "{files}/perm.toml",
        "--watch",
        "--besu-rpc",
        "ftp://127.0.0.1/",
        phrase="not an http(s) URL",
    ),
    c(
        "besu",
        "permissions",
        "{files}/perm.toml",
        "--watch",
        "--rounds",
        "1",
        "--besu-rpc",
        "{down}",
        code=1,
        phrase="cannot reach the Besu node",
    ),
    c(
        "besu",
        "permissions",
        "{files}/perm.toml",
        "--watch",
        "--rounds",
        "1",
        "--besu-rpc",
        "{notrpc}",
        code=1,
        phrase="answered perm_getAccountsAllowlist with None",
    ),
    c("besu", "permissions", "{files}/perm.toml", code=1, phrase="liandai init", home="missing"),
    # --- chain
    c("chain", "advance", "-3", phrase="-3"),
    c("chain", "advance", "1.5", phrase="is not a valid integer"),
    c("chain", "advance", "99999", phrase="not in the range"),
    c("chain", "rewind", phrase="No such command"),
    # --- cny
    c("--as", "core", "cny", "transfer", "supplier1", "-0.01", phrase="negative"),
    c("--as", "core", "cny", "transfer", "supplier1", "0.001", phrase="more than two decimals"),
    c("--as", "core", "cny", "transfer", "supplier1", "¥1,000.005", phrase="two decimals"),
    c("--as", "core", "cny", "transfer", "supplier1", "５", phrase="not a yuan amount"),
    c("--as", "core", "cny", "transfer", "supplier1", "1_000", phrase="not a yuan amount"),
    c("--as", "core", "cny", "transfer", "supplier1", "NaN", phrase="not a yuan amount"),
    c("--as", "core", "cny", "transfer", "supplier1", "0x10", phrase="not a yuan amount"),
    c("--as", "core", "cny", "transfer", "supplier1", " ", phrase="not a yuan amount"),
    c("--as", "issuer", "cny", "burn", "1" + "0" * 30, phrase="too large"),
    c("--as", "issuer", "cny", "burn", "1.0.0", phrase="not a yuan amount"),
    c("--as", "auditor", "cny", "burn", "1", code=1, phrase="MissingRole"),
    c("--as", "supplier2", "cny", "transfer", "core", "50,000", code=1, phrase="holds ¥0.00"),
    c("cny", "balance", "0x" + "zz" * 20, phrase="not"),
    # --- demo and init
    c("--rpc", "{down}", "demo", phrase="drop --rpc"),
    c("init", code=1, phrase="already initialised"),
    c("--rpc", "{down}", "init", code=1, phrase="cannot reach"),
    c("init", "--bogus", phrase="No such option"),
    # --- loan
    c(*PROPOSE, *TRANCHE, "--rate", "10.001%", phrase="finer than one basis point"),
    c(*PROPOSE, *TRANCHE, "--rate", "ten", phrase="not a rate"),
    c(*PROPOSE, *TRANCHE, "--rate", "1000000bps", phrase="above 1000%"),
    c(*PROPOSE, *TRANCHE, *RATE, "--days", "0", phrase="not in the range"),
    c(*PROPOSE, "--tranche", "bank:mezzanine:1000", *RATE, phrase="is not LENDER"),
    c(*PROPOSE, "--tranche", "bank:senior:1000", *RATE, phrase="needs its coupon"),
    c(*PROPOSE, "--tranche", "bank:junior:-5", *RATE, phrase="negative"),
    c(*PROPOSE, "--tranche", "nobody:junior:1000", *RATE, phrase="no local account"),
    c(*PROPOSE, *TRANCHE, *RATE, "--payee", "supplier2:999", phrase="payees take"),
    c(*PROPOSE, *TRANCHE, *RATE, "--fee-share", "10%", phrase="needs --tech"),
    c(*PROPOSE, *TRANCHE, *RATE, "--mode", "sideways", phrase="sideways"),
    c(
        "--as",
        "bank",
        "loan",
        "propose",
        "--borrower",
        "supplier1",
        "--receivable",
        "abc",
        *TRANCHE,
        *RATE,
        "--days",
        "30",
        phrase="not a receivable id",
    ),
    c(
        "--as",
        "core",
        "loan",
        "propose",
        "--borrower",
        "supplier1",
        "--receivable",
        "2",
        "--tranche",
        "core:junior:1000",
        *RATE,
        "--days",
        "30",
        code=1,
        phrase="MissingRole",
    ),
    c("--as", "supplier1", "loan", "repay", "1", "0.001", phrase="two decimals"),
    c("--as", "supplier1", "loan", "repay", "one", "5", phrase="not a loan id"),
    c("--as", "bank", "loan", "fund", "999", phrase="no loan #999"),
    c(
        "--as",
        "tech",
        "loan",
        "propose",
        "--borrower",
        "supplier1",
        "--receivable",
        "2",
        "--tranche",
        "tech:junior:1000",
        *RATE,
        "--days",
        "30",
        code=1,
        phrase="MissingRole",
    ),
    c("--as", "supplier1", "loan", "accept", "1", phrase="--yes"),
    c(
        "--as",
        "supplier1",
        "loan",
        "accept",
        "1",
        "--yes",
        "--terms-hash",
        "0x12",
        phrase="32 bytes",
    ),
    c(
        "--as",
        "supplier1",
        "loan",
        "accept",
        "1",
        "--yes",
        "--json",
        "--terms-hash",
        H,
        code=1,
        phrase="TermsMismatch",
    ),
    c("--as", "bank", "loan", "default", "1", code=1, phrase="WrongLoanStatus"),
    c("loan", "show", "0", phrase="not a loan id"),
    c("loan", "list", "--status", "BOGUS", phrase="BOGUS"),
    # --- staged drawdown (DESIGN §6.4)
    c("--as", "supplier1", "loan", "draw", "1", phrase="Missing argument"),
    c("--as", "supplier1", "loan", "draw", "1", "x", phrase="whole number"),
    c("--as", "supplier1", "loan", "draw", "1", "8", phrase="stages 0 to 7"),
    c("--as", "supplier1", "loan", "draw", "one", "1", phrase="not a loan id"),
    c("--as", "supplier1", "loan", "draw", "999", "1", phrase="no loan #999"),
    c("--as", "supplier1", "loan", "draw", "1", "1", code=1, phrase="WrongLoanStatus"),
    c("--as", "bank", "loan", "lapse", "one", phrase="not a loan id"),
    c("--as", "bank", "loan", "lapse", "999", phrase="no loan #999"),
    c("--as", "bank", "loan", "lapse", "1", code=1, phrase="WrongLoanStatus"),
    c(*PROPOSE, *TRANCHE, *RATE, "--payee", "supplier2:1000:x", phrase="whole number"),
    c(*PROPOSE, *TRANCHE, *RATE, "--payee", "supplier2:1:0:0", phrase="is not NAME:AMT"),
    c(
        *PROPOSE,
        *TRANCHE,
        *RATE,
        "--payee",
        "supplier2:500",
        "--payee",
        "supplier2:500:1",
        phrase="stage 1 needs its day",
    ),
    c(
        *PROPOSE,
        *TRANCHE,
        *RATE,
        "--payee",
        "supplier2:500",
        "--payee",
        "supplier2:500:2",
        "--stage-day",
        "2:5",
        phrase="stage 1 has no payee",
    ),
    c(
        *PROPOSE,
        *TRANCHE,
        *RATE,
        "--payee",
        "supplier2:500",
        "--payee",
        "supplier2:500:1",
        "--stage-day",
        "1:30",
        phrase="before maturity",
    ),
    c(*PROPOSE, *TRANCHE, *RATE, "--stage-day", "1", phrase="is not STAGE:DAYS"),
    c(*PROPOSE, *TRANCHE, *RATE, "--stage-day", "1:5", "--stage-day", "1:6", phrase="two days"),
    # --- cover
    c("cover", "show", "0", phrase="not a loan id"),
    c("cover", "accept", "x1", phrase="not a loan id"),
    c("cover", "honour", "1", "1.234", phrase="1.234"),
    c("cover", "breach", "1", "0", phrase="numbered from 1"),
    c("cover", "show", "999", phrase="no loan #999"),
    c("cover", "accept", "1", "--terms-hash", "0x12", phrase="32 bytes"),
    c("--as", "guarantor", "cover", "accept", "1", code=1, phrase="NoCover"),
    c("cover", "honour", "1", "-5", phrase="negative"),
    c("cover", "honour", "1", "5", "--layer", "0", phrase="numbered from 1"),
    c("--as", "bank", "cover", "honour", "1", phrase="bank provides no cover layer of loan 1"),
    c("--as", "bank", "cover", "breach", "1", "nobody", phrase="no local account"),
    c("--as", "bank", "cover", "breach", "1", "bank", phrase="bank provides no cover layer"),
    c("--as", "bank", "cover", "breach", "1", "1", code=1, phrase="UnknownLayer"),
    c("cover", "breach", "1", phrase="Missing argument"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "GUARANTEE:guarantor:40%", phrase="KIND:NAME"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "LOAN:guarantor:40%:1000", phrase="kind 'LOAN'"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "GUARANTEE:nobody:40%:1000", phrase="no local"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "GUARANTEE:guarantor:0%:1000", phrase="share_bps"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "GUARANTEE:guarantor:101%:1000", phrase="share_bps"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "GUARANTEE:guarantor:40%:0", phrase="is zero"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "GUARANTEE:guarantor:40%:1:2", phrase="above the cap"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "GUARANTEE:guarantor:4%:1.001", phrase="decimals"),
    c(*PROPOSE, *TRANCHE, *RATE, "--cover", "GUARANTEE:guarantor:ten:1000", phrase="not a rate"),
    c(
        *PROPOSE,
        *TRANCHE,
        *RATE,
        *("--cover", "GUARANTEE:guarantor:10%:1000") * 5,
        phrase="at most 4",
    ),
    c(
        *PROPOSE,
        *TRANCHE,
        *RATE,
        "--cover",
        "GUARANTEE:guarantor:40%:1000",
        code=1,
        phrase="a member",
    ),
    c(
        *PROPOSE,
        *TRANCHE,
        *RATE,
        "--cover",
        "INSURANCE:tech:10%:1000",
        code=1,
        phrase="GUARANTEE only",
    ),
    c(
        *PROPOSE,
        *TRANCHE,
        *RATE,
        "--cover",
        "REPURCHASE:supplier2:10%:1000",
        code=1,
        phrase="MissingRole",
    ),
    # --- member
    c("member", "add", "newbie", "--role", "LENDER", "--net-assets", "５００", phrase="not a yuan"),
    c("member", "add", "0xabc", "--role", "SUPPLIER", phrase="not a 20-byte hex address"),
    c("member", "add", "bank", "--role", "SUPPLIER,WIZARD", phrase="unknown role 'WIZARD'"),
    c("member", "show", "nobody", phrase="no local account"),
    c("member", "reinstate", "nobody", phrase="no local account"),
    c(
        "--as",
        "supplier1",
        "member",
        "add",
        "supplier2",
        "--role",
        "LENDER",
        code=1,
        phrase="MissingRole",
    ),
    c("member", "set-net-assets", "bank", "1.001", phrase="two decimals"),
    # --- node
    c("node", "--port", "70000", phrase="not in the range"),
    c("node", "--port", "http", phrase="is not a valid integer"),
    c("node", "--port", "{busy}", code=1, phrase="cannot listen"),
    c("node", code=1, phrase="liandai init", home="missing"),
    # --- policy
    c("--as", "regulator", "policy", "set", "max_apr_bps", "24.005%", phrase="finer"),
    c("--as", "regulator", "policy", "set", "default_days", "ten", phrase="whole number"),
    c("--as", "regulator", "policy", "set", "default_days", "１０", phrase="whole number"),
    c("--as", "regulator", "policy", "set", "default_days", "-1", phrase="-1"),
    c("--as", "regulator", "policy", "set", "interest_rate", "5%", phrase="unknown policy"),
    c(
        "--as",
        "regulator",
        "policy",
        "set",
        "max_apr_bps",
        "70000bps",
        code=1,
        phrase="ParameterOutOfRange",
    ),
    c(
        "--as",
        "regulator",
        "policy",
        "set",
        "min_originator_share_bps",
        "120%",
        code=1,
        phrase="ParameterOutOfRange",
    ),
    c("policy", "set", "max_apr_bps", "20%", code=1, phrase="MissingRole"),
    # --- pool
    c("--as", "bank", "pool", "contribute", "-100", phrase="negative"),
    c("--as", "bank", "pool", "contribute", "0", phrase="zero"),
    c("--as", "bank", "pool", "contribute", "1,00.00", phrase="not a yuan amount"),
    c("--as", "supplier2", "pool", "contribute", "1", code=1, phrase="ERC20InsufficientBalance"),
    # --- receivable
    c(*ISSUE, "--amount", "100", "--due", "2099-02-30", phrase="does not exist"),
    c(*ISSUE, "--amount", "100", "--due", "2099/01/01", phrase="not YYYY-MM-DD"),
    c(*ISSUE, "--amount", "100", "--due", "２０９９-０１-０１", phrase="not YYYY-MM-DD"),
    c(*ISSUE, "--amount", "100", "--due", "2001-01-01", phrase="not after the chain's time"),
    c(*ISSUE, "--amount", "100.123", "--due", "2099-01-01", phrase="two decimals"),
    c(*ISSUE, "--amount", "9" * 40, "--due", "2099-01-01", phrase="too large"),
    c(
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        "supplier1",
        "--amount",
        "1",
        "--due",
        "2099-01-01",
        phrase="exactly one of --doc",
    ),
    c(
        *ISSUE,
        "--doc",
        "{files}/invoice.pdf",
        "--amount",
        "1",
        "--due",
        "2099-01-01",
        phrase="exactly one of --doc",
    ),
    c(
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        "supplier1",
        "--amount",
        "1",
        "--due",
        "2099-01-01",
        "--doc",
        "{files}/missing.pdf",
        phrase="cannot read",
    ),
    c(
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        "supplier1",
        "--amount",
        "1",
        "--due",
        "2099-01-01",
        "--doc-hash",
        Z,
        phrase="must not be zero",
    ),
    c(
        "--as",
        "supplier1",
        "receivable",
        "issue",
        "--to",
        "supplier2",
        "--doc-hash",
        H,
        "--amount",
        "1",
        "--due",
        "2099-01-01",
        code=1,
        phrase="MissingRole",
    ),
    c(
        "--as",
        "core",
        "receivable",
        "issue",
        "--to",
        "bank",
        "--doc-hash",
        H,
        "--amount",
        "1",
        "--due",
        "2099-01-01",
        code=1,
        phrase="MissingRole",
    ),
    c("--as", "supplier1", "receivable", "accept", "0", phrase="not a receivable id"),
    c("--as", "supplier1", "receivable", "accept", "#abc", phrase="not a receivable id"),
    c("--as", "supplier2", "receivable", "accept", "1", code=1, phrase="NotHolder"),
    c("--as", "supplier1", "receivable", "accept", "999", phrase="no receivable #999"),
    c("--as", "supplier1", "receivable", "split", "2", "600,000", "400,000.01", phrase="sum"),
    c("--as", "supplier1", "receivable", "split", "2", "1,000,000", phrase="2 to 20 parts"),
    c("--as", "supplier1", "receivable", "transfer", "2", "--to", "nobody", phrase="no local"),
    c(
        "--as",
        "core",
        "receivable",
        "pay",
        "2",
        "--amount",
        "2,000,000",
        code=1,
        phrase="Overpayment",
    ),
    c("receivable", "show", "999", phrase="no receivable #999"),
    c("receivable", "list", "--status", "BOGUS", phrase="BOGUS"),
    c("--as", "core", "receivable", "import", "{files}/missing.csv", phrase="missing.csv"),
    c("--as", "core", "receivable", "import", "{files}/no-columns.csv", phrase="missing column"),
    c("--as", "core", "receivable", "import", "{files}/bad-rows.csv", phrase="3 bad row(s)"),
    c("--as", "core", "receivable", "import", "{files}/binary.csv", phrase="cannot read"),
    c("--as", "core", "receivable", "import", "{files}/empty.csv", phrase="missing column"),
    c("--as", "core", "receivable", "import", "{files}/twice.csv", phrase="also on row 2"),
    c("--as", "supplier1", "receivable", "import", "{files}/good.csv", phrase="CORE_ENTERPRISE"),
    # --- report and watch
    c("report", "--as-of", "2026-02-30", phrase="does not exist"),
    c("report", "--lender", "nobody", phrase="nobody"),
    c("report", "--coverage-threshold", "lots", phrase="not a rate"),
    c("report", "--loan", "0", phrase="not in the range"),
    c("watch", "--interval", "0", phrase="not in the range"),
    c("watch", "--polls", "0", phrase="not in the range"),
    # --- a home that is not there: nothing is created
    *(
        c(*args, code=1, phrase="liandai init", home="missing")
        for args in (
            ("cny", "balance", "bank"),
            ("--as", "core", "cny", "transfer", "bank", "1"),
            ("receivable", "list"),
            ("loan", "list"),
            ("pool", "show"),
            ("policy", "show"),
            ("audit", "verify"),
            ("chain", "info"),
        )
    ),
    # --- an --rpc that is down, not a URL, or not a chain
    c("--rpc", "{down}", "cny", "balance", "bank", "--json", code=1, phrase="cannot reach"),
    c("--rpc", "{down}", "loan", "list", code=1, phrase="cannot reach"),
    c(
        "--rpc",
        "{down}",
        "--as",
        "core",
        "cny",
        "transfer",
        "bank",
        "1",
        code=1,
        phrase="cannot reach",
    ),
    c("--rpc", "not a url", "chain", "info", code=1, phrase="not a url"),
    c("--rpc", "ftp://127.0.0.1/", "chain", "info", code=1, phrase="ftp://"),
    c("--rpc", "{notrpc}", "chain", "info", code=1, phrase="{notrpc}"),
    c("--rpc", "{notrpc}", "receivable", "list", code=1, phrase="{notrpc}"),
    # --- passwords and keys
    c(
        "--as",
        "treasurer",
        "receivable",
        "accept",
        "4",
        code=1,
        phrase="wrong password",
        env=(("LIANDAI_PASSWORD", "wrong"),),
    ),
    c("--as", "treasurer", "cny", "transfer", "core", "1", code=1, phrase="password is needed"),
    c(
        "--as",
        "treasurer",
        "cny",
        "transfer",
        "core",
        "1",
        code=1,
        phrase="treasurer",
        env=TREASURER,
        home="keystore-not-a-keystore",
    ),
    c(
        "--as",
        "treasurer",
        "cny",
        "transfer",
        "core",
        "1",
        code=1,
        phrase="treasurer",
        env=TREASURER,
        home="keystore-truncated",
    ),
    c(
        "--as",
        "core",
        "cny",
        "transfer",
        "bank",
        "1",
        code=1,
        phrase="dev-keys.json",
        home="dev-keys-corrupted",
    ),
    c("cny", "balance", "bank", code=1, phrase="embedded.json", home="deployment-corrupted"),
    c("cny", "balance", "bank", code=1, phrase="chain", home="chain-corrupted"),
]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def prepared(template_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded home plus: receivable #1 PENDING, #2 ACTIVE ¥1,000,000.00 (supplier1),
    #3 ACTIVE backing loan #1 PROPOSED, #4 PENDING for `treasurer` (an encrypted account,
    admitted as SUPPLIER); the index in sync; and the input files the cases read."""
    root = tmp_path_factory.mktemp("catalogue") / "home"
    shutil.copytree(template_home, root)
    home = Home.at(root)
    Keyring(home, lambda prompt: PASSWORD).create("treasurer")
    with Ledger.open(home) as op:
        op.simulate = False
        op.admit(Admission(address=op.resolve("treasurer"), roles=int(Role.SUPPLIER)))
        core, s1 = op.as_signer("core"), op.as_signer("supplier1")
        due = int(op.chain.w3.eth.get_block("latest")["timestamp"]) + 365 * DAY
        for i, (to, fen) in enumerate(
            [("supplier1", 50_000_00), ("supplier1", 1_000_000_00), ("supplier1", 20_000_00)]
        ):
            issued = core.receivables.issue(op.resolve(to), fen, due, keccak(text=f"cat {i}"))
            if i:
                s1.receivables.accept(issued.id)
        core.receivables.issue(op.resolve("treasurer"), 1_00, due, keccak(text="cat treasurer"))
        request = LoanRequest(
            borrower=op.resolve("supplier1"),
            tranches=[TrancheRequest(lender=op.resolve("bank"), senior=False, amount_fen=1_000)],
            receivable_ids=[3],
            rate_bps=1000,
            term_days=30,
        )
        op.as_signer("bank").loans.propose(request)
    files = root.parent / "files"
    files.mkdir()
    (files / "invoice.pdf").write_bytes(b"%PDF-1.4 an invoice")
    (files / "garbage.jsonl").write_text('{"not": "a bundle"\n{{{\n')
    (files / "no-columns.csv").write_text("name,value\nsupplier1,100\n")
    (files / "bad-rows.csv").write_text(
        "supplier,amount,due,doc\n"
        "supplier1,-5,2099-01-01,0x" + "01" * 32 + "\n"
        "supplier1,5,2099-13-01,0x" + "02" * 32 + "\n"
        "nobody,5,2099-01-01,0x" + "03" * 32 + "\n"
    )
    (files / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (files / "empty.csv").write_text("")
    (files / "twice.csv").write_text(
        "supplier,amount,due,doc\n"
        "supplier1,5,2099-01-01,0x" + "04" * 32 + "\n"
        "supplier1,6,2099-01-01,0x" + "04" * 32 + "\n"
    )
    (files / "good.csv").write_text("supplier,amount,due,doc\nsupplier1,5,2099-01-01," + H + "\n")
    # Bring the local index up to date through the commands that read it, so the cases
    # find nothing to catch up with.
    for group in ("receivable", "loan", "pool", "report"):
        if group in COMMANDS:
            assert main(["--home", str(root), group, *READS[group]]) == 0
    return root


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    """A port nobody listens on, an HTTP server that is not JSON-RPC, and a busy port."""

    class NotRPC(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.dumps({"hello": "world", "id": 1}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), NotRPC)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield {
            "down": f"http://127.0.0.1:{free_port()}",
            "notrpc": f"http://127.0.0.1:{server.server_address[1]}",
            "busy": str(server.server_address[1]),
        }
    finally:
        server.shutdown()
        server.server_close()


def damage(root: Path, how: str) -> None:
    """Break one thing in a private copy of the prepared home."""
    keystore = root / "keystore" / "treasurer.json"
    if how == "keystore-not-a-keystore":
        keystore.write_text(json.dumps({"address": "treasurer", "crypto": 7}))
    elif how == "keystore-truncated":
        keystore.write_text(keystore.read_text()[:100])
    elif how == "dev-keys-corrupted":
        (root / "dev-keys.json").write_text("[1, 2,")
    elif how == "deployment-corrupted":
        (root / "deployments" / "embedded.json").write_text('{"network": 5}')
    elif how == "chain-corrupted":
        (root / "chain" / "chain.sqlite").write_bytes(b"this is not an SQLite database" * 100)
    else:
        raise ValueError(how)


def fingerprint(root: Path) -> dict[str, Any]:
    """The chain's head (number and hash: the hash commits to every block's state and
    receipts), the index's full dump, and the digest of every other file of the home."""
    out: dict[str, Any] = {"exists": root.exists()}
    if not root.exists():
        return out
    try:
        chain = EmbeddedChain.open(root / "chain" / "chain.sqlite", lock_timeout=0)
        out["chain"] = (chain.block_number, chain.head_hash)
        chain.close()
    except Exception:  # a damaged chain file: compare its bytes
        out["chain"] = hashlib.sha256((root / "chain" / "chain.sqlite").read_bytes()).hexdigest()
    files = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.endswith((".lock", ".pid", "-journal", "-wal", "-shm")):
            files[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    index = root / "index" / "embedded.sqlite"
    if index.exists():
        db = sqlite3.connect(index)
        out["index"] = hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()
        db.close()
        files.pop("index/embedded.sqlite", None)
    # The chain and index are compared by content above; other files must not change at all,
    # except what a verification or an alert remembers (not chain, not index).
    out["files"] = {
        k: v for k, v in files.items() if not k.startswith(("chain/", "audit/", "alerts"))
    }
    return out


def assert_one_line(err: str) -> None:
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert "Traceback" not in err
    assert err.startswith("liandai: ")


def _fill(text: str, files: Path, urls: dict[str, str]) -> str:
    return (
        text.replace("{files}", str(files))
        .replace("{down}", urls["down"])
        .replace("{notrpc}", urls["notrpc"])
        .replace("{busy}", urls["busy"])
    )


READS = {
    "receivable": ["list", "--json"],
    "loan": ["list", "--json"],
    "pool": ["show", "--json"],
    "report": ["--json"],
}
PARAMS = [
    pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=case.xfail))
    if case.xfail
    else case
    for case in CASES
]


@pytest.mark.parametrize("case", PARAMS, ids=[case.id for case in CASES])
def test_malformed_input_gets_one_line_the_right_exit_code_and_changes_nothing(
    case: Case,
    prepared: Path,
    urls: dict[str, str],
    run: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIANDAI_PASSWORD", raising=False)
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    files = prepared.parent / "files"
    if case.home == "prepared":
        root = prepared
    elif case.home == "missing":
        root = tmp_path / "nowhere"
    else:
        root = tmp_path / "home"
        shutil.copytree(prepared, root)
        damage(root, case.home)
    args = [_fill(a, files, urls) for a in case.args]
    before = fingerprint(root)
    r = run(Home.at(root), *args)
    assert r.code == case.code, r.err
    assert_one_line(r.err)
    assert _fill(case.phrase, files, urls) in r.err
    assert r.out == ""
    assert fingerprint(root) == before
    assert not (files / "perm.toml").exists()  # no Besu allowlist half-written


def test_the_catalogue_covers_every_command_group_with_at_least_sixty_cases() -> None:
    covered = set()
    for case in CASES:
        words = [a for a in case.args if not a.startswith("-")]
        covered |= {w for w in words if w in COMMANDS}
    assert set(COMMANDS) - covered == set()
    assert len(CASES) >= 60
