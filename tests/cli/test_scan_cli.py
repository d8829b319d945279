from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phiward.cli.main import app

runner = CliRunner(env={"COLUMNS": "250", "NO_COLOR": "1"})


def _files(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "note.txt").write_text("Patient SSN 219-45-6789, email jane.okafor@example.com\n")
    (d / "clean.txt").write_text("no identifiers here\n")
    return d


def test_scan_table_and_exit_codes(tmp_path: Path) -> None:
    d = _files(tmp_path)
    res = runner.invoke(app, ["scan", str(d), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "SSN" in res.output and "***-**-6789" in res.output
    assert "219-45-6789" not in res.output
    res = runner.invoke(app, ["scan", str(d), "-w", "1", "--fail-on", "0.9", "-q"])
    assert res.exit_code == 1
    res = runner.invoke(app, ["scan", str(d / "clean.txt"), "-w", "1", "--fail-on", "0.5"])
    assert res.exit_code == 0


def test_scan_json_output_file_atomic_private(tmp_path: Path) -> None:
    d = _files(tmp_path)
    out = tmp_path / "report.json"
    res = runner.invoke(app, ["scan", str(d), "-w", "1", "-f", "json", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["summary"]["files_with_phi"] == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".report.json.*"))  # no temp file left behind


def test_scan_entities_filter_and_summary(tmp_path: Path) -> None:
    d = _files(tmp_path)
    res = runner.invoke(app, ["scan", str(d), "-w", "1", "-e", "email", "--summary"])
    assert res.exit_code == 0, res.output
    assert "EMAIL" in res.output and "SSN" not in res.output


def test_bad_input_is_usage_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["scan", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = runner.invoke(app, ["scan", str(tmp_path), "-e", "NOPE"])
    assert res.exit_code == 2 and "unknown entity type" in res.output
    res = runner.invoke(app, ["scan", str(tmp_path), "-f", "xml"])
    assert res.exit_code == 2 and "--format" in res.output
    res = runner.invoke(app, ["scan", str(tmp_path), "--min-confidence", "2"])
    assert res.exit_code == 2


def test_output_folder_missing_is_error(tmp_path: Path) -> None:
    d = _files(tmp_path)
    res = runner.invoke(
        app, ["scan", str(d), "-w", "1", "-f", "csv", "-o", str(tmp_path / "no" / "r.csv")]
    )
    assert res.exit_code == 4 and "does not exist" in res.output


def test_demo_data_then_scan_html(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    res = runner.invoke(app, ["demo-data", str(d), "--patients", "5"])
    assert res.exit_code == 0, res.output
    assert (d / "ground-truth.json").exists()
    res = runner.invoke(app, ["demo-data", str(d)])
    assert res.exit_code == 4 and "--force" in res.output
    res = runner.invoke(app, ["demo-data", str(d), "--patients", "5", "--force"])
    assert res.exit_code == 0
    html = tmp_path / "r.html"
    res = runner.invoke(app, ["scan", str(d), "-w", "1", "-f", "html", "-o", str(html), "-q"])
    assert res.exit_code == 0, res.output
    assert "phiward PHI scan report" in html.read_text()


def test_help_documents_every_option() -> None:
    res = runner.invoke(app, ["scan", "--help"])
    for opt in ("--format", "--output", "--min-confidence", "--entities", "--exclude",
                "--fail-on", "--workers", "--summary", "--quiet", "--show-paths"):  # fmt: skip
        assert opt in res.output


def test_ner_without_model_is_clear_error(tmp_path: Path) -> None:
    d = _files(tmp_path)
    res = runner.invoke(app, ["scan", str(d), "-w", "1", "--ner", "phiward_no_such_model_pkg"])
    assert res.exit_code == 4
    assert "not installed" in res.output or "needs spaCy" in res.output


def test_pre_commit_hook_definition() -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / ".pre-commit-hooks.yaml").read_text()
    assert "- id: phiward-scan" in text
    entry = next(line for line in text.splitlines() if line.strip().startswith("entry:"))
    args = entry.split(":", 1)[1].split()
    assert args[:3] == ["phiward", "scan", "--fail-on"]
    res = runner.invoke(app, [*args[1:], str(root / "README.md")])
    assert res.exit_code in (0, 1), res.output  # the hook's own arguments parse


def test_table_report_to_file(tmp_path: Path) -> None:
    d = _files(tmp_path)
    out = tmp_path / "report.txt"
    res = runner.invoke(app, ["scan", str(d), "-w", "1", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "PHI findings" in text and "***-**-6789" in text and "219-45-6789" not in text


def test_sarif_and_csv_to_stdout(tmp_path: Path) -> None:
    d = _files(tmp_path)
    res = runner.invoke(app, ["scan", str(d), "-w", "1", "-f", "sarif"])
    assert res.exit_code == 0 and json.loads(res.output)["version"] == "2.1.0"
    res = runner.invoke(app, ["scan", str(d), "-w", "1", "-f", "csv"])
    assert res.exit_code == 0 and res.output.startswith("path,line,column,field,entity")


def test_scan_section_of_phiward_toml(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    d = _files(tmp_path)
    (d / "skip.log").write_text("SSN 219-45-6789\n")
    (tmp_path / "phiward.toml").write_text(
        '[scan]\nexclude = ["*.log"]\nfail_on = 0.9\nentities = "SSN"\n'
    )
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["scan", "data", "-w", "1", "-f", "json"])
    assert res.exit_code == 1  # fail_on from the file
    doc = json.loads(res.output)
    assert [Path(f["path"]).name for f in doc["files"]] == ["clean.txt", "note.txt"]
    kinds = {x["entity"] for f in doc["files"] for x in f["findings"]}
    assert kinds == {"SSN"}
    (tmp_path / "phiward.toml").write_text("[scan]\nexcludes = []\n")
    res = runner.invoke(app, ["scan", "data", "-w", "1"])
    assert res.exit_code == 4 and "unknown scan setting(s): excludes" in res.output


def _phi_named(tmp_path: Path) -> Path:
    root = tmp_path / "Export for Jane Okafor"  # the scan root is the user's own choice
    folder = root / "Okafor_Ngozi"
    folder.mkdir(parents=True)
    (folder / "labs SSN 219-45-6789.txt").write_text("nothing to see\n")
    (root / "backup_2023-03-04.log").write_text("plain\n")
    return root


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "html", "csv"])
def test_phi_in_file_names_is_found_and_masked_in_every_report(tmp_path: Path, fmt: str) -> None:
    root = _phi_named(tmp_path)
    res = runner.invoke(app, ["scan", str(root), "-w", "1", "-f", fmt])
    assert res.exit_code == 0, res.output
    out = res.output.replace("\\/", "/")
    assert "219-45-6789" not in out and "Okafor_Ngozi" not in out
    assert "***-**-6789" in out
    if fmt in ("json", "csv"):
        assert "(file name)" in out
        assert "Jane Okafor" in out  # the scan root is shown as given
    if fmt == "json":
        doc = json.loads(res.output)
        backup = next(f for f in doc["files"] if f["path"].endswith(".log"))
        assert "2023-03-04" in backup["path"] and backup["findings"] == []  # a file's date


def test_show_paths_prints_them_as_they_are(tmp_path: Path) -> None:
    root = _phi_named(tmp_path)
    res = runner.invoke(app, ["scan", str(root), "-w", "1", "-f", "csv", "--show-paths"])
    assert res.exit_code == 0, res.output
    assert "Okafor_Ngozi/labs SSN 219-45-6789.txt" in res.output
    rows = [r for r in res.output.splitlines() if "(file name)" in r]
    assert {r.split(",")[4] for r in rows} == {"SSN", "NAME"}
    assert all(",***-**-6789," in r or ",O***** N****," in r for r in rows)


def test_a_file_named_with_phi_scanned_by_name(tmp_path: Path) -> None:
    f = tmp_path / "Okafor_Ngozi_MRN_1234567.txt"
    f.write_text("nothing\n")
    res = runner.invoke(app, ["scan", str(f), "-w", "1", "-f", "json"])
    doc = json.loads(res.output)
    found = {x["entity"] for fr in doc["files"] for x in fr["findings"]}
    assert found == {"NAME", "MRN"}
    assert "Okafor" not in res.output and "1234567" not in res.output


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "html", "csv"])
def test_a_file_name_that_is_not_utf8_does_not_break_reports(tmp_path: Path, fmt: str) -> None:
    import os

    folder = tmp_path / "data"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/caf\xe9_Smith_John.txt"
    with open(raw, "wb") as fh:
        fh.write(b"SSN 219-45-6789\n")
    out = tmp_path / f"report.{fmt}"
    res = runner.invoke(app, ["scan", str(folder), "-w", "1", "-f", fmt, "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    if fmt in ("json", "csv", "html"):
        assert "xe9_S****_J***.txt" in text  # the odd byte escaped, the name masked
    assert "Smith" not in text and "219-45-6789" not in text
