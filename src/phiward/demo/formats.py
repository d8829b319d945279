"""Synthetic samples of every health format phiward reads, with their ground truth.

``write_format_samples(directory)`` writes HL7 v2 (a FHS/BHS batch and an MLLP capture), FHIR
(a Bundle and a Bulk Data NDJSON file), a C-CDA document, a DICOM file (pydicom), a PDF with an
image-only page, a DOCX, an XLSX, a Parquet file, JPEG/PNG images with EXIF, a nested zip, a
tar.gz, a small zip bomb, a nested-too-deep zip, a password-protected zip and an AWS Encryption
SDK message, plus ``ground-truth.json``: which structural path of which file holds which entity.

Every person is invented (seeded, reproducible); phone numbers use the 555-01xx fictional range.
The bomb samples stay small on disk (tens of KiB) and only inflate past the limits when read.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import random
import struct
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from phiward.core.entities import EntityType as E
from phiward.errors import InputError
from phiward.formats._fhir import _photo_token

SEED = 20240605
DICOM_SOP_UID = "1.2.826.0.1.3680043.8.498.1"


@dataclass(frozen=True, slots=True)
class Person:
    """One invented patient."""

    given: str
    family: str
    birth: dt.date
    ssn: str
    mrn: str
    phone: str
    email: str
    street: str
    city: str
    zip_code: str
    member_id: str


@dataclass(frozen=True, slots=True)
class Truth:
    """A planted identifier: in ``file`` at structural path ``field`` there is ``entity``."""

    file: str
    field: str
    entity: str
    value: str
    by: str = "structure"
    """``structure``: the reader's hint reports it; ``column``: a table cell the scanner's column
    logic must classify; ``text``: the text engine must find it in free text."""


GIVEN = ["Maren", "Tobias", "Ilse", "Desmond", "Paloma", "Ruben", "Ottilie", "Caspar"]
FAMILY = ["Vantrell", "Okonkwo-Byrd", "Halvorsen", "Quintero", "Abernethy", "Lindqvist"]
STREETS = ["Juniper Hollow Rd", "Calloway St", "Birchmont Ave", "Tamarack Ln"]
CITIES = [("Fenwick", "04862"), ("Marlow Springs", "73019"), ("Oakridge Falls", "29641")]


def people(count: int = 4, seed: int = SEED) -> list[Person]:
    """``count`` invented people, the same ones for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    out = []
    for index in range(count):
        city, zip_code = rng.choice(CITIES)
        area = rng.choice([n for n in range(100, 666) if n != 666])
        out.append(
            Person(
                given=GIVEN[index % len(GIVEN)],
                family=FAMILY[index % len(FAMILY)],
                birth=dt.date(rng.randint(1930, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                ssn=f"{area:03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}",
                mrn=f"MRN{rng.randint(1_000_000, 9_999_999)}",
                phone=f"(617) 555-01{rng.randint(10, 99)}",
                email=f"{GIVEN[index % len(GIVEN)].lower()}.{index}@example.org",
                street=f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
                city=city,
                zip_code=zip_code,
                member_id=f"XJH{rng.randint(100_000_000, 999_999_999)}",
            )
        )
    return out


class _Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.truth: list[Truth] = []

    def write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def plant(self, rel: str, field: str, entity: E, value: str, by: str = "structure") -> None:
        self.truth.append(Truth(rel, field, entity.value, value, by))


# -- HL7 v2 ---------------------------------------------------------------------------------------


def _segment(name: str, fields: dict[int, str]) -> str:
    """An ER7 segment with ``fields`` at their standard positions (1-based)."""
    values = [""] * max(fields)
    for number, value in fields.items():
        values[number - 1] = value
    return "|".join([name, *values])


def hl7_message(p: Person, control: str, w: _Writer | None = None, rel: str = "") -> str:
    """One ADT^A01 message for ``p``, segments separated by CR."""
    dob = p.birth.strftime("%Y%m%d")
    address = f"{p.street}^^{p.city}^ME^{p.zip_code}^USA"
    segments = [
        f"MSH|^~\\&|EPIC|GENHOSP|LAB|GENHOSP|20240301083000||ADT^A01|{control}|P|2.5.1",
        "EVN|A01|20240301083000",
        _segment(
            "PID",
            {
                1: "1",
                3: f"{p.mrn}^^^GENHOSP^MR~{p.ssn}^^^SSA^SS",
                5: f"{p.family}^{p.given}^Q",
                7: dob,
                8: "F",
                11: address,
                13: f"{p.phone}^PRN^PH",
                18: f"ACCT{p.mrn[3:]}",
                19: p.ssn,
            },
        ),
        _segment(
            "NK1", {1: "1", 2: f"{p.family}^Harold", 3: "SPO", 4: address, 5: "(617) 555-0177"}
        ),
        _segment(
            "GT1",
            {1: "1", 3: f"{p.family}^{p.given}", 5: address, 6: p.phone, 8: dob, 12: p.ssn},
        ),
        _segment(
            "IN1",
            {
                1: "1",
                2: "BCBS01",
                4: "BLUE CROSS",
                16: f"{p.family}^{p.given}",
                17: "SEL",
                18: dob,
                36: p.member_id,
            },
        ),
        _segment(
            "PV1", {1: "1", 2: "I", 3: "4W^401^A", 7: "1234567890^Sorensen^Agnes^^^Dr", 19: "V1"}
        ),
        _segment(
            "OBX",
            {
                1: "1",
                2: "TX",
                3: "NOTE^Clinical note",
                5: f"Pt {p.given} {p.family} seen today, call back at {p.phone}. Lives alone.",
                11: "F",
            },
        ),
        "NTE|1||Follow-up in two weeks",
    ]
    if w is not None:
        for field, entity, value in (
            ("PID-3.1", E.MRN, p.mrn),
            ("PID-18.1", E.ACCOUNT_NUMBER, f"ACCT{p.mrn[3:]}"),
            ("PID-3[2].1", E.SSN, p.ssn),
            ("PID-5.1", E.NAME, p.family),
            ("PID-5.2", E.NAME, p.given),
            ("PID-7", E.DATE, dob),
            ("PID-11.1", E.STREET_ADDRESS, p.street),
            ("PID-11.3", E.CITY, p.city),
            ("PID-11.5", E.ZIP_CODE, p.zip_code),
            ("PID-13.1", E.PHONE, p.phone),
            ("PID-19", E.SSN, p.ssn),
            ("NK1-2.1", E.NAME, p.family),
            ("GT1-12", E.SSN, p.ssn),
            ("IN1-36", E.HEALTH_PLAN_ID, p.member_id),
        ):
            w.plant(rel, field, entity, value)
    return "\r".join(segments) + "\r"


def _hl7(w: _Writer, ps: list[Person]) -> None:
    rel = "hl7/adt_batch.hl7"
    body = [
        "FHS|^~\\&|EPIC|GENHOSP|LAB|GENHOSP|20240301090000",
        "BHS|^~\\&|EPIC|GENHOSP|LAB|GENHOSP|20240301090000",
    ]
    text = "\r".join(body) + "\r"
    text += hl7_message(ps[0], "MSG0001", w, rel)
    text += hl7_message(ps[1], "MSG0002", None)
    text += "BTS|2\rFTS|1\r"
    w.write(rel, text.encode())
    # An MLLP capture from an interface engine, with non-default delimiters (# for ^).
    msg = hl7_message(ps[2], "MSG0003", None).replace("^", "#").replace("MSH|#~", "MSH|#~")
    w.write("hl7/adt_mllp.hl7", b"\x0b" + msg.encode() + b"\x1c\r")
    w.plant("hl7/adt_mllp.hl7", "PID-5.1", E.NAME, ps[2].family)
    w.plant("hl7/adt_mllp.hl7", "PID-19", E.SSN, ps[2].ssn)


# -- FHIR -----------------------------------------------------------------------------------------


PHOTO = {"contentType": "image/jpeg", "data": "/9j/4AAQSkZJRgABAQ=="}


def fhir_patient(p: Person, pid: str) -> dict[str, object]:
    """A FHIR R4 Patient for ``p``."""
    return {
        "resourceType": "Patient",
        "id": pid,
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{p.given} {p.family}, '
            f"born {p.birth.isoformat()}</div>",
        },
        "identifier": [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": "urn:oid:1.2.36.146.595.217.0.1",
                "value": p.mrn,
            },
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": p.ssn},
        ],
        "name": [{"use": "official", "family": p.family, "given": [p.given]}],
        "telecom": [
            {"system": "phone", "value": p.phone, "use": "home"},
            {"system": "email", "value": p.email},
        ],
        "gender": "female",
        "birthDate": p.birth.isoformat(),
        "address": [{"line": [p.street], "city": p.city, "state": "ME", "postalCode": p.zip_code}],
        "photo": [PHOTO],
    }


