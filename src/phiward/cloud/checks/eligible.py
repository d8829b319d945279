"""Only HIPAA-eligible services may hold PHI under the AWS Business Associate Addendum."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from phiward.cloud.context import ScanContext
from phiward.cloud.model import Severity
from phiward.cloud.registry import Verdict, bad, check, ok


@cache
def eligible_list() -> dict[str, Any]:
    """The dated list of HIPAA-eligible services (``data/hipaa_eligible_services.json``)."""
    text = resources.files("phiward.cloud").joinpath("data/hipaa_eligible_services.json")
    data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return data


def eligible_services(ctx: ScanContext) -> frozenset[str]:
    if ctx.eligible_services is not None:
        return ctx.eligible_services
    return frozenset(eligible_list()["services"])


@check(
    id="account_only_hipaa_eligible_services",
    title="Only HIPAA-eligible services have resources",
    service="resourcegroupstaggingapi",
    severity=Severity.HIGH,
    sections=("164.308(b)(1)",),
    practice="AWS Business Associate Addendum",
    rationale="The AWS BAA covers PHI only in HIPAA-eligible services; PHI in any other service "
    "is outside the contract, whatever its configuration.",
    console="Move the workload to an eligible service, or make sure (and document) that the "
    "resource never stores, processes or transmits PHI (e.g. a separate non-PHI account).",
    url="https://aws.amazon.com/compliance/hipaa-eligible-services-reference/",
    resource_type="Other",
    empty="no tagged resources found by the Resource Groups Tagging API",
    apis=("tag:GetResources",),
)
def eligible(ctx: ScanContext, region: str) -> Iterable[Verdict]:
    allowed = eligible_services(ctx)
    out = []
    seen: dict[str, list[str]] = {}
    resources_ = ctx.paginate(
        "resourcegroupstaggingapi", region, "get_resources", "ResourceTagMappingList"
    )
    for res in resources_:
        arn = str(res.get("ResourceARN", ""))
        parts = arn.split(":")
        if len(parts) > 2:
            seen.setdefault(parts[2], []).append(arn)
    for service, arns in sorted(seen.items()):
        if service in allowed:
            out.append(ok(service, f"{len(arns)} resource(s) in an eligible service"))
        else:
            for arn in arns:
                out.append(bad(arn.split(":", 5)[-1], f"{service} is not HIPAA-eligible", arn))
    return out
