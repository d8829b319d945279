from __future__ import annotations

from phiward.core.entities import EntityType as E
from phiward.core.fingerprint import Fingerprinter
from phiward.detect import Analyzer, StructuredAnalyzer, header_entity

A = Analyzer(fingerprinter=Fingerprinter(b"s" * 32), min_confidence=0.5)


def test_header_names() -> None:
    assert header_entity("patient_name") is E.NAME
    assert header_entity("DOB") is E.DATE
    assert header_entity("SSN") is E.SSN
    assert header_entity("Member ID") is E.HEALTH_PLAN_ID
    assert header_entity("patients[].contact.email") is E.EMAIL
    assert header_entity("diagnosis") is None


def test_column_classified_when_share_reached() -> None:
    rows = [
        {"code": f"Q{i:04d}X", "ssn": f"{100 + i:03d}-{10 + i:02d}-{1000 + i:04d}"}
        for i in range(20)
    ]
    classes = StructuredAnalyzer(A).classify_rows(rows)
    assert classes["ssn"].entity is E.SSN
    assert "code" not in classes


def test_header_alone_is_not_proof() -> None:
    rows = [{"ssn": "N/A"}, {"ssn": "pending"}, {"ssn": "unknown"}, {"ssn": "refused"}]
    assert StructuredAnalyzer(A).classify_rows(rows) == {}


def test_column_below_min_share_not_classified() -> None:
    rows = [{"patient": "Okafor Ngozi"}] + [{"patient": "see chart 12"} for _ in range(9)]
    assert "patient" not in StructuredAnalyzer(A, min_share=0.6).classify_rows(rows)


def test_cells_in_classified_column_reported_with_structure() -> None:
    rows = [{"last_name": n} for n in ("Okafor", "Nguyen", "Zielinski", "Quintero")]
    findings = StructuredAnalyzer(A).analyze_rows(rows)
    assert [f.entity for f in findings] == [E.NAME] * 4
    assert all(f.location.field == "last_name" for f in findings)
    assert all(f.evidence.structure == "column:last_name" for f in findings)
    assert [f.location.line for f in findings] == [1, 2, 3, 4]


def test_document_key_paths() -> None:
    doc = {"patient": {"birthDate": "1961-03-04", "telecom": [{"value": "jane@example.com"}]}}
    findings = StructuredAnalyzer(A).analyze_document(doc)
    got = {(f.entity, f.location.field) for f in findings}
    assert (E.DATE, "patient.birthDate") in got
    assert (E.EMAIL, "patient.telecom[0].value") in got
    bd = next(f for f in findings if f.entity is E.DATE)
    assert bd.confidence >= 0.85  # the key name is evidence
