"""Keyrings for the message format: raw AES (and the local key store) and AWS KMS. Private.

Encrypted data keys (EDKs) use the AWS Encryption SDK's standard encodings, so messages interoperate
with the official SDKs:

* raw AES: provider id = key namespace; provider info = key name | tag length in bits (uint32,
  128) | IV length (uint32, 12) | IV (12); ciphertext = wrapped key | tag (16); AES-256-GCM with the
  serialised encryption context as AAD.
* AWS KMS: provider id ``aws-kms``; provider info = key ARN; ciphertext = KMS CiphertextBlob,
  encrypted with the message's encryption context as KMS encryption context.
"""

from __future__ import annotations

import os
import secrets
import struct
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from phiward.crypto._kms import KMS_PROVIDER_ID, KmsKeyProvider, mrk_match
from phiward.crypto._local import LocalKeyStore
from phiward.crypto._util import serialize_context
from phiward.errors import DecryptionError, KeyNotFoundError

LOCAL_NAMESPACE = "phiward-local"


@dataclass(frozen=True, slots=True)
class EncryptedDataKey:
    provider_id: bytes
    provider_info: bytes
    ciphertext: bytes


class Keyring(ABC):
    """Produces a data key plus its EDKs on encrypt; recovers the data key from EDKs on decrypt."""

    @abstractmethod
    def on_encrypt(self, context: Mapping[str, str]) -> tuple[bytes, list[EncryptedDataKey]]:
        """A new 32-byte data key and the EDKs that wrap it."""

    @abstractmethod
    def on_decrypt(self, edks: Sequence[EncryptedDataKey], context: Mapping[str, str]) -> bytes:
        """The data key from the first EDK this keyring can unwrap, else ``DecryptionError``."""

    @property
    @abstractmethod
    def identity(self) -> str:
        """A stable, non-secret id (cache partitioning and audit)."""


class RawAesKeyring(Keyring):
    """A raw AES-256 wrapping key identified by (namespace, name), as in the official SDKs."""

    def __init__(self, namespace: str, name: str, wrapping_key: bytes) -> None:
        if len(wrapping_key) != 32:
            raise ValueError("the raw AES wrapping key must be 32 bytes (AES-256)")
        if namespace.startswith("aws-kms"):
            raise ValueError("namespace must not start with 'aws-kms'")
        self.namespace, self.name = namespace, name
        self._ns, self._name = namespace.encode(), name.encode()
        self._aead = AESGCM(wrapping_key)

    @property
    def identity(self) -> str:
        return f"raw-aes:{self.namespace}/{self.name}"

    def wrap(self, data_key: bytes, context: Mapping[str, str]) -> EncryptedDataKey:
        iv = os.urandom(12)
        ct = self._aead.encrypt(iv, data_key, serialize_context(context))
        info = self._name + struct.pack(">II", 128, 12) + iv
        return EncryptedDataKey(self._ns, info, ct)

    def on_encrypt(self, context: Mapping[str, str]) -> tuple[bytes, list[EncryptedDataKey]]:
        data_key = secrets.token_bytes(32)
        return data_key, [self.wrap(data_key, context)]

    def matches(self, edk: EncryptedDataKey) -> bool:
        return (
            edk.provider_id == self._ns
            and len(edk.provider_info) == len(self._name) + 20
            and edk.provider_info.startswith(self._name)
            and edk.provider_info[len(self._name) : len(self._name) + 8]
            == struct.pack(">II", 128, 12)
        )

    def try_unwrap(self, edk: EncryptedDataKey, aad: bytes) -> bytes | None:
        iv = edk.provider_info[-12:]
        try:
            key = self._aead.decrypt(iv, edk.ciphertext, aad)
        except InvalidTag:
            return None
        return key if len(key) == 32 else None

    def on_decrypt(self, edks: Sequence[EncryptedDataKey], context: Mapping[str, str]) -> bytes:
        aad = serialize_context(context)
        matched = False
        for edk in edks:
            if self.matches(edk):
                matched = True
                key = self.try_unwrap(edk, aad)
                if key is not None:
                    return key
        if matched:
            raise DecryptionError(
                f"the data key wrapped for {self.namespace}/{self.name} does not decrypt: "
                "wrong key material or altered encryption context",
                reason="wrong-key-or-context",
            )
        raise DecryptionError(
            f"the message was not encrypted for key {self.namespace}/{self.name} (wrong key)",
            reason="wrong-key",
        )


