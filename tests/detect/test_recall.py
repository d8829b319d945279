"""Names and addresses beyond the US forms (issue 2, recall): true and false positives."""

from __future__ import annotations

import pytest

from phiward.core.entities import EntityType as E
from phiward.core.fingerprint import Fingerprinter
from phiward.detect import Analyzer, PatternEngine, available_backends

ANALYZER = Analyzer(fingerprinter=Fingerprinter(b"r" * 32), min_confidence=0.5)


def found(text: str) -> list[tuple[E, str]]:
    return [(c.entity, text[c.start : c.end]) for c in ANALYZER.candidates(text)]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        # USPS suffixes beyond the common ones, post-directionals, a building number first
        ("The restaurant is at 119 Countess Close", E.STREET_ADDRESS, "119 Countess Close"),
        ("Office: 12 Main St NW, Suite 4", E.STREET_ADDRESS, "12 Main St NW, Suite 4"),
        ("mail to 55 Harbor Pkwy today", E.STREET_ADDRESS, "55 Harbor Pkwy"),
        ("lives at 3369 24 Clarke Avenue", E.STREET_ADDRESS, "3369 24 Clarke Avenue"),
        ("at 904 Oak Crt, Apt 2", E.STREET_ADDRESS, "904 Oak Crt, Apt 2"),
        # military mail over two lines, lower case, USNV
        (
            "Meet me at PSC 1437, Box 3833\nAPO AA 66791",
            E.STREET_ADDRESS,
            "PSC 1437, Box 3833\nAPO AA 66791",
        ),
        (
            "address: unit 4526 box 0671\ndpo ap 40902",
            E.STREET_ADDRESS,
            "unit 4526 box 0671\ndpo ap 40902",
        ),
        ("USNV Botolen\nFPO AE 12382", E.STREET_ADDRESS, "USNV Botolen\nFPO AE 12382"),
        # European forms: number, street, number; street after an address cue; Romance
        ("Tosh lives at 172 Maneeži 75, Saareküla", E.STREET_ADDRESS, "172 Maneeži 75"),
        ("20789 Allika 46\nRiisa", E.STREET_ADDRESS, "20789 Allika 46"),
        ("641 Dašická 688, Turkovice", E.STREET_ADDRESS, "641 Dašická 688"),
        ("she lives at Jahu 80, Liiva", E.STREET_ADDRESS, "Jahu 80"),
        ("lives on Via dei Fiorentini 17", E.STREET_ADDRESS, "Via dei Fiorentini 17"),
        ("Verda lives on 33 avenue de Provence.", E.STREET_ADDRESS, "33 avenue de Provence"),
        (">770 26 rue des Lilas\n>Apt. 735", E.STREET_ADDRESS, "770 26 rue des Lilas"),
        ("C/ Señores Curas 88, Villafranca", E.STREET_ADDRESS, "C/ Señores Curas 88"),
        ("6343 Skogstien 106\nASKER", E.STREET_ADDRESS, "6343 Skogstien 106"),
        ("764 Fagradalsbraut 71 Apt. 762", E.STREET_ADDRESS, "764 Fagradalsbraut 71 Apt. 762"),
        (
            "Billing address:\n    1593 Pagari 18 Suite 932\n",
            E.STREET_ADDRESS,
            "1593 Pagari 18 Suite 932",
        ),
        ("808 Kálmán Imre u. 12.\n Apt. 762", E.STREET_ADDRESS, "808 Kálmán Imre u. 12"),
        ("Satu Elomo\n45818 P.O. Box 242\n", E.STREET_ADDRESS, "45818 P.O. Box 242"),
        # a street named without a house number
        ("shows on Berg Hills Street were important", E.STREET_ADDRESS, "Berg Hills Street"),
        ("stop at the corner of Nieuwe Baan and Inna Loop St.", E.STREET_ADDRESS, "Inna Loop St."),
        # postal code after the country
        ("Riisa\nEstonia 62488", E.ZIP_CODE, "62488"),
        ("Pines Beach\nNew Zealand 34694", E.ZIP_CODE, "34694"),
    ],
)
def test_address_true_positives(text: str, entity: E, value: str) -> None:
    assert (entity, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "on 5 March 2023, seen in clinic",  # a date, not "number street number"
        "Room 5 Bed 12, telemetry",
        "Give 2 Tablets 3 times daily",
        "Spring 2023 term; Professor 3 signed",  # street words only as street suffixes
        "he walked 2 blocks down the road",
        "moved to Room 12",  # an English word after a cue is not a street
        "Population of Estonia 1340000 in 2020",  # too many digits for a postal code
        "in 1 place to stay",
        "Chapter 12 Verse 3\nnext",
        "The Road to recovery is long",  # a function word: a phrase, not a street
        "On Monday Street vendors were out",
    ],
)
def test_address_false_positives(text: str) -> None:
    assert [e for e, _ in found(text) if e in (E.STREET_ADDRESS, E.ZIP_CODE)] == []


