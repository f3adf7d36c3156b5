from __future__ import annotations

import itertools
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from ledger.chain.embedded import (
    BLOCK_GAS_LIMIT,
    DEFAULT_CHAIN_ID,
    ChainBusyError,
    ChainConfigError,
    EmbeddedChain,
    RPCError,
)
from ledger.chain.provider import EmbeddedProvider
from tests.chain.helpers import (
    ALICE,
    ALLOC,
    BAD_ARG,
    BAD_SELECTOR,
    BOB,
    CAROL_ADDRESS,
    CHAIN_ID,
    ETHER,
    GAS_BURNER_INIT,
    STORE_INIT,
    STORED_TOPIC,
    deploy_store,
    nonce_of,
    send,
    sign,
    word,
)

ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400


def balance(chain: EmbeddedChain, address: str, block: str = "latest") -> int:
    return int(chain.rpc("eth_getBalance", [address, block]), 16)


def head(chain: EmbeddedChain) -> dict[str, Any]:
    block = chain.rpc("eth_getBlockByNumber", ["latest", False])
    assert block is not None
    return dict(block)


def rpc_error(chain: EmbeddedChain, method: str, params: list[Any]) -> RPCError:
    with pytest.raises(RPCError) as info:
        chain.rpc(method, params)
    return info.value


# ---------------------------------------------------------------- basics


def test_genesis_and_node_answers(chain: EmbeddedChain) -> None:
    assert chain.rpc("eth_chainId", []) == hex(DEFAULT_CHAIN_ID)
    assert chain.rpc("net_version", []) == str(DEFAULT_CHAIN_ID)
    assert chain.rpc("eth_blockNumber", []) == "0x0"
    assert chain.rpc("eth_gasPrice", []) == "0x0"
    assert chain.rpc("eth_maxPriorityFeePerGas", []) == "0x0"
    assert chain.rpc("eth_accounts", []) == []
    assert chain.rpc("eth_syncing", []) is False
    assert chain.rpc("web3_clientVersion", []).startswith("liandai")
    assert balance(chain, ALICE.address) == ALLOC[ALICE.address]
    assert balance(chain, BOB.address.lower()) == ALLOC[BOB.address]
    genesis = chain.rpc("eth_getBlockByNumber", ["earliest", True])
    assert genesis["number"] == "0x0"
    assert genesis["baseFeePerGas"] == "0x0"
    assert int(genesis["gasLimit"], 16) == BLOCK_GAS_LIMIT >= 60_000_000
    assert genesis["transactions"] == []
    assert chain.rpc("eth_getBlockByHash", [genesis["hash"], False])["hash"] == genesis["hash"]
    assert chain.genesis_hash.hex() == genesis["hash"][2:]


def test_unknown_things_answer_like_a_node(chain: EmbeddedChain) -> None:
    assert rpc_error(chain, "eth_nope", []).code == -32601
    assert rpc_error(chain, "eth_getBalance", ["0x12"]).code == -32602
    assert rpc_error(chain, "eth_getBalance", []).code == -32602
    assert rpc_error(chain, "eth_getBlockByNumber", ["banana", False]).code == -32602
    assert chain.rpc("eth_getBlockByNumber", ["0x99", False]) is None
    assert chain.rpc("eth_getBlockByHash", ["0x" + "ab" * 32, False]) is None
    assert chain.rpc("eth_getTransactionReceipt", ["0x" + "ab" * 32]) is None
    assert chain.rpc("eth_getTransactionByHash", ["0x" + "ab" * 32]) is None
    error = rpc_error(chain, "eth_getBalance", [ALICE.address, "0x99"])
    assert (error.code, error.message) == (-32000, "header not found")


