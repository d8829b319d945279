"""HL7 v2 ER7: delimiters from MSH, batches, MLLP, field maps, malformed segments."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiward.core.entities import EntityType as E
from phiward.formats._hl7 import Hl7Reader, parse_header, unescape
from tests.formats.conftest import by_field

READER = Hl7Reader()


def read(text: str | bytes) -> list:  # type: ignore[type-arg]
    data = text.encode() if isinstance(text, str) else text
    assert READER.sniff(data[:8192], "x")
    return list(READER.read(io.BytesIO(data), "x.hl7"))


MSG = (
    "MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.5\r"
    "PID|1||12345^^^H^MR~987-65-4320^^^SSA^SS||Doe^Jane^Ann~Roe^J||19800102|F|||"
    "1 Main St^Apt 2^Springfield^IL^62701^USA^^^Sangamon||"
    "^PRN^PH^^^217^5550123~^NET^Internet^jd@example.org\r"
    "OBX|1|TX|NOTE||Patient Jane Doe called\\.br\\from 217-555-0123||||||F\r"
)


def test_pid_fields_map_to_entities() -> None:
    fields = by_field(read(MSG))
    assert [(u.text, u.hint) for u in fields["PID-3.1"]] == [("12345", E.MRN)]
    assert [(u.text, u.hint) for u in fields["PID-3[2].1"]] == [("987-65-4320", E.SSN)]
    assert fields["PID-5.1"][0].text == "Doe" and fields["PID-5.1"][0].hint is E.NAME
    assert fields["PID-5.2"][0].text == "Jane"
    assert fields["PID-5[2].1"][0].text == "Roe"
    assert fields["PID-7"][0].hint is E.DATE
    assert fields["PID-11.3"][0].hint is E.CITY
    assert fields["PID-11.5"][0].hint is E.ZIP_CODE
    assert fields["PID-11.9"][0].hint is E.COUNTY
    assert fields["PID-13.6"][0].text == "217 5550123"
    assert fields["PID-13[2].4"][0].hint is E.EMAIL
    obx = fields["OBX-5"][0]
    assert obx.hint is None and "\n" in obx.text and "217-555-0123" in obx.text
    assert all(u.line is not None and u.byte_offset is not None for u in read(MSG))


def test_custom_delimiters_are_taken_from_msh() -> None:
    msg = "MSH#!*$@#A#B#C#D#2024##ADT!A01#1#P#2.5\rPID#1##42!!!H!MR##Smith!Ann\r"
    fields = by_field(read(msg))
    assert fields["PID-3.1"][0].text == "42"
    assert fields["PID-5.1"][0].text == "Smith"
    assert fields["PID-5.2"][0].text == "Ann"


def test_mllp_framing_and_lf_separators_are_tolerated() -> None:
    framed = b"\x0b" + MSG.replace("\r", "\n").encode() + b"\x1c\r\x0b" + MSG.encode() + b"\x1c\r"
    units = read(framed)
    assert [u.text for u in units if u.field == "PID-5.1"] == ["Doe", "Doe"]
    assert not [u for u in units if u.status]


def test_batch_headers_and_malformed_segments_are_not_fatal() -> None:
    data = (
        "FHS|^~\\&|X\rBHS|^~\\&|X\r" + MSG + "garbage line without structure\r"
        "pid|lowercase\r" + MSG + "BTS|2\rFTS|1\r"
    )
    units = read(data)
    errors = [u for u in units if u.status]
    assert [u.status for u in errors] == ["error:malformed segment"] * 2
    assert all(u.text == "" and u.line for u in errors)
    assert [u.text for u in units if u.field == "PID-5.1"] == ["Doe", "Doe"]


def test_segments_before_msh_are_errors() -> None:
    units = list(READER.read(io.BytesIO(b"PID|1||123\rMSH|^~\\&|A\rPID|1||77\r"), "x"))
    assert units[0].status == "error:segment outside a message (no MSH before it)"
    assert units[1].text == "77"


def test_bad_delimiters_are_reported() -> None:
    assert parse_header("MSH|^^\\&|") is None  # repeated delimiter
    assert parse_header("MSHa^~\\&") is None
    units = list(READER.read(io.BytesIO(b"MSH|^|x\rPID|1||9\r"), "x"))
    assert units[0].status and units[0].status.startswith("error:MSH declares")


def test_unescape() -> None:
    d = parse_header("MSH|^~\\&|")
    assert d is not None
    assert unescape("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f", d) == "a|b^c&d~e\\f"
    assert unescape("x\\X41\\y", d) == "xAy"
    assert unescape("dangling\\F", d) == "dangling\\F"


def test_null_values_are_skipped() -> None:
    fields = by_field(read('MSH|^~\\&|A\rPID|1||""||""^Jo\r'))
    assert "PID-3.1" not in fields and "PID-5.1" not in fields
    assert fields["PID-5.2"][0].text == "Jo"


def test_z_segments_and_nte_are_text() -> None:
    fields = by_field(read("MSH|^~\\&|A\rZPI|1|Emergency contact Bob Jones\rNTE|1||call 555\r"))
    assert fields["ZPI-2"][0].text == "Emergency contact Bob Jones"
    assert fields["ZPI-2"][0].hint is None
    assert fields["NTE-3"][0].text == "call 555"


def test_overlong_segment_is_an_error_unit(monkeypatch: object) -> None:
    import phiward.formats._hl7 as hl7

    setattr(hl7, "MAX_SEGMENT", 1000)  # noqa: B010
    try:
        data = b"MSH|^~\\&|A\rOBX|1|TX|N||" + b"x" * 5000 + b"\rPID|1||5\r"
        units = list(READER.read(io.BytesIO(data), "x"))
    finally:
        setattr(hl7, "MAX_SEGMENT", 16 * 1024 * 1024)  # noqa: B010
    assert any(u.status == "error:segment too long" for u in units)


# -- python-hl7 (dev dependency) as an independent oracle ---------------------------------------


VALUE = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij0123456789 .-'/", max_size=12).map(
    str.strip
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    family=VALUE,
    given_name=VALUE,
    mrn=VALUE,
    ssn=VALUE,
    city=VALUE,
    reps=st.integers(1, 3),
    sep=st.sampled_from(["\r", "\n", "\r\n"]),
)
def test_field_values_agree_with_python_hl7(
    family: str, given_name: str, mrn: str, ssn: str, city: str, reps: int, sep: str
) -> None:
    hl7 = pytest.importorskip("hl7")
    ids = "~".join(f"{mrn}{i}^^^H^MR" for i in range(reps))
    msg = sep.join(
        [
            "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5",
            f"PID|1||{ids}||{family}^{given_name}||||||1 St^^{city}^ME^04101||||||||{ssn}",
        ]
    )
    mine = {(u.field, u.text) for u in read(msg)}
    theirs = hl7.parse(msg.replace("\r\n", "\r").replace("\n", "\r"))
    expected = {
        ("PID-5.1", str(theirs["PID.F5.R1.C1"])),
        ("PID-5.2", str(theirs["PID.F5.R1.C2"])),
        ("PID-11.3", str(theirs["PID.F11.R1.C3"])),
        ("PID-19", str(theirs["PID.F19"])),
    }
    for rep in range(1, reps + 1):
        field = "PID-3.1" if rep == 1 else f"PID-3[{rep}].1"
        expected.add((field, str(theirs[f"PID.F3.R{rep}.C1"])))
    assert {(f, t) for f, t in expected if t} == {
        (f, t) for f, t in mine if f in {e[0] for e in expected}
    }


def test_provider_insurance_and_birth_place_fields() -> None:
    msg = (
        "MSH|^~\\&|A\r"
        "PID|1||9||Doe^Ann||||||||||||||||||Portland General Hospital\r"
        "PD1|||Clinic|1234^Hart^Lena\r"
        "ORC|NW|||||||||||5678^Ng^Bo\r"
        "IN2||EMP77||||1EG4TE5MK72||MCD998877\r"
    )
    fields = by_field(read(msg))
    assert fields["PID-23"][0].hint is None and "Portland" in fields["PID-23"][0].text
    assert (fields["PD1-4.2"][0].text, fields["PD1-4.2"][0].hint) == ("Hart", E.NAME)
    assert fields["ORC-12.3"][0].text == "Bo"
    assert (fields["IN2-6"][0].text, fields["IN2-6"][0].hint) == ("1EG4TE5MK72", E.HEALTH_PLAN_ID)
    assert fields["IN2-8"][0].hint is E.HEALTH_PLAN_ID
    assert fields["IN2-2"][0].hint is E.OTHER_ID
