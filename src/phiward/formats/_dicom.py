"""DICOM Part 10 files: header elements of the patient and study modules, private text tags.

Only the header is parsed (``stop_before_pixels``), so a 2 GB study costs what its few kilobytes of
header cost. Pixel data is never decoded; its presence, and ``BurnedInAnnotation = YES``, become a
PHOTO unit ("may contain PHI in pixels", Safe Harbor (Q)) for a human or an OCR tool to review.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, BinaryIO

from phiward.core.entities import EntityType as E
from phiward.errors import InputError
from phiward.formats._base import TextUnit
from phiward.formats._limits import (
    HINT_ONLY_FROM,
    BudgetedReader,
    MiB,
    error,
    get_limits,
    skipped,
)

#: keyword -> (entity, confidence); from the DICOM PS3.15 Basic Application Confidentiality
#: Profile's list of attributes to remove, narrowed to what identifies the patient or encounter.
ELEMENT_MAP: dict[str, tuple[E, float]] = {
    "PatientName": (E.NAME, 0.97),
    "PatientID": (E.MRN, 0.95),
    "OtherPatientIDs": (E.MRN, 0.9),
    "OtherPatientNames": (E.NAME, 0.95),
    "PatientBirthName": (E.NAME, 0.95),
    "PatientMotherBirthName": (E.NAME, 0.95),
    "ResponsiblePerson": (E.NAME, 0.9),
    "PatientBirthDate": (E.DATE, 0.97),
    "PatientDeathDateInAlternativeCalendar": (E.DATE, 0.9),
    "PatientAddress": (E.STREET_ADDRESS, 0.95),
    "PatientTelephoneNumbers": (E.PHONE, 0.95),
    "PatientTelecomInformation": (E.PHONE, 0.9),
    "MedicalRecordLocator": (E.MRN, 0.9),
    "PatientInsurancePlanCodeSequence": (E.HEALTH_PLAN_ID, 0.6),
    "MilitaryRank": (E.OTHER_ID, 0.5),
    "ReferringPhysicianName": (E.NAME, 0.8),
    "ReferringPhysicianAddress": (E.STREET_ADDRESS, 0.7),
    "ReferringPhysicianTelephoneNumbers": (E.PHONE, 0.7),
    "PerformingPhysicianName": (E.NAME, 0.8),
    "NameOfPhysiciansReadingStudy": (E.NAME, 0.8),
    "PhysiciansOfRecord": (E.NAME, 0.8),
    "RequestingPhysician": (E.NAME, 0.8),
    "OperatorsName": (E.NAME, 0.7),
    "InstitutionName": (E.OTHER_ID, 0.5),
    "InstitutionAddress": (E.STREET_ADDRESS, 0.6),
    "InstitutionalDepartmentName": (E.OTHER_ID, 0.4),
    "AccessionNumber": (E.OTHER_ID, 0.9),
    "StudyID": (E.OTHER_ID, 0.7),
    "AdmissionID": (E.ACCOUNT_NUMBER, 0.85),
    "StudyDate": (E.DATE, 0.9),
    "SeriesDate": (E.DATE, 0.9),
    "AcquisitionDate": (E.DATE, 0.9),
    "ContentDate": (E.DATE, 0.9),
    "AcquisitionDateTime": (E.DATE, 0.9),
    "StudyInstanceUID": (E.OTHER_ID, 0.6),
    "SeriesInstanceUID": (E.OTHER_ID, 0.6),
    "SOPInstanceUID": (E.OTHER_ID, 0.6),
    "DeviceSerialNumber": (E.DEVICE_ID, 0.9),
    "StationName": (E.DEVICE_ID, 0.5),
}

#: keywords whose value is free text for the detection engine
TEXT_ELEMENTS = frozenset(
    {
        "PatientComments",
        "AdditionalPatientHistory",
        "StudyDescription",
        "SeriesDescription",
        "ImageComments",
        "RequestedProcedureDescription",
        "PerformedProcedureStepDescription",
        "ReasonForTheRequestedProcedure",
        "AdmittingDiagnosesDescription",
        "Occupation",
        "PatientState",
        "InterpretationText",
        "TextValue",
        "ProtocolName",
    }
)

TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UT", "UC", "PN", "DA", "DT", "AE"})
AGE_RE = re.compile(r"^(\d{3})Y$")
PIXEL_TAGS = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10", b"\xe0\x7f\x08\x00", b"\xe0\x7f\x09\x00")
MAX_VALUE_CHARS = 1 << 20
NO_PREAMBLE_GROUPS = (b"\x02\x00", b"\x08\x00", b"\x00\x02", b"\x00\x08")


def _tag(tag: Any) -> str:
    return f"({tag.group:04X},{tag.element:04X})"


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value if v is not None and str(v).strip()]
    text = str(value)
    return [text[:MAX_VALUE_CHARS]] if text.strip() else []


def _printable(raw: bytes) -> str:
    """Text of an undecoded private value when it looks like text (implicit VR files)."""
    text = raw[:MAX_VALUE_CHARS].rstrip(b"\x00 ").decode("latin-1")
    if len(text) < 2 or sum(c.isprintable() for c in text) < 0.9 * len(text):
        return ""
    return text


ENCAPSULATED = "(0042,0011) EncapsulatedDocument"
ENCAPSULATED_NAMES = {"application/pdf": "document.pdf", "text/xml": "document.xml"}


def _encapsulated(ds: Any, filename: str) -> Iterator[TextUnit]:
    """Encapsulated PDF / CDA (scanned forms and reports stored in the PACS) are read by their
    own readers, with paths under ``(0042,0011) EncapsulatedDocument!``."""
    document = ds.get("EncapsulatedDocument")
    if not isinstance(document, bytes | bytearray) or not document:
        return
    limit = get_limits().max_member_bytes
    if len(document) > limit:
        yield skipped(f"budget: encapsulated document over {limit // MiB} MiB", ENCAPSULATED)
        return
    from phiward.formats._registry import reader_for  # noqa: PLC0415 - import cycle

    mime = str(ds.get("MIMETypeOfEncapsulatedDocument", "") or "").strip()
    name = ENCAPSULATED_NAMES.get(mime, "document.bin")
    data = bytes(document)
    reader = reader_for(data[:8192], name)
    if reader is None:
        yield skipped(
            f"encapsulated document of type {mime or 'unknown'} is not read", ENCAPSULATED
        )
        return
    try:
        for unit in reader.read(io.BytesIO(data), f"{filename}!{name}"):
            yield replace(
                unit, field=f"{ENCAPSULATED}!{unit.field}" if unit.field else ENCAPSULATED
            )
    except InputError as exc:
        yield error(str(exc), ENCAPSULATED)


class DicomReader(BudgetedReader):
    """DICOM Part 10 (``DICM`` at offset 128)."""

    name = "dicom"

    def sniff(self, head: bytes, filename: str) -> bool:
        if len(head) >= 132 and head[128:132] == b"DICM":
            return True
        # Some exports drop the 128-byte preamble: a .dcm name plus a group 0002/0008 tag
        # (little or big endian).
        return filename.lower().endswith(".dcm") and head[:2] in NO_PREAMBLE_GROUPS

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        import pydicom  # noqa: PLC0415 - optional [formats] extra, imported on use
        from pydicom.errors import InvalidDicomError  # noqa: PLC0415 - optional [formats] extra, imported on use

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pydicom warns on every odd element
                head = stream.read(132)
                stream.seek(0)
                preamble = len(head) == 132 and head[128:132] == b"DICM"
                ds = pydicom.dcmread(stream, stop_before_pixels=True, force=not preamble)
                # Headers are small: decode them all here, under the same warning filter.
                header = list(self._dataset(ds, ""))
        except InvalidDicomError:
            raise InputError("DICOM: not a DICOM Part 10 file") from None
        yield from header
        # What follows the header: (7FE0,0010) Pixel Data (or float/double variants).
        try:
            nxt = stream.read(4)
        except OSError:
            nxt = b""
        burned = str(ds.get("BurnedInAnnotation", "") or "").upper()
        if burned == "YES":
            # The header says identifying text is burned into the pixels: that is a finding
            # (Safe Harbor (Q)/(R) in the image), and the pixels were not read.
            yield TextUnit(
                text=str(ds.get("SOPInstanceUID", "") or "YES"),
                field="(0028,0301) BurnedInAnnotation",
                hint=E.PHOTO,
                hint_confidence=0.9,
                hint_only=True,
            )
            yield TextUnit(
                text="",
                field="(7FE0,0010) PixelData",
                status="skipped:may contain PHI in pixels (burned-in annotation; not decoded)",
            )
        elif nxt in PIXEL_TAGS or "Rows" in ds:
            yield TextUnit(
                text="",
                field="(7FE0,0010) PixelData",
                status="skipped:may contain PHI in pixels (not decoded)",
            )
        yield from _encapsulated(ds, filename)

    def _dataset(self, ds: Any, prefix: str) -> Iterator[TextUnit]:
        for elem in ds:
            tag = elem.tag
            keyword = elem.keyword or ""
            label = f"{prefix}{_tag(tag)} {keyword or 'Private'}".rstrip()
            if elem.VR == "SQ":
                for index, item in enumerate(elem.value or []):
                    yield from self._dataset(item, f"{label}[{index}]>")
                continue
            if tag.group in (0x0002, 0x7FE0):
                continue
            if elem.VR in ("OB", "OW", "OF", "OD", "UN"):
                if tag.is_private and elem.VR == "UN" and isinstance(elem.value, bytes):
                    text = _printable(elem.value)
                    if text:
                        yield TextUnit(text=text, field=label)
                continue
            spec = ELEMENT_MAP.get(keyword)
            private = tag.is_private
            if private and tag.element < 0x0100:
                continue  # private creator: the vendor's block name, not data
            if spec is None and keyword == "PatientAge":
                age = AGE_RE.match(str(elem.value or ""))
                if age and int(age.group(1)) > 89:
                    spec = (E.AGE_OVER_89, 0.95)
            if spec is None and elem.VR == "PN":
                spec = (E.NAME, 0.8)
            values = _values(elem.value)
            if elem.VR == "PN":  # "^^^^" is an empty name (all components empty), not a name
                values = [v for v in values if v.strip("^= ")]
            if spec is not None:
                for value in values:
                    yield TextUnit(
                        text=value,
                        field=label,
                        hint=spec[0],
                        hint_confidence=spec[1],
                        hint_only=spec[1] >= HINT_ONLY_FROM,
                    )
            elif keyword in TEXT_ELEMENTS or (private and elem.VR in TEXT_VRS):
                for value in values:
                    yield TextUnit(text=value, field=label)
