"""``phiward scan`` and ``phiward demo-data``."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from phiward.cli._common import err_console, fail, guarded
from phiward.cli.exitcodes import ExitCode
from phiward.core.entities import EntityType
from phiward.core.fileio import write_atomic
from phiward.core.settings import Settings, load_settings
from phiward.demo.legacy import generate
from phiward.discover import ScanOptions, scan_paths
from phiward.errors import ConfigError, InputError
from phiward.reports import render, render_summary, render_table

_FORMATS = ("table", "json", "sarif", "html", "csv")


def _atomic_write(path: Path, text: str) -> None:
    """Write a report all-or-nothing, private by default (a report points at PHI)."""
    path = path.expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    write_atomic(path, text, 0o600)


def _parse_entities(value: str | None) -> frozenset[EntityType] | None:
    if not value:
        return None
    out = set()
    for raw in value.split(","):
        name = raw.strip().upper().replace("-", "_")
        if not name:
            continue
        try:
            out.add(EntityType(name))
        except ValueError:
            valid = ", ".join(e.value for e in EntityType)
            raise typer.BadParameter(
                f"unknown entity type {raw.strip()!r}; valid: {valid}", param_hint="--entities"
            ) from None
    return frozenset(out)


_SCAN_KEYS = frozenset({"exclude", "fail_on", "entities", "ner"})


def _scan_section(settings: Settings) -> dict[str, Any]:
    """The ``[scan]`` table of phiward.toml (or ``PHIWARD_SCAN__*``); unknown keys are errors."""
    conf = dict(settings.section("scan"))
    unknown = sorted(set(conf) - _SCAN_KEYS)
    if unknown:
        known = ", ".join(sorted(_SCAN_KEYS))
        raise ConfigError(f"unknown scan setting(s): {', '.join(unknown)}; known: {known}")
    return conf


def _list_setting(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # from the environment: comma-separated
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError("scan setting 'exclude' must be a list of glob strings")


def _float_setting(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number between 0 and 1") from None
    if not 0.0 <= number <= 1.0:
        raise ConfigError(f"{name} must be a number between 0 and 1")
    return number


def fingerprint_key(settings: Settings) -> bytes:
    """The per-install fingerprint secret as bytes (created on first use, mode 0600)."""
    settings.fingerprinter()  # validates the env key or creates/permission-checks the key file
    if settings.fingerprint_key:
        return bytes.fromhex(settings.fingerprint_key)
    return bytes.fromhex(settings.fingerprint_key_path.read_text().strip())


def _print_report(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def scan(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files and folders to scan (folders recursively; symlinks are not followed)."
        ),
    ],
    *,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="Report format: table (human), json, sarif (GitHub code scanning), html "
            "(one self-contained page), csv.",
        ),
    ] = "table",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the report to this file (atomically, mode 0600)."
        ),
    ] = None,
    min_confidence: Annotated[
        float | None,
        typer.Option(
            "--min-confidence",
            min=0.0,
            max=1.0,
            help="Report findings at or above this confidence (0-1; default 0.5 or the "
            "min_confidence setting).",
        ),
    ] = None,
    entities: Annotated[
        str | None,
        typer.Option(
            "--entities",
            "-e",
            help="Comma-separated entity types to report, e.g. SSN,EMAIL,NAME (default: all).",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            "-x",
            help="Gitignore-style pattern to skip (repeatable), e.g. '*.min.js' or 'build/'. "
            "A .phiwardignore file in a scanned folder is read too.",
        ),
    ] = None,
    fail_on: Annotated[
        float | None,
        typer.Option(
            "--fail-on",
            min=0.0,
            max=1.0,
            help="Exit with code 1 when any finding has at least this confidence (for CI and "
            "pre-commit).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=1, help="Worker processes (default: all CPU cores)."),
    ] = None,
    summary: Annotated[
        bool,
        typer.Option("--summary", help="Print only the summary (counts by file state and type)."),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress bar, no table; reports still go to --output."
        ),
    ] = False,
    no_names: Annotated[
        bool,
        typer.Option(
            "--no-names", help="Skip the dictionary name detector (faster, misses names)."
        ),
    ] = False,
    ner: Annotated[
        str | None,
        typer.Option(
            "--ner",
            help="Add the spaCy NER tier with this installed model package (e.g. "
            "en_core_web_sm; needs phiward[ner]). Off by default: slower.",
        ),
    ] = None,
    max_file_size: Annotated[
        int | None,
        typer.Option("--max-file-size", min=1, help="Skip files larger than this many bytes."),
    ] = None,
    show_paths: Annotated[
        bool,
        typer.Option(
            "--show-paths",
            help="Print file paths as they are even where a file or folder name holds PHI "
            "(e.g. a patient's name). By default that part of the path is masked in every "
            "report; SARIF links to such files need this option.",
        ),
    ] = False,
) -> None:
    """Find PHI (HIPAA Safe Harbor identifiers) in files and folders.

    Reports masked values and keyed fingerprints only, never the raw identifier. Exit codes:
    0 done (or nothing at --fail-on), 1 PHI at or above --fail-on, 2 bad usage, 4 error.
    """
    if fmt not in _FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(_FORMATS)}", param_hint="--format")
    for p in paths:
        if not p.exists():
            raise typer.BadParameter(f"{p} does not exist", param_hint="PATHS")
    settings = load_settings()
    conf = _scan_section(settings)
    if fail_on is None and "fail_on" in conf:
        fail_on = _float_setting(conf["fail_on"], "scan.fail_on")
    options = ScanOptions(
        min_confidence=settings.min_confidence if min_confidence is None else min_confidence,
        entities=_parse_entities(entities if entities is not None else conf.get("entities")),
        excludes=(*_list_setting(conf.get("exclude")), *(exclude or ())),
        workers=workers or settings.workers,
        max_file_bytes=max_file_size,
        names=not no_names,
        ner_model=ner if ner is not None else conf.get("ner"),
    )
    key = fingerprint_key(settings)
    show_progress = not quiet and err_console.is_terminal

    if show_progress:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("scanning", total=None)

            def _tick(_fr: Any, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = scan_paths(paths, options, fingerprint_key=key, progress=_tick)
    else:
        result = scan_paths(paths, options, fingerprint_key=key)
    if not show_paths:
        result = result.redacted()

    if summary and output is None:
        _print_report(render_summary(result))
    elif fmt == "table":
        if output is not None:
            buf = Console(record=True, width=160, file=io.StringIO())
            buf.print(render_table(result))
            _atomic_write(output, buf.export_text())
        elif not quiet:
            Console().print(render_table(result))
    else:
        text = render(result, fmt)
        if output is not None:
            _atomic_write(output, text)
        else:
            _print_report(text)
    if output is not None and not quiet:
        err_console.print(f"report written to {output}", highlight=False)
        if summary:
            _print_report(render_summary(result))

    if fail_on is not None and any(f.confidence >= fail_on for f in result.findings):
        raise typer.Exit(int(ExitCode.FINDINGS))


def demo_data(
    directory: Annotated[Path, typer.Argument(help="Folder to write the synthetic data set into.")],
    *,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a folder that demo-data wrote before (only that)."),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 7,
    patients: Annotated[
        int, typer.Option("--patients", min=1, max=100_000, help="Patients to invent.")
    ] = 60,
) -> None:
    """Write a synthetic "legacy system" (notes, CSV/JSON exports, logs) with ground truth.

    All people and identifiers are invented. ground-truth.json lists every planted identifier
    (file, line, span or field, type); it is marked synthetic.
    """
    try:
        info = generate(directory, seed=seed, patients=patients, force=force)
    except FileExistsError as exc:
        raise fail(f"{exc}; use --force to replace it", ExitCode.ERROR) from None
    err_console.print(
        f"wrote {info['files']} files with {info['identifiers']} planted identifiers to "
        f"{directory} (ground truth: {directory / 'ground-truth.json'})",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Register this module's commands on the root app."""
    app.command("scan")(guarded(scan))
    app.command("demo-data")(guarded(demo_data))
