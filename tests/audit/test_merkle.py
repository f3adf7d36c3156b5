"""The Merkle tree follows RFC 9162 §2.1 (SHA-256): roots, inclusion and consistency."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    Tree,
    leaf_hash,
    node_hash,
    reference_root,
    verify_consistency,
    verify_inclusion,
)

# Certificate Transparency's reference test data: leaf inputs and the tree head of each
# prefix (the trees of RFC 6962/9162 with SHA-256).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(hashlib.sha256(i.to_bytes(4, "big")).digest()) for i in range(n)]


def test_roots_match_certificate_transparency_test_vectors() -> None:
    hashed = [leaf_hash(d) for d in CT_LEAVES]
    tree = Tree(hashed)
    frontier = Frontier()
    for size, expected in enumerate(CT_ROOTS, start=1):
        frontier.append(hashed[size - 1])
        assert tree.root(size).hex() == expected
        assert frontier.root().hex() == expected
    assert Tree([]).root() == EMPTY_ROOT == Frontier().root()


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    h = b"\x11" * 32
    assert leaf_hash(h) == hashlib.sha256(b"\x00" + h).digest()
    assert node_hash(h, h) == hashlib.sha256(b"\x01" + h + h).digest()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300))
def test_tree_frontier_and_recursive_definition_agree_at_every_size(n: int) -> None:
    hashed = leaves(n)
    tree = Tree(hashed)
    frontier = Frontier()
    for size in range(1, n + 1):
        frontier.append(hashed[size - 1])
        assert frontier.root() == tree.root(size) == reference_root(hashed[:size])


def test_a_frontier_restored_from_its_state_continues_the_same_tree() -> None:
    hashed = leaves(77)
    first = Frontier()
    for h in hashed[:50]:
        first.append(h)
    again = Frontier.restore(50, first.state())
    for h in hashed[50:]:
        again.append(h)
    assert again.root() == Tree(hashed).root()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 31, 32, 33])
def test_every_inclusion_proof_verifies_and_any_change_breaks_it(size: int) -> None:
    hashed = leaves(size)
    tree = Tree(hashed)
    root = tree.root()
    for index in range(size):
        proof = tree.inclusion_proof(index, size)
        assert len(proof) <= (size - 1).bit_length()
        assert verify_inclusion(hashed[index], index, size, proof, root)
        assert not verify_inclusion(hashed[index], index, size, proof, b"\0" * 32)
        assert not verify_inclusion(b"\1" * 32, index, size, proof, root)
        if size > 1:
            assert not verify_inclusion(hashed[index], (index + 1) % size, size, proof, root)
            assert not verify_inclusion(hashed[index], index, size, proof[:-1], root)
            assert not verify_inclusion(hashed[index], index, size, [*proof, proof[0]], root)
            bent = [bytes(32), *proof[1:]]
            assert not verify_inclusion(hashed[index], index, size, bent, root)


def test_inclusion_proofs_against_an_earlier_size_verify_against_its_root() -> None:
    hashed = leaves(40)
    tree = Tree(hashed)
    for size in (7, 16, 29):
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(hashed[index], index, size, proof, tree.root(size))


def test_every_consistency_proof_verifies_and_any_change_breaks_it() -> None:
    hashed = leaves(33)
    tree = Tree(hashed)
    for new in range(1, 34):
        for old in range(1, new + 1):
            proof = tree.consistency_proof(old, new)
            old_root, new_root = tree.root(old), tree.root(new)
            assert verify_consistency(old, new, old_root, new_root, proof), (old, new)
            if old == new:
                continue
            assert not verify_consistency(old, new, new_root, new_root, proof)
            assert not verify_consistency(old, new, old_root, old_root, proof)
            assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
            assert not verify_consistency(old, new, old_root, new_root, [bytes(32), *proof[1:]])


def test_a_tree_that_does_not_extend_the_old_one_has_no_valid_proof() -> None:
    hashed = leaves(20)
    forked = [*hashed[:9], leaf_hash(b"forged"), *hashed[10:]]
    honest, other = Tree(hashed), Tree(forked)
    proof = other.consistency_proof(12, 20)
    assert not verify_consistency(12, 20, honest.root(12), other.root(20), proof)
