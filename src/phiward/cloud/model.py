"""The vocabulary of cloud checks: statuses, severities, check metadata and results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """The outcome of a check on one resource, or of a whole requirement.

    ``NOT_APPLICABLE`` is explicit (no resource of that kind exists) and ``ERROR`` names the API
    that refused, so a requirement never vanishes from a report because nothing could be checked.
    """

    PASS = "PASS"  # noqa: S105 - a status, not a password
    FAIL = "FAIL"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    ERROR = "ERROR"
    MANUAL = "MANUAL"


# Roll-up order: the worst status of the parts is the status of the whole.
STATUS_RANK: dict[Status, int] = {
    Status.FAIL: 5,
    Status.ERROR: 4,
    Status.PASS: 3,
    Status.MANUAL: 2,
    Status.NOT_APPLICABLE: 1,
}


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"


@dataclass(frozen=True, slots=True)
class Remediation:
    """How to fix a failure: console steps, an AWS CLI command and a Terraform snippet."""

    console: str
    cli: str = ""
    terraform: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class CheckMeta:
    """What a check verifies and why; the registry's unit (Prowler's ``metadata.json``)."""

    id: str
    title: str
    service: str
    severity: Severity
    sections: tuple[str, ...]
    practice: str
    rationale: str
    remediation: Remediation
    resource_type: str
    regional: bool = True
    apis: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "service": self.service,
            "severity": self.severity.value,
            "sections": list(self.sections),
            "practice": self.practice,
            "rationale": self.rationale,
            "resource_type": self.resource_type,
            "regional": self.regional,
            "remediation": {
                "console": self.remediation.console,
                "cli": self.remediation.cli,
                "terraform": self.remediation.terraform,
                "url": self.remediation.url,
            },
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict on one resource (or on the account/region when there is no resource)."""

    check_id: str
    status: Status
    region: str
    resource_id: str
    message: str
    resource_arn: str = ""
    severity: Severity = Severity.MEDIUM

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "status": self.status.value,
            "severity": self.severity.value,
            "region": self.region,
            "resource_id": self.resource_id,
            "resource_arn": self.resource_arn,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class RequirementResult:
    """A HIPAA requirement's status, rolled up from its checks (or MANUAL with guidance)."""

    requirement_id: str
    section: str
    title: str
    status: Status
    checks: tuple[str, ...]
    counts: dict[str, int]
    manual: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.requirement_id,
            "section": self.section,
            "title": self.title,
            "status": self.status.value,
            "checks": list(self.checks),
            "counts": dict(self.counts),
            "manual": self.manual,
        }


@dataclass(slots=True)
class Report:
    """Everything one run produced."""

    account_id: str
    partition: str
    regions: tuple[str, ...]
    started_at: str
    finished_at: str
    framework: str
    framework_version: str
    requirements: list[RequirementResult]
    results: list[CheckResult]
    checks: dict[str, CheckMeta] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)
    #: where global (IAM, S3, CloudFront) results are filed, e.g. in ASFF
    home_region: str = "us-east-1"

    @property
    def failed(self) -> bool:
        return any(r.status is Status.FAIL for r in self.results)

    def summary(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for req in self.requirements:
            out[req.status.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": "phiward",
            "framework": self.framework,
            "framework_version": self.framework_version,
            "account_id": self.account_id,
            "partition": self.partition,
            "regions": list(self.regions),
            "home_region": self.home_region,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "summary": {"requirements": self.summary(), "failed": self.failed},
            "requirements": [r.to_dict() for r in self.requirements],
            "results": [r.to_dict() for r in self.results],
            "checks": {k: v.to_dict() for k, v in sorted(self.checks.items())},
        }
