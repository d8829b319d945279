"""Person names from public-domain lists, with capitalisation and context rules.

The lists are the US Census Bureau 1990 first-name and surname files (public domain), shipped
gzipped in ``data/``; ``name_words`` marks names that are also ordinary lower-case English words
(Webster's 2nd, public domain), which need stronger evidence. Rules, in short:

- ``Dr. Brown``, ``Mrs. Okafor``: a title makes the next capitalised word(s) a name, listed or not;
- ``John Smith``, ``JOHN SMITH``: a listed first name followed by a listed surname;
- ``Smith, John``: surname, comma, first name;
- ``Olga Krylova``, ``Csenger Gábor``: two or three capitalised words, each either a listed name
  or not an English word at all (Webster's 2nd, with plurals and -ed/-ing forms), at least one of
  them not English: a name from outside the US lists, where ``Chest Pain`` is a Title Case phrase;
- ``Vizirov, Barrett and Jones``: a list of three or more capitalised words, two of them
  unambiguous listed names: the others are names too;
- a lone listed name counts only with a context word near it (``patient``, ``son``, ``name:``),
  or addressed (``Remember me, Maria?``, ``Koppány: "Who are you?"``);
- ``Ludwig van Beethoven``: Dutch and German particles stay inside a name;
- once ``Yuri Bulgakov`` is found, ``Bulgakov`` elsewhere in the same text is a name too;
- lower-case words are never names, so ``brown stool`` is not; a lone ``Brown`` starting a
  sentence is not either (it is also an English word).
"""

from __future__ import annotations

import gzip
import importlib
import re
import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate, product
from typing import Any, NamedTuple, TypeVar

_hs: Any
try:  # hyperscan (the "fast" extra) finds the lower-case cue words faster; not needed
    _hs = importlib.import_module("hyperscan")
except ImportError:  # pragma: no cover - exercised only without the extra
    _hs = None
_ac: Any
try:  # pyahocorasick (a dependency): repeated names when a text holds many; not needed
    _ac = importlib.import_module("ahocorasick")
except ImportError:  # pragma: no cover - exercised only without the wheel
    _ac = None

_TITLES = frozenset(
    {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "doctor", "nurse", "sister", "rev", "sr", "fr"}
)
# Capitalised words in clinical and business text that the Census lists contain but that are
# rarely a name in that position.
# Month and weekday names: capitalised, often after a title-like word, never a name there.
_CALENDAR = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
]
_STOP = frozenset(
    w.casefold()
    for w in [
        *_CALENDAR,
        "Patient",
        "Patients",
        "Hospital",
        "Clinic",
        "Medical",
        "Center",
        "Health",
        "Care",
        "Street",
        "Avenue",
        "Road",
        "Drive",
        "Lane",
        "Court",
        "Place",
        "Boulevard",
        "North",
        "South",
        "East",
        "West",
        "New",
        "Saint",
        "St",
        "Mount",
        "County",
        "City",
        "State",
        "Department",
        "Unit",
        "Room",
        "Floor",
        "Ward",
        "Plan",
        "History",
        "Assessment",
        "Diagnosis",
        "Impression",
        "Exam",
        "Physical",
        "Chief",
        "Complaint",
        "Allergies",
        "Medications",
        "Note",
        "Notes",
        "Report",
        "Summary",
        "Discharge",
        "Admission",
        "Follow",
        "Date",
        "Time",
        "Name",
        "Age",
        "Sex",
        "Male",
        "Female",
        "Phone",
        "Email",
        "Address",
        "Insurance",
        "Member",
        "Policy",
        "Group",
        "Account",
        "Number",
        "Lab",
        "Labs",
        "Blood",
        "Pressure",
        "Heart",
        "Rate",
        "Temp",
        "Will",
        "Can",
        "Mark",
        "Bill",
        "Grant",
        "Hope",
        "Faith",
        "Joy",
        "Rose",
        "Art",
        "Chase",
        "Rich",
        "Case",
        "Page",
        "Post",
        "General",
        "Family",
        "Social",
        "Review",
        "Systems",
        "Normal",
        "Negative",
        "Positive",
        "Alert",
        "Oriented",
        "Stable",
        "Pain",
        "Clear",
        "Good",
        "Fair",
        "Poor",
        "High",
        "Low",
        "Left",
        "Right",
        "Upper",
        "Lower",
        "Green",
        "Black",
        "White",
        "Gray",
        "Grey",
        "Brown",
        "Mercy",
        "Memorial",
        "Baptist",
        "Methodist",
        "Presbyterian",
        "University",
        "Regional",
        "Community",
        "Valley",
        "Lake",
        "Park",
        "Hill",
        "Hills",
        "Union",
        "Christian",
        "Jewish",
        "Catholic",
        "The",
        "And",
        "Of",
        "In",
        "On",
        "At",
        "By",
        "For",
        "With",
        "From",
        "To",
        "A",
        "An",
        "I",
        "No",
        "Yes",
        "Not",
        "Pt",
        "Mg",
        "Dose",
        "Daily",
        "Per",
        "Tablet",
        "But",
        "So",
        "If",
        "Or",
        "As",
        "We",
        "You",
        "He",
        "She",
        "They",
        "It",
        "Its",
        "This",
        "That",
        "These",
        "Those",
        "There",
        "Here",
        "Then",
        "When",
        "Where",
        "Why",
        "How",
        "What",
        "Who",
        "Which",
        "While",
        "After",
        "Before",
        "Because",
        "Since",
        "Until",
        "Also",
        "Just",
        "Only",
        "Very",
        "Please",
        "Thanks",
        "Thank",
        "Hello",
        "Hi",
        "Hey",
        "Greetings",
        "Dear",
        "Love",
        "Secretly",
        "Best",
        "Regards",
        "Sincerely",
        "Today",
        "Tomorrow",
        "Yesterday",
        "Is",
        "Are",
        "Was",
        "Were",
        "Be",
        "Been",
        "Has",
        "Have",
        "Had",
        "Do",
        "Does",
        "Did",
        "My",
        "Our",
        "Your",
        "His",
        "Her",
        "Their",
        "Me",
        "Us",
        "Them",
        "All",
        "Any",
        "Some",
        "Every",
        "Each",
        "Many",
        "Most",
        "More",
        "Less",
    ]
)
# Countries and region words: capitalised, not English, yet places, not names ("Southern Italy").
_PLACES_TEXT = """
    afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan
    bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia
    botswana brazil brunei bulgaria burkina burundi cambodia cameroon canada chad chile china
    colombia comoros congo croatia cuba cyprus czechia czech denmark djibouti dominica ecuador
    egypt eritrea estonia eswatini ethiopia fiji finland france gabon gambia georgia germany
    ghana greece grenada guatemala guinea guyana haiti honduras hungary iceland india indonesia
    iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya kiribati korea kosovo
    kuwait kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania
    luxembourg madagascar malawi malaysia maldives mali malta mauritania mauritius mexico
    micronesia moldova monaco mongolia montenegro morocco mozambique myanmar namibia nauru nepal
    netherlands zealand nicaragua niger nigeria macedonia norway oman pakistan palau palestine
    panama paraguay peru philippines poland portugal qatar romania russia rwanda samoa marino
    senegal serbia seychelles sierra singapore slovakia slovenia somalia spain lanka sudan
    suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga trinidad
    tobago tunisia turkey turkmenistan tuvalu uganda ukraine emirates uruguay uzbekistan vanuatu
    vatican venezuela vietnam yemen zambia zimbabwe england scotland wales britain america
    europe africa asia oceania scandinavia balkans caribbean
    northern southern eastern western central upper lower greater
"""
_PLACES = frozenset(_PLACES_TEXT.split())
# A Title Case run that ends with a street or place word is a street or a place ("Marisol
# Trail", "Ambrose Pass", "Colorado Springs", "Palm Beach"); one that starts with a place word
# is a place ("Port Hedland", "Los Angeles", "Fort Collins", "San Pietro").
_PLACE_LAST_TEXT = """
    street avenue road boulevard lane drive court way place terrace circle parkway highway square
    trail loop pike plaza crossing ridge run path alley row beach bend bluff bluffs bridge brook
    brooks burg bypass camp canyon cape causeway center centre cliff cliffs club common commons
    corner corners cove creek crescent crest curve dale divide estate estates expressway falls
    ferry field fields flat flats ford forest forge fork forks freeway garden gardens gateway glen
    glens green greens grove harbor harbour haven heights hill hills hollow inlet island islands
    isle junction key keys knoll knolls lake lakes landing light lock lodge mall manor meadow
    meadows mews mill mills mission motorway mountain mountains neck orchard oval overpass park
    pass passage pine pines plain plains point points port ports prairie ranch rapids rest rise
    river route shoal shoals shore shores skyway spring springs spur station stravenue stream
    summit trace track tunnel turnpike union unions valley valleys viaduct view views village
    ville vista walk wall well wells wynd close gate bay city town county borough township
"""
_PLACE_LAST = frozenset(_PLACE_LAST_TEXT.split())
_PLACE_FIRST_TEXT = """
    port porto fort los las san santa santo são sao saint st ste mount mt lake new north south east
    west upper lower great little station
"""
_PLACE_FIRST = frozenset(_PLACE_FIRST_TEXT.split())
_NOT_AFTER_TITLE = frozenset(
    w.casefold()
    for w in [
        *_CALENDAR,
        "The",
        "And",
        "Of",
        "On",
        "In",
        "At",
    ]
)
# The lookahead on the words' first letters changes no match (every word starts with one) but
# lets ``re`` skip most positions before trying the alternation: ~3.2 -> 2.5 us a window.
_CONTEXT = re.compile(
    r"(?=[abcdefghimnprsuw])"
    r"\b(?:patient|pt|name|named|mr|mrs|ms|dr|son|daughter|wife|husband|mother|father|"
    r"brother|sister|spouse|guardian|parent|caregiver|emergency contact|next of kin|nok|"
    r"contact|signed|attending|physician|provider|nurse|referred by|seen by|family|"
    r"grandson|granddaughter|aunt|uncle|cousin|friend|partner|member|subscriber|insured)\b"
)
_UP = "A-ZÀ-ÖØ-Þ\u0100-\u024f"
# A capitalised word: "Smith", "O'Brien", "Smith-Jones", "SMITH", an initial "J." The first
# character is a plain character class so that ``re`` can skip ahead with its charset search (a
# leading ``\b`` would make it try every position: 3x slower); the look-behind after it is the
# word boundary.
_TOKEN = re.compile(
    rf"[{_UP}](?<!\w.)(?:'[A-Z][a-z]+|[^\W\d_A-Z]+(?:['-]?[{_UP}][^\W\d_A-Z]+)?"
    rf"|[A-Z]+(?:['-][A-Z]+)?|\.?)(?=\W|$)"
)


