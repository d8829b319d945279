"""Scan orchestration: files → readers → detection engine → per-file results.

Every file ends in exactly one state: ``scanned`` (read; findings, possibly none), ``protected``
(an encrypted container: PHI inside is protected at rest), ``skipped`` (binary, unsupported, too
large, excluded by a reader's budget) or ``error`` (unreadable). A bad file never stops the scan.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from phiward.core.entities import EntityType
from phiward.core.events import SecurityEvent, emit
from phiward.core.finding import Evidence, Finding, Location
from phiward.core.fingerprint import Fingerprinter
from phiward.core.masking import mask
from phiward.detect._engine import Analyzer
from phiward.detect._structured import ColumnClass, ColumnStats, StructuredAnalyzer, classify
from phiward.detect._structured import header_entity as _header_entity
from phiward.detect.ner import load_ner
from phiward.discover._walk import display_path, iter_files
from phiward.errors import InputError
from phiward.formats import ColumnCells, TextUnit, read_units, reader_for
from phiward.formats._registry import SNIFF_BYTES

Status = Literal["scanned", "protected", "skipped", "error"]
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanOptions:
    """What to look for and where. ``workers=None`` means one process per CPU core."""

    min_confidence: float = 0.5
    entities: frozenset[EntityType] | None = None
    excludes: tuple[str, ...] = ()
    workers: int | None = None
    max_file_bytes: int | None = None
    sample_rows: int = 200
    min_column_share: float = 0.6
    names: bool = True
    ner_model: str | None = None
    path_phi: bool = True


@dataclass
class FileResult:
    path: str
    status: Status
    reason: str | None = None
    reader: str | None = None
    size: int = 0
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class ScanResult:
    roots: list[str]
    files: list[FileResult]
    started: float
    duration: float
    options: ScanOptions

    @property
    def findings(self) -> list[Finding]:
        return [f for fr in self.files for f in fr.findings]

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def bytes_scanned(self) -> int:
        return sum(f.size for f in self.files if f.status == "scanned")

    def by_entity(self) -> Counter[EntityType]:
        return Counter(f.entity for f in self.findings)

    def files_with_phi(self) -> list[FileResult]:
        return [f for f in self.files if f.findings]

    def max_confidence(self) -> float:
        return max((f.confidence for f in self.findings), default=0.0)

    def redacted(self) -> ScanResult:
        """A copy whose file paths show the PHI found in them masked (``J*** S****_labs.pdf``).

        Reports are built from this by default: a file named after a patient would otherwise put
        the patient's name into every report, log and ticket the report is pasted into.
        """
        files = []
        for fr in self.files:
            shown = redact_path(fr.path, fr.findings)
            if shown == fr.path:
                files.append(fr)
                continue
            findings = [replace(f, location=replace(f.location, path=shown)) for f in fr.findings]
            files.append(replace(fr, path=shown, findings=findings))
        shown_as = {old.path: new.path for old, new in zip(self.files, files, strict=True)}
        roots = [shown_as.get(root, root) for root in self.roots]  # a file scanned by name
        return replace(self, files=files, roots=roots)


PATH_FIELD = "(file name)"
# In a path, these are usually a file's date or a server's address, not an individual's.
_NOT_IN_PATHS = frozenset(
    {
        EntityType.DATE,
        EntityType.ZIP_CODE,
        EntityType.CITY,
        EntityType.COUNTY,
        EntityType.AGE_OVER_89,
        EntityType.IP_ADDRESS,
        EntityType.URL,
    }
)


def _path_text(path: str) -> str:
    """The path as text for the engine, offsets unchanged: ``_`` separates words in file names
    and each folder is its own line (``Smith_John/MRN 1234567.pdf``)."""
    return path.replace("_", " ").replace("/", "\n").replace("\\", "\n")


def redact_path(path: str, findings: Iterable[Finding]) -> str:
    """``path`` with each span of a file-name finding replaced by its masked preview."""
    spans = sorted(
        (f.location.start, f.location.end, f.entity)
        for f in findings
        if f.location.field == PATH_FIELD
    )
    if not spans:
        return path
    out, at = [], 0
    for start, end, entity in spans:
        if start < at:
            continue
        out.append(path[at:start])
        out.append(mask(path[start:end], entity))  # the path's own separators stay
        at = end
    out.append(path[at:])
    return "".join(out)


class FileScanner:
    """Scans one file at a time with a fixed analyzer (one per process)."""

    def __init__(self, analyzer: Analyzer, options: ScanOptions) -> None:
        self.analyzer = analyzer
        self.options = options
        self.structured = StructuredAnalyzer(
            analyzer, sample=options.sample_rows, min_share=options.min_column_share
        )

    def scan_file(self, path: Path, display: str | None = None, scope: int = 0) -> FileResult:
        """Scan one file; ``display`` is the name reports use and ``scope`` where, in it, the
        part below the scanned folder starts (only that part is looked at for PHI in names)."""
        name = display or str(path)
        result = self._scan_file(path, name)
        if self.options.path_phi:
            result.findings[:0] = self._path_findings(name, scope)
        return result

    def _path_findings(self, name: str, scope: int) -> list[Finding]:
        """PHI in the file's own path below the scanned folder (``Smith_John/labs.pdf``): names
        of files and folders are plaintext wherever the file is, so such findings are never
        protected. Dates, ZIP codes, places, IPs and URLs are left out: in a path they are
        usually a file's date or a server, not an individual's."""
        scope = max(0, min(scope, len(name)))
        text = " " * scope + _path_text(name[scope:])
        floor = max(self.analyzer.min_confidence, 0.6)
        out = []
        for c in self.analyzer.candidates(text):
            if c.entity in _NOT_IN_PATHS or c.confidence < floor:
                continue
            finding = self.analyzer.make_finding(text, c, path=name, field=PATH_FIELD)
            out.append(replace(finding, encrypted_at_rest=False))
        return out

    def _scan_file(self, path: Path, name: str) -> FileResult:
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):  # FIFOs and devices would block or never end
                return FileResult(name, "skipped", "not a regular file")
            size = st.st_size
            if self.options.max_file_bytes is not None and size > self.options.max_file_bytes:
                return FileResult(
                    name, "skipped", f"larger than {self.options.max_file_bytes} bytes", size=size
                )
            with path.open("rb") as fh:
                head = fh.read(SNIFF_BYTES)
                fh.seek(0)
                reader = reader_for(head, path.name)
                if reader is None:
                    return FileResult(name, "skipped", "binary or unsupported format", size=size)
                result = FileResult(name, "scanned", reader=reader.name, size=size)
                self._consume(read_units(reader, fh, path.name), result)
        except PermissionError:
            return FileResult(name, "error", "permission denied")
        except InputError as exc:
            return FileResult(name, "error", str(exc))
        except OSError as exc:
            return FileResult(name, "error", f"cannot read ({exc.strerror or type(exc).__name__})")
        except (UnicodeError, ValueError, RecursionError, MemoryError) as exc:
            return FileResult(name, "error", f"cannot parse ({type(exc).__name__})")
        except Exception as exc:  # a reader bug must cost one file, never the whole scan
            _log.warning("reader failed on a file (%s)", type(exc).__name__, exc_info=True)
            return FileResult(name, "error", f"reader failed ({type(exc).__name__})")
        if result.status == "scanned":
            result.findings = [replace(f, encrypted_at_rest=False) for f in result.findings]
        return result

    def _consume(self, units: Iterable[TextUnit | ColumnCells], result: FileResult) -> None:
        columns = _Columns(self, result)
        for unit in units:
            if isinstance(unit, ColumnCells):
                columns.add(unit.column_name, unit.field, unit.texts, unit.lines)
                continue
            if unit.status is not None:
                self._status(unit, result)
                continue
            if unit.hint is not None:
                self._hint(unit, result)
                if unit.hint_only:
                    continue
            if unit.column_name is None:
                result.findings.extend(
                    self.analyzer.analyze(
                        unit.text, path=result.path, first_line=unit.line or 1, field=unit.field
                    )
                )
                continue
            columns.add(
                unit.column_name, unit.field or unit.column_name, (unit.text,), (unit.line,)
            )
        columns.finish()

    def _cells(
        self,
        field: str,
        texts: Sequence[str],
        lines: Sequence[int | None],
        cls: ColumnClass | None,
        result: FileResult,
    ) -> None:
        analyze, path, out = self.structured.analyze_cell, result.path, result.findings
        for text, line in zip(texts, lines, strict=True):
            out.extend(analyze(text, field, cls, path=path, line=line))

    def _status(self, unit: TextUnit, result: FileResult) -> None:
        status = unit.status or ""
        kind, _, reason = status.partition(":")
        where = f"{unit.field}: " if unit.field else (f"line {unit.line}: " if unit.line else "")
        if kind == "encrypted":
            if not result.findings and not result.problems:
                result.status = "protected"
                result.reason = "encrypted at rest" + (f" ({unit.field})" if unit.field else "")
            else:
                result.problems.append(f"{where}encrypted part")
        elif kind == "skipped":
            result.problems.append(f"{where}skipped: {reason or 'unspecified'}")
        else:
            result.problems.append(f"{where}error: {reason or status}")

    def _hint(self, unit: TextUnit, result: FileResult) -> None:
        entity = unit.hint
        assert entity is not None
        text = unit.text.strip()
        if not text or unit.hint_confidence < self.analyzer.min_confidence:
            return
        if self.analyzer.entities is not None and entity not in self.analyzer.entities:
            return
        lead = len(unit.text) - len(unit.text.lstrip())
        result.findings.append(
            Finding(
                entity=entity,
                location=Location(
                    lead,
                    lead + len(text),
                    path=result.path,
                    line=unit.line,
                    field=unit.field,
                    byte_offset=unit.byte_offset,
                ),
                confidence=round(unit.hint_confidence, 3),
                evidence=Evidence(recognizer="structure", structure=unit.field),
                masked=mask(text, entity),
                fingerprint=self.analyzer.fingerprinter.fingerprint(entity, text),
            )
        )


class _Columns:
    """Column evidence for one file: each column is classified from its first ``sample_rows``
    non-empty cells (header plus content), then its cells are analysed with that class. Cells
    wait in memory until their column is classified; past 50,000 waiting cells every column is
    classified on what it has, so memory stays bounded. Columns are classified independently,
    so a Parquet row group (column after column) and a CSV (row after row) get the same result.
    """

    LIMIT = 50_000

    def __init__(self, scanner: FileScanner, result: FileResult) -> None:
        self.scanner = scanner
        self.result = result
        self.sample = scanner.options.sample_rows
        self.stats: dict[str, ColumnStats] = {}
        self.classes: dict[str, ColumnClass | None] = {}
        self.pending: dict[str, list[tuple[str, Sequence[str], Sequence[int | None]]]] = {}
        self.waiting = 0

    def add(
        self, column: str, field: str, texts: Sequence[str], lines: Sequence[int | None]
    ) -> None:
        if column in self.classes:
            self.scanner._cells(field, texts, lines, self.classes[column], self.result)
            return
        st = self.stats.get(column)
        if st is None:
            st = self.stats[column] = ColumnStats(column, header=_header_entity(column))
        candidates = self.scanner.analyzer.candidates
        for text in texts:
            if st.sampled >= self.sample:
                break
            st.add(text, (c.entity for c in candidates(text)))
        self.pending.setdefault(column, []).append((field, texts, lines))
        self.waiting += len(texts)
        if st.sampled >= self.sample:
            self._decide(column)
        elif self.waiting >= self.LIMIT:
            self.finish()

    def _decide(self, column: str) -> None:
        cls = classify(self.stats[column], self.scanner.options.min_column_share)
        self.classes[column] = cls
        for where, texts, lines in self.pending.pop(column, ()):
            self.waiting -= len(texts)
            self.scanner._cells(where, texts, lines, cls, self.result)

    def finish(self) -> None:
        """Classify every column still waiting and analyse its cells."""
        for column in list(self.pending):
            self._decide(column)


# --- process pool plumbing (one analyzer per worker process) -------------------------------

_worker: FileScanner | None = None


def _init_worker(key: bytes, options: ScanOptions) -> None:
    global _worker  # noqa: PLW0603 - per-process state of a pool worker
    _worker = FileScanner(_make_analyzer(Fingerprinter(key), options), options)


def _run_worker(item: tuple[str, str, int]) -> FileResult:
    assert _worker is not None
    return _worker.scan_file(Path(item[0]), item[1], item[2])


def _scope(display: str, roots: Sequence[Path]) -> int:
    """Where the part of ``display`` below its scan root starts (a file given by name: its name)."""
    best = 0
    for root in roots:
        text = display_path(root)
        if display.startswith(text) and len(text) >= best:
            best = len(text) if root.is_dir() else len(text) - len(root.name)
    return best


def _make_analyzer(fp: Fingerprinter, options: ScanOptions) -> Analyzer:
    extra = [load_ner(options.ner_model)] if options.ner_model else []
    return Analyzer(
        fingerprinter=fp,
        entities=options.entities,
        min_confidence=options.min_confidence,
        names=options.names,
        extra=extra,
    )


Progress = Callable[[FileResult, int, int], None]


def scan_paths(
    paths: Sequence[Path],
    options: ScanOptions | None = None,
    *,
    fingerprint_key: bytes,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan files and folders. ``progress(result, done, total)`` is called after each file.

    ``fingerprint_key`` is the per-install secret (``Settings.fingerprinter``'s key) so that
    fingerprints from every worker agree. Emits one ``scan.run`` security event at the end.
    """
    options = options or ScanOptions()
    if options.ner_model:
        load_ner(options.ner_model)  # fail fast (ConfigError) before any worker starts
    started = time.time()
    t0 = time.perf_counter()
    try:
        items = [(str(p), d, _scope(d, paths)) for p, d in iter_files(paths, options.excludes)]
    except FileNotFoundError as exc:
        raise InputError(f"no such file or directory: {exc}") from None
    workers = options.workers or os.cpu_count() or 1
    workers = max(1, min(workers, len(items)))
    results: list[FileResult] = []
    total = len(items)
    if workers == 1:
        scanner = FileScanner(_make_analyzer(Fingerprinter(fingerprint_key), options), options)
        for item in items:
            fr = scanner.scan_file(Path(item[0]), item[1], item[2])
            results.append(fr)
            if progress:
                progress(fr, len(results), total)
    else:
        ctx = multiprocessing.get_context("spawn")
        order = {item[1]: i for i, item in enumerate(items)}
        with cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(fingerprint_key, options),
        ) as pool:
            futures = [pool.submit(_run_worker, item) for item in items]
            for fut in cf.as_completed(futures):
                fr = fut.result()
                results.append(fr)
                if progress:
                    progress(fr, len(results), total)
        results.sort(key=lambda r: order.get(r.path, 0))
    result = ScanResult(
        roots=[display_path(p) for p in paths],
        files=results,
        started=started,
        duration=time.perf_counter() - t0,
        options=options,
    )
    emit(
        SecurityEvent(
            action="scan.run",
            crud="E",
            resource_type="scan",
            details={
                "files": len(results),
                "files_with_phi": len(result.files_with_phi()),
                "findings": len(result.findings),
                "protected": result.count("protected"),
                "skipped": result.count("skipped"),
                "errors": result.count("error"),
                "bytes": result.bytes_scanned,
            },
        )
    )
    return result
