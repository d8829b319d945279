"""Field tokens: AES-256-GCM per value, data keys by reference into the key table. Private.

Binary form (``encrypt_bytes``)::

    0x01 | data-key id (16) | nonce (12) | ciphertext | GCM tag (16)

Text form 2 (``encrypt``): standard padded base64 of ``a7 0d 80`` | everything after the version
byte. The three magic bytes always encode to ``pw2A``, so a token is recognisable and yet is one
base64 string (no prefix to cut off or glue on: ~0.2 µs per enc+dec at 1 KiB). Text form 1,
``pw1.`` + base64 of the same body without magic, is still decrypted. (``+``/``/`` are fine in
SQL text and JSON; the standard alphabet is the fastest to code.) The
AAD is ``phiward-field-v1`` | lp(tenant) | lp(table) | lp(column) | data-key id (16) | record id
(lp = uint32 length prefix; opaque ids only, never PHI), so a token copied to another row, column
or tenant fails to decrypt.
"""

from __future__ import annotations

import math
import os
import struct
import threading
import time
import weakref
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from phiward.core.events import SecurityEvent, emit
from phiward.crypto._cache import CacheLimits, DataKeyCache
from phiward.crypto._keytable import KeyRow, KeyTable, check_provider
from phiward.crypto._kms import mrk_match
from phiward.crypto._providers import KeyProvider
from phiward.crypto._util import b64_decode_fast, b64_decode_strict, b64_encode_str
from phiward.errors import DecryptionError, KeyNotFoundError

TOKEN_VERSION = 0x01
TEXT_PREFIX = "pw2A"  # what every text token written now starts with (see _TEXT_MAGIC)
TEXT_PREFIX_V1 = "pw1."  # the first text form: still decrypted, no longer written
# Text form 2 is base64(_TEXT_MAGIC | body): the three magic bytes encode to exactly "pw2A", so
# the whole token is one base64 string, decoded without slicing off a prefix.
_TEXT_MAGIC = b"\xa7\x0d\x80"
_ID_LEN = 16
_NONCE_LEN = 12
_TAG_LEN = 16
_MIN_BODY = _ID_LEN + _NONCE_LEN + _TAG_LEN
_LABEL = b"phiward-field-v1"
_pack_i = struct.Struct(">I").pack
_monotonic = time.monotonic
_pack_nonce = struct.Struct(">4sQ").pack
_MAX_HEADS = 256  # cached AAD heads per data key (table/column pairs; more are built per call)
_MISMATCH = (
    "field token does not authenticate: tampered, or bound to another table/column/record/tenant"
)


@dataclass(slots=True)
class _Live:
    """A data key in memory: its id (raw and hex), a reusable AESGCM, whether it was shredded
    (checked by every thread still holding it for encryption), and its AAD heads per
    (table, column) (label | lp(tenant) | lp(table) | lp(column) | data-key id), bounded."""

    raw_id: bytes
    hex_id: str
    aead: AESGCM
    salt: bytes
    tenant: str
    dead: bool = False
    heads: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def head(self, table: str, column: str) -> bytes:
        t, c, ten = table.encode(), column.encode(), self.tenant.encode()
        head = _LABEL + _pack_i(len(ten)) + ten + _pack_i(len(t)) + t + _pack_i(len(c)) + c
        head += self.raw_id
        if len(self.heads) < _MAX_HEADS:
            self.heads[table, column] = head
        return head


class _Slot:
    """One thread's current encryption key for one subject, with its usage counters (the key's
    fields are copied here so the hot path makes one attribute hop, not two)."""

    __slots__ = (
        "aead",
        "expires",
        "heads",
        "live",
        "messages",
        "nbytes",
        "raw_id",
        "salt",
        "text_id",
    )

    def __init__(self, live: _Live, expires: float) -> None:
        self.live, self.expires, self.messages, self.nbytes = live, expires, 0, 0
        self.raw_id, self.aead, self.salt, self.heads = (
            live.raw_id,
            live.aead,
            live.salt,
            live.heads,
        )
        self.text_id = _TEXT_MAGIC + live.raw_id


