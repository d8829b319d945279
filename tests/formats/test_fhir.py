"""FHIR JSON and NDJSON: the path table, narrative, attachments, bad lines."""

from __future__ import annotations

import base64
import io
import json

import pytest

from phiward.core.entities import EntityType as E
from phiward.errors import InputError
from phiward.formats._fhir import FhirJsonReader, FhirNdjsonReader, xhtml_text
from tests.formats.conftest import by_field, read_bytes

PATIENT = {
    "resourceType": "Patient",
    "id": "x1",
    "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
    "identifier": [
        {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789"},
        {"type": {"coding": [{"code": "DL"}]}, "value": "D1234567"},
        {"system": "urn:example", "value": "A-77"},
    ],
    "name": [{"family": "Chalmers", "given": ["Peter", "James"], "prefix": ["Mr."]}],
    "telecom": [
        {"system": "fax", "value": "(03) 5555 6473"},
        {"system": "email", "value": "p@x.org"},
    ],
    "gender": "male",
    "birthDate": "1974-12-25",
    "contact": [
        {"name": {"family": "du Marché"}, "telecom": [{"system": "phone", "value": "555"}]}
    ],
    "text": {"status": "generated", "div": "<div><p>Peter &amp; <b>James</b></p></div>"},
    "contained": [{"resourceType": "RelatedPerson", "name": [{"text": "Ann Chalmers"}]}],
}


def test_patient_paths_and_types() -> None:
    fields = by_field(read_bytes(json.dumps(PATIENT).encode(), "p.json"))
    assert fields["Patient.identifier[0].value"][0].hint is E.SSN
    assert fields["Patient.identifier[1].value"][0].hint is E.LICENSE_NUMBER
    assert fields["Patient.identifier[2].value"][0].hint is E.MRN
    assert fields["Patient.name[0].given[1]"][0].text == "James"
    assert (
        "Patient.name[0].prefix[0]" in fields
        and fields["Patient.name[0].prefix[0]"][0].hint is None
    )
    assert fields["Patient.telecom[0].value"][0].hint is E.FAX
    assert fields["Patient.telecom[1].value"][0].hint is E.EMAIL
    assert fields["Patient.birthDate"][0].hint_confidence >= 0.9
    assert fields["Patient.contact[0].name.family"][0].hint is E.NAME
    assert fields["Patient.contact[0].telecom[0].value"][0].hint is E.PHONE
    assert fields["Patient.text.div"][0].text == "Peter & James"
    assert fields["Patient.contained[0].RelatedPerson.name[0].text"][0].hint is E.NAME
    # codes, ids and metadata are not text
    for skipped in ("Patient.id", "Patient.gender", "Patient.meta.lastUpdated"):
        assert skipped not in fields


def test_non_person_resources() -> None:
    obs = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1234-5", "display": "Hb"}]},
        "subject": {"reference": "Patient/1", "display": "Peter Chalmers"},
        "effectiveDateTime": "2013-04-02T09:30:10+01:00",
        "note": [{"text": "Called Mrs Chalmers at 555-0100"}],
        "identifier": [{"value": "OBS-1"}],
    }
    fields = by_field(read_bytes(json.dumps(obs).encode(), "o.json"))
    assert fields["Observation.subject.display"][0].hint is E.NAME
    assert fields["Observation.effectiveDateTime"][0].hint is E.DATE
    assert fields["Observation.note[0].text"][0].hint is None
    assert fields["Observation.identifier[0].value"][0].hint is E.OTHER_ID
    assert not any("coding" in f for f in fields)


def test_text_attachment_is_decoded_and_binary_skipped() -> None:
    doc = {
        "resourceType": "DocumentReference",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(b"SSN 123-45-6789").decode(),
                }
            },
            {"attachment": {"contentType": "application/pdf", "data": "JVBERi0="}},
        ],
    }
    fields = by_field(read_bytes(json.dumps(doc).encode(), "d.json"))
    assert fields["DocumentReference.content[0].attachment.data"][0].text == "SSN 123-45-6789"
    assert (
        fields["DocumentReference.content[1].attachment.data"][0].status
        == "skipped:binary attachment"
    )


def test_ndjson_streams_and_reports_bad_lines() -> None:
    lines = [json.dumps(PATIENT), "{not json", "[1, 2]", "", json.dumps(PATIENT)]
    data = "\n".join(lines).encode()
    units = list(FhirNdjsonReader().read(io.BytesIO(data), "Patient.ndjson"))
    errors = [(u.line, u.status) for u in units if u.status]
    assert errors == [(2, "error:line is not JSON"), (3, "error:line is not a resource")]
    names = [u.line for u in units if u.field == "Patient.name[0].family"]
    assert names == [1, 5]


