"""The Merkle tree over audit entries: RFC 9162 §2.1 with SHA-256.

Leaves are entry hashes, in `seq` order: `leaf = sha256(0x00 ‖ entryHash)`,
`node = sha256(0x01 ‖ left ‖ right)`; the tree over `n` leaves splits at the largest power
of two below `n`, exactly as Certificate Transparency's. SHA-256 rather than keccak-256:
the tree is computed off-chain (auditors publish its roots), where SHA-256 costs a third of
keccak-256 per call, and it is RFC 9162's own hash.

`Frontier` keeps one hash per set bit of the size (the deposit contract's branch), so a
verifier streams any number of entries in O(log n) memory. `Tree` keeps every level for
producing proofs. Proof checks follow RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
(consistency) step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_NAME = "sha-256"
EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def leaf_hash(entry_hash: bytes) -> bytes:
    return _sha256(b"\x00" + entry_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


class Frontier:
    """The roots of the perfect subtrees that make up a tree of `size` leaves.

    `branch[h]` is meaningful when bit h of `size` is set; appending merges equal-height
    subtrees the way binary addition carries.
    """

    __slots__ = ("branch", "size")

    def __init__(self, size: int = 0, branch: Sequence[bytes] = ()) -> None:
        self.size = size
        self.branch = list(branch)

    def append(self, leaf: bytes) -> None:
        node, size, h = leaf, self.size, 0
        while size & 1:
            node = _sha256(b"\x01" + self.branch[h] + node).digest()
            size >>= 1
            h += 1
        if h == len(self.branch):
            self.branch.append(node)
        else:
            self.branch[h] = node
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves so far: fold the subtrees from the smallest (rightmost) up."""
        acc: bytes | None = None
        for h in range(self.size.bit_length()):
            if self.size >> h & 1:
                acc = self.branch[h] if acc is None else node_hash(self.branch[h], acc)
        return EMPTY_ROOT if acc is None else acc

    def state(self) -> list[str]:
        """The branch as hex, for saving a verified position."""
        return [b.hex() for b in self.branch]

    @classmethod
    def restore(cls, size: int, branch: Iterable[str]) -> Frontier:
        return cls(size, [bytes.fromhex(b) for b in branch])


class Tree:
    """Every level of the tree over `leaves` (leaf hashes), for roots and proofs.

    Level 0 holds the leaves; a node without a right sibling is carried up unchanged,
    which gives the same hashes as RFC 9162's recursive split.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])
            self.levels.append(above)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the recursive split produces."""
        width = end - start
        height = (width - 1).bit_length()
        if start % (1 << height) == 0 and (width == 1 << height or end == self.size):
            return self.levels[height][start >> height]
        k = 1 << ((width - 1).bit_length() - 1)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf to root."""
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of {size}")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        k = 1 << ((end - start - 1).bit_length() - 1)
        if m < k:
            return [*self._path(m, start, start + k), self._subtree(start + k, end)]
        return [*self._path(m - k, start + k, end), self._subtree(start, start + k)]

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1."""
        if not 0 < old <= new <= self.size:
            raise ValueError(f"no consistency proof from {old} to {new} in a tree of {self.size}")
        return self._subproof(old, 0, new, True)

    def _subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self._subtree(start, end)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return [*self._subproof(m, start, start + k, complete), self._subtree(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._subtree(start, start + k)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` place `leaf` at `index` of the tree `root` of `size`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does the tree `new_root` of `new_size` extend `old_root`?"""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """MTH by the RFC's recursive definition (for tests; quadratic-free but slow)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))
