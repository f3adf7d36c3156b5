"""Verify the hash-chained audit trail (DESIGN §4.8) from chain data alone.

The verifier reads `AuditRecorded` logs and the business events of the suite's contracts
straight from the chain in block windows (memory stays flat in the trail's length),
recomputes every `entryHash`, checks the links and `seq` continuity, binds each
`dataHash` to the business event emitted in the same transaction (the nearest preceding
log of the kind's event from the kind's contract), recomputes the Merkle root of every
checkpoint an auditor published, and compares the last entry with the contract's `head()`.

One checker (`TrailCheck`) serves every source: the chain here, an exported bundle in
`ledger.audit.bundle`. It stops at the first bad entry and says what is wrong with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.audit.binding import bindings, data_hash, event_abi, keccak
from ledger.audit.binding import topic0 as _topic0_of
from ledger.audit.kinds import kind_names
from ledger.audit.merkle import Frontier
from ledger.errors import Refused

if TYPE_CHECKING:
    from ledger.chain.backend import Chain
    from ledger.engine.client import Ledger

# Blocks per eth_getLogs query: a window shrinks when it returns many logs or the node
# refuses its range (Besu's default limit is 5,000 blocks) and grows back when logs are few.
WINDOW_BLOCKS = 5_000
WINDOW_LOGS = 20_000
# Progress is reported every this many entries (a terminal update costs microseconds).
PROGRESS_EVERY = 256
ZERO32 = b"\0" * 32
_PAD12 = b"\0" * 12
_sha256 = hashlib.sha256


@dataclass(frozen=True)
class Entry:
    """One decoded `AuditRecorded` entry."""

    seq: int
    kind: bytes
    actor_word: bytes
    subject: int
    data_hash: bytes
    at: int
    prev_hash: bytes
    entry_hash: bytes
    block: int
    tx: str
    log_index: int

    @property
    def actor(self) -> str:
        """The actor, checksummed (computed on demand: a checksum costs a hash)."""
        from eth_utils import to_checksum_address

        return to_checksum_address(self.actor_word[12:])

    @property
    def kind_name(self) -> str:
        return kind_names().get(self.kind, "0x" + self.kind.hex())


@dataclass(frozen=True)
class Event:
    """A raw business-event log: what an entry's `dataHash` binds.

    Attributes:
        address: the emitting contract (checksummed).
        topics: signature hash and indexed fields.
        data: the non-indexed fields, ABI-encoded.
        log_index: its position in the block.
    """

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    log_index: int


@dataclass(frozen=True)
class Checkpoint:
    """A Merkle root an auditor fixed on-chain (`CheckpointPublished`)."""

    size: int
    root: bytes
    auditor: str
    block: int
    tx: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification.

    Attributes:
        ok: every check passed.
        entries: entries checked.
        head: hash of the last entry checked (0x-hex).
        first_bad_seq: the first entry that failed, if any.
        problem: what is wrong with it.
        root: Merkle root of the entries checked (0x-hex), when the tree was followed.
        checkpoints: published checkpoints whose roots were recomputed and matched.
        block: the block the chain was read at (0 for offline sources).
        seq: the last entry verified (the position `head` is the hash of).
        frontier: the tree's state after the last entry (to continue from it later).
    """

    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None
    root: str | None = None
    checkpoints: int = 0
    block: int = 0
    seq: int = 0
    frontier: Frontier | None = field(default=None, repr=False, compare=False)

    def summary(self) -> dict[str, Any]:
        """The DESIGN §5 JSON of `audit verify`."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


class Bad(Exception):
    """Entry `seq` is the first that fails; `problem` says how."""

    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(f"#{seq}: {problem}")
        self.seq = seq
        self.problem = problem


def entry_hash(
    prev_hash: bytes, seq: int, kind: bytes, actor: str, subject: int, data_hash: bytes, at: int
) -> bytes:
    """DESIGN §4.8: keccak256(abi.encode(prevHash, seq, kind, actor, subject, dataHash, at))."""
    actor_word = _PAD12 + bytes.fromhex(actor.removeprefix("0x"))
    return keccak(entry_preimage(prev_hash, seq, kind, actor_word, subject, data_hash, at))


def entry_preimage(
    prev: bytes, seq: int, kind: bytes, actor_word: bytes, subject: int, data: bytes, at: int
) -> bytes:
    """abi.encode(prevHash, seq, kind, actor, subject, dataHash, at): seven words."""
    return b"".join(
        (
            prev,
            seq.to_bytes(32, "big"),
            kind,
            actor_word,
            subject.to_bytes(32, "big"),
            data,
            at.to_bytes(32, "big"),
        )
    )


def _topic0(entry: dict[str, Any]) -> bytes:
    """An event ABI entry's signature hash (kept under this name for ledger.supervision.index)."""
    return _topic0_of(entry)


