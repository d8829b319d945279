"""Tamper-evident audit log: RFC 6962 Merkle tree, signed checkpoints, verifiable exports.

``AuditLog.open(settings)`` then ``record(AuditEvent(...))``; ``verify_log`` proves the log
untouched or names the rows that were modified, deleted, inserted or reordered.

Names are imported on first use, so the CLI can install the audit hook without loading
SQLAlchemy and Alembic for commands that never record an event.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phiward.audit.checkpoint import Checkpoint, Signer, Verifier
    from phiward.audit.event import AuditEvent, canonical_json
    from phiward.audit.log import AuditConfig, AuditLog
    from phiward.audit.sinks import DirectorySink, S3Sink
    from phiward.audit.verify import Problem, VerifyReport, verify_log

_EXPORTS = {
    "AuditConfig": "log",
    "AuditEvent": "event",
    "AuditLog": "log",
    "Checkpoint": "checkpoint",
    "DirectorySink": "sinks",
    "Problem": "verify",
    "S3Sink": "sinks",
    "Signer": "checkpoint",
    "Verifier": "checkpoint",
    "VerifyReport": "verify",
    "canonical_json": "event",
    "verify_log": "verify",
}
__all__ = [
    "AuditConfig",
    "AuditEvent",
    "AuditLog",
    "Checkpoint",
    "DirectorySink",
    "Problem",
    "S3Sink",
    "Signer",
    "Verifier",
    "VerifyReport",
    "canonical_json",
    "verify_log",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'phiward.audit' has no attribute {name!r}")
    return getattr(importlib.import_module(f"phiward.audit.{module}"), name)
