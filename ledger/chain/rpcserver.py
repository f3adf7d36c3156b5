"""Serve an :class:`EmbeddedChain` over HTTP JSON-RPC 2.0 (what ``liandai node`` runs)."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import TYPE_CHECKING, Any

from ledger.chain.embedded import EmbeddedChain
from ledger.chain.jsonrpc import INVALID_REQUEST, MAX_BODY, error_reply, handle_payload

if TYPE_CHECKING:
    from ledger.chain.wsserver import WSServer

__all__ = ["RPCServer", "handle_payload", "run_until_signal", "serve"]

_log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive: web3's HTTPProvider reuses connections (much faster).
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: without this, Nagle plus delayed ACKs
    # add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: RPCServer

    def do_POST(self) -> None:
        with self.server.track_request():
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self._reply(413, error_reply(None, INVALID_REQUEST, "request too large"))
                return
            body = self.rfile.read(length)
            reply = handle_payload(self.server.chain, body)
            if reply is None:  # notifications only: no JSON-RPC reply, an empty HTTP one
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._reply(200, reply)

    def do_GET(self) -> None:
        self._reply(405, error_reply(None, INVALID_REQUEST, "use POST for JSON-RPC"))

    def _reply(self, status: int, value: Any) -> None:
        data = json.dumps(value, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s - " + format, self.address_string(), *args)


class RPCServer(ThreadingHTTPServer):
    """Threaded HTTP server; the chain serialises calls with its own lock."""

    daemon_threads = True  # idle keep-alive connections must not block exit

    def __init__(self, chain: EmbeddedChain, host: str = "127.0.0.1", port: int = 8545) -> None:
        self.chain = chain
        # Websocket upgrades on this port go here (set by `serve`), as anvil does.
        self.ws: WSServer | None = None
        self._active = 0
        self._idle = threading.Condition()
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        ws = self.ws
        if ws is not None and _upgrade(request):
            ws.handle_socket(request, client_address)
            return
        super().finish_request(request, client_address)

    def track_request(self) -> _Tracker:
        return _Tracker(self)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being answered (their replies are written)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)


def _upgrade(sock: Any) -> bool:
    from ledger.chain.wsserver import is_websocket_upgrade

    return is_websocket_upgrade(sock)


class _Tracker:
    def __init__(self, server: RPCServer) -> None:
        self._server = server

    def __enter__(self) -> None:
        with self._server._idle:
            self._server._active += 1

    def __exit__(self, *exc: object) -> None:
        with self._server._idle:
            self._server._active -= 1
            self._server._idle.notify_all()


def serve(
    chain: EmbeddedChain,
    host: str = "127.0.0.1",
    port: int = 8545,
    ready: Callable[[str], None] | None = None,
    *,
    stop: threading.Event | None = None,
    ws_port: int | None = None,
    ws_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``chain`` until ``stop`` is set (or KeyboardInterrupt), then close it.

    ``serve`` owns the chain from here on: it is closed however this returns (even if
    the port cannot be bound). Port 0 picks a free port; ``ready(url)`` is called once
    listening. The same port takes websocket connections (``eth_subscribe``), as anvil
    does; ``ws_port`` opens a websocket-only port too (geth's 8546), announced through
    ``ws_ready(url)`` before ``ready``. On the way out the in-flight request finishes,
    then the chain is closed (its lock released): every mined block is already
    committed, so nothing is lost.
    """
    from ledger.chain.wsserver import WSServer

    try:
        server = RPCServer(chain, host, port)
        try:
            server.ws = WSServer(chain, host, ws_port)
        except BaseException:
            server.server_close()
            raise
    except BaseException:
        chain.close()
        raise
    ws = server.ws
    threading.Thread(target=ws.serve_forever, name="ws-serve", daemon=True).start()
    if stop is not None:

        def watch() -> None:
            stop.wait()
            server.shutdown()  # returns once serve_forever has stopped

        threading.Thread(target=watch, name="rpc-stop", daemon=True).start()
    try:
        if ws.url is not None and ws_ready is not None:
            ws_ready(ws.url)
        if ready is not None:
            ready(server.url)
        server.serve_forever(poll_interval=0.2)
    finally:
        ws.shutdown()
        server.server_close()
        chain.close()  # waits (chain lock) for a call in progress, then closes
        server.wait_idle(timeout=5.0)


def run_until_signal(
    chain: EmbeddedChain,
    host: str = "127.0.0.1",
    port: int = 8545,
    ready: Callable[[str], None] | None = None,
    signals: Iterable[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
    *,
    ws_port: int | None = None,
    ws_ready: Callable[[str], None] | None = None,
) -> None:
    """:func:`serve` until SIGINT or SIGTERM, then return normally (main thread only)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in signals}
    try:
        serve(chain, host, port, ready, stop=stop, ws_port=ws_port, ws_ready=ws_ready)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