def test_value_transfers_legacy_and_dynamic_fee(chain: EmbeddedChain) -> None:
    r1 = send(chain, ALICE, to=CAROL_ADDRESS, value=3 * ETHER, gas=21_000)
    r2 = send(chain, ALICE, to=CAROL_ADDRESS, value=2, gas=21_000, dynamic=True)
    assert (r1["status"], r2["status"]) == ("0x1", "0x1")
    assert (r1["blockNumber"], r2["blockNumber"]) == ("0x1", "0x2")  # one block per tx
    assert (r1["type"], r2["type"]) == ("0x0", "0x2")
    assert r1["gasUsed"] == r1["cumulativeGasUsed"] == hex(21_000)
    assert r1["effectiveGasPrice"] == "0x0"
    assert balance(chain, CAROL_ADDRESS) == 3 * ETHER + 2
    assert balance(chain, ALICE.address) == ALLOC[ALICE.address] - 3 * ETHER - 2  # free gas
    assert balance(chain, CAROL_ADDRESS, "0x1") == 3 * ETHER
    assert nonce_of(chain, ALICE.address) == 2
    assert chain.rpc("eth_getTransactionCount", [ALICE.address, "pending"]) == "0x2"
    tx = chain.rpc("eth_getTransactionByHash", [r2["transactionHash"]])
    assert tx["from"] == ALICE.address.lower()
    assert tx["to"] == CAROL_ADDRESS
    assert (tx["maxFeePerGas"], tx["gasPrice"], tx["chainId"]) == ("0x0", "0x0", hex(CHAIN_ID))
    block = chain.rpc("eth_getBlockByNumber", ["0x2", True])
    assert block["transactions"][0]["hash"] == r2["transactionHash"]
    assert int(block["timestamp"], 16) > int(
        chain.rpc("eth_getBlockByNumber", ["0x1", False])["timestamp"], 16
    )


def test_invalid_transactions_are_errors_and_not_mined(chain: EmbeddedChain) -> None:
    send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)
    cases: dict[str, str] = {
        "nonce too low": sign(ALICE, 0, to=CAROL_ADDRESS, gas=21_000, value=1),
        "nonce too high": sign(ALICE, 5, to=CAROL_ADDRESS, gas=21_000),
        "invalid chain id": sign(ALICE, 1, to=CAROL_ADDRESS, gas=21_000, chain_id=1),
        "intrinsic gas too low": sign(ALICE, 1, to=CAROL_ADDRESS, gas=20_000),
        "exceeds block gas limit": sign(ALICE, 1, to=CAROL_ADDRESS, gas=BLOCK_GAS_LIMIT + 1),
        "insufficient funds": sign(BOB, 0, to=CAROL_ADDRESS, gas=21_000, value=10**6 * ETHER),
    }
    unprotected = Account.sign_transaction(
        {"nonce": 1, "gas": 21_000, "gasPrice": 0, "to": CAROL_ADDRESS, "value": 0},
        ALICE.key,
    )
    cases["replay-protected"] = "0x" + unprotected.raw_transaction.hex()
    good = sign(ALICE, 1, to=CAROL_ADDRESS, gas=21_000)
    fields = rlp.decode(bytes.fromhex(good[2:]))
    cases["invalid sender"] = "0x" + rlp.encode([*fields[:8], b""]).hex()  # s = 0
    cases["rlp"] = "0x02c0"
    cases["not supported"] = "0x03c0"  # blob transactions
    for expected, raw in cases.items():
        error = rpc_error(chain, "eth_sendRawTransaction", [raw])
        assert error.code == -32000 and expected in error.message, (expected, error)
    assert chain.block_number == 1
    assert chain.rpc("eth_sendRawTransaction", [good])
    assert "already known" in rpc_error(chain, "eth_sendRawTransaction", [good]).message
    assert chain.block_number == 2


# ---------------------------------------------------------------- contracts


def test_deploy_call_storage_and_logs(chain: EmbeddedChain) -> None:
    address = deploy_store(chain)
    assert chain.rpc("eth_getCode", [address, "latest"]) != "0x"
    assert chain.rpc("eth_getCode", [address, "0x0"]) == "0x"
    receipt = send(chain, ALICE, to=address, data=word(7))
    assert receipt["status"] == "0x1"
    (log,) = receipt["logs"]
    assert log["address"] == address
    assert log["topics"] == ["0x" + STORED_TOPIC.hex(), "0x" + word(int(ALICE.address, 16)).hex()]
    assert log["data"] == "0x" + word(7).hex()
    assert (log["blockNumber"], log["logIndex"], log["removed"]) == ("0x2", "0x0", False)
    assert chain.rpc("eth_call", [{"to": address, "data": "0x"}, "latest"]) == "0x" + word(7).hex()
    assert chain.rpc("eth_call", [{"to": address}, "0x1"]) == "0x" + word(0).hex()
    assert chain.rpc("eth_getStorageAt", [address, "0x0", "latest"]) == "0x" + word(7).hex()
    gas = int(
        chain.rpc(
            "eth_estimateGas",
            [{"from": ALICE.address, "to": address, "data": "0x" + word(9).hex()}],
        ),
        16,
    )
    assert 21_000 < gas < 100_000
    assert send(chain, ALICE, to=address, data=word(9), gas=gas)["status"] == "0x1"


