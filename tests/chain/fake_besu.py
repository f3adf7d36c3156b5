"""A small stand-in for Besu's account permissioning JSON-RPC (Besu itself cannot run here).

A real HTTP server on loopback answering `perm_getAccountsAllowlist`,
`perm_addAccountsToAllowlist` and `perm_removeAccountsFromAllowlist` with Besu's results
and Besu's errors (code -32000: an empty, invalid or duplicated request, adding an
existing account, removing an absent one). Like Besu, a change is written back to the
permissioning file's `accounts-allowlist`, and the file is read at start.
"""

from __future__ import annotations

import json
import re
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ERRORS = {
    "empty": "Request contains an empty list of accounts",
    "invalid": "Request contains an invalid account",
    "duplicate": "Request contains duplicate accounts",
    "existing": "Cannot add an existing account to allowlist",
    "absent": "Cannot remove an absent account from allowlist",
}


class FakeBesu(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, config: Path) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.calls: list[tuple[str, list[Any]]] = []
        text = config.read_text(encoding="utf-8") if config.exists() else ""
        self.allowlist: list[str] = list(tomllib.loads(text).get("accounts-allowlist", []))
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, method: str, params: list[Any]) -> Any:
        with self.lock:
            self.calls.append((method, params))
            if method == "perm_getAccountsAllowlist":
                return list(self.allowlist)
            if method not in ("perm_addAccountsToAllowlist", "perm_removeAccountsFromAllowlist"):
                raise _Error(-32601, "Method not found")
            accounts = params[0] if params and isinstance(params[0], list) else None
            if not accounts:
                raise _Error(-32000, ERRORS["empty"])
            if not all(isinstance(a, str) and _ADDRESS.match(a) for a in accounts):
                raise _Error(-32000, ERRORS["invalid"])
            lowered = [a.lower() for a in accounts]
            if len(set(lowered)) != len(lowered):
                raise _Error(-32000, ERRORS["duplicate"])
            have = [a.lower() for a in self.allowlist]
            if method == "perm_addAccountsToAllowlist":
                if any(a in have for a in lowered):
                    raise _Error(-32000, ERRORS["existing"])
                self.allowlist += accounts
            else:
                if any(a not in have for a in lowered):
                    raise _Error(-32000, ERRORS["absent"])
                self.allowlist = [a for a in self.allowlist if a.lower() not in lowered]
            self._write_back()
            return "Success"

    def _write_back(self) -> None:
        # Besu rewrites the key in its file; other keys (nodes-allowlist) stay.
        text = self.config.read_text(encoding="utf-8") if self.config.exists() else ""
        keys = tomllib.loads(text)
        keys["accounts-allowlist"] = self.allowlist
        lines = [f"{k}={json.dumps(v)}" for k, v in keys.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


class _Error(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    server: FakeBesu

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": body.get("id")}
        try:
            reply["result"] = self.server.answer(body["method"], body.get("params") or [])
        except _Error as exc:
            reply["error"] = {"code": exc.code, "message": exc.message}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def fake_besu(config: Path) -> Iterator[FakeBesu]:
    server = FakeBesu(config)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
