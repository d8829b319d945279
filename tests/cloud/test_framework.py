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


#: checks whose PASS or FAIL case is not in the seeded account, and the test that covers it
PASS_ELSEWHERE = {
    "iam_password_policy_strong": "test_password_policy_pass_and_weak_fail",
    "iam_root_mfa_enabled": "test_root_mfa_pass_and_root_keys_fail",
    "iam_root_hardware_mfa_enabled": "test_root_mfa_pass_and_root_keys_fail",
    "config_recorder_enabled": "test_config_recorder_pass_and_fail",
    "securityhub_enabled": "test_guardduty_and_securityhub_fail_then_pass",
    "inspector2_enabled": "test_inspector_status_is_pass_fail_or_named_error",
    "s3_account_public_access_block": "test_account_block_and_ebs_default_pass",
    "ec2_ebs_default_encryption": "test_account_block_and_ebs_default_pass",
    "cloudwatch_alarm_signin_without_mfa": "test_mfa_and_cmk_alarms_pass_when_configured",
    "cloudwatch_alarm_cmk_disable_or_deletion": "test_mfa_and_cmk_alarms_pass_when_configured",
    # moto's RotateSecret needs a Lambda runtime; moto has no ListBackupSelections (the ERROR
    # path is tested by test_backup_plan_without_selection_api_is_an_error_naming_the_api)
    "secretsmanager_rotation_enabled": "untestable on moto",
    "backup_plan_exists": "untestable on moto",
}
FAIL_ELSEWHERE = {
    "iam_root_no_access_keys": "test_root_mfa_pass_and_root_keys_fail",
    "iam_root_hardware_mfa_enabled": "test_root_mfa_pass_and_root_keys_fail",
    "iam_access_key_rotated_90_days": "test_old_keys_and_unused_credentials_fail",
    "iam_user_unused_credentials": "test_old_keys_and_unused_credentials_fail",
    "cloudtrail_multi_region_enabled": "test_no_trail_fails_trail_checks_and_alarms",
    "cloudtrail_s3_data_events_enabled": "test_no_trail_fails_trail_checks_and_alarms",
    "cloudwatch_alarm_root_usage": "test_no_trail_fails_trail_checks_and_alarms",
    "cloudwatch_alarm_unauthorized_api_calls": "test_no_trail_fails_trail_checks_and_alarms",
    "guardduty_enabled": "test_guardduty_and_securityhub_fail_then_pass",
    "inspector2_enabled": "test_inspector_status_is_pass_fail_or_named_error",
    "account_only_hipaa_eligible_services": "test_ineligible_service_is_reported",
}


def test_every_check_has_a_pass_and_a_fail_test() -> None:
    from tests.cloud import test_checks_paths
    from tests.cloud.seed import GOOD, PLANTED

    checks = set(all_checks())
    for name, where in {**PASS_ELSEWHERE, **FAIL_ELSEWHERE}.items():
        assert name in checks
        assert where == "untestable on moto" or hasattr(test_checks_paths, where), where
    assert checks == {c for c, _ in GOOD} | set(PASS_ELSEWHERE), "a check has no PASS test"
    assert checks == {c for c, _ in PLANTED} | set(FAIL_ELSEWHERE), "a check has no FAIL test"