def test_reverting_transaction_is_mined_with_status_0(chain: EmbeddedChain) -> None:
    address = deploy_store(chain)
    receipt = send(chain, ALICE, to=address, data=word(0), gas=100_000)
    assert receipt["status"] == "0x0"
    assert receipt["logs"] == []
    assert chain.block_number == 2
    assert nonce_of(chain, ALICE.address) == 2


def test_eth_call_revert_carries_the_revert_data(chain: EmbeddedChain) -> None:
    address = deploy_store(chain)
    error = rpc_error(chain, "eth_call", [{"to": address, "data": "0x" + word(0).hex()}, "latest"])
    assert (error.code, error.message) == (3, "execution reverted")
    assert error.data == "0x" + BAD_SELECTOR.hex() + word(BAD_ARG).hex()
    error = rpc_error(chain, "eth_call", [{"to": address, "data": "0x" + word(1).hex()}, "latest"])
    assert (error.code, error.message) == (3, "execution reverted: nope")
    assert error.data.startswith("0x08c379a0")
    error = rpc_error(
        chain,
        "eth_estimateGas",
        [{"from": ALICE.address, "to": address, "data": "0x" + word(0).hex()}],
    )
    assert (error.code, error.data) == (3, "0x" + BAD_SELECTOR.hex() + word(BAD_ARG).hex())


def test_base_fee_stays_zero_after_a_full_block(chain: EmbeddedChain) -> None:
    # 40M of a 60M limit is above London's target: the base fee would become 1 wei and
    # never return to 0, ending gas-price-0 transactions. Here it stays 0.
    burned = send(chain, ALICE, data=GAS_BURNER_INIT, gas=40_000_000)
    assert (burned["status"], burned["gasUsed"]) == ("0x0", hex(40_000_000))
    assert send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)["status"] == "0x1"
    assert head(chain)["baseFeePerGas"] == "0x0"
    history = chain.rpc("eth_feeHistory", ["0x2", "latest", [50]])
    assert history["baseFeePerGas"] == ["0x0"] * 3
    assert history["oldestBlock"] == "0x1"
    assert history["reward"] == [["0x0"], ["0x0"]]


# ---------------------------------------------------------------- logs and receipts


def test_get_logs_filters(chain: EmbeddedChain) -> None:
    a = deploy_store(chain)
    b = deploy_store(chain, BOB)
    send(chain, BOB, to=CAROL_ADDRESS, gas=21_000)  # a block without logs
    for account, target, value in [(ALICE, a, 5), (BOB, a, 6), (ALICE, b, 7), (BOB, b, 8)]:
        send(chain, account, to=target, data=word(value))
    stored = "0x" + STORED_TOPIC.hex()
    alice_t = "0x" + word(int(ALICE.address, 16)).hex()
    bob_t = "0x" + word(int(BOB.address, 16)).hex()

    def values(query: dict[str, Any]) -> list[int]:
        return [int(log["data"], 16) for log in chain.rpc("eth_getLogs", [query])]

    assert values({"fromBlock": "earliest"}) == [5, 6, 7, 8]
    assert values({}) == [8]  # default range: latest..latest
    assert values({"fromBlock": "0x0", "address": a}) == [5, 6]
    assert values({"fromBlock": "0x0", "address": [a, b]}) == [5, 6, 7, 8]
    assert values({"fromBlock": "0x0", "address": CAROL_ADDRESS}) == []
    assert values({"fromBlock": "0x0", "topics": [stored, alice_t]}) == [5, 7]
    assert values({"fromBlock": "0x0", "topics": [None, bob_t]}) == [6, 8]
    assert values({"fromBlock": "0x0", "topics": [None, [alice_t, bob_t]]}) == [5, 6, 7, 8]
    assert values({"fromBlock": "0x0", "topics": [[stored], None, None]}) == []  # too many
    assert values({"fromBlock": "0x0", "topics": ["0x" + "00" * 32]}) == []
    assert values({"fromBlock": "0x5", "toBlock": "0x6"}) == [6, 7]
    assert values({"fromBlock": "0x6", "toBlock": "0x99"}) == [7, 8]
    logs = chain.rpc("eth_getLogs", [{"fromBlock": "0x0", "address": b, "topics": [None, bob_t]}])
    assert len(logs) == 1
    block_hash = logs[0]["blockHash"]
    assert values({"blockHash": block_hash}) == [8]
    receipt = chain.rpc("eth_getTransactionReceipt", [logs[0]["transactionHash"]])
    assert receipt["logs"] == logs
    assert rpc_error(chain, "eth_getLogs", [{"fromBlock": "0x5", "toBlock": "0x2"}]).code == -32000
    assert (
        rpc_error(chain, "eth_getLogs", [{"blockHash": block_hash, "fromBlock": "0x1"}]).code
        == -32602
    )
    assert (
        rpc_error(chain, "eth_getLogs", [{"blockHash": "0x" + "ab" * 32}]).message
        == "unknown block"
    )


