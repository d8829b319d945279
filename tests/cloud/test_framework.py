"""The framework file and the registry agree, and every requirement can be reported."""

from __future__ import annotations

import json
from pathlib import Path

from phiward.cloud import Severity, all_checks, load_framework
from phiward.cloud.docs import checks_markdown, readonly_policy, required_actions

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_requirement_has_a_check_or_manual_guidance() -> None:
    fw = load_framework()
    assert len(fw.requirements) >= 50
    for req in fw.requirements:
        assert req.checks or req.manual, f"{req.id} has neither checks nor manual guidance"


def test_every_referenced_check_exists_and_mapping_is_symmetric() -> None:
    checks = all_checks()
    fw = load_framework()
    ids = {r.id for r in fw.requirements}
    for req in fw.requirements:
        for cid in req.checks:
            assert cid in checks, f"{req.id} references unknown check {cid}"
            assert req.id in checks[cid].meta.sections, f"{cid} does not cite {req.id}"
    for cid, check in checks.items():
        for section in check.meta.sections:
            assert section in ids, f"{cid} cites {section}, not in the framework"
            assert cid in fw.by_id()[section].checks, f"{section} does not list {cid}"


def test_every_check_is_used_by_some_requirement() -> None:
    used = {c for r in load_framework().requirements for c in r.checks}
    assert set(all_checks()) == used


def test_physical_safeguards_are_all_manual_with_guidance() -> None:
    physical = [r for r in load_framework().requirements if r.section == "164.310"]
    assert len(physical) >= 10
    for req in physical:
        assert not req.checks and len(req.manual) > 40, req.id


def test_all_four_sections_are_covered() -> None:
    sections = {r.section for r in load_framework().requirements}
    assert sections == {"164.308", "164.310", "164.312", "164.316"}


def test_check_metadata_is_complete() -> None:
    checks = all_checks()
    assert len(checks) >= 55
    for cid, check in checks.items():
        m = check.meta
        assert m.id == cid and m.title and m.service and m.rationale and m.practice, cid
        assert m.remediation.console, cid
        assert isinstance(m.severity, Severity)
        assert m.sections and all(s.startswith("164.3") for s in m.sections), cid
        assert m.apis, f"{cid} declares no API calls"
        assert check.empty, cid


def test_policy_document_covers_every_declared_api() -> None:
    policy = json.loads((DOCS / "cloud-readonly-policy.json").read_text())
    allowed = set(policy["Statement"][0]["Action"])
    assert set(required_actions()) <= allowed
    for action in allowed:  # read-only: no mutating verbs besides the credential report
        verb = action.split(":")[1]
        assert verb.startswith(
            ("Describe", "Get", "List", "BatchGet", "GenerateCredentialReport", "GET")
        )


def test_generated_docs_are_in_sync_with_the_registry() -> None:
    assert (DOCS / "cloud-checks.md").read_text() == checks_markdown(), (
        "docs/cloud-checks.md is stale: run python -m phiward.cloud.docs docs"
    )
    assert (DOCS / "cloud-readonly-policy.json").read_text() == readonly_policy()
