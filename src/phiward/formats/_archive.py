"""Archives and compressed files: zip, tar, gzip, bzip2, xz, nested, with bomb limits.

Members are unpacked in memory (never to disk: they may be PHI) and handed to the reader that
sniffs them, with paths like ``inner/x.hl7!PID-5.1`` (``outer.zip`` holding ``inner/x.hl7``).
Every limit (member size, compression ratio, total inflated bytes, nesting depth, entry count) is
enforced on the bytes actually produced, not on what the headers claim, and ends in a
``skipped:zip bomb ...`` unit instead of an exhausted worker. Password-protected members are
reported as ``encrypted``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import IO, BinaryIO

from phiward.errors import InputError
from phiward.formats._base import ColumnCells, TextUnit, read_units
from phiward.formats._limits import (
    BudgetedReader,
    FormatLimits,
    MiB,
    encrypted,
    error,
    get_limits,
    refused,
    skipped,
)

SNIFF = 8192
RATIO_FLOOR = 1 * MiB  # small members may compress very well without being bombs


class _Bomb(Exception):
    """Raised inside the walk when a limit is crossed; turned into a skipped unit."""


class _Stop(Exception):
    """A limit that ends the whole archive (entries, total size)."""


@dataclass(slots=True)
class _State:
    limits: FormatLimits
    total: int = 0
    entries: int = 0


def archive_kind(head: bytes) -> str | None:
    """The container format of ``head``, from magic bytes only."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if (
        head[:6] in (b"7z\xbc\xaf\x27\x1c",)
        or head[:7] == b"Rar!\x1a\x07\x00"
        or head[:8] == (b"Rar!\x1a\x07\x01\x00")
    ):
        return "unsupported"
    return None


class _Inflating(io.RawIOBase):
    """A read-only view of a decompressing stream that enforces size and ratio limits."""

    def __init__(
        self, inner: io.BufferedIOBase, source: BinaryIO, state: _State, prefix: bytes = b""
    ):
        self._inner = inner
        self._source = source
        self._state = state
        self._prefix = prefix
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._account(n)
        return n

    def _account(self, n: int) -> None:
        limits = self._state.limits
        self.produced += n
        self._state.total += n
        if self._state.total > limits.max_total_bytes:
            raise _Bomb(f"zip bomb: archive inflates past {limits.max_total_bytes // MiB} MiB")
        if self.produced > RATIO_FLOOR:
            try:
                consumed = max(self._source.tell(), 1)
            except (OSError, ValueError):
                consumed = 0
            if consumed and self.produced / consumed > limits.max_ratio:
                raise _Bomb(f"zip bomb: compression ratio over {limits.max_ratio:g}")


def _open_compressed(kind: str, stream: BinaryIO) -> io.BufferedIOBase:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if kind == "bz2":
        return bz2.BZ2File(stream, mode="rb")
    return lzma.LZMAFile(stream, mode="rb")


