"""The analysis pipeline: one multi-pattern pass, validators, context scoring, overlap resolution.

All recognizers run in one pass over the text: google-re2 (a single alternation on UTF-8 bytes)
by default, Hyperscan for large texts once a process has scanned enough to amortise compiling
it, Python ``re`` where neither wheel exists (see :func:`default_backend`). Each match is then
validated (checksums, issuing rules), scored with the context words in a window around it, and
overlapping candidates are resolved (highest confidence, then longest, wins). Names come from a
second, dictionary-driven pass over capitalised words (``_names``).
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import hmac
import importlib
import json
import operator
import os
import platform
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phiward.core.entities import EntityType
from phiward.core.fileio import write_atomic
from phiward.core.finding import Evidence, Finding, Location
from phiward.core.fingerprint import Fingerprinter
from phiward.core.masking import mask
from phiward.core.settings import default_home
from phiward.detect import _validators
from phiward.detect._names import find_names
from phiward.detect._recognizers import RECOGNIZERS, Recognizer

try:  # google-re2 is a core dependency, but a platform without its wheel still works with re.
    import re2 as _re2
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    _re2 = None
_hs: Any
try:  # hyperscan (the "fast" extra) speeds up large texts; everything works without it.
    _hs = importlib.import_module("hyperscan")
except ImportError:  # pragma: no cover - exercised only without the extra
    _hs = None

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


_INNER_GROUP = re.compile(r"\(\?P<\w+>")


def _context_regex(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # The lookahead on the words' first characters changes no match (every word starts with
    # one) but lets ``re`` reject most positions at once: 2.3 -> 1.2 us per window.
    if not all(words):  # an empty word matches anywhere: no first character to look for
        return re.compile(rf"(?<![a-z])(?:{alts})(?![a-z])")
    firsts = "".join(re.escape(c) for c in sorted({w[0] for w in words}))
    return re.compile(rf"(?=[{firsts}])(?<![a-z])(?:{alts})(?![a-z])")


# What ``_emit`` does after validation, by entity (one small int compared in the hot loop).
_KIND_OTHER, _KIND_URL, _KIND_PHONE, _KIND_DATE, _KIND_IP, _KIND_SSN, _KIND_ZIP = range(7)
_KINDS = {
    EntityType.URL: _KIND_URL,
    EntityType.PHONE: _KIND_PHONE,
    EntityType.DATE: _KIND_DATE,
    EntityType.IP_ADDRESS: _KIND_IP,
    EntityType.SSN: _KIND_SSN,
    EntityType.ZIP_CODE: _KIND_ZIP,
}
_RESTRICTED_ZIP3 = _validators.RESTRICTED_ZIP3
# One recognizer's precomputed plan, unpacked once per match: the ``match`` of its own ``re``
# pattern (None without named groups), the group numbers of ``v`` and ``zip`` (0: none), the
# ``findall`` of its context-word regex (None: no context words), validator, validator name,
# entity, score, context score, name, kind.
_Plan = tuple[
    Callable[[str, int], "re.Match[str] | None"] | None,
    int,
    int,
    Callable[[str], list[str]] | None,
    Callable[[str], bool] | None,
    str | None,
    EntityType,
    float,
    float,
    str,
    int,
]
_NULL_SPAN = (-1, -1)
# Characters that Python's Unicode ``\s`` takes and re2's does not (see _Which.later).
_ODD_SPACE = re.compile("[\x0b\x1c-\x1f]")
_LATER_MAX = 64 * 1024
try:  # the binding's own Match and its anchor constant (see PatternEngine._re2_match)
    _UNANCHORED: Any = _re2._re2.RE2.Anchor.UNANCHORED
    _ANCHOR_START: Any = _re2._re2.RE2.Anchor.ANCHOR_START
except AttributeError:  # pragma: no cover - no re2, or a binding without these internals
    _UNANCHORED = _ANCHOR_START = None


def default_backend() -> str:
    """``re2`` when google-re2 is importable (one DFA pass for all patterns), else ``re``."""
    return "re" if _re2 is None else "re2"


class PatternEngine:
    """The compiled multi-pattern: ``scan(text)`` returns raw candidates in text order.

    With re2 the alternation is searched without capturing groups (re2's DFA alone) and the
    recognizer that won a match is named by :class:`_Which`; the alternation with one group per
    recognizer is kept as its fallback. The value inside a keyword-led match is then
    extracted by that recognizer's own ``re`` pattern, anchored at the match. A keyword-led match
    (``MRN: 123``) resumes the scan at its value, so other recognizers still see the value;
    overlap resolution then keeps the best reading.
    """

    def __init__(
        self,
        recognizers: Iterable[Recognizer] = RECOGNIZERS,
        backend: str | None = None,
        *,
        hyperscan: bool = True,
    ) -> None:
        self.recognizers = tuple(recognizers)
        self.backend = backend or default_backend()
        self.hyperscan = hyperscan
        if self.backend not in ("re", "re2"):
            raise ValueError(f"unknown regex backend {self.backend!r} (use 're' or 're2')")
        self._plans: list[_Plan] = []
        self._py_match: list[Callable[[str, int], re.Match[str] | None]] = []
        for rec in self.recognizers:
            own = re.compile(rec.pattern)
            self._py_match.append(own.match)
            ctx = _context_regex(rec.context)
            self._plans.append(
                (
                    own.match if own.groupindex else None,
                    own.groupindex.get("v", 0),
                    own.groupindex.get("zip", 0),
                    None if ctx is None else ctx.findall,
                    rec.validator,
                    rec.validator_name,
                    rec.entity,
                    rec.score,
                    rec.context_score,
                    rec.name,
                    _KINDS.get(rec.entity, _KIND_OTHER),
                )
            )
        self._key = tuple(r.pattern for r in self.recognizers)
        self._hs: _Hyperscan | None = None
        if self.backend == "re2":
            if _re2 is None:
                raise ValueError("regex backend 're2' needs the google-re2 package")
            bodies = [_INNER_GROUP.sub("(?:", r.pattern) for r in self.recognizers]
            options = _re2.Options()
            options.max_mem = 256 << 20
            self.pattern_text = "|".join(f"({b})" for b in bodies)
            # Bytes in, bytes out: the binding would re-encode a str on every search() call.
            self._compiled: Any = _re2.compile(self.pattern_text.encode(), options)
            # The binding's own Match: a list of every group's span, without the generator and
            # match object that ``search`` wraps around it (about 40 % of a search() call on an
            # 80-character text).
            self._re2_match: Any = getattr(getattr(self._compiled, "_regexp", None), "Match", None)
            if self._re2_match is None or _UNANCHORED is None:
                self._re2_match = _spans_via_search(self._compiled, len(self.recognizers))
            self._which: _Which | None = _Which.build(
                bodies, options, self._re2_match, [r.pattern for r in self.recognizers]
            )
        else:
            bodies = [_INNER_GROUP.sub("(?:", r.pattern) for r in self.recognizers]
            self.pattern_text = "|".join(f"(?P<r{i}>{b})" for i, b in enumerate(bodies))
            self._compiled = re.compile(self.pattern_text)
        self._by_name = {f"r{i}": i for i in range(len(self.recognizers))}

    def _index(self, m: Any) -> int:
        """Which recognizer (0-based) produced match ``m``."""
        if self.backend == "re":
            return self._by_name[m.lastgroup]
        spans = getattr(m, "_spans", None)
        if spans is not None:  # google-re2's match keeps all group spans; reading them is fast
            for i in range(1, len(spans)):
                if spans[i][0] != -1:
                    return i - 1
        return int(m.lastindex) - 1

    def scan(self, text: str) -> list[Candidate]:
        """Raw candidates (validated, context-scored, not yet overlap-resolved)."""
        global _scanned_chars  # noqa: PLW0603 - a per-process tally deciding when to compile
        if self.backend == "re":
            return self._scan_re(text)
        if self.hyperscan and len(text) >= HYPERSCAN_MIN_CHARS:
            hs = self._hs
            if hs is None:
                hs = _hyperscan_ready(self.recognizers, self._key)
                if hs is None and _scanned_chars >= HYPERSCAN_AFTER_CHARS:
                    hs = _hyperscan_db(self.recognizers)
                self._hs = hs
            if hs is not None:
                return self._scan_hyperscan(text, hs)
            _scanned_chars += len(text)
        return self._scan_re2(text)

    def _scan_re2(self, text: str) -> list[Candidate]:
        """One re2 alternation, searched from each match's end (or its value's start)."""
        out: list[Candidate] = []
        match = self._re2_match
        emit = self._emit
        state = _ScanState(text)
        haystack = text.encode("utf-8", "surrogateescape")
        conv = _Offsets(haystack) if len(haystack) != len(text) else None
        pos = 0
        n = len(haystack)
        which = self._which
        search = match if which is None else which.search
        while pos <= n:
            spans = search(_UNANCHORED, haystack, pos, n)
            whole = spans[0]
            if whole == _NULL_SPAN:
                break
            bms, bme = whole
            # Without the set: the one recognizer group that took part spans the whole match.
            i = spans.index(whole, 1) - 1 if which is None else which.winner(haystack, bms, bme, n)
            if conv is None:
                ms, me = bms, bme
            else:
                ms, me = conv.char(bms), conv.char(bme)
            s, accepted = emit(state, i, ms, me, out)
            if not accepted:
                later = None if which is None else which.later(text, haystack, i, bms)
                self._fallback(state, i, ms, out, later)
            if s > ms:
                # resume at the value: convert back to the haystack's offsets
                pos = (
                    s if conv is None else bms + len(text[ms:s].encode("utf-8", "surrogateescape"))
                )
            else:
                pos = bme if bme > bms else bms + 1
        return out

    def _scan_re(self, text: str) -> list[Candidate]:
        """The same loop over Python ``re`` (no re2 wheel)."""
        out: list[Candidate] = []
        search = self._compiled.search
        state = _ScanState(text)
        pos = 0
        n = len(text)
        while pos <= n:
            m = search(text, pos)
            if m is None:
                break
            i = self._index(m)
            ms, me = m.span()
            s, accepted = self._emit(state, i, ms, me, out)
            if not accepted:
                self._fallback(state, i, ms, out)
            pos = s if s > ms else max(me, ms + 1)
        return out

    def _scan_hyperscan(self, text: str, hs: _Hyperscan) -> list[Candidate]:
        """All recognizers' matches from one hyperscan pass (each pattern reports its own).

        The prefilter pass (no start-of-match tracking: several times faster) says which
        recognizers match anywhere; none, and the text is done; a few, and only their own
        databases run; more (the prefilter stops at the first one too many), and the whole
        database does. Every recognizer's matches are reported independently of the others,
        so the result is the whole database's."""
        data = text.encode("utf-8", "surrogateescape")
        present = hs.present(data)
        if present is not None and not present:
            return []
        # The longest end per (start, recognizer), keyed by one int that sorts as the pair
        # would: a tuple key costs a tuple built and hashed for each of the many events.
        best: dict[int, int] = {}
        get = best.get
        width = len(self.recognizers)

        def on_match(i: int, start: int, end: int, flags: int, ctx: object) -> None:
            key = start * width + i
            if get(key, -1) < end:
                best[key] = end

        som = None if present is None else [i for i in sorted(present) if i in hs.single]
        if som is not None and len(som) <= _FEW_RECOGNIZERS:
            for i in som:
                hs.single[i].scan(data, match_event_handler=on_match, scratch=hs.scratch(i))
        else:
            hs.db.scan(data, match_event_handler=on_match, scratch=hs.scratch(_WHOLE))
        out: list[Candidate] = []
        state = _ScanState(text)
        conv = _Offsets(data) if len(data) != len(text) else None
        emit = self._emit
        for key, be in sorted(best.items()):
            bs, i = divmod(key, width)
            if conv is None:
                emit(state, i, bs, be, out)
            else:
                emit(state, i, conv.char(bs), conv.char(be), out)
        if hs.rest is not None:  # recognizers hyperscan could not compile
            if present is None or not present.isdisjoint(hs.rest_ids):
                out.extend(hs.rest.scan(text))
            out.sort(key=_START)
        return out

    def _emit(
        self, state: _ScanState, i: int, ms: int, me: int, out: list[Candidate]
    ) -> tuple[int, bool]:
        """Validate and score recognizer ``i``'s match at ``[ms, me)``; returns the value start
        and whether the validator accepted it."""
        text = state.text
        (own, vg, zg, ctx_findall, validator, vname, entity, score, cscore, name, kind) = (
            self._plans[i]
        )
        s, e = ms, me
        zip_span: tuple[int, int] | None = None
        if own is not None:
            pm = own(text, ms)
            if pm is not None:
                if vg:
                    vspan = pm.span(vg)
                    if vspan[0] != -1:
                        s, e = vspan
                if zg:
                    zspan = pm.span(zg)
                    if zspan[0] != -1:
                        zip_span = zspan
        value = text[s:e]
        if kind == _KIND_URL:
            stripped = value.rstrip(".,;:!?")
            e -= len(value) - len(stripped)
            value = stripped
        if validator is not None and not validator(value):
            return s, False
        ctx: tuple[str, ...] = ()
        if ctx_findall is not None:
            words = ctx_findall(state.lower[max(0, ms - CONTEXT_BEFORE) : e + CONTEXT_AFTER])
            if words:
                ctx = tuple(dict.fromkeys(words))
        conf = cscore if ctx else score
        notes: tuple[str, ...] = ()
        if kind:
            if kind == _KIND_PHONE:
                lower, w = state.lower, max(0, s - 24)
                # "fax" or "facsimile" in the window: a cheap necessary condition for _FAX
                if ("fax" in (win := lower[w:s]) or "facsimile" in win) and _FAX.search(
                    lower, w, s
                ):
                    entity = EntityType.FAX
                if value.isdigit() and not ctx:
                    conf = 0.35  # a bare ten-digit run is as likely an id as a phone
            elif kind == _KIND_DATE:
                if not ctx and _TIME_AFTER.match(text, e) and (s == 0 or text[s - 1] in "\n["):
                    conf = 0.35  # a log line's timestamp: a system event, not a date about a person
                    notes = ("timestamp",)
            elif kind == _KIND_IP:
                if _VERSION_BEFORE.search(state.lower[max(0, s - 12) : s]):
                    conf = 0.3  # "version 3.10.4.1" is a version number, not an address
                    notes = ("version-like",)
            elif kind == _KIND_SSN:
                if " " in value and not ctx:
                    conf = 0.45
            elif kind == _KIND_ZIP and value[:3] in _RESTRICTED_ZIP3:
                notes = ("restricted-zip3",)
        out.append(Candidate(entity, s, e, conf, name, vname, ctx, notes))
        if zip_span is not None:
            zs, ze = zip_span
            znotes = ("restricted-zip3",) if text[zs : zs + 3] in _RESTRICTED_ZIP3 else ()
            out.append(
                Candidate(EntityType.ZIP_CODE, zs, ze, 0.9, "city_state_zip", None, (), znotes)
            )
        return s, True

    def _fallback(
        self,
        state: _ScanState,
        i: int,
        ms: int,
        out: list[Candidate],
        later: Iterable[int] | None = None,
    ) -> None:
        """The alternation gave position ``ms`` to recognizer ``i`` and its validator said no:
        let the later recognizers try the same position (``082 490 1693 office`` is not NANP,
        but is a phone by its label). ``later``: the later recognizers that can match there
        (see :meth:`_Which.later`), when known; the others' patterns need not be tried."""
        for k in range(i + 1, len(self._py_match)) if later is None else later:
            pm = self._py_match[k](state.text, ms)
            if pm is not None and self._emit(state, k, ms, pm.end(), out)[1]:
                return


