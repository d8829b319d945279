"""Scan reports: table, JSON, SARIF 2.1.0, self-contained HTML, CSV, and a short summary.

Every format is built from :class:`~phiward.core.finding.Finding` values, which hold only masked
previews and keyed fingerprints, so no report can carry a raw identifier.
"""

from phiward.reports._render import (
    FORMATS,
    render,
    render_csv,
    render_html,
    render_json,
    render_sarif,
    render_summary,
    render_table,
    summary_dict,
)

__all__ = [
    "FORMATS",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_sarif",
    "render_summary",
    "render_table",
    "summary_dict",
]
