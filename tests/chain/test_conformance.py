"""`liandai node` and anvil, driven with the same calls through web3.py, give the same answers.

Two homes share their keys, so the suite lands at the same addresses on both chains and
every transaction carries the same calldata: balances, gas, logs, receipts, access lists,
state-proof values, refusals and websocket heads are then compared one for one.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import AsyncWeb3, Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, Web3RPCError
from web3.providers import WebSocketProvider

from ledger.engine.client import Ledger
from ledger.engine.setup import initialise
from ledger.home import Home
from ledger.solidity import artifacts
from tests.chain.nodeproc import liandai_node
from tests.chain.test_node_methods import mpt_lookup
from tests.conftest import running_anvil, seed

# One worker builds both chains once for the whole module.
pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("conformance")]


@dataclass
class Side:
    name: str
    w3: Web3
    ws: str
    token: Contract
    keys: dict[str, LocalAccount]

    def send(self, account: str, call: Any, gas: int = 300_000) -> dict[str, Any]:
        key = self.keys[account]
        tx = call.build_transaction(
            {
                "from": key.address,
                "nonce": self.w3.eth.get_transaction_count(key.address),
                "gas": gas,
                "gasPrice": 0,
                "chainId": self.w3.eth.chain_id,
            }
        )
        tx_hash = self.w3.eth.send_raw_transaction(key.sign_transaction(tx).raw_transaction)
        return dict(self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10))


def _keys(home: Home) -> dict[str, LocalAccount]:
    import json

    entries = json.loads(home.dev_keys_file.read_text())["accounts"]
    return {name: Account.from_key(e["private_key"]) for name, e in entries.items()}


def _side(name: str, url: str, ws: str, home: Home, rpc: str | None) -> Side:
    w3 = Web3(Web3.HTTPProvider(url))
    with Ledger.open(home, rpc=rpc) as ledger:
        address = ledger.deployment.address("DigitalRMB")
    token = w3.eth.contract(address=address, abi=artifacts.load("DigitalRMB").abi)
    return Side(name, w3, ws, token, _keys(home))


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side]]:
    base = tmp_path_factory.mktemp("conformance")
    node_home = Home.at(base / "node")
    initialise(node_home, dev=True)
    with Ledger.open(node_home) as ledger:
        seed(ledger)
    anvil_home = Home.at(base / "anvil")
    anvil_home.ensure()
    # The same keys: the same deployer nonces give the same contract addresses.
    shutil.copytree(node_home.keystore_dir, anvil_home.keystore_dir, dirs_exist_ok=True)
    shutil.copy(node_home.dev_keys_file, anvil_home.dev_keys_file)
    with running_anvil() as anvil_url, liandai_node(node_home) as node:
        initialise(anvil_home, rpc=anvil_url, dev=True)
        with Ledger.open(anvil_home, rpc=anvil_url) as ledger:
            seed(ledger)
        ws = "ws://" + anvil_url.removeprefix("http://")
        yield (
            _side("liandai node", node["url"], node["ws"], node_home, None),
            _side("anvil", anvil_url, ws, anvil_home, anvil_url),
        )


def test_the_suite_is_at_the_same_addresses(sides: tuple[Side, Side]) -> None:
    node, anvil = sides
    assert node.token.address == anvil.token.address
    assert node.w3.eth.get_code(node.token.address) == anvil.w3.eth.get_code(anvil.token.address)


FIELDS = ("from", "to", "input", "value", "gas", "nonce")


def _hex(value: Any) -> str:
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


def _int(value: Any) -> int:
    return value if isinstance(value, int) else int.from_bytes(bytes(value), "big")


def _transfer(side: Side, fen: int) -> Any:
    return side.token.functions.transfer(side.keys["bank"].address, fen)


def test_reads_estimates_and_access_lists_agree(sides: tuple[Side, Side]) -> None:
    answers = []
    for side in sides:
        core, bank = side.keys["core"].address, side.keys["bank"].address
        call = {
            "from": core,
            "to": side.token.address,
            "data": _transfer(side, 1_00)._encode_transaction_data(),
        }
        estimate = side.w3.eth.estimate_gas(call)  # type: ignore[arg-type]
        access = side.w3.eth.create_access_list(call)  # type: ignore[arg-type]
        answers.append(
            {
                "balance": side.token.functions.balanceOf(bank).call(),
                "estimate": estimate,
                "access": sorted(
                    (e["address"], sorted(_hex(k) for k in e["storageKeys"]))
                    for e in access["accessList"]
                ),
                "access gas": access["gasUsed"],
            }
        )
    assert answers[0] == answers[1]


def test_transactions_logs_filters_and_receipts_agree(sides: tuple[Side, Side]) -> None:
    answers = []
    for side in sides:
        log_filter = side.w3.eth.filter({"address": side.token.address})
        block_filter = side.w3.eth.filter("latest")
        receipt = side.send("core", _transfer(side, 2_00))
        estimate_after = side.w3.eth.estimate_gas(
            {
                "from": side.keys["core"].address,
                "to": side.token.address,
                "data": _transfer(side, 2_00)._encode_transaction_data(),
            }
        )
        changes = log_filter.get_new_entries()
        blocks = block_filter.get_new_entries()
        by_index = side.w3.eth.get_transaction_by_block(receipt["blockNumber"], 0)
        block_receipts = side.w3.eth.get_block_receipts(receipt["blockNumber"])
        answers.append(
            {
                "status": receipt["status"],
                "gas used": receipt["gasUsed"],
                "estimate": estimate_after,
                "logs": [(log["topics"], log["data"]) for log in changes],
                "filter logs": len(side.w3.eth.get_filter_logs(log_filter.filter_id)),
                "blocks": [bytes(b) for b in blocks] == [bytes(receipt["blockHash"])],
                "by index": {
                    k: by_index[k] for k in ("from", "to", "input", "value", "gas", "nonce")
                },
                "by index hash": by_index["hash"] == receipt["transactionHash"],
                "block receipts": [
                    (r["status"], r["gasUsed"], r["cumulativeGasUsed"], len(r["logs"]))
                    for r in block_receipts
                ],
                "uninstalled": side.w3.eth.uninstall_filter(log_filter.filter_id),
                "again": side.w3.eth.uninstall_filter(log_filter.filter_id),
            }
        )
    assert answers[0] == answers[1]
    assert answers[0]["estimate"] == answers[0]["gas used"]  # the least gas that succeeds


def test_state_proofs_prove_the_same_balances(sides: tuple[Side, Side]) -> None:
    values = []
    for side in sides:
        bank = side.keys["bank"].address
        data = side.token.functions.balanceOf(bank)._encode_transaction_data()
        call = {"from": bank, "to": side.token.address, "data": data}
        access = side.w3.eth.create_access_list(call)  # type: ignore[arg-type]
        slots = [
            k
            for e in access["accessList"]
            if e["address"] == side.token.address
            for k in e["storageKeys"]
        ]
        block = side.w3.eth.get_block("latest")
        proof = side.w3.eth.get_proof(side.token.address, slots, block["number"])
        root = bytes(block["stateRoot"])
        account_proof = ["0x" + bytes(n).hex() for n in proof["accountProof"]]
        raw = mpt_lookup(root, bytes.fromhex(side.token.address[2:]), account_proof)
        import rlp

        assert raw is not None, side.name
        storage_root = rlp.decode(raw)[2]
        assert storage_root == bytes(proof["storageHash"]), side.name
        proven = []
        for entry in proof["storageProof"]:
            value = mpt_lookup(
                storage_root,
                bytes(entry["key"]).rjust(32, b"\0"),
                ["0x" + bytes(n).hex() for n in entry["proof"]],
            )
            proven.append(int.from_bytes(rlp.decode(value), "big") if value else 0)
            assert proven[-1] == _int(entry["value"]), side.name
        values.append((proven, side.token.functions.balanceOf(bank).call()))
    assert values[0] == values[1]
    assert values[0][1] in values[0][0]  # the bank's e-CNY balance is one of the proven slots


def test_refusals_agree(sides: tuple[Side, Side]) -> None:
    answers, messages = [], []
    stranger = "0x" + "5a" * 20
    for side in sides:
        with pytest.raises(ContractCustomError) as custom:
            _transfer(side, 1).call({"from": Web3.to_checksum_address(stranger)})
        with pytest.raises(Web3RPCError) as short:
            side.w3.eth.call(
                {
                    "from": side.keys["core"].address,
                    "to": side.token.address,
                    "data": _transfer(side, 1)._encode_transaction_data(),
                    "gas": 1_000,
                }
            )
        error = dict((short.value.rpc_response or {})["error"])
        messages.append(error["message"])
        answers.append((custom.value.data, error["code"]))
    assert answers[0] == answers[1]
    # Both refuse the short call; anvil says "intrinsic gas too high --
    # CallGasCostMoreThanGasLimit", the node says what is missing.
    assert messages[0].startswith("intrinsic gas too low: gas 1000, minimum needed 21")


def test_websocket_new_heads_agree(sides: tuple[Side, Side]) -> None:
    async def head_after_a_transfer(side: Side) -> tuple[int, bytes]:
        async with AsyncWeb3(WebSocketProvider(side.ws)) as w3:
            await w3.eth.subscribe("newHeads")
            receipt = await asyncio.to_thread(side.send, "core", _transfer(side, 3_00))
            async for message in w3.socket.process_subscriptions():
                head = message["result"]
                if head["number"] == receipt["blockNumber"]:
                    return head["number"], bytes(head["hash"]) == bytes(receipt["blockHash"])
        raise AssertionError("no head")

    node, anvil = (asyncio.run(asyncio.wait_for(head_after_a_transfer(s), 20)) for s in sides)
    assert node[1] and anvil[1]


def test_no_reply_to_a_notification(sides: tuple[Side, Side]) -> None:
    import requests

    node = sides[0]
    url = str(node.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    reply = requests.post(url, json={"jsonrpc": "2.0", "method": "eth_blockNumber"}, timeout=10)
    assert reply.status_code == 204 and not reply.content