def test_get_logs_skips_blocks_by_bloom(chain: EmbeddedChain) -> None:
    address = deploy_store(chain)
    send(chain, ALICE, to=address, data=word(5))
    chain.mine(200)
    before = chain.db_reads
    assert chain.rpc("eth_getLogs", [{"fromBlock": "0x0", "address": CAROL_ADDRESS}]) == []
    # Two reads per header (number -> hash -> header); no receipts were opened.
    assert chain.db_reads - before <= 2 * 203 + 5


def test_receipt_lookup_cost_does_not_grow_with_the_chain(chain: EmbeddedChain) -> None:
    def cost(tx_hash: str) -> int:
        before = chain.db_reads
        assert chain.rpc("eth_getTransactionReceipt", [tx_hash]) is not None
        assert chain.rpc("eth_getTransactionByHash", [tx_hash]) is not None
        return chain.db_reads - before

    early = send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)["transactionHash"]
    chain.mine(48)
    late_small = send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)["transactionHash"]
    assert chain.block_number == 50
    small = (cost(early), cost(late_small))
    chain.mine(950)
    late_big = send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)["transactionHash"]
    assert chain.block_number == 1001
    big = (cost(early), cost(late_small), cost(late_big))
    # A scan from the head would read ~1000 blocks; the index reads a handful of rows.
    assert max(big) <= max(small) + 2
    assert max(big) < 25
    started = time.perf_counter()
    for _ in range(20):
        chain.rpc("eth_getTransactionReceipt", [early])
    assert (time.perf_counter() - started) / 20 < 0.02


# ---------------------------------------------------------------- persistence


def test_state_survives_close_and_reopen(chain_path: Path) -> None:
    with EmbeddedChain.open(chain_path, chain_id=777, genesis_alloc=ALLOC) as chain:
        genesis = chain.rpc("eth_getBlockByNumber", ["0x0", False])
        address = deploy_store(chain)
        stored = send(chain, ALICE, to=address, data=word(42))
        head_before = head(chain)
    assert chain.closed

    with EmbeddedChain.open(chain_path, genesis_alloc={CAROL_ADDRESS: 1}) as chain:
        assert chain.chain_id == 777  # stored, not the default
        assert chain.rpc("eth_getBlockByNumber", ["0x0", False]) == genesis  # not recreated
        assert head(chain) == head_before
        assert balance(chain, CAROL_ADDRESS) == 0  # alloc applies at creation only
        assert chain.rpc("eth_call", [{"to": address}, "latest"]) == "0x" + word(42).hex()
        assert chain.rpc("eth_getTransactionReceipt", [stored["transactionHash"]]) == stored
        assert len(chain.rpc("eth_getLogs", [{"fromBlock": "0x0"}])) == 1
        nxt = send(chain, ALICE, to=CAROL_ADDRESS, value=1, gas=21_000)
        assert nxt["blockNumber"] == "0x3"
        assert (
            chain.rpc("eth_getBlockByNumber", ["0x3", False])["parentHash"] == head_before["hash"]
        )

    with pytest.raises(ChainConfigError, match="chain id 777"):
        EmbeddedChain.open(chain_path, chain_id=1)
    with EmbeddedChain.open(chain_path, chain_id=777) as chain:
        assert chain.block_number == 3


