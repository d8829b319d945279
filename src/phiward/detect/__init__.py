"""The PHI detection engine.

``analyze(text)`` returns :class:`~phiward.core.finding.Finding` values for every Safe Harbor
identifier it recognises; :class:`StructuredAnalyzer` does the same for rows and documents with
column classification. Importing this package installs the engine as the log scrubber, so log
records are cleaned by the same rules that find PHI in files.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from phiward.core import logfilter
from phiward.core.entities import EntityType
from phiward.core.finding import Finding
from phiward.core.fingerprint import Fingerprinter
from phiward.core.settings import load_settings
from phiward.detect._engine import (
    Analyzer,
    Candidate,
    PatternEngine,
    default_backend,
    resolve_overlaps,
)
from phiward.detect._recognizers import RECOGNIZERS, Recognizer
from phiward.detect._structured import (
    ColumnClass,
    StructuredAnalyzer,
    classify,
    header_entity,
    iter_leaves,
)

__all__ = [
    "RECOGNIZERS",
    "Analyzer",
    "Candidate",
    "ColumnClass",
    "PatternEngine",
    "Recognizer",
    "StructuredAnalyzer",
    "analyze",
    "analyze_document",
    "analyze_rows",
    "available_backends",
    "classify",
    "default_analyzer",
    "header_entity",
    "iter_leaves",
    "resolve_overlaps",
]


@cache
def _default_fingerprinter() -> Fingerprinter:
    return load_settings().fingerprinter()


@cache
def default_analyzer() -> Analyzer:
    """An analyzer with the per-install fingerprint key and the configured ``min_confidence``
    (0.5 unless ``phiward.toml`` or ``PHIWARD_MIN_CONFIDENCE`` says otherwise)."""
    return Analyzer(
        fingerprinter=_default_fingerprinter(), min_confidence=load_settings().min_confidence
    )


def analyze(
    text: str,
    *,
    entities: Iterable[EntityType] | None = None,
    min_confidence: float | None = None,
    fingerprinter: Fingerprinter | None = None,
) -> list[Finding]:
    """Every identifier found in ``text`` at or above ``min_confidence`` (default: the
    ``min_confidence`` setting, 0.5), in order, masked and fingerprinted."""
    if entities is None and min_confidence is None and fingerprinter is None:
        return default_analyzer().analyze(text)
    analyzer = Analyzer(
        fingerprinter=fingerprinter or _default_fingerprinter(),
        entities=entities,
        min_confidence=load_settings().min_confidence if min_confidence is None else min_confidence,
    )
    return analyzer.analyze(text)


def analyze_rows(
    rows: list[dict[str, object]], *, analyzer: Analyzer | None = None
) -> list[Finding]:
    """Findings in tabular rows (column name → value), with column classification."""
    return StructuredAnalyzer(analyzer or default_analyzer()).analyze_rows(rows)


def analyze_document(doc: object, *, analyzer: Analyzer | None = None) -> list[Finding]:
    """Findings in a JSON-like document; ``field`` is each leaf's key path."""
    return StructuredAnalyzer(analyzer or default_analyzer()).analyze_document(doc)


def available_backends() -> list[str]:
    """Regex backends importable here: ``re`` always, ``re2`` with google-re2 installed."""
    return ["re"] if default_backend() == "re" else ["re", "re2"]


def scrub(text: str) -> str:
    """Replace every detected identifier in ``text`` with ``[<ENTITY>]`` (the log scrubber)."""
    analyzer = _scrub_analyzer()
    cands = analyzer.candidates(text)
    if not cands:
        return logfilter.baseline_scrub(text)
    parts: list[str] = []
    pos = 0
    for c in cands:
        parts.append(text[pos : c.start])
        parts.append(f"[REDACTED:{c.entity.value.lower()}]")
        pos = c.end
    parts.append(text[pos:])
    return logfilter.baseline_scrub("".join(parts))


@cache
def _scrub_analyzer() -> Analyzer:
    # No fingerprints are made while scrubbing, so an ephemeral key is fine; 0.3 is deliberately
    # lower than the report threshold: logs should lose a little too much rather than too little.
    return Analyzer(fingerprinter=Fingerprinter.ephemeral(), min_confidence=0.3)


logfilter.set_scrubber(scrub)
