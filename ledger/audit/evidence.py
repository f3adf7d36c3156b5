"""Evidence bundles (司法链): one loan's or receivable's entries, provable offline.

An evidence bundle holds a subject's entries with the business events they bind and, for
each, an RFC 9162 inclusion proof against a checkpoint an auditor published on-chain. A
third party checks it offline in milliseconds: every entry hash recomputes from its
fields, every event hashes to the entry's `dataHash` and decodes to the fields shown,
every proof leads to the checkpoint root, and that root is the one it trusts (read from
`AuditTrail.checkpointRoot(size)` on any node, or a notarised copy).

The subject: a loan is its own entries (loan kinds, its tranches' offers and sales, pledges
and releases) and the whole lineage of the receivables it pledged; a receivable is the
entries of its lineage (its ancestors back to the issued one and all its descendants) and
the pledges and releases that name them.

Line 1 is the header (subject, lineage, chain, contracts, tree, checkpoint, the listed
`seq`s); each further line is one entry object. What a bundle alone cannot show is that
no entry of the subject was left out of it: proofs show presence, not absence. The header
lists the entries it holds, so a dropped line fails, and anyone with a node can rebuild
the same bundle with `audit evidence` and compare.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ledger.audit.binding import (
    Binding,
    by_name,
    data_hash,
    keccak,
    kind_label,
    readable_fields,
)
from ledger.audit.bundle import TREE
from ledger.audit.merkle import Frontier, Tree, leaf_hash, verify_inclusion
from ledger.audit.trail import (
    Bad,
    Checkpoint,
    Entry,
    Event,
    TrailCheck,
    chain_entries,
    chain_head,
    checkpoints,
    entry_preimage,
)
from ledger.errors import BadInput, Refused
from ledger.home import write_text_atomic

if TYPE_CHECKING:
    from ledger.engine.client import Ledger

FORMAT = "liandai-audit-evidence/1"
PLEDGE_KINDS = frozenset({"RECEIVABLES_PLEDGED", "RECEIVABLES_RELEASED"})
ENTRY_KEYS = (
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
    "proof",
)


@dataclass(frozen=True)
class Proved:
    """An entry the checker proved, with the fields of the event its `dataHash` binds."""

    seq: int
    kind: str
    actor: str
    subject: int
    at: int
    fields: dict[str, Any]


class Scope(Protocol):
    """What a bundle is about: which entries belong in it."""

    def covers(self, kind: str, subject: int, event_ids: Iterable[int] = ()) -> bool: ...


@dataclass(frozen=True)
class Lineage:
    """The loans and receivables a bundle is about."""

    loans: frozenset[int]
    receivables: frozenset[int]

    def covers(self, kind: str, subject: int, event_ids: Iterable[int] = ()) -> bool:
        """Is an entry of `kind` about `subject` part of this lineage?"""
        if kind in PLEDGE_KINDS:
            return subject in self.loans or any(i in self.receivables for i in event_ids)
        if kind.startswith(("LOAN_", "TRANCHE_")):
            return subject in self.loans
        if kind.startswith("RECEIVABLE_"):
            return subject in self.receivables
        return False


def _receivable_links(ledger: Ledger, rid: int) -> tuple[int, list[int]]:
    """(parent, children) of a receivable, from the chain."""
    try:
        info = ledger.contract("ReceivableToken").functions.receivableOf(rid).call()
    except Exception as exc:
        raise ledger.refusal(exc) from None
    parent, first, count = int(info[8]), int(info[9]), int(info[10])
    return parent, list(range(first, first + count))


def receivable_lineage(ledger: Ledger, roots: Iterable[int]) -> set[int]:
    """Each receivable's ancestors up to the issued one, and all its descendants."""
    found: set[int] = set()
    for rid in roots:
        parent, _ = _receivable_links(ledger, rid)
        while parent:
            found.add(parent)
            parent, _ = _receivable_links(ledger, parent)
        pending = [rid]
        while pending:
            current = pending.pop()
            if current in found and current != rid:
                continue
            found.add(current)
            pending.extend(_receivable_links(ledger, current)[1])
    return found


def lineage_of(
    ledger: Ledger, *, loan: int | None = None, receivable: int | None = None
) -> Lineage:
    if loan is not None:
        book = ledger.contract("LoanBook").functions
        try:
            book.loanOf(loan).call()
            pledged = [int(r) for r in book.receivablesOf(loan).call()]
        except Exception as exc:
            raise ledger.refusal(exc) from None
        return Lineage(frozenset({loan}), frozenset(receivable_lineage(ledger, pledged)))
    assert receivable is not None
    return Lineage(frozenset(), frozenset(receivable_lineage(ledger, [receivable])))


