from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from phiward.core import events
from phiward.core.entities import EntityType as E
from phiward.core.fingerprint import Fingerprinter
from phiward.detect import Analyzer
from phiward.discover import FileScanner, IgnoreMatcher, ScanOptions, parse_rules, scan_paths
from phiward.errors import InputError
from phiward.formats import TextUnit

KEY = b"k" * 32


def _tree(root: Path) -> None:
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "a.txt").write_text("Patient SSN 219-45-6789\nemail jane@example.com\n")
    (root / "notes" / "clean.txt").write_text("nothing to see here\n")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("SSN 219-45-6789\n")
    (root / "img.bin").write_bytes(b"\x00\x01\x02\x03" * 64)
    (root / "vault.txt").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162636465\n")
    (root / "x.csv").write_text("ssn,note\n219-45-6789,ok\n")


def test_scan_tree_states_and_findings(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / ".phiwardignore").write_text("# build output\nbuild/\n")
    r = scan_paths([tmp_path], ScanOptions(workers=1), fingerprint_key=KEY)
    states = {Path(f.path).name: f.status for f in r.files}
    assert states == {
        "a.txt": "scanned",
        "clean.txt": "scanned",
        "img.bin": "skipped",
        "vault.txt": "protected",
        "x.csv": "scanned",
    }
    a = next(f for f in r.files if f.path.endswith("a.txt"))
    assert [(x.entity, x.location.line) for x in a.findings] == [(E.SSN, 1), (E.EMAIL, 2)]
    assert all(x.encrypted_at_rest is False for x in a.findings)
    assert r.by_entity()[E.SSN] == 2  # a.txt and x.csv


def test_excludes_and_negation(tmp_path: Path) -> None:
    _tree(tmp_path)
    r = scan_paths(
        [tmp_path], ScanOptions(workers=1, excludes=("*.txt", "!a.txt")), fingerprint_key=KEY
    )
    names = sorted(Path(f.path).name for f in r.files)
    assert names == ["a.txt", "img.bin", "x.csv"]


def test_gitignore_rules() -> None:
    m = IgnoreMatcher(parse_rules(["/top.txt", "logs/", "**/tmp/*.csv", "*.log", "!keep.log"]))
    assert m.ignored("top.txt", False) and not m.ignored("sub/top.txt", False)
    assert m.ignored("a/logs", True) and not m.ignored("logs", False)
    assert m.ignored("x/tmp/a.csv", False) and m.ignored("tmp/a.csv", False)
    assert m.ignored("deep/a.log", False) and not m.ignored("deep/keep.log", False)


def test_missing_path_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        scan_paths([tmp_path / "nope"], fingerprint_key=KEY)


def test_scan_run_event_has_counts_only(tmp_path: Path) -> None:
    _tree(tmp_path)
    seen: list[events.SecurityEvent] = []
    prev = events.set_hook(seen.append)
    try:
        scan_paths([tmp_path], ScanOptions(workers=1), fingerprint_key=KEY)
    finally:
        events.set_hook(prev)
    (ev,) = seen
    assert (ev.action, ev.crud, ev.outcome) == ("scan.run", "E", "success")
    assert ev.details["files"] == 6 and ev.details["protected"] == 1
    assert "219" not in repr(ev)


def test_parallel_workers_match_serial(tmp_path: Path) -> None:
    _tree(tmp_path)
    one = scan_paths([tmp_path], ScanOptions(workers=1), fingerprint_key=KEY)
    two = scan_paths([tmp_path], ScanOptions(workers=2), fingerprint_key=KEY)
    assert [f.path for f in one.files] == [f.path for f in two.files]
    assert [x.to_dict() for x in one.findings] == [x.to_dict() for x in two.findings]


def test_max_file_size_skips(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 5000)
    r = scan_paths([tmp_path], ScanOptions(workers=1, max_file_bytes=100), fingerprint_key=KEY)
    assert r.files[0].status == "skipped" and "larger" in (r.files[0].reason or "")