@dataclass(frozen=True, slots=True)
class NameLists:
    first: frozenset[str]
    last: frozenset[str]
    ambiguous: frozenset[str]
    strong: frozenset[str] = frozenset()  # listed, not ambiguous, or a title
    english: frozenset[str] = frozenset()  # lower-case English words (Webster's 2nd)

    def is_english(self, word: str) -> bool:
        """``word`` (casefolded) or its stem is English: ``signs``, ``studies``, ``noted``,
        ``stopped``, ``programming``."""
        eng = self.english
        if word in eng:
            return True
        if word.endswith("ies") and word[:-3] + "y" in eng:
            return True
        if word.endswith("es") and word[:-2] in eng:
            return True
        if word.endswith("s") and word[:-1] in eng:
            return True
        if word.endswith("ed") and (
            word[:-2] in eng or word[:-1] in eng or (word[-3] == word[-4] and word[:-3] in eng)
        ):
            return True
        return word.endswith("ing") and (
            word[:-3] in eng
            or word[:-3] + "e" in eng
            or (len(word) > 5 and word[-4] == word[-5] and word[:-4] in eng)  # programming
        )


def _load(name: str) -> list[str]:
    data = resources.files("phiward.detect").joinpath("data", name).read_bytes()
    return gzip.decompress(data).decode().split()


@cache
def name_lists() -> NameLists:
    """The shipped name lists (loaded once per process, about 100k entries)."""
    first = frozenset(n.casefold() for n in _load("first_names.txt.gz"))
    last = frozenset(n.casefold() for n in _load("surnames.txt.gz"))
    ambiguous = frozenset(n.casefold() for n in _load("name_words.txt.gz")) | _STOP
    english = frozenset(_load("english_words.txt.gz"))
    return NameLists(first, last, ambiguous, ((first | last) - ambiguous) | _TITLES, english)


class NameHit(NamedTuple):
    """A name found: offsets, confidence, the rule that fired and the context words seen. A
    named tuple, not a frozen dataclass: it is built for every hit, and builds twice as fast."""

    start: int
    end: int
    confidence: float
    rule: str
    context: tuple[str, ...] = ()


def _is_initial(tok: str) -> bool:
    return len(tok.rstrip(".")) == 1


# Dutch and German name particles inside a run ("Maika van de Noort", "Willemine ten Pas"). Not
# de/da/del/dos: they join as many place names (Rio de Janeiro, Costa del Sol) as surnames.
_PARTICLE_GAPS = frozenset(
    f" {p} " for p in ("van", "van de", "van der", "van den", "von", "von der", "ten", "ter")
)
_PARTICLE_GAP_LENGTHS = frozenset(map(len, _PARTICLE_GAPS))
# A token far past any text's end: the last token's "next", so that no gap looks like a run's or
# a list's.
_FAR = (1 << 62, 1 << 62)


def find_names(text: str, lists: NameLists | None = None, *, floor: float = 0.0) -> list[NameHit]:
    """Names in ``text`` by the rules in the module docstring.

    Context words (``patient``, ``son``, ``name is``) are looked for only behind the few
    capitalised words that need one, not in a pass over the whole text. ``floor`` is accepted for
    callers that filter by confidence (the rules do not depend on it).
    """
    default = name_lists()
    lists = lists or default
    codes = _LONE_CODES if lists is default else {}
    first, last = lists.first, lists.last
    toks = _spans(text)  # (start, end) of each capitalised word; the word is sliced when needed
    ascii_text = text.isascii()
    scanned = _text_scan(text) if len(text) >= _CUE_HS_MIN_CHARS else None
    cue = _cue_by_search(text) if scanned is None else scanned[0]
    # Offsets where a capitalised word may follow a context word (ASCII text: byte offsets are
    # character offsets); None: the two-character test below instead.
    near_at = scanned[1] if scanned is not None and ascii_text else None
    if not toks:
        found = _lowercase_names(text, lists) if cue else []
        if text.islower():  # no capital anywhere: capitalisation says nothing here
            found.extend(_lowercase_text_names(text, lists, found))
        if found:
            found.extend(_repeated_names(text, found, lists))
        return found
    hits: list[NameHit] = []
    code_of = codes.get
    seen: dict[str, int] = {}
    n = len(toks)
    # Where a list gap (", ", " and ", ", and ", " & ") may follow: the list finder looks only
    # there. Lone words add themselves when the gap after them has a list gap's length.
    maybe_listed: list[int] = []
    verb_after = _PERSON_VERB.match
    toks.append(_FAR)  # the last token's "next": far away (no run, no list gap); popped below
    i = 0
    while i < n:
        s, e = toks[i]
        gap = toks[i + 1][0] - e
        if gap > 2 and not (
            gap in _PARTICLE_GAP_LENGTHS
            and text[e + 1] in "tv"
            and text[e : toks[i + 1][0]] in _PARTICLE_GAPS
        ):
            # The common case, a lone capitalised word (no run can span a gap of 3+ characters):
            # most are ordinary words and are rejected with one dictionary lookup.
            if gap in _LIST_GAP_LENGTHS:
                maybe_listed.append(i)
            i += 1
            tok = text[s:e]
            code = code_of(tok)
            if code is None:  # a name or a rare word: its code is kept for this text only
                code = seen.get(tok)
                if code is None:
                    code = seen[tok] = _code(tok, codes, lists)
            if code == _REJECT:
                continue
            if code != _ACCEPT:
                # _near_before(text, s), its suffix tests inlined: for most words the last two
                # characters before the separators end no context word, and for most others
                # the last three or four do not either.
                if near_at is not None and s > 8:
                    near = s in near_at and _near_before(text, s)
                elif s > 8:
                    raw = text[s - 8 : s].rstrip(_NEAR_SEPARATORS)
                    tail = raw[-2:]
                    if tail in _NEAR_BARE_ENDS:
                        near = (
                            len(raw) < 4
                            or not (tail4 := raw[-4:]).isascii()
                            or tail4 in _NEAR_BARE_SUFFIXES
                            or tail4[-3:] in _NEAR_BARE_SUFFIXES
                            or tail in _NEAR_BARE_SUFFIXES
                        ) and _near_before(text, s)
                    else:
                        near = (len(tail) < 2 or not tail.isascii()) and _near_before(text, s)
                else:
                    near = _near_before(text, s)
                if not near and (code <= _NEED_NEAR or verb_after(text, e) is None):
                    if (
                        code != _WORD
                        and (c := text[e : e + 1]) in _VOCATIVE_ENDS
                        and (c in "?!" or not s or text[s - 1] == "\n")  # _vocative: first test
                        and _vocative(text, s, e, tok, lists)
                    ):
                        hits.append(NameHit(s, e, 0.6, "vocative"))
                    continue
            # _score_run(text, [cur], lists), which for a word that is not rejected is this
            hits.extend(_score_lone(text, s, e, tok, lists))
            continue
        # Group a run of capitalised tokens separated by one space (or ". " after an initial or
        # title, or ", " for "Last, First").
        j = i
        while j + 1 < n:
            gap_text = text[toks[j][1] : toks[j + 1][0]]
            if (
                gap_text in (" ", ". ", ", ", "\t", "  ") and not (gap_text == ", " and j > i)
            ) or gap_text in _PARTICLE_GAPS:  # "Last, First" only for a run's first token
                if gap_text == ". " and not (
                    _is_initial(w := text[toks[j][0] : toks[j][1]]) or w.casefold() in _TITLES
                ):
                    break
                j += 1
            else:
                break
        after = j + 1
        maybe_listed.extend(range(i, min(after, n - 1)))
        run = [(s, e, text[s:e]) for s, e in toks[i:after]]
        i = after
        if (
            len(run) > 1
            and e - s <= 6
            and text[s:e].casefold() in _GREETINGS
            and _greeted(run[1][2].casefold(), lists)
        ):
            run = run[1:]  # "Hi Vinicio,": the greeting is context, not part of the name
            s = run[0][0]
        cur = run[0]
        tok = cur[2]
        if len(run) == 1:  # the common case, one capitalised word: reject cheaply
            code = code_of(tok)
            if (
                code == _REJECT
                or (code is not None and code <= _NEED_NEAR and not _near_before(text, s))
                or ((code is None or code > _NEED_NEAR) and _lone_rejected(text, cur, codes, lists))
            ):
                if text[e : e + 1] in _VOCATIVE_ENDS and _vocative(text, s, e, tok, lists):
                    hits.append(NameHit(s, e, 0.6, "vocative"))
                continue
        else:  # several words: skip runs with no listed name, no title and no context word
            words = [t[2].rstrip(".").casefold() for t in run]
            if (
                first.isdisjoint(words)
                and last.isdisjoint(words)
                and _TITLES.isdisjoint(words)
                and not _foreign_run(*_before_acronym(run, words), lists)
                and not _near_before(text, s)
            ):
                continue
            if len(run) == 2 and words[0] in _STOP and words[0] not in _TITLES:
                # "The Foley": what _score_run gives, the stop word skipped
                b, (bs, be, braw) = words[1], run[1]
                if not (b in _STOP or b in _TITLES or (braw.isupper() and len(braw) <= 3)):
                    hits.extend(_score_lone(text, bs, be, braw, lists))
                continue
            hits.extend(_score_run(text, run, lists, words))
            continue
        hits.extend(_score_lone(text, s, cur[1], tok, lists))  # _score_run of one kept word
    toks.pop()
    hits.extend(_name_lists(text, toks, hits, lists, maybe_listed))
    hits.extend(_speaker_labels(text, hits, lists))
    if cue:
        hits.extend(_lowercase_names(text, lists))
    if hits:
        hits.extend(_repeated_names(text, hits, lists))
    return hits


