"""DESIGN §6.8: the chain itself admits only active members; contracts only from an OPERATOR.

Driven through `liandai node` (a real process, raw transactions over HTTP) and through the
embedded chain in-process; Besu's allowlist written from Membership and kept current
through a stand-in of Besu's `perm_*` methods.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_utils import keccak

from ledger.chain.backend import open_embedded
from ledger.chain.embedded import NOT_PERMITTED, EmbeddedChain, RPCError
from ledger.engine.client import Ledger
from ledger.engine.deploy import create_address
from ledger.engine.setup import initialise
from ledger.home import Home
from tests.chain.fake_besu import ERRORS, fake_besu
from tests.chain.helpers import STORE_INIT, sign
from tests.chain.nodeproc import liandai_node

ROOT = Path(__file__).resolve().parents[2]
STRANGER = Account.from_key("0x" + "5a" * 32)


def _key(home: Home, name: str) -> Any:
    keys = json.loads(home.dev_keys_file.read_text())["accounts"]
    return Account.from_key(keys[name]["private_key"])


def _rpc(url: str, method: str, params: list[Any]) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return dict(requests.post(url, json=body, timeout=10).json())


def _nonce(url: str, address: str) -> int:
    return int(_rpc(url, "eth_getTransactionCount", [address, "latest"])["result"], 16)


def _head(url: str) -> int:
    return int(_rpc(url, "eth_blockNumber", [])["result"], 16)


def _suspend(home: Home, name: str) -> str:
    with Ledger.open(home) as ledger:
        address = ledger.resolve(name)
        ledger.suspend(address)
    return address


def test_the_node_refuses_a_stranger_and_a_suspended_member_and_mines_nothing(
    home: Home,
) -> None:
    supplier2 = _suspend(home, "supplier2")
    key = _key(home, "supplier2")
    assert key.address == supplier2
    with liandai_node(home) as info:
        url = info["url"]
        core = _key(home, "core")
        before = _head(url)
        stranger = _rpc(url, "eth_sendRawTransaction", [sign(STRANGER, 0, to=core.address)])
        assert stranger["error"]["code"] == NOT_PERMITTED
        assert "is not a member of the consortium" in stranger["error"]["message"]
        assert STRANGER.address.lower() in stranger["error"]["message"]
        # The revert data is Membership's own custom error: clients decode it from any ABI.
        assert stranger["error"]["data"].startswith("0x" + keccak(b"NotAMember(address)")[:4].hex())
        suspended = _rpc(
            url, "eth_sendRawTransaction", [sign(key, _nonce(url, supplier2), to=core.address)]
        )
        assert suspended["error"]["code"] == NOT_PERMITTED
        assert "is SUSPENDED; only an active member may send" in suspended["error"]["message"]
        assert _head(url) == before  # nothing mined
        # An active member still sends; reads stay open to anyone.
        sent = _rpc(
            url, "eth_sendRawTransaction", [sign(core, _nonce(url, core.address), to=core.address)]
        )
        assert "result" in sent, sent
        assert _head(url) == before + 1
        assert "result" in _rpc(url, "eth_getBalance", [STRANGER.address, "latest"])


def test_only_an_operator_creates_contracts(home: Home) -> None:
    with liandai_node(home) as info:
        url = info["url"]
        supplier = _key(home, "supplier1")
        before = _head(url)
        refused = _rpc(
            url,
            "eth_sendRawTransaction",
            [sign(supplier, _nonce(url, supplier.address), data=STORE_INIT, gas=300_000)],
        )
        assert refused["error"]["code"] == NOT_PERMITTED
        message = refused["error"]["message"]
        assert "may not create contracts (it holds SUPPLIER); only an OPERATOR may" in message
        assert _head(url) == before
        operator = Account.from_key(
            Ledger.open(home).keyring.signer("operator").key  # plaintext dev key
        )
        created = _rpc(
            url,
            "eth_sendRawTransaction",
            [sign(operator, _nonce(url, operator.address), data=STORE_INIT, gas=300_000)],
        )
        assert "result" in created, created
        receipt = _rpc(url, "eth_getTransactionReceipt", [created["result"]])["result"]
        assert receipt["status"] == "0x1" and receipt["contractAddress"]


def test_init_deploys_from_the_deployer_only_then_seals(tmp_path: Path) -> None:
    home = Home.at(tmp_path / "h")
    result = initialise(home, dev=True)
    chain = open_embedded(home)
    try:
        assert chain.embedded is not None
        assert chain.embedded.permissioning == {
            "mode": "members",
            "deployer": result.deployment.deployer.lower(),
            "membership": result.deployment.address("Membership").lower(),
        }
    finally:
        chain.close()


def test_while_deploying_only_the_deployer_sends(tmp_path: Path) -> None:
    deployer = Account.from_key("0x" + "d1" * 32)
    with EmbeddedChain.open(
        tmp_path / "c.db", genesis_alloc={deployer.address: 10**18}, deployer=deployer.address
    ) as chain:
        assert chain.permissioning["mode"] == "deploying"
        with pytest.raises(RPCError) as refused:
            chain.rpc("eth_sendRawTransaction", [sign(STRANGER, 0, to=deployer.address)])
        assert refused.value.code == NOT_PERMITTED
        assert "only the deployer" in refused.value.message
        assert chain.block_number == 0
        chain.rpc("eth_sendRawTransaction", [sign(deployer, 0, data=STORE_INIT, gas=300_000)])
        assert chain.block_number == 1
        # Sealing needs a Membership contract holding the deployer as an active OPERATOR.
        with pytest.raises(ValueError, match="no contract at"):
            chain.seal_membership("0x" + keccak(b"x")[:20].hex())
        store = create_address(deployer.address, 0)
        with pytest.raises(ValueError, match=r"does not answer memberOf|as an active OPERATOR"):
            chain.seal_membership(store)
        assert chain.permissioning["mode"] == "deploying"


def test_a_chain_created_before_permissioning_is_adopted_from_its_record(home: Home) -> None:
    # Reopen the home's chain as a pre-§6.8 file: no deployer, no membership in its meta.
    import sqlite3

    conn = sqlite3.connect(home.chain_file)
    conn.execute("DELETE FROM meta WHERE key IN ('deployer', 'membership')")
    conn.commit()
    conn.close()
    with EmbeddedChain.open(home.chain_file) as raw:
        assert raw.permissioning["mode"] == "open"
    chain = open_embedded(home)
    try:
        assert chain.embedded is not None
        assert chain.embedded.permissioning["mode"] == "members"
        with pytest.raises(RPCError, match="not a member"):
            chain.embedded.rpc("eth_sendRawTransaction", [sign(STRANGER, 0, to=STRANGER.address)])
    finally:
        chain.close()


# -------------------------------------------------------------------------------- Besu


def test_besu_file_lists_the_active_members_only_and_keeps_other_keys(
    home: Home, run: Any, tmp_path: Path
) -> None:
    supplier2 = _suspend(home, "supplier2")
    path = tmp_path / "permissions_config.toml"
    path.write_text('nodes-allowlist=["enode://' + "ab" * 64 + '@127.0.0.1:30303"]\n')
    result = run(home, "besu", "permissions", str(path), "--json")
    assert result.code == 0, result.err
    written = tomllib.loads(path.read_text())
    with Ledger.open(home) as ledger:
        members = ledger.members()
    active = [m.address.lower() for m in members if m.status == "ACTIVE"]
    assert written["accounts-allowlist"] == active
    assert supplier2.lower() not in written["accounts-allowlist"]
    assert len(active) == len(members) - 1 == 9  # the operator and 9 members, one suspended
    assert written["nodes-allowlist"] == ["enode://" + "ab" * 64 + "@127.0.0.1:30303"]
    assert json.loads(result.out)["accounts"] == active
    again = run(home, "besu", "permissions", str(path))
    assert again.code == 0 and "(unchanged)" in again.out


def test_besu_watch_brings_the_node_list_to_the_members(
    home: Home, run: Any, tmp_path: Path
) -> None:
    path = tmp_path / "permissions_config.toml"
    stale = "0x" + "77" * 20
    path.write_text(f'accounts-allowlist=["{stale}"]\n')
    with fake_besu(path) as besu:
        first = run(
            home,
            "besu",
            "permissions",
            str(path),
            "--watch",
            "--rounds",
            "1",
            "--besu-rpc",
            besu.url,
            "--json",
        )
        assert first.code == 0, first.err
        with Ledger.open(home) as ledger:
            active = [m.address.lower() for m in ledger.members() if m.status == "ACTIVE"]
        assert [a.lower() for a in besu.allowlist] == active
        assert json.loads(first.out)["removed"] == [stale]
        supplier2 = _suspend(home, "supplier2").lower()
        second = run(
            home,
            "besu",
            "permissions",
            str(path),
            "--watch",
            "--rounds",
            "1",
            "--besu-rpc",
            besu.url,
        )
        assert second.code == 0, second.err
        assert f"removed {supplier2}" in second.out
        assert supplier2 not in [a.lower() for a in besu.allowlist]
        assert tomllib.loads(path.read_text())["accounts-allowlist"] == [
            a for a in active if a != supplier2
        ]
        methods = [m for m, _ in besu.calls]
        assert methods.count("perm_getAccountsAllowlist") == 2
        assert ("perm_removeAccountsFromAllowlist", [[supplier2]]) in besu.calls


def test_besu_refusals_are_one_line(home: Home, run: Any, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("accounts-allowlist=[\n")
    bad = run(home, "besu", "permissions", str(path))
    assert bad.code == 2 and "is not a TOML permissioning file" in bad.err
    path.unlink()
    no_url = run(home, "besu", "permissions", str(path), "--watch")
    assert no_url.code == 2 and "--besu-rpc URL or --rpc URL" in no_url.err
    assert not path.exists()
    with fake_besu(path) as besu:
        besu.allowlist = ["not-an-address"]  # a node answering nonsense to get → remove fails
        r = run(
            home,
            "besu",
            "permissions",
            str(path),
            "--watch",
            "--rounds",
            "1",
            "--besu-rpc",
            besu.url,
        )
        assert r.code == 1
        assert ERRORS["invalid"] in r.err and r.err.count("\n") == 1
