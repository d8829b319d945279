"""``phiward audit``: verify, query, export and checkpoint the tamper-evident audit log."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from phiward.cli._common import OutputFormat, err_console, fail, guarded
from phiward.cli.exitcodes import ExitCode

if TYPE_CHECKING:
    from phiward.audit.log import AuditLog

audit_app = typer.Typer(
    help=(
        "The tamper-evident audit log (RFC 6962 Merkle tree, Ed25519-signed checkpoints). "
        "Exit 5 when verification fails."
    ),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Register this module's commands on the root app."""
    app.add_typer(audit_app, name="audit")


def _open() -> AuditLog:
    from phiward.audit.log import AuditLog  # noqa: PLC0415 - keep CLI start-up light
    from phiward.core.settings import load_settings  # noqa: PLC0415

    return AuditLog.open(load_settings())


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"{option}: not an ISO 8601 date or time: {value!r}", ExitCode.USAGE) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@audit_app.command("verify")
@guarded
def verify_cmd(
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table for people, json for machines.")
    ] = OutputFormat.table,
    structure: Annotated[
        bool,
        typer.Option(
            "--structure",
            help="Also check what queries read through: every index entry against its row "
            "(SQLite integrity_check, PostgreSQL amcheck, which must be installed) and, on "
            "SQLite, the generated indexed columns against the bodies. Several times slower; "
            "run it on a schedule and before an accounting of disclosures.",
        ),
    ] = False,
) -> None:
    """Recompute the whole tree; check every row, signed head and exported checkpoint.

    Names each sequence number that was modified, deleted, inserted or reordered; exit 5 if any.
    """
    from phiward.audit.verify import verify_log  # noqa: PLC0415

    with _open() as log:
        report = verify_log(log, structure=structure)
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console = Console()
        status = "[green]OK[/]" if report.ok else "[bold red]FAILED[/]"
        console.print(
            f"audit log {status}: {report.size} events, {report.heads_checked} signed heads, "
            f"{report.checkpoints_checked} exported checkpoints checked; index structure "
            + ("checked" if report.structure_checked else "not checked (--structure)")
        )
        for problem in report.problems:
            console.print(f"  [red]{problem.describe()}[/]", highlight=False)
    if not report.ok:
        raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


@audit_app.command("query")
@guarded
def query_cmd(  # noqa: PLR0917 - one parameter per CLI option
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient", help="Patient id: the accounting of disclosures for one patient."
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only events by this user id.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Action code: C, R, U, D or E.")
    ] = None,
    event_type: Annotated[
        str | None, typer.Option("--type", help="Event type, e.g. file.decrypt.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this UTC time (ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Before this UTC time (ISO 8601).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most this many events.")
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = OutputFormat.table,
) -> None:
    """Search the log. The read itself is recorded as an audit.read event."""
    from phiward.audit.query import Query, query  # noqa: PLC0415

    q = Query(
        patient_id=patient, user_id=user, action=action, type=event_type,
        since=_when(since, "--since"), until=_when(until, "--until"), limit=limit,
    )  # fmt: skip
    with _open() as log:
        rows = query(log, q, reader=_user())
    columns = ["seq", "occurred", "type", "action", "outcome", "user_id", "patient_id",
               "resource_type", "resource_id", "purpose"]  # fmt: skip
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(rows, indent=2))
    elif fmt is OutputFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        # Columns no event fills are left out, and long values wrap rather than being cut to
        # "pat…": a narrow terminal still shows whole ids.
        shown = [c for c in columns if any(row.get(c) not in (None, "") for row in rows)]
        table = Table()
        for name in shown or columns:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(str(row.get(c, "")) for c in shown or columns))
        Console().print(table)


@audit_app.command("export")
@guarded
def export_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="NDJSON file to write.")],
    patient: Annotated[
        str | None, typer.Option("--patient", help="Only this patient's events.")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's events.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this UTC time (ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Before this UTC time (ISO 8601).")
    ] = None,
) -> None:
    """Export events with inclusion proofs and a signed checkpoint, for offline verification."""
    from phiward.audit.query import Query, export  # noqa: PLC0415

    q = Query(patient_id=patient, user_id=user,
              since=_when(since, "--since"), until=_when(until, "--until"))  # fmt: skip
    tmp = output.with_name(f".{output.name}.tmp")
    with _open() as log, tmp.open("w", encoding="utf-8") as fh:
        count = export(log, q, fh, reader=_user())
    tmp.replace(output)
    err_console.print(f"exported {count} events with proofs to {output}")


@audit_app.command("verify-export")
@guarded
def verify_export_cmd(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="An audit export file.")
    ],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="Pin the log's verifier key (name+hash+base64, from `phiward audit info`). "
            "Without it the key embedded in the export is used, which proves integrity only.",
        ),
    ] = None,
) -> None:
    """Check an export offline: checkpoint signature and every event's inclusion proof."""
    from phiward.audit.checkpoint import Verifier  # noqa: PLC0415
    from phiward.audit.query import verify_export  # noqa: PLC0415

    result = verify_export(path, Verifier.from_text(key) if key else None)
    pinned = "pinned key" if key else "embedded key (pin one with --key)"
    typer.echo(
        f"OK: {result.events} events proven in {result.origin} at tree size "
        f"{result.tree_size} ({pinned})"
    )


@audit_app.command("checkpoint")
@guarded
def checkpoint_cmd() -> None:
    """Sign the current tree head and export it to the checkpoint directory and S3."""
    with _open() as log:
        cp = log.checkpoint()
        where = ", ".join(s.describe() for s in log.sinks) or "nowhere (no sinks configured)"
    typer.echo(f"signed tree head at size {cp.size}, root {cp.root.hex()}; exported to {where}")


@audit_app.command("info")
@guarded
def info_cmd() -> None:
    """Where the log is, its size, and the verifier key third parties need."""
    with _open() as log:
        typer.echo(f"database:  {log.engine.url.render_as_string(hide_password=True)}")
        typer.echo(f"events:    {log.size()}")
        typer.echo(f"origin:    {log.config.origin}")
        typer.echo(f"verifier:  {log.verifier.to_text()}")
        for sink in log.sinks:
            typer.echo(f"exports:   {sink.describe()}")


@audit_app.command("retention")
@guarded
def retention_cmd(
    apply: Annotated[
        bool, typer.Option("--apply", help="Purge; without it, nothing changes.")
    ] = False,
    years: Annotated[
        int | None,
        typer.Option(
            "--years", min=1, help="Retention period (default: [audit] retention_years, 6)."
        ),
    ] = None,
) -> None:
    """Drop event bodies older than the retention period (hashes stay; the purge is recorded)."""
    if not apply:
        raise fail("retention purges event bodies; pass --apply to do it", ExitCode.USAGE)
    with _open() as log:
        count = log.apply_retention(years=years)
    typer.echo(f"purged {count} events past retention")
