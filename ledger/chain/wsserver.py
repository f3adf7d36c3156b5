"""JSON-RPC over a websocket for an :class:`EmbeddedChain`, with ``eth_subscribe``.

Every method the HTTP endpoint answers is answered here too (same handler). On top,
``eth_subscribe("newHeads")`` and ``eth_subscribe("logs", {address, topics})`` push an
``eth_subscription`` notification for each block mined (each matching log), as geth
does; ``eth_unsubscribe`` ends one. The chain hands each new header to a queue; one
dispatcher thread turns it into notifications, so mining never waits for a client.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eth.abc import BlockHeaderAPI
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from ledger.chain.embedded import INVALID_PARAMS, EmbeddedChain, RPCError
from ledger.chain.jsonrpc import MAX_BODY, handle_payload

__all__ = ["WSServer", "is_websocket_upgrade"]

_log = logging.getLogger(__name__)
SUBSCRIPTION_KINDS = ("newHeads", "logs")


@dataclass
class _Subscription:
    connection: ServerConnection
    kind: str
    query: dict[str, Any] = field(default_factory=dict)


class WSServer:
    """Websocket JSON-RPC for ``chain``.

    With a ``port`` (0: a free one) it listens there (run :meth:`serve_forever`); without,
    it only serves the connections handed to :meth:`handle_socket`: the HTTP server
    passes it the upgrade requests on its own port, as anvil serves both on one port.
    """

    def __init__(
        self, chain: EmbeddedChain, host: str = "127.0.0.1", port: int | None = None
    ) -> None:
        self.chain = chain
        self._listening = port is not None
        if port is None:
            # No listener of its own: a placeholder socket that is never bound.
            placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._server: Server = serve(
                self._handle, sock=placeholder, compression=None, max_size=MAX_BODY
            )
        else:
            self._server = serve(self._handle, host, port, compression=None, max_size=MAX_BODY)
        self._subs: dict[str, _Subscription] = {}
        self._pending: dict[str, _Subscription] = {}
        self._lock = threading.Lock()
        self._heads: queue.Queue[BlockHeaderAPI | None] = queue.Queue()
        chain.add_block_listener(self._heads.put)
        self._dispatcher = threading.Thread(target=self._dispatch, name="ws-dispatch", daemon=True)
        self._dispatcher.start()

    @property
    def url(self) -> str | None:
        """The URL of its own port; ``None`` when it only serves handed-over sockets."""
        if not self._listening:
            return None
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}"

    def serve_forever(self) -> None:
        if self._listening:
            self._server.serve_forever()

    def handle_socket(self, sock: socket.socket, address: Any) -> None:
        """Serve one connection whose upgrade request is still unread (only peeked at):
        the handshake, then JSON-RPC until it closes. Blocks until then."""
        self._server.handler(sock, address)

    def shutdown(self) -> None:
        """Stop listening, close every connection, stop the dispatcher."""
        self.chain.remove_block_listener(self._heads.put)
        if not self._listening:
            self._server.socket_closed.set()  # no serve_forever to say its socket closed
        self._server.shutdown()
        # Connections handed over by the HTTP server run in its threads, which websockets'
        # shutdown does not wait for: close them here (code 1001, going away).
        with self._server.lock:
            handed_over = list(self._server.all_connections)
        for connection in handed_over:
            with contextlib.suppress(Exception):
                connection.close(1001)
        self._heads.put(None)
        self._dispatcher.join(5)

    # ------------------------------------------------------------------ connections

    def _handle(self, connection: ServerConnection) -> None:
        try:
            for message in connection:
                started: list[str] = []

                def call(method: str, params: list[Any], started: list[str] = started) -> Any:
                    return self._call(connection, method, params, started)

                reply = handle_payload(call, message)
                if reply is not None:
                    connection.send(json.dumps(reply, separators=(",", ":")))
                with self._lock:  # live only once the client holds the id
                    for sub_id in started:
                        self._subs[sub_id] = self._pending.pop(sub_id)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                for sub_id in [k for k, s in self._subs.items() if s.connection is connection]:
                    del self._subs[sub_id]

    def _call(
        self, connection: ServerConnection, method: str, params: list[Any], started: list[str]
    ) -> Any:
        if method == "eth_subscribe":
            kind = params[0] if params else None
            if kind not in SUBSCRIPTION_KINDS:
                raise RPCError(INVALID_PARAMS, f"unsupported subscription {kind!r}")
            query: dict[str, Any] = {}
            if kind == "logs":
                given = params[1] if len(params) > 1 else {}
                if not isinstance(given, dict):
                    raise RPCError(INVALID_PARAMS, "invalid argument 1: expected a filter object")
                query = {k: given[k] for k in ("address", "topics") if given.get(k) is not None}
                # A bad address or topic is refused now, not when the first block comes.
                head = self.chain.rpc("eth_getBlockByNumber", ["latest", False])
                self.chain.rpc("eth_getLogs", [{**query, "blockHash": head["hash"]}])
            sub_id = "0x" + os.urandom(16).hex()
            with self._lock:
                self._pending[sub_id] = _Subscription(connection, kind, query)
            started.append(sub_id)
            return sub_id
        if method == "eth_unsubscribe":
            given = params[0] if params else None
            with self._lock:
                found = self._subs.get(given) if isinstance(given, str) else None
                if found is None or found.connection is not connection:
                    return False
                del self._subs[str(given)]
            return True
        return self.chain.rpc(method, params)

    # ------------------------------------------------------------------ notifications

    def _dispatch(self) -> None:
        while True:
            header = self._heads.get()
            if header is None:
                return
            with self._lock:
                subs = list(self._subs.items())
            if not subs:
                continue
            try:
                self._notify(header, subs)
            except RPCError:  # the chain closed under us: nothing more to tell
                return
            except Exception:
                _log.exception("websocket notification failed")

    def _notify(self, header: BlockHeaderAPI, subs: list[tuple[str, _Subscription]]) -> None:
        head: dict[str, Any] | None = None
        block_hash = "0x" + bytes(header.hash).hex()
        for sub_id, sub in subs:
            if sub.kind == "newHeads":
                head = head or self.chain.head_json(header)
                results: list[Any] = [head]
            else:
                results = self.chain.rpc("eth_getLogs", [{**sub.query, "blockHash": block_hash}])
            for result in results:
                message = {
                    "jsonrpc": "2.0",
                    "method": "eth_subscription",
                    "params": {"subscription": sub_id, "result": result},
                }
                try:
                    sub.connection.send(json.dumps(message, separators=(",", ":")))
                except ConnectionClosed:
                    break


def is_websocket_upgrade(sock: socket.socket, timeout: float = 10.0) -> bool:
    """Whether the first request on a fresh connection asks for a websocket, read with
    MSG_PEEK so that whichever server takes the connection still reads all of it."""
    previous = sock.gettimeout()
    sock.settimeout(timeout)
    try:
        data = b""
        for _ in range(100):  # the request head, at most ~1 s of waiting for the rest
            data = sock.recv(16_384, socket.MSG_PEEK)
            if not data or (len(data) >= 4 and not data.startswith(b"GET ")):
                return False  # closed, or not a GET: JSON-RPC over HTTP is a POST
            if b"\r\n\r\n" in data or len(data) >= 16_384:
                break
            time.sleep(0.01)
        headers = data.split(b"\r\n\r\n", 1)[0].lower()
        return b"\r\nupgrade: websocket" in headers or b"\r\nupgrade:websocket" in headers
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(previous)
