from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiward.core.entities import EntityType as E
from phiward.core.fingerprint import Fingerprinter
from phiward.detect import Analyzer

A = Analyzer(fingerprinter=Fingerprinter(b"n" * 32), min_confidence=0.5, entities=[E.NAME])


def names(text: str) -> list[str]:
    return [text[c.start : c.end] for c in A.candidates(text)]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Seen by Dr. Brown this morning.", "Brown"),
        ("Patient John Smith presented with fever.", "John Smith"),
        ("JOHN SMITH, 64M, admitted overnight", "JOHN SMITH"),
        ("Name: Smith, John", "Smith, John"),
        ("Mrs. Okonkwo-Adeyemi called back", "Okonkwo-Adeyemi"),
        ("Dr. Maria T. Lopez signed the note", "Maria T. Lopez"),
        ("His daughter Linda can be reached by phone", "Linda"),
        ("Discussed with wife Patricia Moore at bedside.", "Patricia Moore"),
        # names that Webster's 2nd also lists as rare words (mary, amy, kelly) need no cue
        ("Amy and Mary visited today.", "Amy"),
        ("Amy and Mary visited today.", "Mary"),
        ("Consent was witnessed by Kelly at 10:00.", "Kelly"),
    ],
)
def test_names_found(text: str, name: str) -> None:
    assert name in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "brown stool noted; no blood.",
        "Brown stool noted; no blood.",
        "Will follow up in May.",
        "Grant funding covers the Mercy Hospital pilot.",
        "White blood cell count is normal.",
        "The patient is stable.",
        # names that are also common words (SCOWL), chemical symbols, nationalities, acronyms
        "Sodium: Na 138, K 4.1; iron studies: Fe 60, Li level pending.",
        "Heather noted on the trail; Hope for discharge Friday.",
        "Interpreter requested: German and Dutch speaker.",
        "Login through PAM failed; SHA check NAN.",
    ],
)
def test_not_names(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Follow up with Mr. MacAllister next week", "MacAllister"),
        ("Seen by Dr. O'Brien today", "O'Brien"),
        ("Befund von Dr. Müller erhalten", "Müller"),
        ("Electronically signed by Mateo Kaur, MD", "Mateo Kaur"),
    ],
)
def test_name_shapes(text: str, name: str) -> None:
    assert name in names(text)


def test_acronyms_do_not_start_names() -> None:
    assert names("Prescriber DEA: AB1234563 NPI: 1234567893") == []


def test_early_exit_keeps_results_at_report_thresholds() -> None:
    from phiward.detect._names import find_names

    texts = [
        "Chest Pain Protocol started. Blood Cultures drawn. Foley removed.",
        "Patient: Ngozi Okonkwo was seen. Dr. Brown agreed.",
        "LAB RESULTS REVIEWED WITH TEAM",
    ]
    for text in texts:
        full = [(h.start, h.end) for h in find_names(text) if h.confidence >= 0.5]
        fast = [(h.start, h.end) for h in find_names(text, floor=0.5) if h.confidence >= 0.5]
        assert fast == full


# The tokenizer's first form, with a leading \b: the current one starts with a character class so
# that ``re`` can skip ahead (3x faster) and must find the same capitalised words.
_REFERENCE_TOKEN = (
    r"\b(?:[A-Z]'[A-Z][a-z]+|[A-Z][^\W\d_A-Z]+(?:['-]?[A-Z][^\W\d_A-Z]+)?"
    r"|[A-Z]{2,}(?:['-][A-Z]+)?|[A-Z]\.?)(?=\W|$)"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="AbCdeMO'-. ,\n1_é", max_size=60))
def test_fast_tokenizer_matches_the_reference_on_ascii_capitals(text: str) -> None:
    import re

    from phiward.detect._names import _TOKEN

    ref = [(m.start(), m.group()) for m in re.finditer(_REFERENCE_TOKEN, text)]
    assert [(m.start(), m.group()) for m in _TOKEN.finditer(text)] == ref