# ASCII text is tokenised on a copy whose bytes are character classes: ``U`` upper-case letter,
# ``l`` lower-case letter, ``d`` digit or underscore, the three characters ``'-.`` as themselves,
# a space for anything else. The pattern below is ``_TOKEN`` spelled in those classes (for ASCII,
# ``[{_UP}]`` is ``[A-Z]``, ``[^\W\d_A-Z]`` is ``[a-z]`` and ``\w`` is ``[A-Za-z0-9_]``), so it
# finds the same tokens at the same offsets; its literal first byte lets ``re`` jump from one
# upper-case letter to the next instead of testing a Unicode character class at every position.
def _ascii_classes() -> bytes:
    table = bytearray(b" " * 256)
    for i in range(128):
        c = chr(i)
        if "A" <= c <= "Z":
            table[i] = ord("U")
        elif "a" <= c <= "z":
            table[i] = ord("l")
        elif "0" <= c <= "9" or c == "_":
            table[i] = ord("d")
        elif c in "'-.":
            table[i] = i
    return bytes(table)


_ASCII_CLASSES = _ascii_classes()
_TOKEN_CLASSES = re.compile(rb"U(?<![Uld]U)(?:'Ul+|l+(?:['-]?Ul+)?|U+(?:['-]U+)?|\.?)(?![Uld])")


def _spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every ``_TOKEN`` match in ``text``."""
    if text.isascii():
        classes = text.encode("ascii").translate(_ASCII_CLASSES)
        return list(map(_SPAN, _TOKEN_CLASSES.finditer(classes)))
    return list(map(_SPAN, _TOKEN.finditer(text)))


_SPAN = re.Match.span


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, word)`` of every ``_TOKEN`` match in ``text``."""
    return [(s, e, text[s:e]) for s, e in _spans(text)]


# What a lone capitalised word needs to be looked at further, from the word alone: never (short,
# a title or a stop word), a context word before it (a name that is also an English word, or an
# English word), nothing (a listed name), or a context word before or a person verb after it.
# _WORD is _NEED_NEAR for a plain English word, which is no listed name: it is never addressed
# either (see _vocative). The codes up to _NEED_NEAR need only the context word.
_REJECT, _WORD, _NEED_NEAR, _ACCEPT, _NEED_NEAR_OR_VERB = range(5)
# Endings that mark a word as a surname in the languages that use them: Icelandic and Nordic
# patronymics, Czech and Slovak, South Slavic, Ukrainian, Romanian, Greek, Finnish and Russian
# feminine forms. Not -ski (Babinski), -moto (Hashimoto) or -ov (Rostov): eponyms and places.
_SURNAME_ENDINGS = (
    "dóttir",
    "dottir",
    "sson",
    "ová",
    "ć",
    "č",
    "enko",
    "escu",
    "poulos",
    "nen",
    "ova",
)
# Codes of the common lone words, for the default lists: stop words, titles, short words, English
# words and the names that are English words too, never an unambiguous listed name or an unknown
# word (which may be a person's: those are kept for one text only). Cleared past the maximum.
_LONE_CODES: dict[str, int] = {}
_LONE_CODES_MAX = 20_000


def _lone_code(t: str, lists: NameLists) -> int:
    """The code of the casefolded lone word ``t``: the rejection test of ``find_names``, which
    is ``(t in amb and (t in _STOP or not near)) or len(t) < 3 or t in _TITLES or (t not in
    first and t not in last and not near and (t in eng or not verb))``, split by what it needs."""
    amb = lists.ambiguous
    if len(t) < 3 or t in _TITLES or (t in amb and t in _STOP):
        return _REJECT
    if t in amb:
        return _NEED_NEAR
    if t in lists.first or t in lists.last:
        return _ACCEPT
    if t in lists.english:
        return _WORD
    if _surname_shaped(t, lists):
        return _ACCEPT
    return _NEED_NEAR_OR_VERB


def _surname_shaped(t: str, lists: NameLists) -> bool:
    """The casefolded word ``t`` has a surname ending and is no English word (``yefremova``)."""
    return len(t) >= 6 and t.endswith(_SURNAME_ENDINGS) and not lists.is_english(t)


def _code(tok: str, codes: dict[str, int], lists: NameLists) -> int:
    """The code of the lone word ``tok``, kept in ``codes`` if it is a common word's."""
    code = _lone_code(tok.casefold(), lists)
    return _remember(codes, tok, code) if code <= _NEED_NEAR else code


def _lone_rejected(
    text: str, token: tuple[int, int, str], codes: dict[str, int], lists: NameLists
) -> bool:
    """The rejection test of ``find_names`` for the lone capitalised word ``token``."""
    s, e, tok = token
    code = codes.get(tok)
    if code is None:
        code = _code(tok, codes, lists)
    if code == _REJECT:
        return True
    if code == _ACCEPT:
        return False
    if code <= _NEED_NEAR:
        return not _near_before(text, s)
    return not _near_before(text, s) and not _person_verb_after(text, e)


_LOW = "a-zß-öø-ÿ\u0100-\u024f"
# Names typed in lower case after a strong cue ("my name is ludmila", "name: kenji t. morimoto")
# or after "follow up with" (then the first word must be a listed first name).
_LOWER_CUE = re.compile(
    r"(?:(?P<strong>\b(?:[Mm]y name is|[Nn]ame is|[Nn]ame was|[Nn]ame)[ \t]*[:?]?)|"
    r"\bfollow up with)[ \t]+"
    rf"(?P<n>[{_LOW}][{_LOW}'-]+(?: [a-z]\.?(?=\s))?(?: [{_LOW}][{_LOW}'-]+)?)"
)


