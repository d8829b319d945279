"""Readers for plain text and logs, CSV/TSV and JSON/NDJSON, plus a sniffer for files that are
already encrypted (reported as protected, never read).

Text is streamed in chunks of whole lines, so a 5 GB log needs a few hundred kilobytes of memory;
CSV and NDJSON stream row by row; a single JSON document is parsed whole up to ``JSON_MAX_BYTES``
(a larger one is reported as skipped rather than loaded).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from phiward.formats._base import Reader, TextUnit

CHUNK_CHARS = 256 * 1024
JSON_MAX_BYTES = 64 * 1024 * 1024
CSV_FIELD_LIMIT = 16 * 1024 * 1024

_TEXT_EXT = (".txt", ".log", ".md", ".note", ".notes", ".rtf", ".text", ".out", ".err")
_CSV_EXT = (".csv", ".tsv", ".tab", ".psv")
_JSON_EXT = (".json", ".geojson")
_NDJSON_EXT = (".ndjson", ".jsonl", ".ldjson")

# Magic prefixes of encrypted containers: age, OpenPGP (armored), Ansible Vault. AWS Encryption
# SDK messages (phiward's own file format) are recognised earlier, by ``_encrypted.py``.
_ENCRYPTED_PREFIXES: tuple[bytes, ...] = (
    b"age-encryption.org/v1",
    b"-----BEGIN AGE ENCRYPTED FILE-----",
    b"-----BEGIN PGP MESSAGE-----",
    b"$ANSIBLE_VAULT;",
)
_FERNET = re.compile(rb"^gAAAAA[A-Za-z0-9_-]{80,}={0,2}\s*$")


def looks_binary(head: bytes) -> bool:
    """NUL bytes or mostly non-text bytes (UTF-16 with a BOM counts as text)."""
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    sample = head[:4096]
    try:
        sample.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4:  # a multibyte character cut by the sniff window
            return False
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    high = sum(1 for b in sample if b >= 0x80)
    return control > len(sample) * 0.05 or high > len(sample) * 0.3


def _text_stream(stream: BinaryIO, newline: str | None = None) -> io.TextIOWrapper:
    head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
    encoding = "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    # errors="replace": a stray byte must not stop the scan; it becomes U+FFFD.
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=newline)


class EncryptedReader:
    """Files already encrypted by a known format: reported as protected, contents untouched."""

    name = "encrypted"

    def sniff(self, head: bytes, filename: str) -> bool:
        if head.startswith(_ENCRYPTED_PREFIXES):
            return True
        if filename.endswith((".enc", ".aes", ".gpg", ".pgp", ".age")) and looks_binary(head):
            return True
        return bool(_FERNET.match(head[:8192])) if head.startswith(b"gAAAAA") else False

    def read(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        del stream, filename
        yield TextUnit(text="", status="encrypted")


class TextReader:
    """Plain text and logs: chunks of whole lines with the line number of their first line."""

    name = "text"

    def sniff(self, head: bytes, filename: str) -> bool:
        del filename
        return not looks_binary(head)

    def read(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        del filename
        text = _text_stream(stream)
        line_no = 1
        buf: list[str] = []
        size = 0
        start_line = 1
        while True:
            # readline(limit): a file without newlines (minified, binary-ish logs) still streams
            # in bounded pieces; such a piece may split an identifier at its edge.
            line = text.readline(CHUNK_CHARS)
            if not line:
                break
            buf.append(line)
            size += len(line)
            if line.endswith("\n"):
                line_no += 1
            if size >= CHUNK_CHARS:
                yield TextUnit(text="".join(buf), line=start_line)
                buf, size, start_line = [], 0, line_no
        if buf:
            yield TextUnit(text="".join(buf), line=start_line)
        text.detach()


class CsvReader:
    """CSV/TSV with a header row: one unit per cell, ``field`` and ``column_name`` = the header."""

    name = "csv"

    def sniff(self, head: bytes, filename: str) -> bool:
        return filename.lower().endswith(_CSV_EXT) and not looks_binary(head)

    def read(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        text = _text_stream(stream, newline="")
        sample = text.read(16384)
        delimiter = "\t" if filename.lower().endswith((".tsv", ".tab")) else ","
        if filename.lower().endswith(".psv"):
            delimiter = "|"
        # The extension's delimiter wins when the header line holds it: the sniffer guesses
        # from character counts and can pick a delimiter that only occurs inside a quoted
        # cell ('"""|",,' made it choose '|' and read a three-column file as one column).
        if delimiter not in sample.partition("\n")[0]:
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;|")
                delimiter = dialect.delimiter
            except csv.Error:
                pass
        rest = _Prefixed(sample, text)
        csv.field_size_limit(CSV_FIELD_LIMIT)
        reader = csv.reader(rest, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield TextUnit(text="", line=1, status=f"error:bad CSV header ({exc})")
            return
        names = [h.strip() or f"column{i + 1}" for i, h in enumerate(header)]
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield TextUnit(text="", line=reader.line_num, status=f"error:bad CSV row ({exc})")
                break
            line = reader.line_num
            for i, cell in enumerate(row):
                if not cell:
                    continue
                col = names[i] if i < len(names) else f"column{i + 1}"
                yield TextUnit(text=cell, field=col, line=line, column_name=col)
        text.detach()


class _Prefixed:
    """Iterate lines of ``head`` + the rest of ``stream`` (so the sniffed sample is not lost)."""

    def __init__(self, head: str, stream: io.TextIOWrapper) -> None:
        self._lines = io.StringIO(head)
        self._stream = stream
        self._tail = ""

    def __iter__(self) -> Iterator[str]:
        last = ""
        for line in self._lines:
            last = line
            if line.endswith(("\n", "\r")):
                yield line
        first = True
        for line in self._stream:
            if first and last and not last.endswith(("\n", "\r")):
                first = False
                yield last + line
                continue
            first = False
            yield line
        if first and last and not last.endswith(("\n", "\r")):
            yield last


def _shape_path(path: str) -> str:
    """``patients[3].name`` → ``patients[].name``: the 'column' of a key across records."""
    return re.sub(r"\[\d+\]", "[]", path)


def _leaves(node: Any, prefix: str) -> Iterator[tuple[str, str]]:
    stack: list[tuple[str, Any]] = [(prefix, node)]
    while stack:
        where, cur = stack.pop()
        if isinstance(cur, dict):
            for k, val in reversed(list(cur.items())):
                stack.append((f"{where}.{k}" if where else str(k), val))
        elif isinstance(cur, list):
            for i in range(len(cur) - 1, -1, -1):
                stack.append((f"{where}[{i}]", cur[i]))
        elif isinstance(cur, bool) or cur is None:
            continue
        elif isinstance(cur, str | int | float):
            yield where or "$", str(cur)


class JsonReader:
    """A JSON document: one unit per string or number leaf, ``field`` = its key path."""

    name = "json"

    def sniff(self, head: bytes, filename: str) -> bool:
        if looks_binary(head):
            return False
        if filename.lower().endswith(_JSON_EXT):
            return True
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not stripped.startswith((b"{", b"[")):
            return False
        # Two JSON objects on their first two lines → NDJSON, not one document.
        return not _looks_ndjson(head)

    def read(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        del filename
        data = stream.read(JSON_MAX_BYTES + 1)
        if len(data) > JSON_MAX_BYTES:
            yield TextUnit(text="", status=f"skipped:JSON document over {JSON_MAX_BYTES} bytes")
            return
        try:
            doc = json.loads(data.decode("utf-8-sig", errors="replace"))
        except json.JSONDecodeError as exc:
            yield TextUnit(text="", line=exc.lineno, status=f"error:invalid JSON ({exc.msg})")
            return
        for path, value in _leaves(doc, ""):
            if value:
                yield TextUnit(text=value, field=path, column_name=_shape_path(path))


def _looks_ndjson(head: bytes) -> bool:
    lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        return all(isinstance(json.loads(ln), dict) for ln in lines[:2])
    except ValueError:
        return False


class NdjsonReader:
    """Newline-delimited JSON: one record per line, units per leaf with the line number."""

    name = "ndjson"

    def sniff(self, head: bytes, filename: str) -> bool:
        if looks_binary(head):
            return False
        return filename.lower().endswith(_NDJSON_EXT) or _looks_ndjson(head)

    def read(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        del filename
        text = _text_stream(stream)
        for line_no, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield TextUnit(
                    text="", line=line_no, status=f"error:line {line_no} is not JSON ({exc.msg})"
                )
                continue
            for path, value in _leaves(record, ""):
                if value:
                    yield TextUnit(
                        text=value, field=path, line=line_no, column_name=_shape_path(path)
                    )
        text.detach()


def basic_readers() -> list[Reader]:
    """The fallback readers, tried after the structured ones (plain text last of all)."""
    return [EncryptedReader(), CsvReader(), NdjsonReader(), JsonReader(), TextReader()]