def _inner_name(name: str, kind: str) -> str:
    lower = name.lower()
    for suffix, repl in ((".tgz", ".tar"), (".tbz2", ".tar"), (".txz", ".tar")):
        if lower.endswith(suffix):
            return name[: -len(suffix)] + repl
    for suffix in {"gzip": (".gz",), "bz2": (".bz2",), "xz": (".xz",)}.get(kind, ()):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _read_member(stream: IO[bytes], limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _Bomb(f"zip bomb: member inflates past {limit // MiB} MiB")
    return data


def _bomb(reason: str, field: str | None) -> TextUnit:
    """A ``skipped:zip bomb ...`` unit, recorded as refused input."""
    refused("zip bomb", "archive")
    return skipped(reason, field)


def _prefixed(unit: TextUnit | ColumnCells, path: str) -> TextUnit | ColumnCells:
    return replace(unit, field=f"{path}!{unit.field}" if unit.field else path)


class ArchiveReader(BudgetedReader):
    """zip, tar, gzip, bzip2 and xz, walked recursively within :class:`FormatLimits`.

    Members are read through :func:`read_units`, so a Parquet member's column batches pass
    through (with the member path prefixed to their field) to a scanner that reads this
    archive with ``read_columns``; ``read`` expands them like any batch reader's."""

    name = "archive"
    batches = True

    def sniff(self, head: bytes, filename: str) -> bool:
        return archive_kind(head) is not None

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit | ColumnCells]:
        seekable = _seekable(stream)
        start = stream.tell() if seekable else 0
        head = stream.read(SNIFF)
        kind = archive_kind(head)
        if kind is None:
            raise InputError("archive: unknown container format")
        state = _State(get_limits())
        body: BinaryIO
        if seekable:
            stream.seek(start)
            body = stream
        else:
            body = io.BufferedReader(_Rewound(head, stream))
        try:
            yield from self._walk(kind, body, filename, prefix="", depth=1, state=state)
        except _Stop as stop:
            yield _bomb(str(stop), None)

    # -- containers ---------------------------------------------------------------------------

    def _walk(
        self, kind: str, stream: BinaryIO, filename: str, *, prefix: str, depth: int, state: _State
    ) -> Iterator[TextUnit | ColumnCells]:
        if kind == "unsupported":
            # 7z and RAR: no reader in the standard library; say so rather than pass as clean.
            yield skipped("7z/RAR archive is not read", prefix.rstrip("!") or None)
        elif kind == "zip":
            yield from self._zip(stream, filename, prefix, depth, state)
        elif kind == "tar":
            yield from self._tar(stream, filename, prefix, depth, state)
        else:
            yield from self._compressed(
                kind, stream, filename, prefix=prefix, depth=depth, state=state
            )

    def _zip(
        self, stream: BinaryIO, filename: str, prefix: str, depth: int, state: _State
    ) -> Iterator[TextUnit | ColumnCells]:
        limits = state.limits
        if not _seekable(stream):
            # zip needs its central directory (at the end): buffer a non-seekable stream.
            data = stream.read(limits.max_member_bytes + 1)
            if len(data) > limits.max_member_bytes:
                yield skipped(
                    f"budget: zip stream over {limits.max_member_bytes // MiB} MiB "
                    "cannot be buffered",
                    prefix.rstrip("!") or None,
                )
                return
            stream = io.BytesIO(data)
        declared = declared_zip_entries(stream)
        if declared is not None and state.entries + declared > limits.max_entries:
            # Refuse before zipfile parses a central directory of millions of entries.
            raise _Stop(f"zip bomb: more than {limits.max_entries} entries")
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            if prefix:
                yield error("archive: not a readable zip", prefix.rstrip("!") or None)
                return
            raise InputError("zip: not a readable zip archive") from None
        with archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                path = prefix + info.filename
                self._count(state, path)
                yield TextUnit(text=info.filename, field=f"{path}!(member name)")
                if info.flag_bits & 0x1:
                    yield encrypted(path, "")
                    continue
                if info.file_size > limits.max_member_bytes:
                    yield _bomb(
                        f"zip bomb: member declares {info.file_size // MiB} MiB "
                        f"(limit {limits.max_member_bytes // MiB} MiB)",
                        path,
                    )
                    continue
                if (
                    info.file_size > RATIO_FLOOR
                    and info.file_size / max(info.compress_size, 1) > limits.max_ratio
                ):
                    yield _bomb(f"zip bomb: compression ratio over {limits.max_ratio:g}", path)
                    continue
                if state.total + info.file_size > limits.max_total_bytes:
                    raise _Stop(
                        f"zip bomb: archive inflates past {limits.max_total_bytes // MiB} MiB"
                    )
                try:
                    with archive.open(info) as member:
                        data = _read_member(member, limits.max_member_bytes)
                except _Bomb as bomb:
                    yield _bomb(str(bomb), path)
                    continue
                except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                    yield error("archive member is corrupt or uses an unsupported method", path)
                    continue
                except RuntimeError:  # zipfile: "File is encrypted, password required"
                    yield encrypted(path, "")
                    continue
                state.total += len(data)
                yield from self._dispatch(
                    data, info.filename, filename, path=path, depth=depth, state=state
                )

    def _tar(
        self, stream: BinaryIO, filename: str, prefix: str, depth: int, state: _State
    ) -> Iterator[TextUnit | ColumnCells]:
        limits = state.limits
        try:
            archive = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115 - closed below
        except (tarfile.TarError, OSError, EOFError):
            if prefix:
                yield error("archive: not a readable tar", prefix.rstrip("!") or None)
                return
            raise InputError("tar: not a readable tar archive") from None
        try:
            for member in _tar_members(archive):
                if not member.isfile():
                    continue
                path = prefix + member.name
                self._count(state, path)
                yield TextUnit(text=member.name, field=f"{path}!(member name)")
                if member.size > limits.max_member_bytes:
                    yield _bomb(
                        f"zip bomb: member is {member.size // MiB} MiB "
                        f"(limit {limits.max_member_bytes // MiB} MiB)",
                        path,
                    )
                    continue
                if state.total + member.size > limits.max_total_bytes:
                    raise _Stop(
                        f"zip bomb: archive inflates past {limits.max_total_bytes // MiB} MiB"
                    )
                extracted = archive.extractfile(member)
                if extracted is None:
                    continue
                data = extracted.read(member.size)
                state.total += len(data)
                yield from self._dispatch(
                    data, member.name, filename, path=path, depth=depth, state=state
                )
        except _Bomb as bomb:
            yield _bomb(str(bomb), prefix.rstrip("!") or None)
        except (tarfile.TarError, OSError, EOFError, zlib_error()):
            yield error("archive: truncated or corrupt tar", prefix.rstrip("!") or None)
        finally:
            archive.close()

    def _compressed(
        self, kind: str, stream: BinaryIO, filename: str, *, prefix: str, depth: int, state: _State
    ) -> Iterator[TextUnit | ColumnCells]:
        limits = state.limits
        outer = prefix.rstrip("!").rsplit("!", 1)[-1] if prefix else filename
        name = _inner_name(outer.rsplit("/", 1)[-1], kind)
        path = prefix + name
        try:
            inflating = _Inflating(_open_compressed(kind, stream), stream, state)
            buffered = io.BufferedReader(inflating, buffer_size=1 << 16)
            head = buffered.peek(SNIFF)[:SNIFF]
            inner = archive_kind(head)
            if inner == "tar":
                if depth >= limits.max_depth:
                    yield _bomb(f"zip bomb: archives nested deeper than {limits.max_depth}", path)
                    return
                yield from self._tar(buffered, filename, path + "!", depth + 1, state)
                return
            data = _read_member(buffered, limits.max_member_bytes)
        except _Bomb as bomb:
            yield _bomb(str(bomb), path)
            return
        except (OSError, EOFError, lzma.LZMAError, ValueError, zlib_error()):
            if not prefix:
                raise InputError(f"{kind}: corrupt or truncated stream") from None
            yield error(f"{kind}: corrupt or truncated stream", path)
            return
        # The inflated bytes were already counted by _Inflating; dispatch without recounting.
        yield from self._dispatch(data, name, filename, path=path, depth=depth, state=state)

    # -- members ------------------------------------------------------------------------------

    def _count(self, state: _State, path: str) -> None:
        state.entries += 1
        if state.entries > state.limits.max_entries:
            raise _Stop(f"zip bomb: more than {state.limits.max_entries} entries")

    def _dispatch(
        self, data: bytes, name: str, filename: str, *, path: str, depth: int, state: _State
    ) -> Iterator[TextUnit | ColumnCells]:
        head = data[:SNIFF]
        kind = archive_kind(head)
        from phiward.formats._registry import reader_for  # noqa: PLC0415 - import cycle

        reader = reader_for(head, name)
        if kind is not None and (reader is None or isinstance(reader, ArchiveReader)):
            if depth >= state.limits.max_depth:
                yield _bomb(f"zip bomb: archives nested deeper than {state.limits.max_depth}", path)
                return
            yield from self._walk(
                kind, io.BytesIO(data), filename, prefix=path + "!", depth=depth + 1, state=state
            )
            return
        if reader is None:
            yield skipped("no reader for this format", path)
            return
        try:
            for unit in read_units(reader, io.BytesIO(data), f"{filename}!{path}"):
                yield _prefixed(unit, path)
        except InputError as exc:
            yield error(str(exc), path)


