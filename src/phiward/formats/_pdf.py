"""PDF: the text layer of each page, document metadata and form fields (pypdf).

A page with no text layer is usually a scan: it is reported as ``skipped:image-only page`` so the
user knows it was *not* examined (OCR is out of scope), rather than silently passing as clean.
Encrypted PDFs that need a user password are ``encrypted``; owner-password-only ones (no password
needed to read) are read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, BinaryIO

from phiward.errors import InputError
from phiward.formats._base import TextUnit
from phiward.formats._limits import (
    BudgetedReader,
    Deadline,
    TimeExceeded,
    encrypted,
    error,
    get_limits,
    skipped,
)

MIN_PAGE_CHARS = 1
METADATA_KEYS = ("/Author", "/Title", "/Subject", "/Keywords", "/Creator")


def _has_images(page: Any) -> bool:
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if resources is not None else None
        if xobjects is None:
            return False
        for ref in xobjects.get_object().values():
            if ref.get_object().get("/Subtype") == "/Image":
                return True
    except Exception:  # a broken resource dict just means "unknown"
        return False
    return False


def _annotations(page: Any) -> list[str]:
    """Text of a page's annotations (sticky notes, free text, form widgets' tooltips)."""
    out: list[str] = []
    try:
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else None
        for ref in annots or []:
            annot = ref.get_object()
            for key in ("/Contents", "/T"):
                value = annot.get(key)
                if isinstance(value, str) and value.strip():
                    out.append(str(value))
    except Exception:  # a broken annotation array must not hide the page text
        return out
    return out


class PdfReader(BudgetedReader):
    """PDF text per page (``page 3``), annotations (``page 3 annotation 1``), metadata
    (``metadata /Author``), form fields (``form:<name>``)."""

    name = "pdf"

    def sniff(self, head: bytes, filename: str) -> bool:
        return b"%PDF-" in head[:1024]

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        from pypdf import PdfReader as _Pdf  # noqa: PLC0415 - optional [formats] extra, imported on use
        from pypdf.errors import FileNotDecryptedError, PdfReadError  # noqa: PLC0415 - optional [formats] extra, imported on use

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        limit = get_limits().max_load_bytes
        try:
            size = stream.seek(0, 2)
            stream.seek(0)
        except (OSError, ValueError):
            size = 0
        if size > limit:
            yield skipped(f"budget: PDF larger than {limit // (1024 * 1024)} MiB")
            return
        try:
            pdf = _Pdf(stream, strict=False)
        except PdfReadError:
            raise InputError("PDF: not a readable PDF") from None
        if pdf.is_encrypted:
            try:
                opened = int(pdf.decrypt(""))
            except (NotImplementedError, FileNotDecryptedError, PdfReadError, ValueError):
                opened = 0
            if not opened:
                yield encrypted(None)
                return
        try:
            info = pdf.metadata
        except (PdfReadError, FileNotDecryptedError):
            info = None
        if info:
            for key in METADATA_KEYS:
                value = info.get(key)
                if isinstance(value, str) and value.strip():
                    yield TextUnit(text=value, field=f"metadata {key}")
        try:
            form = pdf.get_fields() or {}
        except Exception:  # broken AcroForm: still read the pages
            form = {}
            yield error("unreadable form fields", "form")
        for name, spec in form.items():
            value = spec.get("/V") if isinstance(spec, dict) else None
            if isinstance(value, str) and value.strip():
                yield TextUnit(text=value, field=f"form:{name}")
        deadline = Deadline()
        for number, page in enumerate(pdf.pages, start=1):
            field = f"page {number}"
            deadline.check()
            try:
                # pypdf calls the visitor for every content-stream operator: one huge or
                # crafted page cannot outrun the per-file time budget.
                text = page.extract_text(visitor_operand_before=deadline.tick) or ""
            except TimeExceeded:
                raise
            except FileNotDecryptedError:
                yield encrypted(field)
                continue
            except Exception:  # one broken page must not hide the others
                yield error("page could not be parsed", field)
                continue
            if len(text.strip()) >= MIN_PAGE_CHARS:
                yield TextUnit(text=text, field=field)
            elif _has_images(page):
                yield skipped("image-only page, not scanned for text", field)
            for index, note in enumerate(_annotations(page), start=1):
                yield TextUnit(text=note, field=f"{field} annotation {index}")
