"""Every output format: shape, validity and the rule that no raw PHI ever appears."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from phiward.discover import ScanOptions, ScanResult, scan_paths
from phiward.reports import FORMATS, render, render_csv, render_html, render_sarif, render_table

SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"
RAW = [
    "219-45-6789",
    "219456789",
    "jane.okafor@example.com",
    "617-253-1000",
    "Ngozi Okafor",
    "1HGCM82633A004352",
    "4111 1111 1111 1111",
    "03/04/1961",
    "42 Juniper Lane",
    "10.20.30.40",
]


@pytest.fixture
def result(tmp_path: Path) -> ScanResult:
    (tmp_path / "note.txt").write_text(
        "Patient Ngozi Okafor, DOB 03/04/1961, SSN 219-45-6789, phone 617-253-1000.\n"
        "Lives at 42 Juniper Lane. Email jane.okafor@example.com from ip 10.20.30.40\n"
        "VIN 1HGCM82633A004352 card 4111 1111 1111 1111 <script>alert(1)</script>\n"
    )
    (tmp_path / "rows.csv").write_text("ssn,name\n219456789,=HYPERLINK(1)\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00" * 100)
    return scan_paths([tmp_path], ScanOptions(workers=1), fingerprint_key=b"r" * 32)


def test_no_raw_phi_in_any_format(result: ScanResult) -> None:
    assert len(result.findings) >= 9
    for fmt in ("json", "sarif", "html", "csv", "summary"):
        text = render(result, fmt)
        for raw in RAW:
            assert raw not in text, (fmt, raw)
    from rich.console import Console

    console = Console(record=True, width=200, file=io.StringIO())
    console.print(render_table(result))
    table = console.export_text()
    assert "SSN" in table
    for raw in RAW:
        assert raw not in table


def test_sarif_valid_against_schema(result: ScanResult) -> None:
    doc = json.loads(render_sarif(result))
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "PHI-SSN" in rule_ids
    res = next(r for r in run["results"] if r["ruleId"] == "PHI-SSN")
    assert rule_ids[res["ruleIndex"]] == "PHI-SSN"
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert res["partialFingerprints"]["phiwardValue/v1"].startswith("hs256:")
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("skipped" in n["message"]["text"] for n in notes)


def test_sarif_schema_rejects_a_broken_log() -> None:
    schema = json.loads(SCHEMA.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"results": []}]}, schema)


def test_json_report(result: ScanResult) -> None:
    doc = json.loads(render(result, "json"))
    assert doc["summary"]["files"] == 3
    assert doc["summary"]["files_skipped"] == 1
    assert doc["summary"]["by_entity"]["SSN"]["safe_harbor"] == "G"
    f = doc["files"][1]["findings"][0]
    assert {"entity", "location", "confidence", "evidence", "masked", "fingerprint"} <= set(f)


def test_html_self_contained_and_escaped(result: ScanResult) -> None:
    page = render_html(result)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "src=" not in page and "href=" not in page
    assert "Content-Security-Policy" in page
    assert "Social Security number" in page


def test_csv_report_neutralises_formulas(result: ScanResult) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(result))))
    assert rows and {"path", "entity", "masked", "fingerprint"} <= set(rows[0])
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@")), value


def test_formats_listed() -> None:
    assert FORMATS == ("table", "json", "sarif", "html", "csv")
