"""The engine's fast paths give exactly what the general paths give.

- the hyperscan prefilter (which recognizers match anywhere) never drops a recognizer whose
  pattern matches, and skipping, or running a few recognizers' own databases, changes nothing;
- the re2 loop that calls the binding's ``Match`` directly equals the loop over ``search()``;
- the group-free re2 search and its anchored set name the match and recognizer that the
  alternation with one capturing group per recognizer names;
- overlap resolution equals the straightforward ranking it replaced.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import phiward.detect._engine as engine
from phiward.core.fingerprint import Fingerprinter
from phiward.detect import Analyzer, Candidate, PatternEngine, resolve_overlaps
from phiward.detect._recognizers import RECOGNIZERS

# Pieces that each trip one recognizer or another, and filler between them.
FRAGMENTS = [
    "SSN 219-45-6789",
    "219 45 6789",
    "social security 219456789",
    "MRN: 1234567",
    "DOB 03/04/1961",
    "1961-03-04",
    "March 3rd, 1961",
    "Mar 3",
    "phone (617) 253-1000",
    "082 490 1693 office",
    "+44 20 7946 0958",
    "fax 617.253.1000",
    "jane.doe@example.org",
    "https://x.example.org/a.",
    "www.example.com",
    "ip 10.1.2.3",
    "version 3.10.4.1",
    "fe80::1",
    "VIN 1HGCM82633A004352",
    "DEA AB1234563",
    "NPI 1234567893",
    "card 4111 1111 1111 1111",
    "Member ID: XK-4411-22",
    "Acct # 4455-XY",
    "serial number SN-88231-A",
    "S/N (01)00643169007222",
    "Driver's license D1234567",
    "plate # 7ABC123",
    "Patient ID 884422",
    "93-year-old",
    "age: 101",
    "1600 Pennsylvania Avenue, Apt 4",
    "Koskikatu 25",
    "via Roma 12",
    "PSC 1234, Box 5678, APO AE 09012",
    "Suite 501",
    "P.O. Box 42",
    "Boston, MA 02115",
    "lives in Springfield",
    "Suffolk County",
    "zip: 03601",
    "02115-1234",
    "Müller café ☃",
    "\n2023-03-04 10:22:01 login\n",
]
FILLER = [
    "Patient tolerated the procedure well. ",
    "No acute distress; lungs clear. ",
    "Plan: continue current medications. ",
    "\n",
    " ",
]

texts = st.lists(st.sampled_from(FRAGMENTS + FILLER), min_size=0, max_size=12).map(" ".join)


def _key(cands: list[Candidate]) -> list[tuple[Any, ...]]:
    return [
        (c.entity, c.start, c.end, c.confidence, c.recognizer, c.validator, c.context, c.notes)
        for c in cands
    ]


def _padded(text: str) -> str:
    """Long enough for the hyperscan path: ``text`` inside narrative without identifiers."""
    pad = "Plain narrative without identifiers follows here. " * (
        engine.HYPERSCAN_MIN_CHARS // 50 + 1
    )
    return pad + "\n" + text + "\n" + pad


@pytest.fixture
def hs() -> Any:
    pytest.importorskip("hyperscan")
    db = engine._hyperscan_db(tuple(RECOGNIZERS))
    assert db is not None
    assert db.prefilter is not None
    return db


def _whole_only(hs: Any) -> Any:
    """The same databases without the prefilter: every scan runs the whole database."""
    return engine._Hyperscan(hs.db, hs.rest, rest_ids=hs.rest_ids, single=hs.single)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts)
def test_prefilter_never_drops_a_recognizer_that_matches(
    hs: Any, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _padded(text).encode("utf-8", "surrogateescape")
    matched: set[int] = set()

    def on_match(i: int, start: int, end: int, flags: int, ctx: object) -> None:
        matched.add(i)

    hs.db.scan(data, match_event_handler=on_match, scratch=hs.scratch())
    monkeypatch.setattr(engine, "_FEW_RECOGNIZERS", 1000)  # never stop early here
    present = hs.present(data)
    assert present is not None
    assert matched <= present
    rest = PatternEngine([RECOGNIZERS[i] for i in hs.rest_ids], hyperscan=False)
    if rest.scan(_padded(text)):
        assert present & hs.rest_ids  # the re2-only recognizers are looked for when they match


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts, few=st.sampled_from([0, 1, 4, 100]))
def test_prefilter_and_own_databases_change_no_candidate(
    hs: Any, text: str, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    eng = PatternEngine()
    long_text = _padded(text)
    reference = _key(eng._scan_hyperscan(long_text, _whole_only(hs)))
    monkeypatch.setattr(engine, "_FEW_RECOGNIZERS", few)  # 0: always the whole database
    assert _key(eng._scan_hyperscan(long_text, hs)) == reference


def test_prefilter_stops_early_on_dense_text(hs: Any) -> None:
    """More than a few recognizers: the prefilter stops, and the whole database runs."""
    dense = _padded(" ".join(FRAGMENTS)).encode()
    assert hs.present(dense) is None
    assert hs.present(_padded("SSN 219-45-6789").encode()) is not None


def test_text_without_matches_skips_every_database(hs: Any) -> None:
    eng = PatternEngine()
    text = _padded("")
    assert hs.present(text.encode()) == set(hs.always)
    assert eng._scan_hyperscan(text, hs) == []


def _search_loop(eng: PatternEngine, text: str) -> list[Candidate]:
    """The re2 loop over the library's ``search()`` (the general path before the direct call)."""
    out: list[Candidate] = []
    state = engine._ScanState(text)
    haystack = text.encode("utf-8", "surrogateescape")
    conv = engine._Offsets(haystack) if len(haystack) != len(text) else None
    pos = 0
    while pos <= len(haystack):
        m = eng._compiled.search(haystack, pos)
        if m is None:
            break
        i = eng._index(m)
        bms, bme = m.span()
        ms, me = (bms, bme) if conv is None else (conv.char(bms), conv.char(bme))
        s, accepted = eng._emit(state, i, ms, me, out)
        if not accepted:
            eng._fallback(state, i, ms, out)
        if s > ms:
            pos = s if conv is None else bms + len(text[ms:s].encode("utf-8", "surrogateescape"))
        else:
            pos = max(bme, bms + 1)
    return out


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_direct_re2_match_equals_the_search_loop(text: str) -> None:
    pytest.importorskip("re2")
    eng = PatternEngine(backend="re2", hyperscan=False)
    assert _key(eng.scan(text)) == _key(_search_loop(eng, text))


