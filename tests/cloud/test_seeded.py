"""The seeded account: every planted problem FAILs, every good resource PASSes, nothing vanishes."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import boto3
import pytest

from phiward.cloud import Report, Status, load_framework
from phiward.cloud.output import CloudFormat, render
from phiward.cloud.output.asff import asff_findings, validate_asff
from phiward.errors import CheckError
from tests.cloud.seed import GOOD, PLANTED, REGION

pytestmark = pytest.mark.moto
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _has(report: Report, ids: dict[str, str], check: str, needle: str, status: Status) -> bool:
    needle = ids.get(needle, needle)
    return any(
        r.check_id == check
        and r.status is status
        and (needle in r.resource_id or needle in r.resource_arn)
        for r in report.results
    )


@pytest.mark.parametrize(("check", "resource"), PLANTED, ids=[f"{c}:{r}" for c, r in PLANTED])
def test_planted_problem_fails(
    seeded: tuple[Report, dict[str, str]], check: str, resource: str
) -> None:
    report, ids = seeded
    assert _has(report, ids, check, resource, Status.FAIL), f"{check} missed {resource}"


@pytest.mark.parametrize(("check", "resource"), GOOD, ids=[f"{c}:{r}" for c, r in GOOD])
def test_good_resource_passes(
    seeded: tuple[Report, dict[str, str]], check: str, resource: str
) -> None:
    report, ids = seeded
    assert _has(report, ids, check, resource, Status.PASS), f"{check} did not pass {resource}"
    assert not _has(report, ids, check, resource, Status.FAIL) or resource in {"", "ec2"}


def test_public_rds_fails_even_when_its_groups_are_closed(
    seeded: tuple[Report, dict[str, str]],
) -> None:
    report, _ = seeded
    bad = [r for r in report.results if r.check_id == "rds_instance_not_publicly_accessible"]
    assert {r.resource_id: r.status for r in bad} == {"bad-db": Status.FAIL, "good-db": Status.PASS}


def test_every_requirement_is_reported_and_no_check_errors(
    seeded: tuple[Report, dict[str, str]],
) -> None:
    report, _ = seeded
    fw = load_framework()
    assert [r.requirement_id for r in report.requirements] == [r.id for r in fw.requirements]
    errors = [r for r in report.results if r.status is Status.ERROR]
    assert not errors, errors
    ran = {r.check_id for r in report.results}
    assert ran == set(report.checks), "a check produced no result at all"
    by_id = {r.requirement_id: r for r in report.requirements}
    assert by_id["164.312(a)(2)(iv)"].status is Status.FAIL
    assert by_id["164.310(a)(1)"].status is Status.MANUAL
    assert by_id["164.310(a)(1)"].manual
    assert report.failed


def test_every_api_called_is_in_the_readonly_policy(seeded: tuple[Report, dict[str, str]]) -> None:
    report, _ = seeded
    allowed = set(
        json.loads((DOCS / "cloud-readonly-policy.json").read_text())["Statement"][0]["Action"]
    )
    assert report.api_calls, "API calls were not recorded"
    missing = sorted(set(report.api_calls) - allowed)
    assert not missing, f"calls not covered by docs/cloud-readonly-policy.json: {missing}"


def test_json_and_csv_outputs(seeded: tuple[Report, dict[str, str]]) -> None:
    report, _ = seeded
    data = json.loads(render(report, CloudFormat.json))
    assert data["account_id"] == "123456789012"
    assert len(data["requirements"]) == len(report.requirements)
    assert data["summary"]["failed"] is True
    rows = list(csv.DictReader(io.StringIO(render(report, CloudFormat.csv))))
    assert len(rows) == len(report.results)
    assert {"check_id", "status", "requirements"} <= set(rows[0])


def test_html_is_escaped_and_lists_requirements_then_findings(
    seeded: tuple[Report, dict[str, str]],
) -> None:
    report, _ = seeded
    page = render(report, CloudFormat.html)
    assert page.index("<h2>Requirements</h2>") < page.index("<h2>Findings</h2>")
    assert "45 CFR 164.310(d)(2)(i)" in page
    evil = dataclasses.replace(
        report.results[0], resource_id="<img src=x onerror=alert(1)>", message="<script>x</script>"
    )
    hostile = dataclasses.replace(report, account_id="<script>alert(1)</script>", results=[evil])
    page = render(hostile, CloudFormat.html)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_sarif_has_rules_and_failures(seeded: tuple[Report, dict[str, str]]) -> None:
    report, _ = seeded
    sarif = json.loads(render(report, CloudFormat.sarif))
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    fails = [r for r in report.results if r.status is Status.FAIL]
    assert len(run["results"]) == len(fails)
    for res in run["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["locations"][0]["logicalLocations"][0]["name"]


def test_asff_is_valid_and_security_hub_accepts_it(seeded: tuple[Report, dict[str, str]]) -> None:
    report, _ = seeded
    findings = json.loads(render(report, CloudFormat.asff))
    assert findings == asff_findings(report)
    statuses = {f["Compliance"]["Status"] for f in findings}
    assert statuses == {"PASSED", "FAILED"}
    for item in findings:
        validate_asff(item)
    broken = dict(findings[0])
    del broken["ProductArn"]
    with pytest.raises(CheckError, match="ProductArn"):
        validate_asff(broken)
    hub = boto3.client("securityhub", region_name=REGION)
    hub.enable_security_hub()
    try:
        answer = hub.batch_import_findings(Findings=findings[:100])
    finally:
        hub.disable_security_hub()
    assert answer["FailedCount"] == 0
    assert answer["SuccessCount"] == min(100, len(findings))
