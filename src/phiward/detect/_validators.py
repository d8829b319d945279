"""Validators: checksums and issuing rules that turn a digit-shaped match into an identifier.

Each returns ``True`` when the value *can* be a real identifier of its kind. They run after the
pattern engine and are why a random nine-digit number is not called an SSN.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re

from phiward.detect._names import _CALENDAR, name_lists

# Published, advertised or otherwise well-known SSNs that are not anyone's (Woolworth's wallet
# card 078-05-1120, the 1940s Social Security ad 219-09-9999, the 123-45-6789 example) plus the
# all-same-digit strings.
KNOWN_FAKE_SSNS = frozenset(
    {"078051120", "219099999", "123456789", "987654320", "987654321", "457555462"}
    | {str(d) * 9 for d in range(10)}
)


def digits(value: str) -> str:
    if value.isdigit():
        return value
    return "".join(filter(str.isdigit, value))


def ssn(value: str) -> bool:
    """SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000; not a known fake."""
    d = digits(value)
    if len(d) != 9 or d in KNOWN_FAKE_SSNS:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def luhn(number: str) -> bool:
    d = digits(number)
    if not d:
        return False
    total = 0
    for i, ch in enumerate(reversed(d)):
        n = ord(ch) - 48
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def npi(value: str) -> bool:
    """NPI: ten digits, first 1 or 2, Luhn over the number prefixed with 80840 (ISO 7812 issuer)."""
    d = digits(value)
    return len(d) == 10 and d[0] in "12" and luhn("80840" + d)


def credit_card(value: str) -> bool:
    """12-19 digits, a known issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners,
    Maestro), Luhn."""
    d = digits(value)
    if not 12 <= len(d) <= 19 or len(set(d)) == 1:
        return False
    if len(d) < 13 and not (d[:2] == "50" or 56 <= int(d[:2]) <= 69):
        return False  # only Maestro numbers are that short
    known = (
        d[0] == "4"
        or d[:2] == "50"
        or 56 <= int(d[:2]) <= 69
        or 51 <= int(d[:2]) <= 55
        or 2221 <= int(d[:4]) <= 2720
        or d[:2] in {"34", "37", "36", "38", "65"}
        or d[:4] == "6011"
        or 3528 <= int(d[:4]) <= 3589
        or 300 <= int(d[:3]) <= 305
    )
    return known and luhn(d)


def dea(value: str) -> bool:
    """DEA registration: 2 letters + 7 digits; (d1+d3+d5) + 2*(d2+d4+d6) ends in d7."""
    v = value.strip().upper()
    if len(v) != 9 or not v[:2].isalnum() or not v[2:].isdigit():
        return False
    if v[0] not in "ABCDEFGHJKLMPRSTUX":
        return False
    d = [int(c) for c in v[2:]]
    check = (d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])
    return check % 10 == d[6]


VIN_VALUES = {
    **{str(i): i for i in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin(value: str) -> bool:
    """ISO 3779 / 49 CFR 565: 17 chars without I, O, Q; check digit in position 9."""
    v = value.upper()
    if len(v) != 17 or any(c not in VIN_VALUES for c in v):
        return False
    if v.isdigit() or v.isalpha():
        return False
    total = sum(VIN_VALUES[c] * w for c, w in zip(v, VIN_WEIGHTS, strict=True))
    rem = total % 11
    return v[8] == ("X" if rem == 10 else str(rem))


_MBI_LETTERS = frozenset("ACDEFGHJKMNPQRTUVWXY")  # A-Z without S, L, O, I, B, Z


def mbi(value: str) -> bool:
    """Medicare Beneficiary Identifier (CMS format): C A AN N A AN N A A N N, no S L O I B Z."""
    v = value.replace("-", "").upper()
    if len(v) != 11:
        return False
    kinds = "CAPNAPNAANN"  # C: 1-9, A: letter, P: letter or digit, N: digit
    for ch, kind in zip(v, kinds, strict=True):
        if kind == "C" and not ("1" <= ch <= "9"):
            return False
        if kind == "N" and not ch.isdigit():
            return False
        if kind == "A" and ch not in _MBI_LETTERS:
            return False
        if kind == "P" and not (ch.isdigit() or ch in _MBI_LETTERS):
            return False
    return True


def nanp(area: str, exchange: str) -> bool:
    """NANP: area and exchange start 2-9 and are not N11 service codes; area not 37X/96X."""
    if len(area) != 3 or len(exchange) != 3:
        return False
    if area[0] in "01" or exchange[0] in "01":
        return False
    if area[1:] == "11" or exchange[1:] == "11":
        return False
    return area[:2] not in {"37", "96"}


def ip(value: str) -> bool:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not addr.is_unspecified


# ZIP3 prefixes with 20,000 or fewer people (HHS de-identification guidance, 2000 Census); under
# Safe Harbor these must become 000.
RESTRICTED_ZIP3 = frozenset(
    {
        "036", "059", "063", "102", "203", "556", "692", "790", "821",
        "823", "830", "831", "878", "879", "884", "890", "893",
    }
)  # fmt: skip


def plausible_date(year: int, month: int, day: int) -> bool:
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    return 1880 <= year <= 2100


def expand_year(y: str) -> int:
    """Two-digit years: 00-30 → 2000s, else 1900s (birth dates of living patients)."""
    n = int(y)
    if len(y) == 4:
        return n
    return 2000 + n if n <= 30 else 1900 + n


# The names module's month and weekday words, with their abbreviations.
_MONTHS_WEEKDAYS = frozenset(w.casefold() for w in _CALENDAR) | frozenset(
    ["jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"]
)
_STREET_PARTICLES = frozenset(
    [
        "de",
        "del",
        "della",
        "delle",
        "dei",
        "degli",
        "di",
        "da",
        "das",
        "do",
        "dos",
        "du",
        "des",
        "la",
        "le",
        "les",
        "e",
        "y",
        "van",
        "von",
        "der",
        "den",
    ]
)
_UNIT_WORDS = frozenset({"apt", "apartment", "suite", "ste", "unit", "flat"})
_LETTERS = re.compile(r"[^\W\d_][^\W\d_'-]*")


def street_words(value: str) -> bool:
    """The words of a street written without a street suffix (``30511 Kivimäe 9``, ``lives at
    Tamme 14``) are no English words and no month or weekday: ``Room 5``, ``take 2 Tablets 3``,
    ``on 5 March 2023`` are not streets. English is Webster's 2nd (the names module's list)."""
    lists = name_lists()
    words = [w.casefold() for w in _LETTERS.findall(value)]
    words = [w for w in words if w not in _STREET_PARTICLES and w not in _UNIT_WORDS]
    if not words:
        return False
    for w in words:
        if w in _MONTHS_WEEKDAYS or len(w) < 3:
            return False
        if lists.is_english(w):
            return False
    return True


_FUNCTION_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "our",
        "my",
        "his",
        "her",
        "their",
        "your",
        "its",
        "on",
        "in",
        "at",
        "to",
        "of",
        "for",
        "and",
        "or",
        "by",
        "from",
        "with",
        "no",
        "not",
    ]
)


def street_name(value: str) -> bool:
    """A street named without a house number (``Alder Hills Street``): no function word (``The
    Road to``) and no month or weekday among its words."""
    words = [w.casefold() for w in _LETTERS.findall(value)]
    return not any(w in _FUNCTION_WORDS or w in _MONTHS_WEEKDAYS for w in words[:-1])
