"""The canonical event encoding: the fast encoder must produce the reference bytes exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiward.audit import event as ev
from phiward.audit.event import AuditEvent, canonical_json, event_json
from phiward.errors import InputError


def _reference(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # no lone surrogates
_scalars = (
    _text
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=True, allow_infinity=True)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


def test_fast_encoder_is_installed() -> None:
    # The ``fast`` extra is part of the test environment: the equality tests below must be
    # exercising orjson, not comparing the reference with itself.
    assert ev._orjson is not None


@settings(max_examples=400)
@given(st.dictionaries(_text, _json, max_size=6))
def test_canonical_json_matches_the_reference_encoder(data: dict[str, Any]) -> None:
    assert canonical_json(data) == _reference(data)


@settings(max_examples=400)
@given(
    user=_text.filter(lambda s: len(s) <= 512),
    details=st.dictionaries(
        _text.filter(bool),
        _text | st.integers(min_value=-(2**70), max_value=2**70) | st.booleans() | st.floats(),
        max_size=4,
    ),
    seq=st.integers(min_value=0, max_value=2**63 - 1),
)
def test_event_json_matches_the_reference_encoder(
    user: str, details: dict[str, Any], seq: int
) -> None:
    event = AuditEvent(type="phi.read", action="R", user_id=user, details=details)
    data = event.to_dict(recorded="2026-01-01T00:00:00.000000Z", seq=seq)
    assert event_json(data, event.details) == _reference(data)


def test_escapes_and_floats_are_rendered_as_the_reference_does() -> None:
    tricky = {"c": '\x00\x07\x1f\x7f\u2028"\\/\n\t\r\b\f', "é": "😀", "f": 1e16, "g": 1e-7}
    assert canonical_json(tricky) == _reference(tricky)
    assert b'"f":1e+16' in canonical_json(tricky)


def test_to_dict_keeps_only_set_fields() -> None:
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    data = AuditEvent(type="key.rotate", action="U", occurred=when, user_id="u-1").to_dict(seq=3)
    assert data == {
        "type": "key.rotate",
        "action": "U",
        "outcome": "success",
        "user_id": "u-1",
        "occurred": "2026-03-01T12:00:00.000000Z",
        "seq": 3,
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"user_id": "bad \ud800 surrogate"},
        {"patient_id": 17},
        {"patient_id": 0},  # falsy non-strings must not slip through the joined fast path
        {"user_id": False},
        {"site": b"bytes"},
        {"details": {"k": "\udfff"}},
        {"details": {1: "x"}},
        {"details": {"k": [1, 2]}},
        {"occurred": datetime(2020, 1, 1)},
        {"role": "x" * 513},
    ],
)
def test_events_that_cannot_be_encoded_are_refused_up_front(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        AuditEvent(type="phi.read", action="R", **kwargs)


def test_field_limits_apply_per_field_not_to_their_sum() -> None:
    # The fast path checks the joined fields; over 512 in all it must fall back to per field.
    event = AuditEvent(type="phi.read", action="R", role="r" * 300, site="s" * 300)
    assert event.to_dict()["site"] == "s" * 300
    with pytest.raises(InputError, match="site is longer"):
        AuditEvent(type="phi.read", action="R", role="r" * 300, site="s" * 513)


@settings(max_examples=500)
@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from([0, None]),
    st.integers(min_value=-23 * 60, max_value=23 * 60),
)
def test_timestamp_text_fast_path_matches_the_reference(
    when: datetime, micro: int | None, offset: int
) -> None:
    """The UTC fast path of the event timestamp renders exactly what the general path does,
    microsecond zero included (where ``isoformat()`` drops the fraction)."""
    from datetime import timedelta, timezone

    if micro is not None:
        when = when.replace(microsecond=micro)
    for value in (
        when.replace(tzinfo=UTC),
        when.replace(tzinfo=timezone(timedelta(minutes=offset))),
    ):
        expected = value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        assert ev.iso_utc(value) == expected


def test_the_written_out_constructor_matches_the_declared_fields() -> None:
    """``AuditEvent.__init__`` is written by hand (for speed): its parameters must be the
    dataclass's fields, in order, with the declared defaults, and every one must be stored."""
    import dataclasses
    import inspect

    params = list(inspect.signature(AuditEvent.__init__).parameters.values())[1:]
    declared = dataclasses.fields(AuditEvent)
    assert [p.name for p in params] == [f.name for f in declared]
    for p, f in zip(params, declared, strict=True):
        if f.default is not dataclasses.MISSING:
            assert p.default == f.default, f.name
        elif f.default_factory is not dataclasses.MISSING:
            assert p.default is None, f.name  # None stands for "call the factory"
        else:
            assert p.default is inspect.Parameter.empty, f.name
    values: dict[str, Any] = {f.name: f"v-{f.name}" for f in declared}
    values |= {
        "action": "R",
        "outcome": "minor-failure",
        "occurred": datetime(2026, 1, 2, tzinfo=UTC),
        "details": {"n": 1},
    }
    event = AuditEvent(**values)
    assert {f.name: getattr(event, f.name) for f in declared} == values
    assert event == dataclasses.replace(event)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.user_id = "someone else"  # type: ignore[misc]
    defaulted = AuditEvent(type="phi.read", action="R")
    assert defaulted.details == {} and defaulted.details is not AuditEvent("t", "R").details
    assert defaulted.occurred.tzinfo is UTC and defaulted.outcome == "success"


def test_parse_body_reads_what_the_encoders_write_and_refuses_the_rest() -> None:
    from phiward.audit.event import parse_body

    assert parse_body(b'{"a":"\\u00e9","x":Infinity}') == {"a": "é", "x": float("inf")}
    assert parse_body(b"[1]") is None
    assert parse_body(b"not json") is None
