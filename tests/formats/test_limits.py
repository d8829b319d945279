"""Per-file budgets: unit count and wall time end a file with a clear skip, settings validate."""

from __future__ import annotations

import io
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiward.errors import ConfigError, InputError
from phiward.formats._base import TextUnit
from phiward.formats._fhir import FhirNdjsonReader
from phiward.formats._limits import BudgetedReader, FormatLimits, set_limits

LINE = json.dumps({"resourceType": "Patient", "name": [{"family": "X", "given": ["Y"]}]})


def test_unit_budget() -> None:
    set_limits(FormatLimits(max_units=5))
    data = ("\n".join([LINE] * 50)).encode()
    units = list(FhirNdjsonReader().read(io.BytesIO(data), "p.ndjson"))
    assert len(units) == 6
    assert units[-1].status == "skipped:budget: more than 5 units"


def test_time_budget() -> None:
    set_limits(FormatLimits(max_seconds=0.000001))
    data = ("\n".join([LINE] * 50)).encode()
    units = list(FhirNdjsonReader().read(io.BytesIO(data), "p.ndjson"))
    assert units[-1].status == "skipped:budget: over 1e-06 s"
    assert len(units) < 10


def test_from_mapping() -> None:
    limits = FormatLimits.from_mapping({"max_seconds": "2.5", "max_depth": "3"})
    assert limits.max_seconds == 2.5 and limits.max_depth == 3
    with pytest.raises(ConfigError, match="unknown setting"):
        FormatLimits.from_mapping({"max_bogus": 1})
    with pytest.raises(ConfigError, match="must be a number"):
        FormatLimits.from_mapping({"max_units": "many"})
    with pytest.raises(ConfigError, match="must be positive"):
        FormatLimits.from_mapping({"max_units": 0})


class _Exploding(BudgetedReader):
    name = "exploding"

    def __init__(self, after: int) -> None:
        self.after = after

    def sniff(self, head: bytes, filename: str) -> bool:
        return True

    def _units(self, stream, filename):  # type: ignore[no-untyped-def]
        for index in range(self.after):
            yield TextUnit(text=str(index))
        raise KeyError("library bug with a value 123-45-6789")


def test_library_errors_become_input_error_or_error_unit() -> None:
    with pytest.raises(InputError) as caught:
        list(_Exploding(0).read(io.BytesIO(b""), "x"))
    assert "123-45-6789" not in str(caught.value)
    units = list(_Exploding(2).read(io.BytesIO(b""), "x"))
    assert units[-1].status == "error:exploding: malformed (KeyError)"


def test_limits_come_from_settings_when_none_are_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from phiward.formats._limits import get_limits

    monkeypatch.setenv("PHIWARD_FORMATS__MAX_UNITS", "3")
    monkeypatch.setenv("PHIWARD_FORMATS__MAX_RATIO", "50")
    set_limits(None)
    assert get_limits().max_units == 3 and get_limits().max_ratio == 50.0
    data = ("\n".join([LINE] * 10)).encode()
    units = list(FhirNdjsonReader().read(io.BytesIO(data), "p.ndjson"))
    assert units[-1].status == "skipped:budget: more than 3 units"
    monkeypatch.setenv("PHIWARD_FORMATS__MAX_BOGUS", "1")
    set_limits(None)
    with pytest.raises(ConfigError):
        list(FhirNdjsonReader().read(io.BytesIO(data), "p.ndjson"))


class _OneHugeUnit(BudgetedReader):
    name = "huge"

    def __init__(self, text: str) -> None:
        self.text = text

    def sniff(self, head: bytes, filename: str) -> bool:
        return True

    def _units(self, stream, filename):  # type: ignore[no-untyped-def]
        yield TextUnit(text=self.text, field="page 1", line=10, byte_offset=5)


def test_long_unit_is_split_into_chunks_that_lose_nothing() -> None:
    set_limits(FormatLimits(max_unit_chars=1000))
    text = "".join(f"line {i} SSN 123-45-{i:04d}\n" for i in range(400))  # ~10 KB
    units = list(_OneHugeUnit(text).read(io.BytesIO(b""), "x"))
    assert len(units) > 5 and all(len(u.text) <= 1000 for u in units)
    assert "".join(u.text for u in units) == text
    assert all(u.text.endswith("\n") for u in units)  # cut at line breaks, not inside an SSN
    assert all(u.field == "page 1" for u in units)
    assert [u.byte_offset for u in units[:2]] == [5, None]
    for unit in units:  # each chunk's line number is the line its first character is on
        before = text[: text.index(unit.text)]
        assert unit.line == 10 + before.count("\n")


