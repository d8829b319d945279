"""File format readers: bytes in, :class:`TextUnit` values with structural paths out."""

from phiward.formats._base import Reader, TextUnit
from phiward.formats._registry import builtin_readers, reader_for

__all__ = ["Reader", "TextUnit", "builtin_readers", "reader_for"]
