"""The AWS Encryption SDK message format, version 2, framed, on pyca ``cryptography``. Private.

Suites: 0x0478 (AES-256-GCM, HKDF-SHA512, key commitment; default) and 0x0578 (the same plus an
ECDSA P-384 signature). Layout (all integers big-endian)::

    header body: 0x02 | suite id (2) | message id (32) | AAD length (2) | encryption context
                 | EDK count (2) | EDKs (each: id len (2) id, info len (2) info, ct len (2) ct)
                 | content type 0x02 (framed) | frame length (4) | commitment (32)
    header auth: GCM tag (16) over no plaintext, AAD = header body, IV = 12 zero bytes
    frames:      seq (4) | IV (12) | ciphertext (frame length) | tag (16)
    final frame: 0xFFFFFFFF | seq (4) | IV (12) | length (4) | ciphertext | tag (16)
    footer:      (0x0578 only) signature length (2) | DER ECDSA-P384-SHA384 signature

Keys: data key K (32) from the keyring; encryption key = HKDF-SHA512(salt=message id,
IKM=K, info=suite id || "DERIVEKEY"); commitment = HKDF-SHA512(salt=message id, IKM=K,
info="COMMITKEY"). Frame AAD = message id || "AWSKMSEncryptionClient [Final ]Frame" || seq (4)
|| plaintext length (8). Frame IV = 8 zero bytes || seq (4).
"""

from __future__ import annotations

import base64
import hmac
import io
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import IO, Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from phiward.core.events import SecurityEvent, emit
from phiward.crypto._cache import DataKeyCache
from phiward.crypto._keyrings import EncryptedDataKey, Keyring
from phiward.crypto._util import serialize_context
from phiward.errors import CryptoError, DecryptionError, InputError, PhiwardError

PUBLIC_KEY_FIELD = "aws-crypto-public-key"
DEFAULT_FRAME_LENGTH = 64 * 1024
MAX_FRAME_LENGTH = 64 * 1024 * 1024
DEFAULT_MAX_EDKS = 64
_FRAME_AAD = b"AWSKMSEncryptionClient Frame"
_FINAL_AAD = b"AWSKMSEncryptionClient Final Frame"
_FINAL_MARK = 0xFFFFFFFF
_ZERO_IV = bytes(12)
_IV_PREFIX = bytes(8)


class Suite(IntEnum):
    """Supported algorithm suites (both key-committing)."""

    AES256_HKDF_SHA512_COMMIT = 0x0478
    AES256_HKDF_SHA512_COMMIT_ECDSA_P384 = 0x0578

    @property
    def signed(self) -> bool:
        return self is Suite.AES256_HKDF_SHA512_COMMIT_ECDSA_P384


@dataclass
class MessageInfo:
    """What a message says about itself (all non-secret)."""

    message_id: str
    suite: Suite
    context: dict[str, str]
    key_providers: list[str]
    frame_length: int
    plaintext_length: int = 0
    frames: int = 0
    signed: bool = False
    cached_data_key: bool = False
    edks: list[EncryptedDataKey] = field(default_factory=list, repr=False)


def _derive(data_key: bytes, message_id: bytes, suite: int) -> tuple[bytes, bytes]:
    enc = HKDF(
        algorithm=hashes.SHA512(),
        length=32,
        salt=message_id,
        info=struct.pack(">H", suite) + b"DERIVEKEY",
    ).derive(data_key)
    commit = HKDF(algorithm=hashes.SHA512(), length=32, salt=message_id, info=b"COMMITKEY").derive(
        data_key
    )
    return enc, commit


def _ser_edks(edks: list[EncryptedDataKey]) -> bytes:
    out = [struct.pack(">H", len(edks))]
    for e in edks:
        for part in (e.provider_id, e.provider_info, e.ciphertext):
            if len(part) > 0xFFFF:
                raise ValueError("encrypted data key field too long")
            out.append(struct.pack(">H", len(part)) + part)
    return b"".join(out)


