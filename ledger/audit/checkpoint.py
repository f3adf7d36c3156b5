"""Checkpoints: an auditor fixes the Merkle root of the trail on-chain; any two are
proved consistent (the later tree extends the earlier) with an RFC 9162 proof."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.audit.merkle import Tree, leaf_hash, verify_consistency
from ledger.audit.trail import Trusted, checkpoints, read_entries, verify_trail
from ledger.errors import BadInput, Refused

if TYPE_CHECKING:
    from ledger.engine.client import Ledger
    from ledger.engine.tx import Sent

GAS_CHECKPOINT = 200_000


@dataclass(frozen=True)
class Published:
    """A checkpoint this auditor published: the first `size` entries have `root`."""

    size: int
    root: str
    tx: str
    gas_used: int


def publish(ledger: Ledger, pinned: Trusted | None = None) -> Published:
    """Verify the whole trail, then fix its root on-chain as the signer (an AUDITOR).

    An auditor signs only what it has verified: a trail that does not verify is refused.
    """
    verdict = verify_trail(ledger, pinned=pinned)
    if not verdict.ok:
        raise Refused(
            f"the trail does not verify at entry #{verdict.first_bad_seq} ({verdict.problem}): "
            "no checkpoint published"
        )
    latest, _ = ledger.contract("AuditTrail").functions.latestCheckpoint().call()
    if verdict.seq <= int(latest):
        raise Refused(f"checkpoint #{latest} already covers the trail's {verdict.seq} entries")
    assert verdict.root is not None
    root = bytes.fromhex(verdict.root[2:])
    sent: Sent = ledger._send("AuditTrail", "checkpoint", verdict.seq, root, gas=GAS_CHECKPOINT)
    return Published(verdict.seq, verdict.root, sent.tx, sent.gas_used)


@dataclass(frozen=True)
class Consistency:
    """An RFC 9162 consistency proof between two published checkpoints, checked."""

    old_size: int
    old_root: str
    new_size: int
    new_root: str
    proof: list[str]
    ok: bool


def consistency(ledger: Ledger, old: int, new: int | None = None) -> Consistency:
    """Prove from the chain that checkpoint `new` (default: the latest) extends `old`."""
    published = {c.size: c.root for c in checkpoints(ledger)}
    if not published:
        raise Refused("no checkpoint has been published yet")
    new = max(published) if new is None else new
    for size in (old, new):
        if size not in published:
            raise BadInput(f"no checkpoint of size {size} (published: {_sizes(published)})")
    if old > new:
        raise BadInput(f"the earlier checkpoint ({old}) must not be larger than the later ({new})")
    leaves: list[bytes] = []
    for entry in read_entries(ledger):
        if entry.seq > new:
            break
        leaves.append(leaf_hash(entry.entry_hash))
    if len(leaves) < new:
        raise Refused(f"the chain holds {len(leaves)} entries, fewer than checkpoint {new} covers")
    proof = Tree(leaves).consistency_proof(old, new)
    ok = verify_consistency(old, new, published[old], published[new], proof)
    return Consistency(
        old,
        "0x" + published[old].hex(),
        new,
        "0x" + published[new].hex(),
        ["0x" + p.hex() for p in proof],
        ok,
    )


def _sizes(published: dict[int, bytes]) -> str:
    sizes = sorted(published)
    return ", ".join(str(s) for s in sizes[-8:]) + (" …" if len(sizes) > 8 else "")


def root_of(ledger: Ledger, size: int) -> str:
    """Verify the whole trail, then return the Merkle root of its first `size` entries
    (0x-hex): the root a credit file's proofs lead to, recomputed from the chain."""
    verdict = verify_trail(ledger)
    if not verdict.ok:
        raise Refused(
            f"the trail does not verify at entry #{verdict.first_bad_seq} ({verdict.problem})"
        )
    if size > verdict.seq:
        raise BadInput(f"the trail holds {verdict.seq} entries, fewer than {size}")
    leaves: list[bytes] = []
    for entry in read_entries(ledger):
        if entry.seq > size:
            break
        leaves.append(leaf_hash(entry.entry_hash))
    return "0x" + Tree(leaves).root().hex()
