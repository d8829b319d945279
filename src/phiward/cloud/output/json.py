"""JSON: the whole report, stable keys."""

from __future__ import annotations

import json as _json

from phiward.cloud.model import Report


def to_json(report: Report) -> str:
    return _json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n"
