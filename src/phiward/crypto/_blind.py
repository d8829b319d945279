"""Blind indexes: keyed, truncated HMAC-SHA256 of a normalised value, for equality search.

The index key is separate from every encryption key (a ``hmac-sha256`` key in the key store,
stretched per index with HKDF), so the index reveals nothing to someone holding only data keys.
Truncation trades false positives (more rows to decrypt and filter) for less leakage: shorter
indexes collide more, so equal indexes no longer prove equal values. Private module.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def _email(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


def _alnum(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isalnum()).upper()


NORMALISERS: dict[str, Callable[[str], str]] = {
    "exact": lambda v: v,
    "text": _text,
    "email": _email,
    "digits": _digits,
    "ssn": _digits,
    "phone": _digits,
    "alnum": _alnum,
    "mrn": _alnum,
}


class BlindIndex:
    """``compute(value)`` → hex of the first ``bits`` bits of HMAC-SHA256(index key, value').

    ``name`` (e.g. ``patients.ssn``) separates indexes: the same SSN in two columns indexes
    differently. ``normalise`` is a name from :data:`NORMALISERS` or a function.
    """

    __slots__ = ("_key", "_nbytes", "_normalise", "bits", "name")

    def __init__(
        self,
        key: bytes,
        name: str,
        *,
        bits: int = 32,
        normalise: str | Callable[[str], str] = "text",
    ) -> None:
        if len(key) < 16:
            raise ValueError("blind index key must be at least 16 bytes")
        if bits % 8 or not 8 <= bits <= 256:
            raise ValueError("bits must be a multiple of 8 between 8 and 256")
        if isinstance(normalise, str):
            try:
                normalise = NORMALISERS[normalise]
            except KeyError:
                raise ValueError(
                    f"unknown normaliser {normalise!r}; use one of {', '.join(sorted(NORMALISERS))}"
                ) from None
        self.name = name
        self.bits = bits
        self._nbytes = bits // 8
        self._normalise = normalise
        self._key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"phiward-blind-index-v1\x00" + name.encode("utf-8"),
        ).derive(key)

    def compute(self, value: str) -> str:
        norm = self._normalise(value).encode("utf-8")
        return hmac.new(self._key, norm, hashlib.sha256).digest()[: self._nbytes].hex()

    def matches(self, value: str, index: str) -> bool:
        """Constant-time comparison of ``value``'s index with a stored one."""
        return hmac.compare_digest(self.compute(value), index)