def _lower_cue_matches(text: str) -> Iterator[re.Match[str]]:
    """Exactly ``_LOWER_CUE.finditer(text)``, tried only where a match can start.

    Every match starts one character before an ``"ame"`` (``[Nn]ame``), four before one
    (``[Mm]y name``) or at ``"follow up with"``; ``finditer`` tried every position, about
    350 µs per 8 KB of text that holds a cue word anywhere. ``match(text, pos)`` sees the
    characters before ``pos``, so the leading ``\\b`` is judged as ``finditer`` judges it.
    """
    starts: set[int] = set()
    i = text.find("ame")
    while i != -1:
        starts.update((i - 1, i - 4))
        i = text.find("ame", i + 1)
    i = text.find("follow up with")
    while i != -1:
        starts.add(i)
        i = text.find("follow up with", i + 1)
    match = _LOWER_CUE.match
    end = 0  # also skips the negative starts of an "ame" at the start of the text
    for start in sorted(starts):
        if start >= end:  # matches do not overlap: the next one starts at or after the last end
            m = match(text, start)
            if m is not None:
                yield m
                end = m.end()


def _has_lower_cue(text: str) -> bool:
    """``"name"``, ``"Name"`` or ``"follow up with"`` in ``text``: a cheap test before the
    lower-case name pattern runs (hyperscan's literal matcher on longer texts, else substring
    searches in C)."""
    if len(text) >= _CUE_HS_MIN_CHARS:
        scanned = _text_scan(text)
        if scanned is not None:
            return scanned[0]
    return _cue_by_search(text)


def _cue_by_search(text: str) -> bool:
    # One search for "ame" first: it is absent from most texts, and a search for "name" or
    # "Name" costs as much as one for "ame" (their last letter is a common one).
    return ("ame" in text and ("name" in text or "Name" in text)) or "follow up with" in text


# From this length one hyperscan pass finds the cue words (about five times faster than three
# substring searches: a substring of the text is one of its UTF-8 encoding, and the reverse) and,
# in ASCII text, the capitalised words that may follow a context word.
_CUE_HS_MIN_CHARS = 1024
_CUE_WORDS = (b"name", b"Name", b"follow up with")
_text_local = threading.local()
_cue_db: list[Any] = []  # [database] once compiled, [None] when hyperscan is missing or fails


def _hs_near_patterns() -> list[bytes]:
    """Where a capitalised word of ASCII text may follow a context word: a context word (any
    case) at a word start, then separators, then an upper-case letter; or 30 separators and an
    upper-case letter, for a word cut by the start of ``_near_before``'s 48-character window (it
    is then followed by 35 separators at least, and its start is no word start in the text).
    Every offset where ``_near_before`` holds and a capitalised word starts ends a match."""
    words = "|".join(re.escape(w) for w in _NEAR_BARE).encode()
    return [rb"\b(?i:" + words + rb")[ \t:#,.\-?]*[A-Z]", rb"[ \t:#,.\-?]{30}[A-Z]"]


def _text_db() -> Any:
    if not _cue_db:
        db = None
        if _hs is not None:
            exprs = [*_CUE_WORDS, *_hs_near_patterns()]
            single = _hs.HS_FLAG_SINGLEMATCH
            try:
                db = _hs.Database()
                db.compile(
                    expressions=exprs,
                    ids=list(range(len(exprs))),
                    elements=len(exprs),
                    flags=[single] * len(_CUE_WORDS) + [0] * (len(exprs) - len(_CUE_WORDS)),
                )
            except Exception:  # hyperscan.error, an unsupported CPU: the substring searches
                db = None
        _cue_db.append(db)
    return _cue_db[0]


def _text_scan(text: str) -> tuple[bool, set[int]] | None:
    """Whether a cue word occurs in ``text``, and where in it an upper-case letter follows a
    context word (byte offsets: character offsets in ASCII text only); ``None`` without
    hyperscan."""
    db = _text_db()
    if db is None:
        return None
    scratch = getattr(_text_local, "scratch", None)
    if scratch is None:
        scratch = _text_local.scratch = _hs.Scratch(db)
    cue: list[bool] = []
    near: set[int] = set()
    add = near.add
    n_cue = len(_CUE_WORDS)

    def on_match(i: int, start: int, end: int, flags: int, ctx: object) -> None:
        if i < n_cue:
            cue.append(True)
        else:
            add(end - 1)

    db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=on_match, scratch=scratch)
    return bool(cue), near


_LOWER_WORD = re.compile(rf"[{_LOW}][{_LOW}'-]+|[a-z]\.?")


def _lowercase_names(text: str, lists: NameLists) -> list[NameHit]:
    out: list[NameHit] = []
    for m in _lower_cue_matches(text):
        start = m.start("n")
        words = [(w.start() + start, w.end() + start, w.group()) for w in
                 _LOWER_WORD.finditer(m.group("n"))]  # fmt: skip
        first_word = words[0][2]
        strong = m.group("strong") is not None
        if first_word in lists.ambiguous or first_word in _PLACES:
            continue
        if not (
            (first_word in lists.first and not lists.is_english(first_word))
            or (strong and not lists.is_english(first_word))
        ):
            continue
        keep = 1
        for k in range(1, len(words)):  # more words: an initial, a listed or non-English word
            w = words[k][2]
            if _is_initial(w) or (
                len(w) > 2
                and w not in _STOP
                and (w in lists.first or w in lists.last or not lists.is_english(w))
            ):
                keep = k + 1
            else:
                break
        while keep > 1 and _is_initial(words[keep - 1][2]):
            keep -= 1
        out.append(
            NameHit(words[0][0], words[keep - 1][1], 0.7 if strong else 0.6, "lowercase+context")
        )
    return out


# A first name, maybe an initial, and a second word, in text written all in lower case.
_LOWER_PAIR = re.compile(
    rf"(?<![{_LOW}'-])(?P<a>[{_LOW}][{_LOW}'-]+) (?:(?P<i>[a-z])\.? )?(?P<b>[{_LOW}][{_LOW}'-]+)"
    rf"(?![{_LOW}'-])"
)
# Three or more lower-case words joined by ", " with " and " (or ", and ") before the last.
_LOWER_LIST = re.compile(
    rf"(?<![{_LOW}'-])[{_LOW}]{{2,}}(?:, [{_LOW}]{{2,}})+,? and [{_LOW}]{{2,}}(?![{_LOW}'-])"
)
_LOWER_ITEM = re.compile(rf"[{_LOW}]{{2,}}")
_LOWER_TITLE = re.compile(rf"(?<![{_LOW}])(?:dr|mr|mrs|ms)\.? (?P<b>[{_LOW}][{_LOW}'-]+)")


def _lowercase_text_names(text: str, lists: NameLists, found: list[NameHit]) -> list[NameHit]:
    """Names in a text typed all in lower case (``naomi ryan``, ``benjamin a seiler``, ``mr.
    elliott``): a sure first name that is no English word followed by a listed surname or a word
    that is no English word (0.6), or a title then a listed or non-English word (0.8); the
    first line of a contact block (see _lower_heading)."""
    first, last, strong, amb = lists.first, lists.last, lists.strong, lists.ambiguous
    # Characters already in a name: a bytemap, so that the test per candidate costs its own
    # length, not the number of names found so far (a lower-case log of 8,000 names took 1.5 s
    # with a list of spans).
    taken = bytearray(len(text))
    for h in found:
        taken[h.start : h.end] = b"\x01" * (h.end - h.start)
    out: list[NameHit] = []

    def second(w: str) -> bool:
        return (
            len(w) > 2
            and w not in _STOP
            and w not in _PLACES
            and ((w in last and w not in amb) or not lists.is_english(w))
        )

    def free(s: int, e: int) -> bool:
        return taken.find(1, s, e) < 0

    def take(s: int, e: int) -> None:
        taken[s:e] = b"\x01" * (e - s)

    for m in _LOWER_TITLE.finditer(text):
        s, e = m.span("b")
        b = m.group("b")
        if b.endswith("'s"):
            b, e = b[:-2], e - 2
        if (
            len(b) > 2
            and b not in _STOP
            and (b in last or b in first or not lists.is_english(b))
            and free(s, e)
        ):
            out.append(NameHit(s, e, 0.8, "lowercase+title"))
            take(s, e)
    for lm in _LOWER_LIST.finditer(text):  # "they had 6: leonti, terrence, pamela and brian"
        items = [(w.start(), w.end(), w.group()) for w in _LOWER_ITEM.finditer(lm.group())]
        sure = sum(1 for _, _, w in items if w in first and w in strong and not lists.is_english(w))
        if sure < 2:
            continue
        base = lm.start()
        for ia, ib, w in items:
            if (w in first or second(w)) and w not in _STOP and free(base + ia, base + ib):
                out.append(NameHit(base + ia, base + ib, 0.6, "lowercase-list"))
                take(base + ia, base + ib)
    pos = 0
    while (pm := _LOWER_PAIR.search(text, pos)) is not None:
        a, b = pm.group("a"), pm.group("b")
        s, e = pm.start("a"), pm.end("b")
        if b.endswith("'s"):  # "olga krylova's killers"
            b, e = b[:-2], e - 2
        if (
            a in first
            and a in strong
            and a not in _PLACES
            and not lists.is_english(a)
            and second(b)
            and free(s, e)
        ):
            out.append(NameHit(s, e, 0.6, "lowercase-text"))
            take(s, e)
            pos = e
        else:
            pos = pm.end("a")  # the second word may start the next pair
    head = _lower_heading(text, lists)
    if head is not None and free(head.start, head.end):
        out.append(head)
    return out


