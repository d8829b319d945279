"""Signed tree heads as C2SP checkpoints (the signed-note format of Go's sumdb and Sigsum).

A checkpoint is three lines (origin, tree size, base64 root hash) and one or more Ed25519
signature lines ``— <key name> <base64(key hash[4] || signature)>``. Anyone holding the public
key can check it with standard tools; phiward never needs the private key to verify.

The signing key lives in a file (``PHIWARD_HOME/audit/signing.key``, PKCS#8 PEM, mode 0600). The
same key, through HKDF, also keys the per-row MACs that let ``verify`` name exactly which rows were
touched (see ``store.py``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from phiward.errors import ConfigError, VerificationError

_SIG_PREFIX = "\u2014 "  # em dash + space, per the signed-note format
_ED25519_ALG = b"\x01"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log ``origin``, its ``size`` and Merkle ``root``."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def _key_hash(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519_ALG + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A public key and its name: enough to check checkpoints, offline."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def public_bytes(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def to_text(self) -> str:
        """``name+keyhash+base64(alg||key)``, the note verifier-key form."""
        key = base64.b64encode(_ED25519_ALG + self.public_bytes).decode()
        return f"{self.name}+{_key_hash(self.name, self.public_bytes).hex()}+{key}"

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        try:
            name, khash, key = text.strip().split("+", 2)
            raw = base64.b64decode(key, validate=True)
        except ValueError as exc:
            raise ConfigError("not a checkpoint verifier key (name+hash+base64key)") from exc
        if len(raw) != 33 or raw[:1] != _ED25519_ALG:
            raise ConfigError("checkpoint verifier key is not an Ed25519 key")
        if _key_hash(name, raw[1:]).hex() != khash:
            raise ConfigError("checkpoint verifier key hash does not match its key")
        return cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def open(self, note: str) -> Checkpoint:
        """Check ``note``'s signature by this key and parse it. Raises VerificationError."""
        body, sep, sigs = note.partition("\n\n")
        if not sep:
            raise VerificationError("checkpoint has no signature block")
        body += "\n"
        lines = body.split("\n")
        if len(lines) < 4:
            raise VerificationError("checkpoint body must have origin, size and root lines")
        want = _key_hash(self.name, self.public_bytes)
        for line in sigs.splitlines():
            if not line.startswith(_SIG_PREFIX):
                raise VerificationError("malformed checkpoint signature line")
            name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
            try:
                raw = base64.b64decode(b64, validate=True)
            except ValueError as exc:
                raise VerificationError("checkpoint signature is not base64") from exc
            if name != self.name or raw[:4] != want:
                continue
            try:
                self.public_key.verify(raw[4:], body.encode())
            except InvalidSignature as exc:
                raise VerificationError("checkpoint signature does not verify") from exc
            try:
                size = int(lines[1])
                root = base64.b64decode(lines[2], validate=True)
            except ValueError as exc:
                raise VerificationError("checkpoint size or root is malformed") from exc
            if size < 0 or len(root) != 32:
                raise VerificationError("checkpoint size or root is out of range")
            return Checkpoint(lines[0], size, root)
        raise VerificationError(f"checkpoint carries no signature by key {self.name!r}")


@dataclass(frozen=True)
class Signer:
    """The log's signing key. Kept out of reprs and logs."""

    name: str
    _private: Ed25519PrivateKey

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r})"

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self._private.public_key())

    def sign(self, checkpoint: Checkpoint) -> str:
        body = checkpoint.body()
        sig = self._private.sign(body.encode())
        khash = _key_hash(self.name, self.verifier.public_bytes)
        return f"{body}\n{_SIG_PREFIX}{self.name} {base64.b64encode(khash + sig).decode()}\n"

    def row_mac_key(self) -> bytes:
        """A 32-byte MAC key derived from the signing key (HKDF-SHA256, own label)."""
        raw = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"phiward audit row mac v1").derive(raw)

    @classmethod
    def load_or_create(cls, path: Path, name: str) -> Signer:
        """Read the PEM key at ``path``, creating it (mode 0600) on first use."""
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise ConfigError(
                    f"audit signing key {path} is readable by others (mode {mode:o}); chmod 600 it"
                )
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except ValueError as exc:
                raise ConfigError(f"audit signing key {path} is not a PEM private key") from exc
            if not isinstance(key, Ed25519PrivateKey):
                raise ConfigError(f"audit signing key {path} is not an Ed25519 key")
            return cls(name, key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        return cls(name, key)
