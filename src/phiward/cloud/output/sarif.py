"""SARIF 2.1.0: a rule per check, a result per FAIL or ERROR (resources as logical locations)."""

from __future__ import annotations

import json
from typing import Any

from phiward import __version__
from phiward.cloud.model import Report, Severity, Status

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFORMATIONAL: "note",
}
_SCORE = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFORMATIONAL: "0.0",
}


def to_sarif(report: Report) -> str:
    ids = sorted(report.checks)
    index = {cid: i for i, cid in enumerate(ids)}
    rules = []
    for cid in ids:
        meta = report.checks[cid]
        rules.append(
            {
                "id": cid,
                "name": cid,
                "shortDescription": {"text": meta.title},
                "fullDescription": {"text": meta.rationale},
                "help": {
                    "text": f"{meta.remediation.console}\n{meta.remediation.cli}".strip(),
                },
                "defaultConfiguration": {"level": _LEVEL[meta.severity]},
                "properties": {
                    "security-severity": _SCORE[meta.severity],
                    "tags": ["security", "hipaa", meta.service, *meta.sections],
                },
            }
        )
    results: list[dict[str, Any]] = []
    for r in report.results:
        if r.status not in {Status.FAIL, Status.ERROR} or r.check_id not in index:
            continue
        results.append(
            {
                "ruleId": r.check_id,
                "ruleIndex": index[r.check_id],
                "level": _LEVEL[r.severity] if r.status is Status.FAIL else "warning",
                "kind": "fail" if r.status is Status.FAIL else "review",
                "message": {"text": f"{r.resource_id}: {r.message}"},
                "locations": [
                    {
                        "logicalLocations": [
                            {
                                "name": r.resource_id,
                                "fullyQualifiedName": r.resource_arn
                                or f"{report.account_id}/{r.region}/{r.resource_id}",
                                "kind": "resource",
                            }
                        ]
                    }
                ],
                "properties": {"region": r.region, "status": r.status.value},
            }
        )
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "phiward",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {"account_id": report.account_id, "regions": list(report.regions)},
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
