"""Whole-file encryption and decryption with no partial output on failure. Private module."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from phiward.crypto._cache import DataKeyCache
from phiward.crypto._keyrings import Keyring
from phiward.crypto._message import (
    DEFAULT_FRAME_LENGTH,
    MessageInfo,
    Suite,
    decrypt_stream,
    encrypt_stream,
)
from phiward.crypto._util import atomic_output
from phiward.errors import InputError


def _open_in(path: Path | None) -> IO[bytes]:
    if path is None:
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"input file {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"input {path} is a directory") from None
    except PermissionError:
        raise InputError(f"input file {path} is not readable") from None


def encrypt_file(
    src: Path | None,
    dst: Path | None,
    keyring: Keyring,
    *,
    context: Mapping[str, str] | None = None,
    suite: Suite = Suite.AES256_HKDF_SHA512_COMMIT,
    frame_length: int = DEFAULT_FRAME_LENGTH,
    cache: DataKeyCache[Any] | None = None,
) -> MessageInfo:
    """Encrypt ``src`` (``None``: stdin) to ``dst`` (``None``: stdout), atomically for files."""
    fin = _open_in(src)
    try:
        if dst is None:
            info = encrypt_stream(
                fin,
                sys.stdout.buffer,
                keyring,
                context=context,
                suite=suite,
                frame_length=frame_length,
                cache=cache,
            )
            sys.stdout.buffer.flush()
            return info
        with atomic_output(Path(dst)) as out:
            return encrypt_stream(
                fin,
                out,
                keyring,
                context=context,
                suite=suite,
                frame_length=frame_length,
                cache=cache,
            )
    finally:
        if src is not None:
            fin.close()


def decrypt_file(
    src: Path | None,
    dst: Path | None,
    keyring: Keyring,
    *,
    expected_context: Mapping[str, str] | None = None,
) -> MessageInfo:
    """Decrypt to a file atomically: the plaintext appears under ``dst`` only after every frame
    (and, for signed messages, the signature) verified. To stdout (``dst=None``) frames are
    released as each authenticates; a signed message's signature is checked at the end and a
    failure exits non-zero, so consumers of stdout must honour the exit status."""
    fin = _open_in(src)
    try:
        if dst is None:
            info = decrypt_stream(
                fin, sys.stdout.buffer, keyring, expected_context=expected_context
            )
            sys.stdout.buffer.flush()
            return info
        with atomic_output(Path(dst)) as out:
            return decrypt_stream(fin, out, keyring, expected_context=expected_context)
    finally:
        if src is not None:
            fin.close()