AUDIT_TOPIC = _topic0(event_abi("AuditTrail", "AuditRecorded"))
CHECKPOINT_TOPIC = _topic0(event_abi("AuditTrail", "CheckpointPublished"))


# --------------------------------------------------------------------------- the checker


class TrailCheck:
    """Checks entries one at a time, in order, and follows the Merkle tree over them.

    Every check that can fail raises `Bad` naming the entry: a gap, a repeat, a broken
    link, a hash that does not recompute, an unknown kind, an event that is missing or is
    not the kind's or does not hash to `dataHash`, a published checkpoint the entries do
    not give, an entry that differs from one verified before, the head.
    """

    def __init__(
        self,
        contracts: Mapping[str, str],
        head: tuple[int, bytes],
        *,
        start: tuple[int, bytes] = (0, ZERO32),
        frontier: Frontier | None = None,
        checkpoints: Mapping[int, bytes] | None = None,
        pinned: tuple[int, bytes] | None = None,
    ) -> None:
        self.addresses = {n: bytes.fromhex(a[2:]) for n, a in contracts.items()}
        self.table = bindings()
        self.head_seq, self.head_hash = head
        self.expected = start[0] + 1
        self.prev = start[1]
        self.count = 0
        self.before = ZERO32  # prevHash of the last entry accepted
        self.frontier = frontier
        self.checkpoints = dict(checkpoints or {})
        self.matched = 0
        self.pinned = pinned

    def add_chain_entry(self, entry: Entry, event: Event | None) -> None:
        """`add` for an entry read from the chain with the log it binds."""
        self.add(
            entry.seq,
            entry.kind,
            entry.actor_word,
            entry.subject,
            entry.data_hash,
            entry.at,
            entry.prev_hash,
            entry.entry_hash,
            None if event is None else (_hex(event.address), event.topics, event.data),
            entry.tx,
        )

    def add(
        self,
        seq: int,
        kind: bytes,
        actor_word: bytes,
        subject: int,
        data: bytes,
        at: int,
        prev: bytes,
        entry: bytes,
        event: tuple[bytes, Sequence[bytes], bytes] | None,
        tx: str,
    ) -> None:
        """Check one entry; `event` is (contract address, topics, data) of its bound log."""
        if seq != self.expected:
            self._out_of_order(seq, prev, entry)
        if seq > self.head_seq:
            raise Bad(seq, f"entry #{seq} is past the head #{self.head_seq}")
        if prev != self.prev:
            raise Bad(seq, f"prevHash does not link to entry #{seq - 1}")
        digest = _keccak_entry(prev, seq, kind, actor_word, subject, data, at)
        if digest != entry:
            raise Bad(seq, "entryHash does not recompute from the entry's fields")
        b = self.table.get(kind)
        if b is None:
            raise Bad(seq, f"unknown kind 0x{kind.hex()}")
        # The binding checks, inline: this runs once per entry.
        if event is None:
            raise Bad(seq, f"no {b.label} event for {b.kind} in tx {tx}")
        address, topics, payload = event
        if address != self.addresses.get(b.contract):
            raise Bad(seq, f"its event was not emitted by {b.contract} (tx {tx})")
        if not topics or topics[0] != b.topic0:
            raise Bad(seq, f"its event is not {b.label} (tx {tx})")
        if data_hash(b, topics, payload) != data:
            raise Bad(seq, f"dataHash does not match the {b.label} event in tx {tx}")
        if self.frontier is not None:
            self.frontier.append(_sha256(b"\x00" + entry).digest())
            if seq in self.checkpoints:
                self._checkpoint(seq)
        if self.pinned is not None and seq == self.pinned[0] and entry != self.pinned[1]:
            raise Bad(
                seq,
                f"entry #{seq} is 0x{entry.hex()}, but #{seq} was verified before as "
                f"0x{self.pinned[1].hex()}: the history was rewritten",
            )
        self.before = self.prev
        self.prev = entry
        self.expected = seq + 1
        self.count += 1

    def seam(self, seq: int, prev: bytes, entry: bytes) -> None:
        """The order and link checks of `add`, for a slice checked elsewhere from `seq`."""
        if seq != self.expected:
            self._out_of_order(seq, prev, entry)
        if prev != self.prev:
            raise Bad(seq, f"prevHash does not link to entry #{seq - 1}")

    def absorb(self, hashes: bytes, leaves: bytes) -> None:
        """Entries checked elsewhere: their entry and leaf hashes (32 bytes each, in
        order) extend the chain and the tree."""
        append = self.frontier.append if self.frontier is not None else None
        for i in range(0, len(hashes), 32):
            seq = self.expected
            if append is not None:
                append(leaves[i : i + 32])
                if seq in self.checkpoints:
                    self._checkpoint(seq)
            self.before = self.prev
            self.prev = hashes[i : i + 32]
            self.expected = seq + 1
            self.count += 1

    def _out_of_order(self, seq: int, prev: bytes, entry: bytes | None) -> None:
        """The trail goes wrong at position `expected`; say how. A second, different entry
        with the last one's `seq` and predecessor is a fork: the contested entry is named."""
        e, last = self.expected, self.expected - 1
        if seq == last and entry == self.prev:
            raise Bad(e, f"entry #{e} is missing: a copy of #{last} is in its place")
        if seq == last and last > 0 and prev == self.before:
            raise Bad(
                last,
                f"two different entries #{last} follow #{last - 1}: the trail forks there "
                "(a forged or altered copy)",
            )
        if seq < e:
            raise Bad(e, f"entry #{e} is missing: #{seq} (out of order) is in its place")
        raise Bad(e, f"entry #{e} is missing: #{seq} follows #{last}")

    def _checkpoint(self, size: int) -> None:
        assert self.frontier is not None
        root = self.frontier.root()
        published = self.checkpoints.pop(size)
        if root != published:
            raise Bad(
                size,
                f"the checkpoint for the first {size} entries has root 0x{published.hex()}, "
                f"but the entries give 0x{root.hex()}",
            )
        self.matched += 1

    def finish(self) -> None:
        """After the last entry: the head is reached and nothing promised is left over."""
        last = self.expected - 1
        if last < self.head_seq:
            raise Bad(last + 1, f"entry #{last + 1} is missing: the head is #{self.head_seq}")
        if self.prev != self.head_hash:
            raise Bad(
                last,
                f"entry #{last} is 0x{self.prev.hex()}, but the head is 0x{self.head_hash.hex()}",
            )
        if self.frontier is not None and self.checkpoints:
            size = min(self.checkpoints)
            raise Bad(size, f"a checkpoint covers {size} entries, but the trail has {last}")
        if self.pinned is not None and self.pinned[0] > last:
            raise Bad(
                last + 1,
                f"the trail ends at #{last}, but #{self.pinned[0]} was verified before: "
                "the history was rewritten",
            )

    def verdict(self, block: int = 0) -> Verdict:
        return Verdict(
            True,
            self.count,
            "0x" + self.prev.hex(),
            root=None if self.frontier is None else "0x" + self.frontier.root().hex(),
            checkpoints=self.matched,
            block=block,
            seq=self.expected - 1,
            frontier=self.frontier,
        )

    def failed(self, bad: Bad, block: int = 0) -> Verdict:
        return Verdict(False, self.count, "0x" + self.prev.hex(), bad.seq, bad.problem, block=block)