def declared_zip_entries(stream: BinaryIO) -> int | None:
    """The entry count a zip's end-of-central-directory record declares (zip64 aware), read
    without parsing the directory itself; None when there is no readable record."""
    try:
        start = stream.tell()
        size = stream.seek(0, io.SEEK_END)
        tail_len = min(size, 65_535 + 22)
        stream.seek(size - tail_len)
        tail = stream.read(tail_len)
        pos = tail.rfind(b"PK\x05\x06")
        total: int | None = None
        if pos >= 0 and pos + 22 <= len(tail):
            total = int.from_bytes(tail[pos + 10 : pos + 12], "little")
            locator = tail.rfind(b"PK\x06\x07", 0, pos)
            if total == 0xFFFF and locator >= 0 and locator + 16 <= len(tail):
                stream.seek(int.from_bytes(tail[locator + 8 : locator + 16], "little"))
                record = stream.read(56)
                if record[:4] == b"PK\x06\x06" and len(record) >= 40:
                    total = int.from_bytes(record[32:40], "little")
        stream.seek(start)
        return total
    except (OSError, ValueError):
        return None


def _tar_members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while True:
        member = archive.next()
        if member is None:
            return
        yield member


def zlib_error() -> type[Exception]:
    return zlib.error


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False


class _Rewound(io.RawIOBase):
    """``head`` followed by the rest of a non-seekable ``stream``; ``tell`` counts bytes read."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream
        self._position = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._stream.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        self._position += n
        return n
