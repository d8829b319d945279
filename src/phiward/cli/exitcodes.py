"""Exit codes of the ``phiward`` CLI, kept apart so "found something" never looks like "crashed".

| code | meaning |
|------|---------|
| 0    | success, nothing at or above the failure threshold |
| 1    | PHI found at or above ``--fail-on`` (scan) |
| 2    | usage error (bad option or argument; Click's convention) |
| 3    | a cloud check failed (``phiward check aws``; Prowler's convention) |
| 4    | phiward refused: bad input, bad settings, key or crypto error |
| 5    | verification failed: tampered data, bad proof or signature |
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    CHECK_FAILED = 3
    ERROR = 4
    VERIFICATION_FAILED = 5
