"""Small shared helpers: canonical encodings, atomic writes, base64. Private."""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Callable, Mapping

from phiward.core.fileio import atomic_output, fsync_dir
from phiward.errors import InputError

try:  # pybase64 (the ``fast`` extra) is 3-5x faster on the hot path of field tokens.
    import pybase64 as _b64

    def b64url_encode(data: bytes) -> str:
        return _b64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    def _b64url_decode_padded(text: bytes) -> bytes:
        return _b64.b64decode(text, altchars=b"-_", validate=True)

    # The field-token hot path calls these two C functions directly (no Python wrapper):
    # ``b64_encode_str(data)`` is standard padded base64 as ``str``; ``b64_decode_fast(text,
    # None, True)`` is strict standard base64 (arguments positional: pybase64 parses keyword
    # arguments ~250 ns slower), raising a ``ValueError`` subclass on anything malformed.
    b64_encode_str: Callable[[bytes], str] = _b64.b64encode_as_string
    b64_decode_fast: Callable[[str, None, bool], bytes] = _b64.b64decode

    def b64_decode_strict(text: str) -> bytes:
        """Strict standard base64 (padding required); ``ValueError`` on anything else."""
        try:
            return _b64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("bad base64") from exc

except ImportError:  # pragma: no cover - exercised only without the extra

    def b64url_encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    def _b64url_decode_padded(text: bytes) -> bytes:
        return base64.b64decode(text, altchars=b"-_", validate=True)

    def b64_encode_str(data: bytes) -> str:
        return binascii.b2a_base64(data, newline=False).decode("ascii")

    def b64_decode_fast(text: str, altchars: None = None, validate: bool = True) -> bytes:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)

    def b64_decode_strict(text: str) -> bytes:
        try:
            return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise ValueError("bad base64") from exc


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url decode; raises ``ValueError`` on anything malformed."""
    raw = text.encode("ascii")
    pad = (-len(raw)) % 4
    if pad == 3:
        raise ValueError("bad base64url length")
    try:
        return _b64url_decode_padded(raw + b"=" * pad)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("bad base64url") from exc


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def lp(data: bytes) -> bytes:
    """Length-prefixed bytes (4-byte big-endian length), so concatenations are unambiguous."""
    return struct.pack(">I", len(data)) + data


def serialize_context(context: Mapping[str, str]) -> bytes:
    """The AWS Encryption SDK's canonical encryption-context bytes (empty context: no bytes).

    Count (uint16), then pairs sorted by UTF-8 key bytes, each key and value uint16-length-prefixed.
    """
    if not context:
        return b""
    items = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in context.items())
    if len(items) > 0xFFFF:
        raise ValueError("encryption context has too many entries")
    out = [struct.pack(">H", len(items))]
    for key, value in items:
        if len(key) > 0xFFFF or len(value) > 0xFFFF:
            raise ValueError("encryption context entry too long")
        out.append(struct.pack(">H", len(key)) + key + struct.pack(">H", len(value)) + value)
    data = b"".join(out)
    if len(data) > 0xFFFF:
        raise ValueError("encryption context is larger than 65535 bytes")
    return data


def parse_context_arg(pairs: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` from the CLI into a dict; clear error naming the bad entry."""
    context: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--context entry {pair.split('=')[0]!r} must look like key=value")
        if key.startswith("aws-crypto-"):
            raise InputError(f"--context key {key!r} is reserved (aws-crypto- prefix)")
        context[key] = value
    return context


__all__ = ["atomic_output", "fsync_dir"]
