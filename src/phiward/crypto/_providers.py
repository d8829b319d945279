"""The one interface every key provider implements (local key store, AWS KMS). Private."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DataKey:
    """A fresh data key: ``plaintext`` (keep in memory only) and its ``wrapped`` form.

    ``key_id`` is the canonical id of the master key that wrapped it (a local key's name, a KMS key
    ARN) and ``key_version`` which version of it (``v3`` locally; the key ARN for KMS, whose
    backing-key rotation is invisible to callers).
    """

    plaintext: bytes = field(repr=False)
    wrapped: bytes = field(repr=False)
    key_id: str
    key_version: str


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key still wrapped, with the master key (and version) that wrapped it."""

    wrapped: bytes = field(repr=False)
    key_id: str
    key_version: str


@dataclass(frozen=True, slots=True)
class MasterKeyInfo:
    """What ``phiward keys list`` shows: ids and dates, never material."""

    key_id: str
    provider: str
    current_version: str
    versions: tuple[str, ...]
    created: str | None = None
    kind: str = "aes-256"
    replicas: tuple[str, ...] = ()  # AWS KMS multi-region keys: replica ARNs made with the key


class KeyProvider(ABC):
    """Generate, unwrap and re-wrap data keys under named master keys.

    Implementations must bind ``context`` (opaque, non-secret strings) to the wrapped key so it
    cannot be unwrapped under another context, and must never log or return master key material.
    """

    #: short name stored in the key table (``local``, ``aws-kms``)
    name: str

    @abstractmethod
    def generate_data_key(self, key_id: str, context: Mapping[str, str]) -> DataKey:
        """A new 256-bit data key wrapped under the current version of ``key_id``."""

    @abstractmethod
    def decrypt_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        """Unwrap ``wrapped``; raises ``DecryptionError`` for a wrong key or context."""

    @abstractmethod
    def rewrap(
        self,
        wrapped: bytes,
        key_id: str,
        context: Mapping[str, str],
        new_key_id: str | None = None,
    ) -> WrappedKey:
        """Re-wrap under the current version of ``new_key_id`` (default ``key_id``)."""

    @abstractmethod
    def current_version(self, key_id: str) -> str:
        """The version new data keys get (to find keys still under an older master)."""

    @abstractmethod
    def canonical_id(self, key_id: str) -> str:
        """The id stored with wrapped keys (resolves KMS aliases to ARNs)."""