_START = operator.attrgetter("start")


class _Which:
    """Which recognizer won a match of the alternation, without capturing groups.

    With one group per recognizer, re2 finds the match with its DFA and then runs a submatch
    engine over the whole program to say which group took part: about 20 us a match, against
    under 2 us for the DFA alone. So the alternation is searched without groups, and the winner
    (the first recognizer matching at the match's start: leftmost-first) comes from an anchored
    ``RE2::Set`` over the match and one byte on either side (the context its ``\\b``, ``^`` and
    ``$`` see), each candidate then confirmed, in recognizer order, by its own pattern anchored
    in the whole text. The set may name a recognizer that only matches in the cut-out (an
    assertion at its edge), never miss the winner; an empty answer (the DFA out of memory)
    falls back to the grouped match."""

    __slots__ = ("_always", "_grouped", "_mid", "_one", "_own", "_start", "search")

    def __init__(
        self,
        search: Any,
        grouped: Any,
        mid: Any,
        start: Any,
        own: list[Any],
        *,
        always: frozenset[int] = frozenset(),
    ) -> None:
        self.search = search
        self._always = always  # see later()
        self._grouped = grouped
        self._mid = mid
        self._start = start
        self._own = own
        self._one = len(own) == 1  # one recognizer (the hyperscan rest): it won

    @classmethod
    def build(
        cls, bodies: list[str], options: Any, grouped: Any, patterns: list[str]
    ) -> _Which | None:
        """``None`` where the binding lacks ``Set``, ``Match`` or the anchor constants."""
        try:
            raw = _re2._re2
            anchor = raw.RE2.Anchor.ANCHOR_START
            plain = [f"(?:{b})".encode() for b in bodies]
            search = _re2.compile(b"|".join(plain), options)._regexp.Match
            own = [_re2.compile(p, options)._regexp.Match for p in plain]
            mid, start = raw.Set(anchor, options), raw.Set(anchor, options)
            for p in plain:
                if mid.Add(rb"\C" + p) < 0 or start.Add(p) < 0:
                    return None
            if not (mid.Compile() and start.Compile()):
                return None
        except (AttributeError, TypeError, _re2.error):  # pragma: no cover - other bindings
            return None
        always = frozenset(k for k, p in enumerate(patterns) if _re2_may_miss(p))
        return cls(search, grouped, mid.Match, start.Match, own, always=always)

    def later(self, text: str, haystack: bytes, i: int, ms: int) -> list[int] | None:
        """The recognizers after ``i`` whose pattern matches at byte ``ms``, in order, from one
        anchored set run over the rest of the text; ``None`` when that answer might miss one
        that Python ``re`` (which the fallback uses) matches there.

        Python ``re`` and re2 read a recognizer alike on ASCII text without the vertical tab
        and the separators ``\\x1c``-``\\x1f`` (whitespace to Python's ``\\s``, not to re2's);
        elsewhere Unicode digits, letters and spaces differ, so ``None``. A recognizer that may
        still differ (see :func:`_re2_may_miss`) is named whatever the set says. Recognizer ``i``
        itself matched there: an answer without it (the set's DFA out of memory) is ``None``
        too. A long text (over 64 KiB) is neither checked nor copied: ``None``."""
        if len(haystack) > _LATER_MAX or not text.isascii() or _ODD_SPACE.search(text):
            return None
        found = self._mid(haystack[ms - 1 :]) if ms else self._start(haystack)
        if i not in found:
            return None
        return sorted({k for k in found if k > i} | {k for k in self._always if k > i})

    def winner(self, haystack: bytes, ms: int, me: int, n: int) -> int:
        """The index of the recognizer whose match at byte ``ms`` (ending at ``me``) won."""
        if self._one:
            return 0
        found = self._mid(haystack[ms - 1 : me + 1]) if ms else self._start(haystack[: me + 1])
        if found:
            found.sort()
            own = self._own
            for i in found:
                if own[i](_ANCHOR_START, haystack, ms, n)[0] != _NULL_SPAN:
                    return int(i)
        spans = self._grouped(_ANCHOR_START, haystack, ms, n)
        return int(spans.index(spans[0], 1)) - 1


