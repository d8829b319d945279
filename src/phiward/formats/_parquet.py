"""Apache Parquet, column-aware like CSV and streamed one row group at a time (pyarrow).

Each non-null cell is a unit with ``column_name`` set (``field`` is the column, ``line`` the
1-based row), so the scanner can use the column header as evidence the way it does for CSV. Nested
columns are flattened (``address.city``, ``phones[1]``). Binary columns are skipped. Files using
Parquet modular encryption (``PARE`` magic) are reported as ``encrypted``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any, BinaryIO

from phiward.errors import InputError
from phiward.formats._base import TextUnit
from phiward.formats._columns import COLUMN_CONFIDENCE, column_hint
from phiward.formats._limits import BudgetedReader, encrypted, skipped

MAX_CELL = 1 << 20


def _flatten(value: Any, name: str) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, str):
        if value.strip():
            yield name, value[:MAX_CELL]
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

    def sniff(self, head: bytes, filename: str) -> bool:
        return head[:4] in (b"PAR1", b"PARE")

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        import pyarrow as pa  # noqa: PLC0415 - optional [formats] extra, imported on use
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
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=columns)
            rows = table.num_rows
            for column_name, column in zip(table.column_names, table.columns, strict=True):
                chunk_values = column.to_pylist()
                hint = column_hint(column_name)
                conf = COLUMN_CONFIDENCE if hint else 0.0
                plain = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                for index, value in enumerate(chunk_values):
                    if value is None:
                        continue
                    if plain:
                        if value.strip():
                            yield TextUnit(
                                text=value[:MAX_CELL],
                                field=column_name,
                                line=row_base + index + 1,
                                hint=hint,
                                hint_confidence=conf,
                                column_name=column_name,
                            )
                        continue
                    for field, text in _flatten(value, column_name):
                        sub = hint if field == column_name else column_hint(field)
                        yield TextUnit(
                            text=text,
                            field=field,
                            line=row_base + index + 1,
                            hint=sub,
                            hint_confidence=COLUMN_CONFIDENCE if sub else 0.0,
                            column_name=column_name,
                        )
            row_base += rows
