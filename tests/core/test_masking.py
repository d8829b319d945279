from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phiward.core import EntityType, mask


@pytest.mark.parametrize(
    ("entity", "value", "expected"),
    [
        (EntityType.SSN, "123-45-6789", "***-**-6789"),
        (EntityType.PHONE, "(617) 555-0123", "(***) ***-0123"),
        (EntityType.CREDIT_CARD, "4111 1111 1111 1111", "**** **** **** 1111"),
        (EntityType.NAME, "John Smith", "J*** S****"),
        (EntityType.NAME, "SMITH, JOHN", "S****, J***"),
        (EntityType.EMAIL, "john.smith@example.com", "j*********@*******.com"),
        (EntityType.DATE, "03/04/1961", "**/**/1961"),
        (EntityType.DATE, "March 3rd, 1961", "***** ***, 1961"),
        (EntityType.IP_ADDRESS, "192.168.10.4", "192.*.*.*"),
        (EntityType.URL, "https://example.org/p/123", "https://*******.***/*/***"),
        (EntityType.STREET_ADDRESS, "12 Main St", "** M*** S*"),
        (EntityType.ZIP_CODE, "02139", "*****"),
        (EntityType.MRN, "MRN-00123", "***-***23"),
    ],
)
def test_mask_examples(entity: EntityType, value: str, expected: str) -> None:
    assert mask(value, entity) == expected


@given(st.sampled_from(list(EntityType)), st.text(min_size=1, max_size=40))
def test_mask_never_reveals_more_than_four_alnum_plus_a_year(
    entity: EntityType, value: str
) -> None:
    masked = mask(value, entity)
    # Length is kept except for e-mail (local part padded) and IPs (parts collapsed to one star).
    if entity not in {EntityType.EMAIL, EntityType.IP_ADDRESS}:
        assert len(masked) == len(value)
    revealed = [a for a, b in zip(value, masked, strict=False) if a == b and a.isalnum()]
    # at most: 4 trailing digits, a 4-digit year, first letters of words, first IP part
    if entity in {EntityType.SSN, EntityType.PHONE, EntityType.MRN, EntityType.CREDIT_CARD}:
        assert len(revealed) <= 4


def test_mask_empty() -> None:
    assert mask("", EntityType.SSN) == ""
