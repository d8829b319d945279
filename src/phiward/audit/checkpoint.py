"""Signed tree heads as C2SP checkpoints (the signed-note format of Go's sumdb and Sigsum).

A checkpoint is three lines (origin, tree size, base64 root hash) and one or more Ed25519
signature lines ``— <key name> <base64(key hash[4] || signature)>``. Anyone holding the public
key can check it with standard tools; phiward never needs the private key to verify.

The signing key lives in a file (``PHIWARD_HOME/audit/signing.key``, PKCS#8 PEM, mode 0600). The
same key, through HKDF, also keys the per-row MACs that let ``verify`` name exactly which rows were
touched (see ``store.py``).

Or it stays in AWS KMS (:class:`KmsSigner`, an asymmetric ``ECC_NIST_P256`` signing key): the
private key never leaves KMS and every signature is a ``kms:Sign`` call CloudTrail records.
phiward claims no C2SP-registered type for ECDSA over plain notes, so these lines carry phiward's
own, clearly labelled signature type ``0xff || "phiward/ecdsa-p256-sha256"``: ECDSA P-256 with
SHA-256 over the note text, the signature DER-encoded as KMS returns it, and the key hash
computed over the DER SubjectPublicKeyInfo in place of the raw Ed25519 key. Standard
Ed25519-only note verifiers skip such lines (unknown key); phiward's :class:`Verifier` checks
both types.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from phiward.errors import ConfigError, VerificationError

_SIG_PREFIX = "\u2014 "  # em dash + space, per the signed-note format
_ED25519_ALG = b"\x01"
ECDSA_P256_ALG = b"\xffphiward/ecdsa-p256-sha256"  # phiward's own signed-note signature type
_MAX_KMS_MESSAGE = 4096  # kms:Sign takes at most 4 KiB of RAW message
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log ``origin``, its ``size`` and Merkle ``root``."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def _key_hash(name: str, public: bytes, alg: bytes = _ED25519_ALG) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + alg + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A public key and its name: enough to check checkpoints, offline.

    Ed25519 (C2SP type 0x01) or ECDSA P-256 (phiward's type, for KMS keys; see the module doc).
    """

    name: str
    public_key: PublicKey

    def __post_init__(self) -> None:
        if isinstance(self.public_key, ec.EllipticCurvePublicKey) and not isinstance(
            self.public_key.curve, ec.SECP256R1
        ):
            raise ConfigError("checkpoint ECDSA keys must be on P-256")

    @property
    def alg(self) -> bytes:
        return _ED25519_ALG if isinstance(self.public_key, Ed25519PublicKey) else ECDSA_P256_ALG

    @property
    def public_bytes(self) -> bytes:
        """The key as the signed-note key hash covers it: raw Ed25519, or DER SPKI for ECDSA."""
        if isinstance(self.public_key, Ed25519PublicKey):
            return self.public_key.public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        return self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def key_hash(self) -> bytes:
        return _key_hash(self.name, self.public_bytes, self.alg)

    def to_text(self) -> str:
        """``name+keyhash+base64(alg||key)``, the note verifier-key form."""
        key = base64.b64encode(self.alg + self.public_bytes).decode()
        return f"{self.name}+{self.key_hash.hex()}+{key}"

    def _verify(self, signature: bytes, message: bytes) -> None:
        if isinstance(self.public_key, Ed25519PublicKey):
            self.public_key.verify(signature, message)
        else:
            self.public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        try:
            name, khash, key = text.strip().split("+", 2)
            raw = base64.b64decode(key, validate=True)
        except ValueError as exc:
            raise ConfigError("not a checkpoint verifier key (name+hash+base64key)") from exc
        public: PublicKey
        if len(raw) == 33 and raw[:1] == _ED25519_ALG:
            alg, material = _ED25519_ALG, raw[1:]
            public = Ed25519PublicKey.from_public_bytes(material)
        elif raw.startswith(ECDSA_P256_ALG):
            alg, material = ECDSA_P256_ALG, raw[len(ECDSA_P256_ALG) :]
            try:
                loaded = serialization.load_der_public_key(material)
            except ValueError as exc:
                raise ConfigError("checkpoint verifier key holds no valid ECDSA key") from exc
            if not isinstance(loaded, ec.EllipticCurvePublicKey):
                raise ConfigError("checkpoint verifier key holds no ECDSA key")
            public = loaded
        else:
            raise ConfigError("checkpoint verifier key is neither Ed25519 nor phiward ECDSA P-256")
        if _key_hash(name, material, alg).hex() != khash:
            raise ConfigError("checkpoint verifier key hash does not match its key")
        return cls(name, public)

    def open(self, note: str) -> Checkpoint:
        """Check ``note``'s signature by this key and parse it. Raises VerificationError."""
        body, sep, sigs = note.partition("\n\n")
        if not sep:
            raise VerificationError("checkpoint has no signature block")
        body += "\n"
        lines = body.split("\n")
        if len(lines) < 4:
            raise VerificationError("checkpoint body must have origin, size and root lines")
        want = self.key_hash
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
                self._verify(raw[4:], body.encode())
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


