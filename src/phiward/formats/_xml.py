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
from phiward.formats._base import TextUnit
from phiward.formats._limits import BudgetedReader, error, get_limits, read_limited, refused

CDA_NS = "urn:hl7-org:v3"
SSN_OID = "2.16.840.1.113883.4.1"
NPI_OID = "2.16.840.1.113883.4.6"
ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
MAX_TEXT = 4 * 1024 * 1024

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


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


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
    text = " ".join(t.strip() for t in element.itertext() if t and t.strip())
    return text[:MAX_TEXT]


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
        out: list[TextUnit] = []
        self._walk(root, f"/{_local(root.tag)}", (), out)
        yield from out

    def _walk(
        self, element: Any, path: str, ancestors: tuple[str, ...], out: list[TextUnit]
    ) -> None:
        """Depth-first, carrying the element path and ancestor names (nearest first)."""
        name = _local(element.tag)
        if name == "text" and ancestors and ancestors[0] == "section":
            text = _text(element)
            if text:
                out.append(TextUnit(text=text, field=_with_title(element, path)))
            return  # narrative markup below is already in the text
        out.extend(self._element(element, name, ancestors, path))
        children = [c for c in element if isinstance(c.tag, str)]
        if not children:
            return
        below = (name, *ancestors)
        for child, child_path in zip(children, _child_paths(children, path), strict=True):
            self._walk(child, child_path, below, out)

    def _element(
        self, element: Any, name: str, ancestors: tuple[str, ...], path: str
    ) -> Iterator[TextUnit]:
        in_scope = any(a in PATIENT_SCOPES for a in ancestors) or name in PATIENT_SCOPES
        if name == "id" and ancestors and ancestors[0] in ("patientRole", "patient"):
            ext = element.get("extension")
            if ext:
                root = element.get("root") or ""
                entity = E.SSN if root == SSN_OID else E.MRN
                yield TextUnit(
                    text=ext,
                    field=f"{path}/@extension",
                    hint=entity,
                    hint_confidence=0.95,
                )
            return
        if name == "telecom" and in_scope:
            value = element.get("value")
            if value:
                entity, text = _telecom(value)
                yield TextUnit(text=text, field=f"{path}/@value", hint=entity, hint_confidence=0.95)
            return
        if name in ADDRESS_PARTS and ancestors and ancestors[0] == "addr" and in_scope:
            text = _text(element)
            if text:
                yield TextUnit(
                    text=text, field=path, hint=ADDRESS_PARTS[name], hint_confidence=0.95
                )
            return
        if name in ("given", "family") and len(ancestors) > 1 and ancestors[0] == "name":
            conf = PERSON_CONTAINERS.get(ancestors[1])
            if conf is not None:
                text = _text(element)
                if text:
                    yield TextUnit(text=text, field=path, hint=E.NAME, hint_confidence=conf)
            return
        if name == "birthTime" and ancestors and ancestors[0] in ("patient", "subject"):
            value = element.get("value")
            if value:
                yield TextUnit(
                    text=value,
                    field=f"{path}/@value",
                    hint=E.DATE,
                    hint_confidence=0.97,
                )
            return
        if name in ("originalText", "value") and element.text and element.text.strip():
            if name == "value" and not _is_string_value(element):
                return
            yield TextUnit(text=_text(element), field=path)


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
        _generic(root, f"/{_local(root.tag)}", out)
        yield from out


def _generic(element: Any, path: str, out: list[TextUnit]) -> None:
    """Attribute values, element text and tails (mixed content) with element paths."""
    for attr, value in element.attrib.items():
        if value and value.strip() and not str(attr).startswith("{http://www.w3.org/"):
            out.append(TextUnit(text=value, field=f"{path}/@{_local(attr)}"))
    if element.text and element.text.strip():
        out.append(TextUnit(text=element.text.strip()[:MAX_TEXT], field=path))
    children = [c for c in element if isinstance(c.tag, str)]
    for child, child_path in zip(children, _child_paths(children, path), strict=True):
        _generic(child, child_path, out)
        if child.tail and child.tail.strip():
            out.append(TextUnit(text=child.tail.strip()[:MAX_TEXT], field=path))
