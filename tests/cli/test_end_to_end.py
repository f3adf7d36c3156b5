"""The same end-to-end flow through the CLI on the embedded chain and on a real anvil node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.engine.deploy import SUITE
from ledger.engine.setup import DEV_CONSORTIUM
from ledger.home import Home


def flow(run, home: Home, rpc: str | None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    def ok(*args: str) -> str:
        r = run(home, *args, rpc=rpc)
        assert r.code == 0, (args, r.err)
        return str(r.out)

    ok("init", "--dev")  # admits the dev consortium
    ok("account", "new", "newcomer", "--dev")
    ok("member", "add", "newcomer", "--role", "SUPPLIER")
    ok("--as", "issuer", "cny", "mint", "core", "¥1,000,000.00")
    ok("--as", "core", "cny", "transfer", "supplier1", "250,000.50")
    ok("--as", "supplier1", "cny", "transfer", "supplier2", "0.50")
    ok("--as", "regulator", "member", "suspend", "supplier2")
    refused = run(home, "--as", "core", "cny", "transfer", "supplier2", "1", rpc=rpc)
    assert refused.code == 1
    assert refused.err.count("\n") == 1 and "MemberNotActive" in refused.err
    assert "supplier2 is SUSPENDED" in refused.err
    ok("--as", "regulator", "member", "reinstate", "supplier2")
    balances = {
        name: json.loads(ok("cny", "balance", name, "--json"))["balance_fen"]
        for name in ("core", "supplier1", "supplier2")
    }
    members = json.loads(ok("member", "list", "--json"))
    verdict = json.loads(ok("audit", "verify", "--json"))
    info = json.loads(ok("chain", "info", "--json"))
    return {"balances": balances, "members": len(members), "verdict": verdict, "info": info}


def check(result: dict[str, object]) -> None:
    assert result["balances"] == {"core": 74_999_950, "supplier1": 25_000_000, "supplier2": 50}
    assert result["members"] == 1 + len(DEV_CONSORTIUM) + 1
    verdict = result["verdict"]
    assert isinstance(verdict, dict)
    # operator + the dev admissions + newcomer, mint, 2 transfers, suspend, reinstate
    assert verdict == {
        "ok": True,
        "entries": 1 + len(DEV_CONSORTIUM) + 6,
        "head": verdict["head"],
        "first_bad_seq": None,
        "problem": None,
    }


def test_end_to_end_on_the_embedded_chain(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = flow(run, Home.at(tmp_path / "home"), None)
    check(result)
    info = result["info"]
    assert isinstance(info, dict)
    assert info["network"] == "embedded" and info["chain_id"] == 19524


@pytest.mark.anvil
def test_end_to_end_on_anvil(run, anvil: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = Home.at(tmp_path / "home")
    result = flow(run, home, anvil)
    check(result)
    info = result["info"]
    assert isinstance(info, dict)
    assert info["network"] == "chain-31337" and info["chain_id"] == 31337
    assert info["client"].startswith("anvil")
    record = json.loads(home.deployment_file("chain-31337").read_text())
    assert record["chain_id"] == 31337
    assert set(record["contracts"]) == set(SUITE)


@pytest.mark.anvil
def test_chain_advance_moves_anvil_time_but_not_a_production_node(
    run,
    anvil: str,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    home = Home.at(tmp_path / "home")
    assert run(home, "init", "--dev", rpc=anvil).code == 0
    before = json.loads(run(home, "chain", "info", "--json", rpc=anvil).out)["time"]
    r = run(home, "chain", "advance", "2", "--json", rpc=anvil)
    assert r.code == 0, r.err
    assert json.loads(r.out)["time"] >= before + 2 * 86_400


def test_chain_advance_persists_on_the_embedded_chain(run, home: Home) -> None:  # type: ignore[no-untyped-def]
    before = json.loads(run(home, "chain", "info", "--json").out)["time"]
    assert run(home, "chain", "advance", "30").code == 0
    after = json.loads(run(home, "chain", "info", "--json").out)["time"]
    assert after >= before + 30 * 86_400
    # and the next transaction is mined after the jump, surviving the restart in between
    assert run(home, "--as", "core", "cny", "transfer", "supplier1", "1").code == 0
    assert json.loads(run(home, "chain", "info", "--json").out)["time"] >= after
