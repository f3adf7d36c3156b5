"""What a newcomer meets in the first hour: init --dev admits the dev consortium, a failed
init leaves nothing, the demo runs twice, a missing id is one message everywhere, the help
with no arguments, watch's start line, one password question, the home's own node by URL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger.engine.setup import DEV_CONSORTIUM, initialise
from ledger.home import Home
from tests.conftest import ANVIL, ROOT, free_port


def ok(run, home: Home, *args: str) -> str:  # type: ignore[no-untyped-def]
    r = run(home, *args)
    assert r.code == 0, (args, r.err)
    return str(r.out)


def test_init_dev_admits_the_dev_consortium_with_roles_and_net_assets(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = Home(str(tmp_path / "fresh"))
    out = ok(run, home, "init", "--dev")
    assert "admitted bank       LENDER, net assets ¥5,000,000,000.00" in out
    members = {m["name"]: m for m in json.loads(ok(run, home, "member", "list", "--json"))}
    assert set(members) == {"operator", *(m.name for m in DEV_CONSORTIUM)}
    for m in DEV_CONSORTIUM:
        assert members[m.name]["status"] == "ACTIVE"
        assert members[m.name]["net_assets_fen"] == m.net_assets_fen
    # and the README's third line now works
    ok(run, home, "--as", "issuer", "cny", "mint", "core", "¥1,000,000.00")


def test_a_failed_init_leaves_no_home_behind(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = Home(tmp_path / "never")
    r = run(home, "init", "--dev", rpc=f"http://127.0.0.1:{free_port()}")
    assert r.code == 1 and "cannot reach" in r.err
    assert not home.root.exists()


def test_init_asks_for_a_new_password_once(tmp_path: Path) -> None:
    asked: list[str] = []

    def password(prompt: str) -> str:
        asked.append(prompt)
        return "correct horse"

    initialise(Home(tmp_path / "h"), password=password)
    assert asked == ["new password for 'operator'"]


def test_home_takes_a_str_or_a_path_and_nothing_else(tmp_path: Path) -> None:
    assert Home(str(tmp_path)) == Home(tmp_path) == Home.at(str(tmp_path))
    assert Home("~/x").root == Path.home() / "x"
    assert Home(str(tmp_path)).keystore_dir == tmp_path.resolve() / "keystore"
    with pytest.raises(TypeError, match="not int"):
        Home(3)  # type: ignore[arg-type]


def test_no_arguments_prints_the_help(run) -> None:  # type: ignore[no-untyped-def]
    for args in ([], ["loan"]):
        r = run(None, *args)
        assert r.code == 0 and r.err == ""
        assert r.out.startswith("Usage: liandai") and r.out.count("\n") > 10


MISSING = [
    (["loan", "show", "9"], "no loan #9"),
    (["--as", "bank", "loan", "fund", "9"], "no loan #9"),
    (["--as", "supplier1", "loan", "repay", "9", "1"], "no loan #9"),
    (["--as", "supplier1", "loan", "accept", "9", "--yes"], "no loan #9"),
    (["--as", "microloan", "loan", "disburse", "9"], "no loan #9"),
    (["report", "--loan", "9"], "no loan #9"),
    (["audit", "evidence", "--loan", "9", "e.jsonl"], "no loan #9"),
    (["receivable", "show", "9"], "no receivable #9"),
    (["--as", "supplier1", "receivable", "accept", "9"], "no receivable #9"),
    (["--as", "core", "receivable", "pay", "9"], "no receivable #9"),
    (["--as", "supplier1", "receivable", "split", "9", "1", "2"], "no receivable #9"),
    (["--as", "supplier1", "receivable", "transfer", "9", "--to", "bank"], "no receivable #9"),
]


def test_a_missing_id_is_the_same_line_and_exit_code_everywhere(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    for args, line in MISSING:
        r = run(home, *args)
        assert (r.code, r.err) == (2, f"liandai: {line}\n"), args


def test_a_proposed_loan_owes_nothing_yet_in_show_and_list(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    doc = "0x" + "cd" * 32
    ok(
        run,
        home,
        *("--as", "core", "receivable", "issue", "--to", "supplier1", "--amount", "10,000"),
        *("--due", "2099-12-31", "--doc-hash", doc),
    )
    ok(run, home, "--as", "supplier1", "receivable", "accept", "1")
    ok(
        run,
        home,
        *("--as", "microloan", "loan", "propose", "--borrower", "supplier1", "--receivable", "1"),
        *("--tranche", "bank:senior:7,000:5%", "--tranche", "microloan:junior:3,000"),
        *("--rate", "10%", "--days", "30"),
    )
    shown = json.loads(ok(run, home, "loan", "show", "1", "--json"))
    listed = json.loads(ok(run, home, "loan", "list", "--json"))
    assert shown["status"] == "PROPOSED" and shown["principal_fen"] == 1_000_000
    assert shown["outstanding_fen"] == 0 and [t["outstanding_fen"] for t in shown["tranches"]] == [
        0,
        0,
    ]
    assert listed == [shown]
    report = json.loads(ok(run, home, "report", "--json"))
    assert report["ledger"]["loan_book"]["outstanding_fen"]["value"] == 0


def test_watch_says_it_started_and_that_all_is_quiet(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    out = ok(run, home, "watch", "--polls", "1", "--interval", "0.1")
    first, second = out.splitlines()[:2]
    assert first.startswith(f"watching {home.root} on the embedded chain for early warnings")
    assert second.endswith("no alerts")
    r = run(home, "watch", "--polls", "1", "--json")
    assert r.code == 0 and r.out == "" and r.err.startswith("watching ")


def test_the_demo_runs_again_on_the_same_home(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = Home(tmp_path / "demo")
    first = ok(run, home, "demo")
    assert "loan #1 is REPAID" in first
    # stage two: a tranche sale, a securitisation deal, a staged loan whose last stage lapses
    assert "fund buys: bank is paid" in first and "the investor claims" in first
    assert "loan #2 is REPAID" in first and "stage 2 was never drawn and lapses" in first
    again = ok(run, home, "demo")
    assert "already has the contracts" in again and "(already members)" in again
    assert "loan #3 is REPAID" in again and "receivable #6" in again and "deal #2" in again
    assert "verified from chain data" in again and "every entry, event and proof checks" in again


def test_rpc_to_the_homes_own_node_is_this_home(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "LIANDAI_HOME": str(home.root)}
    started = subprocess.run(
        [sys.executable, "-m", "cli.main", "node", "--port", str(port), "--detach"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        assert started.returncode == 0, started.stderr
        assert f"at http://127.0.0.1:{port} in the background" in started.stdout
        info = json.loads(ok(run, home, "chain", "info", "--json"))
        by_url = json.loads(
            run(home, "chain", "info", "--json", rpc=f"http://127.0.0.1:{port}").out
        )
        assert by_url["network"] == "embedded" and by_url["contracts"] == info["contracts"]
        assert by_url["backend"] == "node"
    finally:
        stopped = run(home, "node", "--stop")
    assert stopped.code == 0 and "stopped" in stopped.out
    assert not home.node_file.exists()
    assert run(home, "node", "--stop").code == 1


@pytest.mark.anvil
def test_a_home_initialised_with_rpc_remembers_the_node(run, anvil: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = Home(tmp_path / "h")
    out = ok(run, home, "--rpc", anvil, "init", "--dev")
    assert f"this home now uses {anvil}" in out
    info = json.loads(ok(run, home, "chain", "info", "--json"))  # no --rpc
    assert info["network"] == "chain-31337"
    ok(run, home, "--as", "issuer", "cny", "mint", "core", "1,000")


@contextmanager
def priced_anvil() -> Iterator[str]:
    """anvil as it starts by default: a base fee, so gas costs ether."""
    port = free_port()
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "anvil did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _rpc(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


@pytest.mark.anvil
def test_where_gas_costs_ether_init_says_what_is_missing_or_shares_what_there_is(
    run,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    with priced_anvil() as url:
        bare = Home(tmp_path / "bare")
        r = run(bare, "init", "--dev", rpc=url)
        assert r.code == 1 and r.err.count("\n") == 1
        assert "holds 0 ETH" in r.err and "send it" in r.err and "--gas-price 0" in r.err
        assert not bare.root.exists()  # nothing half-made

        home = Home(tmp_path / "funded")
        operator = json.loads(ok(run, home, "account", "new", "operator", "--dev", "--json"))
        _rpc(url, "anvil_setBalance", [operator["address"], hex(3 * 10**18)])
        out = ok(run, home, "--rpc", url, "init", "--dev")
        assert "each dev account got" in out and "ETH of gas money" in out
        ok(run, home, "--as", "issuer", "cny", "mint", "core", "1,000")
        ok(run, home, "--as", "core", "cny", "transfer", "supplier1", "10")
        balances = [
            int(str(_rpc(url, "eth_getBalance", [a["address"], "latest"])), 16)
            for a in json.loads(ok(run, home, "account", "list", "--json"))
        ]
        assert all(b > 0 for b in balances)
        assert sum(balances) <= 3 * 10**18


def test_the_cli_says_where_the_money_went(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    doc = "0x" + "ef" * 32
    ok(
        run,
        home,
        *("--as", "core", "receivable", "issue", "--to", "supplier1", "--amount", "600,000"),
        *("--due", "2099-12-31", "--doc-hash", doc),
    )
    ok(run, home, "--as", "supplier1", "receivable", "accept", "1")
    ok(
        run,
        home,
        *("--as", "microloan", "loan", "propose", "--borrower", "supplier1", "--receivable", "1"),
        *("--tranche", "bank:senior:420,000:5%", "--tranche", "microloan:junior:180,000"),
        *("--rate", "10%", "--days", "90", "--sweep", "20%"),
        *("--payee", "supplier2:420,000", "--payee", "supplier1:180,000"),
    )
    ok(run, home, "--as", "supplier1", "loan", "accept", "1", "--yes")
    ok(run, home, "--as", "bank", "loan", "fund", "1")
    ok(run, home, "--as", "microloan", "loan", "fund", "1")
    out = ok(run, home, "--as", "microloan", "loan", "disburse", "1")
    assert out.startswith(
        "disbursed loan #1: ¥420,000.00 to supplier2, ¥180,000.00 to supplier1 (tx "
    )

    out = ok(run, home, "--as", "core", "cny", "transfer", "supplier1", "100,000")
    assert "¥20,000.00 of it swept into loan #1 (sweep 20.00% of payments into supplier1's" in out
    assert "SWEEP" in out and "loan #1 DISBURSED: ¥" in out

    refused = run(home, "--as", "supplier1", "loan", "repay", "1", "9,000,000")
    assert refused.code == 1
    assert refused.err == (
        "liandai: refused by the chain: ERC20InsufficientBalance — e-CNY: supplier1 holds "
        "¥260,000.00, less than the ¥9,000,000.00 typed for loan #1\n"
    )

    out = ok(run, home, "--as", "core", "receivable", "pay", "1")
    assert "paid ¥600,000.00 on receivable #1, pledged to loan #1: the loan's waterfall" in out
    assert "RECEIVABLE" in out and "residual" in out
    assert out.rstrip().endswith("loan #1 REPAID, receivable #1 released")


def _receivable(run, home: Home, amount: str, doc: str) -> None:  # type: ignore[no-untyped-def]
    ok(
        run,
        home,
        *("--as", "core", "receivable", "issue", "--to", "supplier1", "--amount", amount),
        *("--due", "2099-12-31", "--doc-hash", doc),
    )


TERMS = ("--borrower", "supplier1", "--receivable", "1", "--days", "90")


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        (["--rate", "26%", *("--tranche", "bank:senior:7,000:5%")], "AprAboveCap"),
        (["--rate", "24%", "--penalty", "0.01%"], "AprAboveCap"),
        (["--rate", "10%", "--fee-share", "30.01%", "--tech", "tech"], "FeeShareAboveCap"),
        (["--rate", "10%", *("--tranche", "bank:senior:7,001:5%")], "OriginatorShareTooLow"),
        (["--rate", "10%", *("--tranche", "bank:senior:7,000:5%")], "ExposureAboveLimit"),
    ],
)
def test_quote_warns_of_each_rule_the_proposal_then_breaks_on_chain(  # type: ignore[no-untyped-def]
    run, home: Home, extra: list[str], rule: str
) -> None:
    _receivable(run, home, "20,000", "0x" + "a1" * 32)
    ok(run, home, "--as", "supplier1", "receivable", "accept", "1")
    if rule == "ExposureAboveLimit":  # microloan may lend supplier1 at most ¥2,999.99
        ok(run, home, "--as", "regulator", "member", "set-net-assets", "microloan", "29,999.99")
    tranches = [] if "--tranche" in extra else ["--tranche", "bank:senior:7,000:5%"]
    terms = [*TERMS, *tranches, *extra, "--tranche", "microloan:junior:3,000"]
    quoted = ok(run, home, "--as", "microloan", "loan", "quote", *terms)
    warned = [line for line in quoted.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and f"the chain will refuse it: {rule} — " in warned[0], quoted
    refused = run(home, "--as", "microloan", "loan", "propose", *terms)
    assert refused.code == 1
    # the same rule and the same numbers as the chain's refusal
    assert warned[0].split("refuse it: ")[1] in refused.err
    if rule == "ExposureAboveLimit":
        assert "`liandai --as REGULATOR member set-net-assets microloan AMT`" in refused.err


def test_quote_says_when_it_found_nothing_and_propose_warns_of_thin_collateral(
    run, home: Home
) -> None:  # type: ignore[no-untyped-def]
    _receivable(run, home, "9,999.99", "0x" + "a2" * 32)
    ok(run, home, "--as", "supplier1", "receivable", "accept", "1")
    terms = [*TERMS, "--rate", "24%", "--tranche", "bank:senior:7,000:5%"]
    terms += ["--tranche", "microloan:junior:3,000"]
    quoted = json.loads(ok(run, home, "--as", "microloan", "loan", "quote", *terms, "--json"))
    assert quoted["warnings"] == [
        "the principal ¥10,000.00 is above the pledged receivables' unpaid value ¥9,999.99"
    ]
    proposed = run(home, "--as", "microloan", "loan", "propose", *terms)
    assert proposed.code == 0 and "proposed loan #1" in proposed.out
    assert proposed.err == (
        "liandai: warning: the principal ¥10,000.00 is above the pledged receivables' unpaid "
        "value ¥9,999.99\n"
    )
    _receivable(run, home, "10,000", "0x" + "a3" * 32)
    ok(run, home, "--as", "supplier1", "receivable", "accept", "2")
    terms[3] = "2"
    quoted_text = ok(run, home, "--as", "microloan", "loan", "quote", *terms)
    assert "warning" not in quoted_text and "the chain should accept it" in quoted_text


def test_an_interrupted_import_resumes_with_skip_issued(run, home: Home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = [f"supplier1,{n},2099-12-31,0x{n:064x}" for n in (101, 102, 103)]
    first = tmp_path / "first.csv"
    first.write_text("supplier,amount,due,doc\n" + "\n".join(lines[:2]) + "\n")
    ok(run, home, "--as", "core", "receivable", "import", str(first))
    whole = tmp_path / "whole.csv"
    whole.write_text("supplier,amount,due,doc\n" + "\n".join(lines) + "\n")
    again = run(home, "--as", "core", "receivable", "import", str(whole))
    assert again.code == 2 and "--skip-issued" in again.err
    resumed = json.loads(
        ok(run, home, "--as", "core", "receivable", "import", str(whole), "--skip-issued", "--json")
    )
    assert [(r["id"], r.get("skipped", False)) for r in resumed] == [
        (1, True),
        (2, True),
        (3, False),
    ]
    # a document issued for another amount is not this row: still refused
    other = tmp_path / "other.csv"
    other.write_text(f"supplier,amount,due,doc\nsupplier1,999,2099-12-31,0x{101:064x}\n")
    assert run(home, "--as", "core", "receivable", "import", str(other), "--skip-issued").code == 2
