"""The check registry: ``@check(...)`` turns a small function into a registered, described check.

A check receives the :class:`~phiward.cloud.context.ScanContext` (and a region when it is
regional) and returns :class:`Verdict` items. Verdicts carry only status, resource and message; the
runner stamps the check id, region and severity, turns an empty list into an explicit
NOT_APPLICABLE and an AWS refusal into an ERROR naming the API.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from phiward.cloud.model import CheckMeta, Remediation, Severity, Status

if TYPE_CHECKING:
    from phiward.cloud.context import ScanContext


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    resource_id: str
    message: str
    resource_arn: str = ""


def ok(resource_id: str, message: str, arn: str = "") -> Verdict:
    return Verdict(Status.PASS, resource_id, message, arn)


def bad(resource_id: str, message: str, arn: str = "") -> Verdict:
    return Verdict(Status.FAIL, resource_id, message, arn)


def manual(resource_id: str, message: str, arn: str = "") -> Verdict:
    return Verdict(Status.MANUAL, resource_id, message, arn)


def not_applicable(message: str) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, "-", message)


CheckFn = Callable[["ScanContext", str], Iterable[Verdict]]


@dataclass(frozen=True, slots=True)
class Check:
    meta: CheckMeta
    fn: CheckFn
    #: said when the check found nothing to evaluate, e.g. "no EBS volumes"
    empty: str


_REGISTRY: dict[str, Check] = {}

CHECK_MODULES = (
    "phiward.cloud.checks.iam",
    "phiward.cloud.checks.logging",
    "phiward.cloud.checks.kms",
    "phiward.cloud.checks.s3",
    "phiward.cloud.checks.storage",
    "phiward.cloud.checks.network",
    "phiward.cloud.checks.transit",
    "phiward.cloud.checks.eligible",
)


def check(
    *,
    id: str,
    title: str,
    service: str,
    severity: Severity,
    sections: tuple[str, ...],
    practice: str,
    rationale: str,
    console: str,
    cli: str = "",
    terraform: str = "",
    url: str = "",
    resource_type: str,
    empty: str,
    regional: bool = True,
    apis: tuple[str, ...] = (),
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check ``id``."""

    def register(fn: CheckFn) -> CheckFn:
        if id in _REGISTRY:
            raise ValueError(f"duplicate check id {id!r}")
        meta = CheckMeta(
            id=id,
            title=title,
            service=service,
            severity=severity,
            sections=sections,
            practice=practice,
            rationale=rationale,
            remediation=Remediation(console=console, cli=cli, terraform=terraform, url=url),
            resource_type=resource_type,
            regional=regional,
            apis=apis,
        )
        _REGISTRY[id] = Check(meta=meta, fn=fn, empty=empty)
        return fn

    return register


def _load() -> None:
    for name in CHECK_MODULES:
        importlib.import_module(name)


def all_checks() -> dict[str, Check]:
    """Every registered check, by id (sorted)."""
    _load()
    return dict(sorted(_REGISTRY.items()))


def get_check(check_id: str) -> Check:
    _load()
    try:
        return _REGISTRY[check_id]
    except KeyError:
        raise KeyError(f"unknown check {check_id!r}") from None