def _fhir_xml(p: Person) -> str:
    """The same Patient as FHIR XML (value attributes, XHTML narrative)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <id value="px1"/>
  <text><status value="generated"/>
    <div xmlns="http://www.w3.org/1999/xhtml">{p.given} {p.family}</div></text>
  <identifier><system value="http://hl7.org/fhir/sid/us-ssn"/><value value="{p.ssn}"/></identifier>
  <name><family value="{p.family}"/><given value="{p.given}"/></name>
  <telecom><system value="phone"/><value value="{p.phone}"/></telecom>
  <birthDate value="{p.birth.isoformat()}"/>
</Patient>
"""


def _fhir(w: _Writer, ps: list[Person]) -> None:
    rel = "fhir/bundle.json"
    p = ps[0]
    bundle_patient = fhir_patient(p, "p1")
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p1", "resource": bundle_patient},
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "Social history"},
                    "subject": {"reference": "Patient/p1", "display": f"{p.given} {p.family}"},
                    "effectiveDateTime": "2024-03-01",
                    "valueString": f"Lives with daughter; reach her at {p.email}",
                }
            },
            {
                "resource": {
                    "resourceType": "Coverage",
                    "status": "active",
                    "subscriberId": p.member_id,
                    "beneficiary": {"reference": "Patient/p1"},
                }
            },
        ],
    }
    w.write(rel, json.dumps(bundle, indent=2).encode())
    base = "Bundle.entry[0].Patient"
    for field, entity, value in (
        (f"{base}.identifier[0].value", E.MRN, p.mrn),
        (f"{base}.identifier[1].value", E.SSN, p.ssn),
        (f"{base}.name[0].family", E.NAME, p.family),
        (f"{base}.name[0].given[0]", E.NAME, p.given),
        (f"{base}.telecom[0].value", E.PHONE, p.phone),
        (f"{base}.telecom[1].value", E.EMAIL, p.email),
        (f"{base}.birthDate", E.DATE, p.birth.isoformat()),
        (f"{base}.address[0].line[0]", E.STREET_ADDRESS, p.street),
        (f"{base}.address[0].city", E.CITY, p.city),
        (f"{base}.address[0].postalCode", E.ZIP_CODE, p.zip_code),
        (f"{base}.photo[0]", E.PHOTO, _photo_token(PHOTO)),
        ("Bundle.entry[1].Observation.subject.display", E.NAME, f"{p.given} {p.family}"),
        ("Bundle.entry[2].Coverage.subscriberId", E.HEALTH_PLAN_ID, p.member_id),
    ):
        w.plant(rel, field, entity, value)
    rel = "fhir/patient.xml"
    w.write(rel, _fhir_xml(ps[1]).encode())
    w.plant(rel, "Patient.name[0].family", E.NAME, ps[1].family)
    w.plant(rel, "Patient.identifier[0].value", E.SSN, ps[1].ssn)
    w.plant(rel, "Patient.birthDate", E.DATE, ps[1].birth.isoformat())
    rel = "fhir/Patient.ndjson"
    lines = [json.dumps(fhir_patient(q, f"p{i}")) for i, q in enumerate(ps)]
    w.write(rel, ("\n".join(lines) + "\n").encode())
    for q in ps:
        w.plant(rel, "Patient.name[0].family", E.NAME, q.family)
        w.plant(rel, "Patient.identifier[1].value", E.SSN, q.ssn)


