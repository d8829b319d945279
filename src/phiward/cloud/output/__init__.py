"""Report writers for ``phiward check aws``: table, JSON, CSV, HTML, SARIF and ASFF.

Kept apart from ``phiward.reports`` (scan findings) on purpose: cloud results are per requirement
and per resource, not per PHI span. Every writer returns text; the CLI writes it atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from phiward.cloud.model import Report
from phiward.cloud.output.asff import to_asff
from phiward.cloud.output.csv import to_csv
from phiward.cloud.output.html import to_html
from phiward.cloud.output.json import to_json
from phiward.cloud.output.sarif import to_sarif


class CloudFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"
    sarif = "sarif"
    asff = "asff"


WRITERS: dict[CloudFormat, Callable[[Report], str]] = {
    CloudFormat.json: to_json,
    CloudFormat.csv: to_csv,
    CloudFormat.html: to_html,
    CloudFormat.sarif: to_sarif,
    CloudFormat.asff: to_asff,
}


def render(report: Report, fmt: CloudFormat) -> str:
    """The report as text in ``fmt`` (``table`` is printed by the CLI with Rich instead)."""
    if fmt is CloudFormat.table:
        raise ValueError("the table format is rendered by the CLI")
    return WRITERS[fmt](report)


__all__ = [
    "WRITERS",
    "CloudFormat",
    "render",
    "to_asff",
    "to_csv",
    "to_html",
    "to_json",
    "to_sarif",
]
