"""``phiward demo-formats`` (sample files of every health format) and ``phiward inspect-format``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from phiward.cli._common import OutputFormat, guarded
from phiward.core.masking import mask
from phiward.core.settings import load_settings
from phiward.errors import InputError

console = Console()


def _demo_formats(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder to write the samples into (created; must be empty unless --force)."
        ),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Write even if the folder is not empty.")
    ] = False,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table (human) or json (machine) summary.")
    ] = OutputFormat.table,
) -> None:
    """Write synthetic samples of every health format plus ground-truth.json.

    HL7 v2 (batch and MLLP), FHIR (Bundle and NDJSON), C-CDA, DICOM, PDF (with an image-only
    page and an encrypted copy), DOCX, XLSX, Parquet, JPEG/PNG with EXIF, a nested zip, a tar.gz,
    a small zip bomb, an over-nested zip, a password-protected zip and an encrypted envelope.
    Every person is invented.
    """
    from phiward.demo.formats import write_format_samples  # noqa: PLC0415 - heavy, on use

    if output is OutputFormat.csv:
        raise InputError("--format csv is not supported here; use table or json")
    truth = write_format_samples(directory, force=force)
    files = sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())
    planted = Counter(t.file for t in truth)
    if output is OutputFormat.json:
        typer.echo(
            json.dumps(
                {
                    "directory": str(directory),
                    "files": [{"file": f, "planted": planted.get(f, 0)} for f in files],
                    "ground_truth": "ground-truth.json",
                },
                indent=2,
            )
        )
        return
    table = Table(title=f"Samples written to {directory}")
    table.add_column("file")
    table.add_column("planted identifiers", justify="right")
    for name in files:
        table.add_row(name, str(planted.get(name, 0)))
    console.print(table)
    console.print(f"ground truth: {directory / 'ground-truth.json'}")


def _inspect_format(
    path: Annotated[
        Path, typer.Argument(help="File to read.", exists=True, dir_okay=False, readable=True)
    ],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table (human) or json (machine).")
    ] = OutputFormat.table,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show at most this many units.")
    ] = 200,
) -> None:
    """Show how phiward reads a file: its reader and each unit's structural path and hint.

    Values are masked (free text is shown only by its length): this command never prints PHI.
    """
    from phiward.formats import reader_for  # noqa: PLC0415 - keeps `phiward --help` fast
    from phiward.formats._limits import FormatLimits, set_limits  # noqa: PLC0415

    if output is OutputFormat.csv:
        raise InputError("--format csv is not supported here; use table or json")
    set_limits(FormatLimits.from_mapping(load_settings().section("formats")))
    with open(path, "rb") as handle:
        head = handle.read(8192)
        handle.seek(0)
        reader = reader_for(head, path.name)
        if reader is None:
            raise InputError(f"{path.name}: no reader recognises this file's format")
        rows: list[dict[str, Any]] = []
        for unit in reader.read(handle, path.name):
            if len(rows) >= limit:
                break
            shown = (
                mask(unit.text, unit.hint)
                if unit.hint is not None
                else (f"<text, {len(unit.text)} chars>" if unit.text else "")
            )
            rows.append(
                {
                    "field": unit.field,
                    "line": unit.line,
                    "hint": unit.hint.value if unit.hint else None,
                    "confidence": unit.hint_confidence if unit.hint else None,
                    "status": unit.status,
                    "value": shown,
                }
            )
    if output is OutputFormat.json:
        typer.echo(json.dumps({"file": str(path), "reader": reader.name, "units": rows}, indent=2))
        return
    table = Table(title=f"{path.name}: read as {reader.name}")
    for column in ("field", "hint", "conf", "status", "value (masked)"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["field"] or ""),
            str(row["hint"] or ""),
            f"{row['confidence']:.2f}" if row["confidence"] is not None else "",
            str(row["status"] or ""),
            str(row["value"]),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Register this module's commands on the root app."""
    app.command("demo-formats")(guarded(_demo_formats))
    app.command("inspect-format")(guarded(_inspect_format))