def test_unbreakable_text_is_cut_hard() -> None:
    set_limits(FormatLimits(max_unit_chars=100))
    units = list(_OneHugeUnit("x" * 1050).read(io.BytesIO(b""), "x"))
    assert [len(u.text) for u in units] == [100] * 10 + [50]


def test_time_budget_holds_inside_one_huge_unit() -> None:
    """The consumer (the detection engine) works through a long unit chunk by chunk, and the
    time budget is checked between chunks: a 1 MB page costs ~2 chunks, not the whole page."""
    set_limits(FormatLimits(max_seconds=0.05, max_unit_chars=10_000))
    units = []
    for unit in _OneHugeUnit("a b " * 250_000).read(io.BytesIO(b""), "x"):
        units.append(unit)
        time.sleep(0.03)  # the work done on one chunk
    assert units[-1].status == "skipped:budget: over 0.05 s"
    assert 1 <= len(units) - 1 <= 3


def test_pdf_time_budget_is_checked_inside_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """One page of 10,000 text operators: the deadline fires while pypdf is still inside the
    page (a fake clock advancing one second per reading), so no page text comes out."""
    from phiward.demo.formats import pdf_bytes
    from phiward.formats import _limits
    from phiward.formats._pdf import PdfReader

    data = pdf_bytes([f"row {i}" for i in range(10_000)], image_page=False)
    assert [u.field for u in PdfReader().read(io.BytesIO(data), "r.pdf")] == ["page 1"]
    clock = iter(range(1_000_000))
    monkeypatch.setattr(_limits.time, "monotonic", lambda: float(next(clock)))
    set_limits(FormatLimits(max_seconds=20))
    units = list(PdfReader().read(io.BytesIO(data), "r.pdf"))
    assert [u.status for u in units] == ["skipped:budget: over 20 s"]
    # ~20 clock readings at one per 256 operators: stopped a few thousand operators in.
    assert 15 <= next(clock) <= 30


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab \n\t\u00e9"), max_size=3000),
    size=st.integers(1, 700),
    line=st.one_of(st.none(), st.integers(1, 50)),
)
def test_chunks_property(text: str, size: int, line: int | None) -> None:
    from phiward.formats._limits import chunks

    pieces = list(chunks(TextUnit(text=text, field="f", line=line), size))
    assert "".join(p.text for p in pieces) == text
    assert all(0 < len(p.text) <= size for p in pieces)
    if line is not None:
        assert [p.line for p in pieces] == [
            line + text[: sum(len(q.text) for q in pieces[:i])].count("\n")
            for i in range(len(pieces))
        ]


def _empty_xlsx(rows: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for _ in range(rows):
        sheet.append([" "])  # a cell, but no text: yields nothing
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _blank_lines(count: int) -> bytes:
    return (LINE + "\n" + " \n" * count).encode()


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("x.xml", lambda: b"<?xml version='1.0'?><r>" + b"<a/>" * 20_000 + b"</r>"),
        ("x.xlsx", lambda: _empty_xlsx(20_000)),
        ("x.ndjson", lambda: _blank_lines(20_000)),
        ("x.hl7", lambda: b"MSH|^~\\&|A\r" + b"ZZZ|\r" * 20_000),
    ],
)
def test_time_budget_holds_in_loops_that_yield_nothing(
    name: str, make: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long runs of input that give no unit (empty elements, rows, lines) used to escape the
    budget, which was only checked after a unit. With a fake clock advancing one second per
    reading, the reader must stop part-way with the budget unit."""
    from phiward.formats import _limits
    from tests.formats.conftest import read_bytes

    data = make()  # type: ignore[operator]
    clock = iter(range(10_000_000))
    monkeypatch.setattr(_limits.time, "monotonic", lambda: float(next(clock)))
    set_limits(FormatLimits(max_seconds=50))
    units = read_bytes(data, name)
    assert units[-1].status == "skipped:budget: over 50 s", (name, units[-3:])
