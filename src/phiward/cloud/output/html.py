"""HTML: one self-contained page, per requirement first, then per finding. Everything escaped."""

from __future__ import annotations

from html import escape

from phiward.cloud.model import Report, Status

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f3f3f3}
.PASS{color:#176f2c;font-weight:600}.FAIL{color:#b00020;font-weight:600}
.ERROR{color:#a35200;font-weight:600}.MANUAL{color:#3949ab}.NOT_APPLICABLE{color:#666}
"""


def _status(status: Status) -> str:
    return f'<span class="{status.value}">{status.value}</span>'


def to_html(report: Report) -> str:
    e = escape
    summary = report.summary()
    rows = []
    for req in report.requirements:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(req.counts.items()))
        rows.append(
            "<tr>"
            f"<td>45 CFR {e(req.requirement_id)}</td><td>{e(req.title)}</td>"
            f"<td>{_status(req.status)}</td><td>{e(', '.join(req.checks)) or '-'}</td>"
            f"<td>{e(counts)}</td><td>{e(req.manual)}</td></tr>"
        )
    findings = []
    order = {Status.FAIL: 0, Status.ERROR: 1, Status.MANUAL: 2, Status.PASS: 3}
    for r in sorted(report.results, key=lambda r: (order.get(r.status, 4), r.check_id)):
        meta = report.checks.get(r.check_id)
        fix = e(meta.remediation.console) if meta and r.status is Status.FAIL else ""
        findings.append(
            "<tr>"
            f"<td>{_status(r.status)}</td><td>{e(r.severity.value)}</td><td>{e(r.check_id)}</td>"
            f"<td>{e(r.region)}</td><td>{e(r.resource_id)}</td><td>{e(r.message)}</td>"
            f"<td>{e(' '.join(meta.sections) if meta else '')}</td><td>{fix}</td></tr>"
        )
    totals = " · ".join(f"{e(k)}: {v}" for k, v in summary.items())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>phiward HIPAA check: account {e(report.account_id)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>HIPAA configuration check: AWS account {e(report.account_id)}</h1>"
        f"<p>Framework {e(report.framework)} {e(report.framework_version)}; regions "
        f"{e(', '.join(report.regions))}; {e(report.started_at)} to {e(report.finished_at)}.</p>"
        f"<p>Requirements: {totals}</p>"
        "<h2>Requirements</h2><table><thead><tr><th>Citation</th><th>Requirement</th>"
        "<th>Status</th><th>Checks</th><th>Results</th><th>Manual verification</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        "<h2>Findings</h2><table><thead><tr><th>Status</th><th>Severity</th><th>Check</th>"
        "<th>Region</th><th>Resource</th><th>Detail</th><th>45 CFR</th><th>Remediation</th>"
        f"</tr></thead><tbody>{''.join(findings)}</tbody></table></body></html>\n"
    )
