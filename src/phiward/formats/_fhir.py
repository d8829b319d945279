"""FHIR R4/R5 JSON resources, Bundles and NDJSON bulk exports.

Structure is the evidence: ``Patient.birthDate`` *is* a birth date, ``Patient.telecom[0].value``
with ``system = "email"`` *is* an e-mail address. Those leaves become hinted units; narrative
(``text.div``, stripped of XHTML), notes, ``valueString`` and other human text become plain units
for the text engine. Codes, systems, ids and references are skipped: they are terminology, not PHI.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from itertools import chain
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
)

#: Resources that describe the patient or the people around them (relatives, household).
PERSON_RESOURCES = frozenset({"Patient", "RelatedPerson", "Person"})

#: Leaves that are never PHI: codes, systems, technical ids, references, enumerations.
SKIP_KEYS = frozenset(
    {
        "resourceType",
        "id",
        "system",
        "code",
        "version",
        "url",
        "reference",
        "fullUrl",
        "status",
        "use",
        "gender",
        "language",
        "contentType",
        "mode",
        "intent",
        "priority",
        "unit",
        "comparator",
        "profile",
        "lastUpdated",
        "versionId",
        "source",
        "security",
        "tag",
        "type",
        "method",
        "search",
        "request",
        "response",
        "link",
        "relation",
        "hash",
        "precision",
        "currency",
        "kind",
        "category",
        "interpretation",
        "dataAbsentReason",
    }
)

#: HumanName parts that name a person (``prefix``/``suffix`` such as "Dr." are not identifying).
NAME_PARTS = frozenset({"family", "given", "text"})

ADDRESS_PARTS = {
    "line": E.STREET_ADDRESS,
    "text": E.STREET_ADDRESS,
    "city": E.CITY,
    "district": E.COUNTY,
    "postalCode": E.ZIP_CODE,
}

TELECOM_SYSTEMS = {
    "phone": E.PHONE,
    "fax": E.FAX,
    "email": E.EMAIL,
    "url": E.URL,
    "pager": E.PHONE,
    "sms": E.PHONE,
    "other": E.OTHER_ID,
}

#: v2-0203 identifier type codes (and well-known systems) to entity types.
IDENTIFIER_TYPES = {
    "MR": E.MRN,
    "MRT": E.MRN,
    "SS": E.SSN,
    "SB": E.SSN,
    "DL": E.LICENSE_NUMBER,
    "PPN": E.OTHER_ID,
    "MB": E.HEALTH_PLAN_ID,
    "MA": E.HEALTH_PLAN_ID,
    "MC": E.HEALTH_PLAN_ID,
    "SN": E.HEALTH_PLAN_ID,
    "AN": E.ACCOUNT_NUMBER,
    "AN ": E.ACCOUNT_NUMBER,
    "NPI": E.NPI,
    "DEA": E.DEA_NUMBER,
}
IDENTIFIER_SYSTEMS = {
    "http://hl7.org/fhir/sid/us-ssn": E.SSN,
    "http://hl7.org/fhir/sid/us-npi": E.NPI,
    "urn:oid:2.16.840.1.113883.4.1": E.SSN,
    "http://hl7.org/fhir/sid/us-medicare": E.HEALTH_PLAN_ID,
}

#: Resource-level identifier defaults when the type says nothing.
IDENTIFIER_DEFAULT = {
    "Patient": (E.MRN, 0.85),
    "RelatedPerson": (E.OTHER_ID, 0.8),
    "Person": (E.OTHER_ID, 0.8),
    "Coverage": (E.HEALTH_PLAN_ID, 0.85),
    "Account": (E.ACCOUNT_NUMBER, 0.85),
    "Claim": (E.ACCOUNT_NUMBER, 0.7),
    "ExplanationOfBenefit": (E.ACCOUNT_NUMBER, 0.7),
    "Device": (E.DEVICE_ID, 0.8),
}

#: References whose ``display`` names the patient or their subscriber.
PERSON_REFERENCES = frozenset(
    {"subject", "patient", "beneficiary", "subscriber", "policyHolder", "individual", "who"}
)

DEVICE_IDS = frozenset({"serialNumber", "deviceIdentifier", "carrierHRF", "lotNumber"})

#: Date leaves directly related to an individual (Safe Harbor C), outside ``meta``.
DATE_KEYS = frozenset(
    {
        "birthDate",
        "deceasedDateTime",
        "effectiveDateTime",
        "issued",
        "recordedDate",
        "authoredOn",
        "onsetDateTime",
        "abatementDateTime",
        "occurrenceDateTime",
        "performedDateTime",
        "start",
        "end",
        "date",
        "created",
        "valueDateTime",
        "valueDate",
        "multipleBirthDateTime",
        "dateAsserted",
        "sent",
        "received",
    }
)
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2}([T ][0-9:.+\-Z]*)?)?)?$")

_TAG_RE = re.compile(r"<[^>]{0,2000}>")
_SPACE_RE = re.compile(r"\s+")

MAX_ATTACHMENT_TEXT = 4 * 1024 * 1024


def xhtml_text(div: str) -> str:
    """Visible text of a narrative ``div`` (tags dropped, entities decoded, blanks folded)."""
    text = _TAG_RE.sub(" ", div)
    return _SPACE_RE.sub(" ", html.unescape(text)).strip()


def _identifier_type(ident: dict[str, Any], resource: str) -> tuple[E, float]:
    system = ident.get("system")
    if isinstance(system, str) and system in IDENTIFIER_SYSTEMS:
        return IDENTIFIER_SYSTEMS[system], 0.95
    typ = ident.get("type")
    if isinstance(typ, dict):
        for coding in typ.get("coding") or []:
            code = coding.get("code") if isinstance(coding, dict) else None
            if isinstance(code, str) and code in IDENTIFIER_TYPES:
                return IDENTIFIER_TYPES[code], 0.95
    return IDENTIFIER_DEFAULT.get(resource, (E.OTHER_ID, 0.7))


def _hint(
    resource: str, keys: tuple[str, ...], parent: dict[str, Any], value: str
) -> tuple[E, float] | None:
    """The entity a leaf *is*, from the resource type and the key path (indices dropped)."""
    return _apply(_rule_for(_rules(resource), resource, keys), resource, parent, value)


def _rules(resource: str) -> dict[tuple[str, ...], object]:
    """The rule cache of one resource type (key path -> what :func:`_rule` said)."""
    rules = _RULES.get(resource)
    if rules is None:
        rules = {}
        if len(_RULES) < 1_000:  # resource types beyond 1,000 (hostile input): not cached
            _RULES[resource] = rules
    return rules


def _rule_for(rules: dict[tuple[str, ...], object], resource: str, keys: tuple[str, ...]) -> object:
    rule = rules.get(keys, _MISSING)
    if rule is _MISSING:
        rule = _rule(resource, keys)
        if isinstance(rule, tuple):  # cached with its hint_only flag: (entity, conf, only)
            rule = (rule[0], rule[1], rule[1] >= HINT_ONLY_FROM)
        if len(rules) < 10_000:
            rules[keys] = rule
    return rule


def _apply(
    rule: object, resource: str, parent: dict[str, Any], value: str
) -> tuple[E, float] | None:
    if rule is None:
        return None
    if isinstance(rule, tuple):
        return rule[0], rule[1]
    if rule == "identifier":
        return _identifier_type(parent, resource)
    if rule == "telecom":
        system = parent.get("system")
        return TELECOM_SYSTEMS.get(system if isinstance(system, str) else "", E.PHONE), 0.95
    return (E.DATE, 0.7) if DATE_RE.match(value) else None  # rule == "date"


_MISSING: Any = object()
#: resource type -> (key path -> fixed hint, None, or the name of a value-dependent rule)
_RULES: dict[str, dict[tuple[str, ...], object]] = {}
#: resource type -> (key path -> (child key -> None when not read, else (its path, its rule)))
_KIDS: dict[str, dict[tuple[str, ...], dict[str, tuple[tuple[str, ...], object] | None]]] = {}


def _rule(resource: str, keys: tuple[str, ...]) -> object:
    """What decides a leaf's hint: a fixed (entity, confidence), None, or "identifier" /
    "telecom" / "date" when the parent element or the value itself must be looked at."""
    leaf = keys[-1]
    up = keys[-2] if len(keys) > 1 else ""
    if leaf == "value" and "identifier" in keys:
        return "identifier"
    if resource in PERSON_RESOURCES:
        if "name" in keys and leaf in NAME_PARTS:
            return E.NAME, 0.95
        if "telecom" in keys and leaf == "value":
            return "telecom"
        if "address" in keys and leaf in ADDRESS_PARTS:
            return ADDRESS_PARTS[leaf], 0.95
        if "organization" in keys and leaf == "display":
            return E.NAME, 0.6  # employer named in Patient.contact
    if leaf in {"birthDate", "deceasedDateTime"}:
        return E.DATE, 0.95
    if resource == "Coverage" and (leaf == "subscriberId" or "subscriberId" in keys):
        return E.HEALTH_PLAN_ID, 0.95  # R4: a string; R5: an Identifier list
    if resource == "Device" and (leaf in DEVICE_IDS or up == "udiCarrier"):
        return E.DEVICE_ID, 0.9
    if leaf == "display" and up in PERSON_REFERENCES:
        return E.NAME, 0.8
    if leaf in DATE_KEYS and keys[0] != "meta":
        return "date"
    return None


def resource_units(
    resource: dict[str, Any], prefix: str | None = None, line: int | None = None
) -> Iterator[TextUnit]:
    """Units of one resource; ``prefix`` replaces the resource type at the start of paths."""
    return iter(_resource_list(resource, prefix, line))


def _resource_list(
    resource: dict[str, Any], prefix: str | None, line: int | None
) -> list[TextUnit]:
    rtype = resource.get("resourceType")
    walker = _Walker(rtype if isinstance(rtype, str) else "Resource", line)
    walker.walk(resource, {}, (), prefix or walker.rtype)
    return walker.out


class _Walker:
    """Depth-first walk of one resource, appending units to ``out`` (a resource is small)."""

    __slots__ = ("kids", "line", "out", "rtype", "rules")

    def __init__(self, rtype: str, line: int | None) -> None:
        self.rtype = rtype
        self.line = line
        self.out: list[TextUnit] = []
        self.rules = _rules(rtype)
        self.kids = _KIDS.setdefault(rtype, {}) if rtype in _RULES else {}

    def _children(self, keys: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], object] | None]:
        """Per key under ``keys``: None (not read) or (its key path, its cached rule)."""
        kids = self.kids.get(keys)
        if kids is None:
            kids = {}
            if len(self.kids) < 10_000:
                self.kids[keys] = kids
        return kids

    def _child(
        self,
        kids: dict[str, tuple[tuple[str, ...], object] | None],
        keys: tuple[str, ...],
        key: str,
    ) -> tuple[tuple[str, ...], object] | None:
        if key in _NOT_READ or key[:1] == "_":
            entry = None
        else:
            sub = (*keys, key)
            entry = sub, _rule_for(self.rules, self.rtype, sub)
        if len(kids) < 1_000:
            kids[key] = entry
        return entry

    def walk(self, node: Any, parent: dict[str, Any], keys: tuple[str, ...], path: str) -> None:
        # The hot loop of the FHIR readers: string leaves (most of them) are handled inline in
        # their dict's loop instead of one call each, and JSON only has exact types, so
        # ``type(x) is`` stands in for isinstance.
        kind = type(node)
        if kind is str:
            if keys and node.strip():
                self.leaf(node, parent, keys, path)
            return
        if kind is list:
            rule = self.rules.get(keys, _MISSING)
            for index, item in enumerate(node):
                if type(item) is str:
                    if keys and item.strip():
                        if rule.__class__ is tuple:  # e.g. given names, address lines
                            hint: Any = rule
                            self.out.append(
                                TextUnit(item, f"{path}[{index}]", self.line, None, *hint)
                            )
                        else:
                            self.leaf(item, parent, keys, f"{path}[{index}]")
                else:
                    self.walk(item, parent, keys, f"{path}[{index}]")
            return
        if kind is not dict:
            return
        if (
            (keys and keys[-1] in _SPECIAL_KEYS) or "resourceType" in node or "data" in node
        ) and self.special(node, keys, path):
            return
        out, line = self.out, self.line
        kids = self._children(keys)
        for key, value in node.items():
            entry = kids.get(key, _MISSING)
            if entry is _MISSING:
                entry = self._child(kids, keys, key)
            if entry is None:  # codes, ids, references, extensions' _elements...
                continue
            sub, rule = entry
            if type(value) is str:
                if value.strip():
                    if rule is None:  # plain text, no hint
                        out.append(TextUnit(value, f"{path}.{key}", line))
                    elif rule.__class__ is tuple:  # a fixed hint (entity, confidence, only)
                        hint = rule
                        out.append(TextUnit(value, f"{path}.{key}", line, None, *hint))
                    else:  # decided by the parent element (identifier, telecom) or the value
                        self.leaf(value, node, sub, f"{path}.{key}")
            elif type(value) is dict:
                self.walk(value, node, sub, f"{path}.{key}")
            elif type(value) is list:  # inline too: most lists hold dicts or strings
                base = f"{path}.{key}"
                for index, item in enumerate(value):
                    if type(item) is dict:
                        self.walk(item, node, sub, f"{base}[{index}]")
                    elif type(item) is str:
                        if item.strip():
                            if rule is None:
                                out.append(TextUnit(item, f"{base}[{index}]", line))
                            elif rule.__class__ is tuple:
                                hint = rule
                                out.append(TextUnit(item, f"{base}[{index}]", line, None, *hint))
                            else:
                                self.leaf(item, node, sub, f"{base}[{index}]")
                    elif type(item) is list:
                        self.walk(item, node, sub, f"{base}[{index}]")

    def leaf(self, text: str, parent: dict[str, Any], keys: tuple[str, ...], path: str) -> None:
        rule = self.rules.get(keys, _MISSING)
        if rule is _MISSING:
            rule = _rule_for(self.rules, self.rtype, keys)
        if rule == "identifier":
            hint: tuple[E, float] | None = _identifier_type(parent, self.rtype)
        elif rule == "telecom":
            system = parent.get("system")
            hint = TELECOM_SYSTEMS.get(system if isinstance(system, str) else "", E.PHONE), 0.95
        else:
            hint = _apply(rule, self.rtype, parent, text)
        if hint is None:
            self.out.append(TextUnit(text, path, self.line))
        else:
            self.out.append(
                TextUnit(text, path, self.line, None, hint[0], hint[1], hint[1] >= HINT_ONLY_FROM)
            )

    def special(self, node: dict[str, Any], keys: tuple[str, ...], path: str) -> bool:
        """Photos, contained resources, narratives and attachments; False: walk it as usual."""
        rtype, line, out = self.rtype, self.line, self.out
        last = keys[-1] if keys else ""
        if last == "photo" and rtype in PERSON_RESOURCES:
            out.append(
                TextUnit(
                    text=_photo_token(node),
                    field=path,
                    line=line,
                    hint=E.PHOTO,
                    hint_confidence=0.9,
                    hint_only=True,
                )
            )
            return True
        if keys and isinstance(node.get("resourceType"), str):
            # A contained resource: its own type governs its paths.
            out.extend(resource_units(node, prefix=f"{path}.{node['resourceType']}", line=line))
            return True
        if last == "text" and isinstance(node.get("div"), str):
            text = xhtml_text(node["div"])
            if text:
                out.append(TextUnit(text=text, field=f"{path}.div", line=line))
            return True
        if last == "attachment" or ("data" in node and "contentType" in node):
            out.extend(_attachment(node, path, line))
            return True
        return False


#: Keys never read (codes, ids, references, ``coding`` arrays, ``meta``...).
_NOT_READ = SKIP_KEYS | {"coding"}
#: Keys whose object value may need :meth:`_Walker.special`.
_SPECIAL_KEYS = frozenset({"photo", "text", "attachment"})


def _attachment(node: dict[str, Any], field: str, line: int | None) -> Iterator[TextUnit]:
    """Text attachments (``text/*`` base64 ``data``) are decoded and scanned; others skipped."""
    data = node.get("data")
    ctype = node.get("contentType")
    title = node.get("title")
    if isinstance(title, str) and title.strip():
        yield TextUnit(text=title, field=f"{field}.title", line=line)
    if not isinstance(data, str):
        return
    if not (isinstance(ctype, str) and ctype.startswith("text/")):
        yield TextUnit(
            text="", field=f"{field}.data", line=line, status="skipped:binary attachment"
        )
        return
    try:
        raw = base64.b64decode(data[: MAX_ATTACHMENT_TEXT * 2], validate=False)
    except (binascii.Error, ValueError):
        yield error("attachment data is not base64", f"{field}.data", line)
        return
    text = raw.decode("utf-8", errors="replace")
    if text.strip():
        yield TextUnit(text=text, field=f"{field}.data", line=line)


def _photo_token(attachment: dict[str, Any]) -> str:
    """A stand-in for a photo: the SHA-256 of its data (or URL), so the scanner can fingerprint
    and link the same photo across files without carrying megabytes of base64 around."""
    source = attachment.get("data") or attachment.get("url") or ""
    digest = hashlib.sha256(str(source).encode()).hexdigest()
    return f"photo sha256:{digest}"


def bundle_units(doc: dict[str, Any], line: int | None = None) -> Iterator[TextUnit]:
    """Units of a Bundle (entries under ``Bundle.entry[i].<Type>``) or of a single resource."""
    return chain.from_iterable(_bundle_parts(doc, line))


def _bundle_parts(doc: dict[str, Any], line: int | None) -> Iterator[list[TextUnit]]:
    """:func:`bundle_units` one resource (a list of units) at a time; the readers iterate the
    lists themselves, so a unit passes through no generator of its own on the way out."""
    if doc.get("resourceType") != "Bundle":
        yield _resource_list(doc, None, line)
        return
    entries = doc.get("entry")
    rest = {k: v for k, v in doc.items() if k != "entry"}
    yield _resource_list(rest, None, line)
    if not isinstance(entries, list):
        return
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        rtype = resource.get("resourceType")
        name = rtype if isinstance(rtype, str) else "resource"
        if name == "Bundle":
            prefix = f"Bundle.entry[{index}]."
            for part in _bundle_parts(resource, line):
                yield [_reprefix(unit, prefix) for unit in part]
            continue
        yield _resource_list(resource, f"Bundle.entry[{index}].{name}", line)


def _reprefix(unit: TextUnit, prefix: str) -> TextUnit:
    return replace(unit, field=prefix + (unit.field or ""))


_RT_RE = re.compile(rb'"resourceType"\s*:\s*"([A-Za-z]{2,64})"')


class FhirJsonReader(BudgetedReader):
    """A FHIR resource or Bundle as one JSON document."""

    name = "fhir-json"

    def sniff(self, head: bytes, filename: str) -> bool:
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return stripped.startswith(b"{") and _RT_RE.search(head) is not None

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        data = read_limited(stream, get_limits().max_load_bytes, "FHIR JSON")
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            if b"}\n" in data or b"}\r\n" in data:
                # NDJSON whose first line was too long to sniff as such.
                yield from FhirNdjsonReader()._units(io.BytesIO(data), filename)
                return
            raise InputError("FHIR JSON: not valid JSON") from None
        if not isinstance(doc, dict):
            raise InputError("FHIR JSON: not a JSON object")
        if not isinstance(doc.get("resourceType"), str):
            # JSON that only mentions resourceType deeper down: still walk every string.
            yield from resource_units(doc, prefix="$")
            return
        for part in _bundle_parts(doc, None):
            yield from part


class FhirNdjsonReader(BudgetedReader):
    """FHIR Bulk Data NDJSON: one resource per line, streamed; a bad line is an error unit."""

    name = "fhir-ndjson"

    def sniff(self, head: bytes, filename: str) -> bool:
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not stripped.startswith(b"{"):
            return False
        first, sep, rest = stripped.partition(b"\n")
        if not sep:
            return filename.endswith(".ndjson") and _RT_RE.search(first) is not None
        return (
            _RT_RE.search(first) is not None
            and first.rstrip().endswith(b"}")
            and rest.lstrip().startswith(b"{")
        ) or (filename.endswith(".ndjson") and _RT_RE.search(first) is not None)

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        limit = get_limits().max_load_bytes
        offset = 0
        deadline = Deadline()  # blank lines yield nothing: the budget is checked here too
        for number, raw in enumerate(iter(lambda: stream.readline(limit + 1), b""), start=1):
            deadline.tick()
            start = offset
            offset += len(raw)
            if len(raw) > limit:
                yield error("line over the in-memory limit", line=number)
                # Drain the rest of the oversized line.
                rest = raw
                while rest and not rest.endswith(b"\n"):
                    rest = stream.readline(limit + 1)
                    offset += len(rest)
                continue
            if not raw.strip():
                continue
            try:
                doc = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                yield TextUnit(
                    text="", line=number, byte_offset=start, status="error:line is not JSON"
                )
                continue
            if not isinstance(doc, dict):
                yield TextUnit(
                    text="", line=number, byte_offset=start, status="error:line is not a resource"
                )
                continue
            for part in _bundle_parts(doc, number):
                yield from part
