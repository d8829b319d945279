"""Fuzzing: arbitrary and mutated inputs never raise anything but InputError, and never hang.

Each reader gets random bytes behind its own magic (so the parser really runs) and mutated copies
of a valid sample (byte flips, insertions, truncation). Bounded: a few dozen examples per reader
and a hard pytest timeout, so this runs inside ``make test``.
"""

from __future__ import annotations

import functools
import io
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phiward.demo.formats import (
    dicom_bytes,
    esdk_like_bytes,
    fhir_patient,
    hl7_message,
    image_bytes,
    nested_zip_bytes,
    parquet_bytes,
    pdf_bytes,
    people,
    zip_bytes,
)
from phiward.errors import InputError
from phiward.formats import TextUnit, reader_for
from phiward.formats._limits import FormatLimits, set_limits
from phiward.formats._structured import structured_readers

# PHIWARD_TEST_FUZZ_EXAMPLES=5000 (and PHIWARD_TEST_FUZZ_RANDOM=1) for a deep run outside CI.
EXAMPLES = int(os.environ.get("PHIWARD_TEST_FUZZ_EXAMPLES", "300"))
DERANDOMIZE = os.environ.get("PHIWARD_TEST_FUZZ_RANDOM", "") != "1"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=DERANDOMIZE,
)


@functools.cache
def valid_samples() -> dict[str, bytes]:
    import gzip

    import docx
    import openpyxl

    person = people()[0]
    document = docx.Document()
    document.add_paragraph(f"{person.given} {person.family}")
    docx_out = io.BytesIO()
    document.save(docx_out)
    book = openpyxl.Workbook()
    book.active.append(["SSN", "Name"])
    book.active.append([person.ssn, person.family])
    xlsx_out = io.BytesIO()
    book.save(xlsx_out)
    msg = hl7_message(person, "1").encode()
    patient = json.dumps(fhir_patient(person, "1"))
    return {
        "hl7v2": msg,
        "fhir-json": json.dumps(
            {"resourceType": "Bundle", "entry": [{"resource": json.loads(patient)}]}
        ).encode(),
        "fhir-ndjson": (patient + "\n" + patient + "\n").encode(),
        "cda": b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget>'
        b"<patientRole><id extension='1'/><patient><name><given>A</given></name></patient>"
        b"</patientRole></recordTarget></ClinicalDocument>",
        "xml": b'<?xml version="1.0"?><a x="1"><b>text</b></a>',
        "fhir-xml": b'<Patient xmlns="http://hl7.org/fhir"><name><family value="Doe"/>'
        b'<given value="Jo"/></name><birthDate value="1970-01-01"/></Patient>',
        "dicom": dicom_bytes(person),
        "pdf": pdf_bytes(["hello 123-45-6789"]),
        "docx": docx_out.getvalue(),
        "xlsx": xlsx_out.getvalue(),
        "parquet": parquet_bytes(people()),
        "image-jpg": image_bytes("jpg", person),
        "image-png": image_bytes("png", person),
        "image-tiff": image_bytes("tiff", person),
        "zip": zip_bytes({"a.hl7": msg, "b.zip": nested_zip_bytes(1, msg)}),
        "gzip": gzip.compress(msg),
        "encrypted-envelope": esdk_like_bytes(),
    }


def run(data: bytes, filename: str = "fuzz.bin") -> list[TextUnit]:
    """Read ``data`` with whatever reader sniffs it; only InputError may escape."""
    reader = reader_for(data[:8192], filename)
    if reader is None:
        return []
    try:
        return list(reader.read(io.BytesIO(data), filename))
    except InputError:
        return []


@pytest.fixture(autouse=True)
def _tight_limits() -> None:
    set_limits(FormatLimits(max_seconds=5, max_member_bytes=4 << 20, max_total_bytes=16 << 20))


MAGICS = [
    b"MSH|^~\\&|",
    b'{"resourceType": "Patient", ',
    b"<?xml version='1.0'?><ClinicalDocument ",
    b"<?xml version='1.0'?>",
    b"\x00" * 128 + b"DICM",
    b"%PDF-1.4\n",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"PAR1",
    b"\xff\xd8\xff\xe1",
    b"\x89PNG\r\n\x1a\n",
    b"II*\x00",
    b"\x1f\x8b",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"\x02\x05\x78",
]


@pytest.mark.timeout(120)
@FUZZ
@given(magic=st.sampled_from(MAGICS), tail=st.binary(max_size=1024))
def test_arbitrary_bytes_behind_each_magic(magic: bytes, tail: bytes) -> None:
    for unit in run(magic + tail):
        assert isinstance(unit, TextUnit)


@pytest.mark.timeout(60)
@FUZZ
@given(data=st.binary(max_size=512))
def test_arbitrary_bytes(data: bytes) -> None:
    run(data)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", sorted(valid_samples()))
@settings(
    max_examples=max(EXAMPLES // 5, 10),
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mutated_valid_samples(kind: str, data: st.DataObject) -> None:
    sample = bytearray(valid_samples()[kind])
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, len(sample) - 1), st.integers(0, 255)), max_size=8)
    )
    for position, value in flips:
        sample[position] = value
    if data.draw(st.booleans()):
        sample = sample[: data.draw(st.integers(0, len(sample)))]
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(sample)))
        sample[at:at] = data.draw(st.binary(max_size=64))
    run(bytes(sample), f"sample.{kind}")


def test_every_structured_reader_is_fuzzed() -> None:
    # The basic readers (text, CSV, JSON) are fuzzed with the scanner's own tests.
    names = {reader.name for reader in structured_readers()}
    covered = {k.split("-")[0] if k.startswith("image") else k for k in valid_samples()}
    covered |= {"archive", "ole"} if "zip" in covered else set()
    assert names <= covered | {"archive", "ole"}