class NoteSigner(Protocol):
    """What the log needs from a checkpoint signer."""

    @property
    def name(self) -> str: ...

    @property
    def verifier(self) -> Verifier: ...

    def sign(self, checkpoint: Checkpoint) -> str: ...


def _note(body: str, name: str, key_hash: bytes, signature: bytes) -> str:
    return f"{body}\n{_SIG_PREFIX}{name} {base64.b64encode(key_hash + signature).decode()}\n"


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
        return _note(body, self.name, self.verifier.key_hash, sig)

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


class KmsSigner:
    """Checkpoints signed by an AWS KMS asymmetric key (``ECC_NIST_P256``, ``ECDSA_SHA_256``).

    The public key is fetched once (``kms:GetPublicKey``); each head is one ``kms:Sign`` call with
    ``MessageType=RAW``, and the returned signature is checked against that public key before the
    note is published.
    """

    def __init__(self, key_id: str, name: str, *, provider: Any = None) -> None:
        from phiward.crypto._kms import KmsKeyProvider  # noqa: PLC0415 - boto3 is optional

        self.name = name
        self._provider = provider or KmsKeyProvider()
        meta = self._provider._call("get_public_key", key_id, KeyId=key_id)
        if meta.get("KeyUsage") != "SIGN_VERIFY":
            raise ConfigError(f"KMS key {key_id} is not a signing key (KeyUsage SIGN_VERIFY)")
        spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
        if spec != "ECC_NIST_P256" or "ECDSA_SHA_256" not in meta.get("SigningAlgorithms", []):
            raise ConfigError(
                f"KMS key {key_id} is {spec}; audit checkpoints need an ECC_NIST_P256 key"
            )
        try:
            public = serialization.load_der_public_key(bytes(meta["PublicKey"]))
        except ValueError as exc:
            raise ConfigError(f"KMS returned an unreadable public key for {key_id}") from exc
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise ConfigError(f"KMS key {key_id} is not an ECDSA key")
        self.key_id = str(meta.get("KeyId") or key_id)
        self._verifier = Verifier(name, public)

    def __repr__(self) -> str:
        return f"KmsSigner(name={self.name!r}, key_id={self.key_id!r})"

    @property
    def verifier(self) -> Verifier:
        return self._verifier

    def sign(self, checkpoint: Checkpoint) -> str:
        body = checkpoint.body()
        message = body.encode()
        if len(message) > _MAX_KMS_MESSAGE:
            raise ConfigError("checkpoint origin is too long to sign with KMS (4 KiB limit)")
        resp = self._provider._call(
            "sign",
            self.key_id,
            KeyId=self.key_id,
            Message=message,
            MessageType="RAW",
            SigningAlgorithm="ECDSA_SHA_256",
        )
        sig = bytes(resp["Signature"])
        try:
            self._verifier._verify(sig, message)
        except InvalidSignature as exc:
            raise VerificationError(
                f"KMS key {self.key_id} returned a signature its public key does not verify"
            ) from exc
        return _note(body, self.name, self._verifier.key_hash, sig)


def load_row_mac_key(path: Path) -> bytes:
    """The 32-byte row-MAC key kept in a file (mode 0600), created on first use.

    Used when the checkpoint key is in KMS and so cannot be the HKDF input.
    """
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(f"audit MAC key {path} is readable by others (mode {mode:o})")
        key = path.read_bytes()
        if len(key) != 32:
            raise ConfigError(f"audit MAC key {path} is not 32 bytes")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key
