"""Envelope encryption and key management.

The few calls most code needs::

    store = LocalKeyStore.open()                    # or KmsKeyProvider()
    fields = FieldEncryptor(store, KeyTable(url), "app")
    token = fields.encrypt("123-45-6789", table="patients", column="ssn", record_id="p-17")
    encrypt_file(src, dst, keyring_for("app"))      # AWS Encryption SDK message format v2

Everything hazardous (message parsing, key wrapping) lives in ``_``-prefixed modules.
"""

from __future__ import annotations

import os
from pathlib import Path

from phiward.crypto._blind import NORMALISERS, BlindIndex
from phiward.crypto._cache import CacheLimits, CacheStats, DataKeyCache
from phiward.crypto._fields import FieldEncryptor, shred_subject, token_key_id
from phiward.crypto._files import decrypt_file, encrypt_file
from phiward.crypto._keyrings import (
    EncryptedDataKey,
    Keyring,
    KmsKeyring,
    LocalKeyring,
    RawAesKeyring,
)
from phiward.crypto._keytable import KeyTable
from phiward.crypto._kms import KmsKeyProvider, is_kms_key_ref
from phiward.crypto._local import LocalKeyStore
from phiward.crypto._message import (
    MessageInfo,
    Suite,
    decrypt,
    decrypt_stream,
    encrypt,
    encrypt_stream,
)
from phiward.crypto._providers import DataKey, KeyProvider, MasterKeyInfo, WrappedKey
from phiward.crypto._rotation import RewrapReport, rewrap_keys, stale_keys

__all__ = [
    "NORMALISERS",
    "BlindIndex",
    "CacheLimits",
    "CacheStats",
    "DataKey",
    "DataKeyCache",
    "EncryptedDataKey",
    "FieldEncryptor",
    "KeyProvider",
    "KeyTable",
    "Keyring",
    "KmsKeyProvider",
    "KmsKeyring",
    "LocalKeyStore",
    "LocalKeyring",
    "MasterKeyInfo",
    "MessageInfo",
    "RawAesKeyring",
    "RewrapReport",
    "Suite",
    "WrappedKey",
    "decrypt",
    "decrypt_file",
    "decrypt_stream",
    "default_key_table_url",
    "encrypt",
    "encrypt_file",
    "encrypt_stream",
    "is_kms_key_ref",
    "keyring_for",
    "rewrap_keys",
    "shred_subject",
    "stale_keys",
    "token_key_id",
]


def default_key_table_url(home: Path | None = None) -> str:
    """SQLite key table under ``$PHIWARD_HOME`` (``keys.db``) unless a URL is configured."""
    url = os.environ.get("PHIWARD_CRYPTO__KEY_TABLE_URL")
    if url:
        return url
    home = Path(home or os.environ.get("PHIWARD_HOME") or Path.home() / ".phiward")
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return f"sqlite:///{home / 'keys.db'}"


def keyring_for(
    ref: str,
    *,
    store: LocalKeyStore | None = None,
    kms: KmsKeyProvider | None = None,
) -> Keyring:
    """The keyring for a ``--key`` reference: a KMS id/alias/ARN, else a local key name."""
    if ref.startswith("kms:"):
        return KmsKeyring(kms or KmsKeyProvider(), ref[4:])
    if is_kms_key_ref(ref):
        return KmsKeyring(kms or KmsKeyProvider(), ref)
    name = ref.removeprefix("local:")
    return LocalKeyring(store or LocalKeyStore.open(), name)
