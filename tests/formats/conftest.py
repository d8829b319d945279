"""Shared helpers for the format reader tests: the generated sample set and a read helper."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from phiward.demo.formats import Truth, write_format_samples
from phiward.formats import TextUnit, reader_for
from phiward.formats._limits import FormatLimits, set_limits


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Truth]]:
    """The demo-formats sample set, generated once per session."""
    root = tmp_path_factory.mktemp("format-samples")
    return root, write_format_samples(root)


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    """Every test starts (and ends) with the default limits."""
    previous = set_limits(FormatLimits())
    yield
    set_limits(previous)


def read_bytes(data: bytes, filename: str = "input") -> list[TextUnit]:
    """All units of ``data`` through the reader the registry picks (asserts one does)."""
    reader = reader_for(data[:8192], filename)
    assert reader is not None, f"no reader for {filename}"
    return list(reader.read(io.BytesIO(data), filename))


def read_path(path: Path) -> list[TextUnit]:
    return read_bytes(path.read_bytes(), path.name)


def by_field(units: list[TextUnit]) -> dict[str, list[TextUnit]]:
    out: dict[str, list[TextUnit]] = {}
    for unit in units:
        out.setdefault(unit.field or "", []).append(unit)
    return out
