"""A writer process for durability tests: pays 1 fen per transaction, printing each mined one.

usage: python -m tests.ledger.writer HOME COUNT
Each line printed is `<tx hash> <block>` and is printed only after the receipt arrived,
so every printed transaction is one the chain reported mined.
"""

from __future__ import annotations

import sys

from ledger.engine.client import Ledger
from ledger.home import Home


def main() -> None:
    home, count = Home.at(sys.argv[1]), int(sys.argv[2])
    with Ledger.open(home, signer="core") as ledger:
        to = ledger.resolve("supplier1")
        print("ready", flush=True)
        for _ in range(count):
            sent = ledger.transfer(to, 1)
            print(sent.tx, sent.block, flush=True)


if __name__ == "__main__":
    main()
