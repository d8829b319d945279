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
        ("Clinic letter to 27 Badger Close", E.STREET_ADDRESS, "27 Badger Close"),
        ("Office: 12 Main St NW, Suite 4", E.STREET_ADDRESS, "12 Main St NW, Suite 4"),
        ("mail to 55 Harbor Pkwy today", E.STREET_ADDRESS, "55 Harbor Pkwy"),
        ("lives at 1180 42 Walnut Avenue", E.STREET_ADDRESS, "1180 42 Walnut Avenue"),
        ("at 904 Oak Crt, Apt 2", E.STREET_ADDRESS, "904 Oak Crt, Apt 2"),
        # military mail over two lines, lower case, USNV
        (
            "Send it to PSC 2210, Box 4410\nAPO AE 09012",
            E.STREET_ADDRESS,
            "PSC 2210, Box 4410\nAPO AE 09012",
        ),
        (
            "address: unit 3051 box 220\ndpo ap 96520",
            E.STREET_ADDRESS,
            "unit 3051 box 220\ndpo ap 96520",
        ),
        ("USNV Kestrel\nFPO AE 34012", E.STREET_ADDRESS, "USNV Kestrel\nFPO AE 34012"),
        # European forms: number, street, number; street after an address cue; Romance
        ("Mari lives at 418 Vahtra 12, Tartu", E.STREET_ADDRESS, "418 Vahtra 12"),
        ("30511 Kivimäe 9\nPärnu", E.STREET_ADDRESS, "30511 Kivimäe 9"),
        ("512 Husova 31, Plzeň", E.STREET_ADDRESS, "512 Husova 31"),
        ("she lives at Tamme 14, Viljandi", E.STREET_ADDRESS, "Tamme 14"),
        ("lives on Via dei Mille 8", E.STREET_ADDRESS, "Via dei Mille 8"),
        ("Paul lives at 14 avenue de Bretagne.", E.STREET_ADDRESS, "14 avenue de Bretagne"),
        (">615 8 rue des Lilas\n>Apt. 12", E.STREET_ADDRESS, "615 8 rue des Lilas"),
        ("C/ Mayor de Gracia 21, Teruel", E.STREET_ADDRESS, "C/ Mayor de Gracia 21"),
        ("2210 Furustien 4\nHAMAR", E.STREET_ADDRESS, "2210 Furustien 4"),
        ("905 Hringbraut 33 Apt. 4", E.STREET_ADDRESS, "905 Hringbraut 33 Apt. 4"),
        (
            "Billing address:\n    1593 Pagari 18 Suite 932\n",
            E.STREET_ADDRESS,
            "1593 Pagari 18 Suite 932",
        ),
        ("411 Petőfi Sándor u. 7.\n Apt. 3", E.STREET_ADDRESS, "411 Petőfi Sándor u. 7"),
        ("Anna Virta\n33100 P.O. Box 77\n", E.STREET_ADDRESS, "33100 P.O. Box 77"),
        # a street named without a house number
        ("the shop on Alder Hills Street closed", E.STREET_ADDRESS, "Alder Hills Street"),
        ("stop at the corner of Ketel Way and Mora Loop St.", E.STREET_ADDRESS, "Mora Loop St."),
        # postal code after the country
        ("Tartu\nEstonia 50090", E.ZIP_CODE, "50090"),
        ("Ponsonby\nNew Zealand 1011", E.ZIP_CODE, "1011"),
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
        "Mari lives at 418 Vahtra 12, Tartu. PSC 2210, Box 4410\nAPO AE 09012 and "
        "Tartu\nEstonia 50090; ul. Miła 7; 14 avenue de Bretagne; 27 Badger Close"
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
        ("Referred by Zsófia K Bérczes last week", "Zsófia K Bérczes"),
        ("Letter from Galina P. Sidorenko about the bill", "Galina P. Sidorenko"),
        ("Jochen R Wertz\n12 Hauptweg 4", "Jochen R Wertz"),
        # greetings are trimmed from the name
        ("Hi Gwendolyn, your results are in", "Gwendolyn"),
        ("Hey Mirela, call the clinic", "Mirela"),
        # a person verb after a lone capitalised word
        ("Ottavio shouted at the nurse", "Ottavio"),
        ('"We are glad," says Becker.', "Becker"),
        ("Ruslanbek is from the county office", "Ruslanbek"),
        ("Dwayne had given the keys back", "Dwayne"),
        # capitalised English words before the name
        ("Producer Ilaria Benvenuti explained the plan", "Ilaria Benvenuti"),
        # two spaces between first name and surname
        ("Carla  Bonfiglio\nWard clerk", "Carla  Bonfiglio"),
    ],
)
def test_name_true_positives(text: str, name: str) -> None:
    assert name in names(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ask the driver to stop at Marisol Trail",  # a street, not a person
        "the corner of Ambrose Pass and the highway",
        "I will be travelling to France next week",  # a country
        "Celebrating ten years in Port Hedland",
        "He moved to Los Angeles in May",
        "Surgery said the OR is free",  # an English word before a person verb
        "Aspirin was given; Pharmacy called back",
        "Clinics across Southern Poland since 1973",
        "She lives in Colorado Springs now",
    ],
)
def test_name_false_positives(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Birgit E. Lindqvist from the county is the speaker", "Birgit E. Lindqvist"),
        ("Both surgeons, Okonjo and Whitfield, agreed.", "Okonjo"),
        ("Both surgeons, Okonjo and Whitfield, agreed.", "Whitfield"),
        ("He drove Dilnoza's kid to school", "Dilnoza"),
        ("Please send Tomasz's address to billing", "Tomasz"),
        ("Everyone calls me Bence", "Bence"),
        ("She named him Tiago", "Tiago"),
        ("Please call ms. Ottilia back", "Ottilia"),
        # lower case after a strong cue, or a listed first name after "follow up with"
        ("my name is ludmila", "ludmila"),
        ("her maiden name is lindgren", "lindgren"),
        ("name:    kenji t. morimoto\naddress: unit 4", "kenji t. morimoto"),
        ("follow up with patricia okafor in two weeks", "patricia okafor"),
        ("patient name: john smith, dob 1/2/1961", "john smith"),
        ("Name: ludmila vasquez", "ludmila vasquez"),  # the cue capitalised, the name not
        # a listed first name before is / was / has / had
        ("David is feeling better today.", "David"),
        ("Catherine was discharged home on day 3.", "Catherine"),
        # a listed first name as a speaker label or a vocative
        ('Alice: "Is the doctor in?"', "Alice"),
        ("Bryce, can you call the pharmacy?", "Bryce"),
        ("Is that you, Natasha? We met in May.", "Natasha"),
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
        "she moved from Porto Seguro to Castel San Pietro",  # places
        "Salt and Pepper were added",  # an English pair is not a name pair
        "Foley was removed on day 2",  # a surname alone (an eponym) is not enough before "was"
        "Heparin was held overnight",
        "Plan: follow up in clinic\nHeparin, 5000 units",  # labels and drugs, not speakers
    ],
)
def test_name_false_positives_more(text: str) -> None:
    assert names(text) == []
