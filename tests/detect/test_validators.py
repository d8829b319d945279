from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phiward.detect import _validators as v


@pytest.mark.parametrize("value", ["219-45-6789", "001-01-0001", "899-99-9999", "123456780"])
def test_ssn_valid(value: str) -> None:
    assert v.ssn(value)


@pytest.mark.parametrize(
    "value",
    [
        "000-12-3456",  # area 000
        "666-12-3456",  # area 666
        "912-34-5678",  # 9xx (ITIN range)
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "078-05-1120",  # Woolworth wallet card
        "219-09-9999",  # 1940 SSA pamphlet
        "123-45-6789",  # the textbook example
        "111-11-1111",
        "12-345-678",
    ],
)
def test_ssn_rejected(value: str) -> None:
    assert not v.ssn(value)


def test_luhn_and_cards() -> None:
    assert v.credit_card("4111 1111 1111 1111")
    assert v.credit_card("5555-5555-5555-4444")
    assert v.credit_card("378282246310005")  # Amex test number
    assert not v.credit_card("4111 1111 1111 1112")  # Luhn fails
    assert not v.credit_card("9111 1111 1111 1111")  # no such issuer
    assert not v.credit_card("0000 0000 0000 0000")


def test_npi_uses_80840_prefix() -> None:
    assert v.npi("1234567893")  # CMS's published example
    assert not v.npi("1234567890")
    assert not v.npi("3234567893")  # must start with 1 or 2
    # Plain Luhn over the ten digits is not the NPI rule.
    assert v.luhn("1234567897") and not v.npi("1234567897")


def test_dea_checksum() -> None:
    assert v.dea("AB1234563")
    assert not v.dea("AB1234564")
    assert not v.dea("IB1234563")  # I is not a registrant type
    assert not v.dea("AB123456")


def test_vin_check_digit() -> None:
    assert v.vin("1HGCM82633A004352")
    assert v.vin("1M8GDM9AXKP042788")  # check digit X
    assert not v.vin("1HGCM82643A004352")
    assert not v.vin("1HGCM82633A00435I")  # I not allowed
    assert not v.vin("12345678901234567")  # all digits


def test_mbi_format() -> None:
    assert v.mbi("1EG4-TE5-MK73")  # CMS's example MBI
    assert v.mbi("1EG4TE5MK73")
    assert not v.mbi("0EG4TE5MK73")  # first char 1-9
    assert not v.mbi("1SG4TE5MK73")  # S excluded
    assert not v.mbi("1EG4TE5MK7")


def test_nanp() -> None:
    assert v.nanp("617", "253")
    assert not v.nanp("117", "253")  # area cannot start with 1
    assert not v.nanp("411", "253")  # N11
    assert not v.nanp("617", "911")
    assert not v.nanp("617", "053")


def test_ip() -> None:
    assert v.ip("192.168.10.4") and v.ip("2001:db8::1")
    assert not v.ip("999.1.1.1") and not v.ip("0.0.0.0") and not v.ip("1.2.3")


def test_restricted_zip3_list() -> None:
    assert "036" in v.RESTRICTED_ZIP3 and "893" in v.RESTRICTED_ZIP3
    assert len(v.RESTRICTED_ZIP3) == 17


@given(st.text(max_size=40))
def test_validators_never_crash(text: str) -> None:
    for fn in (v.ssn, v.luhn, v.npi, v.credit_card, v.dea, v.vin, v.mbi, v.ip):
        assert fn(text) in (True, False)


@given(st.lists(st.integers(0, 9), min_size=12, max_size=18))
def test_luhn_check_digit_roundtrip(digits: list[int]) -> None:
    body = "".join(map(str, digits))
    check = next(d for d in "0123456789" if v.luhn(body + d))
    assert v.luhn(body + check)
    wrong = str((int(check) + 1) % 10)
    assert not v.luhn(body + wrong)
