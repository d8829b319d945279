"""The demo data set: deterministic, and the engine's precision/recall on it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from phiward.demo.legacy import evaluate, generate
from phiward.discover import ScanOptions, scan_paths

# Types the issue sets recall targets for (>= 0.95; names and addresses >= 0.90).
HIGH = ("SSN", "PHONE", "EMAIL", "DATE", "MRN", "IP_ADDRESS", "URL")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo") / "legacy"
    generate(d, seed=11, patients=40)
    return d


def _digest(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        if p.is_file() and "protected" not in p.parts:  # Fernet output is randomised
            h.update(p.relative_to(d).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def test_deterministic(tmp_path: Path, demo: Path) -> None:
    other = tmp_path / "again"
    generate(other, seed=11, patients=40)
    assert _digest(other) == _digest(demo)


def test_refuses_to_overwrite_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate(tmp_path, force=True)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_ground_truth_marked_synthetic(demo: Path) -> None:
    truth = json.loads((demo / "ground-truth.json").read_text())
    assert truth["synthetic"] is True
    assert all(t["synthetic"] for t in truth["identifiers"])
    assert len({t["entity"] for t in truth["identifiers"]}) >= 18


def test_precision_and_recall(demo: Path) -> None:
    r = scan_paths([demo], ScanOptions(workers=1), fingerprint_key=b"d" * 32)
    states = {Path(f.path).relative_to(demo).as_posix(): f.status for f in r.files}
    assert states["protected/patients-backup.csv.fernet"] == "protected"
    assert states["images/scan-0001.bin"] == "skipped"
    assert "ground-truth.json" not in states  # excluded by the demo's .phiwardignore
    by_file = {Path(f.path).relative_to(demo).as_posix(): f.findings for f in r.files}
    scores = evaluate(demo, by_file)
    for name in HIGH:
        assert scores[name].recall >= 0.95, (name, scores[name])
    assert scores["NAME"].recall >= 0.90, scores["NAME"]
    assert scores["STREET_ADDRESS"].recall >= 0.90
    assert scores["ALL"].precision >= 0.90, scores["ALL"]
    clean = [f for f in r.files if "/clean/" in f.path]
    assert clean and all(not f.findings for f in clean)
    named = [f for rel, fs in by_file.items() if rel.startswith("scans/") for f in fs]
    assert len(named) == 10 and {f.location.field for f in named} == {"(file name)"}
    assert {f.entity.value for f in named} == {"NAME", "MRN"}
