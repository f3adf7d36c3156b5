"""The node's filter, proof, access-list, block-index and receipts methods, its answers to
notifications and short gas, the gas estimate, and the websocket subscriptions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import rlp
from eth_hash.auto import keccak
from eth_utils import to_checksum_address
from trie import HexaryTrie
from websockets.sync.client import connect

from ledger.chain.embedded import EmbeddedChain, RPCError
from ledger.chain.rpcserver import handle_payload, serve
from tests.chain.helpers import (
    ALICE,
    BOB,
    CAROL_ADDRESS,
    STORED_TOPIC,
    deploy_store,
    nonce_of,
    send,
    word,
)

# --------------------------------------------------------------------- proof checking


def _nibbles(key: bytes) -> list[int]:
    return [n for byte in key for n in (byte >> 4, byte & 15)]


def mpt_lookup(root: bytes, key: bytes, proof: list[str]) -> bytes | None:
    """Walk a Merkle-Patricia proof by hand (hash-linked RLP nodes, hex-prefix paths):
    the value stored under keccak-ed ``key``, None if the proof shows it absent. Raises
    KeyError if a node the path needs is not in the proof (so the proof does not prove)."""
    nodes = {keccak(bytes.fromhex(n[2:])): bytes.fromhex(n[2:]) for n in proof}
    path = _nibbles(keccak(key))
    ref: Any = root
    while True:
        node = rlp.decode(nodes[ref]) if isinstance(ref, bytes) and len(ref) == 32 else ref
        if node in (b"", []):
            return None
        if len(node) == 17:
            if not path:
                return node[16] or None
            ref, path = node[path[0]], path[1:]
            if ref == b"":
                return None
            continue
        prefix = _nibbles(node[0])
        leaf, odd = prefix[0] >= 2, prefix[0] % 2 == 1
        segment = prefix[1:] if odd else prefix[2:]
        if leaf:
            return node[1] if segment == path else None
        if path[: len(segment)] != segment:
            return None
        ref, path = node[1], path[len(segment) :]


def test_get_proof_lets_an_auditor_check_a_balance_and_a_slot_against_the_state_root(
    chain: EmbeddedChain,
) -> None:
    store = deploy_store(chain)
    send(chain, BOB, to=store, data=word(5))
    block = chain.rpc("eth_getBlockByNumber", ["latest", False])
    root = bytes.fromhex(block["stateRoot"][2:])

    proof = chain.rpc("eth_getProof", [ALICE.address, [], "latest"])
    account = rlp.decode(mpt_lookup(root, bytes.fromhex(ALICE.address[2:]), proof["accountProof"]))
    nonce, balance = (int.from_bytes(v, "big") for v in account[:2])
    assert balance == int(chain.rpc("eth_getBalance", [ALICE.address, "latest"]), 16)
    assert (nonce, balance) == (int(proof["nonce"], 16), int(proof["balance"], 16))
    # The same proof through the trie library (py-evm's own, but a separate code path).
    decoded = [rlp.decode(bytes.fromhex(n[2:])) for n in proof["accountProof"]]
    assert HexaryTrie.get_from_proof(root, keccak(bytes.fromhex(ALICE.address[2:])), decoded)

    proof = chain.rpc("eth_getProof", [store, ["0x0", "0x1"], block["number"]])
    account = rlp.decode(mpt_lookup(root, bytes.fromhex(store[2:]), proof["accountProof"]))
    assert "0x" + account[2].hex() == proof["storageHash"]
    assert "0x" + account[3].hex() == proof["codeHash"]
    slot0, slot1 = proof["storageProof"]
    assert slot0["value"] == "0x5" and slot1["value"] == "0x0"
    stored = mpt_lookup(account[2], word(0), slot0["proof"])
    assert stored is not None and rlp.decode(stored) == b"\x05"
    assert mpt_lookup(account[2], word(1), slot1["proof"]) is None  # proven absent
    # A balance that is not the chain's does not verify.
    with pytest.raises(KeyError):
        mpt_lookup(keccak(b"another root"), bytes.fromhex(store[2:]), proof["accountProof"])

    nobody = chain.rpc("eth_getProof", [CAROL_ADDRESS, [], "latest"])
    assert nobody["balance"] == "0x0"
    assert mpt_lookup(root, bytes.fromhex(CAROL_ADDRESS[2:]), nobody["accountProof"]) is None


def test_log_and_block_filters_report_changes_since_the_last_poll(chain: EmbeddedChain) -> None:
    store = deploy_store(chain)
    logs = chain.rpc("eth_newFilter", [{"address": store, "topics": ["0x" + STORED_TOPIC.hex()]}])
    blocks = chain.rpc("eth_newBlockFilter", [])
    start = chain.block_number
    assert chain.rpc("eth_getFilterChanges", [logs]) == []
    first = send(chain, BOB, to=store, data=word(5))
    second = send(chain, ALICE, to=store, data=word(6))
    changes = chain.rpc("eth_getFilterChanges", [logs])
    assert [c["data"] for c in changes] == ["0x" + word(5).hex(), "0x" + word(6).hex()]
    assert changes[0]["transactionHash"] == first["transactionHash"]
    assert chain.rpc("eth_getFilterChanges", [logs]) == []
    hashes = chain.rpc("eth_getFilterChanges", [blocks])
    assert second["blockHash"] == hashes[-1]
    assert hashes == [
        chain.rpc("eth_getBlockByNumber", [hex(n), False])["hash"]
        for n in range(start + 1, chain.block_number + 1)
    ]
    everything = chain.rpc("eth_newFilter", [{"fromBlock": "earliest", "address": store}])
    assert len(chain.rpc("eth_getFilterLogs", [everything])) == 2
    assert chain.rpc("eth_uninstallFilter", [logs]) is True
    assert chain.rpc("eth_uninstallFilter", [logs]) is False
    with pytest.raises(RPCError, match="filter not found"):
        chain.rpc("eth_getFilterChanges", [logs])


def test_transactions_by_block_and_index_and_block_receipts(chain: EmbeddedChain) -> None:
    store = deploy_store(chain)
    receipt = send(chain, BOB, to=store, data=word(9))
    by_hash = chain.rpc("eth_getTransactionByHash", [receipt["transactionHash"]])
    number, block_hash = receipt["blockNumber"], receipt["blockHash"]
    assert chain.rpc("eth_getTransactionByBlockNumberAndIndex", [number, "0x0"]) == by_hash
    assert chain.rpc("eth_getTransactionByBlockHashAndIndex", [block_hash, "0x0"]) == by_hash
    assert chain.rpc("eth_getTransactionByBlockNumberAndIndex", [number, "0x1"]) is None
    assert chain.rpc("eth_getBlockReceipts", [number]) == [receipt]
    assert chain.rpc("eth_getBlockReceipts", [block_hash]) == [receipt]
    assert chain.rpc("eth_getBlockReceipts", ["latest"]) == [receipt]
    assert chain.rpc("eth_getBlockReceipts", [hex(chain.block_number + 5)]) is None


def test_estimate_gas_is_the_least_gas_that_succeeds(chain: EmbeddedChain) -> None:
    store = deploy_store(chain)
    call = {"from": BOB.address, "to": store, "data": "0x" + word(11).hex()}
    estimate = int(chain.rpc("eth_estimateGas", [call]), 16)
    assert send(chain, BOB, to=store, data=word(11), gas=estimate)["status"] == "0x1"
    # Writing a new value costs the same again; one gas less runs out.
    call["data"] = "0x" + word(12).hex()
    estimate = int(chain.rpc("eth_estimateGas", [call]), 16)
    assert send(chain, BOB, to=store, data=word(12), gas=estimate - 1)["status"] == "0x0"
    used = send(chain, BOB, to=store, data=word(13), gas=estimate)
    assert used["status"] == "0x1" and int(used["gasUsed"], 16) == estimate
    with pytest.raises(RPCError, match=r"gas required exceeds allowance \(22000\)"):
        chain.rpc("eth_estimateGas", [dict(call, gas=hex(22_000))])


def test_a_call_with_too_little_gas_says_so(chain: EmbeddedChain) -> None:
    store = deploy_store(chain)
    call = {"from": BOB.address, "to": store, "data": "0x" + word(5).hex()}
    with pytest.raises(RPCError) as short:
        chain.rpc("eth_call", [dict(call, gas=hex(1_000)), "latest"])
    assert "intrinsic gas too low: gas 1000, minimum needed 21" in short.value.message
    with pytest.raises(RPCError) as out:
        chain.rpc("eth_call", [dict(call, gas=hex(22_000)), "latest"])
    assert out.value.message == "out of gas: the call ran out of its 22000 gas"


def test_create_access_list_gives_the_slots_and_the_gas_with_them(chain: EmbeddedChain) -> None:
    store = deploy_store(chain)
    call = {"from": BOB.address, "to": store, "data": "0x" + word(5).hex(), "gas": hex(100_000)}
    answer = chain.rpc("eth_createAccessList", [call])
    assert answer["accessList"] == [{"address": store, "storageKeys": ["0x" + word(0).hex()]}]
    tx = {
        "type": 1,
        "chainId": chain.chain_id,
        "nonce": nonce_of(chain, BOB.address),
        "gas": 100_000,
        "gasPrice": 0,
        "to": to_checksum_address(store),
        "data": word(5),
        "accessList": answer["accessList"],
    }
    raw = BOB.sign_transaction(tx).raw_transaction
    receipt = chain.rpc(
        "eth_getTransactionReceipt", [chain.rpc("eth_sendRawTransaction", ["0x" + raw.hex()])]
    )
    assert receipt["gasUsed"] == answer["gasUsed"]


# ------------------------------------------------------------------------ the endpoints


def test_a_notification_gets_no_reply(chain: EmbeddedChain) -> None:
    note = {"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []}
    assert handle_payload(chain, json.dumps(note).encode()) is None
    failing = {"jsonrpc": "2.0", "method": "no_such_method"}
    assert handle_payload(chain, json.dumps(failing).encode()) is None
    batch = [note, dict(note, id=7), failing]
    assert handle_payload(chain, json.dumps(batch).encode()) == [
        {"jsonrpc": "2.0", "id": 7, "result": "0x0"}
    ]
    assert handle_payload(chain, json.dumps([note, note]).encode()) is None
    # "id": null is a request, not a notification.
    assert handle_payload(chain, json.dumps(dict(note, id=None)).encode())["result"] == "0x0"


@pytest.fixture
def endpoints(chain: EmbeddedChain) -> Iterator[dict[str, str]]:
    stop = threading.Event()
    urls: dict[str, str] = {}
    ready = threading.Event()
    thread = threading.Thread(
        target=serve,
        args=(chain,),
        kwargs={
            "port": 0,
            "ws_port": 0,
            "stop": stop,
            "ws_ready": lambda url: urls.setdefault("ws", url),
            "ready": lambda url: (urls.setdefault("http", url), ready.set()),
        },
    )
    thread.start()
    assert ready.wait(10)
    try:
        yield urls
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive()


def test_http_answers_a_notification_with_an_empty_204(endpoints: dict[str, str]) -> None:
    note = {"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []}
    reply = requests.post(endpoints["http"], json=note, timeout=10)
    assert reply.status_code == 204 and reply.content == b""


@pytest.mark.parametrize("port", ["same port as HTTP", "websocket-only port"])
def test_websocket_subscriptions_push_heads_and_logs(
    endpoints: dict[str, str], chain: EmbeddedChain, port: str
) -> None:
    store = deploy_store(chain)
    url = endpoints["ws"] if port == "websocket-only port" else "ws://" + endpoints["http"][7:]
    with connect(url) as ws:

        def ask(request_id: int, method: str, params: list[Any]) -> Any:
            ws.send(
                json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
            )
            reply = json.loads(ws.recv(timeout=10))
            assert reply["id"] == request_id, reply
            return reply.get("result", reply.get("error"))

        heads = ask(1, "eth_subscribe", ["newHeads"])
        logs = ask(2, "eth_subscribe", ["logs", {"address": store}])
        other = ask(3, "eth_subscribe", ["logs", {"address": CAROL_ADDRESS}])
        assert ask(4, "eth_subscribe", ["newPendingTransactions"])["code"] == -32602
        assert ask(5, "eth_blockNumber", []) == hex(chain.block_number)
        receipt = send(chain, BOB, to=store, data=word(8))
        got: dict[str, list[Any]] = {}
        while len(got.get(heads, [])) < 1 or len(got.get(logs, [])) < 1:
            note = json.loads(ws.recv(timeout=10))
            assert note["method"] == "eth_subscription"
            got.setdefault(note["params"]["subscription"], []).append(note["params"]["result"])
        assert got[heads][0]["hash"] == receipt["blockHash"]
        assert got[heads][0]["number"] == receipt["blockNumber"]
        assert got[logs][0] == receipt["logs"][0]
        assert other not in got
        assert ask(6, "eth_unsubscribe", [heads]) is True
        assert ask(7, "eth_unsubscribe", [heads]) is False
        send(chain, BOB, to=store, data=word(9))
        note = json.loads(ws.recv(timeout=10))
        assert note["params"]["subscription"] == logs  # newHeads is gone
