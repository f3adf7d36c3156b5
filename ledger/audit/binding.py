"""How an audit entry is bound to its business event, and the hash that binds them.

An entry of kind K is bound to an event E of contract C (`ledger.audit.kinds`): its
`dataHash` is `keccak256(abi.encode(E's fields in declaration order))`. A log carries the
indexed fields as topics and the rest ABI-encoded in `data`, so the encoding of all fields
is rebuilt from the two without decoding: topics and static words go to the head in
declaration order, dynamic fields' offsets move by the indexed fields' head words, and
the tail is `data`'s tail unchanged. That is a join and one hash per entry — decoding
and re-encoding with eth_abi would cost ~50× more, and verification speed matters.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.audit.kinds import AUDIT_KINDS
from ledger.solidity import artifacts

try:  # pysha3 (a py-evm dependency) hashes about 3× faster per call than eth_hash
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # pragma: no cover - fallback when pysha3 is absent
    from Crypto.Hash.keccak import new as _new_keccak

    def _keccak_256(data: bytes = b"") -> Any:
        return _new_keccak(digest_bits=256, data=data)


def keccak(data: bytes) -> bytes:
    return bytes(_keccak_256(data).digest())


Keccak = _keccak_256

# A head op: ("t", topic index) | ("w", data word index) | ("o", data word index of an offset)
HeadOp = tuple[str, int]
# A run of the head: ("t", first, end) topics | ("w", first, end) data words | ("o", word, 0)
Run = tuple[str, int, int]


@dataclass(frozen=True)
class Binding:
    """What an entry kind is bound to.

    Attributes:
        kind: the kind's name, e.g. ``LOAN_SETTLED``.
        kind_hash: keccak256 of the name, as it appears in the entry.
        contract: the contract that emits the event and appends the entry.
        event: the event's name.
        abi: the event's ABI entry.
        topic0: the event's signature hash.
        topics: how many topics its logs carry (signature + indexed fields).
        plain_words: head words of the non-indexed fields in `data`.
        head: how to rebuild the full encoding's head; None when the event has a field
            this fast path does not cover (then eth_abi decodes and re-encodes).
        plain: the indexed fields come first and nothing is dynamic, so the encoding is
            the topics after the first, then `data` as it is (most events).
    """

    kind: str
    kind_hash: bytes
    contract: str
    event: str
    abi: dict[str, Any]
    topic0: bytes
    topics: int
    plain_words: int
    head: tuple[HeadOp, ...] | None
    plain: bool = False
    runs: tuple[Run, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.contract}.{self.event}"


def _is_dynamic(param: dict[str, Any]) -> bool:
    typ = str(param["type"])
    if typ in ("bytes", "string") or typ.endswith("[]"):
        return True
    if typ.startswith("tuple"):
        return typ.endswith("]") or any(_is_dynamic(c) for c in param["components"])
    return False


def _one_word(param: dict[str, Any]) -> bool:
    typ = str(param["type"])
    return not typ.startswith("tuple") and not typ.endswith("]")


def _head_plan(inputs: list[dict[str, Any]]) -> tuple[HeadOp, ...] | None:
    ops: list[HeadOp] = []
    topic, word = 1, 0
    for param in inputs:
        if param["indexed"]:
            if _is_dynamic(param) or not _one_word(param):
                return None  # an indexed dynamic field is only a hash in its topic
            ops.append(("t", topic))
            topic += 1
        elif _is_dynamic(param):
            ops.append(("o", word))
            word += 1
        elif _one_word(param):
            ops.append(("w", word))
            word += 1
        else:
            return None
    return tuple(ops)


def _indexed_first_static(head: tuple[HeadOp, ...]) -> bool:
    ops = [op for op, _ in head]
    return "o" not in ops and ops == sorted(ops, key=lambda op: op != "t")


def _runs(head: tuple[HeadOp, ...]) -> tuple[Run, ...]:
    """Consecutive topics or data words as one slice each: fewer steps per entry."""
    runs: list[Run] = []
    for op, i in head:
        if op != "o" and runs and runs[-1][0] == op and runs[-1][2] == i:
            runs[-1] = (op, runs[-1][1], i + 1)
        else:
            runs.append((op, i, i + 1 if op != "o" else 0))
    return tuple(runs)


def topic0(abi: dict[str, Any]) -> bytes:
    types = ",".join(artifacts._canonical_type(i) for i in abi["inputs"])
    return keccak(f"{abi['name']}({types})".encode())


def event_abi(contract: str, event: str) -> dict[str, Any]:
    for e in artifacts.load(contract).abi:
        if e.get("type") == "event" and e["name"] == event:
            return e
    raise KeyError(f"{contract}.{event}")


@functools.cache
def bindings() -> dict[bytes, Binding]:
    """kind hash → its binding, for every kind of `ledger.audit.kinds`."""
    table: dict[bytes, Binding] = {}
    for kind, (contract, event) in AUDIT_KINDS.items():
        abi = event_abi(contract, event)
        inputs = abi["inputs"]
        head = _head_plan(inputs)
        table[keccak(kind.encode())] = Binding(
            kind=kind,
            kind_hash=keccak(kind.encode()),
            contract=contract,
            event=event,
            abi=abi,
            topic0=topic0(abi),
            topics=1 + sum(1 for i in inputs if i["indexed"]),
            plain_words=sum(1 for i in inputs if not i["indexed"]),
            head=head,
            plain=head is not None and _indexed_first_static(head),
            runs=() if head is None else _runs(head),
        )
    return table


@functools.cache
def by_name() -> dict[str, Binding]:
    return {b.kind: b for b in bindings().values()}


def kind_label(kind: bytes) -> str:
    """A kind's name, or its hash as 0x-hex when no binding knows it."""
    b = bindings().get(kind)
    return "0x" + kind.hex() if b is None else b.kind


