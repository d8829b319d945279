"""Field tokens: AES-256-GCM per value, data keys by reference into the key table. Private.

Binary form (``encrypt_bytes``)::

    0x01 | data-key id (16) | nonce (12) | ciphertext | GCM tag (16)

Text form (``encrypt``): ``pw1.`` + unpadded base64url of everything after the version byte. The
AAD binds ``phiward-field-v1``, the tenant, table, column, record id (opaque ids, never PHI) and the
data-key id, so a token copied to another row, column or tenant fails to decrypt.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from phiward.core.events import SecurityEvent, emit
from phiward.crypto._cache import CacheLimits, DataKeyCache
from phiward.crypto._keytable import KeyRow, KeyTable, check_provider
from phiward.crypto._providers import KeyProvider
from phiward.crypto._util import b64url_decode, b64url_encode
from phiward.errors import DecryptionError, KeyNotFoundError

TOKEN_VERSION = 0x01
TEXT_PREFIX = "pw1."
_ID_LEN = 16
_NONCE_LEN = 12
_TAG_LEN = 16
_MIN_BODY = _ID_LEN + _NONCE_LEN + _TAG_LEN
_LABEL = b"phiward-field-v1"
_pack_i = struct.Struct(">I").pack


@dataclass(frozen=True, slots=True)
class _Live:
    """A data key in memory: its id (raw and hex) and a reusable AESGCM."""

    raw_id: bytes
    hex_id: str
    aead: AESGCM


def _wrap_context(tenant: str, hex_id: str, subject: str | None) -> dict[str, str]:
    ctx = {"phiward:purpose": "field-data-key", "phiward:tenant": tenant, "phiward:dk": hex_id}
    if subject is not None:
        ctx["phiward:subject"] = subject
    return ctx


class FieldEncryptor:
    """Encrypt and decrypt individual field values for one tenant under one master key.

    Data keys are generated on demand, stored wrapped in ``key_table``, and reused within the cache
    limits (each reuse is a KMS call saved). With ``subject=`` a data key is dedicated to that
    subject, so :meth:`shred_subject` makes exactly that subject's values unrecoverable.
    """

    def __init__(
        self,
        provider: KeyProvider,
        key_table: KeyTable,
        master_key_id: str,
        *,
        tenant: str = "default",
        cache: DataKeyCache[Any] | None = None,
        limits: CacheLimits | None = None,
    ) -> None:
        self.provider = provider
        self.key_table = key_table
        self.master_key_id = master_key_id
        self.tenant = tenant
        self._tenant_b = _pack_i(len(tenant.encode())) + tenant.encode()
        self.cache: DataKeyCache[Any] = cache if cache is not None else DataKeyCache(limits)
        self._aad_prefix: dict[tuple[str, str], bytes] = {}

    # ---- data keys ----------------------------------------------------------------------
    def _new_key(self, subject: str | None) -> _Live:
        raw_id = os.urandom(_ID_LEN)
        hex_id = raw_id.hex()
        dk = self.provider.generate_data_key(
            self.master_key_id, _wrap_context(self.tenant, hex_id, subject)
        )
        self.key_table.insert(
            KeyRow(
                hex_id,
                self.tenant,
                subject,
                self.provider.name,
                dk.key_id,
                dk.key_version,
                dk.wrapped,
                False,
            )
        )
        emit(
            SecurityEvent(
                "datakey.create",
                "C",
                resource_type="data-key",
                resource_id=hex_id,
                subject_id=subject,
                details={
                    "master_key": dk.key_id,
                    "version": dk.key_version,
                    "provider": self.provider.name,
                },
            )
        )
        live = _Live(raw_id, hex_id, AESGCM(dk.plaintext))
        self.cache.put(("dec", self.tenant, hex_id), live)
        return live

    def _load_key(self, raw_id: bytes) -> _Live:
        hex_id = raw_id.hex()
        ck: Hashable = ("dec", self.tenant, hex_id)
        live = self.cache.get(ck)
        if live is not None:
            return live  # type: ignore[no-any-return]
        row = self.key_table.get(hex_id)
        if row is None or row.tenant != self.tenant:
            raise KeyNotFoundError(f"data key {hex_id} is not in the key table for this tenant")
        if row.wrapped is None:
            raise KeyNotFoundError(f"data key {hex_id} was crypto-shredded; the data is gone")
        check_provider(row, self.provider.name)
        plaintext = self.provider.decrypt_data_key(
            row.wrapped, row.master_key_id, _wrap_context(row.tenant, hex_id, row.subject)
        )
        live = _Live(raw_id, hex_id, AESGCM(plaintext))
        self.cache.put(ck, live)
        return live

    def _aad(self, table: str, column: str, record_id: str, raw_id: bytes) -> bytes:
        prefix = self._aad_prefix.get((table, column))
        if prefix is None:
            t, c = table.encode(), column.encode()
            prefix = _LABEL + self._tenant_b + _pack_i(len(t)) + t + _pack_i(len(c)) + c
            if len(self._aad_prefix) < 4096:
                self._aad_prefix[(table, column)] = prefix
        r = record_id.encode()
        return prefix + _pack_i(len(r)) + r + raw_id

    # ---- tokens -------------------------------------------------------------------------
    def encrypt_bytes(
        self,
        value: bytes | str,
        *,
        table: str,
        column: str,
        record_id: str,
        subject: str | None = None,
    ) -> bytes:
        """The binary token (for ``bytea``/``BLOB`` columns): smallest and fastest."""
        data = value.encode("utf-8") if isinstance(value, str) else value
        subj = subject
        live: _Live = self.cache.get_or_create(
            ("enc", self.tenant, self.master_key_id, subj), len(data), lambda: self._new_key(subj)
        )
        nonce = os.urandom(_NONCE_LEN)
        raw_id = live.raw_id
        ct = live.aead.encrypt(nonce, data, self._aad(table, column, record_id, raw_id))
        return b"\x01" + raw_id + nonce + ct

    def encrypt(
        self,
        value: bytes | str,
        *,
        table: str,
        column: str,
        record_id: str,
        subject: str | None = None,
    ) -> str:
        """The text token ``pw1.<base64url>`` (for ``text`` columns and JSON)."""
        token = self.encrypt_bytes(
            value, table=table, column=column, record_id=record_id, subject=subject
        )
        return TEXT_PREFIX + b64url_encode(token[1:])

    def decrypt_bytes(self, token: bytes, *, table: str, column: str, record_id: str) -> bytes:
        if len(token) < 1 + _MIN_BODY or token[0] != TOKEN_VERSION:
            raise DecryptionError(
                "not a phiward field token (bad version or length)", reason="corrupted"
            )
        return self._open(memoryview(token)[1:], table, column, record_id)

    def decrypt(self, token: str, *, table: str, column: str, record_id: str) -> bytes:
        if not token.startswith(TEXT_PREFIX):
            raise DecryptionError(
                "not a phiward field token (missing 'pw1.' prefix)", reason="corrupted"
            )
        try:
            body = b64url_decode(token[4:])
        except (ValueError, UnicodeEncodeError):
            raise DecryptionError(
                "field token is not valid base64url", reason="corrupted"
            ) from None
        if len(body) < _MIN_BODY:
            raise DecryptionError("field token is truncated", reason="truncated")
        return self._open(memoryview(body), table, column, record_id)

    def decrypt_str(self, token: str, *, table: str, column: str, record_id: str) -> str:
        return self.decrypt(token, table=table, column=column, record_id=record_id).decode("utf-8")

    def _open(self, body: memoryview, table: str, column: str, record_id: str) -> bytes:
        raw_id = bytes(body[:_ID_LEN])
        live = self._load_key(raw_id)
        try:
            return live.aead.decrypt(
                body[_ID_LEN : _ID_LEN + _NONCE_LEN],
                body[_ID_LEN + _NONCE_LEN :],
                self._aad(table, column, record_id, raw_id),
            )
        except InvalidTag:
            raise DecryptionError(
                "field token does not authenticate: tampered, or bound to another "
                "table/column/record/tenant",
                reason="wrong-context-or-tampered",
            ) from None

    # ---- shredding ----------------------------------------------------------------------
    def shred_subject(self, subject: str) -> int:
        """Crypto-shred one subject: erase their wrapped data keys and drop cached copies."""
        ids = self.key_table.shred_subject(self.tenant, subject)
        wanted = set(ids)
        self.cache.evict(
            lambda k: (
                isinstance(k, tuple)
                and (
                    (k[0] == "enc" and k[1] == self.tenant and k[3] == subject)
                    or (k[0] == "dec" and k[1] == self.tenant and k[2] in wanted)
                )
            )
        )
        emit(
            SecurityEvent(
                "key.shred",
                "D",
                resource_type="subject-keys",
                resource_id=subject,
                subject_id=subject,
                details={"data_keys": len(ids)},
            )
        )
        return len(ids)


def token_key_id(token: str | bytes) -> str:
    """The data-key id a token references (hex), without decrypting it."""
    if isinstance(token, str):
        if not token.startswith(TEXT_PREFIX):
            raise DecryptionError("not a phiward field token", reason="corrupted")
        body = b64url_decode(token[4:])
    else:
        body = token[1:]
    if len(body) < _MIN_BODY:
        raise DecryptionError("field token is truncated", reason="truncated")
    return body[:_ID_LEN].hex()
