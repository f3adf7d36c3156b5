"""Child process for the kill -9 test (run with ``python -m tests.chain.chain_writer``).

Opens the chain at argv[1] and sends argv[2] transactions from ALICE (value transfers
mixed with contract deployments), printing ``<tx hash> <block number>`` for each one
only after it has been mined and committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.chain.embedded import EmbeddedChain
from tests.chain.helpers import ALICE, ALLOC, CAROL_ADDRESS, STORE_INIT, nonce_of, sign


def main() -> None:
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    chain = EmbeddedChain.open(path, genesis_alloc=ALLOC)
    print(f"open {chain.block_number}", flush=True)
    nonce = nonce_of(chain, ALICE.address)
    for i in range(count):
        if i % 3 == 2:
            raw = sign(ALICE, nonce, data=STORE_INIT, gas=300_000)
        else:
            raw = sign(ALICE, nonce, to=CAROL_ADDRESS, value=1, gas=21_000)
        tx_hash = chain.rpc("eth_sendRawTransaction", [raw])
        # One write per line: with PYTHONUNBUFFERED, print() would emit the pieces in
        # separate syscalls and a kill could land between them.
        sys.stdout.write(f"{tx_hash} {chain.block_number}\n")
        sys.stdout.flush()
        nonce += 1
    chain.close()


if __name__ == "__main__":
    main()
