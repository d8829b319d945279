"""C-CDA / CDA R2 documents and generic XML, parsed without entity expansion or network access.

Hostile XML is refused before parsing: any ``<!ENTITY`` declaration (XXE, billion laughs) gives an
``error:`` unit and nothing else. The parser itself is configured with ``resolve_entities=False``,
``no_network=True`` and no DTD loading, as defence in depth.

CDA: ``recordTarget/patientRole`` (ids, address, telecom, name, birth time), guardians, related
persons and participants become hinted units; section narratives (``section/text``) become text
units with their section title in the path. Generic XML: every element's text and attribute values
become text units with an element path (``/root/patient[2]/name``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from phiward.core.entities import EntityType as E
from phiward.errors import InputError
from phiward.formats._base import TextUnit
from phiward.formats._limits import (
    HINT_ONLY_FROM,
    BudgetedReader,
    Deadline,
    error,
    get_limits,
    read_limited,
    refused,
)

CDA_NS = "urn:hl7-org:v3"
SSN_OID = "2.16.840.1.113883.4.1"
NPI_OID = "2.16.840.1.113883.4.6"
ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)

#: CDA person containers whose names identify the patient or people around them
PERSON_CONTAINERS = {
    "patient": 0.97,
    "guardianPerson": 0.95,
    "relatedPerson": 0.9,
    "associatedPerson": 0.9,
    "assignedPerson": 0.7,
    "informant": 0.8,
}
ADDRESS_PARTS = {
    "streetAddressLine": E.STREET_ADDRESS,
    "houseNumber": E.STREET_ADDRESS,
    "streetName": E.STREET_ADDRESS,
    "city": E.CITY,
    "county": E.COUNTY,
    "postalCode": E.ZIP_CODE,
}
PATIENT_SCOPES = ("patientRole", "guardian", "participant", "informant", "relatedEntity")
#: the only CDA elements that can give a unit (lxml filters the rest in C)
INTERESTING = tuple(
    f"{{{CDA_NS}}}{name}"
    for name in (
        "patientRole",
        "patient",
        "telecom",
        "given",
        "family",
        "birthTime",
        "originalText",
        "value",
        "text",
        "streetAddressLine",
        "houseNumber",
        "streetName",
        "city",
        "county",
        "postalCode",
    )
)


def _parser() -> Any:
    from lxml import etree  # noqa: PLC0415 - optional [formats] extra, imported on use

    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


_LOCAL: dict[str, str] = {}


def _local(tag: Any) -> str:
    """``{urn:hl7-org:v3}patient`` -> ``patient`` (memoised: documents reuse few tags)."""
    if not isinstance(tag, str):
        return ""
    local = _LOCAL.get(tag)
    if local is None:
        local = tag.rsplit("}", 1)[-1]
        if len(_LOCAL) < 10_000:
            _LOCAL[tag] = local
    return local


def _path(element: Any) -> str:
    """``/ClinicalDocument/component/structuredBody/component[3]/section/text``: element names
    with a 1-based index where siblings share the name."""
    parts: list[str] = []
    node = element
    while node is not None:
        name = _local(node.tag)
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


def _telecom(value: str) -> tuple[E, str]:
    lower = value.lower()
    if lower.startswith("mailto:"):
        return E.EMAIL, value[7:]
    if lower.startswith("fax:"):
        return E.FAX, value[4:]
    if lower.startswith(("http:", "https:")):
        return E.URL, value
    if lower.startswith("tel:"):
        return E.PHONE, value[4:]
    return E.PHONE, value


def _text(element: Any) -> str:
    """Visible text under ``element``: pieces joined by one space (table cells stay apart),
    runs of whitespace folded to one space. Long text is not cut here: the reader budget
    hands it on in chunks."""
    return " ".join(" ".join(element.itertext()).split())


def parse_xml(data: bytes) -> Any:
    """Parse trusted-shape XML bytes with the hardened parser; None when not well-formed."""
    from lxml import etree  # noqa: PLC0415 - optional [formats] extra, imported on use

    try:
        return etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError:
        return None


def _load(stream: BinaryIO, what: str) -> tuple[Any, TextUnit | None]:
    from lxml import etree  # noqa: PLC0415 - optional [formats] extra, imported on use

    data = read_limited(stream, get_limits().max_load_bytes, what)
    if ENTITY_DECL.search(data):
        refused("xml entity declaration", what)
        return None, error("XML entity declarations refused (XXE / entity expansion)")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError:
        return None, error("not well-formed XML")
    if root is None:
        return None, error("empty XML document")
    return root, None


def _xml_head(head: bytes) -> bytes:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")


class CdaReader(BudgetedReader):
    """HL7 CDA R2 / C-CDA ``ClinicalDocument``."""

    name = "cda"

    def sniff(self, head: bytes, filename: str) -> bool:
        return _xml_head(head).startswith(b"<") and b"<ClinicalDocument" in head

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        root, problem = _load(stream, "CDA")
        if problem is not None:
            yield problem
            return
        # Only the few element names that can carry identifiers are visited in Python; lxml
        # filters the rest in C. Paths are computed only for elements that produce a unit.
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        tags = INTERESTING if namespace == CDA_NS else tuple(_local(t) for t in INTERESTING)
        value_tag = tags[INTERESTING.index(f"{{{CDA_NS}}}value")]
        id_tag = f"{{{CDA_NS}}}id" if namespace == CDA_NS else "id"
        deadline = Deadline()
        for element in root.iter(*tags):
            deadline.tick()  # most elements yield nothing: the budget is checked here too
            tag = element.tag
            if tag == value_tag:
                # The commonest element (coded entries, mostly without text): decided first.
                text = element.text
                if text and not text.isspace() and _is_string_value(element):
                    yield TextUnit(text=_text(element), field=_path(element))
                continue
            name = _LOCAL.get(tag) or _local(tag)
            if name == "originalText":
                text = _text(element)
                if text:
                    yield TextUnit(text=text, field=_path(element))
                continue
            if name in ("patientRole", "patient"):
                # The patient's ids are direct children: visit them from here rather than
                # every <id> of every coded entry in the document.
                for child in element.iterchildren(id_tag):
                    unit = self._element(child, "id", (name, ""), False)
                    if unit is not None:
                        yield unit
                continue
            parent_el = element.getparent()
            parent = _local(parent_el.tag) if parent_el is not None else ""
            if name == "text":
                if parent == "section":
                    text = _text(element)
                    if text:
                        yield TextUnit(text=text, field=_with_title(element, _path(element)))
                continue
            grandparent = ""
            if name in ("given", "family") and parent_el is not None:
                grandparent_el = parent_el.getparent()
                grandparent = _local(grandparent_el.tag) if grandparent_el is not None else ""
            in_scope = (name == "telecom" or name in ADDRESS_PARTS) and any(
                _local(a.tag) in PATIENT_SCOPES for a in element.iterancestors()
            )
            unit = self._element(element, name, (parent, grandparent), in_scope)
            if unit is not None:
                yield unit

    def _element(
        self, element: Any, name: str, parents: tuple[str, str], in_scope: bool
    ) -> TextUnit | None:
        """The unit one element gives on its own (at most one), or None."""
        parent, grandparent = parents
        if name == "id" and parent in ("patientRole", "patient"):
            ext = element.get("extension")
            if not ext:
                return None
            entity = E.SSN if (element.get("root") or "") == SSN_OID else E.MRN
            return TextUnit(
                text=ext,
                field=f"{_path(element)}/@extension",
                hint=entity,
                hint_confidence=0.95,
                hint_only=True,
            )
        if name == "telecom" and in_scope:
            value = element.get("value")
            if not value:
                return None
            entity, text = _telecom(value)
            return TextUnit(
                text=text,
                field=f"{_path(element)}/@value",
                hint=entity,
                hint_confidence=0.95,
                hint_only=True,
            )
        if name in ADDRESS_PARTS and parent == "addr" and in_scope:
            text = _text(element)
            if not text:
                return None
            return TextUnit(
                text=text,
                field=_path(element),
                hint=ADDRESS_PARTS[name],
                hint_confidence=0.95,
                hint_only=True,
            )
        if name in ("given", "family") and parent == "name":
            conf = PERSON_CONTAINERS.get(grandparent)
            text = _text(element) if conf is not None else ""
            if not text or conf is None:
                return None
            return TextUnit(
                text=text,
                field=_path(element),
                hint=E.NAME,
                hint_confidence=conf,
                hint_only=conf >= HINT_ONLY_FROM,
            )
        if name == "birthTime" and parent in ("patient", "subject"):
            value = element.get("value")
            if not value:
                return None
            return TextUnit(
                text=value,
                field=f"{_path(element)}/@value",
                hint=E.DATE,
                hint_confidence=0.97,
                hint_only=True,
            )
        return None


def _is_string_value(element: Any) -> bool:
    xsi_type = element.get("{http://www.w3.org/2001/XMLSchema-instance}type") or ""
    return xsi_type.split(":")[-1] in ("ST", "ED", "")


def _with_title(element: Any, path: str) -> str:
    """``path (Section title)`` for a section narrative."""
    for child in element.getparent():
        if _local(child.tag) == "title":
            title = _text(child)
            return f"{path} ({title})" if title else path
    return path


def _child_paths(children: list[Any], path: str) -> list[str]:
    """Paths of sibling elements: ``name``, or ``name[i]`` (1-based) when the name repeats."""
    names = [_local(c.tag) for c in children]
    totals: dict[str, int] = {}
    for name in names:
        totals[name] = totals.get(name, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if totals[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            out.append(f"{path}/{name}[{seen[name]}]")
        else:
            out.append(f"{path}/{name}")
    return out


class XmlReader(BudgetedReader):
    """Any other XML document: element text and attribute values, with element paths."""

    name = "xml"

    def sniff(self, head: bytes, filename: str) -> bool:
        stripped = _xml_head(head)
        return stripped.startswith(b"<?xml") or (
            filename.lower().endswith(".xml") and stripped.startswith(b"<")
        )

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        root, problem = _load(stream, "XML")
        if problem is not None:
            yield problem
            return
        out: list[TextUnit] = []
        _generic(root, f"/{_local(root.tag)}", out, Deadline())
        yield from out


def _generic(element: Any, path: str, out: list[TextUnit], deadline: Deadline) -> None:
    """Attribute values, element text and tails (mixed content) with element paths."""
    deadline.tick()
    for attr, value in element.attrib.items():
        if value and value.strip() and not str(attr).startswith("{http://www.w3.org/"):
            out.append(TextUnit(text=value, field=f"{path}/@{_local(attr)}"))
    if element.text and element.text.strip():
        out.append(TextUnit(text=element.text.strip(), field=path))
    children = [c for c in element if isinstance(c.tag, str)]
    for child, child_path in zip(children, _child_paths(children, path), strict=True):
        _generic(child, child_path, out, deadline)
        if child.tail and child.tail.strip():
            out.append(TextUnit(text=child.tail.strip(), field=path))


FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
#: FHIR elements that repeat (arrays in JSON), so XML paths keep ``[i]`` like JSON paths do
FHIR_ARRAYS = frozenset(
    {
        "identifier",
        "name",
        "given",
        "prefix",
        "suffix",
        "telecom",
        "address",
        "line",
        "contact",
        "entry",
        "extension",
        "modifierExtension",
        "coding",
        "note",
        "photo",
        "contained",
        "communication",
        "link",
        "generalPractitioner",
        "category",
        "performer",
        "component",
        "content",
        "relationship",
        "reasonCode",
        "qualification",
        "udiCarrier",
        "subscriberId",
        "class",
        "payor",
        "participant",
        "diagnosis",
        "item",
        "section",
    }
)


def fhir_xml_to_json(root: Any) -> dict[str, Any]:
    """The JSON shape of a FHIR XML resource (``value`` attributes become leaves, repeating
    elements lists, ``resource`` wrappers ``resourceType``), so the FHIR path table applies."""
    from lxml import etree  # noqa: PLC0415 - optional [formats] extra, imported on use

    def convert(element: Any) -> Any:
        children = [c for c in element if isinstance(c.tag, str)]
        value = element.get("value")
        if value is not None and not children:
            return value
        out: dict[str, Any] = {}
        if value is not None:
            out["value"] = value
        for child in children:
            name = _local(child.tag)
            if child.tag == f"{{{XHTML_NS}}}div":
                out["div"] = etree.tostring(child, encoding="unicode")
                continue
            if name in ("resource", "contained") and len(child):
                typed = next((c for c in child if isinstance(c.tag, str)), None)
                item: Any = (
                    {"resourceType": _local(typed.tag), **convert(typed)}
                    if typed is not None
                    else {}
                )
            else:
                item = convert(child)
            if name in FHIR_ARRAYS:
                out.setdefault(name, []).append(item)
            else:
                out[name] = item
        return out

    converted = convert(root)
    body = converted if isinstance(converted, dict) else {}
    return {"resourceType": _local(root.tag), **body}


class FhirXmlReader(BudgetedReader):
    """FHIR resources and Bundles in XML: converted to the JSON shape, then the same path table
    as FHIR JSON (``Patient.name[0].family``)."""

    name = "fhir-xml"

    def sniff(self, head: bytes, filename: str) -> bool:
        return _xml_head(head).startswith(b"<") and (
            b'xmlns="http://hl7.org/fhir"' in head or b"xmlns='http://hl7.org/fhir'" in head
        )

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        from phiward.formats._fhir import bundle_units  # noqa: PLC0415 - import cycle

        root, problem = _load(stream, "FHIR XML")
        if problem is not None:
            yield problem
            return
        if root.tag.startswith("{") and not root.tag.startswith(f"{{{FHIR_NS}}}"):
            raise InputError("FHIR XML: root element is not in the FHIR namespace")
        yield from bundle_units(fhir_xml_to_json(root))