def _keccak_entry(
    prev: bytes, seq: int, kind: bytes, actor_word: bytes, subject: int, data: bytes, at: int
) -> bytes:
    return keccak(entry_preimage(prev, seq, kind, actor_word, subject, data, at))


# --------------------------------------------------------------------------- the chain


def rpc(chain: Chain, method: str, params: list[Any]) -> Any:
    """One raw JSON-RPC call: hex strings in and out, without web3's formatters (which
    cost more than the verification itself)."""
    if chain.embedded is not None:
        return chain.embedded.rpc(method, params)
    from web3.types import RPCEndpoint

    response = chain.w3.provider.make_request(RPCEndpoint(method), params)
    if "error" in response:
        error = response["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise RuntimeError(str(message))
    return response["result"]


def _hex(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _int(value: str | int) -> int:
    return value if isinstance(value, int) else int(value, 16)


def get_logs(
    chain: Chain,
    addresses: list[str],
    from_block: int,
    to_block: int,
    topics: list[Any] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Raw logs of `addresses` in [from_block, to_block], one list per window, in order."""
    window = WINDOW_BLOCKS
    start = from_block
    while start <= to_block:
        end = min(start + window - 1, to_block)
        query: dict[str, Any] = {"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}
        if topics is not None:
            query["topics"] = topics
        try:
            logs = rpc(chain, "eth_getLogs", [query])
        except Exception as exc:
            if window == 1:
                raise Refused(f"the node refused eth_getLogs for block {start}: {exc}") from None
            window = max(1, window // 2)
            continue
        yield logs
        if len(logs) > WINDOW_LOGS and window > 1:
            window //= 2
        elif len(logs) < WINDOW_LOGS // 10:
            window = min(WINDOW_BLOCKS, window * 2)
        start = end + 1


def _tx_groups(windows: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """Logs grouped by transaction, in chain order."""
    group: list[dict[str, Any]] = []
    key: tuple[str, str] | None = None
    for logs in windows:
        for log in logs:
            k = (log["blockNumber"], log["transactionIndex"])
            if key is not None and k != key:
                yield group
                group = []
            key = k
            group.append(log)
    if group:
        yield group


def _entry(log: dict[str, Any]) -> Entry:
    topics = log["topics"]
    data = _hex(log["data"])
    return Entry(
        seq=int(topics[1], 16),
        kind=_hex(topics[2]),
        actor_word=_hex(topics[3]),
        subject=int.from_bytes(data[0:32], "big"),
        data_hash=data[32:64],
        at=int.from_bytes(data[64:96], "big"),
        prev_hash=data[96:128],
        entry_hash=data[128:160],
        block=_int(log["blockNumber"]),
        tx=log["transactionHash"],
        log_index=_int(log["logIndex"]),
    )


def _event(log: dict[str, Any]) -> Event:
    return Event(
        address=log["address"],
        topics=tuple(_hex(t) for t in log["topics"]),
        data=_hex(log["data"]),
        log_index=_int(log["logIndex"]),
    )


@dataclass(frozen=True)
class _Suite:
    trail: str
    by_address: dict[str, str]
    topics: dict[str, tuple[str, str]]


def _suite(ledger: Ledger) -> _Suite:
    by_kind = {b.kind_hash.hex(): (b.contract, "0x" + b.topic0.hex()) for b in bindings().values()}
    return _Suite(
        trail=ledger.deployment.address("AuditTrail").lower(),
        by_address={a.lower(): n for n, a in ledger.deployment.contracts.items()},
        topics=by_kind,
    )


def chain_entries(
    ledger: Ledger, from_block: int, to_block: int
) -> Iterator[tuple[Entry, Event | None]]:
    """Every entry in [from_block, to_block] with the business event it binds (or None).

    The bound event is the nearest preceding log, not bound yet, of the kind's contract and
    event in the same transaction: contracts emit the event, then append the entry.
    """
    suite = _suite(ledger)
    addresses = list(ledger.deployment.contracts.values())
    audit_topic = "0x" + AUDIT_TOPIC.hex()
    for group in _tx_groups(get_logs(ledger.chain, addresses, from_block, to_block)):
        used: set[int] = set()
        for pos, log in enumerate(group):
            if log["address"].lower() != suite.trail or log["topics"][0] != audit_topic:
                continue
            entry = _entry(log)
            wanted = suite.topics.get(entry.kind.hex())
            match = None
            if wanted is not None:
                for j in range(pos - 1, -1, -1):
                    cand = group[j]
                    if (
                        j not in used
                        and cand["topics"][0] == wanted[1]
                        and suite.by_address.get(cand["address"].lower()) == wanted[0]
                    ):
                        match = j
                        break
            if match is not None:
                used.add(match)
            yield entry, None if match is None else _event(group[match])


def read_entries(ledger: Ledger) -> Iterator[Entry]:
    """Every entry in order (for `audit show`), read through the trail's logs only."""
    to_block = int(ledger.chain.w3.eth.block_number)
    trail = ledger.deployment.address("AuditTrail")
    topics = ["0x" + AUDIT_TOPIC.hex()]
    for logs in get_logs(ledger.chain, [trail], ledger.deployment.start_block, to_block, topics):
        for log in logs:
            yield _entry(log)


def checkpoints(ledger: Ledger, to_block: int | None = None) -> list[Checkpoint]:
    """Every published checkpoint, oldest first."""
    if to_block is None:
        to_block = int(ledger.chain.w3.eth.block_number)
    trail = ledger.deployment.address("AuditTrail")
    out: list[Checkpoint] = []
    topics = ["0x" + CHECKPOINT_TOPIC.hex()]
    for logs in get_logs(ledger.chain, [trail], ledger.deployment.start_block, to_block, topics):
        for log in logs:
            data = _hex(log["data"])
            out.append(
                Checkpoint(
                    size=int(log["topics"][1], 16),
                    root=data[0:32],
                    auditor="0x" + log["topics"][2][-40:],
                    block=_int(log["blockNumber"]),
                    tx=log["transactionHash"],
                )
            )
    return out


def chain_head(ledger: Ledger, block: int) -> tuple[int, bytes]:
    seq, head = ledger.contract("AuditTrail").functions.head().call(block_identifier=block)
    return int(seq), bytes(head)


def find_entry(ledger: Ledger, seq: int, to_block: int) -> Entry | None:
    """Entry `seq` by its indexed topic (a bloom-filtered scan, not a read of every log)."""
    trail = ledger.deployment.address("AuditTrail")
    topics = ["0x" + AUDIT_TOPIC.hex(), "0x" + seq.to_bytes(32, "big").hex()]
    for logs in get_logs(ledger.chain, [trail], ledger.deployment.start_block, to_block, topics):
        for log in logs:
            return _entry(log)
    return None


@dataclass(frozen=True)
class Trusted:
    """A position verified before: entry `seq` had hash `entry_hash`; `frontier` (when
    kept) is the Merkle tree over entries 1..seq, so the tree can be continued."""

    seq: int
    entry_hash: bytes
    frontier: Frontier | None = None


def verify_trail(
    ledger: Ledger,
    progress: Callable[[int, int], None] | None = None,
    *,
    start: Trusted | None = None,
    pinned: Trusted | None = None,
) -> Verdict:
    """Verify the trail on the ledger's chain.

    `start`: verify only the entries after this trusted position (the chain must still
    hold it). `pinned`: a position verified earlier that the chain must still hold.
    """
    to_block = int(ledger.chain.w3.eth.block_number)
    head = chain_head(ledger, to_block)
    published = {c.size: c.root for c in checkpoints(ledger, to_block)}
    from_block = ledger.deployment.start_block
    origin: tuple[int, bytes] = (0, ZERO32)
    frontier: Frontier | None = Frontier()
    if start is not None and start.seq > 0:
        origin = (start.seq, start.entry_hash)
        frontier = start.frontier
        published = {s: r for s, r in published.items() if s > start.seq}
    check = TrailCheck(
        ledger.deployment.contracts,
        head,
        start=origin,
        frontier=frontier,
        checkpoints=published if frontier is not None else None,
        pinned=None if pinned is None else (pinned.seq, pinned.entry_hash),
    )
    try:
        if start is not None and start.seq > 0:
            from_block = _resume_block(ledger, start, to_block)
        for entry, event in chain_entries(ledger, from_block, to_block):
            if check.count == 0 and entry.seq <= origin[0]:
                continue  # the trusted entry's block also holds it and what came before
            check.add_chain_entry(entry, event)
            if progress is not None and check.count % PROGRESS_EVERY == 0:
                progress(check.count, head[0] - origin[0])
        check.finish()
    except Bad as bad:
        return check.failed(bad, to_block)
    return check.verdict(to_block)


def _resume_block(ledger: Ledger, start: Trusted, to_block: int) -> int:
    """The block of the trusted entry, once the chain is shown to still hold it."""
    entry = find_entry(ledger, start.seq, to_block)
    if entry is None:
        raise Bad(start.seq, f"entry #{start.seq} is not on the chain: the history was rewritten")
    recomputed = _keccak_entry(
        entry.prev_hash,
        entry.seq,
        entry.kind,
        entry.actor_word,
        entry.subject,
        entry.data_hash,
        entry.at,
    )
    if entry.entry_hash != start.entry_hash or recomputed != entry.entry_hash:
        raise Bad(
            start.seq,
            f"entry #{start.seq} on the chain is 0x{entry.entry_hash.hex()}, but the trusted "
            f"head is 0x{start.entry_hash.hex()}: the history was rewritten",
        )
    return entry.block
