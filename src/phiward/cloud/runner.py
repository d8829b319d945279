"""Run the registered checks against an account and roll results up to HIPAA requirements."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from phiward.cloud.context import ScanContext
from phiward.cloud.framework import Framework, load_framework
from phiward.cloud.model import (
    STATUS_RANK,
    CheckResult,
    Report,
    RequirementResult,
    Status,
)
from phiward.cloud.registry import Check, all_checks
from phiward.core.events import SecurityEvent, emit
from phiward.errors import CheckError

log = logging.getLogger(__name__)

GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to scan. ``regions`` empty means every region enabled for the account."""

    regions: tuple[str, ...] = ()
    profile: str | None = None
    max_workers: int = 16
    checks: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    eligible_services: frozenset[str] | None = None
    max_attempts: int = 8


def _session(options: ScanOptions) -> boto3.Session:
    try:
        return boto3.Session(profile_name=options.profile)
    except BotoCoreError as exc:  # ProfileNotFound and friends
        raise CheckError(f"cannot use AWS profile {options.profile!r}: {exc}") from exc


def _identity(session: boto3.Session, region: str) -> tuple[str, str]:
    try:
        ident = session.client("sts", region_name=region).get_caller_identity()
    except NoCredentialsError as exc:
        raise CheckError(
            "no AWS credentials found (use --profile, AWS_PROFILE or the standard chain)"
        ) from exc
    except (ClientError, BotoCoreError) as exc:
        raise CheckError(f"sts:GetCallerIdentity failed: {exc}") from exc
    arn = str(ident.get("Arn", "arn:aws:"))
    return str(ident["Account"]), arn.split(":")[1] or "aws"


def _regions(ctx: ScanContext) -> tuple[str, ...]:
    try:
        answer = ctx.client("ec2").describe_regions()  # only regions enabled for the account
    except (ClientError, BotoCoreError) as exc:
        raise CheckError(f"ec2:DescribeRegions failed (pass --region to skip it): {exc}") from exc
    return tuple(sorted(r["RegionName"] for r in answer.get("Regions", [])))


def select_checks(options: ScanOptions) -> dict[str, Check]:
    checks = all_checks()
    if options.checks:
        unknown = sorted(set(options.checks) - set(checks))
        if unknown:
            raise CheckError(f"unknown check id(s): {', '.join(unknown)}")
        checks = {k: v for k, v in checks.items() if k in options.checks}
    if options.services:
        checks = {k: v for k, v in checks.items() if v.meta.service in options.services}
    return checks


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code, msg = err.get("Code", "?"), " ".join(str(err.get("Message", "")).split())
        if msg.startswith("<"):  # an HTML error page (a proxy or emulator), not an AWS message
            msg = "non-AWS error page"
        return f"API {exc.operation_name} refused: {code}: {msg[:200]}".strip().rstrip(":")
    if isinstance(exc, BotoCoreError):
        return f"AWS call failed: {type(exc).__name__}: {exc}"
    return f"check crashed: {type(exc).__name__}: {exc}"


def run_check(ctx: ScanContext, check: Check, region: str) -> list[CheckResult]:
    """Run one check in one region; never raises: failures become ERROR results."""
    meta = check.meta
    label = region if meta.regional else GLOBAL

    def result(status: Status, resource: str, message: str, arn: str = "") -> CheckResult:
        return CheckResult(meta.id, status, label, resource, message, arn, meta.severity)

    try:
        verdicts = list(check.fn(ctx, region))
    except Exception as exc:
        log.info("check %s in %s: %s", meta.id, label, type(exc).__name__)
        return [result(Status.ERROR, "-", _describe_error(exc))]
    if not verdicts:
        return [result(Status.NOT_APPLICABLE, "-", check.empty)]
    return [result(v.status, v.resource_id, v.message, v.resource_arn) for v in verdicts]


def worst(statuses: Iterable[Status]) -> Status | None:
    found = list(statuses)
    return max(found, key=lambda s: STATUS_RANK[s]) if found else None


def roll_up(framework: Framework, results: list[CheckResult]) -> list[RequirementResult]:
    """Every requirement of the framework gets exactly one status; none is dropped."""
    by_check: dict[str, list[CheckResult]] = {}
    for r in results:
        by_check.setdefault(r.check_id, []).append(r)
    out = []
    for req in framework.requirements:
        mine = [r for cid in req.checks for r in by_check.get(cid, [])]
        counts = Counter(r.status.value for r in mine)
        status = worst(r.status for r in mine)
        if status is None:  # no automated check (or all filtered out): a person must look
            status = Status.MANUAL
        out.append(
            RequirementResult(
                requirement_id=req.id,
                section=req.section,
                title=req.title,
                status=status,
                checks=req.checks,
                counts=dict(counts),
                manual=req.manual,
            )
        )
    return out


def run_scan(options: ScanOptions, *, session: boto3.Session | None = None) -> Report:
    """Scan the account the credentials reach. Raises :class:`CheckError` only when nothing can
    be scanned at all (no credentials, no region list); any single check's failure is an ERROR."""
    started = datetime.now(UTC)
    session = session or _session(options)
    home = session.region_name or "us-east-1"
    account, partition = _identity(session, home)
    ctx = ScanContext(
        session,
        home_region=home,
        regions=options.regions,
        account_id=account,
        partition=partition,
        max_attempts=options.max_attempts,
        pool_size=max(10, options.max_workers),
        eligible_services=options.eligible_services,
    )
    regions = options.regions or _regions(ctx)
    ctx.regions = regions
    checks = select_checks(options)
    # Global checks first, then region by region, so a region's clients can be dropped as soon
    # as its last check ends: memory stays flat however many regions the account has enabled.
    tasks = [(c, home) for c in checks.values() if not c.meta.regional]
    tasks += [(c, r) for r in regions for c in checks.values() if c.meta.regional]
    remaining = Counter(region for check, region in tasks if check.meta.regional)
    lock = threading.Lock()

    def work(task: tuple[Check, str]) -> list[CheckResult]:
        check, region = task
        try:
            return run_check(ctx, check, region)
        finally:
            if check.meta.regional:
                with lock:
                    remaining[region] -= 1
                    finished = remaining[region] == 0
                if finished and region != home:
                    ctx.release_region(region)

    results: list[CheckResult] = []
    with ThreadPoolExecutor(max_workers=max(1, options.max_workers)) as pool:
        for batch in pool.map(work, tasks):
            results.extend(batch)
    results.sort(key=lambda r: (r.check_id, r.region, r.resource_id))
    framework = load_framework()
    requirements = roll_up(framework, results)
    report = Report(
        account_id=account,
        partition=partition,
        regions=regions,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        framework=framework.name,
        framework_version=framework.version,
        requirements=requirements,
        results=results,
        checks={cid: c.meta for cid, c in checks.items()},
        api_calls=dict(ctx.api_calls),
        home_region=home,
    )
    failed = sum(1 for r in results if r.status is Status.FAIL)
    emit(
        SecurityEvent(
            action="cloud.check",
            crud="E",
            outcome="failure" if failed else "success",
            resource_type="AwsAccount",
            resource_id=account,
            details={
                "regions": len(regions),
                "checks": len(checks),
                "failed_results": failed,
                "errors": sum(1 for r in results if r.status is Status.ERROR),
            },
        )
    )
    return report
