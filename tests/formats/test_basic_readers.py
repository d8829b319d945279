from __future__ import annotations

import io
import json

from phiward.formats import reader_for
from phiward.formats._basic import (
    CHUNK_CHARS,
    CsvReader,
    EncryptedReader,
    JsonReader,
    NdjsonReader,
    TextReader,
    looks_binary,
)


def units(reader, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return list(reader.read(io.BufferedReader(io.BytesIO(data)), name))


def test_registry_picks_by_content_and_name() -> None:
    assert reader_for(b"a,b\n1,2\n", "x.csv").name == "csv"  # type: ignore[union-attr]
    assert reader_for(b'{"a": 1}\n{"a": 2}\n', "x.log").name == "ndjson"  # type: ignore[union-attr]
    assert reader_for(b'{"a": [1, 2]}', "x.json").name == "json"  # type: ignore[union-attr]
    assert reader_for(b"hello\n", "notes.txt").name == "text"  # type: ignore[union-attr]
    assert reader_for(b"\x00\x01\x02\x03" * 10, "x.bin") is None
    assert reader_for(b"-----BEGIN PGP MESSAGE-----\n", "x.asc").name == "encrypted"  # type: ignore[union-attr]


def test_binary_sniff() -> None:
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert not looks_binary("Grüße, café".encode())
    assert not looks_binary(b"\xff\xfeh\x00i\x00")  # UTF-16 with BOM


def test_text_chunks_keep_line_numbers() -> None:
    lines = [f"line {i} " + "x" * 100 + "\n" for i in range(1, 6000)]
    us = units(TextReader(), "".join(lines).encode(), "big.log")
    assert len(us) > 1
    assert us[0].line == 1
    second_first_line = us[0].text.count("\n") + 1
    assert us[1].line == second_first_line
    assert us[1].text.startswith(f"line {second_first_line} ")
    assert all(len(u.text) < CHUNK_CHARS + 200 for u in us)


def test_csv_header_aware_with_quotes_and_tsv() -> None:
    data = b'name,notes\n"Smith, John","multi\nline"\nAnn,\n'
    us = units(CsvReader(), data, "p.csv")
    assert [(u.field, u.text, u.line) for u in us] == [
        ("name", "Smith, John", 3),
        ("notes", "multi\nline", 3),
        ("name", "Ann", 4),
    ]
    assert all(u.column_name == u.field for u in us)
    tsv = units(CsvReader(), b"ssn\tdob\n219-45-6789\t1961-03-04\n", "p.tsv")
    assert [u.field for u in tsv] == ["ssn", "dob"]


def test_json_key_paths() -> None:
    doc = {"patients": [{"name": "Ann", "age": 93, "ok": True}]}
    us = units(JsonReader(), json.dumps(doc).encode(), "r.json")
    assert [(u.field, u.text, u.column_name) for u in us] == [
        ("patients[0].name", "Ann", "patients[].name"),
        ("patients[0].age", "93", "patients[].age"),
    ]


def test_bad_json_is_an_error_unit() -> None:
    (u,) = units(JsonReader(), b'{"a": ', "bad.json")
    assert u.status is not None and u.status.startswith("error:")


def test_ndjson_lines_and_bad_line() -> None:
    data = b'{"mrn": "123"}\nnot json\n{"mrn": "456"}\n'
    us = units(NdjsonReader(), data, "f.ndjson")
    assert [(u.line, u.text, u.status) for u in us] == [
        (1, "123", None),
        (2, "", "error:line 2 is not JSON (Expecting value)"),
        (3, "456", None),
    ]


def test_encrypted_formats_are_recognised() -> None:
    r = EncryptedReader()
    assert r.sniff(b"age-encryption.org/v1\n-> X25519", "a")
    assert r.sniff(b"$ANSIBLE_VAULT;1.1;AES256\n", "vault.yml")
    assert r.sniff(b"gAAAAA" + b"B" * 120 + b"==\n", "t.txt")
    assert not r.sniff(b"gAAAAA is just a word here", "t.txt")
    (u,) = units(r, b"whatever", "x")
    assert u.status == "encrypted" and u.text == ""


def test_text_without_newlines_streams_in_bounded_chunks() -> None:
    data = ("x" * 1000 + " jane@example.com ") * 1200  # ~1.2 MB, one line
    us = units(TextReader(), data.encode(), "minified.log")
    assert len(us) >= 4
    assert all(len(u.text) <= CHUNK_CHARS for u in us)
    assert all(u.line == 1 for u in us)
    assert "".join(u.text for u in us) == data
