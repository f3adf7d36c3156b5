"""`liandai node`: serve the home's embedded chain over JSON-RPC until a signal.

While it runs it holds the chain's lock, and `<home>/node.json` tells other liandai
commands on this home where to send their requests instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

from ledger.chain.backend import EMBEDDED_CHAIN_ID
from ledger.errors import ChainUnavailable, NotInitialised
from ledger.home import Home, write_json_atomic


def run_node(home: Home, port: int, on_ready: Callable[[str], None]) -> None:
    from ledger.chain.embedded import ChainBusyError, EmbeddedChain
    from ledger.chain.rpcserver import run_until_signal

    if not home.chain_file.exists():
        raise NotInitialised(f"no chain in {home.root}: run `liandai init` first")
    try:
        chain = EmbeddedChain.open(home.chain_file, chain_id=EMBEDDED_CHAIN_ID, lock_timeout=1.0)
    except ChainBusyError as exc:
        raise ChainUnavailable(str(exc)) from None

    def ready(url: str) -> None:
        write_json_atomic(home.node_file, {"url": url, "pid": os.getpid()})
        on_ready(url)

    try:
        run_until_signal(chain, "127.0.0.1", port, ready)
    except OSError as exc:
        raise ChainUnavailable(f"cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            home.node_file.unlink()
