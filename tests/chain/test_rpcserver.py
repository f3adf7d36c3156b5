from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError

from ledger.chain.embedded import EmbeddedChain
from ledger.chain.rpcserver import serve
from tests.chain.helpers import (
    ALICE,
    BAD_ARG,
    BAD_SELECTOR,
    BOB,
    CAROL_ADDRESS,
    CHAIN_ID,
    STORE_INIT,
    sign,
    word,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(chain: EmbeddedChain) -> Iterator[str]:
    """``chain`` served over HTTP on a free port, in a thread; yields the URL."""
    stop = threading.Event()
    urls: list[str] = []
    ready = threading.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    thread = threading.Thread(
        target=serve, args=(chain,), kwargs={"port": 0, "ready": on_ready, "stop": stop}
    )
    thread.start()
    assert ready.wait(10)
    try:
        yield urls[0]
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive()
        assert chain.closed  # serve closes the chain on the way out


def post(url: str, payload: Any) -> Any:
    return requests.post(url, json=payload, timeout=10).json()


def test_web3_over_http(served: str) -> None:
    w3 = Web3(HTTPProvider(served))
    assert w3.is_connected()
    assert w3.eth.chain_id == CHAIN_ID
    deploy = w3.eth.send_raw_transaction(sign(ALICE, 0, data=STORE_INIT, gas=300_000))
    address = w3.eth.wait_for_transaction_receipt(deploy, poll_latency=0.005)["contractAddress"]
    assert address is not None
    tx_hash = w3.eth.send_raw_transaction(sign(ALICE, 1, to=address, data=word(5)))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.005)
    assert receipt["status"] == 1
    (log,) = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": address})
    assert log["data"] == word(5) and log["transactionHash"] == tx_hash
    assert w3.eth.call({"to": address}) == word(5)
    with pytest.raises(ContractCustomError) as info:
        w3.eth.call({"to": address, "data": word(0)})
    assert info.value.data == "0x" + BAD_SELECTOR.hex() + word(BAD_ARG).hex()
    assert w3.eth.get_block("latest")["number"] == 2


def test_json_rpc_envelope(served: str) -> None:
    batch = post(
        served,
        [
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "id": "b", "method": "eth_blockNumber"},
            {"jsonrpc": "2.0", "id": 3, "method": "eth_nope", "params": []},
            {"jsonrpc": "2.0", "id": 4, "method": "eth_getBalance", "params": {"a": 1}},
            {"jsonrpc": "2.0", "id": 5, "method": "eth_getBalance", "params": ["0x12"]},
        ],
    )
    assert batch[0] == {"jsonrpc": "2.0", "id": 1, "result": hex(CHAIN_ID)}
    assert batch[1] == {"jsonrpc": "2.0", "id": "b", "result": "0x0"}
    assert [r["error"]["code"] for r in batch[2:]] == [-32601, -32602, -32602]
    response = requests.post(served, data=b"{not json", timeout=10)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == -32700
    assert post(served, [])["error"]["code"] == -32600
    assert post(served, {"id": 9})["error"]["code"] == -32600
    assert requests.get(served, timeout=10).status_code == 405
    reverted = post(
        served,
        {"jsonrpc": "2.0", "id": 7, "method": "eth_sendRawTransaction", "params": ["0x02c0"]},
    )
    assert reverted["error"]["code"] == -32000


def test_concurrent_clients_are_serialised(served: str) -> None:
    errors: list[BaseException] = []
    hashes: list[str] = []

    def client(account: LocalAccount) -> None:
        session = requests.Session()
        try:
            for nonce in range(10):
                raw = sign(account, nonce, to=CAROL_ADDRESS, value=1, gas=21_000)
                reply = session.post(
                    served,
                    json={
                        "jsonrpc": "2.0",
                        "id": nonce,
                        "method": "eth_sendRawTransaction",
                        "params": [raw],
                    },
                    timeout=10,
                ).json()
                hashes.append(reply["result"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(a,)) for a in (ALICE, BOB)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    w3 = Web3(HTTPProvider(served))
    assert w3.eth.block_number == 20
    assert w3.eth.get_balance(Web3.to_checksum_address(CAROL_ADDRESS)) == 20
    blocks = {w3.eth.get_transaction_receipt(HexStr(h))["blockNumber"] for h in hashes}
    assert blocks == set(range(1, 21))


SERVER_SCRIPT = """
import sys
from pathlib import Path
from ledger.chain.embedded import EmbeddedChain
from ledger.chain.rpcserver import run_until_signal
from tests.chain.helpers import ALLOC

chain = EmbeddedChain.open(Path(sys.argv[1]), genesis_alloc=ALLOC)
run_until_signal(chain, port=0, ready=lambda url: print(url, flush=True))
print("stopped", chain.closed, flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_server_cleanly(chain_path: Path, signum: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, str(chain_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        # A client keeps sending while the signal lands; whatever it was told is mined
        # must be there after the restart.
        acknowledged: list[str] = []
        enough = threading.Event()

        def client() -> None:
            session = requests.Session()
            for nonce in range(10_000):
                raw = sign(ALICE, nonce, to=CAROL_ADDRESS, value=1, gas=21_000)
                try:
                    reply = session.post(
                        url,
                        json={
                            "jsonrpc": "2.0",
                            "id": 1,
                            "method": "eth_sendRawTransaction",
                            "params": [raw],
                        },
                        timeout=10,
                    ).json()
                except requests.RequestException:
                    return
                if "result" not in reply:
                    return  # "the chain is closed"
                acknowledged.append(reply["result"])
                if len(acknowledged) >= 5:
                    enough.set()

        sender = threading.Thread(target=client)
        sender.start()
        assert enough.wait(20)
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=20)
        sender.join(20)
        assert proc.returncode == 0
        assert out.strip() == "stopped True"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with EmbeddedChain.open(chain_path, lock_timeout=0) as chain:  # lock released
        assert chain.block_number >= len(acknowledged) >= 5
        for tx_hash in acknowledged:
            receipt = chain.rpc("eth_getTransactionReceipt", [tx_hash])
            assert receipt is not None and receipt["status"] == "0x1"


def test_serve_on_a_busy_port_raises_and_closes_the_chain(chain: EmbeddedChain) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError):
            serve(chain, port=busy.getsockname()[1])
    assert chain.closed