class LocalKeyring(Keyring):
    """A local key-store master key: raw AES under ``phiward-local`` / ``<name>@v<version>``.

    Encrypts under the current version; decrypts with whichever version the message names, so
    rotation never strands old files.
    """

    def __init__(self, store: LocalKeyStore, name: str) -> None:
        self.store, self.name = store, name
        info = store.info(name)
        if info.kind != "aes-256":
            raise ValueError(f"key {name!r} is an HMAC key and cannot wrap data keys")
        self._rings = {
            v: RawAesKeyring(LOCAL_NAMESPACE, f"{name}@v{v}", m)
            for v, m in store.versions(name).items()
        }
        self._current = int(info.current_version[1:])

    @property
    def identity(self) -> str:
        return f"local:{self.name}"

    def on_encrypt(self, context: Mapping[str, str]) -> tuple[bytes, list[EncryptedDataKey]]:
        return self._rings[self._current].on_encrypt(context)

    def on_decrypt(self, edks: Sequence[EncryptedDataKey], context: Mapping[str, str]) -> bytes:
        aad = serialize_context(context)
        matched = False
        for edk in edks:
            for ring in self._rings.values():
                if ring.matches(edk):
                    matched = True
                    key = ring.try_unwrap(edk, aad)
                    if key is not None:
                        return key
        if matched:
            raise DecryptionError(
                f"the data key wrapped under local key {self.name!r} does not decrypt: altered "
                "encryption context or tampered key",
                reason="wrong-key-or-context",
            )
        prefix = f"{self.name}@v".encode()
        if any(
            e.provider_id == LOCAL_NAMESPACE.encode() and e.provider_info.startswith(prefix)
            for e in edks
        ):
            raise KeyNotFoundError(
                f"the message needs a version of local key {self.name!r} "
                "that this key store does not have"
            )
        raise DecryptionError(
            f"the message was not encrypted under local key {self.name!r} (wrong key)",
            reason="wrong-key",
        )


class KmsKeyring(Keyring):
    """An AWS KMS key (id, alias or ARN). Multi-region aware on decrypt: an EDK for a replica of
    the same ``mrk-`` key in another region is decrypted through this keyring's region."""

    def __init__(self, provider: KmsKeyProvider, key_id: str) -> None:
        self.provider = provider
        self.key_id = key_id
        self._arn: str | None = key_id if key_id.startswith("arn:") and ":key/" in key_id else None

    @property
    def arn(self) -> str:
        if self._arn is None:
            self._arn = self.provider.canonical_id(self.key_id)
        return self._arn

    @property
    def identity(self) -> str:
        return f"aws-kms:{self.key_id}"

    def on_encrypt(self, context: Mapping[str, str]) -> tuple[bytes, list[EncryptedDataKey]]:
        dk = self.provider.generate_data_key(self.key_id, context)
        return dk.plaintext, [
            EncryptedDataKey(KMS_PROVIDER_ID.encode(), dk.key_id.encode(), dk.wrapped)
        ]

    def on_decrypt(self, edks: Sequence[EncryptedDataKey], context: Mapping[str, str]) -> bytes:
        arn = self.arn
        last: DecryptionError | None = None
        for edk in edks:
            if edk.provider_id != KMS_PROVIDER_ID.encode():
                continue
            try:
                edk_arn = edk.provider_info.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if not mrk_match(edk_arn, arn):
                continue
            try:
                return self.provider.decrypt_data_key(edk.ciphertext, arn, context)
            except DecryptionError as exc:
                last = exc
        if last is not None:
            raise last
        raise DecryptionError(
            f"the message was not encrypted under KMS key {self.key_id} (wrong key)",
            reason="wrong-key",
        )