_ENCRYPTORS: weakref.WeakSet[FieldEncryptor] = weakref.WeakSet()


def _forget_after_fork() -> None:
    """A forked child must never continue its parent's nonce counters: drop every slot."""
    for enc in list(_ENCRYPTORS):
        enc._local = threading.local()
        enc._slots_lock = threading.Lock()
        enc._active = []


os.register_at_fork(after_in_child=_forget_after_fork)


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
        self.cache: DataKeyCache[Any] = cache if cache is not None else DataKeyCache(limits)
        self.limits = self.cache.limits
        self._max_messages = self.limits.max_messages
        self._max_bytes = self.limits.max_bytes
        self._max_age = self.limits.max_age
        self._entries = self.cache._entries  # read-only fast path of DataKeyCache.get
        self._dec_hits = 0
        self._local = threading.local()
        self._slots_lock = threading.Lock()
        self._active: list[_Slot] = []
        self._retired_saved = 0
        _ENCRYPTORS.add(self)

    @property
    def calls_saved(self) -> int:
        """Key-provider calls avoided so far: encryptions that reused a cached data key, plus
        decryptions that found their key in the cache."""
        with self._slots_lock:
            enc = self._retired_saved + sum(max(s.messages - 1, 0) for s in self._active)
        return enc + self.cache.stats.hits + self._dec_hits

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
        live = _Live(raw_id, hex_id, AESGCM(dk.plaintext), os.urandom(4), self.tenant)
        self.cache.put(raw_id, live)
        return live

    def _load_key(self, raw_id: bytes) -> _Live:
        live = self.cache.get(raw_id)
        if live is not None and live.tenant == self.tenant:
            return live  # type: ignore[no-any-return]
        hex_id = raw_id.hex()
        ck: Hashable = raw_id
        row = self.key_table.get(hex_id)
        if row is None or row.tenant != self.tenant:
            raise KeyNotFoundError(f"data key {hex_id} is not in the key table for this tenant")
        if row.wrapped is None:
            raise KeyNotFoundError(f"data key {hex_id} was crypto-shredded; the data is gone")
        check_provider(row, self.provider.name)
        # A row wrapped under another region's replica of this encryptor's multi-region KMS key
        # (same mrk- id, account and partition) is unwrapped through this encryptor's key, i.e.
        # in its region: an MRK replica decrypts what its siblings encrypted (disaster recovery,
        # regional read replicas). Anything else goes to the key named in the row.
        unwrap_with = row.master_key_id
        if unwrap_with != self.master_key_id and mrk_match(unwrap_with, self.master_key_id):
            unwrap_with = self.master_key_id
        plaintext = self.provider.decrypt_data_key(
            row.wrapped, unwrap_with, _wrap_context(row.tenant, hex_id, row.subject)
        )
        live = _Live(raw_id, hex_id, AESGCM(plaintext), b"", row.tenant)
        self.cache.put(ck, live)
        return live

    # ---- tokens -------------------------------------------------------------------------
    # The hot paths below are written flat on purpose: at 1 KiB, Python call overhead costs as
    # much as AES-GCM itself (each attribute hop or call is ~30-100 ns of a ~2 µs budget), so
    # ``encrypt`` and ``decrypt`` (the text form) inline what ``_seal``/``_open`` do for the
    # binary form. Keep the two copies in step.
    #
    # Nonces follow SP 800-38D's deterministic construction: a random 4-byte field fixed per
    # data key, then the key's 8-byte message counter. Each thread encrypts with its own current
    # data key per subject (no lock on the hot path), so a key's counter is only ever advanced by
    # one thread; keys used for encryption are always fresh in this process (never loaded from
    # the table), and a forked child forgets them, so no (key, nonce) pair can repeat.
    # AAD = label | lp(tenant) | lp(table) | lp(column) | data-key id (16) | record id: every
    # field is length-delimited or fixed, so no two bindings serialise alike. The part before
    # the record id is cached per data key and (table, column) (``_Live.heads``).
    def _fresh_slot(self, subject: str | None) -> _Slot:
        try:
            slots: dict[str | None, _Slot] = self._local.slots
        except AttributeError:
            slots = self._local.slots = {}
        old = slots.get(subject)
        slot = _Slot(self._new_key(subject), _monotonic() + self.limits.max_age)
        with self._slots_lock:
            if old is not None:
                self._retired_saved += max(old.messages - 1, 0)
                if old in self._active:
                    self._active.remove(old)
            self._active.append(slot)
        slots[subject] = slot
        return slot

    def _seal(
        self, data: bytes, table: str, column: str, record_id: str, subject: str | None
    ) -> bytes:
        """data-key id | nonce | ciphertext | tag (the binary form without its version byte)."""
        try:
            slot: _Slot = self._local.slots[subject]
        except (AttributeError, KeyError):
            slot = self._fresh_slot(subject)
        n = len(data)
        if (
            slot.messages >= self._max_messages
            or slot.nbytes + n > self._max_bytes
            or _monotonic() >= slot.expires  # also how shredding retires a slot
        ):
            slot = self._fresh_slot(subject)
        slot.messages = m = slot.messages + 1
        slot.nbytes += n
        nonce = _pack_nonce(slot.salt, m)
        head = slot.heads.get((table, column)) or slot.live.head(table, column)
        return slot.raw_id + nonce + slot.aead.encrypt(nonce, data, head + record_id.encode())

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
        return b"\x01" + self._seal(data, table, column, record_id, subject)

    def encrypt(
        self,
        value: bytes | str,
        *,
        table: str,
        column: str,
        record_id: str,
        subject: str | None = None,
    ) -> str:
        """The text token ``pw2A...`` (base64, for ``text`` columns and JSON)."""
        data = value.encode("utf-8") if isinstance(value, str) else value
        # Inlined ``_seal`` (see the note above).
        try:
            slot: _Slot = self._local.slots[subject]
        except (AttributeError, KeyError):
            slot = self._fresh_slot(subject)
        n = len(data)
        if (
            slot.messages >= self._max_messages
            or slot.nbytes + n > self._max_bytes
            or _monotonic() >= slot.expires  # also how shredding retires a slot
        ):
            slot = self._fresh_slot(subject)
        slot.messages = m = slot.messages + 1
        slot.nbytes += n
        nonce = _pack_nonce(slot.salt, m)
        head = slot.heads.get((table, column)) or slot.live.head(table, column)
        return b64_encode_str(
            slot.text_id + nonce + slot.aead.encrypt(nonce, data, head + record_id.encode())
        )

    def decrypt_bytes(self, token: bytes, *, table: str, column: str, record_id: str) -> bytes:
        if len(token) < 1 + _MIN_BODY or token[0] != TOKEN_VERSION:
            raise DecryptionError(
                "not a phiward field token (bad version or length)", reason="corrupted"
            )
        return self._open(token, 1, table, column, record_id)

    def decrypt(self, token: str, *, table: str, column: str, record_id: str) -> bytes:
        if not token.startswith(TEXT_PREFIX):
            return self._decrypt_v1(token, table, column, record_id)
        try:
            body = b64_decode_fast(token, None, True)
        except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
            raise DecryptionError("field token is not valid base64", reason="corrupted") from None
        if len(body) < 3 + _MIN_BODY:
            raise DecryptionError("field token is truncated", reason="truncated")
        # Inlined ``_open(body, 3, ...)`` (see the note above).
        raw_id = body[3:19]
        entry = self._entries.get(raw_id)
        live: _Live
        if (
            entry is not None
            and (live := entry.value).tenant == self.tenant
            and _monotonic() - entry.created < self._max_age
        ):
            self._dec_hits += 1
        else:
            live = self._load_key(raw_id)
        head = live.heads.get((table, column)) or live.head(table, column)
        try:
            return live.aead.decrypt(body[19:31], body[31:], head + record_id.encode())
        except InvalidTag:
            raise DecryptionError(_MISMATCH, reason="wrong-context-or-tampered") from None

    def _decrypt_v1(self, token: str, table: str, column: str, record_id: str) -> bytes:
        """Text form 1: ``pw1.`` + base64(body)."""
        if not token.startswith(TEXT_PREFIX_V1):
            raise DecryptionError(
                "not a phiward field token (no 'pw2A' or 'pw1.' prefix)", reason="corrupted"
            )
        try:
            body = b64_decode_fast(token[4:], None, True)
        except ValueError:
            raise DecryptionError("field token is not valid base64", reason="corrupted") from None
        if len(body) < _MIN_BODY:
            raise DecryptionError("field token is truncated", reason="truncated")
        return self._open(body, 0, table, column, record_id)

    def _open(self, body: bytes, at: int, table: str, column: str, record_id: str) -> bytes:
        """Decrypt ``key id[16] || nonce[12] || ciphertext+tag`` starting at ``body[at]``."""
        raw_id = body[at : at + 16]
        entry = self._entries.get(raw_id)
        live: _Live
        if (
            entry is not None
            and (live := entry.value).tenant == self.tenant
            and _monotonic() - entry.created < self._max_age
        ):
            self._dec_hits += 1
        else:
            live = self._load_key(raw_id)
        head = live.heads.get((table, column)) or live.head(table, column)
        try:
            return live.aead.decrypt(
                body[at + 16 : at + 28], body[at + 28 :], head + record_id.encode()
            )
        except InvalidTag:
            raise DecryptionError(_MISMATCH, reason="wrong-context-or-tampered") from None

    def decrypt_str(self, token: str, *, table: str, column: str, record_id: str) -> str:
        return self.decrypt(token, table=table, column=column, record_id=record_id).decode("utf-8")

    # ---- shredding ----------------------------------------------------------------------
    def shred_subject(self, subject: str) -> int:
        """Crypto-shred one subject: erase their wrapped data keys and drop cached copies."""
        ids = shred_subject(self.key_table, subject, tenant=self.tenant)
        wanted = {bytes.fromhex(i) for i in ids}
        for raw_id in wanted:
            live = self.cache.get(raw_id)
            if live is not None:
                live.dead = True  # threads still encrypting with it switch to a new key
        for enc in list(_ENCRYPTORS):  # every encryptor may share the cache
            with enc._slots_lock:
                for slot in enc._active:
                    if slot.raw_id in wanted:
                        slot.live.dead = True
                        slot.expires = -math.inf  # its thread takes a new key on next use
        self.cache.evict(lambda k: k in wanted)
        return len(ids)