def _grouped_winners(eng: PatternEngine, haystack: bytes) -> list[tuple[Any, int]]:
    """Every match of the alternation with its recognizer, read from the capturing groups."""
    out: list[tuple[Any, int]] = []
    pos, n = 0, len(haystack)
    while pos <= n:
        spans = eng._re2_match(engine._UNANCHORED, haystack, pos, n)
        whole = spans[0]
        if whole == engine._NULL_SPAN:
            break
        out.append((whole, spans.index(whole, 1) - 1))
        pos = whole[1] if whole[1] > whole[0] else whole[0] + 1
    return out


def _set_winners(which: Any, haystack: bytes) -> list[tuple[Any, int]]:
    out: list[tuple[Any, int]] = []
    pos, n = 0, len(haystack)
    while pos <= n:
        whole = which.search(engine._UNANCHORED, haystack, pos, n)[0]
        if whole == engine._NULL_SPAN:
            break
        out.append((whole, which.winner(haystack, whole[0], whole[1], n)))
        pos = whole[1] if whole[1] > whole[0] else whole[0] + 1
    return out


_edgy = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS + FILLER),
        st.text(
            alphabet="0123456789-:/#()., \nAaBbSsKk\u212a\u017f\u00e9\u0142_@\udc80\udcff",
            max_size=12,
        ),
        st.text(max_size=8),
    ),
    max_size=10,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=_edgy, case=st.sampled_from([str, str.upper, str.lower, str.title, str.swapcase]))
def test_set_winner_equals_the_capturing_groups(text: str, case: Any) -> None:
    """The group-free search and the anchored set name the same match and recognizer as the
    alternation with one group per recognizer, at every match (fragments glued to each other
    with no space between: the set's one byte of context on either side matters)."""
    pytest.importorskip("re2")
    eng = PatternEngine(backend="re2", hyperscan=False)
    assert eng._which is not None
    haystack = case(text).encode("utf-8", "surrogateescape")
    assert _set_winners(eng._which, haystack) == _grouped_winners(eng, haystack)


_ascii_edgy = st.tuples(
    st.lists(
        st.one_of(
            st.sampled_from([f for f in FRAGMENTS if f.isascii()] + FILLER),
            st.text(alphabet="0123456789-:/#()., \nAaBbSsKkxX_@\t\r\f", max_size=12),
        ),
        max_size=10,
    ).map("".join),
    st.sampled_from(["", "", "", "\x0b", "\x1c", "\x1f", "\u00e9"]),
).map(lambda parts: parts[1].join(parts[0].rsplit(" ", 1)) if parts[1] else parts[0])


