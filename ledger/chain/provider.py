"""A web3.py provider that talks to an :class:`EmbeddedChain` in the same process."""

from __future__ import annotations

import itertools
import json
from typing import Any, cast

from web3._utils.encoding import Web3JsonEncoder
from web3.providers import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from ledger.chain.embedded import EmbeddedChain, RPCError

__all__ = ["EmbeddedProvider"]


class EmbeddedProvider(BaseProvider):
    """Answers web3.py requests from ``chain.rpc``, shaped exactly like an HTTP node.

    Parameters go through the same JSON encoding an HTTP request would (so bytes,
    HexBytes and ints arrive as they would over the wire), and an :class:`RPCError`
    becomes a JSON-RPC error object: web3.py then raises the same exceptions
    (``ContractLogicError``, ``ContractCustomError`` with the revert data, ...) as it
    does against geth or anvil.
    """

    def __init__(self, chain: EmbeddedChain, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chain = chain
        self._ids = itertools.count()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request_id = next(self._ids)
        wire_params = json.loads(json.dumps(params or [], cls=Web3JsonEncoder))
        try:
            result = self.chain.rpc(str(method), wire_params)
        except RPCError as exc:
            return cast(RPCResponse, {"jsonrpc": "2.0", "id": request_id, "error": exc.to_json()})
        return cast(RPCResponse, {"jsonrpc": "2.0", "id": request_id, "result": result})

    def is_connected(self, show_traceback: bool = False) -> bool:
        return not self.chain.closed
