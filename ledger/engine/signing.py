"""Signing legacy (EIP-155) transactions on the hot path.

`eth_account.Account.sign_transaction` validates and reformats its dict field by field and
costs about 1.4 ms per transaction here, most of a pipelined settlement's client time. The
transactions this client sends are all of one shape (legacy, EIP-155, gas price given), so
they are RLP-encoded directly (pyrlp) and signed with libsecp256k1 (coincurve): RFC 6979
nonces and low-s signatures, as eth-account makes them, so the bytes are identical — a
property test compares the two on random transactions.
"""

from __future__ import annotations

from typing import Any

import rlp
from coincurve import PrivateKey
from eth_utils import keccak, to_canonical_address


class LegacySigner:
    """Signs legacy transactions for one key and chain."""

    def __init__(self, private_key: bytes, chain_id: int) -> None:
        self._key = PrivateKey(bytes(private_key))
        self._chain_id = chain_id

    def sign(self, tx: dict[str, Any]) -> tuple[bytes, bytes]:
        """(raw transaction, its hash) for a dict with nonce, gasPrice, gas, to, value, data."""
        to = tx.get("to")
        data = tx.get("data") or b""
        fields = [
            int(tx["nonce"]),
            int(tx["gasPrice"]),
            int(tx["gas"]),
            to_canonical_address(to) if to else b"",
            int(tx.get("value", 0)),
            bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data),
        ]
        digest = keccak(rlp.encode([*fields, self._chain_id, 0, 0]))
        signature = self._key.sign_recoverable(digest, hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        v = self._chain_id * 2 + 35 + signature[64]
        raw = rlp.encode([*fields, v, r, s])
        return raw, keccak(raw)
