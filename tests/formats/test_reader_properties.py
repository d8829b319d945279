"""Property tests for the parsers: readers and ignore rules never crash and never lose data."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from phiward.discover import IgnoreMatcher, parse_rules
from phiward.formats._basic import CsvReader, JsonReader, NdjsonReader, TextReader

cell = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=30
)


def _read(reader, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return list(reader.read(io.BufferedReader(io.BytesIO(data)), name))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=8))
@example([['"|', "", ""]])  # the sniffer once chose '|' from inside the quoted cell
def test_csv_roundtrip(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["a", "b", "c"])
    w.writerows(rows)
    units = _read(CsvReader(), buf.getvalue().encode(), "t.csv")
    got = [(u.field, u.text) for u in units if u.status is None]
    want = [(col, v) for row in rows for col, v in zip("abc", row, strict=True) if v]
    assert got == want


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none()),
                    lambda kids: st.one_of(st.lists(kids, max_size=3),
                                           st.dictionaries(st.text(max_size=5), kids, max_size=3)),
                    max_leaves=12))  # fmt: skip
def test_json_leaves_cover_every_string(doc: object) -> None:
    units = _read(JsonReader(), json.dumps({"root": doc}).encode(), "d.json")
    texts = sorted(u.text for u in units)

    def leaves(node: object) -> list[str]:
        if isinstance(node, dict):
            return [x for v in node.values() for x in leaves(v)]
        if isinstance(node, list):
            return [x for v in node for x in leaves(v)]
        if isinstance(node, bool) or node is None:
            return []
        return [str(node)] if str(node) else []

    assert texts == sorted(leaves(doc))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_readers_never_crash_on_garbage(data: bytes) -> None:
    for reader, name in ((TextReader(), "x.txt"), (CsvReader(), "x.csv"),
                         (JsonReader(), "x.json"), (NdjsonReader(), "x.ndjson")):  # fmt: skip
        for unit in _read(reader, data, name):
            assert unit.status is None or unit.status.startswith(("error:", "skipped:"))


@given(st.lists(st.text(max_size=12), max_size=6), st.text(max_size=20), st.booleans())
def test_ignore_rules_never_crash(lines: list[str], path: str, is_dir: bool) -> None:
    assert IgnoreMatcher(parse_rules(lines)).ignored(path, is_dir) in (True, False)


@given(st.text(alphabet="abc\n", max_size=200))
def test_text_reader_keeps_every_character(text: str) -> None:
    units = _read(TextReader(), text.encode(), "t.txt")
    assert "".join(u.text for u in units) == text
