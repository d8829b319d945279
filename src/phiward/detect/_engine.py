"""The analysis pipeline: one multi-pattern pass, validators, context scoring, overlap resolution.

All recognizers are compiled into a single alternation, so the text is walked once by the regex
engine (Python ``re`` by default; google-re2 when asked, see :func:`available_backends`). Each
match is then validated (checksums, issuing rules), scored with the context words in a window
before it, and overlapping candidates are resolved (highest confidence, then longest, wins). Names
come from a second, dictionary-driven pass over capitalised words (``_names``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from phiward.core.entities import EntityType
from phiward.core.finding import Evidence, Finding, Location
from phiward.core.fingerprint import Fingerprinter
from phiward.core.masking import mask
from phiward.detect import _validators
from phiward.detect._names import find_names
from phiward.detect._recognizers import RECOGNIZERS, Recognizer

try:  # google-re2 is a core dependency, but a platform without its wheel still works with re.
    import re2 as _re2
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    _re2 = None

CONTEXT_BEFORE = 48
CONTEXT_AFTER = 16
_FAX = re.compile(r"\bfax\b|\bfacsimile\b")
_TIME_AFTER = re.compile(r"[T ]\d{1,2}:\d{2}")
_VERSION_BEFORE = re.compile(r"\b(?:version|ver|v|build|release|rev)\.?\s*$")


@dataclass(slots=True)
class Candidate:
    """An internal, unmasked candidate; never leaves this package (see :class:`Finding`)."""

    entity: EntityType
    start: int
    end: int
    confidence: float
    recognizer: str
    validator: str | None = None
    context: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _group_rename(pattern: str, index: int) -> str:
    return re.sub(r"\(\?P<(\w+)>", lambda m: f"(?P<r{index}_{m.group(1)}>", pattern)


def _context_regex(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z])(?:{alts})(?![a-z])")


@dataclass(frozen=True, slots=True)
class _Compiled:
    rec: Recognizer
    group: int
    value_group: int | None
    zip_group: int | None
    context: re.Pattern[str] | None


def default_backend() -> str:
    """``re2`` when google-re2 is importable (one DFA pass for all patterns), else ``re``."""
    return "re" if _re2 is None else "re2"


class PatternEngine:
    """The compiled multi-pattern: ``scan(text)`` returns raw candidates in text order.

    A keyword-led match (``MRN: 123``) resumes the scan at its value, so the value can still be
    seen by the other recognizers; overlap resolution then keeps the best reading.
    """

    def __init__(
        self, recognizers: Iterable[Recognizer] = RECOGNIZERS, backend: str | None = None
    ) -> None:
        self.recognizers = tuple(recognizers)
        self.backend = backend or default_backend()
        parts: list[str] = []
        for i, rec in enumerate(self.recognizers):
            parts.append(f"(?P<r{i}>{_group_rename(rec.pattern, i)})")
        self.pattern_text = "|".join(parts)
        self._compiled: Any = self._compile(self.pattern_text, self.backend)
        index: dict[str, int] = {
            (k.decode() if isinstance(k, bytes) else k): v
            for k, v in self._compiled.groupindex.items()
        }
        self._by_index: dict[int, _Compiled] = {}
        self._by_name: dict[str, _Compiled] = {}
        for i, rec in enumerate(self.recognizers):
            comp = _Compiled(
                rec,
                index[f"r{i}"],
                index.get(f"r{i}_v"),
                index.get(f"r{i}_zip"),
                _context_regex(rec.context),
            )
            self._by_index[comp.group] = comp
            self._by_name[f"r{i}"] = comp

    @staticmethod
    def _compile(pattern: str, backend: str) -> Any:
        if backend == "re":
            return re.compile(pattern)
        if backend == "re2":
            if _re2 is None:
                raise ValueError("regex backend 're2' needs the google-re2 package")
            options = _re2.Options()
            options.max_mem = 256 << 20
            # Bytes in, bytes out: the binding would re-encode a str on every search() call.
            return _re2.compile(pattern.encode(), options)
        raise ValueError(f"unknown regex backend {backend!r} (use 're' or 're2')")

    def _which(self, m: Any) -> _Compiled:
        name = m.lastgroup
        if isinstance(name, bytes):
            name = name.decode()
        comp = self._by_name.get(name) if name is not None else None
        if comp is not None:
            return comp
        for idx, comp in self._by_index.items():  # pragma: no cover - lastgroup is reliable
            if m.start(idx) != -1:
                return comp
        raise AssertionError("match without a recognizer group")

    def scan(self, text: str) -> list[Candidate]:
        out: list[Candidate] = []
        search = self._compiled.search
        lower: str | None = None
        haystack: str | bytes = text
        conv: _Offsets | None = None
        if self.backend == "re2":
            haystack = text.encode("utf-8", "surrogateescape")
            if len(haystack) != len(text):
                conv = _Offsets(haystack)
        pos = 0
        n = len(haystack)
        while pos <= n:
            m = search(haystack, pos)
            if m is None:
                break
            comp = self._which(m)
            rec = comp.rec
            bms, bme = m.span()
            if comp.value_group is not None and m.start(comp.value_group) != -1:
                bs, be = m.span(comp.value_group)
            else:
                bs, be = bms, bme
            pos = bs if bs > bms else max(bme, bms + 1)
            if conv is None:
                ms, s, e = bms, bs, be
            else:
                ms, s, e = conv.char(bms), conv.char(bs), conv.char(be)
            value = text[s:e]
            if rec.entity is EntityType.URL:
                stripped = value.rstrip(".,;:!?")
                e -= len(value) - len(stripped)
                value = stripped
            if rec.validator is not None and not rec.validator(value):
                continue
            if lower is None:
                lower = text.lower()
            ctx: tuple[str, ...] = ()
            if comp.context is not None:
                window = lower[max(0, ms - CONTEXT_BEFORE) : e + CONTEXT_AFTER]
                ctx = tuple(dict.fromkeys(c.group() for c in comp.context.finditer(window)))
            conf = rec.context_score if ctx else rec.score
            entity = rec.entity
            notes: tuple[str, ...] = ()
            if entity is EntityType.PHONE:
                if _FAX.search(lower, max(0, s - 24), s):
                    entity = EntityType.FAX
                if value.isdigit() and not ctx:
                    conf = 0.35  # a bare ten-digit run is as likely an id as a phone
            elif entity is EntityType.DATE and not ctx and _TIME_AFTER.match(text, e):
                conf = 0.35  # a timestamp: a system event, not usually a date about a person
                notes = ("timestamp",)
            elif entity is EntityType.IP_ADDRESS and _VERSION_BEFORE.search(
                lower[max(0, s - 12) : s]
            ):
                conf = 0.3  # "version 3.10.4.1" is a version number, not an address
                notes = ("version-like",)
            elif entity is EntityType.SSN and " " in value and not ctx:
                conf = 0.45
            elif entity is EntityType.ZIP_CODE and value[:3] in _validators.RESTRICTED_ZIP3:
                notes = ("restricted-zip3",)
            out.append(Candidate(entity, s, e, conf, rec.name, rec.validator_name, ctx, notes))
            if comp.zip_group is not None and m.start(comp.zip_group) != -1:
                bzs, bze = m.span(comp.zip_group)
                pos = max(pos, bze)
                zs, ze = (bzs, bze) if conv is None else (conv.char(bzs), conv.char(bze))
                znotes = (
                    ("restricted-zip3",) if text[zs : zs + 3] in _validators.RESTRICTED_ZIP3 else ()
                )
                out.append(
                    Candidate(EntityType.ZIP_CODE, zs, ze, 0.9, "city_state_zip", None, (), znotes)
                )
        return out


class _Offsets:
    """UTF-8 byte offsets to str offsets, incrementally (scan offsets mostly move forward)."""

    __slots__ = ("_b", "_c", "_data")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._b = 0
        self._c = 0

    def char(self, b: int) -> int:
        if b >= self._b:
            self._c += len(self._data[self._b : b].decode("utf-8", "surrogateescape"))
        else:
            self._c -= len(self._data[b : self._b].decode("utf-8", "surrogateescape"))
        self._b = b
        return self._c


def resolve_overlaps(cands: list[Candidate]) -> list[Candidate]:
    """Keep the best of overlapping candidates: higher confidence, then longer, then earlier."""
    if len(cands) < 2:
        return sorted(cands, key=lambda c: c.start)
    ranked = sorted(cands, key=lambda c: (-c.confidence, -(c.end - c.start), c.start))
    kept: list[Candidate] = []
    starts: list[int] = []
    ends: list[int] = []
    for c in ranked:
        i = bisect.bisect_right(starts, c.start)
        if i > 0 and ends[i - 1] > c.start:
            continue
        if i < len(starts) and starts[i] < c.end:
            continue
        starts.insert(i, c.start)
        ends.insert(i, c.end)
        kept.insert(i, c)
    return kept


class LineIndex:
    """Maps character offsets to 1-based line and column numbers."""

    __slots__ = ("_starts",)

    def __init__(self, text: str) -> None:
        self._starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self._starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def line_col(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._starts, offset) - 1
        return i + 1, offset - self._starts[i] + 1


NameFinder = Callable[[str], list[Candidate]]


def name_candidates(text: str) -> list[Candidate]:
    return [
        Candidate(EntityType.NAME, h.start, h.end, h.confidence, f"name:{h.rule}", None, h.context)
        for h in find_names(text)
    ]


class Analyzer:
    """Turns text into :class:`Finding` values. Thread-safe; build once, reuse.

    ``entities`` restricts the output types; ``min_confidence`` drops weaker findings; ``names``
    turns the dictionary name pass off (it is the slowest stage); ``ner`` adds spaCy entities
    (see :mod:`phiward.detect.ner`).
    """

    def __init__(
        self,
        *,
        fingerprinter: Fingerprinter | None = None,
        entities: Iterable[EntityType] | None = None,
        min_confidence: float = 0.0,
        names: bool = True,
        backend: str | None = None,
        extra: Iterable[NameFinder] = (),
    ) -> None:
        self.fingerprinter = fingerprinter or Fingerprinter.ephemeral()
        self.entities = frozenset(entities) if entities is not None else None
        self.min_confidence = min_confidence
        recs = RECOGNIZERS
        if self.entities is not None:
            wanted = self.entities | {EntityType.ZIP_CODE}  # city_state also yields ZIPs
            if EntityType.FAX in wanted:
                wanted |= {EntityType.PHONE}
            recs = tuple(r for r in RECOGNIZERS if r.entity in wanted)
        self.engine = PatternEngine(recs, backend) if recs else None
        self.names = names and (self.entities is None or EntityType.NAME in self.entities)
        self.extra = tuple(extra)

    def candidates(self, text: str) -> list[Candidate]:
        """Resolved, filtered candidates (internal: they hold offsets into ``text`` only)."""
        cands = self.engine.scan(text) if self.engine is not None else []
        if self.names:
            cands.extend(name_candidates(text))
        for finder in self.extra:
            cands.extend(finder(text))
        if self.entities is not None:
            cands = [c for c in cands if c.entity in self.entities]
        if self.min_confidence > 0:
            cands = [c for c in cands if c.confidence >= self.min_confidence]
        return resolve_overlaps(cands)

    def make_finding(
        self,
        text: str,
        cand: Candidate,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        structure: str | None = None,
    ) -> Finding:
        value = text[cand.start : cand.end]
        return Finding(
            entity=cand.entity,
            location=Location(
                cand.start, cand.end, path=path, line=line, column=column, field=field
            ),
            confidence=round(cand.confidence, 3),
            evidence=Evidence(
                recognizer=cand.recognizer,
                validator=cand.validator,
                context=cand.context,
                structure=structure,
                notes=cand.notes,
            ),
            masked=mask(value, cand.entity),
            fingerprint=self.fingerprinter.fingerprint(cand.entity, value),
        )

    def analyze(
        self,
        text: str,
        *,
        path: str | None = None,
        first_line: int = 1,
        field: str | None = None,
    ) -> list[Finding]:
        """Findings in ``text``, in order. ``first_line`` places a chunk inside a larger file."""
        cands = self.candidates(text)
        if not cands:
            return []
        index = LineIndex(text)
        out = []
        for c in cands:
            ln, col = index.line_col(c.start)
            out.append(
                self.make_finding(
                    text, c, path=path, line=ln + first_line - 1, column=col, field=field
                )
            )
        return out