def _pledged_ids(b: Binding, event: Event | None) -> list[int]:
    if event is None or b.kind not in PLEDGE_KINDS:
        return []
    try:
        return [int(i) for i in readable_fields(b, event.topics, event.data)["ids"]]
    except Exception:
        return []


# --------------------------------------------------------------------------- building


@dataclass
class _Collected:
    hashes: list[bytes] = field(default_factory=list)
    chosen: list[tuple[Entry, Event | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Written:
    """What `write_evidence` wrote."""

    path: Path
    entries: int
    checkpoint: Checkpoint
    size: int


def _pick_checkpoint(published: list[Checkpoint], size: int | None) -> Checkpoint:
    if not published:
        raise Refused(
            "no checkpoint has been published: an auditor publishes one with "
            "`liandai --as auditor audit checkpoint`"
        )
    if size is None:
        return published[-1]
    for c in published:
        if c.size == size:
            return c
    sizes = ", ".join(str(c.size) for c in published[-5:])
    raise BadInput(f"no checkpoint of size {size} (latest: {sizes})")


def write_evidence(
    ledger: Ledger,
    lineage: Lineage,
    subject: dict[str, int],
    path: Path,
    *,
    checkpoint_size: int | None = None,
) -> Written:
    """Verify the trail while reading it, then write the subject's evidence to `path`."""
    block = int(ledger.chain.w3.eth.block_number)
    published = checkpoints(ledger, block)
    chosen_cp = _pick_checkpoint(published, checkpoint_size)
    collected = _collect(ledger, lineage, block, published)
    late = [e.seq for e, _ in collected.chosen if e.seq > chosen_cp.size]
    if late and checkpoint_size is None:
        raise Refused(
            f"entry #{late[0]} of this subject is after the latest checkpoint "
            f"(#{chosen_cp.size}): an auditor publishes a new one with "
            "`liandai --as auditor audit checkpoint`"
        )
    chosen = [(e, ev) for e, ev in collected.chosen if e.seq <= chosen_cp.size]
    if not chosen:
        raise Refused(f"no entry of this subject up to checkpoint #{chosen_cp.size}")
    tree = Tree([leaf_hash(h) for h in collected.hashes[: chosen_cp.size]])
    head = _header(ledger, lineage, subject, chosen_cp, [e.seq for e, _ in chosen])
    lines = [json.dumps(head, ensure_ascii=False)]
    lines += [
        json.dumps(_entry_line(e, ev, tree, chosen_cp.size), ensure_ascii=False) for e, ev in chosen
    ]
    text = "\n".join(lines) + "\n"
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise Refused(f"cannot write {path}: {exc.strerror}") from None
    return Written(path, len(chosen), chosen_cp, len(text.encode()))


def _collect(
    ledger: Ledger, lineage: Lineage, block: int, published: list[Checkpoint]
) -> _Collected:
    """Read the whole trail once: verify it, keep every entry hash and the subject's entries."""
    table = by_name()
    check = TrailCheck(
        ledger.deployment.contracts,
        chain_head(ledger, block),
        frontier=Frontier(),
        checkpoints={c.size: c.root for c in published},
    )
    out = _Collected()
    try:
        for entry, event in chain_entries(ledger, ledger.deployment.start_block, block):
            check.add_chain_entry(entry, event)
            out.hashes.append(entry.entry_hash)
            b = table[kind_label(entry.kind)]
            if lineage.covers(b.kind, entry.subject, _pledged_ids(b, event)):
                out.chosen.append((entry, event))
        check.finish()
    except Bad as bad:
        raise Refused(
            f"the trail does not verify at entry #{bad.seq} ({bad.problem}): no evidence written"
        ) from None
    return out


def _header(
    ledger: Ledger,
    lineage: Lineage,
    subject: dict[str, int],
    cp: Checkpoint,
    seqs: list[int],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "subject": subject,
        "lineage": {"loans": sorted(lineage.loans), "receivables": sorted(lineage.receivables)},
        "chain_id": ledger.deployment.chain_id,
        "network": ledger.deployment.network,
        "contracts": dict(ledger.deployment.contracts),
        "tree": TREE,
        "checkpoint": {
            "size": cp.size,
            "root": "0x" + cp.root.hex(),
            "auditor": cp.auditor,
            "block": cp.block,
            "tx": cp.tx,
        },
        "entries": seqs,
    }


def _entry_line(entry: Entry, event: Event | None, tree: Tree, size: int) -> dict[str, Any]:
    b = by_name()[kind_label(entry.kind)]
    return {
        "seq": entry.seq,
        "kind": b.kind,
        "actor": entry.actor,
        "subject": str(entry.subject),
        "data_hash": "0x" + entry.data_hash.hex(),
        "at": entry.at,
        "prev_hash": "0x" + entry.prev_hash.hex(),
        "entry_hash": "0x" + entry.entry_hash.hex(),
        "block": entry.block,
        "tx": entry.tx,
        "log_index": entry.log_index,
        "event": None
        if event is None
        else {
            "contract": b.contract,
            "name": b.event,
            "address": event.address,
            "topics": ["0x" + t.hex() for t in event.topics],
            "data": "0x" + event.data.hex(),
            "log_index": event.log_index,
            "fields": readable_fields(b, event.topics, event.data),
        },
        "proof": ["0x" + p.hex() for p in tree.inclusion_proof(entry.seq - 1, size)],
    }


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class EvidenceVerdict:
    """The outcome of verifying an evidence bundle.

    Attributes:
        ok: every entry and proof checks.
        entries: entries checked.
        head: hash of the last entry checked.
        first_bad_seq: the first entry that failed (None for a bundle-level failure).
        problem: what is wrong.
        subject: what the bundle is about, e.g. {"loan": 1}.
        size: the checkpoint's size.
        root: the checkpoint's root (0x-hex).
        anchored: the root equals the trusted root given.
    """

    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None
    problem: str | None
    subject: dict[str, int]
    size: int
    root: str
    anchored: bool

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "subject": self.subject,
            "checkpoint_size": self.size,
            "checkpoint_root": self.root,
            "anchored": self.anchored,
        }


@dataclass(frozen=True)
class _EvidenceHeader:
    """A bundle's header as the checker uses it.

    Attributes:
        finish: when set, called with every proved entry (and its event's fields) after the
            last one; it raises `Bad` when what the header claims does not follow from them
            (a credit file's figures, `ledger.credit.file`).
        header_reader: for headers of other formats (see `verify_evidence`).
    """

    subject: dict[str, int]
    lineage: Scope
    contracts: dict[str, bytes]
    size: int
    root: bytes
    seqs: list[int]
    finish: Callable[[list[Proved]], None] | None = None


def _read_header(line: str) -> _EvidenceHeader:
    try:
        data = json.loads(line)
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
        cp = data["checkpoint"]
        return _EvidenceHeader(
            subject={str(k): int(v) for k, v in data["subject"].items()},
            lineage=Lineage(
                frozenset(int(i) for i in data["lineage"]["loans"]),
                frozenset(int(i) for i in data["lineage"]["receivables"]),
            ),
            contracts={str(k): _bytes(v, 20) for k, v in data["contracts"].items()},
            size=int(cp["size"]),
            root=_bytes(cp["root"], 32),
            seqs=[int(s) for s in data["entries"]],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"not an evidence bundle: its header is unreadable ({exc})") from None


def _bytes(text: Any, size: int) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"{text!r} is not 0x-hex")
    value = bytes.fromhex(text[2:])
    if len(value) != size:
        raise ValueError(f"{text} is not {size} bytes")
    return value


