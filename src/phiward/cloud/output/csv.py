"""CSV: one row per check result, with the requirements each check supports."""

from __future__ import annotations

import csv as _csv
import io

from phiward.cloud.model import Report

COLUMNS = (
    "account_id",
    "region",
    "check_id",
    "status",
    "severity",
    "service",
    "resource_id",
    "resource_arn",
    "message",
    "requirements",
    "title",
)


def _safe(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in cells that come from AWS names."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def to_csv(report: Report) -> str:
    buf = io.StringIO()
    writer = _csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in report.results:
        meta = report.checks.get(r.check_id)
        writer.writerow(
            [
                _safe(x)
                for x in (
                    report.account_id,
                    r.region,
                    r.check_id,
                    r.status.value,
                    r.severity.value,
                    meta.service if meta else "",
                    r.resource_id,
                    r.resource_arn,
                    r.message,
                    " ".join(meta.sections) if meta else "",
                    meta.title if meta else "",
                )
            ]
        )
    return buf.getvalue()
