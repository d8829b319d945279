"""Readers for plain text and logs, CSV/TSV and JSON/NDJSON (issue 2 fills this list)."""

from __future__ import annotations

from phiward.formats._base import Reader


def basic_readers() -> list[Reader]:
    """The fallback readers, tried after the structured ones."""
    return []
