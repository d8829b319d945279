"""Readers for structured health formats (issue 5 fills this list)."""

from __future__ import annotations

from phiward.formats._base import Reader


def structured_readers() -> list[Reader]:
    """Readers that recognise their format from content, tried before the basic ones."""
    return []
