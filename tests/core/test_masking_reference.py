"""The regex-based masking and fingerprint normalisation agree with their first, per-character
forms (kept here as the reference) on arbitrary text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from phiward.core import masking
from phiward.core.entities import EntityType
from phiward.core.fingerprint import normalise


def _ref_tail(value: str, keep: int) -> str:
    total = sum(ch.isalnum() for ch in value)
    out, seen = [], 0
    for ch in value:
        if ch.isalnum():
            seen += 1
            out.append(ch if seen > total - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


def _ref_words(value: str) -> str:
    out, first = [], True
    for ch in value:
        if ch.isalnum():
            out.append(ch if first else "*")
            first = False
        else:
            out.append(ch)
            first = True
    return "".join(out)


def _ref_date(value: str) -> str:
    years = [m.span() for m in masking._YEAR.finditer(value)]
    return "".join(
        ch if any(a <= i < b for a, b in years) else ("*" if ch.isalnum() else ch)
        for i, ch in enumerate(value)
    )


# Letters, digits, separators, underscore, accented and non-Latin letters, superscripts, marks.
TEXT = st.text(alphabet="aZ09-_ ./@:é²ßЖ٣\u0301", max_size=40)


@settings(max_examples=400, deadline=None)
@given(TEXT, st.integers(0, 6))
def test_mask_tail_matches_reference(value: str, keep: int) -> None:
    assert masking._mask_tail(value, keep) == _ref_tail(value, keep)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_word_date_and_all_masks_match_reference(value: str) -> None:
    assert masking._mask_words(value) == _ref_words(value)
    assert masking._mask_date(value) == _ref_date(value)
    assert masking._mask_all(value) == "".join("*" if c.isalnum() else c for c in value)
    n = sum(c.isalnum() for c in value)
    keep = 4 if n >= 10 or (n == 9 and "-" in value) else 2 if n >= 6 else 0
    assert masking._mask_number(value) == _ref_tail(value, keep)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_separator_free_normalisation_matches_reference(value: str) -> None:
    expected = "".join(ch for ch in value if ch.isalnum()).upper()
    assert normalise(EntityType.SSN, value) == expected
