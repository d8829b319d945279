"""Parquet column batches: the same cells as the per-cell form and as a plain Python reading of
the table, and the scanner's column evidence over many row groups."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phiward.core.entities import EntityType as E
from phiward.core.fingerprint import Fingerprinter
from phiward.demo.formats import parquet_bytes, people
from phiward.detect._engine import Analyzer
from phiward.discover import FileScanner, ScanOptions
from phiward.formats import ColumnCells, TextUnit, read_units
from phiward.formats._limits import FormatLimits, set_limits
from phiward.formats._parquet import ParquetReader

READER = ParquetReader()


def _parquet(table: pa.Table, row_group_size: int) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group_size)
    return out.getvalue()


def _expanded(data: bytes) -> list[tuple[str | None, str, int | None, str | None]]:
    out = []
    for item in read_units(READER, io.BytesIO(data), "t.parquet"):
        units = item.units() if isinstance(item, ColumnCells) else [item]
        out.extend((u.field, u.text, u.line, u.column_name) for u in units)
    return out


def _reference(table: pa.Table) -> set[tuple[str, str, int]]:
    """What a reader must produce, computed the slow obvious way in Python."""
    cells = set()
    for name in table.column_names:
        for row, value in enumerate(table.column(name).to_pylist(), start=1):
            if value is None or isinstance(value, bool):
                continue
            text = value if isinstance(value, str) else str(value)
            if text.strip():
                cells.add((name, text, row))
    return cells


texts = st.one_of(st.none(), st.just(""), st.just(" \t"), st.text(max_size=12))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(texts, st.one_of(st.none(), st.integers(-(2**40), 2**40))), max_size=40
    ),
    group=st.integers(1, 9),
)
def test_batches_hold_every_non_empty_cell_with_its_row(
    rows: list[tuple[str | None, int | None]], group: int
) -> None:
    table = pa.table(
        {
            "note": pa.array([r[0] for r in rows], pa.string()),
            "mrn": pa.array([r[1] for r in rows], pa.int64()),
        }
    )
    data = _parquet(table, group)
    batched = _expanded(data)
    per_cell = [
        (u.field, u.text, u.line, u.column_name) for u in READER.read(io.BytesIO(data), "t")
    ]
    assert batched == per_cell  # read() is exactly the expansion of read_columns()
    assert {(f, t, line) for f, t, line, _ in batched} == _reference(table)
    assert all(f == c for f, _, _, c in batched)


def test_dictionary_columns_and_struct_fields() -> None:
    table = pa.table(
        {
            "city": pa.array(["Boston", None, "Salem", "Boston"]).dictionary_encode(),
            "addr": [{"zip": "02139"}, {"zip": None}, None, {"zip": "01970"}],
        }
    )
    got = _expanded(_parquet(table, 3))
    assert ("city", "Salem", 3, "city") in got and ("city", "Boston", 4, "city") in got
    assert [(f, t, line) for f, t, line, _ in got if f == "addr.zip"] == [
        ("addr.zip", "02139", 1),
        ("addr.zip", "01970", 4),
    ]


def test_oversized_cells_are_split_not_truncated() -> None:
    set_limits(FormatLimits(max_unit_chars=100))
    long = "word " * 100  # 500 characters
    data = _parquet(pa.table({"note": ["short", long]}), 10)
    items = list(read_units(READER, io.BytesIO(data), "t.parquet"))
    assert all(isinstance(i, TextUnit) for i in items)  # no batch: cells go one by one
    second = [i for i in items if isinstance(i, TextUnit) and i.line == 2]
    assert len(second) > 1 and all(len(u.text) <= 100 for u in second)
    assert "".join(u.text for u in second) == long


def test_scanner_classifies_every_column_across_row_groups(tmp_path: Path) -> None:
    """Each column gets its own class from its own sample even though Parquet hands the
    scanner whole columns one after another (500 rows, groups of 120, sample of 200)."""
    ps = people()
    path = tmp_path / "p.parquet"
    path.write_bytes(parquet_bytes(ps, repeat=500 // len(ps) + 1, row_group_size=120))
    options = ScanOptions(workers=1)
    scanner = FileScanner(Analyzer(fingerprinter=Fingerprinter(b"k" * 32)), options)
    result = scanner.scan_file(path)
    assert result.status == "scanned"
    by_column: dict[tuple[str | None, E], list[Any]] = {}
    for f in result.findings:
        by_column.setdefault((f.location.field, f.entity), []).append(f)
    rows = len(ps) * (500 // len(ps) + 1)
    for column, entity in (("address.city", E.CITY), ("address.zip", E.ZIP_CODE)):
        found = by_column.get((column, entity), [])
        # Found only by the column's class (no text recognizer knows bare cities or zips) ...
        assert {f.evidence.structure for f in found} == {f"column:{column}"}
        # ... in every row, including rows from the last row group.
        assert sorted(f.location.line for f in found) == list(range(1, rows + 1))
    ssn = by_column[("ssn", E.SSN)]
    assert len(ssn) == rows and all(f.evidence.structure == "column:ssn" for f in ssn)


def test_parquet_inside_a_zip_keeps_batches_and_column_evidence(tmp_path: Path) -> None:
    from phiward.demo.formats import zip_bytes
    from phiward.formats import reader_for

    ps = people()
    rows = len(ps) * 40
    data = zip_bytes({"lake/p.parquet": parquet_bytes(ps, repeat=40, row_group_size=100)})
    reader = reader_for(data[:8192], "a.zip")
    assert reader is not None and reader.name == "archive"
    items = list(read_units(reader, io.BytesIO(data), "a.zip"))
    batches = [i for i in items if isinstance(i, ColumnCells)]
    assert batches and all(b.field.startswith("lake/p.parquet!") for b in batches)
    assert {b.column_name for b in batches} >= {"ssn", "address.city"}  # column names kept
    expanded = [
        (u.field, u.text, u.line, u.column_name)
        for i in items
        for u in (i.units() if isinstance(i, ColumnCells) else [i])
    ]
    per_cell = [
        (u.field, u.text, u.line, u.column_name) for u in reader.read(io.BytesIO(data), "a")
    ]
    assert expanded == per_cell

    path = tmp_path / "a.zip"
    path.write_bytes(data)
    scanner = FileScanner(Analyzer(fingerprinter=Fingerprinter(b"k" * 32)), ScanOptions())
    result = scanner.scan_file(path)
    city = [
        f
        for f in result.findings
        if f.location.field == "lake/p.parquet!address.city" and f.entity is E.CITY
    ]
    assert sorted(f.location.line for f in city) == list(range(1, rows + 1))