def _re2_may_miss(pattern: str) -> bool:
    """Whether re2 might not match, on ASCII text, where Python ``re`` matches this pattern:
    a non-ASCII character under ``(?i`` (Python folds ``ı`` and ``İ`` to ``i``, ``ſ`` to ``s``,
    ``K`` to ``k``; re2 folds some of them only), or a ``$`` (Python's also matches before a
    final newline). A textual test, so it may flag a pattern that cannot differ."""
    return ("(?i" in pattern and not pattern.isascii()) or "$" in pattern


def _spans_via_search(compiled: Any, groups: int) -> Callable[[Any, bytes, int, int], list[Any]]:
    """The binding's ``Match`` (every group's span) through the public ``search()``, for a
    google-re2 release without the internals the fast path uses."""
    search = compiled.search

    def match(anchor: Any, haystack: bytes, pos: int, endpos: int) -> list[Any]:
        m = search(haystack, pos, endpos)
        return [_NULL_SPAN] if m is None else [m.span(g) for g in range(groups + 1)]

    return match


class _ScanState:
    """Per-text values computed once (the lower-cased text for context windows)."""

    __slots__ = ("_lower", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._lower: str | None = None

    @property
    def lower(self) -> str:
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower


# Hyperscan is faster per text from about 2 KiB, but compiling its database costs one to four
# seconds: a process compiles it only after scanning HYPERSCAN_AFTER_CHARS with re2, so small
# scans (a pre-commit hook, a folder of notes) never pay the compile and large ones (logs,
# exports) amortise it. The compiled database is then kept in PHIWARD_HOME's cache (serialized,
# checksummed, 0600), so later processes load it in about a millisecond and use it at once.
HYPERSCAN_MIN_CHARS = 2 * 1024
HYPERSCAN_AFTER_CHARS = 16 * 1024 * 1024
_scanned_chars = 0
_CACHE_MAGIC = b"PWHS2\n"
# When the prefilter finds this many recognizers or fewer, their own databases run instead of
# the whole one (an expensive pattern alone costs about a fifth of the whole database).
_FEW_RECOGNIZERS = 4
_WHOLE, _PREFILTER = -1, -2  # scratch keys of the whole and the prefilter database


class _Hyperscan:
    """The compiled databases, the recognizers hyperscan could not take (run by re2 instead),
    and one scratch space per thread and database (a scratch cannot be shared by concurrent
    scans, nor, in this binding, by two databases).

    ``db`` holds every recognizer with start-of-match tracking; ``single`` each of them alone;
    ``prefilter`` every recognizer (``rest`` too) without start-of-match tracking, reporting
    each recognizer's first match only, so a pass tells which recognizers match anywhere at a
    fraction of the cost. ``always`` are recognizers the prefilter could not take: present
    whatever it says."""

    def __init__(
        self,
        db: Any,
        rest: PatternEngine | None,
        *,
        rest_ids: Iterable[int] = (),
        prefilter: Any = None,
        always: Iterable[int] = (),
        single: dict[int, Any] | None = None,
    ) -> None:
        self.db = db
        self.rest = rest
        self.rest_ids = frozenset(rest_ids)
        self.prefilter = prefilter
        self.always = frozenset(always)
        self.single = single or {}
        self._local = threading.local()

    def scratch(self, part: int = _WHOLE) -> Any:
        scratches: dict[int, Any] | None = getattr(self._local, "scratches", None)
        if scratches is None:
            scratches = self._local.scratches = {}
        scratch = scratches.get(part)
        if scratch is None:
            db = (
                self.db if part == _WHOLE else self.prefilter if part == _PREFILTER
                else self.single[part]
            )  # fmt: skip
            scratch = scratches[part] = _hs.Scratch(db)
        return scratch

    def present(self, data: bytes) -> set[int] | None:
        """The recognizers with a match somewhere in ``data``; ``None`` without a prefilter,
        or when more than ``_FEW_RECOGNIZERS`` match (the whole database and the re2 rest run
        then anyway: PHI-dense text stops the prefilter within its first few hundred bytes)."""
        if self.prefilter is None:
            return None
        found = set(self.always)
        add = found.add
        limit = _FEW_RECOGNIZERS + len(found)

        def on_match(i: int, start: int, end: int, flags: int, ctx: object) -> bool:
            add(i)
            return len(found) > limit  # True stops the scan

        try:
            self.prefilter.scan(
                data, match_event_handler=on_match, scratch=self.scratch(_PREFILTER)
            )
        except _hs.ScanTerminated:
            return None
        return found


_HS_CACHE: dict[tuple[str, ...], _Hyperscan | None] = {}
_HS_LOCK = threading.Lock()
_FLAGS_VERSION = "som-leftmost+prefilter-singlematch+singles+supersets"
# Cheaper stand-ins for the prefilter pass, by the recognizer's exact pattern: each matches
# wherever the pattern does (a superset), and the prefilter only decides which databases run,
# which then find the exact matches. An e-mail address holds a local-part character, "@" and a
# domain character; the whole pattern's leading ``\b[...]+`` costs a third of the prefilter pass
# on prose.
_PREFILTER_SUPERSETS = {
    r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b": (
        r"[A-Za-z0-9._%+-]@[A-Za-z0-9-]"
    ),
}
_CACHE_NAMES: dict[tuple[str, ...], str] = {}


