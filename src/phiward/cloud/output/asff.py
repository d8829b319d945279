"""ASFF (AWS Security Finding Format): import into Security Hub with BatchImportFindings.

One finding per PASS/FAIL result (Security Hub archives PASSED findings with ``Compliance``), so a
fixed resource flips to PASSED on the next import. ``validate_asff`` checks the fields Security Hub
requires before anything is sent.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from phiward.cloud.model import CheckResult, Report, Severity, Status
from phiward.errors import CheckError

SCHEMA_VERSION = "2018-10-08"
REQUIRED = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "Types",
    "CreatedAt",
    "UpdatedAt",
    "Severity",
    "Title",
    "Description",
    "Resources",
)
_LABEL = {
    Severity.CRITICAL: "CRITICAL",
    Severity.HIGH: "HIGH",
    Severity.MEDIUM: "MEDIUM",
    Severity.LOW: "LOW",
    Severity.INFORMATIONAL: "INFORMATIONAL",
}
_COMPLIANCE = {Status.PASS: "PASSED", Status.FAIL: "FAILED"}


def _stamp(iso: str) -> str:
    return iso.replace("+00:00", "Z") if iso.endswith("+00:00") else iso


def finding(report: Report, r: CheckResult, region: str) -> dict[str, Any]:
    meta = report.checks[r.check_id]
    key = f"{report.account_id}/{r.region}/{r.check_id}/{r.resource_arn or r.resource_id}"
    fid = "phiward/" + hashlib.sha256(key.encode()).hexdigest()[:32]
    acct = report.account_id
    product = f"arn:{report.partition}:securityhub:{region}:{acct}:product/{acct}/default"
    resource_id = r.resource_arn or r.resource_id
    title = f"{meta.title} ({r.resource_id})"[:256]
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": fid,
        "ProductArn": product,
        "ProductName": "phiward",
        "GeneratorId": f"phiward-{r.check_id}",
        "AwsAccountId": report.account_id,
        "Types": [
            "Software and Configuration Checks/Industry and Regulatory Standards/HIPAA Controls"
        ],
        "CreatedAt": _stamp(report.finished_at),
        "UpdatedAt": _stamp(report.finished_at),
        "Severity": {"Label": _LABEL[r.severity] if r.status is Status.FAIL else "INFORMATIONAL"},
        "Title": title,
        "Description": f"{r.message}. {meta.rationale}"[:1024],
        "Remediation": {"Recommendation": {"Text": meta.remediation.console[:512]}},
        "Resources": [
            {
                "Type": meta.resource_type,
                "Id": resource_id,
                "Partition": report.partition,
                "Region": region,
            }
        ],
        "Compliance": {
            "Status": _COMPLIANCE[r.status],
            "RelatedRequirements": [f"HIPAA 45 CFR {s}" for s in meta.sections][:32],
        },
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW" if r.status is Status.FAIL else "RESOLVED"},
    }


def validate_asff(item: dict[str, Any]) -> None:
    """Raise :class:`CheckError` naming the first missing or malformed required field."""
    for name in REQUIRED:
        if item.get(name) in (None, "", []):
            raise CheckError(f"ASFF finding {item.get('Id', '?')} lacks required field {name}")
    if item["SchemaVersion"] != SCHEMA_VERSION:
        raise CheckError(f"ASFF SchemaVersion must be {SCHEMA_VERSION}")
    if not str(item["ProductArn"]).startswith("arn:"):
        raise CheckError("ASFF ProductArn must be an ARN")
    if len(str(item["AwsAccountId"])) != 12 or not str(item["AwsAccountId"]).isdigit():
        raise CheckError("ASFF AwsAccountId must be 12 digits")
    if item["Severity"].get("Label") not in set(_LABEL.values()):
        raise CheckError("ASFF Severity.Label is not a known label")
    if len(item["Title"]) > 256 or len(item["Description"]) > 1024:
        raise CheckError("ASFF Title/Description too long")
    for res in item["Resources"]:
        if not res.get("Type") or not res.get("Id"):
            raise CheckError("ASFF Resources entries need Type and Id")


def asff_findings(report: Report) -> list[dict[str, Any]]:
    out = []
    for r in report.results:
        if r.status not in _COMPLIANCE or r.check_id not in report.checks:
            continue
        region = r.region if r.region != "global" else report.home_region
        item = finding(report, r, region)
        validate_asff(item)
        out.append(item)
    return out


def to_asff(report: Report) -> str:
    return json.dumps(asff_findings(report), indent=2) + "\n"