def test_storage_is_sqlite_wal_with_one_transaction_per_block(chain_path: Path) -> None:
    with EmbeddedChain.open(chain_path, genesis_alloc=ALLOC, durable=False) as chain:
        send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)
        # The file's committed content while the chain is open: genesis + block 1.
        with sqlite3.connect(chain_path) as reader:
            assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            meta = dict(reader.execute("SELECT key, value FROM meta").fetchall())
            assert meta["chain_id"] == str(DEFAULT_CHAIN_ID)
            assert meta["schema_version"] == "1" and meta["initialised"] == "1"
            assert meta["genesis_hash"] == chain.genesis_hash.hex()
        reader.close()
    with EmbeddedChain.open(chain_path) as chain:
        assert chain.block_number == 1


def test_not_a_chain_file(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ChainConfigError):
        EmbeddedChain.open(bogus)
    with EmbeddedChain.open(bogus.with_name("fine.db")):
        pass  # and the lock of the failed open was released too
    with EmbeddedChain.open(bogus.with_name("fine.db"), lock_timeout=0):
        pass


def test_advance_time_persists_across_reopen(chain_path: Path) -> None:
    with EmbeddedChain.open(chain_path, genesis_alloc=ALLOC) as chain:
        send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)
        before = int(head(chain)["timestamp"], 16)
        assert chain.advance_time(90 * DAY) == 90 * DAY
        assert chain.rpc("evm_increaseTime", ["0x3c"]) == 90 * DAY + 60
        chain.rpc("evm_mine", [])
        jumped = int(head(chain)["timestamp"], 16)
        assert jumped >= int(time.time()) + 90 * DAY + 60
        assert jumped >= before + 90 * DAY
    with EmbeddedChain.open(chain_path) as chain:
        assert chain.time_offset == 90 * DAY + 60
        send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)
        assert int(head(chain)["timestamp"], 16) > jumped
    with pytest.raises(ValueError):
        EmbeddedChain.open(None).advance_time(-1)


def test_timestamps_strictly_increase_even_when_fast(chain: EmbeddedChain) -> None:
    for _ in range(5):
        send(chain, ALICE, to=CAROL_ADDRESS, gas=21_000)
    stamps = [
        int(chain.rpc("eth_getBlockByNumber", [hex(n), False])["timestamp"], 16) for n in range(6)
    ]
    assert all(b > a for a, b in itertools.pairwise(stamps))


# ---------------------------------------------------------------- one writer


def test_second_open_in_process_is_busy(chain_path: Path) -> None:
    with EmbeddedChain.open(chain_path):
        started = time.monotonic()
        with pytest.raises(ChainBusyError, match=f"pid {os.getpid()}") as info:
            EmbeddedChain.open(chain_path, lock_timeout=0.2)
        assert time.monotonic() - started < 2
        assert "in use by another liandai process" in str(info.value)
    with EmbeddedChain.open(chain_path, lock_timeout=0):
        pass


