"""Batch re-wrapping of the key table under the current master key version. Private module.

Each batch is re-wrapped and committed in one transaction; the next batch is selected afresh as
"live keys not yet under the target version", so a run that crashes (or is interrupted) resumes by
simply running again, and no data (field tokens) is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from phiward.core.events import SecurityEvent, emit
from phiward.crypto._fields import _wrap_context
from phiward.crypto._keytable import KeyTable
from phiward.crypto._providers import KeyProvider
from phiward.errors import DecryptionError, KeyNotFoundError


@dataclass
class RewrapReport:
    """Outcome of :func:`rewrap_keys` (counts and ids only)."""

    master_key_id: str
    target_key_id: str
    target_version: str
    rewrapped: int = 0
    batches: int = 0
    remaining: int = 0
    failed: list[str] = field(default_factory=list)
    stale: list[tuple[str, str, str, int]] = field(default_factory=list)


Progress = Callable[[int, int], None]


def stale_keys(table: KeyTable, provider: KeyProvider) -> list[tuple[str, str, str, int]]:
    """``(provider, master key, version, count)`` of live data keys *not* under the current
    version of their master key: what a rotation has yet to re-wrap."""
    out = []
    current: dict[str, str] = {}
    for prov, key_id, version, n in table.count_by_master():
        if prov != provider.name:
            continue
        if key_id not in current:
            current[key_id] = provider.current_version(key_id)
        if version != current[key_id]:
            out.append((prov, key_id, version, n))
    return out


def rewrap_keys(
    table: KeyTable,
    provider: KeyProvider,
    master_key_id: str,
    *,
    new_master_key_id: str | None = None,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> RewrapReport:
    """Re-wrap every live data key of ``master_key_id`` under the current version of
    ``new_master_key_id`` (default: the same key, after a rotation). ``progress(done, batch)`` is
    called after each committed batch."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    source = provider.canonical_id(master_key_id)
    target = provider.canonical_id(new_master_key_id) if new_master_key_id else source
    version = provider.current_version(target)
    report = RewrapReport(source, target, version)
    emit(
        SecurityEvent(
            "key.rewrap",
            "U",
            resource_type="master-key",
            resource_id=source,
            details={"target": target, "version": version, "phase": "start"},
        )
    )
    for batch in table.iter_stale(
        source, version, batch_size, None if target == source else target
    ):
        updates = []
        for row in batch:
            assert row.wrapped is not None
            ctx = _wrap_context(row.tenant, row.id, row.subject)
            try:
                new = provider.rewrap(
                    row.wrapped, row.master_key_id, ctx, None if target == source else target
                )
            except (DecryptionError, KeyNotFoundError):
                # A damaged or foreign row must not block every other key: report and go on.
                report.failed.append(row.id)
                continue
            updates.append((row, new.wrapped, new.key_id, new.key_version))
        done = table.update_wrapped(updates) if updates else 0
        report.rewrapped += done
        report.batches += 1
        if progress is not None:
            progress(report.rewrapped, done)
    report.stale = stale_keys(table, provider)
    report.remaining = sum(n for _, k, _, n in report.stale if k == source)
    emit(
        SecurityEvent(
            "key.rewrap",
            "U",
            resource_type="master-key",
            resource_id=source,
            details={
                "target": target,
                "version": version,
                "phase": "done",
                "rewrapped": report.rewrapped,
                "remaining": report.remaining,
                "failed": len(report.failed),
            },
        )
    )
    return report