@settings(max_examples=300, deadline=None)
@given(text=_ascii_edgy, case=st.sampled_from([str, str.upper, str.lower]))
def test_later_recognizers_are_those_python_re_matches(text: str, case: Any) -> None:
    """Where the set's answer is used, the later recognizers it names at a match's start are
    exactly those whose Python ``re`` pattern (what the fallback runs) matches there."""
    pytest.importorskip("re2")
    eng = PatternEngine(backend="re2", hyperscan=False)
    which = eng._which
    assert which is not None
    text = case(text)
    haystack = text.encode("utf-8", "surrogateescape")
    for (ms, _), i in _set_winners(which, haystack):
        later = which.later(text, haystack, i, ms)
        if later is None:
            assert not text.isascii() or any(c in text for c in "\x0b\x1c\x1f")
            continue
        py = [k for k in range(i + 1, len(eng._py_match)) if eng._py_match[k](text, ms)]
        assert later == sorted(set(py) | {k for k in which._always if k > i})


def test_later_recognizers_on_every_fragment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fragment alone and all glued together: the set's later recognizers are Python's,
    some positions have one, and the scan finds the same with the fallback trying all."""
    pytest.importorskip("re2")
    eng = PatternEngine(backend="re2", hyperscan=False)
    which = eng._which
    assert which is not None
    texts = [f for f in FRAGMENTS if f.isascii()]
    texts += ["".join(texts), " ".join(texts)]
    several = 0  # positions where a later recognizer matches too
    for text in texts:
        haystack = text.encode()
        for (ms, _), i in _set_winners(which, haystack):
            later = which.later(text, haystack, i, ms)
            assert later is not None
            py = [k for k in range(i + 1, len(eng._py_match)) if eng._py_match[k](text, ms)]
            assert later == sorted(set(py) | {k for k in which._always if k > i})
            several += bool(py)
    assert several
    found = [_key(eng.scan(t)) for t in texts]
    monkeypatch.setattr(engine._Which, "later", lambda *args: None)
    assert [_key(eng.scan(t)) for t in texts] == found


def test_later_keeps_recognizers_re2_may_read_differently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On ASCII text Python ``re`` still matches ``(?i)ı`` to ``i`` and ``$`` before a final
    newline, where re2 does not: such recognizers are tried after a rejected value anyway."""
    pytest.importorskip("re2")
    from phiward.core.entities import EntityType as E
    from phiward.detect._recognizers import Recognizer

    recs = [
        Recognizer("never", E.OTHER_ID, r"\b\d{3}", 0.9, 0.9, (), lambda v: False, "never"),
        Recognizer("dotless", E.OTHER_ID, r"\b\d{3}(?i:ı)", 0.9, 0.9),
        Recognizer("at_end", E.OTHER_ID, r"\b\d{3}$", 0.9, 0.9),
    ]
    eng = PatternEngine(recs, backend="re2", hyperscan=False)
    assert eng._which is not None
    assert eng._which._always == {1, 2}
    texts = ["id 123i", "id 123I.", "id 123\n", "id 123 x"]
    found = [_key(eng.scan(t)) for t in texts]
    assert [[c[4] for c in f] for f in found] == [["dotless"], ["dotless"], ["at_end"], []]
    monkeypatch.setattr(engine._Which, "later", lambda *args: None)
    assert [_key(eng.scan(t)) for t in texts] == found


def test_an_empty_set_answer_falls_back_to_the_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("re2")
    eng = PatternEngine(backend="re2", hyperscan=False)
    assert eng._which is not None
    monkeypatch.setattr(eng._which, "_mid", lambda data: [])
    monkeypatch.setattr(eng._which, "_start", lambda data: [])
    haystack = " ".join(FRAGMENTS).encode()
    assert _set_winners(eng._which, haystack) == _grouped_winners(eng, haystack)


def _reference_resolve(cands: list[Candidate]) -> list[Candidate]:
    """Overlap resolution as first written: lambdas, every cluster ranked by a full sort."""
    if len(cands) < 2:
        return list(cands)
    ordered = sorted(cands, key=lambda c: (c.start, -c.end))
    out: list[Candidate] = []

    def pick(cluster: list[Candidate]) -> list[Candidate]:
        ranked = sorted(cluster, key=lambda c: (-c.confidence, -(c.end - c.start), c.start))
        kept: list[Candidate] = []
        for c in ranked:
            if all(c.end <= k.start or k.end <= c.start for k in kept):
                kept.append(c)
        return sorted(kept, key=lambda c: c.start)

    cluster = [ordered[0]]
    reach = ordered[0].end
    for c in ordered[1:]:
        if c.start < reach:
            cluster.append(c)
            reach = max(reach, c.end)
            continue
        out.extend(cluster if len(cluster) == 1 else pick(cluster))
        cluster = [c]
        reach = c.end
    out.extend(cluster if len(cluster) == 1 else pick(cluster))
    return out


