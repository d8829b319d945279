"""Structured data: rows with column names and documents with key paths.

A column is classified as an entity type only when at least ``min_share`` of its sampled,
non-empty cells look like that type (the text engine found it, or the cell has the type's shape
and the header names it). The header name alone is evidence, never proof: a column called ``ssn``
full of ``N/A`` is not reported as SSNs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from phiward.core.entities import EntityType as E
from phiward.core.finding import Finding
from phiward.detect._engine import Analyzer, Candidate

# Header names (normalised: lower case, separators removed) that point at an entity type.
_HEADER_WORDS: tuple[tuple[re.Pattern[str], E], ...] = tuple(
    (re.compile(p), e)
    for p, e in (
        (r"^(ssn|socialsecurity(number|no)?|socsec|ssnumber|taxid|tin)$", E.SSN),
        (r"(dob|dateofbirth|birth(date|day)?|borndate)$", E.DATE),
        (r"(admi(t|ssion)|discharge|death|deceased|service|visit|encounter)(date|dt|on)?$", E.DATE),
        (r"(date|dt)$", E.DATE),
        (
            r"^(patient|member|subscriber|guarantor|contact|emergencycontact|provider|doctor|"
            r"physician|nextofkin)?(full)?(first|last|middle|given|family|sur)?name$",
            E.NAME,
        ),
        (
            r"^(fname|lname|given|family|first|last|middle|givenname|familyname|surname|patient|"
            r"nok)$",
            E.NAME,
        ),
        (r"^(mrn|medicalrecord(number|no)?|chartnumber|chartno|mrno)$", E.MRN),
        (r"(phone|telephone|tel|mobile|cell|homephone|workphone)(number|no)?$", E.PHONE),
        (r"fax(number|no)?$", E.FAX),
        (r"e?mail(address)?$", E.EMAIL),
        (
            r"(street|address|addr|address1|address2|addressline\d?|streetaddress)$",
            E.STREET_ADDRESS,
        ),
        (r"^(city|town)$", E.CITY),
        (r"^county$", E.COUNTY),
        (r"^(zip|zipcode|postalcode|postcode|zip5)$", E.ZIP_CODE),
        (
            r"(memberid|subscriberid|policy(number|no|id)?|insuranceid|mbi|medicareid|medicaidid|"
            r"healthplanid|beneficiaryid|groupnumber)$",
            E.HEALTH_PLAN_ID,
        ),
        (r"(account|acct)(number|no|id)?$", E.ACCOUNT_NUMBER),
        (r"(creditcard|cardnumber|ccnumber|pan)$", E.CREDIT_CARD),
        (r"(license|licence|dl|driverslicense)(number|no)?$", E.LICENSE_NUMBER),
        (r"^dea(number|no)?$", E.DEA_NUMBER),
        (r"npi(number|no)?$", E.NPI),
        (r"^(vin|vehicleid|licenseplate|plate)$", E.VEHICLE_ID),
        (r"(deviceid|serialnumber|serialno|udi)$", E.DEVICE_ID),
        (r"(ip|ipaddress|clientip|remoteaddr|remoteip)$", E.IP_ADDRESS),
        (r"(url|website|homepage)$", E.URL),
        (r"^age$", E.AGE_OVER_89),
        (r"^(patientid|personid|encounterid|caseid|claimid)$", E.OTHER_ID),
    )
)

# What a cell must look like for the header to count as evidence for it.
_SHAPES: dict[E, re.Pattern[str]] = {
    E.SSN: re.compile(r"^\d{3}-?\d{2}-?\d{4}$"),
    E.DATE: re.compile(
        r"^(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|[A-Za-z]{3,9}\.? \d{1,2}\w*,? \d{4}|\d{8})"
    ),
    E.NAME: re.compile(r"^[A-Za-z][A-Za-z .,'-]{0,60}$"),
    E.MRN: re.compile(r"^[A-Z0-9-]{4,20}$", re.I),
    E.PHONE: re.compile(r"^[+()\d .x-]{7,24}$"),
    E.FAX: re.compile(r"^[+()\d .x-]{7,24}$"),
    E.EMAIL: re.compile(r"^\S+@\S+\.\S+$"),
    E.STREET_ADDRESS: re.compile(r"^\d+\s+\S+|^P\.?\s?O\.?\s+Box", re.I),
    E.CITY: re.compile(r"^[A-Za-z][A-Za-z .'-]{1,40}$"),
    E.COUNTY: re.compile(r"^[A-Za-z][A-Za-z .'-]{1,40}$"),
    E.ZIP_CODE: re.compile(r"^\d{3,5}(-\d{4})?$"),
    E.HEALTH_PLAN_ID: re.compile(r"^[A-Z0-9-]{5,20}$", re.I),
    E.ACCOUNT_NUMBER: re.compile(r"^[A-Z0-9-]{4,34}$", re.I),
    E.CREDIT_CARD: re.compile(r"^[\d -]{13,23}$"),
    E.LICENSE_NUMBER: re.compile(r"^[A-Z0-9-]{4,20}$", re.I),
    E.DEA_NUMBER: re.compile(r"^[A-Z]{2}\d{7}$", re.I),
    E.NPI: re.compile(r"^\d{10}$"),
    E.VEHICLE_ID: re.compile(r"^[A-Z0-9 -]{2,17}$", re.I),
    E.DEVICE_ID: re.compile(r"^[A-Z0-9()+/.-]{4,64}$", re.I),
    E.IP_ADDRESS: re.compile(r"^[0-9a-fA-F.:]{3,45}$"),
    E.URL: re.compile(r"^(https?://|www\.)\S+$"),
    E.AGE_OVER_89: re.compile(r"^(9\d|1[0-2]\d)$"),
    E.OTHER_ID: re.compile(r"^[A-Z0-9-]{3,40}$", re.I),
}
_EMPTY = frozenset({"", "n/a", "na", "null", "none", "-", "unknown", "nan"})


def _norm_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def header_entity(name: str) -> E | None:
    """The entity type a column or key name points at (``patient_name`` → NAME), if any."""
    norm = _norm_header(name.rsplit(".", 1)[-1].split("[", maxsplit=1)[0])
    if not norm:
        return None
    for pattern, entity in _HEADER_WORDS:
        if pattern.search(norm):
            return entity
    return None


def cell_matches(entity: E, value: str) -> bool:
    shape = _SHAPES.get(entity)
    return bool(shape and shape.match(value.strip()))


@dataclass
class ColumnStats:
    """What the sample of one column looked like."""

    name: str
    sampled: int = 0
    entity_hits: Counter[E] = field(default_factory=Counter)
    header: E | None = None
    header_shape_hits: int = 0

    def add(self, value: str, found: Iterable[E]) -> None:
        if value.strip().lower() in _EMPTY:
            return
        self.sampled += 1
        for e in set(found):
            self.entity_hits[e] += 1
        if self.header is not None and cell_matches(self.header, value):
            self.header_shape_hits += 1


@dataclass(frozen=True, slots=True)
class ColumnClass:
    entity: E
    share: float
    confidence: float
    evidence: str


def classify(stats: ColumnStats, min_share: float = 0.6) -> ColumnClass | None:
    """Classify a column from its sample, or ``None`` when no type reaches ``min_share``."""
    if stats.sampled == 0:
        return None
    best: ColumnClass | None = None
    if stats.header is not None:
        share = stats.header_shape_hits / stats.sampled
        if share >= min_share:
            best = ColumnClass(stats.header, share, min(0.97, 0.75 + 0.2 * share), "header+shape")
    for entity, hits in stats.entity_hits.most_common(1):
        share = hits / stats.sampled
        if share >= min_share:
            conf = min(0.95, 0.6 + 0.35 * share)
            if entity is stats.header:
                conf = 0.98
            if best is None or conf > best.confidence:
                best = ColumnClass(entity, share, conf, "content")
    return best


class StructuredAnalyzer:
    """Analyse rows (mappings of column → value) with column classification on a sample.

    ``analyze_rows`` reads the first ``sample`` rows to classify columns, then reports every
    row: text-engine findings per cell plus, for classified columns, the cell as its column's
    type. Field is the column name; ``line`` is the row's 1-based index (+``first_line`` - 1).
    """

    def __init__(self, analyzer: Analyzer, *, sample: int = 200, min_share: float = 0.6) -> None:
        self.analyzer = analyzer
        self.sample = sample
        self.min_share = min_share

    def classify_rows(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, ColumnClass]:
        stats: dict[str, ColumnStats] = {}
        for row in rows[: self.sample]:
            for col, raw in row.items():
                if raw is None:
                    continue
                value = str(raw)
                st = stats.get(col)
                if st is None:
                    st = stats[col] = ColumnStats(col, header=header_entity(col))
                st.add(value, (c.entity for c in self.analyzer.candidates(value)))
        out: dict[str, ColumnClass] = {}
        for col, st in stats.items():
            cls = classify(st, self.min_share)
            if cls is not None:
                out[col] = cls
        return out

    def analyze_cell(
        self,
        value: str,
        column: str,
        cls: ColumnClass | None,
        *,
        path: str | None = None,
        line: int | None = None,
    ) -> list[Finding]:
        cands = self.analyzer.candidates(value)
        findings = []
        for c in cands:
            structure = None
            if cls is not None and c.entity is cls.entity and c.confidence < cls.confidence:
                # The column agrees with the text engine: the header/column is extra evidence.
                c.confidence = cls.confidence
                c.notes = (*c.notes, cls.evidence)
                structure = f"column:{column}"
            findings.append(
                self.analyzer.make_finding(
                    value, c, path=path, line=line, field=column, structure=structure
                )
            )
        if (
            cls is not None
            and value.strip()
            and value.strip().lower() not in _EMPTY
            and (self.analyzer.entities is None or cls.entity in self.analyzer.entities)
            and cls.confidence >= self.analyzer.min_confidence
            and not any(
                c.entity is cls.entity and c.end - c.start >= len(value.strip()) // 2 for c in cands
            )
        ):
            lead = len(value) - len(value.lstrip())
            whole = Candidate(
                cls.entity,
                lead,
                len(value.rstrip()),
                cls.confidence,
                "column",
                None,
                (column,),
                (f"column-share:{cls.share:.2f}", cls.evidence),
            )
            findings.append(
                self.analyzer.make_finding(
                    value, whole, path=path, line=line, field=column, structure=f"column:{column}"
                )
            )
        return findings

    def analyze_rows(
        self, rows: Sequence[Mapping[str, Any]], *, path: str | None = None, first_line: int = 1
    ) -> list[Finding]:
        classes = self.classify_rows(rows)
        out: list[Finding] = []
        for i, row in enumerate(rows):
            for col, raw in row.items():
                if raw is None:
                    continue
                out.extend(
                    self.analyze_cell(
                        str(raw), col, classes.get(col), path=path, line=first_line + i
                    )
                )
        return out

    def analyze_document(
        self, doc: Any, *, path: str | None = None, prefix: str = ""
    ) -> list[Finding]:
        """Walk a JSON-like document; every string or number leaf is analysed with its key path
        as ``field``; a key name that points at an entity type (``dob``, ``ssn``) is evidence."""
        out: list[Finding] = []
        for key_path, value in iter_leaves(doc, prefix):
            out.extend(self.analyze_leaf(value, key_path, path=path))
        return out

    def analyze_leaf(
        self, value: str, key_path: str, *, path: str | None = None, line: int | None = None
    ) -> list[Finding]:
        cls = None
        entity = header_entity(key_path)
        if entity is not None and cell_matches(entity, value):
            cls = ColumnClass(entity, 1.0, 0.85, "key-name+shape")
        return self.analyze_cell(value, key_path, cls, path=path, line=line)


def iter_leaves(doc: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    """``(key path, text)`` for every string and number leaf of a JSON-like value."""
    stack: list[tuple[str, Any]] = [(prefix, doc)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, Mapping):
            for k, val in reversed(list(node.items())):
                stack.append((f"{where}.{k}" if where else str(k), val))
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                stack.append((f"{where}[{i}]", node[i]))
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, str | int | float):
            yield where, str(node)
