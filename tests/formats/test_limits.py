"""Per-file budgets: unit count and wall time end a file with a clear skip, settings validate."""

from __future__ import annotations

import io
import json

import pytest

from phiward.errors import ConfigError, InputError
from phiward.formats._base import TextUnit
from phiward.formats._fhir import FhirNdjsonReader
from phiward.formats._limits import BudgetedReader, FormatLimits, set_limits

LINE = json.dumps({"resourceType": "Patient", "name": [{"family": "X", "given": ["Y"]}]})


def test_unit_budget() -> None:
    set_limits(FormatLimits(max_units=5))
    data = ("\n".join([LINE] * 50)).encode()
    units = list(FhirNdjsonReader().read(io.BytesIO(data), "p.ndjson"))
    assert len(units) == 6
    assert units[-1].status == "skipped:budget: more than 5 units"


def test_time_budget() -> None:
    set_limits(FormatLimits(max_seconds=0.000001))
    data = ("\n".join([LINE] * 50)).encode()
    units = list(FhirNdjsonReader().read(io.BytesIO(data), "p.ndjson"))
    assert units[-1].status == "skipped:budget: over 1e-06 s"
    assert len(units) < 10


def test_from_mapping() -> None:
    limits = FormatLimits.from_mapping({"max_seconds": "2.5", "max_depth": "3"})
    assert limits.max_seconds == 2.5 and limits.max_depth == 3
    with pytest.raises(ConfigError, match="unknown setting"):
        FormatLimits.from_mapping({"max_bogus": 1})
    with pytest.raises(ConfigError, match="must be a number"):
        FormatLimits.from_mapping({"max_units": "many"})
    with pytest.raises(ConfigError, match="must be positive"):
        FormatLimits.from_mapping({"max_units": 0})


class _Exploding(BudgetedReader):
    name = "exploding"

    def __init__(self, after: int) -> None:
        self.after = after

    def sniff(self, head: bytes, filename: str) -> bool:
        return True

    def _units(self, stream, filename):  # type: ignore[no-untyped-def]
        for index in range(self.after):
            yield TextUnit(text=str(index))
        raise KeyError("library bug with a value 123-45-6789")


def test_library_errors_become_input_error_or_error_unit() -> None:
    with pytest.raises(InputError) as caught:
        list(_Exploding(0).read(io.BytesIO(b""), "x"))
    assert "123-45-6789" not in str(caught.value)
    units = list(_Exploding(2).read(io.BytesIO(b""), "x"))
    assert units[-1].status == "error:exploding: malformed (KeyError)"


def test_limits_come_from_settings_when_none_are_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from phiward.formats._limits import get_limits

    monkeypatch.setenv("PHIWARD_FORMATS__MAX_UNITS", "3")
    monkeypatch.setenv("PHIWARD_FORMATS__MAX_RATIO", "50")
    set_limits(None)
    assert get_limits().max_units == 3 and get_limits().max_ratio == 50.0
    data = ("\n".join([LINE] * 10)).encode()
    units = list(FhirNdjsonReader().read(io.BytesIO(data), "p.ndjson"))
    assert units[-1].status == "skipped:budget: more than 3 units"
    monkeypatch.setenv("PHIWARD_FORMATS__MAX_BOGUS", "1")
    set_limits(None)
    with pytest.raises(ConfigError):
        list(FhirNdjsonReader().read(io.BytesIO(data), "p.ndjson"))
