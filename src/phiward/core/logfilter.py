"""A logging filter that refuses raw PHI.

phiward's rule is that no code path prints, logs or stores raw PHI. Code is written not to log
values at all; this filter is the second line of defence. Attached to a handler, it rewrites every
record's message through a *scrubber* that replaces identifier-shaped substrings with masks.

``core`` ships a conservative scrubber of its own (SSN, e-mail, phone, card-like digit runs, dates,
IPv4); ``phiward.detect`` installs the full detection engine as the scrubber when it is imported,
via :func:`set_scrubber`, without ``core`` having to import it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

Scrubber = Callable[[str], str]

_BASELINE = re.compile(
    r"""
    (?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})
  | (?P<ssn>(?<!\d)\d{3}-\d{2}-\d{4}(?!\d))
  | (?P<phone>(?<![\w])(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\d))
  | (?P<date>(?<!\d)\d{1,4}[/-]\d{1,2}[/-]\d{2,4}(?!\d))
  | (?P<ipv4>(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]))
  | (?P<digits>(?<![\w])\d[\d -]{6,22}\d(?![\w]))
    """,
    re.VERBOSE,
)


def baseline_scrub(text: str) -> str:
    """Replace identifier-shaped substrings with ``[REDACTED:<kind>]``."""
    return _BASELINE.sub(lambda m: f"[REDACTED:{m.lastgroup}]", text)


_scrubber: Scrubber = baseline_scrub


def set_scrubber(scrubber: Scrubber) -> None:
    """Install a better scrubber (``phiward.detect`` does, with the full engine)."""
    global _scrubber  # noqa: PLW0603 - a process-wide policy by design
    _scrubber = scrubber


def scrub(text: str) -> str:
    """Scrub ``text`` with the installed scrubber."""
    return _scrubber(text)


class PHIRedactingFilter(logging.Filter):
    """Rewrites each record's rendered message (and exception text) through the scrubber."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not leak its args either
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(text)
            record.exc_info = None  # the formatter then prints only the scrubbed exc_text
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def install_log_filter(logger: logging.Logger | None = None) -> PHIRedactingFilter:
    """Attach the filter to every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    flt = PHIRedactingFilter()
    if not target.handlers:
        target.addHandler(logging.StreamHandler())
    for handler in target.handlers:
        if not any(isinstance(f, PHIRedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