HeaderReader = Callable[[dict[str, Any]], _EvidenceHeader]


class _EvidenceCheck:
    """Checks evidence entries in order against the header."""

    def __init__(self, header: _EvidenceHeader) -> None:
        self.h = header
        self.count = 0
        self.last: tuple[int, bytes] | None = None
        self.items: list[Proved] = []

    def add(self, line: str) -> None:
        expected = self.h.seqs[self.count] if self.count < len(self.h.seqs) else None
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or sorted(item) != sorted(ENTRY_KEYS):
                raise ValueError("not an evidence entry")
            seq = item["seq"]
            if type(seq) is not int:
                raise ValueError(f"seq {seq!r} is not an integer")
        except (ValueError, TypeError) as exc:
            last = "the header" if self.last is None else f"entry #{self.last[0]}"
            problem = f"the line after {last} is not a well-formed entry ({exc})"
            raise Bad(expected, problem) from None
        self._place(seq, expected)
        try:
            entry_hash = self._entry(seq, item)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError) as exc:
            raise Bad(seq, f"entry #{seq} is malformed ({exc})") from None
        self.last = (seq, entry_hash)
        self.count += 1

    def _place(self, seq: int, expected: int | None) -> None:
        """The bundle goes wrong where a line is not the entry the header lists there."""
        if expected is None:
            raise Bad(seq, f"entry #{seq} is not among the entries the header lists")
        if seq != expected:
            raise Bad(expected, f"entry #{expected} is missing: #{seq} is in its place")
        if seq > self.h.size:
            raise Bad(seq, f"entry #{seq} is after the checkpoint (#{self.h.size})")

    def _entry(self, seq: int, item: dict[str, Any]) -> bytes:
        b = by_name().get(item["kind"])
        if b is None:
            raise Bad(seq, f"unknown kind {item['kind']!r}")
        prev = _bytes(item["prev_hash"], 32)
        entry = _bytes(item["entry_hash"], 32)
        data = _bytes(item["data_hash"], 32)
        subject = int(item["subject"])
        at = item["at"]
        if type(at) is not int:
            raise ValueError(f"at {at!r} is not an integer")
        actor_word = b"\0" * 12 + _bytes(item["actor"], 20)
        preimage = entry_preimage(prev, seq, b.kind_hash, actor_word, subject, data, at)
        if keccak(preimage) != entry:
            raise Bad(seq, "entryHash does not recompute from the entry's fields")
        if self.last is not None and self.last[0] == seq - 1 and self.last[1] != prev:
            raise Bad(seq, f"prevHash does not link to entry #{seq - 1}")
        fields = self._event(seq, b, data, item["event"])
        ids = [int(i) for i in fields.get("ids", [])] if b.kind in PLEDGE_KINDS else []
        if not self.h.lineage.covers(b.kind, subject, ids):
            raise Bad(seq, f"entry #{seq} ({b.kind} of {subject}) is outside the bundle's subject")
        proof = [_bytes(p, 32) for p in item["proof"]]
        if not verify_inclusion(leaf_hash(entry), seq - 1, self.h.size, proof, self.h.root):
            raise Bad(seq, f"its inclusion proof does not lead to checkpoint #{self.h.size}'s root")
        if self.h.finish is not None:
            self.items.append(Proved(seq, b.kind, str(item["actor"]), subject, at, fields))
        return entry

    def _event(self, seq: int, b: Binding, data: bytes, event: Any) -> dict[str, Any]:
        """Check the bound event; return its fields."""
        if not isinstance(event, dict):
            raise Bad(seq, f"no {b.label} event for {b.kind}")
        if event.get("contract") != b.contract or event.get("name") != b.event:
            raise Bad(seq, f"its event is not {b.label}")
        if _bytes(event["address"], 20) != self.h.contracts.get(b.contract):
            raise Bad(seq, f"its event was not emitted by {b.contract}")
        topics = [_bytes(t, 32) for t in event["topics"]]
        payload = bytes.fromhex(str(event["data"])[2:])
        if not topics or topics[0] != b.topic0:
            raise Bad(seq, f"its event is not {b.label}")
        if data_hash(b, topics, payload) != data:
            raise Bad(seq, f"dataHash does not match its {b.label} event")
        try:
            fields = readable_fields(b, topics, payload)
        except Exception:
            raise Bad(seq, f"its {b.label} event does not decode") from None
        if event.get("fields") != fields:
            raise Bad(seq, f"the fields shown for its {b.label} event are not the event's")
        return fields

    def finish(self) -> None:
        if self.count < len(self.h.seqs):
            missing = self.h.seqs[self.count]
            raise Bad(missing, f"entry #{missing} is listed in the header but missing")
        if self.h.finish is not None:
            self.h.finish(self.items)