def _read_exact(src: IO[bytes], n: int, what: str) -> bytes:
    data = src.read(n)
    if data is None:
        data = b""
    if len(data) == n:
        return data
    chunks = [data]
    got = len(data)
    while got < n:
        more = src.read(n - got)
        if not more:
            raise DecryptionError(f"message is truncated (in the {what})", reason="truncated")
        chunks.append(more)
        got += len(more)
    return b"".join(chunks)


def _read_full(src: IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes, short only at end of input (pipes return short reads)."""
    data = src.read(n) or b""
    if len(data) == n or not data:
        return data
    chunks = [data]
    got = len(data)
    while got < n:
        more = src.read(n - got)
        if not more:
            break
        chunks.append(more)
        got += len(more)
    return b"".join(chunks)


class _Hasher:
    """SHA-384 of every byte before the footer (signed suites only)."""

    def __init__(self, on: bool) -> None:
        self.h = hashes.Hash(hashes.SHA384()) if on else None

    def update(self, data: bytes | memoryview) -> None:
        if self.h is not None:
            self.h.update(data)


def encrypt_stream(
    src: IO[bytes],
    dst: IO[bytes],
    keyring: Keyring,
    *,
    context: Mapping[str, str] | None = None,
    suite: Suite = Suite.AES256_HKDF_SHA512_COMMIT,
    frame_length: int = DEFAULT_FRAME_LENGTH,
    cache: DataKeyCache[Any] | None = None,
    tenant: str = "default",
) -> MessageInfo:
    """Encrypt ``src`` to ``dst`` in constant memory (one frame at a time)."""
    ctx = dict(context or {})
    if any(k.startswith("aws-crypto-") for k in ctx):
        raise InputError("encryption context keys starting with 'aws-crypto-' are reserved")
    if not 1 <= frame_length <= MAX_FRAME_LENGTH:
        raise ValueError(f"frame length must be between 1 and {MAX_FRAME_LENGTH}")
    signer = None
    if suite.signed:
        signer = ec.generate_private_key(ec.SECP384R1())
        point = signer.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        ctx[PUBLIC_KEY_FIELD] = base64.b64encode(point).decode("ascii")

    cached = False
    if cache is not None and not suite.signed:
        ck = ("file", tenant, keyring.identity, int(suite), serialize_context(ctx))
        before = cache.stats.hits
        data_key, edks = cache.get_or_create(ck, 0, lambda: keyring.on_encrypt(ctx))
        cached = cache.stats.hits > before
    else:
        data_key, edks = keyring.on_encrypt(ctx)
    if not edks:
        raise CryptoError("the keyring produced no encrypted data keys")
    if not cached:
        emit(
            SecurityEvent(
                "datakey.create",
                "C",
                resource_type="master-key",
                resource_id=keyring.identity,
                details={"purpose": "message", "suite": f"0x{int(suite):04X}"},
            )
        )

    message_id = os.urandom(32)
    enc_key, commitment = _derive(data_key, message_id, suite)
    ctx_bytes = serialize_context(ctx)
    body = (
        struct.pack(">BH", 2, suite)
        + message_id
        + struct.pack(">H", len(ctx_bytes))
        + ctx_bytes
        + _ser_edks(edks)
        + struct.pack(">BI", 2, frame_length)
        + commitment
    )
    aead = AESGCM(enc_key)
    header = body + aead.encrypt(_ZERO_IV, b"", body)
    hasher = _Hasher(suite.signed)
    dst.write(header)
    hasher.update(header)

    frame_aad = message_id + _FRAME_AAD
    final_aad = message_id + _FINAL_AAD
    pack_i, pack_iq = struct.Struct(">I").pack, struct.Struct(">IQ").pack
    seq = 1
    total = 0
    chunk = _read_full(src, frame_length)
    while True:
        nxt = _read_full(src, frame_length) if len(chunk) == frame_length else b""
        seq_b = pack_i(seq)
        iv = _IV_PREFIX + seq_b
        if nxt:
            head = seq_b + iv
            ct = aead.encrypt(iv, chunk, frame_aad + pack_iq(seq, len(chunk)))
        else:
            head = b"\xff\xff\xff\xff" + seq_b + iv + pack_i(len(chunk))
            ct = aead.encrypt(iv, chunk, final_aad + pack_iq(seq, len(chunk)))
        dst.write(head)
        dst.write(ct)
        hasher.update(head)
        hasher.update(ct)
        total += len(chunk)
        if not nxt:
            break
        seq += 1
        if seq >= _FINAL_MARK:
            raise InputError("input too large for one message at this frame length")
        chunk = nxt

    if signer is not None and hasher.h is not None:
        sig = signer.sign(hasher.h.finalize(), ec.ECDSA(utils.Prehashed(hashes.SHA384())))
        dst.write(struct.pack(">H", len(sig)) + sig)

    info = MessageInfo(
        message_id.hex(),
        suite,
        {k: v for k, v in ctx.items()},
        [e.provider_id.decode("utf-8", "replace") for e in edks],
        frame_length,
        total,
        seq,
        suite.signed,
        cached,
        list(edks),
    )
    emit(
        SecurityEvent(
            "file.encrypt",
            "C",
            resource_type="message",
            resource_id=info.message_id,
            details={
                "keyring": keyring.identity,
                "suite": f"0x{int(suite):04X}",
                "bytes": total,
                "context_keys": ",".join(sorted(context or {})),
            },
        )
    )
    return info


def _parse_header(
    src: IO[bytes], max_edks: int, max_frame: int
) -> tuple[MessageInfo, bytes, bytes]:
    """Read and parse the header body; returns (info, body bytes, commitment)."""
    raw = bytearray()

    def take(n: int, what: str) -> bytes:
        data = _read_exact(src, n, what)
        raw.extend(data)
        return data

    version = take(1, "header")[0]
    if version != 2:
        raise DecryptionError(
            f"unsupported message version {version} (phiward reads version 2, committing suites)",
            reason="unsupported" if version == 1 else "corrupted",
        )
    (suite_id,) = struct.unpack(">H", take(2, "header"))
    try:
        suite = Suite(suite_id)
    except ValueError:
        raise DecryptionError(
            f"unsupported or non-committing algorithm suite 0x{suite_id:04X}", reason="unsupported"
        ) from None
    message_id = take(32, "header")
    (ctx_len,) = struct.unpack(">H", take(2, "header"))
    ctx_bytes = take(ctx_len, "encryption context")
    context = _parse_context(ctx_bytes)
    (n_edks,) = struct.unpack(">H", take(2, "header"))
    if n_edks == 0:
        raise DecryptionError("message has no encrypted data keys", reason="corrupted")
    if n_edks > max_edks:
        raise DecryptionError(
            f"message has {n_edks} encrypted data keys (limit {max_edks})", reason="limit"
        )
    edks = []
    for _ in range(n_edks):
        parts = []
        for _ in range(3):
            (n,) = struct.unpack(">H", take(2, "encrypted data key"))
            parts.append(take(n, "encrypted data key"))
        edks.append(EncryptedDataKey(parts[0], parts[1], parts[2]))
    content_type, frame_length = struct.unpack(">BI", take(5, "header"))
    if content_type != 2:
        raise DecryptionError("non-framed messages are not supported", reason="unsupported")
    if not 1 <= frame_length <= max_frame:
        raise DecryptionError(
            f"frame length {frame_length} outside 1..{max_frame}",
            reason="limit" if frame_length else "corrupted",
        )
    commitment = take(32, "header")
    info = MessageInfo(
        message_id.hex(),
        suite,
        context,
        [e.provider_id.decode("utf-8", "replace") for e in edks],
        frame_length,
        signed=suite.signed,
        edks=edks,
    )
    return info, bytes(raw), commitment


def _parse_context(data: bytes) -> dict[str, str]:
    if not data:
        return {}
    try:
        (count,) = struct.unpack_from(">H", data, 0)
        pos = 2
        ctx: dict[str, str] = {}
        for _ in range(count):
            (kl,) = struct.unpack_from(">H", data, pos)
            key = data[pos + 2 : pos + 2 + kl]
            pos += 2 + kl
            (vl,) = struct.unpack_from(">H", data, pos)
            value = data[pos + 2 : pos + 2 + vl]
            pos += 2 + vl
            if len(key) != kl or len(value) != vl:
                raise ValueError
            k = key.decode("utf-8")
            if k in ctx:
                raise ValueError
            ctx[k] = value.decode("utf-8")
        if pos != len(data) or count == 0:
            raise ValueError
    except (struct.error, ValueError, UnicodeDecodeError):
        raise DecryptionError(
            "encryption context in the header is malformed", reason="corrupted"
        ) from None
    return ctx


def decrypt_stream(
    src: IO[bytes],
    dst: IO[bytes],
    keyring: Keyring,
    *,
    expected_context: Mapping[str, str] | None = None,
    max_edks: int = DEFAULT_MAX_EDKS,
    max_frame_length: int = MAX_FRAME_LENGTH,
    cache: DataKeyCache[Any] | None = None,
    tenant: str = "default",
) -> MessageInfo:
    """Decrypt ``src`` to ``dst``; see :func:`_decrypt_stream`. Failures are audited too.

    With ``cache``, a data key unwrapped once is reused for later messages carrying the very same
    encrypted data keys and context (one KMS Decrypt for many files of a cached encryption)."""
    try:
        return _decrypt_stream(
            src,
            dst,
            keyring,
            expected_context=expected_context,
            max_edks=max_edks,
            max_frame_length=max_frame_length,
            cache=cache,
            tenant=tenant,
        )
    except PhiwardError as exc:
        reason = getattr(exc, "reason", type(exc).__name__)
        emit(
            SecurityEvent(
                "file.decrypt",
                "R",
                outcome="failure",
                resource_type="message",
                reason=str(reason),
                details={"keyring": keyring.identity},
            )
        )
        raise


def _decrypt_stream(
    src: IO[bytes],
    dst: IO[bytes],
    keyring: Keyring,
    *,
    expected_context: Mapping[str, str] | None,
    max_edks: int,
    max_frame_length: int,
    cache: DataKeyCache[Any] | None,
    tenant: str,
) -> MessageInfo:
    """Decrypt ``src`` to ``dst`` frame by frame. Every frame is authenticated before it is
    written; for signed messages the signature is checked at the end, *after* plaintext frames
    were written, so callers writing to a file must discard it on error (``decrypt_file`` does).
    ``expected_context`` pairs must all be present with equal values."""
    info, header_body, commitment = _parse_header(src, max_edks, max_frame_length)
    ctx = info.context
    for key, value in (expected_context or {}).items():
        have = ctx.get(key)
        if have is None or not hmac.compare_digest(have.encode(), value.encode()):
            raise DecryptionError(
                f"encryption context mismatch: the message's value for {key!r} is not the one "
                "expected (wrong context)",
                reason="wrong-context",
            )
    if cache is not None:
        ck = (
            "file-dec",
            tenant,
            keyring.identity,
            int(info.suite),
            _ser_edks(info.edks),
            serialize_context(ctx),
        )
        cached = cache.get(ck)
        if cached is None:
            data_key = keyring.on_decrypt(info.edks, ctx)
            cache.put(ck, data_key)
        else:
            data_key = cached
            info.cached_data_key = True
    else:
        data_key = keyring.on_decrypt(info.edks, ctx)
    message_id = bytes.fromhex(info.message_id)
    enc_key, expected_commit = _derive(data_key, message_id, info.suite)
    if not hmac.compare_digest(expected_commit, commitment):
        raise DecryptionError(
            "key commitment does not match: tampered header or wrong key", reason="tampered"
        )
    aead = AESGCM(enc_key)
    tag = _read_exact(src, 16, "header authentication")
    try:
        aead.decrypt(_ZERO_IV, tag, header_body)
    except InvalidTag:
        raise DecryptionError(
            "message header does not authenticate (tampered)", reason="tampered"
        ) from None
    hasher = _Hasher(info.suite.signed)
    hasher.update(header_body)
    hasher.update(tag)

    frame_len = info.frame_length
    frame_aad = message_id + _FRAME_AAD
    final_aad = message_id + _FINAL_AAD
    pack_iq = struct.Struct(">IQ").pack
    unpack_i = struct.Struct(">I").unpack
    expected_seq = 1
    total = 0
    while True:
        head = _read_exact(src, 4, "frame")
        (seq,) = unpack_i(head)
        final = seq == _FINAL_MARK
        if final:
            rest = _read_exact(src, 20, "final frame header")
            (seq,) = unpack_i(rest[:4])
            iv = rest[4:16]
            (length,) = unpack_i(rest[16:20])
            if length > frame_len:
                raise DecryptionError(
                    "final frame is longer than the frame length", reason="corrupted"
                )
            hasher.update(head)
            hasher.update(rest)
        else:
            length = frame_len
            iv = _read_exact(src, 12, "frame")
            hasher.update(head)
            hasher.update(iv)
        if seq != expected_seq:
            raise DecryptionError(
                "frames are out of order or missing (tampered)", reason="tampered"
            )
        ct = _read_exact(src, length + 16, "frame body")
        hasher.update(ct)
        try:
            pt = aead.decrypt(iv, ct, (final_aad if final else frame_aad) + pack_iq(seq, length))
        except InvalidTag:
            raise DecryptionError(
                f"frame {seq} does not authenticate (tampered or corrupted)", reason="tampered"
            ) from None
        dst.write(pt)
        total += length
        if final:
            break
        expected_seq += 1
        if expected_seq >= _FINAL_MARK:
            raise DecryptionError("too many frames", reason="corrupted")

    if info.suite.signed:
        _verify_footer(src, hasher, ctx)
    if src.read(1):
        raise DecryptionError("unexpected bytes after the end of the message", reason="corrupted")
    info.plaintext_length = total
    info.frames = expected_seq
    emit(
        SecurityEvent(
            "file.decrypt",
            "R",
            resource_type="message",
            resource_id=info.message_id,
            details={
                "keyring": keyring.identity,
                "suite": f"0x{int(info.suite):04X}",
                "bytes": total,
            },
        )
    )
    return info


def _verify_footer(src: IO[bytes], hasher: _Hasher, ctx: Mapping[str, str]) -> None:
    (n,) = struct.unpack(">H", _read_exact(src, 2, "signature footer"))
    sig = _read_exact(src, n, "signature footer")
    encoded = ctx.get(PUBLIC_KEY_FIELD)
    if encoded is None or hasher.h is None:
        raise DecryptionError("signed message lacks its public key", reason="corrupted")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP384R1(), base64.b64decode(encoded)
        )
        public.verify(sig, hasher.h.finalize(), ec.ECDSA(utils.Prehashed(hashes.SHA384())))
    except (InvalidSignature, ValueError):
        raise DecryptionError(
            "message signature does not verify (tampered)", reason="bad-signature"
        ) from None


def encrypt(data: bytes, keyring: Keyring, **kwargs: Any) -> bytes:
    """Encrypt an in-memory value into one message."""
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, keyring, **kwargs)
    return out.getvalue()


def decrypt(data: bytes, keyring: Keyring, **kwargs: Any) -> tuple[bytes, MessageInfo]:
    """Decrypt an in-memory message; returns the plaintext and the message's details."""
    out = io.BytesIO()
    info = decrypt_stream(io.BytesIO(data), out, keyring, **kwargs)
    return out.getvalue(), info