def test_open_held_by_another_process_names_its_pid(chain_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from ledger.chain.embedded import EmbeddedChain\n"
            "c = EmbeddedChain.open(sys.argv[1])\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
            str(chain_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        with pytest.raises(ChainBusyError, match=f"pid {holder.pid}"):
            EmbeddedChain.open(chain_path, lock_timeout=0.3)
        assert time.monotonic() - started < 2
    finally:
        holder.kill()
        holder.wait()
    # The OS drops the lock with its holder, even on SIGKILL.
    with EmbeddedChain.open(chain_path, lock_timeout=5) as chain:
        assert chain.block_number == 0


# ---------------------------------------------------------------- crash safety


def test_kill_9_at_random_points_loses_no_mined_block(chain_path: Path) -> None:
    points = int(os.environ.get("LIANDAI_KILL_POINTS", "5"))
    seed = int(os.environ.get("LIANDAI_KILL_SEED", str(random.randrange(2**32))))
    rng = random.Random(seed)
    mined: dict[str, int] = {}
    genesis: set[bytes] = set()
    for point in range(points):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.chain.chain_writer", str(chain_path), "100000"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        lines: list[str] = []
        if point == 0:
            # Anywhere: during start-up, while opening, or while creating genesis.
            time.sleep(rng.uniform(0.0, 1.5))
        else:
            target = rng.randint(1, 30)
            while sum(not line.startswith("open") for line in lines) < target:
                line = child.stdout.readline()
                assert line, f"writer died early (seed {seed})"
                lines.append(line)
            time.sleep(rng.uniform(0.0, 0.02))
        child.kill()
        rest, _ = child.communicate()
        assert child.returncode == -9
        # A line is printed only once its block is committed: each must be on the chain
        # (which may hold one more, mined but not yet printed). A line cut short by the
        # kill has no newline: skip it.
        complete = [x[:-1] for x in lines if x.endswith("\n")] + rest.split("\n")[:-1]
        for line in complete:
            if line and not line.startswith("open"):
                tx_hash, block_number = line.split()
                mined[tx_hash] = int(block_number)

        # (Same alloc as the writer: if it died before creating genesis, we create it.)
        with EmbeddedChain.open(chain_path, genesis_alloc=ALLOC, lock_timeout=5) as chain:
            for tx_hash, number in mined.items():
                receipt = chain.rpc("eth_getTransactionReceipt", [tx_hash])
                assert receipt is not None, f"lost {tx_hash} (seed {seed})"
                assert (receipt["blockNumber"], receipt["status"]) == (hex(number), "0x1")
            assert chain.block_number >= max(mined.values(), default=0)
            genesis.add(chain.genesis_hash)
            # The chain links up and keeps going.
            top = head(chain)
            if chain.block_number:
                parent = chain.rpc("eth_getBlockByNumber", [hex(chain.block_number - 1), False])
                assert top["parentHash"] == parent["hash"]
            assert send(chain, BOB, to=CAROL_ADDRESS, gas=21_000)["status"] == "0x1"
    assert len(mined) >= points - 1
    assert len(genesis) == 1  # created exactly once


# ---------------------------------------------------------------- web3 provider


def test_provider_with_web3(chain: EmbeddedChain) -> None:
    w3 = Web3(EmbeddedProvider(chain))
    assert w3.is_connected()
    assert w3.eth.chain_id == CHAIN_ID
    address = Web3.to_checksum_address(deploy_store(chain))
    tx_hash = w3.eth.send_raw_transaction(sign(ALICE, 1, to=address, data=word(11)))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.005)
    assert receipt["status"] == 1 and receipt["blockNumber"] == 2
    assert w3.eth.get_logs({"fromBlock": 0, "address": address})[0]["data"] == word(11)
    assert w3.eth.call({"to": address}) == word(11)
    assert w3.eth.get_balance(ALICE.address) == ALLOC[ALICE.address]
    assert w3.eth.get_block("latest")["baseFeePerGas"] == 0
    with pytest.raises(ContractCustomError) as custom:
        w3.eth.call({"to": address, "data": word(0)})
    assert custom.value.data == "0x" + BAD_SELECTOR.hex() + word(BAD_ARG).hex()
    with pytest.raises(ContractLogicError, match="execution reverted: nope"):
        w3.eth.call({"to": address, "data": word(1)})
    chain.close()
    assert not w3.is_connected()


@pytest.mark.anvil
def test_provider_reverts_surface_like_anvil(chain: EmbeddedChain, anvil_url: str) -> None:
    from web3 import HTTPProvider

    anvil = Web3(HTTPProvider(anvil_url))
    anvil.provider.make_request("anvil_setBalance", [ALICE.address, hex(10**24)])  # type: ignore[arg-type]
    ours = Web3(EmbeddedProvider(chain))
    outcomes: list[tuple[Any, ...]] = []
    for w3 in (anvil, ours):
        tx_hash = w3.eth.send_raw_transaction(sign(ALICE, 0, data=STORE_INIT, gas=300_000))
        address = w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.005)[
            "contractAddress"
        ]
        assert address is not None
        for x in (0, 1):
            try:
                w3.eth.call({"to": address, "data": word(x)})
            except ContractLogicError as exc:
                outcomes.append((w3 is ours, x, type(exc), exc.data))
        failing = w3.eth.send_raw_transaction(sign(ALICE, 1, to=address, data=word(0), gas=100_000))
        receipt = w3.eth.wait_for_transaction_receipt(failing, poll_latency=0.005)
        outcomes.append((w3 is ours, "mined", receipt["status"], receipt["gasUsed"]))
    theirs = [o[1:] for o in outcomes if not o[0]]
    mine = [o[1:] for o in outcomes if o[0]]
    assert mine == theirs
    assert theirs[0][1] is ContractCustomError
