"""Renderers for scan results. Each takes a ``ScanResult`` and returns text."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rich.console import Group
from rich.table import Table
from rich.text import Text

from phiward import __version__
from phiward.core.entities import EntityType

if TYPE_CHECKING:
    from phiward.discover import FileResult, ScanResult

FORMATS = ("table", "json", "sarif", "html", "csv")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://www.hhs.gov/hipaa/for-professionals/privacy/special-topics/de-identification/"

_DESCRIPTIONS: dict[EntityType, str] = {
    EntityType.NAME: "Person name",
    EntityType.STREET_ADDRESS: "Street address",
    EntityType.CITY: "City",
    EntityType.COUNTY: "County",
    EntityType.ZIP_CODE: "ZIP code",
    EntityType.DATE: "Date related to an individual",
    EntityType.AGE_OVER_89: "Age over 89",
    EntityType.PHONE: "Telephone number",
    EntityType.FAX: "Fax number",
    EntityType.EMAIL: "E-mail address",
    EntityType.SSN: "Social Security number",
    EntityType.MRN: "Medical record number",
    EntityType.HEALTH_PLAN_ID: "Health plan beneficiary number",
    EntityType.ACCOUNT_NUMBER: "Account number",
    EntityType.CREDIT_CARD: "Payment card number",
    EntityType.LICENSE_NUMBER: "Certificate or license number",
    EntityType.DEA_NUMBER: "DEA registration number",
    EntityType.VEHICLE_ID: "Vehicle identifier (VIN, plate)",
    EntityType.DEVICE_ID: "Device identifier or serial number",
    EntityType.URL: "Web URL",
    EntityType.IP_ADDRESS: "IP address",
    EntityType.BIOMETRIC: "Biometric identifier",
    EntityType.PHOTO: "Full-face photograph",
    EntityType.NPI: "National Provider Identifier",
    EntityType.OTHER_ID: "Other unique identifying number",
}


def _now(ts: float) -> str:
    return (
        dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def summary_dict(result: ScanResult) -> dict[str, Any]:
    by_entity = result.by_entity()
    return {
        "files": len(result.files),
        "files_scanned": result.count("scanned"),
        "files_with_phi": len(result.files_with_phi()),
        "files_protected": result.count("protected"),
        "files_skipped": result.count("skipped"),
        "files_error": result.count("error"),
        "findings": sum(by_entity.values()),
        "bytes_scanned": result.bytes_scanned,
        "duration_s": round(result.duration, 3),
        "by_entity": {
            e.value: {"count": n, "safe_harbor": e.letter}
            for e, n in sorted(by_entity.items(), key=lambda kv: (-kv[1], kv[0].value))
        },
    }


def _file_dict(fr: FileResult) -> dict[str, Any]:
    return {
        "path": fr.path,
        "status": fr.status,
        "reason": fr.reason,
        "reader": fr.reader,
        "size": fr.size,
        "problems": fr.problems,
        "findings": [f.to_dict() for f in fr.findings],
    }


def render_json(result: ScanResult) -> str:
    doc = {
        "tool": "phiward",
        "version": __version__,
        "scanned_at": _now(result.started),
        "roots": result.roots,
        "min_confidence": result.options.min_confidence,
        "summary": summary_dict(result),
        "files": [_file_dict(fr) for fr in result.files],
    }
    return json.dumps(doc, indent=2) + "\n"


def _uri(path: str) -> str:
    p = Path(path)
    try:
        rel = p.resolve().relative_to(Path.cwd().resolve())
        return quote(rel.as_posix())
    except ValueError:
        return quote(p.resolve().as_posix()) if p.is_absolute() else quote(p.as_posix())


def _level(conf: float) -> str:
    return "error" if conf >= 0.85 else "warning" if conf >= 0.6 else "note"


def render_sarif(result: ScanResult) -> str:
    """SARIF 2.1.0 for GitHub code scanning and other SAST dashboards."""
    entities = sorted({f.entity for f in result.findings}, key=lambda e: e.value)
    index = {e: i for i, e in enumerate(entities)}
    rules = [
        {
            "id": f"PHI-{e.value}",
            "name": "".join(w.capitalize() for w in e.value.split("_")),
            "shortDescription": {"text": f"{_DESCRIPTIONS[e]} (PHI)"},
            "fullDescription": {
                "text": f"{_DESCRIPTIONS[e]} found in plain text: a HIPAA Safe Harbor identifier, "
                f"{e.safe_harbor.citation} ({e.safe_harbor.value})."
            },
            "helpUri": INFO_URI,
            "help": {
                "text": "Remove the identifier, replace it with synthetic data, or encrypt the "
                "file (phiward encrypt). Never commit PHI to source control."
            },
            "defaultConfiguration": {"level": "error"},
            "properties": {
                "tags": ["security", "privacy", "hipaa", "phi"],
                "security-severity": "7.5",
                "safe_harbor": e.letter,
            },
        }
        for e in entities
    ]
    results = []
    for fr in result.files:
        for f in fr.findings:
            region: dict[str, Any] = {}
            if f.location.line is not None:
                region["startLine"] = f.location.line
                if f.location.column is not None:
                    region["startColumn"] = f.location.column
                    region["endColumn"] = f.location.column + (f.location.end - f.location.start)
            physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(fr.path)}}
            if region:
                physical["region"] = region
            loc: dict[str, Any] = {"physicalLocation": physical}
            if f.location.field:
                loc["logicalLocations"] = [{"name": f.location.field, "kind": "member"}]
            results.append(
                {
                    "ruleId": f"PHI-{f.entity.value}",
                    "ruleIndex": index[f.entity],
                    "level": _level(f.confidence),
                    "message": {
                        "text": f"{_DESCRIPTIONS[f.entity]} {f.masked} "
                        f"(confidence {f.confidence:.2f}; {f.evidence.describe()})"
                    },
                    "locations": [loc],
                    "partialFingerprints": {"phiwardValue/v1": f.fingerprint},
                    "properties": {"confidence": f.confidence, "safe_harbor": f.letter},
                }
            )
    notifications = [
        {
            "level": "warning" if fr.status == "error" else "note",
            "message": {"text": f"{fr.status}: {fr.reason or ''}".strip()},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(fr.path)}}}],
        }
        for fr in result.files
        if fr.status in ("skipped", "error")
    ]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "phiward",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "startTimeUtc": _now(result.started),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


_CSV_FIELDS = (
    "path",
    "line",
    "column",
    "field",
    "entity",
    "safe_harbor",
    "confidence",
    "masked",
    "fingerprint",
    "recognizer",
    "validator",
    "context",
    "encrypted_at_rest",
)


def _csv_safe(value: Any) -> str:
    """Neutralise spreadsheet formulas (CSV injection): prefix =, +, -, @ with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(result: ScanResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_FIELDS)
    for fr in result.files:
        for f in fr.findings:
            w.writerow(
                _csv_safe(v)
                for v in (
                    fr.path,
                    f.location.line,
                    f.location.column,
                    f.location.field,
                    f.entity.value,
                    f.letter,
                    f.confidence,
                    f.masked,
                    f.fingerprint,
                    f.evidence.recognizer,
                    f.evidence.validator,
                    ",".join(f.evidence.context),
                    f.encrypted_at_rest,
                )
            )
    return buf.getvalue()


