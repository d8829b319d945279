"""``phiward demo-formats`` and ``phiward inspect-format``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from phiward.cli.main import app
from phiward.demo.formats import people

runner = CliRunner()


def test_demo_formats_writes_samples_and_refuses_non_empty(tmp_path: Path) -> None:
    target = tmp_path / "samples"
    result = runner.invoke(app, ["demo-formats", str(target), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    files = {f["file"] for f in summary["files"]}
    assert {"hl7/adt_batch.hl7", "dicom/ct_chest.dcm", "archives/bomb.zip"} <= files
    assert (target / "ground-truth.json").exists()
    assert (target / "archives/bomb.zip").stat().st_size < 100_000
    again = runner.invoke(app, ["demo-formats", str(target)])
    assert again.exit_code == 4
    assert "is not empty" in " ".join(again.output.split())
    forced = runner.invoke(app, ["demo-formats", str(target), "--force"])
    assert forced.exit_code == 0
    assert "ground truth" in forced.output


def test_inspect_format_masks_values(tmp_path: Path) -> None:
    runner.invoke(app, ["demo-formats", str(tmp_path / "s")])
    person = people()[0]
    result = runner.invoke(
        app, ["inspect-format", str(tmp_path / "s/hl7/adt_batch.hl7"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["reader"] == "hl7v2"
    ssn_rows = [u for u in report["units"] if u["field"] == "PID-19"]
    assert ssn_rows[0]["hint"] == "SSN" and ssn_rows[0]["value"].endswith(person.ssn[-4:])
    assert person.ssn not in result.output
    assert person.family not in result.output
    table = runner.invoke(app, ["inspect-format", str(tmp_path / "s/hl7/adt_batch.hl7")])
    assert table.exit_code == 0 and person.ssn not in table.output


def test_inspect_format_unknown_file(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01\x02")
    result = runner.invoke(app, ["inspect-format", str(path)])
    assert result.exit_code == 4
    assert "no reader" in " ".join(result.output.split())
    missing = runner.invoke(app, ["inspect-format", str(tmp_path / "nope")])
    assert missing.exit_code == 2