def data_hash(b: Binding, topics: Sequence[bytes], data: bytes) -> bytes | None:
    """The `dataHash` a log of `b`'s event gives, or None when the log is malformed."""
    if len(topics) != b.topics or len(data) < 32 * b.plain_words:
        return None
    if b.plain:
        return bytes(_keccak_256(b"".join(topics[1:]) + data).digest())
    if b.head is None:
        return _slow_data_hash(b, topics, data)
    shift = 32 * (b.topics - 1)
    parts: list[bytes] = []
    for op, i, end in b.runs:
        if op == "t":
            parts.extend(topics[i:end])
        elif op == "w":
            parts.append(data[32 * i : 32 * end])
        else:
            offset = int.from_bytes(data[32 * i : 32 * i + 32], "big") + shift
            if offset >= 1 << 256:
                return None
            parts.append(offset.to_bytes(32, "big"))
    parts.append(data[32 * b.plain_words :])
    return bytes(_keccak_256(b"".join(parts)).digest())


def _slow_data_hash(b: Binding, topics: Sequence[bytes], data: bytes) -> bytes | None:
    from eth_abi import encode

    try:
        values = decode_values(b, topics, data)
    except Exception:
        return None
    types = [artifacts._canonical_type(i) for i in b.abi["inputs"]]
    return keccak(encode(types, [values[i["name"]] for i in b.abi["inputs"]]))


def decode_values(b: Binding, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
    """The event's fields by name, decoded with eth_abi (raises on a malformed log)."""
    from eth_abi import decode

    inputs = b.abi["inputs"]
    indexed = [i for i in inputs if i["indexed"]]
    plain = [i for i in inputs if not i["indexed"]]
    values: dict[str, Any] = {}
    for param, topic in zip(indexed, topics[1:], strict=True):
        values[param["name"]] = decode([artifacts._canonical_type(param)], topic)[0]
    decoded = decode([artifacts._canonical_type(i) for i in plain], data, strict=True)
    for param, value in zip(plain, decoded, strict=True):
        values[param["name"]] = value
    return values


def _plain(value: Any) -> Any:
    """A decoded ABI value as JSON: bytes as 0x-hex, tuples as lists, ints as ints."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        from eth_utils import to_checksum_address

        return to_checksum_address(value)
    return value


def readable_fields(b: Binding, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
    """The event's fields, JSON-ready, in declaration order."""
    values = decode_values(b, topics, data)
    return {i["name"]: _plain(values[i["name"]]) for i in b.abi["inputs"]}
