"""Which reader handles a file. Structured formats sniff first; plain text, CSV and JSON last.

The two lists live in their own modules so each family of readers can grow on its own:
``_structured.py`` (FHIR, HL7 v2, CDA/XML, DICOM, PDF, Office, Parquet, images, archives) and
``_basic.py`` (text and logs, CSV/TSV, JSON/NDJSON).
"""

from __future__ import annotations

from functools import cache

from phiward.formats._base import Reader
from phiward.formats._basic import basic_readers
from phiward.formats._structured import structured_readers

SNIFF_BYTES = 8192


@cache
def builtin_readers() -> tuple[Reader, ...]:
    """Every built-in reader, in sniffing order."""
    return (*structured_readers(), *basic_readers())


def reader_for(head: bytes, filename: str) -> Reader | None:
    """The first reader whose ``sniff`` accepts this file, or ``None`` (not a format we read)."""
    for reader in builtin_readers():
        if reader.sniff(head, filename):
            return reader
    return None
