"""``phiward check aws`` (issue 6): the account's configuration against the HIPAA Security Rule."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from phiward.cli._common import fail, guarded
from phiward.cli.exitcodes import ExitCode
from phiward.core.fileio import write_atomic
from phiward.errors import InputError

if TYPE_CHECKING:  # phiward.cloud needs boto3 (the [aws] extra): import it only when used
    from phiward.cloud import Report


class CloudFormat(StrEnum):
    """Mirrors ``phiward.cloud.output.CloudFormat`` without importing boto3 at CLI start-up."""

    table = "table"
    json = "json"
    csv = "csv"
    html = "html"
    sarif = "sarif"
    asff = "asff"


_NONE: list[str] = []  # Typer needs a list default; never mutated

check_app = typer.Typer(
    help="Check cloud account configuration against HIPAA (exit 3 when a check fails).",
    no_args_is_help=True,
)

_STYLE = {
    "PASS": "green",
    "FAIL": "bold red",
    "ERROR": "yellow",
    "MANUAL": "blue",
    "NOT_APPLICABLE": "dim",
}
_ATTENTION = {"FAIL", "ERROR"}


def _write_atomic(path: Path, text: str) -> None:
    """Never a half-written report (see :func:`phiward.core.fileio.write_atomic`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text, 0o600)


def _print_table(report: Report, console: Console, show_all: bool) -> None:
    req_table = Table(title=f"HIPAA requirements, AWS account {report.account_id}")
    for col in ("45 CFR", "Requirement", "Status", "Results"):
        req_table.add_column(col)
    for req in report.requirements:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(req.counts.items())) or "-"
        req_table.add_row(
            req.requirement_id,
            escape(req.title),
            f"[{_STYLE[req.status.value]}]{req.status.value}[/]",
            counts,
        )
    console.print(req_table)
    shown = [r for r in report.results if show_all or r.status.value in _ATTENTION]
    if shown:
        res_table = Table(title="Findings" if show_all else "Failures and errors")
        for col in ("Status", "Severity", "Check", "Region", "Resource", "Detail"):
            res_table.add_column(col, overflow="fold")  # never cut an id with an ellipsis
        for r in shown:
            res_table.add_row(
                f"[{_STYLE[r.status.value]}]{r.status.value}[/]",
                r.severity.value,
                r.check_id,
                r.region,
                escape(r.resource_id),
                escape(r.message),
            )
        console.print(res_table)
    summary = " · ".join(f"{k} {v}" for k, v in report.summary().items())
    console.print(f"Requirements: {summary}. Regions: {', '.join(report.regions)}.")


_M_ARENA_MAX = -8  # glibc mallopt parameter


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before the check threads start.

    The threads only wait on HTTP; giving each its own arena (glibc's default, up to 8 per core)
    costs ~25 MB of peak RSS for no speed. No-op off glibc.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_ARENA_MAX, arenas)
    except (OSError, AttributeError):  # musl or an unusual libc: keep the default
        pass


def _eligible(path: Path | None) -> frozenset[str] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read --eligible-services {path}: {exc}") from exc
    services = data.get("services") if isinstance(data, dict) else data
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise InputError(
            f"--eligible-services {path} must be a JSON list of service names or "
            '{"services": [...]}'
        )
    return frozenset(services)


@check_app.command("aws")
@guarded
def aws(
    *,
    region: Annotated[
        list[str],
        typer.Option(
            "--region",
            "-r",
            help="Region to check (repeatable). Default: every region enabled for the account.",
        ),
    ] = _NONE,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", help="AWS named profile. Default: the standard boto3 credential chain."
        ),
    ] = None,
    fmt: Annotated[
        CloudFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output: table (terminal), json, csv, html, sarif, or asff (Security Hub import).",
        ),
    ] = CloudFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the report to this file (atomically) instead of stdout."
        ),
    ] = None,
    check: Annotated[
        list[str],
        typer.Option(
            "--check", "-c", help="Run only this check id (repeatable; see --list-checks)."
        ),
    ] = _NONE,
    service: Annotated[
        list[str],
        typer.Option(
            "--service", "-s", help="Run only checks of this AWS service (repeatable), e.g. s3."
        ),
    ] = _NONE,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, max=64, help="Concurrent checks (bounded thread pool)."),
    ] = 16,
    eligible_services: Annotated[
        Path | None,
        typer.Option(
            "--eligible-services",
            help="JSON file with an updated list of HIPAA-eligible ARN service names "
            "(overrides the shipped, dated list).",
        ),
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Table format: list every result, not only failures and errors."
        ),
    ] = False,
    list_checks: Annotated[
        bool,
        typer.Option("--list-checks", help="List every check with its HIPAA sections and exit."),
    ] = False,
) -> None:
    """Check an AWS account against the HIPAA Security Rule (45 CFR 164.308-164.316).

    Every requirement gets PASS, FAIL, NOT_APPLICABLE, ERROR (API or permission named) or MANUAL
    (what a person must verify). Needs only read access: see docs/cloud-readonly-policy.json.
    Exit codes: 0 clean, 3 a check failed or could not run, 2 usage error, 4 could not scan.
    """
    try:
        from phiward.cloud import ScanOptions, all_checks, run_scan  # noqa: PLC0415
        from phiward.cloud.output import CloudFormat as Fmt  # noqa: PLC0415
        from phiward.cloud.output import render  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise fail(f"phiward check aws needs boto3: pip install 'phiward[aws]' ({exc})") from None
    console = Console(highlight=False, soft_wrap=False, width=200 if output else None)
    if list_checks:
        for cid, c in all_checks().items():
            console.print(f"{cid}\t{c.meta.severity.value}\t{' '.join(c.meta.sections)}")
        return
    options = ScanOptions(
        regions=tuple(region),
        profile=profile,
        max_workers=workers,
        checks=tuple(check),
        services=tuple(service),
        eligible_services=_eligible(eligible_services),
    )
    _limit_malloc_arenas()
    report = run_scan(options)
    if fmt is CloudFormat.table:
        if output is not None:
            raise fail(
                "--output needs a file format (json, csv, html, sarif, asff)", ExitCode.USAGE
            )
        _print_table(report, console, show_all)
    else:
        text = render(report, Fmt(fmt.value))
        if output is None:
            typer.echo(text, nl=False)
        else:
            _write_atomic(output, text)
            Console(stderr=True).print(f"wrote {escape(str(output))}")
    bad = any(r.status.value in _ATTENTION for r in report.results)
    raise typer.Exit(int(ExitCode.CHECK_FAILED if bad else ExitCode.OK))


def register(app: typer.Typer) -> None:
    """Register this module's commands on the root app."""
    app.add_typer(check_app, name="check")