def render_summary(result: ScanResult) -> str:
    s = summary_dict(result)
    lines = [
        f"phiward scan: {s['files']} files, {s['bytes_scanned']:,} bytes in {s['duration_s']:.2f}s",
        f"  files with PHI in plain text: {s['files_with_phi']}",
        f"  files protected (encrypted):  {s['files_protected']}",
        f"  files skipped:                {s['files_skipped']}",
        f"  files with errors:            {s['files_error']}",
        f"  findings:                     {s['findings']}",
    ]
    if s["by_entity"]:
        lines.append("  by identifier type (Safe Harbor letter):")
        for name, info in s["by_entity"].items():
            lines.append(f"    ({info['safe_harbor']}) {name:<16} {info['count']}")
    return "\n".join(lines) + "\n"


def render_table(result: ScanResult, *, max_rows: int = 500) -> Any:
    """A Rich renderable: one row per finding (capped), then the summary."""
    table = Table(title="PHI findings", show_lines=False, header_style="bold")
    for col in ("Location", "Type", "SH", "Masked", "Conf.", "Evidence"):
        table.add_column(col, overflow="fold")
    shown = 0
    for fr in result.files:
        for f in fr.findings:
            if shown >= max_rows:
                break
            table.add_row(
                Text(f.location.describe()),
                Text(f.entity.value),
                Text(f.letter),
                Text(f.masked),
                Text(f"{f.confidence:.2f}"),
                Text(f.evidence.describe()),
            )
            shown += 1
    parts: list[Any] = []
    if shown:
        parts.append(table)
    total = len(result.findings)
    if total > shown:
        parts.append(Text(f"... {total - shown} more findings (use --format json/csv for all)"))
    for fr in result.files:
        if fr.status in ("skipped", "error", "protected"):
            parts.append(Text(f"{fr.status}: {fr.path} ({fr.reason})"))
    parts.append(Text(render_summary(result)))
    return Group(*parts)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #d0d5dd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f4f7}tr:nth-child(even) td{background:#fafbfc}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d0d5dd;border-radius:8px;