def shred_subject(key_table: KeyTable, subject: str, *, tenant: str = "default") -> list[str]:
    """Crypto-shred ``subject`` in ``key_table`` without needing any master key: their wrapped
    data keys are erased, so no key can recover their data. Returns the data-key ids shredded.
    Processes holding a cached copy keep it until the cache's ``max_age``."""
    ids = key_table.shred_subject(tenant, subject)
    emit(
        SecurityEvent(
            "key.shred",
            "D",
            resource_type="subject-keys",
            resource_id=subject,
            subject_id=subject,
            details={"data_keys": len(ids), "tenant": tenant},
        )
    )
    return ids


def token_key_id(token: str | bytes) -> str:
    """The data-key id a token references (hex), without decrypting it."""
    if isinstance(token, str):
        if token.startswith(TEXT_PREFIX):
            text, skip = token, 3
        elif token.startswith(TEXT_PREFIX_V1):
            text, skip = token[4:], 0
        else:
            raise DecryptionError("not a phiward field token", reason="corrupted")
        try:
            body = b64_decode_strict(text)[skip:]
        except ValueError:
            raise DecryptionError("field token is not valid base64", reason="corrupted") from None
    else:
        body = token[1:]
    if len(body) < _MIN_BODY:
        raise DecryptionError("field token is truncated", reason="truncated")
    return body[:_ID_LEN].hex()
