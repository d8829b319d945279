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


class Tree:
    """A tree held level by level, so each proof costs O(log n) lookups after one O(n) build.

    ``levels[k][j]`` is the RFC 6962 hash of leaves ``[j * 2**k, min((j + 1) * 2**k, n))``: a
    perfect subtree, or on the right edge the partial subtree carried up unchanged, which is
    exactly how RFC 6962 splits a range that is not a power of two.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        levels = [list(leaves)]
        sha, node = _sha256, _NODE
        while len(levels[-1]) > 1:
            level = levels[-1]
            pairs = iter(level)  # zip(it, it): consecutive pairs; a lone last one is left out
            nxt = [
                sha(node + left + right).digest() for left, right in zip(pairs, pairs, strict=False)
            ]
            if len(level) % 2:
                nxt.append(level[-1])
            levels.append(nxt)
        self.levels = levels

    def root(self) -> bytes:
        return self.levels[-1][0] if self.size else EMPTY_ROOT

    def range_root(self, lo: int, hi: int) -> bytes:
        """The hash of leaves ``[lo, hi)``, for the ranges RFC 6962 recursion produces."""
        n = hi - lo
        k = (n - 1).bit_length()  # smallest power of two >= n
        if lo % (1 << k) == 0 and (n == 1 << k or hi == self.size):
            return self.levels[k][lo >> k]
        split = _split(n)
        return node_hash(self.range_root(lo, lo + split), self.range_root(lo + split, hi))

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path for leaf ``index`` (RFC 9162 2.1.3.1)."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf index {index} outside a tree of size {self.size}")
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index >>= 1
        return proof

    def consistency_proof(self, old_size: int) -> list[bytes]:
        """Proof that the first ``old_size`` leaves form a prefix (RFC 9162 2.1.4.1)."""
        if not 0 <= old_size <= self.size:
            raise ValueError(f"old size {old_size} outside 0..{self.size}")
        if old_size in (0, self.size):
            return []
        return self._subproof(old_size, 0, self.size, True)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [self.range_root(lo, hi)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, complete), self.range_root(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.range_root(lo, lo + k)]

    def subtree_consistency_proof(self, start: int, end: int) -> list[bytes]:
        """Proof that the subtree ``[start, end)`` is part of this tree (the subtree consistency
        proofs of the Merkle Tree Certificates draft; ``[0, m)`` gives the RFC 9162 proof)."""
        if not is_valid_subtree(start, end) or end > self.size:
            raise ValueError(f"[{start}, {end}) is not a subtree of a tree of size {self.size}")
        return self._subtree_proof(start, end, 0, self.size, True)

    def _subtree_proof(self, start: int, end: int, lo: int, hi: int, known: bool) -> list[bytes]:
        n = hi - lo
        if start == 0 and end == n:
            return [] if known else [self.range_root(lo, hi)]
        k = _split(n)
        if end <= k:
            return [
                *self._subtree_proof(start, end, lo, lo + k, known),
                self.range_root(lo + k, hi),
            ]
        if start >= k:
            return [*self._subtree_proof(start - k, end - k, lo + k, hi, known),
                    self.range_root(lo, lo + k)]  # fmt: skip
        return [*self._subtree_proof(0, end - k, lo + k, hi, False), self.range_root(lo, lo + k)]


def is_valid_subtree(start: int, end: int) -> bool:
    """Is ``[start, end)`` a subtree: non-empty, and ``start`` a multiple of the smallest power
    of two that is at least its width (so its hash is a node, or a right-edge node, of any tree
    that contains it)?"""
    if not 0 <= start < end:
        return False
    width = 1 << (end - start - 1).bit_length()
    return start % width == 0


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``leaves`` (RFC 9162 2.1.3.1)."""
    return Tree(leaves).inclusion_proof(index)


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the tree of the first ``old_size`` leaves is a prefix (RFC 9162 2.1.4.1)."""
    return Tree(leaves).consistency_proof(old_size)


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


def verify_subtree_inclusion(
    leaf: bytes, index: int, proof: Sequence[bytes], root: bytes, *, start: int, end: int
) -> None:
    """Check that ``leaf`` sits at ``index`` of the subtree ``[start, end)`` whose hash is
    ``root``: an RFC 9162 inclusion proof inside the subtree."""
    _check_hash(leaf, "leaf hash")
    _check_hash(root, "subtree hash")
    if not is_valid_subtree(start, end):
        raise VerificationError(f"[{start}, {end}) is not a valid subtree")
    if not start <= index < end:
        raise VerificationError(f"leaf index {index} outside the subtree [{start}, {end})")
    verify_inclusion(leaf, index - start, end - start, proof, root)


def verify_subtree_consistency(
    subtree_root: bytes, root: bytes, proof: Sequence[bytes], *, start: int, end: int, size: int
) -> None:
    """Check that the subtree ``[start, end)`` with hash ``subtree_root`` is part of the tree of
    ``size`` leaves with ``root`` (Merkle Tree Certificates subtree consistency; for
    ``start == 0`` the same proof as RFC 9162 consistency).

    The proof is replayed along the path the prover's recursion takes, which depends only on
    ``start``, ``end`` and ``size``: every element must be used, and both hashes must come out.
    An empty subtree (``start == end``) is consistent with any tree, given the empty hash and
    no proof.
    """
    _check_hash(subtree_root, "subtree hash")
    _check_hash(root, "root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    if not 0 <= start <= end <= size:
        raise VerificationError(f"[{start}, {end}) is not inside a tree of size {size}")
    if start == end:
        if proof or subtree_root != EMPTY_ROOT:
            raise VerificationError("an empty subtree needs the empty hash and no proof")
        return
    if not is_valid_subtree(start, end):
        raise VerificationError(f"[{start}, {end}) is not a valid subtree")
    items = iter(proof)

    def take() -> bytes:
        try:
            return next(items)
        except StopIteration:
            raise VerificationError("subtree consistency proof is too short") from None

    def walk(lo: int, hi: int, n: int, known: bool) -> tuple[bytes, bytes]:
        # (hash of the subtree part [lo, hi), hash of the whole n-leaf tree it sits in)
        if lo == 0 and hi == n:
            if known:
                return subtree_root, subtree_root
            node = take()
            return node, node
        k = _split(n)
        if hi <= k:
            sub, whole = walk(lo, hi, k, known)
            return sub, node_hash(whole, take())
        if lo >= k:
            sub, whole = walk(lo - k, hi - k, n - k, known)
            return sub, node_hash(take(), whole)
        sub, whole = walk(0, hi - k, n - k, False)
        left = take()
        return node_hash(left, sub), node_hash(left, whole)

    sub, whole = walk(start, end, size, True)
    if next(items, None) is not None:
        raise VerificationError("subtree consistency proof is too long")
    if sub != subtree_root:
        raise VerificationError("subtree consistency proof does not lead to the subtree hash")
    if whole != root:
        raise VerificationError("subtree consistency proof does not lead to the root")
