"""Throughput of the embedded chain (not a test): ``python -m tests.chain.bench_embedded``.

Prints transactions/s for value transfers and contract calls (in-process ``rpc``, the
web3 provider, and HTTP), the open time of an existing chain, and receipt look-up time
at a small and a large chain. Optional argument: ``--profile`` (cProfile of sends).
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from web3 import HTTPProvider, Web3

from ledger.chain.embedded import EmbeddedChain
from ledger.chain.provider import EmbeddedProvider
from ledger.chain.rpcserver import serve
from tests.chain.helpers import (
    ALICE,
    ALLOC,
    CAROL_ADDRESS,
    assemble,
    deploy_store,
    init_code,
    sign,
    word,
)

# Six fresh storage writes per call (slots x..x+5), like a heavier ledger operation.
SIX_WRITES = init_code(
    assemble(
        " ".join(
            f"PUSH1 0 CALLDATALOAD PUSH1 0 CALLDATALOAD PUSH1 {i} ADD SSTORE" for i in range(6)
        )
        + " STOP"
    )
)


def _rate(label: str, count: int, fn: Callable[[], None]) -> float:
    # CPU time too: on a shared 2-core box wall time mostly measures the neighbours.
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<48} {count / wall:8.1f} tx/s wall {count / cpu:8.1f} tx/s cpu")
    return count / wall


def main() -> None:
    profile = "--profile" in sys.argv
    n = 300
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        chain = EmbeddedChain.open(path, genesis_alloc=ALLOC)
        store = deploy_store(chain)
        nonce = 1

        def presign(count: int, **kwargs: Any) -> list[str]:
            nonlocal nonce
            raws: list[str] = [sign(ALICE, nonce + i, **kwargs) for i in range(count)]
            nonce += count
            return raws

        receipt = chain.rpc(
            "eth_getTransactionReceipt",
            [chain.rpc("eth_sendRawTransaction", presign(1, data=SIX_WRITES, gas=300_000))],
        )
        six = receipt["contractAddress"]
        transfers = presign(n, to=CAROL_ADDRESS, value=1, gas=21_000)
        calls = presign(n, to=store, data=word(2), gas=100_000)
        heavy: list[str] = [
            sign(ALICE, nonce + i, to=six, data=word(10 * i + 10), gas=300_000) for i in range(n)
        ]
        nonce += n

        def send_all(raws: list[str]) -> Callable[[], None]:
            def run() -> None:
                for raw in raws:
                    chain.rpc("eth_sendRawTransaction", [raw])

            return run

        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        _rate("value transfer, rpc (file, presigned)", n, send_all(transfers))
        _rate("contract call 1 SSTORE + LOG, rpc (presigned)", n, send_all(calls))
        _rate("contract call 6 new SSTOREs, rpc (presigned)", n, send_all(heavy))
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

        # The same transfers on a chain without the per-block fsync (durable=False).
        with EmbeddedChain.open(Path(tmp) / "fast.db", genesis_alloc=ALLOC, durable=False) as fast:
            raws = [sign(ALICE, i, to=CAROL_ADDRESS, value=1, gas=21_000) for i in range(n)]

            def send_fast() -> None:
                for raw in raws:
                    fast.rpc("eth_sendRawTransaction", [raw])

            _rate("value transfer, rpc, durable=False", n, send_fast)

        w3 = Web3(EmbeddedProvider(chain))

        def web3_sends() -> None:
            nonlocal nonce
            for _ in range(n):
                tx_hash = w3.eth.send_raw_transaction(sign(ALICE, nonce, to=store, data=word(7)))
                w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.005)
                nonce += 1

        _rate("contract call via web3 + provider (signing incl.)", n, web3_sends)

        stop, ready = threading.Event(), threading.Event()
        urls: list[str] = []

        def on_ready(url: str) -> None:
            urls.append(url)
            ready.set()

        server = threading.Thread(
            target=serve, args=(chain,), kwargs={"port": 0, "ready": on_ready, "stop": stop}
        )
        server.start()
        ready.wait()
        w3 = Web3(HTTPProvider(urls[0]))
        _rate("contract call via web3 + HTTP (signing incl.)", n, web3_sends)
        stop.set()
        server.join()  # closes the chain

        chain = EmbeddedChain.open(path)
        early = chain.rpc("eth_getBlockByNumber", ["0x2", False])["transactions"][0]
        chain.close()

        started = time.perf_counter()
        chain = EmbeddedChain.open(path)
        print(
            f"{'open existing chain (' + str(chain.block_number) + ' blocks)':<48} "
            f"{(time.perf_counter() - started) * 1000:8.1f} ms"
        )

        def lookup_ms() -> float:
            started = time.perf_counter()
            for _ in range(200):
                chain.rpc("eth_getTransactionReceipt", [early])
            return (time.perf_counter() - started) / 200 * 1000

        small = lookup_ms()
        chain.mine(5000)
        big = lookup_ms()
        print(f"{'receipt look-up at ~1,200 / ~6,200 blocks':<48} {small:6.2f} / {big:.2f} ms")
        chain.close()


if __name__ == "__main__":
    main()
