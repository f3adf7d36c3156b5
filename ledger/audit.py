"""Verify the hash-chained audit trail (DESIGN §4.8) from chain data alone.

The verifier reads `AuditRecorded` logs and the business events of the suite's contracts
straight from the chain in block windows (memory stays flat in the trail's length),
recomputes every `entryHash`, checks the links and `seq` continuity, binds each
`dataHash` to the business event emitted in the same transaction, and compares the last
entry with the contract's `head()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from ledger import artifacts
from ledger.auditkinds import AUDIT_KINDS, kind_names

if TYPE_CHECKING:
    from ledger.client import Ledger

WINDOW_BLOCKS = 5_000
ZERO32 = b"\0" * 32


@dataclass(frozen=True)
class Entry:
    """One decoded `AuditRecorded` entry."""

    seq: int
    kind: bytes
    actor: str
    subject: int
    data_hash: bytes
    at: int
    prev_hash: bytes
    entry_hash: bytes
    block: int
    tx: str
    log_index: int

    @property
    def kind_name(self) -> str:
        return kind_names().get(self.kind, "0x" + self.kind.hex())


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification.

    Attributes:
        ok: every check passed.
        entries: entries checked.
        head: hash of the last entry checked (0x-hex).
        first_bad_seq: the first entry that failed, if any.
        problem: what is wrong with it.
    """

    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None


def entry_hash(
    prev_hash: bytes, seq: int, kind: bytes, actor: str, subject: int, data_hash: bytes, at: int
) -> bytes:
    return keccak(
        encode(
            ["bytes32", "uint64", "bytes32", "address", "uint256", "bytes32", "uint64"],
            [prev_hash, seq, kind, actor, subject, data_hash, at],
        )
    )


def _topic0(entry: dict[str, Any]) -> bytes:
    types = ",".join(artifacts._canonical_type(i) for i in entry["inputs"])
    return keccak(text=f"{entry['name']}({types})")


def _event_abi(contract: str, event: str) -> dict[str, Any]:
    for e in artifacts.load(contract).abi:
        if e.get("type") == "event" and e["name"] == event:
            return e
    raise KeyError(f"{contract}.{event}")


AUDIT_TOPIC = _topic0(_event_abi("AuditTrail", "AuditRecorded"))


def business_data_hash(event_abi: dict[str, Any], log: dict[str, Any]) -> bytes:
    """keccak256(abi.encode(all fields in declaration order)) of a raw log."""
    from eth_abi import decode

    inputs = event_abi["inputs"]
    topics = [bytes(t) for t in log["topics"]][1:]
    indexed = [i for i in inputs if i["indexed"]]
    plain = [i for i in inputs if not i["indexed"]]
    plain_values = decode([artifacts._canonical_type(i) for i in plain], bytes(log["data"]))
    by_name: dict[str, Any] = {}
    for i, topic in zip(indexed, topics, strict=True):
        by_name[i["name"]] = decode([artifacts._canonical_type(i)], topic)[0]
    for i, value in zip(plain, plain_values, strict=True):
        by_name[i["name"]] = value
    types = [artifacts._canonical_type(i) for i in inputs]
    return keccak(encode(types, [by_name[i["name"]] for i in inputs]))


def _decode_entry(log: dict[str, Any]) -> Entry:
    from eth_abi import decode

    topics = [bytes(t) for t in log["topics"]]
    subject, data_hash, at, prev_hash, e_hash = decode(
        ["uint256", "bytes32", "uint64", "bytes32", "bytes32"], bytes(log["data"])
    )
    return Entry(
        seq=int.from_bytes(topics[1], "big"),
        kind=topics[2],
        actor=to_checksum_address(topics[3][12:]),
        subject=int(subject),
        data_hash=bytes(data_hash),
        at=int(at),
        prev_hash=bytes(prev_hash),
        entry_hash=bytes(e_hash),
        block=int(log["blockNumber"]),
        tx="0x" + bytes(log["transactionHash"]).hex(),
        log_index=int(log["logIndex"]),
    )