@pytest.mark.parametrize("backend", available_backends())
def test_backends_agree_on_european_addresses(backend: str) -> None:
    text = (
        "Tosh lives at 172 Maneeži 75, Saareküla. PSC 1437, Box 3833\nAPO AA 66791 and "
        "Riisa\nEstonia 62488; ul. Miła 53; 33 avenue de Provence; 119 Countess Close"
    )
    ref = PatternEngine(backend="re").scan(text)
    other = PatternEngine(backend=backend).scan(text)
    assert [(c.entity, c.start, c.end) for c in other] == [(c.entity, c.start, c.end) for c in ref]


def names(text: str) -> list[str]:
    return [text[c.start : c.end] for c in ANALYZER.candidates(text) if c.entity is E.NAME]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # middle initials between names outside the lists
        ("Referred by Szabina J Gelencsér last week", "Szabina J Gelencsér"),
        ("Letter from Faina D. Yefremova about the bill", "Faina D. Yefremova"),
        ("Stephan M Urner\n4844 Søndergade 52", "Stephan M Urner"),
        # greetings are trimmed from the name
        ("Hi Freddy, your results are in", "Freddy"),
        ("Hey Natasja, call the clinic", "Natasja"),
        # a person verb after a lone capitalised word
        ("Enrico shouted at the nurse", "Enrico"),
        ('"We are glad," says Becker.', "Becker"),
        ("Dzhambek is from the county office", "Dzhambek"),
        ("Scott had given the keys back", "Scott"),
        # capitalised English words before the name
        ("Producer Liviana Palerma explained the plan", "Liviana Palerma"),
        # two spaces between first name and surname
        ("Lara  Fiorentino\nDining room attendant", "Lara  Fiorentino"),
    ],
)
def test_name_true_positives(text: str, name: str) -> None:
    assert name in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ask the driver to stop at Leokadia Trail",  # a street, not a person
        "the corner of Mathias Pass and the highway",
        "I will be travelling to France next week",  # a country
        "Celebrating ten years in Port Whangarei",
        "He moved to Los Angeles in May",
        "Surgery said the OR is free",  # an English word before a person verb
        "Aspirin was given; Pharmacy called back",
        "Serving Southern Poland since 1973",
        "She lives in Colorado Springs now",
    ],
)
def test_name_false_positives(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hanne I. Kreutzmann from the county is the speaker", "Hanne I. Kreutzmann"),
        ("Is there a better song? Torpy and Salinas were engineers.", "Torpy"),
        ("Is there a better song? Torpy and Salinas were engineers.", "Salinas"),
        ("It was a done thing between him and Asya's kid", "Asya"),
        ("As promised, here's Matej's address: 12 Main St", "Matej"),
        ("Sometimes people call me Csanád", "Csanád"),
        ("She named him Luís", "Luís"),
        ("I'd like to join accounts with ms. Quinzia", "Quinzia"),
        # lower case after a strong cue, or a listed first name after "follow up with"
        ("my name is vitoria", "vitoria"),
        ("her maiden name is nyberg", "nyberg"),
        ("name:    hyuuma t. maida\naddress: unit 4", "hyuuma t. maida"),
        ("follow up with patricia desrosiers in a couple of months", "patricia desrosiers"),
        ("patient name: john smith, dob 1/2/1961", "john smith"),
        # a listed first name before is / was / has / had
        ("David is a very sympathetic person.", "David"),
        ("Catherine was discharged home on day 3.", "Catherine"),
        # a listed first name as a speaker label or a vocative
        ('Alice: "Who are you?"', "Alice"),
        ("Bryce, can I please speak to your boss?", "Bryce"),
        ("Remember me, Natasha? We met in May.", "Natasha"),
    ],
)
def test_name_true_positives_more(text: str, name: str) -> None:
    assert name in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "follow up with cardiology in 2 weeks",  # a department, not a person
        "name: pending",
        "the name of the drug is unknown",
        "history of Parkinson's disease and Crohn's disease",  # eponyms, not people
        "she moved from Porto Alegre to Dusino San Michele",  # places
        "Salt and Pepper were added",  # an English pair is not a name pair
        "Foley was removed on day 2",  # a surname alone (an eponym) is not enough before "was"
        "Heparin was held overnight",
        "Plan: follow up in clinic\nHeparin, 5000 units",  # labels and drugs, not speakers
    ],
)
def test_name_false_positives_more(text: str) -> None:
    assert names(text) == []