def test_sniffing() -> None:
    assert FhirJsonReader().sniff(b'{\n  "resourceType": "Bundle"', "x")
    assert not FhirJsonReader().sniff(b'{"name": "x"}', "x.json")
    one = json.dumps(PATIENT).encode()
    assert FhirNdjsonReader().sniff(one + b"\n" + one, "x")
    assert not FhirNdjsonReader().sniff(json.dumps(PATIENT, indent=2).encode(), "x.json")


def test_invalid_json_is_an_input_error() -> None:
    with pytest.raises(InputError):
        list(FhirJsonReader().read(io.BytesIO(b'{"resourceType": "Patient", '), "x.json"))
    with pytest.raises(InputError):
        list(FhirJsonReader().read(io.BytesIO(b'{"resourceType": "X", "a": [1, '), "x.json"))


def test_json_that_only_mentions_resource_type_is_still_walked() -> None:
    data = json.dumps({"meta": {"resourceType": "x"}, "note": "call Ann at 555-0100"}).encode()
    units = list(FhirJsonReader().read(io.BytesIO(data), "x.json"))
    assert [(u.field, u.text) for u in units] == [("$.note", "call Ann at 555-0100")]


def test_ndjson_with_a_long_first_line_falls_back_from_json() -> None:
    big = dict(PATIENT, extension=[{"url": "x", "valueString": "y" * 10_000}])
    data = (json.dumps(big) + "\n" + json.dumps(PATIENT) + "\n").encode()
    units = read_bytes(data, "export.json")
    assert [u.line for u in units if u.field == "Patient.name[0].family"] == [1, 2]


def test_over_the_load_limit_is_a_budget_skip() -> None:
    from phiward.formats._limits import FormatLimits, set_limits

    set_limits(FormatLimits(max_load_bytes=100))
    units = list(FhirJsonReader().read(io.BytesIO(json.dumps(PATIENT).encode()), "x.json"))
    assert [u.status for u in units] == [
        "skipped:budget: FHIR JSON larger than the 0 MiB in-memory limit"
    ]


def test_xhtml_text() -> None:
    assert xhtml_text('<div xmlns="x"><td>a</td><td>b&lt;c</td></div>') == "a b<c"


def test_coverage_subscriber_id_r4_and_r5() -> None:
    r4 = {"resourceType": "Coverage", "subscriberId": "W1234"}
    r5 = {"resourceType": "Coverage", "subscriberId": [{"system": "urn:x", "value": "W5678"}]}
    for doc, field, value in (
        (r4, "Coverage.subscriberId", "W1234"),
        (r5, "Coverage.subscriberId[0].value", "W5678"),
    ):
        units = by_field(read_bytes(json.dumps(doc).encode(), "c.json"))
        assert (units[field][0].text, units[field][0].hint) == (value, E.HEALTH_PLAN_ID)


FHIR_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://hl7.org/fhir">
  <type value="collection"/>
  <entry><resource><Patient>
    <id value="x1"/>
    <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">Peter
      <b>Chalmers</b></div></text>
    <identifier><system value="http://hl7.org/fhir/sid/us-ssn"/><value value="123-45-6789"/>
    </identifier>
    <name><family value="Chalmers"/><given value="Peter"/><given value="James"/></name>
    <telecom><system value="email"/><value value="p@example.org"/></telecom>
    <birthDate value="1974-12-25"/>
    <address><line value="534 Erewhon St"/><city value="PleasantVille"/></address>
  </Patient></resource></entry>
</Bundle>"""


def test_fhir_xml_uses_the_same_path_table() -> None:
    units = read_bytes(FHIR_XML, "bundle.xml")
    fields = by_field(units)
    base = "Bundle.entry[0].Patient"
    assert (
        fields[f"{base}.identifier[0].value"][0].hint,
        fields[f"{base}.identifier[0].value"][0].text,
    ) == (E.SSN, "123-45-6789")
    assert fields[f"{base}.name[0].given[1]"][0].text == "James"
    assert fields[f"{base}.telecom[0].value"][0].hint is E.EMAIL
    assert fields[f"{base}.birthDate"][0].hint is E.DATE
    assert fields[f"{base}.address[0].city"][0].hint is E.CITY
    assert fields[f"{base}.text.div"][0].text == "Peter Chalmers"
    assert f"{base}.id" not in fields


def test_fhir_xml_sniffs_with_either_quote_style() -> None:
    from phiward.formats._xml import FhirXmlReader

    assert FhirXmlReader().sniff(b"<Patient xmlns='http://hl7.org/fhir'>", "p")
    assert FhirXmlReader().sniff(
        b'<?xml version="1.0"?>\n<Patient xmlns="http://hl7.org/fhir">', "p"
    )
    assert not FhirXmlReader().sniff(b"<Patient xmlns='urn:other'>", "p.xml")
