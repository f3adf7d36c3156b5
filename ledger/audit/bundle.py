"""An exported trail: a self-contained JSON-lines bundle that verifies offline.

Line 1 is the header (an object): format, chain id, network, contract addresses, the head
(`seq`, `entryHash`) and block it was read at, every published checkpoint, the Merkle
tree's hashing, and the column names of the entry lines. Each further line is one entry
as a JSON array, in `seq` order:

    [seq, kind, actor, subject, dataHash, at, prevHash, entryHash, block, tx, logIndex,
     [eventAddress, [topics…], eventData, eventLogIndex]]

`kind` is the kind's name (its keccak-256 is the on-chain value; an unknown kind is
written as 0x-hex), `subject` a decimal string, the event the raw log the entry binds
(null when the chain held none). Arrays, not objects: a line parses in about half the
time, and at a million lines parsing is most of the cost.

Offline verification rebuilds everything the chain verifier checks except what only a
node can show: that the blocks and transactions named are on the chain. The head and
checkpoint roots are what a reader compares with the chain or a notarised copy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.audit.binding import kind_label
from ledger.audit.merkle import HASH_NAME
from ledger.audit.trail import (
    chain_entries,
    chain_head,
    checkpoints,
)
from ledger.errors import BadInput, Refused

if TYPE_CHECKING:
    from ledger.engine.client import Ledger

FORMAT = "liandai-audit-bundle/1"
COLUMNS = [
    "seq",
    "kind",
    "actor",
    "subject",
    "data_hash",
    "at",
    "prev_hash",
    "entry_hash",
    "block",
    "tx",
    "log_index",
    "event",
]
EVENT_COLUMNS = ["address", "topics", "data", "log_index"]
TREE = {
    "rfc": "RFC 9162 §2.1",
    "hash": HASH_NAME,
    "leaf": "sha256(0x00 || entryHash)",
    "node": "sha256(0x01 || left || right)",
}
# Progress is reported every this many entries: a callback per entry would cost more than
# verifying it.
PROGRESS_EVERY = 4_096
_PAD12 = b"\0" * 12

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Exported:
    """What `export` wrote.

    Attributes:
        path: the bundle.
        entries: entry lines written.
        head: the head at export (0x-hex).
        block: the block it was read at.
        size: the file's size in bytes.
    """

    path: Path
    entries: int
    head: str
    block: int
    size: int


def header(ledger: Ledger, block: int) -> dict[str, Any]:
    seq, head = chain_head(ledger, block)
    return {
        "format": FORMAT,
        "chain_id": ledger.deployment.chain_id,
        "network": ledger.deployment.network,
        "contracts": dict(ledger.deployment.contracts),
        "head": {"seq": seq, "entry_hash": "0x" + head.hex()},
        "block": block,
        "checkpoints": [
            {
                "size": c.size,
                "root": "0x" + c.root.hex(),
                "auditor": c.auditor,
                "block": c.block,
                "tx": c.tx,
            }
            for c in checkpoints(ledger, block)
        ],
        "tree": TREE,
        "columns": COLUMNS,
        "event_columns": EVENT_COLUMNS,
    }


def export(ledger: Ledger, path: Path, progress: Progress | None = None) -> Exported:
    """Write the whole trail, as the chain holds it at its latest block, to `path`."""
    block = int(ledger.chain.w3.eth.block_number)
    head = header(ledger, block)
    total = int(head["head"]["seq"])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as out:
            out.write(json.dumps(head, separators=(",", ":")) + "\n")
            for entry, event in chain_entries(ledger, ledger.deployment.start_block, block):
                row: list[Any] = [
                    entry.seq,
                    kind_label(entry.kind),
                    "0x" + entry.actor_word[12:].hex(),
                    str(entry.subject),
                    "0x" + entry.data_hash.hex(),
                    entry.at,
                    "0x" + entry.prev_hash.hex(),
                    "0x" + entry.entry_hash.hex(),
                    entry.block,
                    entry.tx,
                    entry.log_index,
                    None
                    if event is None
                    else [
                        event.address.lower(),
                        ["0x" + t.hex() for t in event.topics],
                        "0x" + event.data.hex(),
                        event.log_index,
                    ],
                ]
                out.write(json.dumps(row, separators=(",", ":")) + "\n")
                count += 1
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count, total)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise Refused(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Exported(path, count, str(head["head"]["entry_hash"]), block, path.stat().st_size)


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Header:
    """A bundle's first line, checked."""

    contracts: dict[str, str]
    head: tuple[int, bytes]
    checkpoints: dict[int, bytes]
    chain_id: int
    block: int


def read_header(line: str) -> Header:
    """Parse and check the header; BadInput when it is not one (nothing to verify)."""
    try:
        data = json.loads(line)
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
        contracts = {str(k): str(v) for k, v in data["contracts"].items()}
        for address in contracts.values():
            if len(bytes.fromhex(address[2:])) != 20:
                raise ValueError(f"{address} is not an address")
        head = (int(data["head"]["seq"]), _h32(data["head"]["entry_hash"]))
        published = {int(c["size"]): _h32(c["root"]) for c in data["checkpoints"]}
        return Header(contracts, head, published, int(data["chain_id"]), int(data["block"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"not an audit bundle: its header is unreadable ({exc})") from None


def _h32(text: Any) -> bytes:
    value = bytes.fromhex(str(text)[2:])
    if len(value) != 32:
        raise ValueError(f"{text} is not a 32-byte hash")
    return value


_fromhex = bytes.fromhex
_loads = json.loads


def row_args(line: str, kinds: dict[str, bytes]) -> tuple[Any, ...]:
    """One entry line → the arguments of `TrailCheck.add` (raises on a malformed line).

    Written for speed: this runs once per entry and parsing is most of the verifier's time.
    """
    seq, kind, actor, subject, data, at, prev, entry, _block, tx, _index, ev = _loads(line)
    if type(seq) is not int or type(at) is not int or type(subject) is not str:
        raise ValueError("seq and at must be integers, subject a decimal string")
    if type(tx) is not str:
        raise ValueError("tx must be a string")
    kind_hash = kinds.get(kind)
    if kind_hash is None:
        kind_hash = _fromhex(kind[2:]) if kind[:2] == "0x" else b"?" + kind.encode()
    actor_bytes = _fromhex(actor[2:])
    if len(actor_bytes) != 20:
        raise ValueError(f"{actor} is not an address")
    event = None
    if ev is not None:
        address, topics, payload, _ev_index = ev
        event = (
            _fromhex(address[2:]),
            [_fromhex(t[2:]) for t in topics],
            _fromhex(payload[2:]),
        )
    return (
        seq,
        kind_hash,
        _PAD12 + actor_bytes,
        int(subject),
        _fromhex(data[2:]),
        at,
        _fromhex(prev[2:]),
        _fromhex(entry[2:]),
        event,
        tx,
    )


MALFORMED = (ValueError, TypeError, AttributeError, IndexError, OverflowError, KeyError)


def malformed(expected: int, exc: BaseException) -> str:
    return f"the line after entry #{expected - 1} is not a well-formed entry ({exc})"
