"""The JSON-RPC 2.0 envelope: one request or a batch in, the replies out (HTTP and
websocket alike). Notifications (no ``id``) get no reply."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from ledger.chain.embedded import EmbeddedChain, RPCError

__all__ = ["MAX_BODY", "Handler", "error_reply", "handle_payload"]

_log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
MAX_BODY = 32 * 1024 * 1024


def error_reply(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


Handler = Callable[[str, list[Any]], Any]


def _handle_one(call: Handler, request: Any) -> dict[str, Any] | None:
    """The reply to one request; ``None`` for a notification (no ``id`` member), which
    JSON-RPC 2.0 says gets no reply, even when it fails."""
    if not isinstance(request, dict):
        return error_reply(None, INVALID_REQUEST, "invalid request")
    notification = "id" not in request
    request_id = request.get("id")
    method = request.get("method")
    if not isinstance(method, str):
        return (
            None
            if notification
            else error_reply(request_id, INVALID_REQUEST, "invalid request: no method")
        )
    params = request.get("params")
    if params is None:
        params = []
    if not isinstance(params, list):
        if notification:
            return None
        return error_reply(request_id, INVALID_PARAMS, "invalid params: expected an array")
    try:
        result = call(method, params)
    except RPCError as exc:
        reply = {"jsonrpc": "2.0", "id": request_id, "error": exc.to_json()}
    except Exception as exc:  # the server must answer, whatever happens
        _log.exception("error serving %s", method)
        reply = error_reply(request_id, INTERNAL_ERROR, f"internal error: {exc!r}")
    else:
        reply = {"jsonrpc": "2.0", "id": request_id, "result": result}
    return None if notification else reply


def handle_payload(chain: EmbeddedChain | Handler, body: bytes | str) -> Any:
    """Answer one HTTP body (or websocket message): a JSON-RPC request or a batch.

    Returns the JSON value, or ``None`` when nothing is to be sent back (a notification,
    or a batch of notifications only)."""
    call = chain.rpc if isinstance(chain, EmbeddedChain) else chain
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return error_reply(None, PARSE_ERROR, "parse error")
    if isinstance(payload, list):
        if not payload:
            return error_reply(None, INVALID_REQUEST, "empty batch")
        replies = [r for r in (_handle_one(call, request) for request in payload) if r is not None]
        return replies or None
    return _handle_one(call, payload)
