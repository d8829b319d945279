"""The names pass's fast paths give exactly what the plain code they replace gave.

Each ``_ref_*`` function below is the earlier, slower implementation, kept here as the
specification: the ASCII tokeniser against the Unicode ``_TOKEN`` pattern, the context-word test
with its suffix pre-check against the plain one, the per-word rejection codes against the boolean
test they split, and the list finder against its token-by-token loop.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from phiward.detect import _names as N

LISTS = N.name_lists()


def _ref_tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in N._TOKEN.finditer(text)]


def _ref_near_before(text: str, start: int) -> bool:
    window = text[max(0, start - 48) : start].rstrip(N._NEAR_SEPARATORS)[-N._NEAR_TAIL :]
    window = window.casefold()
    if not window.endswith(N._NEAR_BARE):
        return False
    for w in N._NEAR_BARE:
        if window.endswith(w):
            before = window[-len(w) - 1 : -len(w)]
            if not before or not (before.isalnum() or before == "_"):
                return True
    return False


def _ref_near_context(text: str, start: int) -> bool:
    window = text[max(0, start - 24) : start].rstrip(" \t:#,-?").casefold()
    if not window.endswith(N._NEAR_WORDS):
        return False
    for w in N._NEAR_WORDS:
        if window.endswith(w):
            before = window[-len(w) - 1 : -len(w)]
            if not before or not before.isalnum():
                return True
    return False


def _ref_lone_rejected(text: str, s: int, e: int, tok: str) -> bool:
    t = tok.casefold()
    amb, first, last = LISTS.ambiguous, LISTS.first, LISTS.last
    return bool(
        (t in amb and (t in N._STOP or not N._near_before(text, s)))
        or len(t) < 3
        or t in N._TITLES
        or (
            t not in first
            and t not in last
            and not N._near_before(text, s)
            and (t in LISTS.english or not N._person_verb_after(text, e))
            and not (len(t) >= 6 and t.endswith(N._SURNAME_ENDINGS) and not LISTS.is_english(t))
        )
    )


def _ref_name_lists(
    text: str, toks: list[tuple[int, int, str]], found: list[N.NameHit]
) -> list[N.NameHit]:
    lists = LISTS
    out: list[N.NameHit] = []
    taken = {(h.start, h.end) for h in found if h.confidence >= 0.6}
    i, n = 0, len(toks)
    while i < n:
        j = i
        while j + 1 < n and text[toks[j][1] : toks[j + 1][0]] in N._LIST_GAPS:
            j += 1
        pair = j - i == 1 and text[toks[i][1] : toks[j][0]] in (" and ", " & ")
        if j - i >= 2 or pair:
            items = toks[i : j + 1]
            words = [t[2].casefold() for t in items]
            need = 1 if pair else 2
            strong = sum(1 for w in words if w in lists.strong and w not in N._TITLES)
            if strong >= need:
                for (s, e, raw), w in zip(items, words, strict=True):
                    if (
                        (s, e) in taken
                        or len(w) < 2
                        or raw.isupper()
                        or w in N._STOP
                        or w in N._PLACES
                    ):
                        continue
                    # a word that is no sure name counts only as a first name, in a list of 3+
                    # with two sure names
                    sure_list = not pair and strong >= 2
                    unsure = lists.is_english(w) and w not in lists.strong
                    if unsure and not (sure_list and w in lists.first):
                        continue
                    out.append(N.NameHit(s, e, 0.6, "name-list"))
        i = j + 1
    return out


# Pieces that make the rarer paths likely: names, context words, separators, apostrophes,
# hyphens, initials, digits, all-caps words, and non-ASCII letters whose case rules are unusual.
_PIECES = [
    "Smith", "O'Brien", "Smith-Jones", "McDonald", "SMITH", "J.", "Dr", "Mrs.", "The", "Brown",
    "patient", "Patient", "son", "pt", "accept", "name is", "signed by", "Ms.", "MD", "i'm",
    " ", "  ", ". ", ", ", ": ", " - ", "\t", "\n", " and ", ", and ", " & ", "#", "(", "_", "'",
    "-", ".", "7", "x9", "a", "Z", "said", "'s", "ß", "Gábor", "İ", "\u212a", "ﬁ", "É", "q_",
    "Yuri", "Bulgakov", "Maria", " van der ", " ten ", "?", "!", ': "', ", can you", "Vide",
]  # fmt: skip
_texts = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)
_ascii = st.text(alphabet="AZaz09_'-. \t\n,:#&()Ob", max_size=60)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_texts, _ascii, st.text(max_size=40)))
def test_tokens_match_the_unicode_pattern(text: str) -> None:
    assert N._tokens(text) == _ref_tokens(text)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_texts, _ascii))
def test_near_before_matches_the_plain_test(text: str) -> None:
    for start in range(len(text) + 1):
        assert N._near_before(text, start) == _ref_near_before(text, start), start


@settings(max_examples=400, deadline=None)
@given(st.one_of(_texts, _ascii))
def test_near_context_matches_the_plain_test(text: str) -> None:
    for start in range(len(text) + 1):
        assert N._near_context(text, start) == _ref_near_context(text, start), start


def test_near_tests_on_every_context_word() -> None:
    for w in N._NEAR_WORDS:
        for word in (w, w.upper(), w.title()):
            for left in ("", " ", "x", "_", "(", "é"):
                for sep in ("", " ", ": ", ". ", " - "):
                    text = f"{left}{word}{sep}Smith"
                    start = len(text) - 5
                    assert N._near_before(text, start) == _ref_near_before(text, start), text
                    assert N._near_context(text, start) == _ref_near_context(text, start), text


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_lone_word_rejection_matches_the_boolean_test(text: str) -> None:
    for s, e, tok in N._tokens(text):
        for codes in ({}, N._LONE_CODES):
            got = N._lone_rejected(text, (s, e, tok), codes, LISTS)
            assert got == _ref_lone_rejected(text, s, e, tok)


def test_lone_codes_on_list_words() -> None:
    words = sorted(N._STOP | N._TITLES)[:400] + sorted(LISTS.first)[:300]
    words += sorted(LISTS.last)[-300:] + sorted(LISTS.english)[::2000] + ["Qzxv", "Ab", "Z"]
    for w in words:
        for tok in (w.title(), w.upper()):
            for text in (f"The {tok} went", f"patient {tok} said", f"{tok} said"):
                s = text.index(tok)
                e = s + len(tok)
                got = N._lone_rejected(text, (s, e, tok), {}, LISTS)
                assert got == _ref_lone_rejected(text, s, e, tok), text


_list_texts = st.lists(
    st.sampled_from(["Smith", "Jones", "Okafor", "Brown", "The", "Dr", "J", ", ", " and ", ", and ",
                     " & ", " ", "x", ". "]),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(_texts, _list_texts))
def test_name_lists_match_the_token_loop(text: str) -> None:
    toks = N._tokens(text)
    found = N.find_names(text)
    assert N._name_lists(text, toks, found, LISTS) == _ref_name_lists(text, toks, found)


def test_name_lists_table() -> None:
    for text in (
        "Seen with Okafor & Whitfield today",
        "Vizirov, Barrett and Jones were there",
        "Vizirov, Barrett, and Jones were there",
        "Okonjo and Whitfield",
        "Brown, Green and White",
    ):
        toks = N._tokens(text)
        found = N.find_names(text)
        got = N._name_lists(text, toks, found, LISTS)
        assert got == _ref_name_lists(text, toks, found), text
        alone = N._name_lists(text, toks, [], LISTS)  # no hit taken by another rule
        assert alone == _ref_name_lists(text, toks, []), text
        assert alone or text.startswith("Brown"), text


@settings(max_examples=400, deadline=None)
@given(st.one_of(_texts, _list_texts))
def test_list_gap_candidates_cover_every_link(text: str) -> None:
    """``find_names`` hands the list finder a superset of the token pairs with a list gap."""
    seen: list[tuple[list[int] | None, list[tuple[int, int, str]]]] = []
    real = N._name_lists

    def spy(
        text: str,
        toks: list[tuple[int, int, str]],
        found: list[N.NameHit],
        lists: N.NameLists,
        maybe: list[int] | None = None,
    ) -> list[N.NameHit]:
        seen.append((maybe, toks))
        return real(text, toks, found, lists, maybe)

    N._name_lists = spy  # type: ignore[assignment]
    try:
        N.find_names(text)
    finally:
        N._name_lists = real  # type: ignore[assignment]
    for maybe, toks in seen:
        assert maybe is not None
        assert maybe == sorted(set(maybe))
        links = [
            k for k in range(len(toks) - 1) if text[toks[k][1] : toks[k + 1][0]] in N._LIST_GAPS
        ]
        assert set(links) <= set(maybe)


def _ref_find_names(text: str) -> list[N.NameHit]:
    """``find_names`` as a plain loop: every token grouped into runs the slow way, lone words
    through the boolean rejection test, every run through ``_score_run``."""
    lists = LISTS
    toks = _ref_tokens(text)
    hits: list[N.NameHit] = []
    i, n = 0, len(toks)
    while i < n:
        j = i
        while j + 1 < n:
            gap_text = text[toks[j][1] : toks[j + 1][0]]
            if (
                gap_text in (" ", ". ", ", ", "\t", "  ") and not (gap_text == ", " and j > i)
            ) or gap_text in N._PARTICLE_GAPS:
                if gap_text == ". " and not (
                    N._is_initial(toks[j][2]) or toks[j][2].casefold() in N._TITLES
                ):
                    break
                j += 1
            else:
                break
        run = toks[i : j + 1]
        i = j + 1
        if (
            len(run) > 1
            and run[0][2].casefold() in N._GREETINGS
            and (run[1][2].casefold() in lists.strong or not lists.is_english(run[1][2].casefold()))
        ):
            run = run[1:]
        s, e, tok = run[0]
        if len(run) == 1:
            if _ref_lone_rejected(text, s, e, tok):
                if text[e : e + 1] in N._VOCATIVE_ENDS and N._vocative(text, s, e, tok, lists):
                    hits.append(N.NameHit(s, e, 0.6, "vocative"))
                continue
        else:
            words = [t[2].rstrip(".").casefold() for t in run]
            if (
                lists.first.isdisjoint(words)
                and lists.last.isdisjoint(words)
                and N._TITLES.isdisjoint(words)
                and not N._foreign_run(*N._before_acronym(run, words), lists)
                and not N._near_before(text, s)
            ):
                continue
        hits.extend(N._score_run(text, run, lists))
    hits.extend(_ref_name_lists(text, toks, hits))
    hits.extend(N._speaker_labels(text, hits, lists))
    if N._has_lower_cue(text):
        hits.extend(N._lowercase_names(text, lists))
    if text.islower():
        hits.extend(N._lowercase_text_names(text, lists, hits))
    if hits:
        hits.extend(N._repeated_names(text, hits, lists))
    return hits


_sentences = st.lists(
    st.sampled_from([*_PIECES, "Foley", "Vital", "Chest", "Qorvath", " the ", "Name: ", "name is",
                     " was seen. ", "follow up with ", "ludmila", " Dr. ", "Kenji"]),
    max_size=60,
).map("".join)  # fmt: skip


@example("SmithSmithSmith \u00c9\t\u00c9\t\u00c9")  # a run of initials only: was an IndexError
@example("Remember me, Maria?  Yes.")  # a vocative on the lone-word path (gap of 3)
@example("Remember me, Maria? Yes.")  # and on the run path (gap of 2)
@example("Yuri Bulgakov came. Bulgakov left.")  # a repeated name
@settings(max_examples=600, deadline=None)
@given(st.one_of(_texts, _ascii, _list_texts, _sentences, st.text(max_size=60)))
def test_find_names_matches_the_plain_loop(text: str) -> None:
    assert N.find_names(text) == _ref_find_names(text)
    for floor in (0.5, 0.65, 0.8):
        want = [h for h in _ref_find_names(text) if h.confidence >= floor]
        assert [h for h in N.find_names(text, floor=floor) if h.confidence >= floor] == want


@settings(max_examples=300, deadline=None)
@given(st.one_of(_texts, _sentences))
def test_score_lone_is_score_run_of_one_kept_word(text: str) -> None:
    for s, e, tok in N._tokens(text):
        if N._lone_code(tok.casefold(), LISTS) != N._REJECT:
            assert N._score_lone(text, s, e, tok, LISTS) == N._score_run(text, [(s, e, tok)], LISTS)


def test_stop_word_pairs_score_as_their_second_word() -> None:
    """``find_names`` scores a two-word run led by a stop word ("The Foley") without
    ``_score_run``: the same hits for every kind of second word."""
    seconds = [
        "Foley",
        "Smith",
        "SMITH",
        "MRN",
        "Dr",
        "The",
        "J.",
        "J",
        "Qorvath",
        "Chest",
        "Brown",
    ]
    for stop in ["The", "In", "At", "Patient", "May", "Will", "THE", "Of"]:
        for second in seconds:
            for before, after in (("", ""), ("Seen. ", " said"), ("patient ", ", and"), ("x ", "")):
                text = f"{before}{stop} {second}{after}"
                assert N.find_names(text) == _ref_find_names(text), text


def _ref_has_lower_cue(text: str) -> bool:
    return "name" in text or "Name" in text or "follow up with" in text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["name", "Name", "nam", "ame", "NAME", "follow up with", "follow up",
                         "x" * 500, "é" * 300, "\ud800", "\udcff", "☃", "n", "e", " "]),
        max_size=12,
    ).map("".join)
)  # fmt: skip
def test_lower_cue_test_matches_the_substring_searches(text: str) -> None:
    assert N._has_lower_cue(text) == _ref_has_lower_cue(text)
    assert N._has_lower_cue(text * 3) == _ref_has_lower_cue(text * 3)


def test_lower_cue_test_without_hyperscan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(N, "_cue_db", [None])
    for text in ("x" * 2000 + "name", "x" * 2000, "Name" + "y" * 3000, "follow up with" * 100):
        assert N._has_lower_cue(text) == _ref_has_lower_cue(text)


_long_pieces = st.lists(
    st.sampled_from([*_PIECES, "Foley", "Qorvath", "patient", "PATIENT", "named", "Signed by",
                     "-" * 40, " " * 36, ":" * 33, "x" * 30, "apt", "said", "son", "Dear ", "Hi ",
                     "I'm ", "accept", "name is ", " was seen. ", "follow up with "]),
    max_size=60,
).map("".join)  # fmt: skip


def _long(text: str) -> str:
    """``text`` past the length where the hyperscan pass runs, its end kept in place."""
    pad = "plain words here. " * (N._CUE_HS_MIN_CHARS // 18 + 1)
    return pad + text + " " + text


@settings(max_examples=300, deadline=None)
@given(_long_pieces)
def test_hyperscan_near_offsets_cover_every_near_word(text: str) -> None:
    text = _long(text)
    scanned = N._text_scan(text)
    if scanned is None:
        pytest.skip("hyperscan not installed")
    cue, near_at = scanned
    assert cue == _ref_has_lower_cue(text)
    if text.isascii():
        for s, _e in N._spans(text):
            if s > 8 and N._near_before(text, s):
                assert s in near_at, s


@settings(max_examples=300, deadline=None)
@given(st.one_of(_long_pieces, _sentences, _texts))
def test_find_names_on_long_text_matches_the_plain_loop(text: str) -> None:
    text = _long(text)
    assert N.find_names(text) == _ref_find_names(text)


def test_hyperscan_near_offsets_cover_a_word_cut_by_the_window() -> None:
    """A context word that starts exactly 48 characters before a capitalised word, inside a
    longer word ("apt" + separators + "Smith"): the window sees "pt" alone."""
    if N._text_scan("x" * N._CUE_HS_MIN_CHARS) is None:
        pytest.skip("hyperscan not installed")
    pad = "plain words here. " * (N._CUE_HS_MIN_CHARS // 18 + 1)
    for w in N._NEAR_BARE:
        for lead in ("a", " ", "_"):
            for sep in ("-", " ", ":", ". "):
                for n_sep in range(0, 50, 1 if sep != ". " else 2):
                    text = pad + lead + w + (sep * n_sep)[:n_sep] + "Smith went"
                    s = text.index("Smith")
                    scanned = N._text_scan(text)
                    assert scanned is not None
                    if N._near_before(text, s):
                        assert s in scanned[1], (w, lead, sep, n_sep)
                    assert N.find_names(text) == _ref_find_names(text)


_CUE_PIECES = st.sampled_from(
    [
        "name", "Name", "NAME", "my name is", "My name is", "name is", "Name was", "name:",
        "Name?", "surname", "rename", "named", "ame", "same", "follow up with", "follow up",
        "ludmila", "kenji t. morimoto", "o'neil", "ana-lu", "é", "Ä", " ", "  ", "\t", "\n",
        ":", "?", ".", ",", "-", "'", "x", "y", "my", "My", "\ud800",
    ]
)  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(st.lists(_CUE_PIECES, max_size=40).map("".join))
def test_lower_cue_matches_equal_finditer(text: str) -> None:
    """The anchored lower-case cue search finds exactly what ``finditer`` over every position
    finds: same spans, same groups."""
    fast = [(m.span(), m.groupdict()) for m in N._lower_cue_matches(text)]
    slow = [(m.span(), m.groupdict()) for m in N._LOWER_CUE.finditer(text)]
    assert fast == slow


_LABEL_REF = re.compile(r"^([^\W\d_][\w'-]*):", re.MULTILINE)
_label_texts = st.lists(
    st.sampled_from(["Ubul", "Nicole", "John", "Amy", "Éva", "ROS", "a", ":", " ", "\n", "\r\n",
                     "\n\n", "'", "-", "1", "Mary:", "x:"]),
    max_size=40,
).map("".join)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(_label_texts)
def test_line_labels_are_the_multiline_pattern_s_labels(text: str) -> None:
    """The line-start loop finds what ``^label:`` searched in MULTILINE mode finds."""
    want = [(m.start(1), m.end(1)) for m in _LABEL_REF.finditer(text) if m.group(1)[0].isupper()]
    assert N._line_labels(text) == want


def test_context_lookahead_holds_every_first_letter() -> None:
    """``_CONTEXT``'s lookahead is only a shortcut: it must admit every context word's start."""
    head, _, body = N._CONTEXT.pattern.partition(r"\b(?:")
    letters = set(head.removeprefix("(?=[").removesuffix("])"))
    words = body.removesuffix(r")\b").split("|")
    assert len(words) > 30
    assert {w[0] for w in words} <= letters
    plain = re.compile(r"\b(?:" + body)
    window = "seen by dr. smith; the patient's son, next of kin: x. provider insured member"
    assert N._CONTEXT.findall(window) == plain.findall(window)


_seed_texts = st.lists(
    st.sampled_from(["Yuri Bulgakov", "Bulgakov", "Bulgakov's", "Alice Goldberg", "Goldberg",
                     "Goldbergs", "Anna Ström", "Ström", "Anna", "Ann", "x-Ström", "Ström2", " ",
                     ", ", ". ", "\n", "Dr. Okafor", "Okafor", "O'Okafor", "early ", "_Anna"]),
    max_size=30,
).map("".join)  # fmt: skip


@example("Yuri Bulgakov met Alice Goldberg. Bulgakov and Goldberg's wife left.")
@settings(max_examples=300, deadline=None)
@given(_seed_texts)
def test_repeated_names_aho_corasick_matches_the_searches(text: str) -> None:
    """Texts with many seeds (a log of patients) go through one Aho-Corasick pass instead of a
    substring search per seed: the same hits either way."""
    if N._ac is None:
        pytest.skip("pyahocorasick not installed")
    found = [h for h in N.find_names(text) if h.rule != "repeated-name"]
    few = N._repeated_names(text, found, LISTS)
    old = N._FEW_SEEDS
    try:
        N._FEW_SEEDS = -1  # every text takes the automaton
        many = N._repeated_names(text, found, LISTS)
    finally:
        N._FEW_SEEDS = old
    assert many == few


def test_many_repeated_names_stay_linear() -> None:
    """A 3,000-line log with a different patient on each line: the pass must not search the
    whole text once per name (that took 2.3 s for 256 KiB)."""
    import time

    firsts = sorted(w for w in LISTS.first if w in LISTS.strong and not LISTS.is_english(w))
    lasts = sorted(w for w in LISTS.last if w in LISTS.strong and not LISTS.is_english(w))
    pairs = zip(firsts[:3000], lasts[:3000], strict=True)
    lines = [f"seen {f.title()} {s.title()} ok\n" for f, s in pairs]
    text = "".join(lines)
    found = [h for h in N.find_names(text) if h.rule != "repeated-name"]
    assert len(found) >= 2900
    t0 = time.perf_counter()
    N._repeated_names(text, found, LISTS)
    took = time.perf_counter() - t0
    old = N._FEW_SEEDS
    try:
        N._FEW_SEEDS = 1 << 30  # a search per seed
        t0 = time.perf_counter()
        N._repeated_names(text, found, LISTS)
        searched = time.perf_counter() - t0
    finally:
        N._FEW_SEEDS = old
    assert took < searched / 3, (took, searched)


_lower_texts = st.lists(
    st.sampled_from(["naomi ryan", "dr smith", "mr. elliott", "leonti, pamela and brian",
                     "benjamin a seiler", "olga krylova's", " ", ", ", "\n", " and ", "x",
                     "my name is ludmila", "aksel kristensen\n"]),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(_lower_texts)
def test_lower_case_text_names_never_overlap(text: str) -> None:
    """The lower-case rules keep a bytemap of the characters already in a name (a list of
    spans made the test per candidate grow with the names found: quadratic on a long log)."""
    found = N._lowercase_names(text, LISTS)
    spans = sorted([(h.start, h.end) for h in N._lowercase_text_names(text, LISTS, found)])
    for (_, e1), (s2, _) in itertools.pairwise(spans):
        assert e1 <= s2
    for s, e in spans:
        assert all(e <= h.start or s >= h.end for h in found)
