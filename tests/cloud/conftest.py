"""Fixtures for the cloud checks: a seeded account on the moto server, scanned once per module."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from phiward.cloud import Report, ScanOptions, run_scan
from tests.cloud.seed import REGION, seed


def _reset(endpoint: str) -> None:
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()


@pytest.fixture(scope="module")
def seeded(moto_endpoint: str) -> Iterator[tuple[Report, dict[str, str]]]:
    """The seeded account (good and bad resources of every kind) and its scan report."""
    _reset(moto_endpoint)
    try:
        ids = seed()
        report = run_scan(ScanOptions(regions=(REGION,)))
        yield report, ids
    finally:
        _reset(moto_endpoint)


def scan(*checks: str, **kwargs: object) -> Report:
    """Scan only ``checks`` in the test region."""
    return run_scan(ScanOptions(regions=(REGION,), checks=checks, **kwargs))  # type: ignore[arg-type]
