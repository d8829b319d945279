"""Every identifier planted by ``demo-formats`` comes back with its structural path and type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phiward.demo.formats import Truth
from phiward.formats._registry import reader_for
from tests.formats.conftest import read_path


def test_every_planted_identifier_is_reported(samples: tuple[Path, list[Truth]]) -> None:
    root, truth = samples
    assert len(truth) > 80
    cache: dict[str, dict[str, list[tuple[str, str | None]]]] = {}
    missing = []
    for planted in truth:
        if planted.file not in cache:
            fields: dict[str, list[tuple[str, str | None]]] = {}
            for unit in read_path(root / planted.file):
                fields.setdefault(unit.field or "", []).append(
                    (unit.text, unit.hint.value if unit.hint else None)
                )
            cache[planted.file] = fields
        got = cache[planted.file].get(planted.field, [])
        if planted.by == "structure":
            ok = (planted.value, planted.entity) in got
        else:  # the scanner's column logic or text engine decides; the text must be there
            ok = any(planted.value in text for text, _ in got)
        if not ok:
            missing.append((planted.file, planted.field, planted.entity))
    assert missing == []


def test_ground_truth_file_lists_every_format(samples: tuple[Path, list[Truth]]) -> None:
    root, _ = samples
    data = json.loads((root / "ground-truth.json").read_text())
    files = {p["file"] for p in data["planted"]}
    for expected in (
        "hl7/adt_batch.hl7",
        "fhir/bundle.json",
        "fhir/Patient.ndjson",
        "cda/ccd.xml",
        "dicom/ct_chest.dcm",
        "pdf/referral.pdf",
        "office/discharge.docx",
        "office/patients.xlsx",
        "parquet/patients.parquet",
        "images/wound.jpg",
        "archives/records.zip",
        "archives/records.tar.gz",
    ):
        assert expected in files


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("hl7/adt_batch.hl7", "hl7v2"),
        ("hl7/adt_mllp.hl7", "hl7v2"),
        ("fhir/bundle.json", "fhir-json"),
        ("fhir/Patient.ndjson", "fhir-ndjson"),
        ("fhir/patient.xml", "fhir-xml"),
        ("cda/ccd.xml", "cda"),
        ("dicom/ct_chest.dcm", "dicom"),
        ("pdf/referral.pdf", "pdf"),
        ("office/discharge.docx", "docx"),
        ("office/patients.xlsx", "xlsx"),
        ("parquet/patients.parquet", "parquet"),
        ("images/wound.jpg", "image"),
        ("images/wound.png", "image"),
        ("archives/records.zip", "archive"),
        ("archives/records.tar.gz", "archive"),
        ("encrypted/labs.csv.encrypted", "encrypted-envelope"),
    ],
)
def test_sniffing_uses_content_not_extension(
    samples: tuple[Path, list[Truth]], name: str, reader: str
) -> None:
    root, _ = samples
    head = (root / name).read_bytes()[:8192]
    found = reader_for(head, "renamed.bin")
    assert found is not None and found.name == reader


def test_status_samples(samples: tuple[Path, list[Truth]]) -> None:
    root, _ = samples
    statuses = {
        name: [u.status for u in read_path(root / name) if u.status]
        for name in (
            "archives/bomb.zip",
            "archives/too_deep.zip",
            "archives/protected.zip",
            "encrypted/labs.csv.encrypted",
            "pdf/sealed.pdf",
            "pdf/referral.pdf",
        )
    }
    assert any("zip bomb: compression ratio" in s for s in statuses["archives/bomb.zip"])
    assert any("nested deeper than 4" in s for s in statuses["archives/too_deep.zip"])
    assert statuses["archives/protected.zip"] == ["encrypted"]
    assert statuses["encrypted/labs.csv.encrypted"] == ["encrypted"]
    assert statuses["pdf/sealed.pdf"] == ["encrypted"]
    assert statuses["pdf/referral.pdf"] == ["skipped:image-only page, not scanned for text"]
