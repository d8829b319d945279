"""File format readers: bytes in, :class:`TextUnit` values with structural paths out."""

from phiward.formats._base import ColumnarReader, ColumnCells, Reader, TextUnit, read_units
from phiward.formats._registry import builtin_readers, reader_for

__all__ = [
    "ColumnCells",
    "ColumnarReader",
    "Reader",
    "TextUnit",
    "builtin_readers",
    "read_units",
    "reader_for",
]
