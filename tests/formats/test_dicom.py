"""DICOM: header elements, private tags, pixel flags; pydicom's own test files where shipped."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiward.core.entities import EntityType as E
from phiward.demo.formats import dicom_bytes, people
from phiward.errors import InputError
from phiward.formats._dicom import DicomReader
from tests.formats.conftest import by_field

READER = DicomReader()


def _pydicom_file(name: str) -> Path:
    """A test file shipped inside the pydicom wheel (pydicom/data/test_files, MIT licence)."""
    import pydicom

    path = Path(pydicom.__file__).parent / "data" / "test_files" / name
    if not path.exists():
        pytest.skip(f"pydicom does not ship {name}")
    return path


def test_synthetic_headers_and_burned_in_flag() -> None:
    person = people()[0]
    units = list(READER.read(io.BytesIO(dicom_bytes(person)), "x.dcm"))
    fields = by_field(units)
    assert fields["(0010,0010) PatientName"][0].hint is E.NAME
    assert fields["(0010,0010) PatientName"][0].hint_only
    assert fields["(0010,0030) PatientBirthDate"][0].hint is E.DATE
    assert fields["(0011,1001) Private"][0].text.startswith("Ref by")
    assert "(0011,0010) Private" not in fields  # private creator is not data
    flag = fields["(0028,0301) BurnedInAnnotation"][0]
    assert flag.hint is E.PHOTO and flag.hint_confidence >= 0.9 and flag.status is None
    pixels = fields["(7FE0,0010) PixelData"][0]
    assert pixels.status and "burned-in" in pixels.status and pixels.text == ""


def test_pixel_data_without_burned_in_flag_is_only_reported_as_not_read() -> None:
    units = list(READER.read(io.BytesIO(dicom_bytes(people()[1], burned_in=False)), "x.dcm"))
    assert not [u for u in units if u.hint is E.PHOTO]
    assert [(u.field, u.status) for u in units if u.status] == [
        ("(7FE0,0010) PixelData", "skipped:may contain PHI in pixels (not decoded)")
    ]


def test_pydicom_ct_small() -> None:
    path = _pydicom_file("CT_small.dcm")
    units = list(READER.read(io.BytesIO(path.read_bytes()), path.name))
    fields = by_field(units)
    assert fields["(0010,0010) PatientName"][0].text == "CompressedSamples^CT1"
    assert fields["(0010,0020) PatientID"][0].hint is E.MRN
    assert fields["(7FE0,0010) PixelData"][0].status == (
        "skipped:may contain PHI in pixels (not decoded)"
    )


def test_pydicom_truncated_file_is_not_a_crash() -> None:
    path = _pydicom_file("MR_truncated.dcm")
    try:
        units = list(READER.read(io.BytesIO(path.read_bytes()), path.name))
    except InputError:
        return
    assert units  # either a clean InputError or the header it could read


def test_not_dicom() -> None:
    assert not READER.sniff(b"\x00" * 200, "x.dcm")
    try:
        units = list(READER.read(io.BytesIO(b"\x00" * 128 + b"DICM" + b"\xff" * 20), "x.dcm"))
    except InputError:
        return
    assert all(not u.text for u in units)


def test_age_over_89() -> None:
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(dicom_bytes(people()[0])))
    ds.PatientAge = "093Y"
    out = io.BytesIO()
    ds.save_as(out)
    fields = by_field(list(READER.read(io.BytesIO(out.getvalue()), "x.dcm")))
    assert fields["(0010,1010) PatientAge"][0].hint is E.AGE_OVER_89


@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    name=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ^ '-", min_size=1, max_size=40).filter(
        lambda s: s.strip(" ^")
    ),
    pid=st.text(alphabet="ABCDEFGHIJ0123456789-", min_size=1, max_size=16),
)
def test_header_values_round_trip_through_pydicom(name: str, pid: str) -> None:
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(dicom_bytes(people()[0])))
    ds.PatientName = name
    ds.PatientID = pid
    out = io.BytesIO()
    ds.save_as(out)
    fields = by_field(list(READER.read(io.BytesIO(out.getvalue()), "x.dcm")))
    expected_name = str(dcmread(io.BytesIO(out.getvalue())).PatientName)
    if expected_name.strip():
        assert [u.text for u in fields["(0010,0010) PatientName"]] == [expected_name]
    assert [u.text for u in fields["(0010,0020) PatientID"]] == [
        str(dcmread(io.BytesIO(out.getvalue())).PatientID)
    ]


def test_file_without_preamble_is_read_when_named_dcm() -> None:
    path = _pydicom_file("ExplVR_LitEndNoMeta.dcm")
    data = path.read_bytes()
    assert data[128:132] != b"DICM"
    assert READER.sniff(data[:8192], "x.dcm") and not READER.sniff(data[:8192], "x.bin")
    fields = by_field(list(READER.read(io.BytesIO(data), path.name)))
    assert (fields["(0008,0020) StudyDate"][0].text, fields["(0008,0020) StudyDate"][0].hint) == (
        "20150515",
        E.DATE,
    )


def test_encapsulated_pdf_is_read_by_the_pdf_reader() -> None:
    from pydicom import dcmread

    from phiward.demo.formats import pdf_bytes

    person = people()[0]
    ds = dcmread(io.BytesIO(dicom_bytes(person, burned_in=False)))
    del ds.PixelData
    del ds.Rows
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf_bytes([f"Scanned consent, SSN {person.ssn}"], False)
    out = io.BytesIO()
    ds.save_as(out)
    fields = by_field(list(READER.read(io.BytesIO(out.getvalue()), "x.dcm")))
    page = fields["(0042,0011) EncapsulatedDocument!page 1"][0]
    assert person.ssn in page.text
