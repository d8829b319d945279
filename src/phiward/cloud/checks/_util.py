"""Helpers shared by checks: policy documents, credential report, dates."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from phiward.cloud.context import ScanContext


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def policy_doc(raw: Any) -> dict[str, Any]:
    """A policy document from an API answer (a dict, JSON, or URL-encoded JSON as IAM returns)."""
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    if text.lstrip().startswith("%7B") or text.lstrip().startswith("%7b"):
        text = unquote(text)
    parsed = json.loads(text)
    return parsed if isinstance(parsed, dict) else {}


def statements(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for st in as_list(doc.get("Statement")):
        if isinstance(st, dict):
            yield st


def is_admin_statement(st: dict[str, Any]) -> bool:
    """``Allow`` of ``*`` (or ``*:*``) actions on ``*`` resources: full administrator."""
    if st.get("Effect") != "Allow":
        return False
    actions = {str(a) for a in as_list(st.get("Action"))}
    resources = {str(r) for r in as_list(st.get("Resource"))}
    return bool(actions & {"*", "*:*"}) and "*" in resources


def is_public_principal(st: dict[str, Any]) -> bool:
    """An ``Allow`` to everyone (``*`` or ``{"AWS": "*"}``) without a narrowing condition."""
    if st.get("Effect") != "Allow":
        return False
    principal = st.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, dict) and "*" in {str(p) for p in as_list(principal.get("AWS"))}
    )
    if not everyone:
        return False
    cond = st.get("Condition") or {}
    narrowing = ("aws:SourceAccount", "aws:SourceArn", "aws:PrincipalOrgID", "aws:SourceVpce")
    flat = json.dumps(cond)
    return not any(k in flat for k in narrowing) and "kms:CallerAccount" not in flat


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value or str(value) in {"N/A", "not_supported", "no_information"}:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def days_since(value: Any, now: datetime | None = None) -> float | None:
    when = parse_time(value)
    if when is None:
        return None
    return ((now or datetime.now(UTC)) - when).total_seconds() / 86400


def credential_report(ctx: ScanContext) -> list[dict[str, str]]:
    """IAM's credential report, generated and parsed once per scan."""

    def fetch() -> list[dict[str, str]]:
        iam = ctx.client("iam")
        delay = 0.1
        for _ in range(20):  # the report takes seconds to generate on a fresh account
            if iam.generate_credential_report().get("State") == "COMPLETE":
                break
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        content = iam.get_credential_report()["Content"]
        text = content.decode() if isinstance(content, bytes) else str(content)
        return list(csv.DictReader(io.StringIO(text)))

    return ctx.memo(("iam", "credential_report"), fetch)


def account_summary(ctx: ScanContext) -> dict[str, int]:
    return ctx.memo(
        ("iam", "summary"),
        lambda: dict(ctx.client("iam").get_account_summary()["SummaryMap"]),
    )
