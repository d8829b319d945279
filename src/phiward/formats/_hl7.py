"""HL7 v2 ER7 ("pipe") messages, batches (FHS/BHS) and MLLP-framed captures.

Delimiters are taken from each MSH/FHS/BHS header, never assumed. Segments are streamed one at a
time. Fields of the patient-identifying segments (PID, NK1, GT1, IN1, PV1) map to entity types by
their position in the v2.5 standard (``PID-5`` is the patient name, ``PID-19`` the SSN); observation
text (``OBX-5``), notes (``NTE-3``) and site-specific Z-segments go to the text engine. A segment
that cannot be parsed is reported as an ``error:`` unit and the scan goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from phiward.core.entities import EntityType as E
from phiward.formats._base import TextUnit
from phiward.formats._limits import HINT_ONLY_FROM, BudgetedReader, Deadline, error

# Field kinds: how a field's components are typed.
XPN = "XPN"  # person name: 1 family, 2 given, 3 middle (4 suffix, 5 prefix are not identifying)
XCN = "XCN"  # staff name with id: 1 id, 2 family, 3 given, 4 middle
XAD = "XAD"  # address: 1 street, 2 other, 3 city, 5 zip, 9 county
XTN = "XTN"  # phone: 1 unformatted, 4 e-mail, 6 area code + 7 local number
CX = "CX"  # identifier: 1 id, 5 identifier type code
XON = "XON"  # organisation name: 1 name

Mapping = tuple[str, E | None, float]

#: segment -> field number -> (kind or "", entity for plain fields, confidence)
FIELD_MAP: dict[str, dict[int, Mapping]] = {
    "PID": {
        2: (CX, E.MRN, 0.9),
        3: (CX, E.MRN, 0.95),
        4: (CX, E.MRN, 0.9),
        5: (XPN, E.NAME, 0.95),
        6: (XPN, E.NAME, 0.9),
        7: ("", E.DATE, 0.95),
        9: (XPN, E.NAME, 0.9),
        11: (XAD, None, 0.95),
        12: ("", E.COUNTY, 0.8),
        13: (XTN, E.PHONE, 0.95),
        14: (XTN, E.PHONE, 0.95),
        18: (CX, E.ACCOUNT_NUMBER, 0.95),
        19: ("", E.SSN, 0.95),
        20: ("", E.LICENSE_NUMBER, 0.95),
        21: (CX, E.OTHER_ID, 0.8),
        29: ("", E.DATE, 0.95),
    },
    "NK1": {
        2: (XPN, E.NAME, 0.95),
        4: (XAD, None, 0.95),
        5: (XTN, E.PHONE, 0.95),
        6: (XTN, E.PHONE, 0.95),
        13: (XON, E.NAME, 0.7),
        16: ("", E.DATE, 0.9),
        30: (XPN, E.NAME, 0.95),
        31: (XTN, E.PHONE, 0.95),
        32: (XAD, None, 0.95),
        33: (CX, E.OTHER_ID, 0.85),
        37: ("", E.SSN, 0.95),
    },
    "GT1": {
        2: (CX, E.ACCOUNT_NUMBER, 0.9),
        3: (XPN, E.NAME, 0.95),
        4: (XPN, E.NAME, 0.9),
        5: (XAD, None, 0.95),
        6: (XTN, E.PHONE, 0.95),
        7: (XTN, E.PHONE, 0.95),
        8: ("", E.DATE, 0.95),
        12: ("", E.SSN, 0.95),
        16: (XPN, E.NAME, 0.7),
        17: (XAD, None, 0.9),
        18: (XTN, E.PHONE, 0.9),
        19: (CX, E.OTHER_ID, 0.8),
    },
    "IN1": {
        16: (XPN, E.NAME, 0.95),
        18: ("", E.DATE, 0.95),
        19: (XAD, None, 0.95),
        36: ("", E.HEALTH_PLAN_ID, 0.95),
        49: (CX, E.HEALTH_PLAN_ID, 0.95),
    },
    "PV1": {
        7: (XCN, E.NAME, 0.75),
        8: (XCN, E.NAME, 0.75),
        9: (XCN, E.NAME, 0.75),
        17: (XCN, E.NAME, 0.75),
        19: (CX, E.ACCOUNT_NUMBER, 0.85),
        44: ("", E.DATE, 0.9),
        45: ("", E.DATE, 0.9),
        50: (CX, E.OTHER_ID, 0.8),
    },
    "OBX": {14: ("", E.DATE, 0.7)},
    "PD1": {4: (XCN, E.NAME, 0.7)},
    "ROL": {4: (XCN, E.NAME, 0.7)},
    "EVN": {5: (XCN, E.NAME, 0.6)},
    "ORC": {12: (XCN, E.NAME, 0.7)},
    "OBR": {16: (XCN, E.NAME, 0.7), 7: ("", E.DATE, 0.7)},
    "IN2": {
        2: ("", E.OTHER_ID, 0.8),
        6: ("", E.HEALTH_PLAN_ID, 0.95),
        8: ("", E.HEALTH_PLAN_ID, 0.95),
    },
    "MRG": {
        1: (CX, E.MRN, 0.95),
        3: (CX, E.ACCOUNT_NUMBER, 0.9),
        7: (XPN, E.NAME, 0.95),
    },
}

#: segment -> fields passed as free text to the detection engine
TEXT_FIELDS: dict[str, frozenset[int]] = {
    "OBX": frozenset({5}),
    "NTE": frozenset({3}),
    "DG1": frozenset({4}),
    "AL1": frozenset({5}),
    "ORC": frozenset({16}),
    "OBR": frozenset({13, 31}),
    "PID": frozenset({23}),
}

#: v2-0203 identifier type codes in CX.5
CX_TYPES = {
    "MR": E.MRN,
    "SS": E.SSN,
    "DL": E.LICENSE_NUMBER,
    "AN": E.ACCOUNT_NUMBER,
    "MB": E.HEALTH_PLAN_ID,
    "MA": E.HEALTH_PLAN_ID,
    "MC": E.HEALTH_PLAN_ID,
    "SN": E.HEALTH_PLAN_ID,
    "NPI": E.NPI,
    "DEA": E.DEA_NUMBER,
    "PPN": E.OTHER_ID,
    "PI": E.MRN,
    "PT": E.MRN,
    "VN": E.ACCOUNT_NUMBER,
}

ADDRESS_COMPONENTS = {
    1: E.STREET_ADDRESS,
    2: E.STREET_ADDRESS,
    3: E.CITY,
    5: E.ZIP_CODE,
    9: E.COUNTY,
}

SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{2}$")
HEADER_SEGMENTS = ("MSH", "FHS", "BHS")
MAX_SEGMENT = 16 * 1024 * 1024
MLLP_START, MLLP_END = b"\x0b", b"\x1c"
TOO_LONG = b"\x00TOO-LONG"


@dataclass(slots=True)
class Delimiters:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


def parse_header(segment: str) -> Delimiters | None:
    """Delimiters declared by an MSH/FHS/BHS segment, or None when they are unusable."""
    if len(segment) < 6:
        return None
    fs = segment[3]
    enc = segment[4:].split(fs, 1)[0][:4]
    if fs.isalnum() or fs.isspace() or len(enc) < 2:
        return None
    used = [fs, *enc]
    if len(set(used)) != len(used) or any(c.isalnum() or c.isspace() for c in enc):
        return None
    padded = (enc + "\x00\x00")[:4]
    return Delimiters(fs, padded[0], padded[1], padded[2], padded[3])


def unescape(value: str, d: Delimiters) -> str:
    """Decode HL7 escape sequences (``\\F\\``, ``\\S\\``, ``\\.br\\``...)."""
    esc = d.escape
    if not esc or esc == "\x00" or esc not in value:
        return value
    table = {
        "F": d.field,
        "S": d.component,
        "T": d.subcomponent,
        "R": d.repetition,
        "E": esc,
        ".br": "\n",
    }
    out: list[str] = []
    pieces = value.split(esc)
    # pieces alternate text / escape code; an odd count means balanced escapes
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            out.append(piece)
        elif index == len(pieces) - 1:
            out.append(esc + piece)  # unterminated escape: keep as is
        elif piece in table:
            out.append(table[piece])
        elif piece.startswith("X"):
            try:
                out.append(bytes.fromhex(piece[1:]).decode("latin-1"))
            except ValueError:
                out.append(" ")
        else:
            out.append(" ")
    return "".join(out)


def _split_lines(stream: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """(segment number, byte offset, bytes) per CR/LF-separated segment, MLLP bytes removed.

    A segment longer than ``MAX_SEGMENT`` is reported once as ``TOO_LONG`` and its bytes are
    discarded as they stream by, so one endless line costs bounded memory.
    """
    pending = b""
    offset = 0
    number = 0
    discarding = False
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        data = pending + chunk.replace(b"\n", b"\r")
        parts = data.split(b"\r")
        pending = parts.pop()
        for raw in parts:
            start = offset
            offset += len(raw) + 1
            if discarding:
                discarding = False
                continue
            if len(raw) > MAX_SEGMENT:
                number += 1
                yield number, start, TOO_LONG
                continue
            cleaned = raw.replace(MLLP_START, b"").replace(MLLP_END, b"")
            if cleaned.strip():
                number += 1
                yield number, start, cleaned
        if len(pending) > MAX_SEGMENT:
            if not discarding:
                number += 1
                yield number, offset, TOO_LONG
                discarding = True
            offset += len(pending)
            pending = b""
    cleaned = pending.replace(MLLP_START, b"").replace(MLLP_END, b"")
    if cleaned.strip() and not discarding:
        number += 1
        yield number, offset, cleaned


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class Hl7Reader(BudgetedReader):
    """HL7 v2 ER7: one unit per mapped component, OBX/NTE text as plain units."""

    name = "hl7v2"

    def sniff(self, head: bytes, filename: str) -> bool:
        stripped = head.lstrip(b"\x0b\xef\xbb\xbf \t\r\n")
        return (
            len(stripped) > 8
            and stripped[:3] in (b"MSH", b"FHS", b"BHS")
            and not stripped[3:4].isalnum()
            and stripped[3:4] not in (b"", b"\r", b"\n", b" ")
        )

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        delims: Delimiters | None = None
        deadline = Deadline()
        for number, offset, raw in _split_lines(stream):
            deadline.tick()
            if raw is TOO_LONG:
                yield error("segment too long", line=number)
                continue
            segment = _decode(raw).strip(" \t\x00")
            seg_id = segment[:3]
            if seg_id in HEADER_SEGMENTS:
                declared = parse_header(segment)
                if declared is None:
                    yield error(f"{seg_id} declares unusable delimiters", seg_id, number)
                    delims = None
                    continue
                delims = declared
            if delims is None:
                yield error("segment outside a message (no MSH before it)", None, number)
                continue
            if not SEGMENT_ID.match(seg_id) or (len(segment) > 3 and segment[3] != delims.field):
                yield error("malformed segment", None, number)
                continue
            yield from self._segment(seg_id, segment, delims, number, offset)

    def _segment(
        self, seg_id: str, segment: str, d: Delimiters, line: int, offset: int
    ) -> Iterator[TextUnit]:
        mapping = FIELD_MAP.get(seg_id)
        text_fields = TEXT_FIELDS.get(seg_id)
        z_segment = seg_id.startswith("Z")
        if mapping is None and text_fields is None and not z_segment:
            return
        fields = segment.split(d.field)
        # MSH-1 is the field separator itself, so MSH field n sits at split index n - 1.
        shift = 1 if seg_id in HEADER_SEGMENTS else 0
        count = len(fields)
        out: list[TextUnit] = []
        if mapping is not None:
            for number, (kind, entity, conf) in mapping.items():
                index = number - shift
                if index >= count or not fields[index]:
                    continue
                for rep, rep_value in enumerate(fields[index].split(d.repetition), start=1):
                    base = f"{seg_id}-{number}" if rep == 1 else f"{seg_id}-{number}[{rep}]"
                    comps = rep_value.split(d.component)
                    for suffix, text, ent in _typed_components(kind, entity, comps, rep_value, d):
                        if text:
                            out.append(
                                TextUnit(
                                    text,
                                    base + suffix,
                                    line,
                                    offset,
                                    ent,
                                    conf,
                                    conf >= HINT_ONLY_FROM,
                                )
                            )
        if text_fields is not None or z_segment:
            numbers = text_fields if text_fields is not None else range(1, count + shift)
            for number in sorted(numbers):
                index = number - shift
                if index >= count or index < 1 or not fields[index]:
                    continue
                if mapping is not None and number in mapping:
                    continue
                for rep, rep_value in enumerate(fields[index].split(d.repetition), start=1):
                    text = unescape(rep_value.replace(d.component, " "), d).strip()
                    if text and text != '""':
                        field = f"{seg_id}-{number}" + (f"[{rep}]" if rep > 1 else "")
                        out.append(TextUnit(text=text, field=field, line=line, byte_offset=offset))
        yield from out


def _component(comps: list[str], index: int, d: Delimiters) -> str:
    raw = comps[index - 1] if len(comps) >= index else ""
    text = unescape(raw.replace(d.subcomponent, " "), d).strip()
    return "" if text == '""' else text


def _typed_components(
    kind: str, entity: E | None, comps: list[str], rep_value: str, d: Delimiters
) -> Iterator[tuple[str, str, E]]:
    """(path suffix, text, entity) for the identifying components of one field repetition."""
    if kind in (XPN, XCN):
        first = 2 if kind == XCN else 1
        for i in range(first, first + 3):
            yield f".{i}", _component(comps, i, d), E.NAME
    elif kind == XON:
        yield ".1", _component(comps, 1, d), entity or E.NAME
    elif kind == XAD:
        for i, ent in ADDRESS_COMPONENTS.items():
            yield f".{i}", _component(comps, i, d), ent
    elif kind == XTN:
        text = _component(comps, 1, d)
        yield ".1", text, E.EMAIL if "@" in text else E.PHONE
        yield ".4", _component(comps, 4, d), E.EMAIL
        local = _component(comps, 7, d)
        if local:
            yield ".6", f"{_component(comps, 6, d)} {local}".strip(), E.PHONE
    elif kind == CX:
        code = _component(comps, 5, d).upper()
        yield ".1", _component(comps, 1, d), CX_TYPES.get(code, entity or E.OTHER_ID)
    elif entity is not None:
        if len(comps) > 1:
            yield ".1", _component(comps, 1, d), entity
        else:
            text = unescape(rep_value, d).strip()
            yield "", "" if text == '""' else text, entity
