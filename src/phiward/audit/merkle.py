"""RFC 6962 / RFC 9162 Merkle tree hashing, inclusion proofs and consistency proofs.

Leaves hash as ``SHA-256(0x00 || data)`` and interior nodes as ``SHA-256(0x01 || left || right)``;
a tree of ``n`` leaves splits at the largest power of two below ``n``. These are the same trees
Certificate Transparency logs publish, so any RFC 9162 verifier can check phiward's proofs.

The builders work on a list of leaf hashes held in memory (32 bytes a leaf: 32 MB for a million
events); the verifiers need only the proof, as a third party would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from phiward.errors import VerificationError

HASH_SIZE = 32
_LEAF = b"\x00"
_NODE = b"\x01"
_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 hash of one leaf."""
    return _sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 hash of an interior node."""
    return _sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (leaf hashes), computed level by level.

    Pairing left to right and carrying an odd last node up unchanged gives exactly the RFC 6962
    tree, whose right edge is the only place where subtrees are not perfect.
    """
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    node = _NODE
    sha = _sha256
    while len(level) > 1:
        nxt = [sha(node + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``leaves`` (RFC 9162 2.1.3.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} outside a tree of size {len(leaves)}")
    proof: list[bytes] = []
    lo, hi = 0, len(leaves)
    path: list[tuple[int, int, int, int]] = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi, lo, lo + k))
            hi = lo + k
        else:
            path.append((lo, lo + k, lo + k, hi))
            lo = lo + k
    for sib_lo, sib_hi, _, _ in reversed(path):
        proof.append(root_hash(leaves[sib_lo:sib_hi]))
    return proof


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the tree of the first ``old_size`` leaves is a prefix (RFC 9162 2.1.4.1)."""
    new_size = len(leaves)
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} outside 0..{new_size}")
    if old_size in (0, new_size):
        return []
    return _subproof(leaves, old_size, 0, new_size, True)


def _subproof(leaves: Sequence[bytes], m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if complete else [root_hash(leaves[lo:hi])]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves, m, lo, lo + k, complete), root_hash(leaves[lo + k : hi])]
    return [*_subproof(leaves, m - k, lo + k, hi, False), root_hash(leaves[lo : lo + k])]


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) sits at ``index`` of the tree of ``size`` with ``root``.

    Raises :class:`VerificationError` naming what failed; returns ``None`` when the proof holds.
    """
    _check_hash(leaf, "leaf hash")
    _check_hash(root, "root hash")
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} outside a tree of size {size}")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is longer than the tree allows")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is shorter than the tree requires")
    if r != root:
        raise VerificationError("inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (``new_size``, ``new_root``) extends (``old_size``, ``old_root``).

    RFC 9162 2.1.4.2. Raises :class:`VerificationError` naming what failed.
    """
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    if not 0 <= old_size <= new_size:
        raise VerificationError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise VerificationError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise VerificationError("equal sizes but different roots")
        return
    if old_size == 0:
        if proof:
            raise VerificationError("consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise VerificationError("consistency proof is empty")
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
            raise VerificationError("consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is shorter than the trees require")
    if fr != old_root:
        raise VerificationError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise VerificationError("consistency proof does not lead to the new root")
