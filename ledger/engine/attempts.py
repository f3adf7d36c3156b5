"""Refused attempts this home keeps: an `issue` of an already used document.

A refusal found by the simulation leaves no trace on the chain, so the home that tried keeps
the record (`<home>/alerts/refused.jsonl`); the supervision report and its alerts read it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.engine.client import Ledger
    from ledger.home import Home

REFUSED_FILE = Path("alerts") / "refused.jsonl"
# How far back the refusal hook looks for its own transaction mined-but-reverted.
LOOKBACK_BLOCKS = 16


def refused_path(home: Home) -> Path:
    return home.root / REFUSED_FILE


def record_refused_issue(
    ledger: Ledger,
    supplier: str,
    value_fen: int,
    maturity_at: int,
    doc_hash: bytes,
    existing: int,
) -> None:
    """Append one refused `issue` of a used document to the home's refusal log.

    Written where the client catches the refusal, so the attempt is kept even though
    nothing reached the chain. If the attempt was in fact mined and reverted (no
    simulation, or a race), its transaction is looked up in the latest blocks and noted,
    so the report counts it once. Never raises: the refusal itself is what the user sees.
    """
    try:
        w3 = ledger.chain.w3
        head = w3.eth.get_block("latest")
        sender = ledger.sender.address
        record = {
            "at": int(head["timestamp"]),
            "network": ledger.chain.network,
            "chain_id": ledger.chain.chain_id,
            "by": sender,
            "supplier": supplier,
            "value_fen": value_fen,
            "maturity_at": maturity_at,
            "doc_hash": "0x" + doc_hash.hex(),
            "existing": existing,
            "tx": _mined_attempt(ledger, int(head["number"]), sender, doc_hash),
        }
        path = refused_path(ledger.home)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps(record, sort_keys=True) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except Exception:  # the refusal matters more than its record
        return


def _mined_attempt(ledger: Ledger, head: int, sender: str, doc_hash: bytes) -> str | None:
    token = ledger.deployment.address("ReceivableToken").lower()
    w3 = ledger.chain.w3
    for number in range(head, max(ledger.deployment.start_block, head - LOOKBACK_BLOCKS), -1):
        block: Any = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            data = bytes(tx["input"])
            if (
                str(tx.get("to") or "").lower() == token
                and str(tx["from"]).lower() == sender.lower()
                and data[-32:] == doc_hash
                and int(w3.eth.get_transaction_receipt(tx["hash"])["status"]) == 0
            ):
                return "0x" + bytes(tx["hash"]).hex()
    return None


def read_refused(home: Home, network: str, chain_id: int) -> list[dict[str, Any]]:
    """The home's refused `issue` records for this chain, oldest first (bad lines skipped)."""
    path = refused_path(home)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("network") == network and record.get("chain_id") == chain_id:
            out.append(record)
    return out