# The first line of a block, after any quoting marks ("> ", "??? "): two or three words, maybe
# with a middle initial, and nothing else on the line.
_LOWER_HEAD = re.compile(
    rf"[^{_LOW}\n]*(?P<n>[{_LOW}][{_LOW}'-]+(?: [a-z]\.?)? [{_LOW}][{_LOW}'-]+"
    rf"(?: [{_LOW}][{_LOW}'-]+)?)[ \t]*\n"
)


def _lower_heading(text: str, lists: NameLists) -> NameHit | None:
    """A contact block typed in lower case names its person on its first line (``aksel
    kristensen`` / ``stillwater supercomputing inc.`` / ``psc 5420, box 2708`` / phones...): a
    first line of two or three words (a middle initial allowed) heading three lines or more,
    none of them an English word (a listed surname may be), a stop word, a place, a title or a
    drug name, and one at least a listed name or surname-shaped (0.6). ``lisinopril hctz`` /
    ``10 mg daily`` is no person."""
    if text.count("\n") < 2:
        return None
    m = _LOWER_HEAD.match(text)
    if m is None:
        return None
    words = [w for w in m.group("n").split(" ") if len(w.rstrip(".")) > 1]
    first, last = lists.first, lists.last
    listed = False
    for k, w in enumerate(words):
        if (
            w in _STOP
            or w in _PLACES
            or w in _TITLES
            or w.endswith(_DRUG_ENDINGS)
            or (lists.is_english(w) and not (k and w in last and w not in lists.ambiguous))
        ):
            return None
        listed = listed or w in first or w in last or _surname_shaped(w, lists)
    return NameHit(m.start("n"), m.end("n"), 0.6, "lowercase-heading") if listed else None


def _foreign_run(run: list[tuple[int, int, str]], words: list[str], lists: NameLists) -> bool:
    """Two or three Title Case words, each a listed name or no English word, one at least not
    English (``Olga Krylova``; not ``Chest Pain``, ``Johnson Technologies`` or ``CT ABDOMEN``).
    A middle initial does not count (``Zsófia K Bérczes``), nor capitalised English words
    before the name (``Producer Ilaria Benvenuti``)."""
    if len(run) >= 3:
        k = _lead_english(run, lists)
        run, words = run[k:], words[k:]
    if len(run) >= 3:
        inner = [(r, w) for r, w in zip(run, words, strict=True) if len(w) > 1]
        if not inner or inner[0][1] != words[0] or inner[-1][1] != words[-1]:
            return False  # initials only, or an initial first or last, is not "First I. Last"
        run, words = [r for r, _ in inner], [w for _, w in inner]
    if not 2 <= len(run) <= 3 or _is_place(words):
        return False
    foreign = False
    for (_, _, raw), w in zip(run, words, strict=True):
        if len(w) < 2 or raw.isupper() or w in _STOP or w in _PLACES:
            return False
        english = lists.is_english(w)
        if english and w not in lists.first and w not in lists.last:
            return False
        foreign = foreign or not english
    return foreign


def _before_acronym(
    run: list[tuple[int, int, str]], words: list[str]
) -> tuple[list[tuple[int, int, str]], list[str]]:
    """The run up to a short all-caps word after a Title Case start (``Okafor Ngozi`` of
    ``Okafor Ngozi MRN``), as the scoring splits it."""
    if run[0][2].isupper():
        return run, words
    for k in range(1, len(run)):
        raw = run[k][2]
        if raw.isupper() and 1 < len(raw.rstrip(".")) <= 3:
            return run[:k], words[:k]
    return run, words


_LIST_GAPS = (", ", " and ", ", and ", " & ")
_LIST_GAP_LENGTHS = frozenset(map(len, _LIST_GAPS))
# A verb that takes a person as its subject, right after a capitalised word: "Ottavio shouted",
# "Becker said", "Kevin had given", "Ruslanbek is from".
_PERSON_VERB = re.compile(
    r"(?:'s)?[ \t]+(?:said|says|wrote|writes|told|tells|asked|asks|replied|answered|explained|"
    r"shouted|yelled|whispered|lives|lived|spent|began|died|was born|is from|comes from|"
    r"had given|has given|gave|called|emailed|texted|thinks|thought|wants|wanted)\b"
    # a possessive before a word for a relative or a personal detail: "Dilnoza's kid", "Tomasz's
    # address" ("Parkinson's disease" is not one)
    r"|['’]s[ \t]+(?:kid|kids|son|daughter|wife|husband|mother|father|mom|dad|brother|sister|"
    r"children|parents|family|friend|partner|address|phone|number|email|house|home|birthday|"
    r"killers?|murder|funeral|grave)\b"
)


# After a listed first name only (not after a surname or another word): "David is a very...".
_BE_AFTER = re.compile(r"[ \t]+(?:is|was|has|had)\b")


def _addressed(text: str, start: int, end: int) -> bool:
    """A speaker label (``Alice: "Who are you?"`` at a line start) or a vocative (``Bryce, can
    you...`` at a line start, ``Remember me, Maria?``)."""
    after = text[end : end + 1]
    line_start = start == 0 or text[start - 1] == "\n"
    if after == ":":
        return line_start
    return after in (",", "?", "!") and (line_start or text[max(0, start - 2) : start] == ", ")


_VOCATIVE_ENDS = frozenset("?!,:")
# After "Name, " at a line start: a question put to the person named ("Kuba, can I please...").
_ASKED = re.compile(r"(?:can|could|would|will|may) (?:I|you|we)\b")
_QUOTES = frozenset('"\u201c')
# USAN stems of common drug classes: a drug name opening a patient's message ("Lisinopril, can
# you refill it?") is no person addressed.
_DRUG_ENDINGS = (
    "pril",
    "sartan",
    "olol",
    "statin",
    "mab",
    "tinib",
    "vir",
    "cillin",
    "mycin",
    "cycline",
    "floxacin",
    "azole",
    "dipine",
    "tidine",
    "setron",
    "triptan",
    "gliptin",
    "gliflozin",
    "parin",
    "xaban",
    "lukast",
    "semide",
    "thiazide",
    "azepam",
    "zolam",
    "oxetine",
    "triptyline",
    "profen",
    "coxib",
    "formin",
    "glitazone",
    "terol",
    "sonide",
    "olone",
    "caine",
    "afil",
    "dronate",
)


def _vocative(text: str, start: int, end: int, tok: str, lists: NameLists) -> bool:
    """A lone word that the rules above leave out, addressed or quoted as a person:

    - ``Remember me, Maria?``, ``Don't go to town, Derrick!``: a listed first name (English
      word or not) set off by a comma and ending a question or an exclamation;
    - ``Kuba, can I please speak...``: a word opening a line, then a question to it;
    - ``Koppány: "Who are you?"``: a transcript's speaker, a label opening a line followed by a
      quotation.

    The word must be a listed first name or no English word; stop words (months, ``Mark``),
    places and titles never are: ``Note: "..."``, ``Aspirin, can you...`` stay words."""
    after = text[end]  # the caller saw one of _VOCATIVE_ENDS there
    if after in "?!":
        if text[start - 2 : start] != ", ":
            return False
    elif start and text[start - 1] != "\n":
        return False
    elif after == ":":  # the place tests first: section labels (``Neuro:``) fail them cheaply
        rest = text[end + 1 : end + 3].lstrip(" ")
        if not rest or rest[0] not in _QUOTES:
            return False
    elif text[end + 1 : end + 2] != " " or _ASKED.match(text, end + 2) is None:
        return False
    w = tok.casefold()
    return not (
        len(w) < 3
        or tok.isupper()
        or w in _STOP
        or w in _TITLES
        or w in _PLACES
        or not (w in lists.first or (after not in "?!" and not lists.is_english(w)))
        or w.endswith(_DRUG_ENDINGS)
    )