padding:.8rem 1.2rem;min-width:9rem}.card b{display:block;font-size:1.6rem}
.bad{color:#b42318}.ok{color:#067647}.muted{color:#667085}code{font-size:.85rem}
details{margin:.4rem 0}summary{cursor:pointer}
"""


def render_html(result: ScanResult) -> str:
    """One self-contained HTML page (inline CSS, no scripts, every value escaped)."""
    e = html.escape
    s = summary_dict(result)
    cards = [
        ("Files", s["files"], ""),
        ("With PHI in plain text", s["files_with_phi"], "bad" if s["files_with_phi"] else "ok"),
        ("Protected (encrypted)", s["files_protected"], "ok"),
        ("Skipped", s["files_skipped"], "muted"),
        ("Errors", s["files_error"], "bad" if s["files_error"] else "muted"),
        ("Findings", s["findings"], "bad" if s["findings"] else "ok"),
    ]
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">",
        f"<title>phiward scan report</title><style>{_CSS}</style></head><body>",
        "<h1>phiward PHI scan report</h1>",
        f"<p class='muted'>Scanned {e(', '.join(result.roots))} at {e(_now(result.started))} "
        f"with phiward {e(__version__)}; minimum confidence "
        f"{result.options.min_confidence:.2f}. Values are masked; fingerprints are keyed "
        "HMAC-SHA256 and reveal nothing without this installation's key.</p>",
        "<div class='cards'>",
    ]
    for label, value, cls in cards:
        out.append(f"<div class='card {cls}'><b>{e(str(value))}</b>{e(label)}</div>")
    out.append("</div><h2>Identifiers by type</h2>")
    if s["by_entity"]:
        out.append("<table><tr><th>Type</th><th>Safe Harbor</th><th>Count</th></tr>")
        for name, info in s["by_entity"].items():
            ent = EntityType(name)
            out.append(
                f"<tr><td>{e(_DESCRIPTIONS[ent])} <code>{e(name)}</code></td>"
                f"<td>({e(info['safe_harbor'])}) {e(ent.safe_harbor.value)}</td>"
                f"<td>{info['count']}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p class='ok'>No PHI found at or above the confidence threshold.</p>")
    out.append(
        "<h2>Files</h2><table><tr><th>File</th><th>Status</th><th>Findings</th><th>Notes</th></tr>"
    )
    for fr in result.files:
        cls = "bad" if fr.findings else ("ok" if fr.status == "protected" else "muted")
        notes = "; ".join(x for x in [fr.reason or "", *fr.problems] if x)
        out.append(
            f"<tr><td><code>{e(fr.path)}</code></td><td class='{cls}'>{e(fr.status)}</td>"
            f"<td>{len(fr.findings)}</td><td>{e(notes)}</td></tr>"
        )
    out.append("</table><h2>Findings</h2>")
    for fr in result.files_with_phi():
        out.append(
            f"<details><summary><code>{e(fr.path)}</code> — {len(fr.findings)} findings"
            "</summary><table><tr><th>Where</th><th>Type</th><th>Masked</th><th>Confidence</th>"
            "<th>Evidence</th><th>Fingerprint</th></tr>"
        )
        for f in fr.findings:
            where = f"line {f.location.line}" if f.location.line else f"@{f.location.start}"
            if f.location.column:
                where += f", col {f.location.column}"
            if f.location.field:
                where += f" [{f.location.field}]"
            out.append(
                f"<tr><td>{e(where)}</td><td>{e(f.entity.value)} ({e(f.letter)})</td>"
                f"<td><code>{e(f.masked)}</code></td><td>{f.confidence:.2f}</td>"
                f"<td>{e(f.evidence.describe())}</td><td><code>{e(f.fingerprint[:22])}…"
                "</code></td></tr>"
            )
        out.append("</table></details>")
    out.append("</body></html>\n")
    return "\n".join(out)


def render(result: ScanResult, fmt: str) -> str:
    """Text of a report in ``fmt`` (one of :data:`FORMATS` except ``table``)."""
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return render_sarif(result)
    if fmt == "html":
        return render_html(result)
    if fmt == "csv":
        return render_csv(result)
    if fmt == "summary":
        return render_summary(result)
    raise ValueError(f"unknown report format {fmt!r}")
