"""Keyed fingerprints: recognise the same value across runs without ever storing it.

A fingerprint is HMAC-SHA256 under a per-install secret over the entity type and a normalised form
of the value (separators dropped for numbers, case and spacing folded for words). Without the
secret a fingerprint cannot be brute-forced from the small space of, say, SSNs; with it, two scans
can tell that the same patient's SSN sits in both places.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from phiward.core.entities import EntityType
from phiward.errors import ConfigError

FINGERPRINT_PREFIX = "hs256:"
_DIGEST_BYTES = 16
_KEY_BYTES = 32

_SEPARATOR_FREE = frozenset(
    {
        EntityType.SSN,
        EntityType.PHONE,
        EntityType.FAX,
        EntityType.CREDIT_CARD,
        EntityType.NPI,
        EntityType.ACCOUNT_NUMBER,
        EntityType.MRN,
        EntityType.HEALTH_PLAN_ID,
        EntityType.ZIP_CODE,
        EntityType.VEHICLE_ID,
        EntityType.DEA_NUMBER,
        EntityType.LICENSE_NUMBER,
        EntityType.DEVICE_ID,
        EntityType.OTHER_ID,
    }
)


# What precedes the value in the HMAC input: the entity's name and a NUL, encoded once.
_PREFIXES = {e: e.value.encode() + b"\x00" for e in EntityType}


def normalise(entity: EntityType, value: str) -> str:
    """The canonical form that is fingerprinted: equal values by meaning give equal forms."""
    if entity in _SEPARATOR_FREE:
        return "".join(filter(str.isalnum, value)).upper()
    return " ".join(value.split()).casefold()


class Fingerprinter:
    """Computes keyed fingerprints. Create one per process; it is cheap to call and thread-safe."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("fingerprint key must be at least 16 bytes")
        self._key = key

    def __repr__(self) -> str:  # never show the key
        return "Fingerprinter(<key hidden>)"

    def fingerprint(self, entity: EntityType, value: str) -> str:
        msg = _PREFIXES[entity] + normalise(entity, value).encode("utf-8", "replace")
        return FINGERPRINT_PREFIX + hmac.digest(self._key, msg, "sha256")[:_DIGEST_BYTES].hex()

    @classmethod
    def ephemeral(cls) -> Fingerprinter:
        """A fingerprinter with a random key (fingerprints are stable only within this process)."""
        return cls(secrets.token_bytes(_KEY_BYTES))

    @classmethod
    def from_key_file(cls, path: Path, *, create: bool = True) -> Fingerprinter:
        """Load (or create, mode 0600) the per-install fingerprint secret at ``path``."""
        if not path.exists():
            if not create:
                raise ConfigError(f"fingerprint key file {path} does not exist")
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = secrets.token_bytes(_KEY_BYTES)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, key.hex().encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            return cls(key)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"fingerprint key file {path} is readable by others (mode {mode:o}); "
                "run: chmod 600 " + str(path)
            )
        try:
            key = bytes.fromhex(path.read_text().strip())
        except ValueError as exc:
            raise ConfigError(f"fingerprint key file {path} is not hex") from exc
        return cls(key)
