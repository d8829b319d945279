"""The audit event: who did what to which data, when, from where and why.

Fields follow FHIR R4 ``AuditEvent`` (and through it RFC 3881 / DICOM audit messages): ``action``
is the AuditEvent action code (C, R, U, D, E), ``outcome`` its outcome code, ``purpose`` a
purpose-of-use code (``TREAT``, ``HPAYMT``, ``HOPERAT``, ``ETREAT`` for break-glass...). Data
are named by opaque ids only: a patient id, a resource type and id, a query *fingerprint*, never a
name or a value. :func:`canonical_json` is the exact byte string that is hashed into the log.
"""

from __future__ import annotations

import contextlib
import functools
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from phiward.errors import InputError

try:  # optional C encoder (the ``fast`` extra); the output is byte-identical, see canonical_json
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised when the extra is absent
    _orjson = None  # type: ignore[assignment]

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


_SECONDS: dict[tuple[int, int, int, int, int, int], str] = {}  # UTC second -> its text


def _iso(value: datetime) -> str:
    if value.tzinfo is UTC:  # the usual case (utcnow): no conversion, and the text of the
        # second is shared by every event in it (``isoformat`` alone cost ~0.9 µs an event)
        key = (value.year, value.month, value.day, value.hour, value.minute, value.second)
        head = _SECONDS.get(key)
        if head is None:
            if len(_SECONDS) >= 4096:
                _SECONDS.clear()
            head = _SECONDS[key] = value.replace(microsecond=0, tzinfo=None).isoformat()
        return f"{head}.{value.microsecond:06d}Z"
    if value.tzinfo is None:
        raise InputError("audit timestamps must be timezone-aware (UTC)")
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        type: str,
        action: Action,
        outcome: Outcome = "success",
        *,
        occurred: datetime | None = None,
        user_id: str | None = None,
        role: str | None = None,
        application: str | None = None,
        network_address: str | None = None,
        patient_id: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        query: str | None = None,
        purpose: str | None = None,
        site: str | None = None,
        system: str | None = None,
        details: dict[str, str | int | float | bool] | None = None,
    ) -> None:
        # Written out rather than generated: every caller of ``AuditLog.record`` builds one per
        # append, and the dataclass's frozen ``__init__`` (a by-name ``object.__setattr__`` per
        # field, then ``__post_init__`` reading them back) cost half as much again. Checked in the
        # caller's thread, so that a bad event is refused on its own and can never fail the
        # group-commit batch it would have shared with other callers.
        if occurred is None:
            occurred = utcnow()
        if details is None:
            details = {}
        optional = (user_id, role, application, network_address, patient_id, resource_type,
                    resource_id, query, purpose, site, system)  # fmt: skip
        _check_event(type, action, outcome, occurred, optional, details)
        (s_type, s_action, s_outcome, s_occurred, s_user_id, s_role, s_application,
         s_network_address, s_patient_id, s_resource_type, s_resource_id, s_query, s_purpose,
         s_site, s_system, s_details) = _SETTERS  # fmt: skip
        s_type(self, type)
        s_action(self, action)
        s_outcome(self, outcome)
        s_occurred(self, occurred)
        s_user_id(self, user_id)
        s_role(self, role)
        s_application(self, application)
        s_network_address(self, network_address)
        s_patient_id(self, patient_id)
        s_resource_type(self, resource_type)
        s_resource_id(self, resource_id)
        s_query(self, query)
        s_purpose(self, purpose)
        s_site(self, site)
        s_system(self, system)
        s_details(self, details)

    def to_dict(
        self, *, recorded: datetime | str | None = None, seq: int | None = None
    ) -> dict[str, Any]:
        """The JSON form, without ``None`` fields; ``seq``/``recorded`` are set by the log
        (``recorded`` may come pre-rendered, once per batch)."""
        data: dict[str, Any] = {
            k: v for k, v in zip(_OPTIONAL, _optional_values(self), strict=False) if v is not None
        }  # (same length by construction: _optional_values is attrgetter(*_OPTIONAL))
        data["type"] = self.type
        data["action"] = self.action
        data["outcome"] = self.outcome
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
# Each slot's own setter: sets the field without the frozen class's ``__setattr__`` (which
# refuses) and without a lookup by name; ``__init__`` takes them in field order.
_SETTERS: tuple[Callable[[AuditEvent, Any], None], ...] = tuple(
    vars(AuditEvent)[f.name].__set__ for f in fields(AuditEvent)
)
_REQUIRED = ("type", "action", "outcome", "occurred")
_OPTIONAL = tuple(k for k in _FIELDS if k not in _REQUIRED)
_optional_values = operator.attrgetter(*_OPTIONAL)
_not_none = functools.partial(operator.is_not, None)


