from __future__ import annotations

import io
import logging

import phiward.detect  # noqa: F401 - importing installs the engine as the log scrubber
from phiward.core.logfilter import PHIRedactingFilter, scrub
from phiward.detect import analyze


def test_engine_is_the_log_scrubber() -> None:
    out = scrub("Patient John Smith MRN: 00123456 email jane@example.com")
    assert "John Smith" not in out and "00123456" not in out and "jane@example.com" not in out
    assert "[REDACTED:name]" in out and "[REDACTED:mrn]" in out


def test_logging_through_the_filter() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PHIRedactingFilter())
    logger = logging.getLogger("test-scrubber")
    logger.propagate = False
    logger.addHandler(handler)
    logger.warning("lookup failed for DOB %s of %s", "03/04/1961", "Dr. Okonkwo")
    text = stream.getvalue()
    assert "03/04/1961" not in text and "Okonkwo" not in text


def test_analyze_default_threshold_from_settings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = "ref 219456789"  # a bare nine-digit run: SSN-valid but 0.3 without context
    assert analyze(text, min_confidence=0.0)
    assert analyze(text, min_confidence=None) == []