def iter_logs(ledger: Ledger, to_block: int) -> Iterator[list[dict[str, Any]]]:
    """The suite's logs, one list per transaction, in chain order, read in windows."""
    addresses = list(ledger.deployment.contracts.values())
    start = ledger.deployment.start_block
    while start <= to_block:
        end = min(start + WINDOW_BLOCKS - 1, to_block)
        logs = ledger.chain.w3.eth.get_logs(
            {
                "address": addresses,  # type: ignore[typeddict-item]
                "fromBlock": start,
                "toBlock": end,
            }
        )
        group: list[dict[str, Any]] = []
        key: tuple[int, int] | None = None
        for log in logs:
            k = (int(log["blockNumber"]), int(log["transactionIndex"]))
            if key is not None and k != key:
                yield group
                group = []
            key = k
            group.append(dict(log))
        if group:
            yield group
        start = end + 1


def verify_trail(ledger: Ledger, progress: Callable[[int], None] | None = None) -> Verdict:
    """Verify the whole trail on the ledger's chain."""
    w3 = ledger.chain.w3
    to_block = int(w3.eth.block_number)
    head_seq, head_hash = (
        ledger.contract("AuditTrail").functions.head().call(block_identifier=to_block)
    )
    trail = ledger.deployment.address("AuditTrail").lower()
    by_addr = {a.lower(): n for n, a in ledger.deployment.contracts.items()}
    bindings = {
        name: (contract, _topic0(_event_abi(contract, event)), _event_abi(contract, event))
        for name, (contract, event) in AUDIT_KINDS.items()
    }
    expected_seq, prev = 1, ZERO32
    count = 0

    def bad(seq: int, problem: str) -> Verdict:
        return Verdict(False, count, "0x" + prev.hex(), seq, problem)

    for tx_logs in iter_logs(ledger, to_block):
        used: set[int] = set()
        for pos, log in enumerate(tx_logs):
            if log["address"].lower() != trail or bytes(log["topics"][0]) != AUDIT_TOPIC:
                continue
            e = _decode_entry(log)
            if e.seq != expected_seq:
                return bad(expected_seq, f"expected seq {expected_seq}, found {e.seq} (tx {e.tx})")
            if e.prev_hash != prev:
                return bad(e.seq, "prevHash does not link to the previous entry")
            if (
                entry_hash(e.prev_hash, e.seq, e.kind, e.actor, e.subject, e.data_hash, e.at)
                != e.entry_hash
            ):
                return bad(e.seq, "entryHash does not recompute")
            kind = kind_names().get(e.kind)
            if kind is None:
                return bad(e.seq, f"unknown kind 0x{e.kind.hex()}")
            contract, topic, event_abi = bindings[kind]
            match = None
            for j in range(pos - 1, -1, -1):
                cand = tx_logs[j]
                if j in used or by_addr.get(cand["address"].lower()) != contract:
                    continue
                if bytes(cand["topics"][0]) == topic:
                    match = j
                    break
            if match is None:
                return bad(
                    e.seq, f"no {contract}.{event_abi['name']} event for {kind} in tx {e.tx}"
                )
            used.add(match)
            if business_data_hash(event_abi, tx_logs[match]) != e.data_hash:
                return bad(
                    e.seq, f"dataHash does not match the {event_abi['name']} event in tx {e.tx}"
                )
            prev, expected_seq, count = e.entry_hash, e.seq + 1, count + 1
            if progress is not None:
                progress(count)
    if count != head_seq or prev != bytes(head_hash):
        return Verdict(
            False,
            count,
            "0x" + prev.hex(),
            count + 1 if count < head_seq else head_seq,
            f"the trail's head() is #{head_seq} 0x{bytes(head_hash).hex()}, "
            f"the logs end at #{count} 0x{prev.hex()}",
        )
    return Verdict(True, count, "0x" + prev.hex())


def read_entries(ledger: Ledger) -> Iterator[Entry]:
    """Every entry in order (for `audit show`)."""
    to_block = int(ledger.chain.w3.eth.block_number)
    trail = ledger.deployment.address("AuditTrail").lower()
    for tx_logs in iter_logs(ledger, to_block):
        for log in tx_logs:
            if log["address"].lower() == trail and bytes(log["topics"][0]) == AUDIT_TOPIC:
                yield _decode_entry(log)