def test_context_word_right_before_an_unlisted_name() -> None:
    from phiward.detect._names import _near_before

    text = "Emergency contact: Xochiquetzal. Accepted Xochiquetzal. Name is   Qorvath"
    assert _near_before(text, text.index("Xochiquetzal"))
    assert not _near_before(text, text.index("Xochiquetzal", 30))  # "accepted" is not "pt"
    assert _near_before(text, text.index("Qorvath"))
    assert names("Emergency contact: Xochiquetzal Brightwater") == ["Xochiquetzal Brightwater"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call back Olga Krylova tomorrow.", ["Olga Krylova"]),
        ("Seen with Csenger Gábor at noon.", ["Csenger Gábor"]),
        ("our 3 founders: Vizirov, Barrett and Jones.", ["Vizirov", "Barrett", "Jones"]),
        # first names that are also English words count inside a list of sure names...
        ("Visitors: Sheila, Donna, Sherry and Shane.", ["Sheila", "Donna", "Sherry", "Shane"]),
        # ...but not in a list without two of them, nor in a pair
        ("Pack: Amber, Ginger, Sherry and Rose.", []),
        ("Mixed Sherry and Ginger.", []),
        # transcript speaker labels: two sure first names make the unlisted one a name too
        ("Vinka: hello.\nLisa: who is it?\nCarla: the nurse.", ["Vinka", "Lisa", "Carla"]),
        ("Neuro: intact\nAbd: soft\nPsych: calm\nDerm: clear", []),
        # a surname ending of the languages that have them, on an unlisted word
        ("Reviewed with Yefremova and the team.", ["Yefremova"]),
        ("What's your last name? Matthíasson", ["Matthíasson"]),
        ("Positive Babinski sign; Hashimoto thyroiditis.", []),  # eponyms
        ("Drop-off at 87818 Dalmatinova 68 St.", []),  # a street
        # a text typed all in lower case: a sure first name and a surname, or a title
        ("naomi ryan\nsewer pipe cleaner", ["naomi ryan"]),
        ("olga krylova's killers were sentenced", ["olga krylova"]),
        ("pt c/o chest pain, seen by dr smith.", ["smith"]),
        ("pt c/o chest pain, sandy stool, will follow up re grant funding", []),
        # a capital elsewhere: the lower-case text rules stay off, the capitalised ones decide
        ("naomi ryan called at 10AM.", []),
        ("visitors: leonti, pamela and brian.", ["leonti", "pamela", "brian"]),
        ("pt takes lisinopril, metformin, aspirin and atorvastatin daily", []),
        # three-letter first names count among a transcript's sure labels
        ("Vinka: hi.\nAmy: who is it?\nBryan: the nurse.", ["Vinka", "Amy", "Bryan"]),
        # a question mark after the context word
        ("What's your name? Jildau S Bouts", ["Jildau S Bouts"]),
        # a greeting opening a message is context for the unlisted name after it
        ("Hi Vinicio, your results are in.", ["Vinicio"]),
        ("Dear Ilse Vannoort,\nyour appointment moved.", ["Ilse Vannoort"]),
        ("Chest Pain Protocol started in Southern Italy.", []),
        ("Tylenol, Motrin and Advil as needed.", []),
        ("ships to 864 Piazzetta Rubiani 104 today", []),  # numbered: a street, not a person
        ("the patient tolerated it well. The Foley catheter was removed.", []),
    ],
)
def test_names_outside_the_us_lists(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_english_stems_are_recognised() -> None:
    from phiward.detect._names import name_lists

    lists = name_lists()
    for word in ("signs", "studies", "noted", "healing", "technologies", "patient", "programming",
                 "stopped"):  # fmt: skip
        assert lists.is_english(word), word
    for word in ("krylova", "gábor", "lasix"):
        assert not lists.is_english(word), word


def test_word_list_notice_is_shipped() -> None:
    """SCOWL's permission notice must travel with the word lists derived from it."""
    from importlib import resources

    notice = resources.files("phiward.detect").joinpath("data", "NOTICE").read_text()
    assert "Kevin Atkinson" in notice
    assert "name_words.txt.gz" in notice


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # repeated mentions of a found full name
        # a full name makes its words names elsewhere in the same text
        (
            "Seen with Yuri Bulgakov today. Bulgakov reports less pain.",
            ["Yuri Bulgakov", "Bulgakov"],
        ),
        ("Adam McDowell called. Then McDowell's wife called.", ["Adam McDowell", "McDowell"]),
        ("my name is borna jerković but everyone calls me borna", ["borna jerković", "borna"]),
        # same spelling only, and only words that are no English word
        ("Seen by Dr. Brown. Brown stool noted.", ["Brown"]),
        ("Yuri Bulgakov signed. BULGAKOV is printed below.", ["Yuri Bulgakov"]),
        # a Title Case phrase the run rules take for a name seeds nothing
        ("The Unicode Standard is long. Unicode text is used.", ["Unicode Standard"]),
        # a lower-case seed in a mixed-case text carries nothing over
        ("Name: yuri bulgakov\nThe bulgakov file is here.", ["yuri bulgakov"]),
        # Dutch and German particles inside a name
        ("Ludwig van Beethoven wrote it.", ["Ludwig van Beethoven"]),
        ("Referred by Maika van de Noort on Monday.", ["Maika van de Noort"]),
        ("Alexander von Gernler fixed it.", ["Alexander von Gernler"]),
        # de/da/del join place names as often as surnames: not a particle here
        ("She flew to Rio de Janeiro on Monday.", []),
        # names addressed or quoted as a speaker
        ("Remember me, Maria? I was your nurse.", ["Maria"]),
        ("Don't go to town, Derrick!", ["Derrick"]),
        ("Aloisia, can I please speak to your boss?", ["Aloisia"]),
        ('Koppány: "Who are you?"\nVsevolod: "A friend."', ["Koppány", "Vsevolod"]),
        # drug names, stop words and plain labels are not people addressed
        ("Lisinopril, can you refill it?", []),
        ('Metoprolol: "twice daily"', []),
        ('Note: "none"', []),
        ("Is it in May, June?", []),
        ("Aloisia, 10 mg daily", []),  # a line start then a comma alone is no vocative
        # the first line of a lower-case contact block
        (
            "aksel kristensen\nstillwater supercomputing inc.\npsc 5420, box 2708",
            ["aksel kristensen"],
        ),
        ("> emidio p lombardo\n> garcia-smith\n> unit 1009 box 0219", ["emidio p lombardo"]),
        # a drug, a complaint, a two-line note, English words: no contact block's name
        ("lisinopril hctz\n10 mg daily\nrefill in may", []),
        ("chest pain\nno fever\nsent home", []),
        ("aksel kristensen\nstillwater supercomputing inc.", []),
        ("owens, duran and oneal\n12 main st\nsuite 4", []),
    ],
)
def test_name_rules_in_context(text: str, expected: list[str]) -> None:
    """Every name found in ``text``, in order: the later rules (repetition, particles,
    vocatives, contact blocks) with the texts each must leave alone."""
    assert names(text) == expected
