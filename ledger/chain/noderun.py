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


def start_detached(home: Home, port: int, timeout: float = 60.0) -> dict[str, object]:
    """Start `liandai node` for `home` in the background and wait until it serves.

    Its output goes to `<home>/node.log`; returns the node's {"url", "pid"}.
    """
    import subprocess
    import sys
    import time

    from ledger.chain.backend import running_node

    if not home.chain_file.exists():
        raise NotInitialised(f"no chain in {home.root}: run `liandai init` first")
    running = running_node(home)
    if running is not None:
        raise ChainUnavailable(
            f"a node already serves {home.root} at {running['url']} (pid {running['pid']})"
        )
    log = home.root / "node.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "--home",
                str(home.root),
                "node",
                "--port",
                str(port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in this terminal does not reach it
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = running_node(home)
        if info is not None and int(info["pid"]) == proc.pid:
            return info
        if proc.poll() is not None:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            why = lines[-1].removeprefix("liandai: ") if lines else f"exit {proc.returncode}"
            raise ChainUnavailable(f"the node did not start: {why}")
        time.sleep(0.05)
    proc.terminate()
    raise ChainUnavailable(f"the node did not start within {timeout:.0f} s (see {log})")


def stop_node(home: Home, timeout: float = 30.0) -> int:
    """Stop this home's running node (SIGTERM: it saves and exits); return its pid."""
    import signal
    import time

    from ledger.chain.backend import running_node

    info = running_node(home)
    if info is None:
        raise ChainUnavailable(f"no node is serving {home.root}")
    pid = int(info["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
        time.sleep(0.05)
    raise ChainUnavailable(f"the node (pid {pid}) did not stop within {timeout:.0f} s")