spans = st.tuples(
    st.integers(0, 40), st.integers(0, 12), st.sampled_from([0.3, 0.5, 0.6, 0.85, 0.9])
)


@given(st.lists(spans, max_size=30))
def test_overlap_resolution_equals_the_reference(raw: list[tuple[int, int, float]]) -> None:
    from phiward.core.entities import EntityType as E

    cands = [
        Candidate(E.DATE, s, s + n, conf, f"r{k}") for k, (s, n, conf) in enumerate(raw)
    ]  # ties in span and confidence are kept apart by the recognizer name
    got = [(c.start, c.end, c.recognizer) for c in resolve_overlaps(cands)]
    assert got == [(c.start, c.end, c.recognizer) for c in _reference_resolve(cands)]


def test_short_and_long_texts_give_the_same_findings(hs: Any) -> None:
    """A short text (re2) and the same text inside a long one (hyperscan) find the same."""
    analyzer = Analyzer(fingerprinter=Fingerprinter(b"s" * 32), min_confidence=0.5)
    for fragment in FRAGMENTS:
        short = [(f.entity, f.masked, f.confidence) for f in analyzer.analyze(fragment)]
        long_text = _padded(fragment)
        offset = long_text.index(fragment)
        long = [
            (f.entity, f.masked, f.confidence)
            for f in analyzer.analyze(long_text)
            if offset <= f.location.start < offset + len(fragment)
        ]
        assert long == short, fragment


def _reference_near_before(text: str, start: int) -> bool:
    """``_names._near_before`` as first written: the whole 48-character window casefolded."""
    from phiward.detect._names import _NEAR_BARE, _NEAR_SEPARATORS

    window = text[max(0, start - 48) : start].rstrip(_NEAR_SEPARATORS).casefold()
    for w in _NEAR_BARE:
        if window.endswith(w):
            before = window[-len(w) - 1 : -len(w)]
            if not before or not (before.isalnum() or before == "_"):
                return True
    return False


near_texts = st.lists(
    st.sampled_from(
        [
            *("granddaughter", "assistant to", "pt", "accept", "name is"),
            *(" ", ": ", "-", ".", "\t", "ß", "İ", "ẞ", "x", "_", "Dr", "Hi", "SAYS", "1"),
        ]
    ),
    max_size=20,
).map("".join)


@given(text=near_texts)
def test_near_before_tail_equals_the_whole_window(text: str) -> None:
    from phiward.detect._names import _near_before

    for start in range(len(text) + 1):
        assert _near_before(text, start) == _reference_near_before(text, start)


@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_re2_without_binding_internals_gives_the_same(text: str) -> None:
    """A google-re2 release without ``_regexp.Match`` falls back to ``search()``, same result."""
    pytest.importorskip("re2")
    eng = PatternEngine(backend="re2", hyperscan=False)
    fallback = PatternEngine(backend="re2", hyperscan=False)
    fallback._re2_match = engine._spans_via_search(fallback._compiled, len(RECOGNIZERS))
    assert _key(fallback.scan(text)) == _key(eng.scan(text))


@given(
    words=st.lists(st.text(alphabet="ab #-]^\\.", min_size=1, max_size=4), min_size=1, max_size=5),
    window=st.text(alphabet="ab #-]^\\.xA", max_size=40),
)
def test_context_regex_first_character_lookahead_changes_no_match(
    words: list[str], window: str
) -> None:
    import re

    fast = engine._context_regex(tuple(words))
    assert fast is not None
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    plain = re.compile(rf"(?<![a-z])(?:{alts})(?![a-z])")
    assert fast.findall(window) == plain.findall(window)


@settings(max_examples=400, deadline=None)
@given(
    text=st.one_of(
        st.text(alphabet="ab.Z9_%+-@ \u00e9x", max_size=40),
        st.lists(
            st.sampled_from(["ann.lee", "@", "mail", ".com", ".c", "-", "_", " ", "é", "x@", "%+"]),
            max_size=12,
        ).map("".join),
    )
)
def test_prefilter_supersets_match_wherever_their_pattern_does(text: str) -> None:
    """The prefilter's stand-ins find a match in every text where the recognizer's own pattern
    finds one (they decide which databases run, so a miss would drop findings)."""
    import re

    for pattern, superset in engine._PREFILTER_SUPERSETS.items():
        data = text.encode("utf-8", "surrogateescape")
        if re.search(pattern.encode(), data):
            assert re.search(superset.encode(), data), (pattern, superset)
    assert {r.pattern for r in RECOGNIZERS} >= set(engine._PREFILTER_SUPERSETS)