# -- C-CDA ----------------------------------------------------------------------------------------


def _cda(w: _Writer, ps: list[Person]) -> None:
    p = ps[1]
    rel = "cda/ccd.xml"
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <title>Continuity of Care Document</title>
  <recordTarget>
    <patientRole>
      <id root="2.16.840.1.113883.19.5" extension="{p.mrn}"/>
      <id root="2.16.840.1.113883.4.1" extension="{p.ssn}"/>
      <addr use="HP">
        <streetAddressLine>{p.street}</streetAddressLine>
        <city>{p.city}</city><state>ME</state><postalCode>{p.zip_code}</postalCode>
      </addr>
      <telecom use="HP" value="tel:{p.phone}"/>
      <telecom value="mailto:{p.email}"/>
      <patient>
        <name><given>{p.given}</given><family>{p.family}</family></name>
        <administrativeGenderCode code="M" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="{p.birth.strftime("%Y%m%d")}"/>
      </patient>
    </patientRole>
  </recordTarget>
  <component><structuredBody>
    <component><section>
      <title>History of Present Illness</title>
      <text><paragraph>{p.given} {p.family} presents with cough. Daughter can be reached at
      {p.phone}.</paragraph></text>
    </section></component>
  </structuredBody></component>
</ClinicalDocument>
"""
    w.write(rel, doc.encode())
    role = "/ClinicalDocument/recordTarget/patientRole"
    for field, entity, value in (
        (f"{role}/id[1]/@extension", E.MRN, p.mrn),
        (f"{role}/id[2]/@extension", E.SSN, p.ssn),
        (f"{role}/addr/streetAddressLine", E.STREET_ADDRESS, p.street),
        (f"{role}/addr/city", E.CITY, p.city),
        (f"{role}/addr/postalCode", E.ZIP_CODE, p.zip_code),
        (f"{role}/telecom[1]/@value", E.PHONE, p.phone),
        (f"{role}/telecom[2]/@value", E.EMAIL, p.email),
        (f"{role}/patient/name/given", E.NAME, p.given),
        (f"{role}/patient/name/family", E.NAME, p.family),
        (f"{role}/patient/birthTime/@value", E.DATE, p.birth.strftime("%Y%m%d")),
    ):
        w.plant(rel, field, entity, value)


# -- DICOM ----------------------------------------------------------------------------------------


def dicom_bytes(p: Person, burned_in: bool = True) -> bytes:
    """A small secondary-capture DICOM file with patient/study headers and 8x8 pixels."""
    from pydicom.dataset import Dataset, FileMetaDataset  # noqa: PLC0415 - [formats] extra
    from pydicom.uid import (  # noqa: PLC0415 - [formats] extra
        UID,
        ExplicitVRLittleEndian,
        SecondaryCaptureImageStorage,
    )

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = UID(DICOM_SOP_UID)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = f"{p.family}^{p.given}"
    ds.PatientID = p.mrn
    ds.PatientBirthDate = p.birth.strftime("%Y%m%d")
    ds.OtherPatientIDs = p.ssn
    ds.InstitutionName = "General Hospital of Fenwick"
    ds.ReferringPhysicianName = "Sorensen^Agnes"
    ds.AccessionNumber = "ACC20240301"
    ds.StudyDate = "20240301"
    ds.StudyDescription = "CT chest"
    ds.Modality = "OT"
    ds.private_block(0x0011, "PHIWARD DEMO", create=True).add_new(
        0x01, "LO", f"Ref by {p.given} {p.family}"
    )
    if burned_in:
        ds.BurnedInAnnotation = "YES"
    ds.Rows, ds.Columns = 8, 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = bytes(range(64))
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _dicom(w: _Writer, ps: list[Person]) -> None:
    p = ps[2]
    rel = "dicom/ct_chest.dcm"
    w.write(rel, dicom_bytes(p))
    for field, entity, value in (
        ("(0010,0010) PatientName", E.NAME, f"{p.family}^{p.given}"),
        ("(0010,0020) PatientID", E.MRN, p.mrn),
        ("(0010,0030) PatientBirthDate", E.DATE, p.birth.strftime("%Y%m%d")),
        ("(0010,1000) OtherPatientIDs", E.MRN, p.ssn),
        ("(0008,0050) AccessionNumber", E.OTHER_ID, "ACC20240301"),
        ("(0008,0090) ReferringPhysicianName", E.NAME, "Sorensen^Agnes"),
        ("(0028,0301) BurnedInAnnotation", E.PHOTO, DICOM_SOP_UID),
    ):
        w.plant(rel, field, entity, value)


# -- PDF ------------------------------------------------------------------------------------------


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(lines: list[str], image_page: bool = True) -> bytes:
    """A PDF whose page 1 has ``lines`` as text and (optionally) page 2 is only an image."""
    content = (
        "BT /F1 12 Tf 72 720 Td 14 TL "
        + " ".join(f"({_pdf_escape(line)}) '" for line in lines)
        + " ET"
    )
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # pages, filled below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content.encode("latin-1")),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> >>",
    ]
    kids = [5]
    if image_page:
        pixels = bytes(range(0, 256, 4)) * 64
        draw = b"q 200 0 0 200 100 400 cm /Im1 Do Q"
        objects += [
            b"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream" % (len(pixels), pixels),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 7 0 R "
            b"/Resources << /XObject << /Im1 6 0 R >> >> >>",
        ]
        kids.append(8)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf(w: _Writer, ps: list[Person]) -> None:
    p = ps[3]
    rel = "pdf/referral.pdf"
    w.write(
        rel,
        pdf_bytes(
            [
                "Referral letter",
                f"Patient: {p.given} {p.family}  DOB: {p.birth.strftime('%m/%d/%Y')}",
                f"SSN: {p.ssn}  Phone: {p.phone}",
            ]
        ),
    )
    w.plant(rel, "page 1", E.SSN, p.ssn, by="text")
    from pypdf import PdfReader, PdfWriter  # noqa: PLC0415 - [formats] extra

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Sealed record"], False))))
    writer.encrypt(user_password="demo-password", algorithm="RC4-128")  # noqa: S106
    out = io.BytesIO()
    writer.write(out)
    w.write("pdf/sealed.pdf", out.getvalue())


# -- Office ---------------------------------------------------------------------------------------


def _office(w: _Writer, ps: list[Person]) -> None:
    import docx  # noqa: PLC0415 - [formats] extra
    import openpyxl  # noqa: PLC0415 - [formats] extra

    p = ps[0]
    document = docx.Document()
    document.core_properties.author = "Agnes Sorensen"
    document.add_paragraph("Discharge summary")
    document.add_paragraph(f"{p.given} {p.family} (SSN {p.ssn}) was discharged home.")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["Name", "MRN", "DOB"], strict=True):
        cell.text = text
    for cell, text in zip(
        table.rows[1].cells, [f"{p.given} {p.family}", p.mrn, p.birth.isoformat()], strict=True
    ):
        cell.text = text
    out = io.BytesIO()
    document.save(out)
    rel = "office/discharge.docx"
    w.write(rel, out.getvalue())
    w.plant(rel, "paragraph 2", E.SSN, p.ssn, by="text")
    w.plant(rel, "table 1 R2C2", E.MRN, p.mrn, by="column")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Patients"
    sheet.append(["Name", "SSN", "DOB", "Phone", "Notes"])
    for q in ps:
        sheet.append(
            [f"{q.given} {q.family}", q.ssn, q.birth, q.phone, f"Call {q.given} re: results"]
        )
    out = io.BytesIO()
    book.save(out)
    rel = "office/patients.xlsx"
    w.write(rel, out.getvalue())
    for row, q in enumerate(ps, start=2):
        w.plant(rel, f"Patients!B{row}", E.SSN, q.ssn, by="column")
        w.plant(rel, f"Patients!A{row}", E.NAME, f"{q.given} {q.family}", by="column")


# -- Parquet --------------------------------------------------------------------------------------


def parquet_bytes(ps: list[Person], repeat: int = 1, row_group_size: int = 1024) -> bytes:
    """A Parquet table of ``ps`` (repeated ``repeat`` times) with a nested address column."""
    import pyarrow as pa  # noqa: PLC0415 - [formats] extra
    import pyarrow.parquet as pq  # noqa: PLC0415 - [formats] extra

    rows = [q for _ in range(repeat) for q in ps]
    table = pa.table(
        {
            "patient_name": [f"{q.given} {q.family}" for q in rows],
            "ssn": [q.ssn for q in rows],
            "birth_date": [q.birth for q in rows],
            "phone": [q.phone for q in rows],
            "address": [{"street": q.street, "city": q.city, "zip": q.zip_code} for q in rows],
            "note": [f"Spoke with {q.given} about results" for q in rows],
            "visits": [3 for _ in rows],
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group_size)
    return out.getvalue()


def _parquet(w: _Writer, ps: list[Person]) -> None:
    rel = "parquet/patients.parquet"
    w.write(rel, parquet_bytes(ps))
    for q in ps:
        w.plant(rel, "ssn", E.SSN, q.ssn, by="column")
        w.plant(rel, "address.city", E.CITY, q.city, by="column")


# -- images ---------------------------------------------------------------------------------------


def image_bytes(kind: str, p: Person) -> bytes:
    """A tiny JPEG, PNG or TIFF whose EXIF names ``p`` (Artist, description, GPS)."""
    from PIL import Image  # noqa: PLC0415 - [formats] extra
    from PIL.PngImagePlugin import PngInfo  # noqa: PLC0415 - [formats] extra

    image = Image.new("RGB", (16, 16), (180, 140, 120))
    exif = Image.Exif()
    exif[0x013B] = f"{p.given} {p.family}"
    exif[0x010E] = f"Wound photo, patient {p.mrn}"
    exif[0x0132] = "2024:03:01 09:15:00"
    gps = {1: "N", 2: (43.0, 39.0, 30.0), 3: "W", 4: (70.0, 15.0, 10.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    if kind == "png":
        info = PngInfo()
        info.add_text("Comment", f"Photo of {p.given} {p.family}")
        image.save(out, format="PNG", exif=exif.tobytes(), pnginfo=info)
    elif kind == "tiff":
        image.save(out, format="TIFF", exif=exif.tobytes())
    else:
        image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _images(w: _Writer, ps: list[Person]) -> None:
    p = ps[1]
    for kind in ("jpg", "png"):
        rel = f"images/wound.{kind}"
        data = image_bytes(kind, p)
        w.write(rel, data)
        w.plant(rel, "EXIF Artist", E.NAME, f"{p.given} {p.family}")
        w.plant(rel, "EXIF GPSPosition", E.STREET_ADDRESS, "43.658333,-70.252778")
        digest = hashlib.sha256(data).hexdigest()
        w.plant(
            rel, f"{'JPEG' if kind == 'jpg' else 'PNG'} image", E.PHOTO, f"image sha256:{digest}"
        )


# -- archives and encrypted files -----------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deflated zip of ``members``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def bomb_bytes(inflated_mib: int = 20) -> bytes:
    """A zip whose one member inflates ``inflated_mib`` MiB of zeros (~1000:1): small on disk."""
    out = io.BytesIO()
    block = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.bin", "w") as member,
    ):
        for _ in range(inflated_mib):
            member.write(block)
    return out.getvalue()


def nested_zip_bytes(depth: int, leaf: bytes, leaf_name: str = "note.hl7") -> bytes:
    """``leaf`` wrapped in ``depth`` levels of zip (level{n}.zip inside each other)."""
    data, name = leaf, leaf_name
    for level in range(depth, 0, -1):
        data, name = zip_bytes({name: data}), f"level{level}.zip"
    return data


def protected_zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip whose members carry the "encrypted" flag (general-purpose bit 0).

    The payload is random bytes standing in for ZipCrypto ciphertext: readers must treat the entry
    as protected without trying to open it, which is all this sample tests.
    """
    rng = random.Random(SEED)  # noqa: S311 - filler bytes, not security
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 1, 9, 0, 0))
            archive.writestr(info, bytes(rng.getrandbits(8) for _ in range(12 + len(data))))
    raw = bytearray(out.getvalue())
    # zipfile cannot write encrypted entries: set bit 0 of the general-purpose flags by hand in
    # every local header (offset 6) and central directory header (offset 8).
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        locals_ = [info.header_offset for info in archive.infolist()]
        central = archive.start_dir
    for offset in locals_:
        raw[offset + 6] |= 0x1
    position = central
    while raw[position : position + 4] == b"PK\x01\x02":
        raw[position + 8] |= 0x1
        name_len, extra_len, comment_len = struct.unpack("<HHH", raw[position + 28 : position + 34])
        position += 46 + name_len + extra_len + comment_len
    return bytes(raw)