def _check_event(  # noqa: PLR0917 - the hot path: positional arguments are the cheapest
    kind: object,
    action: object,
    outcome: object,
    occurred: object,
    optional: tuple[str | None, ...],
    details: object,
) -> None:
    if not isinstance(kind, str) or not kind or len(kind) > 128:
        raise InputError("audit event type must be 1-128 characters")
    if action not in _ACTIONS:
        raise InputError(f"audit action must be one of C, R, U, D, E, not {action!r}")
    if outcome not in _OUTCOMES:
        raise InputError(f"audit outcome {outcome!r} is not a FHIR outcome code")
    if not isinstance(occurred, datetime) or occurred.tzinfo is None:
        raise InputError("audit timestamps must be timezone-aware (UTC)")
    try:  # one pass in C for the usual case: short ASCII strings (``None`` skipped)
        joined: str | None = "".join(filter(_not_none, optional))  # type: ignore[arg-type]
    except TypeError:
        joined = None
    if joined is None or len(joined) > _MAX_FIELD or not joined.isascii():
        for name, text in zip(_OPTIONAL, optional, strict=True):
            if text is not None:
                _check_text(name, text)
    if details:
        if type(details) is not dict:
            raise InputError("audit details must be a dict")
        for key, detail in details.items():
            if not isinstance(key, str):
                raise InputError("audit detail names must be strings")
            _check_text(f"details.{key}", key)
            if isinstance(detail, str):
                _check_text(f"details.{key}", detail)
            elif not isinstance(detail, int | float | bool):
                raise InputError(f"audit detail {key!r} must be a string, number or boolean")


def _check_text(name: str, text: object) -> None:
    if not isinstance(text, str):
        raise InputError(f"audit field {name} must be a string")
    if len(text) > _MAX_FIELD:
        raise InputError(f"audit field {name} is longer than {_MAX_FIELD} characters")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise InputError(f"audit field {name} is not valid Unicode (lone surrogate)") from None


def canonical_json(data: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: one byte string per event, stable across versions.

    The definition is ``json.dumps(data, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode()``. When orjson is installed it produces the same bytes ~10x
    faster for data made only of strings, integers, booleans, ``None``, lists and dicts with
    string keys (tested byte for byte, with hypothesis); anything else (floats, whose text
    differs between the two, integers beyond 64 bits, other types) takes the reference path.
    """
    if _orjson is not None and _orjson_exact(data):
        try:
            return _orjson.dumps(data, option=_orjson.OPT_SORT_KEYS)
        except _orjson.JSONEncodeError:
            pass  # e.g. an integer beyond 64 bits: the reference encoder decides
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_json(data: dict[str, Any], details: dict[str, Any]) -> bytes:
    """:func:`canonical_json` of a validated event's :meth:`AuditEvent.to_dict` output.

    The writer's hot path: ``AuditEvent.__init__`` guarantees strings at the top level and
    string/number/boolean details, so the only values orjson would render differently are floats
    in ``details``.
    """
    if _orjson is not None and (not details or not any(type(v) is float for v in details.values())):
        try:
            return _orjson.dumps(data, option=_orjson.OPT_SORT_KEYS)
        except _orjson.JSONEncodeError:
            pass
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_body(raw: bytes) -> dict[str, Any] | None:
    """A stored body read back as a dict, or None when it is not a JSON object (a forged row).

    orjson when installed (about half the time of ``json.loads``); the reference parser for what
    orjson refuses but the reference encoder writes, such as a float detail written as Infinity.
    """
    data: Any = None
    if _orjson is not None:
        with contextlib.suppress(ValueError):
            data = _orjson.loads(raw)
    if data is None:
        with contextlib.suppress(ValueError):
            data = json.loads(raw)
    return data if isinstance(data, dict) else None


def _orjson_exact(value: object) -> bool:
    """Does orjson render ``value`` exactly as the reference ``json.dumps`` call does?"""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        return all(
            type(k) is str and _orjson_exact(v)
            for k, v in value.items()  # type: ignore[attr-defined]
        )
    if kind is list:
        return all(_orjson_exact(v) for v in value)  # type: ignore[attr-defined]
    return False
