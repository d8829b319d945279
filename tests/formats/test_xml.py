"""CDA and generic XML: mapping, narrative, and refusal of entity tricks."""

from __future__ import annotations

import io

from phiward.core.entities import EntityType as E
from phiward.formats._xml import CdaReader, XmlReader
from tests.formats.conftest import by_field, read_bytes

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<r>&x;</r>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol3;</title></ClinicalDocument>"""


def test_xxe_and_entity_expansion_are_refused() -> None:
    for data in (XXE, LAUGHS):
        units = read_bytes(data, "x.xml")
        assert [u.status for u in units] == [
            "error:XML entity declarations refused (XXE / entity expansion)"
        ]
        assert all(u.text == "" for u in units)


def test_external_dtd_is_not_fetched() -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r>ok</r>'
    units = read_bytes(data, "x.xml")
    assert [u.text for u in units] == ["ok"]


def test_generic_xml_paths() -> None:
    data = b'<?xml version="1.0"?><people><p id="7"><n>Ann</n></p><p><n>Bob</n></p></people>'
    fields = by_field(list(XmlReader().read(io.BytesIO(data), "x.xml")))
    assert fields["/people/p[1]/@id"][0].text == "7"
    assert fields["/people/p[1]/n"][0].text == "Ann"
    assert fields["/people/p[2]/n"][0].text == "Bob"


def test_cda_guardian_and_author_names() -> None:
    doc = b"""<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole>
    <patient><name><given>Eve</given><family>Everywoman</family></name>
    <guardian><guardianPerson><name><given>Ralph</given></name></guardianPerson>
    <telecom value="fax:+1-555-0100"/></guardian></patient></patientRole></recordTarget>
    <author><assignedAuthor><assignedPerson><name><family>Seven</family></name></assignedPerson>
    </assignedAuthor></author>
    <component><structuredBody><component><section><title>Notes</title>
    <text>Eve lives at <content>12 Elm St</content></text></section></component>
    </structuredBody></component></ClinicalDocument>"""
    assert CdaReader().sniff(doc[:8192], "x")
    units = list(CdaReader().read(io.BytesIO(doc), "x.xml"))
    hints = {(u.text, u.hint) for u in units if u.hint}
    assert ("Eve", E.NAME) in hints
    assert ("Ralph", E.NAME) in hints
    assert ("+1-555-0100", E.FAX) in hints
    author = [u for u in units if u.text == "Seven"]
    assert author and author[0].hint_confidence < 0.9
    narrative = [u for u in units if u.field and u.field.endswith("(Notes)")]
    assert narrative[0].text == "Eve lives at 12 Elm St"


def test_malformed_xml_is_an_error_unit() -> None:
    units = read_bytes(b"<?xml version='1.0'?><a><b></a>", "x.xml")
    assert [u.status for u in units] == ["error:not well-formed XML"]


def test_cda_without_namespace_is_still_mapped() -> None:
    doc = (
        b"<ClinicalDocument><recordTarget><patientRole><id extension='M1'/><patient><name>"
        b"<family>Nonamespace</family></name></patient></patientRole></recordTarget>"
        b"</ClinicalDocument>"
    )
    units = list(CdaReader().read(io.BytesIO(doc), "x.xml"))
    assert {(u.text, u.hint) for u in units} == {("M1", E.MRN), ("Nonamespace", E.NAME)}