class _StructuredReader:
    """Yields the units a structured reader (HL7, DICOM, ...) would: hints and statuses."""

    name = "fake-structured"

    def __init__(self, units: list[TextUnit]) -> None:
        self.units = units

    def sniff(self, head: bytes, filename: str) -> bool:
        return True

    def read(self, stream: object, filename: str) -> Iterator[TextUnit]:
        yield from self.units


def _scanner() -> FileScanner:
    analyzer = Analyzer(fingerprinter=Fingerprinter(KEY), min_confidence=0.5)
    return FileScanner(analyzer, ScanOptions())


def test_hints_become_findings_and_text_still_analysed(tmp_path: Path) -> None:
    from phiward.discover._scanner import FileResult

    units = [
        TextUnit("OKAFOR^NGOZI", field="PID-5", line=3, hint=E.NAME, hint_confidence=0.97),
        TextUnit("call 617-253-1000", field="NTE-3", line=4, hint=E.OTHER_ID, hint_confidence=0.6),
        TextUnit(
            "DOE^JANE", field="(0010,0010)", hint=E.NAME, hint_confidence=0.99, hint_only=True
        ),
        TextUnit("", field="page 2", status="skipped:image-only page"),
        TextUnit("", field="part 3", status="error:bad segment"),
    ]
    result = FileResult("msg.hl7", "scanned")
    _scanner()._consume(units, result)
    got = [(f.entity, f.location.field, f.evidence.recognizer) for f in result.findings]
    assert (E.NAME, "PID-5", "structure") in got
    assert (E.PHONE, "NTE-3", "phone_nanp") in got  # text engine still ran
    assert (E.NAME, "(0010,0010)", "structure") in got
    pid = next(f for f in result.findings if f.location.field == "PID-5")
    assert pid.confidence == 0.97 and pid.evidence.structure == "PID-5"
    assert pid.masked == "O*****^N****"
    assert result.problems == ["page 2: skipped: image-only page", "part 3: error: bad segment"]
    assert result.status == "scanned"


def test_encrypted_unit_marks_file_protected() -> None:
    from phiward.discover._scanner import FileResult

    result = FileResult("backup.zip", "scanned")
    _scanner()._consume([TextUnit("", status="encrypted")], result)
    assert result.status == "protected"


def test_fifo_is_skipped_not_blocking(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "a.txt").write_text("jane@example.com\n")
    r = scan_paths([tmp_path], ScanOptions(workers=1), fingerprint_key=KEY)
    states = {Path(f.path).name: (f.status, f.reason) for f in r.files}
    assert states["pipe"] == ("skipped", "not a regular file")
    assert states["a.txt"][0] == "scanned"


def test_unreadable_text_is_replaced_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("Patient café SSN 219-45-6789\n".encode("latin-1"))
    r = scan_paths([tmp_path], ScanOptions(workers=1), fingerprint_key=KEY)
    assert r.files[0].status == "scanned"
    assert [f.entity for f in r.files[0].findings] == [E.SSN]


def test_a_failing_reader_costs_one_file_not_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import phiward.discover._scanner as scanner_mod

    class Broken:
        name = "broken"

        def sniff(self, head: bytes, filename: str) -> bool:
            return True

        def read(self, stream: object, filename: str) -> Iterator[TextUnit]:
            raise KeyError("boom")
            yield  # pragma: no cover

    real = scanner_mod.reader_for
    monkeypatch.setattr(
        scanner_mod,
        "reader_for",
        lambda head, name: Broken() if name == "bad.txt" else real(head, name),
    )
    (tmp_path / "bad.txt").write_text("x")
    (tmp_path / "good.txt").write_text("jane@example.com\n")
    r = scan_paths([tmp_path], ScanOptions(workers=1), fingerprint_key=KEY)
    states = {Path(f.path).name: (f.status, f.reason) for f in r.files}
    assert states["bad.txt"] == ("error", "reader failed (KeyError)")
    assert states["good.txt"][0] == "scanned"
