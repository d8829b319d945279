"""Office Open XML (DOCX, XLSX) and password-protected Office files.

DOCX: paragraphs, tables, headers/footers and document properties (python-docx). XLSX: every cell
through openpyxl's read-only streaming mode, addressed ``Sheet1!C12`` with the column's header as
``column_name``. A password-protected Office file is an OLE compound file holding an
``EncryptedPackage`` stream: it is reported as ``encrypted``. Legacy binary .doc/.xls files are
reported as skipped (not read).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from phiward.errors import InputError
from phiward.formats._archive import declared_zip_entries
from phiward.formats._base import TextUnit
from phiward.formats._limits import (
    BudgetedReader,
    BudgetExceeded,
    Deadline,
    MiB,
    encrypted,
    error,
    get_limits,
    read_limited,
    refused,
    skipped,
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
ZIP_MAGIC = b"PK\x03\x04"


def _check_zip(data: bytes, what: str) -> zipfile.ZipFile:
    """Open an OOXML package after checking its members against the bomb limits."""
    limits = get_limits()
    declared = declared_zip_entries(io.BytesIO(data))
    if declared is not None and declared > limits.max_entries:
        refused("zip bomb", what)
        raise BudgetExceeded(f"{what} zip bomb: more than {limits.max_entries} parts")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise InputError(f"{what}: not a readable package") from None
    total = 0
    infos = package.infolist()
    problem = None
    if len(infos) > limits.max_entries:
        problem = f"zip bomb: more than {limits.max_entries} parts"
    for info in infos:
        total += info.file_size
        if info.file_size > MiB and info.file_size / max(info.compress_size, 1) > limits.max_ratio:
            problem = f"zip bomb: compression ratio over {limits.max_ratio:g}"
        if info.flag_bits & 1:
            raise InputError(f"{what}: encrypted part")
    if total > limits.max_member_bytes:
        problem = f"zip bomb: package inflates past {limits.max_member_bytes // MiB} MiB"
    if problem is not None:
        package.close()
        refused("zip bomb", what)
        raise BudgetExceeded(f"{what} {problem}")
    return package


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class DocxReader(BudgetedReader):
    """Word documents: ``paragraph 12``, ``table 1 R2C3``, ``header 1``, ``properties author``,
    ``comment 3``, ``footnote 2``, ``text box 1``."""

    name = "docx"

    def sniff(self, head: bytes, filename: str) -> bool:
        return head[:4] == ZIP_MAGIC and (
            b"word/" in head or filename.lower().endswith((".docx", ".docm"))
        )

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        import docx  # noqa: PLC0415 - optional [formats] extra, imported on use

        data = read_limited(stream, get_limits().max_load_bytes, "DOCX")
        _check_zip(data, "DOCX").close()
        try:
            document = docx.Document(io.BytesIO(data))
        except (KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise InputError(f"DOCX: not a Word document ({type(exc).__name__})") from None
        props = document.core_properties
        for key in ("author", "last_modified_by", "title", "subject", "comments", "keywords"):
            value = getattr(props, key, None)
            if isinstance(value, str) and value.strip():
                yield TextUnit(text=value, field=f"properties {key}")
        deadline = Deadline()  # empty paragraphs and cells yield nothing: checked here too
        for number, paragraph in enumerate(document.paragraphs, start=1):
            deadline.tick()
            text = paragraph.text
            if text.strip():
                yield TextUnit(text=text, field=f"paragraph {number}")
        for t_index, table in enumerate(document.tables, start=1):
            header: list[str] = []
            for r_index, row in enumerate(table.rows, start=1):
                deadline.tick()
                texts = [cell.text for cell in row.cells]
                if r_index == 1:
                    header = [t.strip() for t in texts]
                for c_index, text in enumerate(texts, start=1):
                    if text.strip():
                        column = (
                            header[c_index - 1] if r_index > 1 and c_index <= len(header) else None
                        )
                        yield TextUnit(
                            text=text,
                            field=f"table {t_index} R{r_index}C{c_index}",
                            column_name=column or None,
                        )
        yield from _docx_extras(data)
        for s_index, section in enumerate(document.sections, start=1):
            for kind, part in (("header", section.header), ("footer", section.footer)):
                if part.is_linked_to_previous:
                    continue
                text = "\n".join(p.text for p in part.paragraphs if p.text.strip())
                if text:
                    yield TextUnit(text=text, field=f"{kind} {s_index}")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: parts python-docx does not expose: (part, element holding one note, path label)
DOCX_NOTES = (
    ("word/comments.xml", "comment", "comment"),
    ("word/footnotes.xml", "footnote", "footnote"),
    ("word/endnotes.xml", "endnote", "endnote"),
)


def _w_text(element: Any) -> str:
    """Text of a WordprocessingML element: runs joined, paragraphs on their own lines."""
    lines = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in element.iter(f"{W}p")]
    return "\n".join(line for line in lines if line.strip())


def _docx_extras(data: bytes) -> Iterator[TextUnit]:
    """Comments (with their authors), footnotes, endnotes and text boxes, read from the package
    parts with the same hardened XML parser as the XML readers."""
    from phiward.formats._xml import ENTITY_DECL, parse_xml  # noqa: PLC0415 - import cycle

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        names = set(package.namelist())
        parts = [(p, t, label) for p, t, label in DOCX_NOTES if p in names]
        parts.append(("word/document.xml", "txbxContent", "text box"))
        for part, tag, label in parts:
            if part not in names:
                continue
            raw = package.read(part)
            if ENTITY_DECL.search(raw):
                yield error("XML entity declarations refused (XXE / entity expansion)", part)
                continue
            root = parse_xml(raw)
            if root is None:
                yield error("not well-formed XML", part)
                continue
            for index, element in enumerate(root.iter(f"{W}{tag}"), start=1):
                ident = element.get(f"{W}id") or str(index)
                text = _w_text(element)
                if text:
                    yield TextUnit(text=text, field=f"{label} {ident}")
                author = element.get(f"{W}author")
                if author and author.strip():
                    yield TextUnit(text=author, field=f"{label} {ident} author")


class XlsxReader(BudgetedReader):
    """Excel workbooks, streamed row by row: ``Sheet1!C12`` with ``column_name`` from row 1."""

    name = "xlsx"

    def sniff(self, head: bytes, filename: str) -> bool:
        return head[:4] == ZIP_MAGIC and (
            b"xl/" in head or filename.lower().endswith((".xlsx", ".xlsm"))
        )

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        import openpyxl  # noqa: PLC0415 - optional [formats] extra, imported on use

        data = read_limited(stream, get_limits().max_load_bytes, "XLSX")
        _check_zip(data, "XLSX").close()
        try:
            book = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
        except (KeyError, ValueError, zipfile.BadZipFile, TypeError) as exc:
            raise InputError(f"XLSX: not an Excel workbook ({type(exc).__name__})") from None
        deadline = Deadline()
        try:
            for sheet in book.worksheets:
                title = sheet.title
                header: list[str] = []
                for r_index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                    deadline.tick()  # empty rows yield nothing: the budget is checked here too
                    texts = [_cell_text(v) for v in row]
                    if r_index == 1:
                        header = [t.strip() for t in texts]
                    for c_index, text in enumerate(texts, start=1):
                        if not text.strip():
                            continue
                        column = (
                            header[c_index - 1] if r_index > 1 and c_index <= len(header) else None
                        )
                        yield TextUnit(
                            text=text,
                            field=f"{title}!{column_letter(c_index)}{r_index}",
                            line=r_index,
                            column_name=column or None,
                        )
        finally:
            book.close()
        yield from _xlsx_comments(data)


S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _xlsx_comments(data: bytes) -> Iterator[TextUnit]:
    """Cell comments (notes) and their authors, which openpyxl's read-only mode skips:
    ``comment B2 (xl/comments1.xml)``."""
    from phiward.formats._xml import ENTITY_DECL, parse_xml  # noqa: PLC0415 - import cycle

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = sorted(
            n for n in package.namelist() if n.startswith("xl/comments") and n.endswith(".xml")
        )
        for part in parts:
            raw = package.read(part)
            root = None if ENTITY_DECL.search(raw) else parse_xml(raw)
            if root is None:
                yield error("unreadable comments part", part)
                continue
            authors = ["".join(a.itertext()) for a in root.iter(f"{S}author")]
            for comment in root.iter(f"{S}comment"):
                field = f"comment {comment.get('ref') or '?'} ({part})"
                text = "".join(t.text or "" for t in comment.iter(f"{S}t")).strip()
                if text:
                    yield TextUnit(text=text, field=field)
                author_id = comment.get("authorId") or ""
                if author_id.isdigit() and int(author_id) < len(authors):
                    author = authors[int(author_id)].strip()
                    if author:
                        yield TextUnit(text=author, field=f"{field} author")


class OleReader(BudgetedReader):
    """OLE compound files: password-protected OOXML (``EncryptedPackage``) and legacy Office."""

    name = "ole"

    def sniff(self, head: bytes, filename: str) -> bool:
        return head[:8] == OLE_MAGIC

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        data = read_limited(stream, get_limits().max_load_bytes, "OLE compound file")
        if ENCRYPTED_PACKAGE in data:
            yield encrypted(None, "")
            return
        yield skipped("legacy OLE document (.doc/.xls/.msg) is not read")
