"""Apache Parquet, column-aware like CSV and streamed one row group at a time (pyarrow).

Each non-empty cell is a unit with ``column_name`` set (``field`` is the column, ``line`` the
1-based row), so the scanner can use the column header as evidence the way it does for CSV. Scalar
columns (strings, and numbers and dates stringified by Arrow) come as one :class:`ColumnCells`
batch per row group through ``read_columns``: Arrow drops nulls and blank cells and stringifies
in C, and only the kept values become Python strings (``read`` expands batches into units). Struct
columns are flattened by Arrow (``address.city``); lists and maps are walked in Python
(``phones[1]``). Binary columns are skipped. Files using Parquet modular encryption (``PARE``
magic) are reported as ``encrypted``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any, BinaryIO

from phiward.errors import InputError
from phiward.formats._base import ColumnCells, TextUnit
from phiward.formats._limits import BudgetedReader, Deadline, encrypted, get_limits, skipped


def _flatten(value: Any, name: str) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, str):
        if value.strip():
            yield name, value
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | float | decimal.Decimal):
        yield name, str(value)
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        yield name, value.isoformat()
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _flatten(sub, f"{name}.{key}")
    elif isinstance(value, list | tuple):
        for index, sub in enumerate(value):
            if isinstance(sub, tuple) and len(sub) == 2:  # map entries
                yield from _flatten(sub[1], f"{name}[{sub[0]}]")
            else:
                yield from _flatten(sub, f"{name}[{index}]")
    # bytes, timedelta and others: not text


class ParquetReader(BudgetedReader):
    """Parquet files (``PAR1``), one row group in memory at a time."""

    name = "parquet"
    batches = True

    def sniff(self, head: bytes, filename: str) -> bool:
        return head[:4] in (b"PAR1", b"PARE")

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit | ColumnCells]:
        import pyarrow as pa  # noqa: PLC0415 - optional [formats] extra, imported on use
        import pyarrow.compute as pc  # noqa: PLC0415 - optional [formats] extra
        import pyarrow.parquet as pq  # noqa: PLC0415 - optional [formats] extra, imported on use

        head = stream.read(4)
        stream.seek(0)
        if head == b"PARE":
            yield encrypted(None)
            return
        try:
            parquet = pq.ParquetFile(stream)
        except (pa.ArrowException, OSError, ValueError) as exc:
            if "encrypt" in str(exc).lower():
                yield encrypted(None)
                return
            raise InputError("Parquet: not a readable Parquet file") from None
        row_base = 0
        skip_columns = {
            field.name
            for field in parquet.schema_arrow
            if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)
        }
        columns = [n for n in parquet.schema_arrow.names if n not in skip_columns]
        for name in sorted(skip_columns):
            yield skipped("binary column", name)
        deadline = Deadline()  # all-null columns yield nothing: the budget is checked here too
        for group in range(parquet.num_row_groups):
            deadline.check()
            table = parquet.read_row_group(group, columns=columns)
            for top, column in zip(table.column_names, table.columns, strict=True):
                # Structs flatten to ``top.sub`` columns inside Arrow (zero-copy, in C).
                flat = pa.table({top: column}).flatten()
                for name, values in zip(flat.column_names, flat.columns, strict=True):
                    yield from _column_units(pa, pc, name, top, values, row_base=row_base)
            row_base += table.num_rows


def _column_units(
    pa: Any, pc: Any, name: str, top: str, column: Any, *, row_base: int
) -> Iterator[TextUnit | ColumnCells]:
    """The non-empty cells of one (flattened) column of one row group."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_boolean(kind) or pa.types.is_null(kind) or pa.types.is_binary(kind):
        return
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        # A cell is kept when it is not null and not only whitespace (Arrow trims in C).
        keep = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(column), ""), False)
    elif (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_temporal(kind)
    ):
        try:
            column = pc.cast(column, pa.string())
        except (pa.ArrowException, ValueError):  # e.g. durations: not identifiers
            return
        keep = column.is_valid()
    else:
        # Lists, maps, unions: walk the Python values.
        for index, value in enumerate(column.to_pylist()):
            for field, text in _flatten(value, name):
                yield TextUnit(text=text, field=field, line=row_base + index + 1, column_name=top)
        return
    kept = pc.sum(keep).as_py() or 0
    if kept == 0:
        return
    rows = len(column)
    if kept < rows:
        column = pc.filter(column, keep)
        lines: Any = pc.add(pc.indices_nonzero(keep.combine_chunks()), row_base + 1).to_pylist()
    else:
        lines = range(row_base + 1, row_base + rows + 1)
    texts = column.to_pylist()
    if (pc.max(pc.utf8_length(column)).as_py() or 0) > get_limits().max_unit_chars:
        # Oversized cells go one by one so the reader's budget splits them into chunks.
        yield from ColumnCells(name, name, texts, lines).units()
        return
    # Each flattened struct field is its own column for the scanner's column statistics.
    yield ColumnCells(name, name, texts, lines)