def _cache_file(key: tuple[str, ...]) -> Path | None:
    """Where this pattern set's compiled database is cached (``PHIWARD_HYPERSCAN_CACHE=0``
    turns the disk cache off). The name hashes everything the database depends on."""
    if _hs is None or os.environ.get("PHIWARD_HYPERSCAN_CACHE", "1") == "0":
        return None
    name = _CACHE_NAMES.get(key)
    if name is None:  # hashing the patterns costs ~15 us: once per pattern set and process
        digest = hashlib.sha256()
        for part in (_hs.__version__, platform.machine(), _FLAGS_VERSION, *key):
            digest.update(part.encode() + b"\0")
        name = _CACHE_NAMES[key] = f"hyperscan-{digest.hexdigest()[:40]}.db"
    return default_home() / "cache" / name


def _load_cached(recognizers: tuple[Recognizer, ...], path: Path) -> _Hyperscan | None:
    """The cached databases, or ``None`` when absent, corrupt or built for another CPU."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(_CACHE_MAGIC)
    body = blob[head + 32 :]
    if blob[:head] != _CACHE_MAGIC or not hmac.compare_digest(
        hashlib.sha256(body).digest(), blob[head : head + 32]
    ):
        return None
    try:
        meta_len = int.from_bytes(body[:4], "big")
        meta = json.loads(body[4 : 4 + meta_len])
        rejected = [i for i in meta["rejected"] if 0 <= i < len(recognizers)]
        pos = 4 + meta_len
        dbs: dict[str, Any] = {}
        for name, size in meta["parts"]:
            dbs[name] = _hs.loadb(body[pos : pos + size], _hs.HS_MODE_BLOCK)
            pos += size
        db = dbs.pop("whole")
        prefilter = dbs.pop("prefilter", None)
        single = {int(name.removeprefix("single:")): part for name, part in dbs.items()}
        for part in (db, prefilter):  # fails here, not mid-scan, on another platform's database
            if part is not None:
                _hs.Scratch(part)
    except Exception:  # hyperscan.error, bad JSON, missing parts: recompile instead
        return None
    rest_recs = [recognizers[i] for i in rejected]
    rest = PatternEngine(rest_recs, backend="re2", hyperscan=False) if rest_recs else None
    return _Hyperscan(
        db,
        rest,
        rest_ids=rejected,
        prefilter=prefilter,
        always=meta.get("always", ()),
        single=single,
    )


def _store_cached(path: Path, hs: _Hyperscan) -> None:
    """Write the databases atomically (temp file, fsync, rename); a failure only costs speed."""
    parts = [("whole", hs.db)]
    if hs.prefilter is not None:
        parts.append(("prefilter", hs.prefilter))
    parts += [(f"single:{i}", part) for i, part in sorted(hs.single.items())]
    blobs = [bytes(_hs.dumpb(part)) for _, part in parts]
    meta = json.dumps(
        {
            "rejected": sorted(hs.rest_ids),
            "always": sorted(hs.always),
            "parts": [[name, len(b)] for (name, _), b in zip(parts, blobs, strict=True)],
        }
    ).encode()
    body = len(meta).to_bytes(4, "big") + meta + b"".join(blobs)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, _CACHE_MAGIC + hashlib.sha256(body).digest() + body, 0o600)
    except OSError:
        return


def _hyperscan_ready(
    recognizers: tuple[Recognizer, ...], key: tuple[str, ...] | None = None
) -> _Hyperscan | None:
    """The database if this process has it or can load it from the cache, without compiling."""
    if key is None:
        key = tuple(r.pattern for r in recognizers)
    if key in _HS_CACHE:
        return _HS_CACHE[key]
    path = _cache_file(key)
    if path is None or not path.exists():
        return None
    with _HS_LOCK:
        if key not in _HS_CACHE:
            loaded = _load_cached(recognizers, path)
            if loaded is None:
                return None
            _HS_CACHE[key] = loaded
        return _HS_CACHE[key]


def _compile(exprs: list[bytes], ids: list[int], flags: int) -> Any:
    db = _hs.Database()
    db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=[flags] * len(ids))
    return db


def _compiles(expr: bytes, flags: int) -> bool:
    try:
        _compile([expr], [0], flags)
    except Exception:  # hyperscan.error
        return False
    return True


def _compile_prefilter(exprs: list[bytes]) -> tuple[Any, list[int]]:
    """Every recognizer's first match, without start-of-match tracking; a pattern hyperscan
    refuses even so is compiled in its prefilter form (a superset of its matches), and one it
    refuses in that form too is returned as "always present"."""
    flags = _hs.HS_FLAG_SINGLEMATCH
    with contextlib.suppress(Exception):  # hyperscan.error: find which pattern, below
        return _compile(exprs, list(range(len(exprs))), flags), []
    kept: list[tuple[bytes, int, int]] = []
    always: list[int] = []
    for i, expr in enumerate(exprs):
        f = next((f for f in (flags, flags | _hs.HS_FLAG_PREFILTER) if _compiles(expr, f)), None)
        if f is None:
            always.append(i)
        else:
            kept.append((expr, i, f))
    db = _hs.Database()
    db.compile(
        expressions=[k[0] for k in kept],
        ids=[k[1] for k in kept],
        elements=len(kept),
        flags=[k[2] for k in kept],
    )
    return db, always


def _hyperscan_db(recognizers: tuple[Recognizer, ...]) -> _Hyperscan | None:
    """A hyperscan database for these recognizers (compiled once, then cached in memory and on
    disk), or ``None`` when hyperscan is not installed (the ``fast`` extra) or refuses the
    patterns."""
    ready = _hyperscan_ready(recognizers)
    if ready is not None:
        return ready
    key = tuple(r.pattern for r in recognizers)
    with _HS_LOCK:
        if key in _HS_CACHE:
            return _HS_CACHE[key]
        result: _Hyperscan | None = None
        if _hs is not None:
            ids, exprs, rejected = [], [], []
            single: dict[int, Any] = {}
            all_exprs = [_INNER_GROUP.sub("(?:", rec.pattern).encode() for rec in recognizers]
            flags = _hs.HS_FLAG_SOM_LEFTMOST
            for i, expr in enumerate(all_exprs):
                try:
                    single[i] = _compile([expr], [i], flags)
                except Exception:  # hyperscan.error: "Pattern is too large", unsupported syntax
                    rejected.append(i)
                    continue
                ids.append(i)
                exprs.append(expr)
            try:
                db = _compile(exprs, ids, flags)
                rest_recs = [recognizers[i] for i in rejected]
                rest = (
                    PatternEngine(rest_recs, backend="re2", hyperscan=False) if rest_recs else None
                )
                try:
                    prefilter, always = _compile_prefilter(
                        [
                            _PREFILTER_SUPERSETS[rec.pattern].encode()
                            if rec.pattern in _PREFILTER_SUPERSETS
                            else expr
                            for rec, expr in zip(recognizers, all_exprs, strict=True)
                        ]
                    )
                except Exception:  # no prefilter: every scan runs the whole database
                    prefilter, always = None, []
                result = _Hyperscan(
                    db, rest, rest_ids=rejected, prefilter=prefilter, always=always, single=single
                )
            except Exception:
                result = None
            path = _cache_file(key)
            if result is not None and path is not None:
                _store_cached(path, result)
        _HS_CACHE[key] = result
        return result


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


def _rank(c: Candidate) -> tuple[float, int, int]:
    return (-c.confidence, c.start - c.end, c.start)


_END = operator.attrgetter("end")


def _pick(cluster: list[Candidate]) -> list[Candidate]:
    if len(cluster) == 2:  # the usual cluster: two readings of one span
        a, b = cluster
        if a.start < b.end and b.start < a.end:
            return [a if _rank(a) <= _rank(b) else b]
    ranked = sorted(cluster, key=_rank)
    kept: list[Candidate] = []
    for c in ranked:
        cs, ce = c.start, c.end
        for k in kept:
            if cs < k.end and k.start < ce:
                break
        else:
            kept.append(c)
    kept.sort(key=_START)
    return kept


def resolve_overlaps(cands: list[Candidate]) -> list[Candidate]:
    """Keep the best of overlapping candidates: higher confidence, then longer, then earlier.

    Candidates are swept in start order and grouped into clusters of transitively overlapping
    spans; only a cluster (usually one or two candidates) is ranked, so this is O(n log n).
    """
    if len(cands) < 2:
        return list(cands)
    # start ascending, then end descending, ties in input order: two stable C-keyed sorts
    ordered = sorted(cands, key=_END, reverse=True)
    ordered.sort(key=_START)
    out: list[Candidate] = []
    first = ordered[0]
    cluster = [first]
    reach = first.end
    for c in ordered[1:]:
        if c.start < reach:
            cluster.append(c)
            reach = max(reach, c.end)
            continue
        if len(cluster) == 1:
            out.append(cluster[0])
        else:
            out.extend(_pick(cluster))
        cluster = [c]
        reach = c.end
    if len(cluster) == 1:
        out.append(cluster[0])
    else:
        out.extend(_pick(cluster))
    return out


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


def name_candidates(text: str, floor: float = 0.0) -> list[Candidate]:
    """The names pass's hits as candidates; hits below ``floor`` are left out (the Analyzer
    drops them before resolving overlaps anyway)."""
    return [
        Candidate(EntityType.NAME, h.start, h.end, h.confidence, f"name:{h.rule}", None, h.context)
        for h in find_names(text, floor=floor)
        if h.confidence >= floor
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
            cands.extend(name_candidates(text, self.min_confidence))
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
