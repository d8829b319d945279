"""The audit event: who did what to which data, when, from where and why.

Fields follow FHIR R4 ``AuditEvent`` (and through it RFC 3881 / DICOM audit messages): ``action``
is the AuditEvent action code (C, R, U, D, E), ``outcome`` its outcome code, ``purpose`` a
purpose-of-use code (``TREAT``, ``HPAYMT``, ``HOPERAT``, ``ETREAT`` for break-glass...). Data
are named by opaque ids only: a patient id, a resource type and id, a query *fingerprint*, never a
name or a value. :func:`canonical_json` is the exact byte string that is hashed into the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from phiward.errors import InputError

Action = Literal["C", "R", "U", "D", "E"]
Outcome = Literal["success", "minor-failure", "serious-failure", "major-failure"]
_ACTIONS = frozenset("CRUDE")
_OUTCOMES = frozenset(("success", "minor-failure", "serious-failure", "major-failure"))
_MAX_FIELD = 512


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_utc(value: datetime) -> str:
    """The timestamp form used in events: UTC, microseconds, ``Z``."""
    return _iso(value)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise InputError("audit timestamps must be timezone-aware (UTC)")
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited action. ``type`` is a dotted event type (``phi.read``, ``key.rotate``)."""

    type: str
    action: Action
    outcome: Outcome = "success"
    occurred: datetime = field(default_factory=utcnow)
    user_id: str | None = None
    role: str | None = None
    application: str | None = None
    network_address: str | None = None
    patient_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    query: str | None = None
    purpose: str | None = None
    site: str | None = None
    system: str | None = None
    details: dict[str, str | int | float | bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.type or len(self.type) > 128:
            raise InputError("audit event type must be 1-128 characters")
        if self.action not in _ACTIONS:
            raise InputError(f"audit action must be one of C, R, U, D, E, not {self.action!r}")
        if self.outcome not in _OUTCOMES:
            raise InputError(f"audit outcome {self.outcome!r} is not a FHIR outcome code")
        for name, text in self._strings():
            if len(text) > _MAX_FIELD:
                raise InputError(f"audit field {name} is longer than {_MAX_FIELD} characters")
        for key, detail in self.details.items():
            if not isinstance(detail, str | int | float | bool):
                raise InputError(f"audit detail {key!r} must be a string, number or boolean")

    def _strings(self) -> list[tuple[str, str]]:
        out = [(k, v) for k in _FIELDS if isinstance(v := getattr(self, k), str)]
        out.extend((f"details.{k}", v) for k, v in self.details.items() if isinstance(v, str))
        return out

    def to_dict(
        self, *, recorded: datetime | str | None = None, seq: int | None = None
    ) -> dict[str, Any]:
        """The JSON form, without ``None`` fields; ``seq``/``recorded`` are set by the log
        (``recorded`` may come pre-rendered, once per batch)."""
        data: dict[str, Any] = {
            k: v for k in _FIELDS if (v := getattr(self, k)) is not None and k != "occurred"
        }
        if self.details:
            data["details"] = dict(self.details)
        data["occurred"] = _iso(self.occurred)
        if recorded is not None:
            data["recorded"] = recorded if isinstance(recorded, str) else _iso(recorded)
        if seq is not None:
            data["seq"] = seq
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditEvent:
        """Rebuild an event from :meth:`to_dict` output (``seq`` and ``recorded`` ignored)."""
        values = {k: v for k, v in data.items() if k not in {"seq", "recorded"}}
        try:
            values["occurred"] = datetime.fromisoformat(values["occurred"].replace("Z", "+00:00"))
            return cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not an audit event: {exc}") from exc


_FIELDS = tuple(f.name for f in fields(AuditEvent) if f.name != "details")


def canonical_json(data: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: one byte string per event, stable across versions."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
