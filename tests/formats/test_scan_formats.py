"""End to end: ``phiward scan`` over the demo-formats samples reports every planted identifier
with its structural path and type, reports protected and refused files as such, and does not
report the same identifier twice for one structural field."""

from __future__ import annotations

import collections
import os
from pathlib import Path

from phiward.demo.formats import Truth
from phiward.discover import ScanOptions, scan_paths


def test_scan_reports_every_planted_identifier(samples: tuple[Path, list[Truth]]) -> None:
    root, truth = samples
    # 0.3 so the "possible face image" PHOTO findings (below the default 0.5) are reported too.
    options = ScanOptions(workers=1, min_confidence=0.3)
    result = scan_paths([root], options, fingerprint_key=os.urandom(32))
    by_file = {Path(f.path).relative_to(root).as_posix(): f for f in result.files}
    missing = []
    for planted in truth:
        findings = by_file[planted.file].findings
        if not any(
            f.location.field == planted.field and f.entity.value == planted.entity for f in findings
        ):
            missing.append((planted.file, planted.field, planted.entity, planted.by))
    assert missing == []

    statuses = {name: (f.status, f.problems) for name, f in by_file.items()}
    for name in (
        "archives/protected.zip",
        "encrypted/labs.csv.encrypted",
        "pdf/sealed.pdf",
    ):
        assert statuses[name][0] == "protected", name
    assert any("zip bomb" in p for p in statuses["archives/bomb.zip"][1])
    assert any("nested deeper" in p for p in statuses["archives/too_deep.zip"][1])
    assert any("image-only page" in p for p in statuses["pdf/referral.pdf"][1])

    # A structural field gives one finding per entity and span, not one from the structure
    # and another from the text engine.
    for name in ("hl7/adt_batch.hl7", "fhir/Patient.ndjson", "cda/ccd.xml", "dicom/ct_chest.dcm"):
        spans = collections.Counter(
            (f.location.field, f.location.line, f.entity, f.location.start)
            for f in by_file[name].findings
        )
        assert [k for k, n in spans.items() if n > 1] == [], name
