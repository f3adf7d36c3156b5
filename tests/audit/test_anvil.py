"""The audit commands on a real node (anvil): verify, checkpoint, export, evidence,
incremental verification, and a rewritten history caught against the head verified before."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ledger.engine.setup import initialise
from ledger.home import Home
from tests.conftest import running_anvil

pytestmark = pytest.mark.anvil

MEMBERS = [
    ("issuer", "ECNY_ISSUER"),
    ("core", "CORE_ENTERPRISE"),
    ("supplier1", "SUPPLIER"),
    ("supplier2", "SUPPLIER"),
    ("auditor", "AUDITOR"),
]


def _node(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


def _setup(run, home: Home, rpc: str) -> Any:  # type: ignore[no-untyped-def]
    def ok(*args: str) -> str:
        result = run(home, *args, rpc=rpc)
        assert result.code == 0, (args, result.err)
        return str(result.out)

    initialise(home, rpc=rpc, dev=True)  # dev accounts, admitted below one by one
    for name, role in MEMBERS:
        ok("member", "add", name, "--role", role)
    ok("--as", "issuer", "cny", "mint", "core", "1,000,000")
    return ok


def test_the_audit_commands_work_the_same_on_anvil(run, anvil: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = Home.at(tmp_path / "home")
    ok = _setup(run, home, anvil)
    issue = ["receivable", "issue", "--to", "supplier1", "--amount", "1,000", "--due", "2099-12-31"]
    ok("--as", "core", *issue, "--doc-hash", "0x" + "7" * 64)
    ok("--as", "supplier1", "receivable", "accept", "1")
    ok("--as", "supplier1", "receivable", "split", "1", "600", "400")
    ok("--as", "supplier1", "receivable", "transfer", "3", "--to", "supplier2")
    verdict = json.loads(ok("audit", "verify", "--json"))
    assert verdict["ok"] and verdict["entries"] == 11
    published = json.loads(ok("--as", "auditor", "audit", "checkpoint", "--json"))
    assert published["size"] == 11
    bundle, evidence = tmp_path / "trail.jsonl", tmp_path / "r3.jsonl"
    ok("audit", "export", str(bundle))
    offline = json.loads(ok("audit", "verify", "--bundle", str(bundle), "--json"))
    assert offline["ok"] and offline["head"] == verdict["head"] and offline["checkpoints"] == 1
    written = json.loads(ok("audit", "evidence", "--receivable", "3", str(evidence), "--json"))
    assert written["entries"] == 4  # #1 issued, accepted, split; #3 transferred
    root = published["root"]
    checked = ok("audit", "verify", "--evidence", str(evidence), "--trusted-root", root, "--json")
    assert json.loads(checked)["anchored"]
    ok("--as", "core", "cny", "transfer", "supplier1", "5")
    later = json.loads(ok("audit", "verify", "--from-seq", "11", "--json"))
    assert later["ok"] and later["entries"] == 1
    assert json.loads(ok("--as", "auditor", "audit", "checkpoint", "--json"))["size"] == 12
    proof = json.loads(ok("audit", "consistency", "11", "--json"))
    assert proof["ok"] and proof["new_size"] == 12
    shown = json.loads(ok("audit", "show", "--subject", "3", "--json"))
    assert [r["kind"] for r in shown] == ["RECEIVABLE_TRANSFERRED"]


def test_a_reverted_and_rewritten_anvil_history_fails_against_the_verified_head(
    run,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    home = Home.at(tmp_path / "home")
    with running_anvil() as url:
        ok = _setup(run, home, url)
        fork_point = _node(url, "evm_snapshot", [])
        ok("--as", "core", "cny", "transfer", "supplier1", "100")
        ok("--as", "core", "cny", "transfer", "supplier2", "100")
        verified = json.loads(ok("audit", "verify", "--json"))
        assert _node(url, "evm_revert", [fork_point])
        for _ in range(3):
            ok("--as", "core", "cny", "transfer", "supplier2", "1")
        full = run(home, "audit", "verify", "--json", rpc=url)
        incremental = run(home, "audit", "verify", "--from-seq", str(verified["entries"]), rpc=url)
    assert full.code == 1 and "rewritten" in json.loads(full.out)["problem"]
    assert json.loads(full.out)["first_bad_seq"] == verified["entries"]
    assert incremental.code == 1 and "rewritten" in incremental.err
