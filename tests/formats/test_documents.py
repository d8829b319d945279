"""PDF, DOCX, XLSX, OLE, Parquet, images and encrypted envelopes."""

from __future__ import annotations

import io
import struct

import pytest

from phiward.core.entities import EntityType as E
from phiward.demo.formats import esdk_like_bytes, image_bytes, parquet_bytes, pdf_bytes, people
from phiward.errors import InputError
from phiward.formats._encrypted import is_esdk_message
from phiward.formats._image import ImageReader, exif_units
from phiward.formats._office import ENCRYPTED_PACKAGE, OLE_MAGIC, column_letter
from phiward.formats._parquet import ParquetReader
from tests.formats.conftest import by_field, read_bytes

PERSON = people()[0]


def test_pdf_pages_metadata_and_image_only_page() -> None:
    units = read_bytes(pdf_bytes([f"SSN {PERSON.ssn}", "second line"]), "r.pdf")
    fields = by_field(units)
    assert PERSON.ssn in fields["page 1"][0].text
    assert fields["page 2"][0].status == "skipped:image-only page, not scanned for text"


def test_pdf_with_owner_password_only_is_read() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Visible text"], False))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    units = read_bytes(out.getvalue(), "o.pdf")
    assert [u.text.strip() for u in units] == ["Visible text"]


def test_corrupt_pdf_is_input_error() -> None:
    with pytest.raises(InputError):
        read_bytes(b"%PDF-1.4\n garbage", "x.pdf")


def test_xlsx_cells_carry_address_row_and_header(samples) -> None:  # type: ignore[no-untyped-def]
    root, _ = samples
    fields = by_field(read_bytes((root / "office/patients.xlsx").read_bytes(), "p.xlsx"))
    cell = fields["Patients!B2"][0]
    # Cells are plain units: the scanner's column logic (header + values) classifies them.
    assert cell.hint is None and cell.column_name == "SSN" and cell.line == 2
    assert fields["Patients!C2"][0].text == people()[0].birth.isoformat()
    assert fields["Patients!B1"][0].column_name is None  # the header row itself


def test_docx_tables_use_header_row(samples) -> None:  # type: ignore[no-untyped-def]
    root, _ = samples
    fields = by_field(read_bytes((root / "office/discharge.docx").read_bytes(), "d.docx"))
    assert fields["table 1 R2C2"][0].column_name == "MRN"
    assert fields["properties author"][0].text == "Agnes Sorensen"


def test_encrypted_office_document() -> None:
    fake = OLE_MAGIC + b"\x00" * 504 + ENCRYPTED_PACKAGE + b"\x00" * 100
    assert [u.status for u in read_bytes(fake, "x.xlsx")] == ["encrypted"]
    legacy = OLE_MAGIC + b"\x00" * 600
    assert (
        read_bytes(legacy, "x.doc")[0].status
        == "skipped:legacy OLE document (.doc/.xls/.msg) is not read"
    )


def test_parquet_streams_row_groups_with_row_numbers() -> None:
    data = parquet_bytes(people(), repeat=5, row_group_size=7)
    units = list(ParquetReader().read(io.BytesIO(data), "p.parquet"))
    ssn = [u for u in units if u.field == "ssn"]
    assert [u.line for u in ssn] == list(range(1, 21))
    assert all(u.hint is None and u.column_name == "ssn" for u in ssn)
    city = [u for u in units if u.field == "address.city"]
    assert len(city) == 20 and all(u.column_name == "address.city" for u in city)
    assert [u.text for u in units if u.field == "birth_date"][:1] == [people()[0].birth.isoformat()]
    assert {u.text for u in units if u.field == "visits"} == {"3"}


def test_parquet_modular_encryption_is_encrypted() -> None:
    units = read_bytes(b"PARE" + b"\x00" * 64 + b"PARE", "e.parquet")
    assert [u.status for u in units] == ["encrypted"]


@pytest.mark.parametrize("kind", ["jpg", "png", "tiff"])
def test_image_exif(kind: str) -> None:
    units = list(ImageReader().read(io.BytesIO(image_bytes(kind, PERSON)), f"x.{kind}"))
    fields = by_field(units)
    assert fields["EXIF Artist"][0].hint is E.NAME
    assert fields["EXIF Artist"][0].text == f"{PERSON.given} {PERSON.family}"
    assert fields["EXIF GPSPosition"][0].text == "43.658333,-70.252778"
    assert PERSON.mrn in fields["EXIF ImageDescription"][0].text
    photo = units[-1]
    assert photo.hint is E.PHOTO and photo.hint_confidence <= 0.3 and photo.hint_only
    assert photo.text.startswith("image sha256:") and photo.status is None


