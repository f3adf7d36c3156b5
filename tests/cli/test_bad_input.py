"""Bad input: one line on stderr, the right exit code, no traceback, nothing changed."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from ledger.home import Home

# (arguments, exit code, a phrase the one-line message must contain)
CASES: list[tuple[list[str], int, str]] = [
    (["--as", "issuer", "cny", "mint", "bank", "-5"], 2, "negative"),
    (["--as", "issuer", "cny", "mint", "bank", "1.001"], 2, "more than two decimals"),
    (["--as", "issuer", "cny", "mint", "bank", "abc"], 2, "not a yuan amount"),
    (["--as", "issuer", "cny", "mint", "bank", "１２３"], 2, "not a yuan amount"),
    (["--as", "issuer", "cny", "mint", "bank", "1e5"], 2, "not a yuan amount"),
    (["--as", "issuer", "cny", "mint", "bank", "1,00"], 2, "not a yuan amount"),
    (["--as", "issuer", "cny", "mint", "bank", "0"], 2, "zero"),
    (["--as", "issuer", "cny", "mint", "bank", "9" * 40], 2, "too large"),
    (["--as", "issuer", "cny", "mint", "nobody", "1"], 2, "no local account named 'nobody'"),
    (["--as", "issuer", "cny", "mint", "0x1234", "1"], 2, "not a 20-byte hex address"),
    (["--as", "issuer", "cny", "mint", "bank"], 2, "Missing argument"),
    (["--as", "core", "cny", "transfer", "supplier1", "1.234"], 2, "more than two decimals"),
    (["--as", "core", "cny", "transfer", "Bad Name!", "1"], 2, "not valid"),
    (["--as", "nobody", "cny", "transfer", "supplier1", "1"], 2, "no local account named 'nobody'"),
    (["cny", "balance", "nobody"], 2, "no local account"),
    (["--as", "issuer", "cny", "burn", "-1"], 2, "negative"),
    (["member", "add", "bank", "--role", "WIZARD"], 2, "unknown role 'WIZARD'"),
    (["member", "add", "bank"], 2, "Missing option '--role'"),
    (["member", "add", "bank", "--role", "LENDER", "--kyc-hash", "zz"], 2, "must be 32 bytes"),
    (
        ["member", "add", "bank", "--role", "LENDER", "--net-assets", "1.5.5"],
        2,
        "not a yuan amount",
    ),
    (["member", "add", "x", "--role", "SUPPLIER", "--region", "44010"], 2, "6-digit GB/T 2260"),
    (["member", "add", "x", "--role", "LENDER", "--licence", "BANKX"], 2, "unknown licence"),
    (["member", "add", "x", "--role", "LENDER", "--licence", "BANK:2026-13-01"], 2, "date"),
    (["member", "add", "x", "--role", "LENDER", "--licence", "NONE:2030-01-01"], 2, "no expiry"),
    (["member", "add", "x", "--role", "SUPPLIER", "--kind", "HUGE"], 2, "unknown borrower kind"),
    (["member", "add", "x", "--role", "SUPPLIER", "--group", "g" * 33], 2, "longer than 32"),
    (["member", "set", "bank"], 2, "give at least one of"),
    (["member", "set", "bank", "--region", "Guangzhou"], 2, "6-digit GB/T 2260"),
    (["report", "--region", "4401"], 2, "6-digit GB/T 2260"),
    (["--as", "regulator", "policy", "set", "max_book_x100", "4.5"], 2, "not a whole number"),
    (["member", "suspend", "nobody"], 2, "no local account"),
    (["member", "suspend", "bank", "--reason-hash", "0x12"], 2, "must be 32 bytes"),
    (["member", "set-net-assets", "bank", "-1"], 2, "negative"),
    (["chain", "advance", "0"], 2, "not in the range"),
    (["chain", "advance", "ten"], 2, "is not a valid integer"),
    (["account", "new", "UPPER CASE"], 2, "not valid"),
    (["account", "new", "operator", "--dev"], 2, "already exists"),
    (["frobnicate"], 2, "No such command"),
    (["cny", "balance", "--bogus"], 2, "No such option"),
    # refusals by the chain: exit 1, the rule and the numbers, nothing mined
    (["--as", "bank", "cny", "mint", "bank", "1"], 1, "MissingRole"),
    (["member", "add", "auditor", "--role", "REGULATOR"], 1, "RegulatorOnlyByRegulator"),
    (["member", "set-net-assets", "bank", "1"], 1, "needs role REGULATOR"),
    (["--as", "regulator", "member", "set", "regulator", "--region", "440100"], 1, "its own"),
    (
        ["--as", "supplier1", "cny", "transfer", "core", "0.01"],
        1,
        "supplier1 holds ¥0.00, needs ¥0.01",
    ),
    (["member", "add", "bank", "--role", "LENDER"], 1, "AlreadyMember"),
    (["--as", "bank", "member", "suspend", "core"], 1, "needs role OPERATOR|REGULATOR"),
    (["--as", "regulator", "member", "reinstate", "core"], 1, "already ACTIVE"),
    (["member", "suspend", "operator"], 1, "cannot suspend itself"),
]


def state(run, home: Home) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    r = run(home, "chain", "info", "--json")
    assert r.code == 0, r.err
    info = json.loads(r.out)
    return info["block"], info["audit_seq"], info["audit_head"]


def assert_one_line(err: str) -> None:
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert "Traceback" not in err
    assert err.startswith("liandai: ")


@pytest.mark.parametrize(("args", "code", "phrase"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_refused_with_one_line_and_changes_nothing(  # type: ignore[no-untyped-def]
    run, home: Home, args: list[str], code: int, phrase: str
) -> None:
    before = state(run, home)
    accounts_before = sorted(p.name for p in home.keystore_dir.glob("*"))
    r = run(home, *args)
    assert r.code == code, r.err
    assert_one_line(r.err)
    assert phrase in r.err
    assert r.out == ""
    assert state(run, home) == before
    assert sorted(p.name for p in home.keystore_dir.glob("*")) == accounts_before


def test_a_missing_home_is_a_one_line_refusal(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run(Home.at(tmp_path / "nowhere"), "member", "list")
    assert r.code == 1
    assert_one_line(r.err)
    assert "run `liandai init` first" in r.err


def test_an_rpc_url_that_is_down_is_a_one_line_refusal(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port

    r = run(Home.at(tmp_path / "h"), "chain", "info", rpc=f"http://127.0.0.1:{free_port()}")
    assert r.code == 1
    assert_one_line(r.err)
    assert "cannot reach an Ethereum JSON-RPC node" in r.err


def test_an_rpc_url_that_is_not_a_chain_is_a_one_line_refusal(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    class NotAChain(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), NotAChain)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        r = run(
            Home.at(tmp_path / "h"),
            "chain",
            "info",
            rpc=f"http://127.0.0.1:{server.server_address[1]}",
        )
    finally:
        server.shutdown()
    assert r.code == 1
    assert_one_line(r.err)


def test_a_wrong_password_is_refused_and_sends_nothing(
    run,
    home: Home,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIANDAI_PASSWORD", "correct horse")
    assert run(home, "account", "new", "treasurer").code == 0
    assert home.keystore_dir.joinpath("treasurer.json").exists()
    assert "correct horse" not in home.keystore_dir.joinpath("treasurer.json").read_text()
    assert run(home, "member", "add", "treasurer", "--role", "SUPPLIER").code == 0
    before = state(run, home)
    monkeypatch.setenv("LIANDAI_PASSWORD", "wrong")
    r = run(home, "--as", "treasurer", "cny", "transfer", "core", "0.01")
    assert r.code == 1
    assert_one_line(r.err)
    assert "wrong password for account 'treasurer'" in r.err
    assert state(run, home) == before


def test_a_corrupted_keystore_is_a_one_line_refusal(
    run,
    home: Home,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIANDAI_PASSWORD", "pw")
    assert run(home, "account", "new", "broken").code == 0
    home.keystore_dir.joinpath("broken.json").write_text("{not json")
    before = state(run, home)
    r = run(home, "--as", "broken", "cny", "transfer", "core", "1")
    assert r.code == 1
    assert_one_line(r.err)
    assert "unreadable" in r.err
    assert state(run, home) == before
