"""Real-world files from public sources, read from the installed packages that ship them.

pydicom ships its test files inside the wheel (``pydicom/data/test_files``, MIT licence; most are
downsized NEMA WG04 sample images, DCMTK/GDCM examples and radiotherapy objects, with patient names
replaced by pydicom's authors, see that folder's README.txt). Nothing is copied into this
repository; the tests skip if the package or a file is not installed. pydicom itself is the
oracle: whatever identifier it decodes from a header, phiward must report at that tag.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from phiward.core.entities import EntityType as E
from phiward.core.fingerprint import Fingerprinter
from phiward.detect._engine import Analyzer
from phiward.discover import FileScanner, ScanOptions
from phiward.formats import reader_for

pydicom = pytest.importorskip("pydicom")

FILES = Path(pydicom.__file__).parent / "data" / "test_files"
DICOM_FILES = sorted(FILES.glob("*.dcm")) if FILES.is_dir() else []

# Tag → (the entity phiward must report, the pydicom keyword)
IDENTIFIERS = {
    "(0010,0010) PatientName": (E.NAME, "PatientName"),
    "(0010,0020) PatientID": (E.MRN, "PatientID"),
    "(0010,0030) PatientBirthDate": (E.DATE, "PatientBirthDate"),
}


def _oracle(path: Path) -> dict[str, str]:
    """The identifiers pydicom decodes from the file's header (non-empty ones)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    out = {}
    for field, (_, keyword) in IDENTIFIERS.items():
        value = str(ds.get(keyword, "") or "")
        if value.strip("^= "):
            out[field] = value
    return out


@pytest.mark.skipif(not DICOM_FILES, reason="pydicom ships no test files here")
def test_every_shipped_dicom_file_is_read_and_its_identifiers_reported() -> None:
    with_names = 0
    for path in DICOM_FILES:
        data = path.read_bytes()
        reader = reader_for(data[:8192], path.name)
        if reader is None or reader.name != "dicom":
            # Only a file pydicom itself cannot find a patient in may go unrecognised
            # (no_meta.dcm: no preamble and a damaged first tag).
            assert not _oracle(path), path.name
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            units = list(reader.read(io.BytesIO(data), path.name))
        problems = [u.status for u in units if u.status and "pixels" not in u.status]
        assert not problems, (path.name, problems)
        hinted = {(u.field, u.text, u.hint) for u in units if u.hint is not None}
        expected = _oracle(path)
        for field, value in expected.items():
            assert (field, value, IDENTIFIERS[field][0]) in hinted, (path.name, field)
        with_names += "(0010,0010) PatientName" in expected
        # An all-empty person name ("^^^^") is not reported as a name.
        assert not any(u.hint is E.NAME and not u.text.strip("^= ") for u in units)
    assert with_names >= 30  # the wheel's files do carry names: the check above is not vacuous


@pytest.mark.parametrize(
    ("name", "field", "entity"),
    [
        ("rtplan.dcm", "(0010,0010) PatientName", E.NAME),
        ("rtstruct.dcm", "(0010,0030) PatientBirthDate", E.DATE),
        ("waveform_ecg.dcm", "(0010,0020) PatientID", E.MRN),
        ("test-SR.dcm", "(0010,0010) PatientName", E.NAME),
    ],
)
def test_scan_reports_shipped_dicom_identifiers(name: str, field: str, entity: E) -> None:
    path = FILES / name
    if not path.exists():
        pytest.skip(f"pydicom does not ship {name}")
    scanner = FileScanner(Analyzer(fingerprinter=Fingerprinter(b"k" * 32)), ScanOptions())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = scanner.scan_file(path)
    assert result.status == "scanned" and result.reader == "dicom"
    found = [f for f in result.findings if f.location.field == field]
    assert [f.entity for f in found] == [entity]
    assert found[0].evidence.recognizer == "structure" and found[0].confidence >= 0.9
    assert not result.problems  # RT and SR objects carry no pixel data