def _greeted(word: str, lists: NameLists) -> bool:
    """Whether the word after a greeting is scored as after a context word: a sure name or no
    English word (``Hi Vinicio``, ``Dear Mary``; not ``Hello World``, ``Dear Sir``)."""
    return word in lists.strong or not lists.is_english(word)


def _person_verb_after(text: str, end: int) -> bool:
    return _PERSON_VERB.match(text, end) is not None


def _lead_english(core: list[tuple[int, int, str]], lists: NameLists) -> int:
    """How many leading words of a run are capitalised English words that are no listed name
    (``Producer`` of ``Producer Ilaria Benvenuti``), leaving two words at least."""
    k = 0
    while len(core) - k > 2:
        w = core[k][2].rstrip(".").casefold()
        if w in lists.first or w in lists.last or not lists.is_english(w):
            break
        k += 1
    return k


def _is_place(words: list[str]) -> bool:
    return (
        words[-1] in _PLACE_LAST
        or words[-1] in _PLACES
        or not _PLACE_FIRST_NOT_DIRECTION.isdisjoint(words[1:])
        or words[0] in _PLACE_FIRST
    )


_DIRECTIONS = frozenset({"north", "south", "east", "west", "upper", "lower", "great", "little"})
_PLACE_FIRST_NOT_DIRECTION = _PLACE_FIRST - _DIRECTIONS


_NUMBER_BEFORE = re.compile(r"\d[ \t]+$")
_NUMBER_AFTER = re.compile(r"[ \t]+\d")


def _numbered(text: str, start: int, end: int) -> bool:
    """A house number right before or after the words (``864 Piazzetta Rubiani``, ``Hoge Wei
    32``): a street, not a person."""
    return bool(
        _NUMBER_BEFORE.search(text, max(0, start - 8), start) or _NUMBER_AFTER.match(text, end)
    )


def _name_lists(
    text: str,
    toks: Sequence[tuple[int, int] | tuple[int, int, str]],
    found: list[NameHit],
    lists: NameLists,
    maybe: list[int] | None = None,
) -> list[NameHit]:
    """Items of ``A, B and C`` lists where two items at least are unambiguous listed names.

    ``maybe``, when given, holds in ascending order every ``k`` (and maybe others) where a list
    gap separates tokens ``k`` and ``k + 1``."""
    out: list[NameHit] = []
    taken = {(h.start, h.end) for h in found if h.confidence >= 0.6}
    # Tokens k and k + 1 with a list gap between them; the lists are the chains of such links.
    if maybe is None:
        maybe = list(range(len(toks) - 1))
    links = [
        k
        for k in maybe
        if toks[k + 1][0] - toks[k][1] in _LIST_GAP_LENGTHS
        and text[toks[k][1] : toks[k + 1][0]] in _LIST_GAPS
    ]
    n_links = len(links)
    x = 0
    while x < n_links:
        i = j = links[x]
        while x < n_links and links[x] == j:
            j += 1
            x += 1
        pair = j - i == 1 and text[toks[i][1] : toks[j][0]] in (" and ", " & ")
        if j - i >= 2 or pair:
            items = [(t[0], t[1], text[t[0] : t[1]]) for t in toks[i : j + 1]]
            words = [t[2].casefold() for t in items]
            # a list of three or more with two unambiguous listed names, or a pair ("Okonjo and
            # Whitfield") with one listed name and another listed name or no English word
            need = 1 if pair else 2
            strong = sum(1 for w in words if w in lists.strong and w not in _TITLES)
            if strong >= need:
                # In a list of three or more with two unambiguous names, a listed first name
                # that is also an English word is a name too ("Sheila, Donna, Sherry and Shane").
                given = not pair and strong >= 2
                for (s, e, raw), w in zip(items, words, strict=True):
                    if (s, e) in taken or len(w) < 2 or raw.isupper() or w in _STOP or w in _PLACES:
                        continue
                    if (
                        lists.is_english(w)
                        and w not in lists.strong
                        and not (given and w in lists.first)
                    ):
                        continue
                    out.append(NameHit(s, e, 0.6, "name-list"))
    return out


_ORG_WORDS = frozenset(
    {"inc", "ltd", "llc", "llp", "corp", "co", "gmbh", "plc", "foundation", "group", "labs"}
)
# An upper-case letter inside a word, except after Mc/Mac, O', D' or a hyphen (McDowell,
# O'Brien, Smith-Jones): camel case, a product's name.
_CAMEL = re.compile(r"(?<!^Mc)(?<!^Mac)(?<!^[OD]')(?<!-)(?<=[^\W\d_])[A-Z]")
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'-]*(?:['-][^\W\d_]+)*")


def _repeated_names(text: str, found: list[NameHit], lists: NameLists) -> list[NameHit]:
    """Other mentions of a found name's words (0.6): once ``Yuri Bulgakov`` is a name, so is
    ``early Bulgakov`` and ``Bulgakov's`` anywhere in the same text, as a reader (or a NER
    model's coreference) would take them; clinical notes name a patient in full once, then
    ``Okafor reports...``.

    Seeds come from full names (two words or more) and titled names at 0.6 or more that hold no
    English word, in the same spelling (case included, so ``Dr. Brown`` makes no name of
    ``Brown stool``): their listed and surname-shaped words, the last word after a sure first
    name (``Yuri Bulgakov``) and the first before a sure surname (``borna jerković``). Other
    unlisted words are not: ``Unicode Standard`` or ``Google Inc`` are Title Case phrases the
    run rules may take for names, and carried over, each mention of Unicode would be one more
    false finding. Stop words, titles, places, company suffixes and camel case (``FreeType``)
    are never carried over, nor lower-case words unless the whole text is lower case. A weaker
    hit on a mention (``early Goldberg`` alone is 0.4) does not stop it."""
    lower_text: bool | None = None
    cache = _SEEDS if lists is name_lists() else {}
    named: set[tuple[int, int]] = set()
    for h in found:
        if h.confidence >= 0.6 and (h.rule == "title" or " " in text[h.start : h.end]):
            named.add((h.start, h.end))
    # How often each seed occurs inside the found names: a seed the text holds no more often
    # than that has no other mention (the common case), and needs no search. Counted only
    # when the names do not overlap, so that no mention is counted twice.
    seeds: dict[str, int] = {}
    end = -1
    disjoint = True
    for s, e in sorted(named):
        disjoint = disjoint and s >= end
        end = max(end, e)
        name = text[s:e]
        got = cache.get(name)
        if got is None:
            got = _remember(cache, name, _seeds_of(name, lists))
        for w in got:
            if w.islower():
                if lower_text is None:
                    lower_text = text.islower()
                if not lower_text:
                    continue
            seeds[w] = seeds.get(w, 0) + name.count(w)
    # A few seeds: one substring search each (C, and most are skipped by the count). Many (a
    # log of patients, one name a line): one Aho-Corasick pass, since a search per seed would
    # make the pass quadratic (2.3 s on 256 KiB of such lines, against 0.2 s for the rest).
    many = _ac is not None and len(seeds) > _FEW_SEEDS
    if disjoint and not many:
        seeds = {w: n for w, n in seeds.items() if text.count(w) > n}
    if not seeds:
        return []
    spans = sorted((h.start, h.end) for h in found if h.confidence >= 0.6)
    starts = [a for a, _ in spans]
    reach = list(accumulate((b for _, b in spans), max))  # furthest end among the first k spans
    out: list[NameHit] = []
    for s, e in _occurrences(_masked(text, spans) if many else text, seeds, many):
        before, after = text[s - 1 : s] if s else "", text[e : e + 1]
        if (before and (before.isalnum() or before in "_'-")) or (
            after and (after.isalnum() or after in "_-")
        ):
            continue  # inside a longer word
        k = bisect_right(starts, e - 1)  # spans starting before e; one of them may cover s..e
        if k and reach[k - 1] > s:
            continue
        out.append(NameHit(s, e, 0.6, "repeated-name", _context(text, s)))
    out.sort()
    return out


_FEW_SEEDS = 16
_T = TypeVar("_T")


