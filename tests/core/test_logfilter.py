from __future__ import annotations

import io
import logging

from phiward.core.logfilter import PHIRedactingFilter, baseline_scrub


def _logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PHIRedactingFilter())
    logger = logging.getLogger(f"test-{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_filter_scrubs_message_args_and_exceptions() -> None:
    logger, stream = _logger()
    logger.info("patient ssn %s email %s", "123-45-6789", "jane.doe@example.com")
    try:
        raise ValueError("bad phone (617) 555-0199")
    except ValueError:
        logger.exception("failed for 10.1.2.3")
    out = stream.getvalue()
    for raw in ("123-45-6789", "jane.doe@example.com", "555-0199", "10.1.2.3"):
        assert raw not in out
    assert "[REDACTED:ssn]" in out and "[REDACTED:email]" in out
    assert "ValueError" in out  # the exception type is still useful and not PHI


def test_baseline_leaves_ordinary_text() -> None:
    text = "scanned 12 files in 3.5 s"
    assert baseline_scrub(text) == text