def verify_evidence(
    path: Path,
    trusted_root: bytes | None = None,
    readers: Mapping[str, HeaderReader] | None = None,
) -> EvidenceVerdict:
    """Verify an evidence bundle offline; `trusted_root` is the checkpoint root one trusts.

    `readers` maps other formats built on this one (a credit file: `ledger.credit.file`)
    to what reads their header; their entries are checked here like any bundle's."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text") from None
    if not lines:
        raise BadInput(f"{path} is empty")
    header = _parse_header(lines[0], readers or {})
    check = _EvidenceCheck(header)
    try:
        _check_listing(header.seqs)
        if trusted_root is not None and trusted_root != header.root:
            raise Bad(
                None,
                f"the bundle's checkpoint root 0x{header.root.hex()} is not the trusted root "
                f"0x{trusted_root.hex()}",
            )
        for line in lines[1:]:
            check.add(line)
        check.finish()
    except Bad as bad:
        return _verdict(check, header, bad, anchored=False)
    return _verdict(check, header, None, anchored=trusted_root is not None)


def _parse_header(line: str, readers: Mapping[str, HeaderReader]) -> _EvidenceHeader:
    """An evidence bundle's header, or one of a format in `readers`."""
    try:
        data = json.loads(line)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("format") in readers:
        return readers[data["format"]](data)
    return _read_header(line)


def _check_listing(seqs: Sequence[int]) -> None:
    for a, b in itertools.pairwise(seqs):
        if b <= a:
            raise Bad(b, f"the header lists entry #{b} after #{a}")


def _verdict(
    check: _EvidenceCheck, header: _EvidenceHeader, bad: Bad | None, *, anchored: bool
) -> EvidenceVerdict:
    head = "0x" + (check.last[1].hex() if check.last else "00" * 32)
    return EvidenceVerdict(
        ok=bad is None,
        entries=check.count,
        head=head,
        first_bad_seq=None if bad is None else bad.seq,
        problem=None if bad is None else bad.problem,
        subject=header.subject,
        size=header.size,
        root="0x" + header.root.hex(),
        anchored=anchored,
    )