def _remember(cache: dict[str, _T], key: str, value: _T) -> _T:
    """Store ``value`` in a bounded per-process cache (cleared past ``_LONE_CODES_MAX``)."""
    if len(cache) >= _LONE_CODES_MAX:
        cache.clear()
    cache[key] = value
    return value


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the sorted ``spans`` blanked (same length): mentions inside found names,
    most of a log's, are then never reported to be skipped one by one."""
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        if e <= pos:
            continue
        cut = max(s, pos)
        parts.append(text[pos:cut])
        parts.append(" " * (e - cut))
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def _occurrences(text: str, seeds: Iterable[str], many: bool) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of every occurrence of every seed in ``text`` (any order)."""
    if many:
        auto = _ac.Automaton()
        for w in seeds:
            auto.add_word(w, len(w))
        auto.make_automaton()
        for last, n in auto.iter(text):
            yield last + 1 - n, last + 1
        return
    find = text.find
    for w in seeds:
        pos = find(w)
        while pos >= 0:
            yield pos, pos + len(w)
            pos = find(w, pos + len(w))


def _seeds_of(name: str, lists: NameLists) -> tuple[str, ...]:
    """The words of the found name ``name`` that _repeated_names carries over."""
    words = _NAME_WORD.findall(name)
    classes = _SEED_CLASSES if lists is name_lists() else {}
    kinds = []
    for w in words:
        kind = classes.get(w)
        kinds.append(_remember(classes, w, _seed_class(w, lists)) if kind is None else kind)
    if not words or _SEED_ENGLISH in kinds:
        return ()  # "Perl Kit": a name run with an English word in it is too weak a seed
    last = len(words) - 1
    out = []
    for k, (w, kind) in enumerate(zip(words, kinds, strict=True)):
        if kind == _SEED_NEVER:
            continue
        if kind == _SEED_BY_PLACE:
            if k == last and k > 0:  # "Yuri Bulgakov": after a sure first name
                given = words[0].casefold()
                if not (given in lists.first and given in lists.strong):
                    continue
            elif k == 0 and last > 0:  # "borna jerković": before a sure surname
                if kinds[last] != _SEED_SURNAME:
                    continue
            else:
                continue
        out.append(w)
    return tuple(out)


# The seeds of found names, for the default lists (a name's text decides them).
_SEEDS: dict[str, tuple[str, ...]] = {}
# What a word of a found name can seed (see _repeated_names): it marks the name as too weak
# (English), never seeds, seeds (a listed name or a surname's shape, _SEED_SURNAME when a sure
# surname), or seeds only from its place next to a sure first name or surname.
_SEED_ENGLISH, _SEED_NEVER, _SEED_LISTED, _SEED_SURNAME, _SEED_BY_PLACE = range(5)
# Each word's class, for the default lists (names repeat across texts more than whole names).
_SEED_CLASSES: dict[str, int] = {}


def _seed_class(w: str, lists: NameLists) -> int:
    low = w.casefold()
    if len(w) > 2 and lists.is_english(low):
        return _SEED_ENGLISH
    if (
        len(w) < 3
        or w.isupper()
        or low in _STOP
        or low in _TITLES
        or low in _PLACES
        or low in _ORG_WORDS
        or low in lists.ambiguous
        or _CAMEL.search(w) is not None
    ):
        return _SEED_NEVER
    if (low in lists.last and low in lists.strong) or _surname_shaped(low, lists):
        return _SEED_SURNAME
    if low in lists.first or low in lists.last:
        return _SEED_LISTED
    return _SEED_BY_PLACE


_LABEL = re.compile(r"([^\W\d_][\w'-]*):")  # matched at line starts only


def _line_labels(text: str) -> list[tuple[int, int]]:
    """Spans of the capitalised ``Word:`` labels that start a line. Each line start is tried
    with an anchored match: a MULTILINE ``^`` search tried every offset (~55 µs per 8.5 KB)."""
    labels: list[tuple[int, int]] = []
    match, find = _LABEL.match, text.find
    pos = 0
    while pos >= 0:
        m = match(text, pos)
        if m is not None and m.group(1)[0].isupper():
            labels.append(m.span(1))
        pos = find("\n", pos)
        if pos >= 0:
            pos += 1
    return labels


def _speaker_labels(text: str, found: list[NameHit], lists: NameLists) -> list[NameHit]:
    """Speaker labels of a transcript (``Ubul: What a wife.`` / ``Nicole: Remember me...`` /
    ``John: You saved my life!``): when two labels at least are sure first names, the other
    capitalised labels that are no English word are names too (0.6). Section labels of a note
    (``Neuro:``, ``Abd:``, ``ROS:``) never include two first names."""
    if text.count("\n") < 2:  # three lines at least
        return []
    labels = _line_labels(text)
    if len(labels) < 3:
        return []
    words = [text[s:e].casefold() for s, e in labels]
    first, strong = lists.first, lists.strong
    if sum(1 for w in set(words) if len(w) >= 3 and w in first and w in strong) < 2:
        return []
    taken = {(h.start, h.end) for h in found if h.confidence >= 0.6}
    out: list[NameHit] = []
    for (s, e), w in zip(labels, words, strict=True):
        if (s, e) in taken or len(w) < 3 or text[s:e].isupper() or w in _STOP or w in _PLACES:
            continue
        if lists.is_english(w) and w not in strong:
            continue
        out.append(NameHit(s, e, 0.6, "speaker-label"))
    return out


def _score_run(
    text: str,
    run: list[tuple[int, int, str]],
    lists: NameLists,
    words: list[str] | None = None,
) -> list[NameHit]:
    """Hits in a run of capitalised words; ``words``: each one's ``rstrip(".").casefold()``
    when the caller has them."""
    first, last = lists.first, lists.last
    if words is None:
        words = [t[2].rstrip(".").casefold() for t in run]
    out: list[NameHit] = []
    k = 0
    while k < len(run):
        low = words[k]
        if low in _TITLES and k + 1 < len(run):
            # Title: take up to three following capitalised tokens (initials allowed).
            end_k = k + 1
            while end_k + 1 < len(run) and end_k - k < 3:
                nxt = run[end_k + 1][2].casefold()
                if nxt in _NOT_AFTER_TITLE or nxt in _TITLES:
                    break
                end_k += 1
            if run[k + 1][2].casefold() not in _NOT_AFTER_TITLE:
                out.append(NameHit(run[k + 1][0], run[end_k][1], 0.9, "title"))
            k = end_k + 1
            continue
        k_start = k
        while k < len(run):
            raw = run[k][2]
            t = words[k]
            if (
                t in _STOP
                and not (k > k_start and t in last)
                and not (k > k_start and _is_initial(raw) and k + 1 < len(run))
            ):
                break
            if t in _TITLES or (raw.isupper() and len(raw) <= 3 and len(run) > 1 and k == k_start):
                break
            if (
                raw.isupper()
                and 1 < len(raw.rstrip(".")) <= 3
                and k > k_start
                and not run[k_start][2].isupper()
            ):
                break  # "Okafor Ngozi MRN 1234567": an acronym ends a Title Case name
            known = t in first or t in last
            if not known and not (_is_initial(raw) and k > k_start) and len(t) < 2:
                break
            k += 1
        end = k
        if end == k_start:
            k += 1
            continue
        while end > k_start and _is_initial(run[end - 1][2]):  # drop trailing initials
            end -= 1
        if end == k_start:
            continue
        out.extend(_score_core(text, run[k_start:end], lists, words[k_start:end]))
    return out


def _score_core(
    text: str,
    core: list[tuple[int, int, str]],
    lists: NameLists,
    words: list[str] | None = None,
) -> list[NameHit]:
    first, last, amb = lists.first, lists.last, lists.ambiguous
    if len(core) > 4:  # a Title Case heading, not a name
        return []
    s, e = core[0][0], core[-1][1]
    near = _near_context(text, s)
    if len(core) == 1:
        return _score_lone(text, s, e, core[0][2], lists, near=near)
    if words is None:
        words = [c[2].rstrip(".").casefold() for c in core]
    if len(core) >= 3 and not near:
        lead = _lead_english(core, lists)
        if lead:  # "Producer Ilaria Benvenuti": the name is after the English words
            return _score_core(text, core[lead:], lists, words[lead:])
    full = [w for w in words if len(w) > 1]
    if _is_place(full) and not near:
        return []
    if "," in text[s:e]:
        ok = words[0] in last and words[-1] in first
        conf, rule = (0.85 if ok else 0.0), "last-comma-first"
        if not ok and near:
            conf = 0.75
    else:
        known = len([w for w in full if w in first or w in last])
        rule = "first-last"
        if words[0] in first and words[-1] in last:
            conf = 0.85
        elif known >= 2:
            conf = 0.6
        elif known:
            conf = 0.45
        else:
            conf = 0.3
            rule = "capitalised-run"
        if conf < 0.6 and _foreign_run(core, words, lists) and not _numbered(text, s, e):
            conf, rule = 0.6, "unlisted-name"
        if conf < 0.7 and words[0] in first and _person_verb_after(text, e):
            conf, rule = 0.7, "name+verb"
        if near:
            conf = max(conf, 0.8)
    if amb.issuperset(full) and not near:
        conf = min(conf, 0.45)
    if conf <= 0:
        return []
    ctx = _context(text, s)
    if ctx:
        conf = min(0.97, conf + 0.1)
    return [NameHit(s, e, conf, rule, ctx)]


def _score_lone(
    text: str, s: int, e: int, tok: str, lists: NameLists, *, near: bool | None = None
) -> list[NameHit]:
    """``_score_core`` of the one-word core ``tok`` at ``[s, e)`` (``near``: its context test,
    when the caller has it)."""
    first, last, amb = lists.first, lists.last, lists.ambiguous
    w = tok.rstrip(".").casefold()
    if near is None:
        near = _near_context(text, s)
    if len(w) < 3 or (w in amb and not near) or (w in _PLACES and not near):
        return []
    if len(w) == 3 and tok.isupper() and not near:  # PAM, SHA, NAN: an acronym, alone
        return []
    listed = w in first or w in last
    if _person_verb_after(text, e) and (listed or not lists.is_english(w)):
        return [NameHit(s, e, 0.7, "single+verb", _context(text, s))]
    if w in first and w not in amb and _BE_AFTER.match(text, e):
        return [NameHit(s, e, 0.6, "first-name+verb", _context(text, s))]  # "David is"
    if w in first and w not in amb and not lists.is_english(w) and _addressed(text, s, e):
        return [NameHit(s, e, 0.6, "first-name+address", _context(text, s))]  # "me, Maria?"
    if near:
        return [NameHit(s, e, 0.75 if listed else 0.6, "single+context", _context(text, s))]
    if listed:
        ctx = _context(text, s)
        if ctx:
            return [NameHit(s, e, 0.7, "single+context", ctx)]
    if w in first and w not in last:
        return [NameHit(s, e, 0.55, "single-first-name")]
    if w in first and s > 0 and text[max(0, s - 2) : s].strip() not in (".", ""):
        return [NameHit(s, e, 0.5, "single-first-name")]  # also a surname: mid-sentence only
    if listed and s > 0 and text[max(0, s - 2) : s].strip() not in (".", ""):
        return [NameHit(s, e, 0.4, "single")]
    if (
        not listed
        and _surname_shaped(w, lists)
        and not tok.isupper()  # KIIKOINEN: a heading or a place in capitals
        and not _numbered(text, s, e)  # Dalmatinova 68: a street
    ):
        return [NameHit(s, e, 0.6, "surname-shape", _context(text, s))]  # "early Yefremova"
    return []


_NEAR_WORDS: tuple[str, ...] = (
    "patient",
    "pt",
    "name",
    "named",
    "son",
    "daughter",
    "wife",
    "husband",
    "mother",
    "father",
    "brother",
    "sister",
    "spouse",
    "guardian",
    "caregiver",
    "attending",
    "contact",
    "kin",
    "grandson",
    "granddaughter",
    "aunt",
    "uncle",
    "friend",
    "partner",
    "called",
    "i'm",
    "md",
    "dr",
    "dr.",
    "tell",
    "signed by",
    "seen by",
    "referred by",
    "name is",
    "i am",
    "directed by",
    "written by",
    "starring",
    "assistant to",
    "ask for",
    "says",
    "said",
    "hi",
    "hello",
    "hey",
    "dear",
    "kid",
    "calls me",
    "thanks",
    "told",
    "asked",
    "call me",
    "calls me",
    "named him",
    "named her",
    "ms.",
    "mrs.",
    "mr.",
    "ms",
    "mrs",
    "mr",
)


# Greetings that open a run of capitalised words ("Hi Vinicio", "Dear Ilse Vannoort"): the words
# after them are scored as right after a context word (each is one of _NEAR_WORDS).
_GREETINGS = frozenset({"hi", "hello", "hey", "dear", "thanks"})
_NEAR_BARE = tuple(sorted({w.rstrip(".") for w in _NEAR_WORDS}, key=len, reverse=True))
_NEAR_SEPARATORS = " \t:#,.-?"  # "?": "What's your name? Jónás"
_NEAR_TAIL = max(map(len, _NEAR_BARE)) + 1
assert min(map(len, _NEAR_BARE)) >= 2  # the suffix test in _near_before needs it
# The last four characters of each context word (the shorter words whole), in every mix of
# upper and lower case.
_NEAR_BARE_SUFFIXES = frozenset(
    "".join(spelling)
    for w in _NEAR_BARE
    for spelling in product(*({c.lower(), c.upper()} for c in w[-4:]))
)
# Their last two characters: most tails fail this first, cheaper test.
_NEAR_BARE_ENDS = frozenset(x[-2:] for x in _NEAR_BARE_SUFFIXES)
assert min(map(len, _NEAR_WORDS)) >= 2
assert _GREETINGS.issubset(_NEAR_WORDS)
_NEAR_WORD_SUFFIXES = frozenset(
    "".join(spelling)
    for w in _NEAR_WORDS
    for spelling in product(*({c.lower(), c.upper()} for c in w[-4:]))
)
_NEAR_WORD_ENDS = frozenset(x[-2:] for x in _NEAR_WORD_SUFFIXES)


def _near_before(text: str, start: int) -> bool:
    """A context word, then only separators (``Patient: ``, ``son ``, ``name is ``), right
    before offset ``start``: a capitalised word there may be a name even when it is not listed."""
    # The last four characters before the separators decide for most offsets. A short slice
    # holds them when, stripped, it keeps four characters (a longer one then strips to the same
    # end); near the start of the text the slice is the whole window.
    raw = text[start - 8 if start > 8 else 0 : start].rstrip(_NEAR_SEPARATORS)
    if start <= 8 or len(raw) >= 4:
        # Casefolding goes character by character and is ``lower`` on ASCII, so for an ASCII
        # ``tail`` the ``window`` below ends with ``tail.lower()``: it can end with a context word
        # only if that holds the word's last four characters, or the whole word if shorter. Set
        # lookups (of every upper- and lower-case spelling) reject most.
        tail = raw[-4:]
        if tail.isascii() and (
            tail[-2:] not in _NEAR_BARE_ENDS
            or (
                tail not in _NEAR_BARE_SUFFIXES
                and tail[-3:] not in _NEAR_BARE_SUFFIXES
                and tail[-2:] not in _NEAR_BARE_SUFFIXES
            )
        ):
            return False
    if start > 8:
        raw = text[start - 48 if start > 48 else 0 : start].rstrip(_NEAR_SEPARATORS)
    # Only the tail is looked at (the longest word and the character before it): casefolding
    # that much rather than 48 characters gives the same tail.
    window = raw[-_NEAR_TAIL:].casefold()
    if not window.endswith(_NEAR_BARE):
        return False
    for w in _NEAR_BARE:  # the word must start at a word boundary ("pt" is not "accept")
        if window.endswith(w):
            before = window[-len(w) - 1 : -len(w)]
            if not before or not (before.isalnum() or before == "_"):
                return True
    return False


def _near_context(text: str, start: int) -> bool:
    """A context word right before the name (``Patient: ``, ``daughter ``, ``signed by ``)."""
    raw = text[start - 24 if start > 24 else 0 : start].rstrip(" \t:#,-?")
    tail = raw[-4:]
    if (
        tail.isascii()
        and (  # as in _near_before
            tail[-2:] not in _NEAR_WORD_ENDS
            or (
                tail not in _NEAR_WORD_SUFFIXES
                and tail[-3:] not in _NEAR_WORD_SUFFIXES
                and tail[-2:] not in _NEAR_WORD_SUFFIXES
            )
        )
    ):
        return False
    window = raw.casefold()
    if not window.endswith(_NEAR_WORDS):
        return False
    for w in _NEAR_WORDS:  # the word must start at a word boundary ("pt" is not "accept")
        if window.endswith(w):
            before = window[-len(w) - 1 : -len(w)]
            if not before or not before.isalnum():
                return True
    return False


def _context(text: str, start: int) -> tuple[str, ...]:
    """Context words in the 40 characters before ``start``, within the same sentence (``the
    patient tolerated it well. The Foley catheter``: "patient" says nothing about "Foley")."""
    window = text[max(0, start - 40) : start].casefold()
    cut = max(window.rfind(". "), window.rfind("\n"), window.rfind("; "))
    if cut >= 0:
        window = window[cut + 1 :]
    words = _CONTEXT.findall(window)
    return tuple(dict.fromkeys(words)) if words else ()