def esdk_like_bytes() -> bytes:
    """Bytes that start like an AWS Encryption SDK v2 message (suite 0x0578), then noise."""
    rng = random.Random(SEED + 1)  # noqa: S311 - filler bytes, not security
    return b"\x02\x05\x78" + bytes(rng.getrandbits(8) for _ in range(253))


def _archives(w: _Writer, ps: list[Person]) -> None:
    msg = hl7_message(ps[3], "MSG0100").encode()
    ndjson = (json.dumps(fhir_patient(ps[2], "z1")) + "\n").encode()
    inner = zip_bytes({"export/Patient.ndjson": ndjson})
    rel = "archives/records.zip"
    w.write(rel, zip_bytes({"inbound/adt.hl7": msg, "nested/inner.zip": inner}))
    w.plant(rel, "inbound/adt.hl7!PID-19", E.SSN, ps[3].ssn)
    w.plant(
        rel,
        "nested/inner.zip!export/Patient.ndjson!Patient.name[0].family",
        E.NAME,
        ps[2].family,
    )
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w") as archive:
        for name, data in (
            ("msgs/adt.hl7", msg),
            ("docs/ccd.xml", (w.root / "cda/ccd.xml").read_bytes()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1709283600
            archive.addfile(info, io.BytesIO(data))
    rel = "archives/records.tar.gz"
    w.write(rel, gzip.compress(tar_buffer.getvalue(), mtime=0))
    w.plant(rel, "records.tar!msgs/adt.hl7!PID-19", E.SSN, ps[3].ssn)
    w.write("archives/bomb.zip", bomb_bytes())
    w.write("archives/too_deep.zip", nested_zip_bytes(6, msg))
    w.write("archives/protected.zip", protected_zip_bytes({"secret/adt.hl7": msg}))
    w.write("encrypted/labs.csv.encrypted", esdk_like_bytes())


STEPS: tuple[Callable[[_Writer, list[Person]], None], ...] = (
    _hl7,
    _fhir,
    _cda,
    _dicom,
    _pdf,
    _office,
    _parquet,
    _images,
    _archives,
)


def write_format_samples(directory: Path, *, force: bool = False) -> list[Truth]:
    """Write every sample and ``ground-truth.json`` into ``directory``; returns the truth."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()) and not force:
        raise InputError(f"{directory} is not empty (--force overwrites it)")
    directory.mkdir(parents=True, exist_ok=True)
    writer = _Writer(directory)
    persons = people()
    for step in STEPS:
        step(writer, persons)
    truth = {
        "generator": "phiward demo-formats",
        "seed": SEED,
        "note": "Every value is synthetic. field = structural path as phiward reports it.",
        "planted": [asdict(t) for t in writer.truth],
    }
    writer.write("ground-truth.json", json.dumps(truth, indent=2).encode())
    return writer.truth
