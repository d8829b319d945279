"""RFC 6962 Merkle hashing and proofs: the RFC's sample tree, the transparency-dev vectors (when
``../shared/data`` is present), properties over random trees, and mutated proofs that must fail."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiward.audit import merkle
from phiward.errors import VerificationError
from tests.conftest import SHARED_DATA

# The eight leaves of the RFC 6962 sample tree and the roots of its prefixes (sizes 1..8), as
# published with the Certificate Transparency reference implementations.
RFC_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
RFC_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _hashes(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_empty_tree_root() -> None:
    assert merkle.root_hash([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_rfc6962_sample_tree_roots(size: int) -> None:
    leaves = [merkle.leaf_hash(d) for d in RFC_LEAVES[:size]]
    assert merkle.root_hash(leaves).hex() == RFC_ROOTS[size - 1]


def test_rfc6962_sample_tree_proofs_verify() -> None:
    leaves = [merkle.leaf_hash(d) for d in RFC_LEAVES]
    for size in range(1, 9):
        root = bytes.fromhex(RFC_ROOTS[size - 1])
        for index in range(size):
            proof = merkle.inclusion_proof(leaves[:size], index)
            merkle.verify_inclusion(leaves[index], index, size, proof, root)
        for old in range(0, size + 1):
            old_root = merkle.root_hash(leaves[:old])
            proof = merkle.consistency_proof(leaves[:size], old)
            merkle.verify_consistency(old, size, old_root, root, proof)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_inclusion_roundtrip_and_tamper(size: int, data: st.DataObject) -> None:
    leaves = _hashes(size)
    root = merkle.root_hash(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(leaves, index)
    merkle.verify_inclusion(leaves[index], index, size, proof, root)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ (1 << (bit % 8))]) + bad[i][1:]
        with pytest.raises(VerificationError):
            merkle.verify_inclusion(leaves[index], index, size, bad, root)
        with pytest.raises(VerificationError):
            merkle.verify_inclusion(leaves[index], index, size, proof[:-1], root)
    with pytest.raises(VerificationError):
        merkle.verify_inclusion(leaves[index], index, size, [*proof, leaves[0]], root)
    other = (index + 1) % size
    if leaves[other] != leaves[index]:
        with pytest.raises(VerificationError):
            merkle.verify_inclusion(leaves[other], index, size, proof, root)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_consistency_roundtrip_and_tamper(size: int, data: st.DataObject) -> None:
    leaves = _hashes(size)
    old = data.draw(st.integers(0, size))
    old_root, root = merkle.root_hash(leaves[:old]), merkle.root_hash(leaves)
    proof = merkle.consistency_proof(leaves, old)
    merkle.verify_consistency(old, size, old_root, root, proof)
    if proof:
        bad = list(proof)
        bad[-1] = bytes(32)
        with pytest.raises(VerificationError):
            merkle.verify_consistency(old, size, old_root, root, bad)
        with pytest.raises(VerificationError):
            merkle.verify_consistency(old, size, old_root, root, proof[1:])
    if 0 < old < size:
        # A log that rewrote an old leaf cannot prove consistency with its old head.
        forged = list(leaves)
        forged[data.draw(st.integers(0, old - 1))] = merkle.leaf_hash(b"forged")
        with pytest.raises(VerificationError):
            merkle.verify_consistency(
                old, size, old_root, merkle.root_hash(forged), merkle.consistency_proof(forged, old)
            )


def test_garbage_sizes_rejected() -> None:
    leaves = _hashes(5)
    root = merkle.root_hash(leaves)
    with pytest.raises(VerificationError, match="outside"):
        merkle.verify_inclusion(leaves[0], 5, 5, [], root)
    with pytest.raises(VerificationError, match="bytes"):
        merkle.verify_inclusion(leaves[0][:31], 0, 5, [], root)
    with pytest.raises(VerificationError, match="larger"):
        merkle.verify_consistency(6, 5, root, root, [])


# --- third-party vectors -----------------------------------------------------------------------

VECTORS = SHARED_DATA / "merkle-testdata" / "testdata" if SHARED_DATA else None
# transparency-dev accepts a same-size consistency check whose "roots" are 12-byte placeholders;
# phiward refuses any root that is not 32 bytes, even where no hashing is needed.
STRICTER = {"sizes-are-equal-one-and-proof-is-empty.json"}


def _vector_files(kind: str) -> list[Path]:
    if VECTORS is None or not (VECTORS / kind).is_dir():
        return []
    return sorted((VECTORS / kind).rglob("*.json"))


def _b(value: Any) -> bytes:
    return base64.b64decode(value) if value else b""


@pytest.mark.skipif(VECTORS is None, reason="../shared/data/merkle-testdata not on this machine")
@pytest.mark.parametrize(
    "path", _vector_files("inclusion"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_transparency_dev_inclusion_vectors(path: Path) -> None:
    d = json.loads(path.read_text())
    proof = [_b(p) for p in d.get("proof") or []]
    args = (_b(d.get("leafHash")), d["leafIdx"], d["treeSize"], proof, _b(d.get("root")))
    if d["wantErr"]:
        with pytest.raises(VerificationError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.skipif(VECTORS is None, reason="../shared/data/merkle-testdata not on this machine")
@pytest.mark.parametrize(
    "path", _vector_files("consistency"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_transparency_dev_consistency_vectors(path: Path) -> None:
    d = json.loads(path.read_text())
    proof = [_b(p) for p in d.get("proof") or []]
    args = (d["size1"], d["size2"], _b(d.get("root1")), _b(d.get("root2")), proof)
    if d["wantErr"] or path.name in STRICTER:
        with pytest.raises(VerificationError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


# --- subtree proofs (Merkle Tree Certificates draft; transparency-dev vectors) ----------------

# Where transparency-dev accepts a check whose roots are 12-byte placeholders, phiward refuses
# (it refuses any hash that is not 32 bytes, as above).
SUBTREE_STRICTER = {
    "sizes-are-equal-one-and-proof-is-empty.json",
    "subtree-is-empty-sizes-are-equal-one-subtree-root-valid-tree-root-random-proof-is-empty.json",
    "subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-tree-root-random-proof-is-empty.json",
}


@pytest.mark.skipif(VECTORS is None, reason="../shared/data/merkle-testdata not on this machine")
@pytest.mark.parametrize(
    "path", _vector_files("subtreeinclusion"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_transparency_dev_subtree_inclusion_vectors(path: Path) -> None:
    d = json.loads(path.read_text())
    proof = [_b(p) for p in d.get("proof") or []]
    leaf, root = _b(d.get("leafHash")), _b(d.get("root"))
    kw = {"start": d["start"], "end": d["end"]}
    if d["wantErr"]:
        with pytest.raises(VerificationError):
            merkle.verify_subtree_inclusion(leaf, d["leafIdx"], proof, root, **kw)
    else:
        merkle.verify_subtree_inclusion(leaf, d["leafIdx"], proof, root, **kw)


@pytest.mark.skipif(VECTORS is None, reason="../shared/data/merkle-testdata not on this machine")
@pytest.mark.parametrize(
    "path", _vector_files("subtreeconsistency"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_transparency_dev_subtree_consistency_vectors(path: Path) -> None:
    d = json.loads(path.read_text())
    proof = [_b(p) for p in d.get("proof") or []]
    args = (_b(d.get("root1")), _b(d.get("root2")), proof)
    kw = {"start": d["start"], "end": d["end"], "size": d["size"]}
    if d["wantErr"] or path.name in SUBTREE_STRICTER:
        with pytest.raises(VerificationError):
            merkle.verify_subtree_consistency(*args, **kw)
    else:
        merkle.verify_subtree_consistency(*args, **kw)


def _subtrees(size: int) -> list[tuple[int, int]]:
    return [(s, e) for s in range(size) for e in range(s + 1, size + 1)
            if merkle.is_valid_subtree(s, e)]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.randoms(use_true_random=False))
def test_subtree_proofs_round_trip_and_reject_tampering(size: int, rnd: Any) -> None:
    leaves = [merkle.leaf_hash(b"leaf %d" % i) for i in range(size)]
    tree = merkle.Tree(leaves)
    root = tree.root()
    start, end = rnd.choice(_subtrees(size))
    sub = merkle.root_hash(leaves[start:end])
    proof = tree.subtree_consistency_proof(start, end)
    merkle.verify_subtree_consistency(sub, root, proof, start=start, end=end, size=size)
    if start == 0:  # the same proof as RFC 9162 consistency from size ``end``
        assert proof == tree.consistency_proof(end)
    index = rnd.randrange(start, end)
    path = merkle.Tree(leaves[start:end]).inclusion_proof(index - start)
    merkle.verify_subtree_inclusion(leaves[index], index, path, sub, start=start, end=end)
    # (A different tree size can share the proof's shape and pass, as with RFC 9162 proofs;
    # what must fail is a different subtree, a changed, shortened or lengthened proof.)
    if end - 1 > start and merkle.is_valid_subtree(start, end - 1):
        with pytest.raises(VerificationError):
            merkle.verify_subtree_consistency(sub, root, proof, start=start, end=end - 1, size=size)
    if proof:
        flipped = list(proof)
        i = rnd.randrange(len(flipped))
        flipped[i] = bytes([flipped[i][0] ^ 1]) + flipped[i][1:]
        with pytest.raises(VerificationError):
            merkle.verify_subtree_consistency(sub, root, flipped, start=start, end=end, size=size)
        with pytest.raises(VerificationError):
            merkle.verify_subtree_consistency(
                sub, root, proof[:-1], start=start, end=end, size=size
            )
    with pytest.raises(VerificationError):
        merkle.verify_subtree_consistency(
            sub, root, [*proof, root], start=start, end=end, size=size
        )
