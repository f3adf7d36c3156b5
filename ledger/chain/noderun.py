"""`liandai node`: serve the home's embedded chain over JSON-RPC until a signal.

While it runs it holds the chain's lock, and `<home>/node.json` tells other liandai
commands on this home where to send their requests instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

from ledger.chain.backend import EMBEDDED_CHAIN_ID, adopt_permissioning
from ledger.errors import ChainUnavailable, NotInitialised
from ledger.home import Home, write_json_atomic


def run_node(
    home: Home,
    port: int,
    on_ready: Callable[[str], None],
    *,
    ws_port: int | None = None,
    on_ws_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the home's chain: HTTP and websocket on ``port``, and a websocket-only
    ``ws_port`` if given. ``<home>/node.json`` holds both URLs while it runs."""
    from ledger.chain.embedded import ChainBusyError, EmbeddedChain
    from ledger.chain.rpcserver import run_until_signal

    if not home.chain_file.exists():
        raise NotInitialised(f"no chain in {home.root}: run `liandai init` first")
    try:
        chain = EmbeddedChain.open(home.chain_file, chain_id=EMBEDDED_CHAIN_ID, lock_timeout=1.0)
    except ChainBusyError as exc:
        raise ChainUnavailable(str(exc)) from None
    adopt_permissioning(home, chain)

    ws_urls: list[str] = []

    def ws_ready(url: str) -> None:
        ws_urls.append(url)
        if on_ws_ready is not None:
            on_ws_ready(url)

    def ready(url: str) -> None:
        ws = ws_urls[0] if ws_urls else "ws://" + url.removeprefix("http://")
        info: dict[str, object] = {"url": url, "ws": ws, "pid": os.getpid()}
        write_json_atomic(home.node_file, info)
        on_ready(url)

    try:
        run_until_signal(chain, "127.0.0.1", port, ready, ws_port=ws_port, ws_ready=ws_ready)
    except OSError as exc:
        ports = f"{port}" if ws_port is None else f"{port} / {ws_port}"
        raise ChainUnavailable(f"cannot listen on 127.0.0.1:{ports} ({exc.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            home.node_file.unlink()