def test_exif_walker_survives_loops_and_bad_offsets() -> None:
    # IFD0 whose next-IFD pointer (Exif IFD tag) points back at itself, and a pointer past the end.
    entries = struct.pack("<HHII", 0x8769, 4, 1, 8) + struct.pack("<HHII", 0x013B, 2, 50, 9999)
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2) + entries
    assert list(exif_units(tiff, "")) == []


def test_esdk_header_detection() -> None:
    assert is_esdk_message(esdk_like_bytes())
    assert is_esdk_message(b"\x01\x80\x03\x78")
    assert not is_esdk_message(b"\x02\x05\x77")
    assert not is_esdk_message(b"hello")
    assert [u.status for u in read_bytes(esdk_like_bytes(), "x.enc")] == ["encrypted"]


def test_column_letters() -> None:
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]


def test_office_package_bomb_is_skipped() -> None:
    from phiward.demo.formats import zip_bytes

    data = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": bytes(5 << 20)})
    units = read_bytes(data, "bomb.docx")
    assert [u.status for u in units] == [
        "skipped:budget: DOCX zip bomb: compression ratio over 250"
    ]


@pytest.mark.parametrize("signed", [False, True])
def test_real_phiward_encrypted_file_is_reported_encrypted(signed: bool) -> None:
    import os

    from phiward.crypto._keyrings import RawAesKeyring
    from phiward.crypto._message import Suite, encrypt

    keyring = RawAesKeyring("phiward-test", "k1", os.urandom(32))
    suite = (
        Suite.AES256_HKDF_SHA512_COMMIT_ECDSA_P384 if signed else Suite.AES256_HKDF_SHA512_COMMIT
    )
    message = encrypt(f"SSN {PERSON.ssn}".encode(), keyring, suite=suite)
    units = read_bytes(message, "labs.csv")
    assert [(u.status, u.text) for u in units] == [("encrypted", "")]


def test_docx_comments_and_their_authors() -> None:
    import docx

    document = docx.Document()
    paragraph = document.add_paragraph("Plan reviewed.")
    document.add_comment(
        paragraph.runs, text=f"Call {PERSON.given} at {PERSON.phone}", author="Dr Vale"
    )
    out = io.BytesIO()
    document.save(out)
    fields = by_field(read_bytes(out.getvalue(), "c.docx"))
    comment = [u for f, us in fields.items() if f.startswith("comment ") for u in us]
    assert [u.text for u in comment] == [f"Call {PERSON.given} at {PERSON.phone}", "Dr Vale"]
    assert comment[1].field.endswith(" author")


def test_pdf_annotations_are_read() -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import Text

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Lab report"], False))))
    writer.add_annotation(0, Text(rect=(50, 550, 200, 650), text=f"MRN {PERSON.mrn} call back"))
    out = io.BytesIO()
    writer.write(out)
    fields = by_field(read_bytes(out.getvalue(), "a.pdf"))
    assert fields["page 1 annotation 1"][0].text == f"MRN {PERSON.mrn} call back"


def test_multi_page_tiff_descriptions() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (4, 4)).save(
        out,
        format="TIFF",
        save_all=True,
        append_images=[Image.new("L", (4, 4)), Image.new("L", (4, 4))],
        description=f"scan of {PERSON.family}",
    )
    units = list(ImageReader().read(io.BytesIO(out.getvalue()), "scan.tif"))
    descriptions = [u.text for u in units if u.field == "EXIF ImageDescription"]
    assert descriptions == [f"scan of {PERSON.family}"] * 3  # one per page


def test_xlsx_cell_comments() -> None:
    import openpyxl
    from openpyxl.comments import Comment

    book = openpyxl.Workbook()
    book.active["A1"] = "value"
    book.active["A1"].comment = Comment(f"Pt {PERSON.given} {PERSON.family} disputes", "Nurse Ode")
    out = io.BytesIO()
    book.save(out)
    units = read_bytes(out.getvalue(), "c.xlsx")
    notes = [(u.field, u.text) for u in units if u.field and u.field.startswith("comment ")]
    assert notes[0][0].startswith("comment A1 (xl/comments")
    assert PERSON.family in notes[0][1]
    assert notes[1][1] == "Nurse Ode"
