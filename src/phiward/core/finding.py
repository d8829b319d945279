"""What a detection produces: a :class:`Finding` at a :class:`Location`, with :class:`Evidence`.

A finding never holds the raw value: it carries a masked preview and a keyed fingerprint, so
reports, logs and stored inventories can show *that* and *where* PHI sits without becoming PHI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from phiward.core.entities import EntityType


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding sits.

    ``start``/``end`` are character offsets in the text unit that was analysed (``end`` exclusive).
    ``line``/``column`` are 1-based when known. ``path`` names the file or object; ``field`` names
    the structural place (a CSV column, a JSON key path, ``PID-5.1``, ``Patient.birthDate``).
    """

    start: int
    end: int
    path: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    byte_offset: int | None = None

    def with_source(
        self,
        *,
        path: str | None = None,
        line_offset: int = 0,
        field: str | None = None,
        byte_offset: int | None = None,
    ) -> Location:
        """A copy placed inside a larger source (a file and the line its text unit starts on)."""
        return replace(
            self,
            path=path if path is not None else self.path,
            line=(self.line + line_offset) if self.line is not None else None,
            field=field if field is not None else self.field,
            byte_offset=byte_offset if byte_offset is not None else self.byte_offset,
        )

    def describe(self) -> str:
        """Human form: ``notes/a.txt:12:5`` or ``export.csv:3 [ssn]``."""
        where = self.path or "<text>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        else:
            where += f"@{self.start}-{self.end}"
        if self.field:
            where += f" [{self.field}]"
        return where


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why the engine believes a span is PHI: the recognizer, validator and context that fired."""

    recognizer: str
    validator: str | None = None
    context: tuple[str, ...] = ()
    structure: str | None = None
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [self.recognizer]
        if self.validator:
            parts.append(f"validated:{self.validator}")
        if self.structure:
            parts.append(f"structure:{self.structure}")
        if self.context:
            parts.append("context:" + ",".join(self.context))
        parts.extend(self.notes)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected identifier. Holds no raw PHI: only ``masked`` and ``fingerprint``."""

    entity: EntityType
    location: Location
    confidence: float
    evidence: Evidence
    masked: str
    fingerprint: str
    encrypted_at_rest: bool | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def letter(self) -> str:
        return self.entity.letter

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stable keys; used by the JSON, NDJSON and HTML reports)."""
        loc = {k: v for k, v in asdict(self.location).items() if v is not None}
        return {
            "entity": self.entity.value,
            "safe_harbor": self.entity.letter,
            "citation": self.entity.safe_harbor.citation,
            "location": loc,
            "confidence": round(self.confidence, 3),
            "evidence": {
                "recognizer": self.evidence.recognizer,
                "validator": self.evidence.validator,
                "context": list(self.evidence.context),
                "structure": self.evidence.structure,
                "notes": list(self.evidence.notes),
            },
            "masked": self.masked,
            "fingerprint": self.fingerprint,
            "encrypted_at_rest": self.encrypted_at_rest,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }
