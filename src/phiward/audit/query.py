"""Reading the log: queries (accounting of disclosures, by user, time, action) and exports with
proofs that a third party can verify offline.

Every read is itself recorded (``audit.read`` / ``audit.export``), naming the filter kinds used
and the number of events returned, never the ids asked for.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from phiward.audit import merkle, store
from phiward.audit.checkpoint import Verifier
from phiward.audit.event import AuditEvent
from phiward.audit.log import AuditLog
from phiward.errors import InputError, VerificationError

EXPORT_FORMAT = "phiward-audit-export/1"


@dataclass(frozen=True, slots=True)
class Query:
    """Filters; all optional, combined with AND. Times are UTC, ``until`` exclusive."""

    patient_id: str | None = None
    user_id: str | None = None
    action: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None

    def kinds(self) -> str:
        return ",".join(k for k in ("patient_id", "user_id", "action", "type", "since", "until")
                        if getattr(self, k) is not None) or "all"  # fmt: skip


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise InputError("query times must carry a timezone (e.g. 2026-01-01T00:00:00Z)")
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _select(q: Query) -> sa.Select[Any]:
    ev = store.events.c
    stmt = sa.select(ev.seq, ev.body, ev.leaf).where(ev.body.is_not(None)).order_by(ev.seq)
    if q.patient_id is not None:
        stmt = stmt.where(ev.patient_id == q.patient_id)
    if q.user_id is not None:
        stmt = stmt.where(ev.user_id == q.user_id)
    if q.action is not None:
        stmt = stmt.where(ev.action == q.action)
    if q.type is not None:
        stmt = stmt.where(ev.type == q.type)
    if q.since is not None:
        stmt = stmt.where(ev.occurred >= _iso(q.since))
    if q.until is not None:
        stmt = stmt.where(ev.occurred < _iso(q.until))
    if q.limit is not None:
        stmt = stmt.limit(q.limit)
    return stmt


def _matches(q: Query, data: dict[str, Any]) -> bool:
    """Re-check the filter on the hashed body: the indexed columns are not what is signed."""
    return all(
        getattr(q, k) is None or data.get(k) == getattr(q, k)
        for k in ("patient_id", "user_id", "action", "type")
    )


def query(log: AuditLog, q: Query, *, reader: str | None = None) -> list[dict[str, Any]]:
    """Events matching ``q`` (their JSON form with ``seq``), oldest first; records the read."""
    out: list[dict[str, Any]] = []
    with log.engine.connect() as conn:
        for _seq, body, leaf in conn.execute(_select(q)):
            if merkle.leaf_hash(body.encode()) != bytes(leaf):
                raise VerificationError(
                    f"audit row {_seq} does not match its hash; run `phiward audit verify`"
                )
            data = json.loads(body)
            if _matches(q, data):
                out.append(data)
    log.record(
        AuditEvent(
            type="audit.read", action="R", user_id=reader, application="phiward",
            details={"filters": q.kinds(), "returned": len(out)},
        )
    )  # fmt: skip
    return out


def export(log: AuditLog, q: Query, out: IO[str], *, reader: str | None = None) -> int:
    """Write NDJSON: a header with a signed checkpoint and the verifier key, then one line per
    matching event with its leaf hash and inclusion proof against that checkpoint."""
    cp = log.checkpoint()
    with log.engine.connect() as conn:
        leaves = [
            bytes(r[0])
            for r in conn.execute(
                sa.select(store.events.c.leaf).where(store.events.c.seq < cp.size)
                .order_by(store.events.c.seq)
            )
        ]  # fmt: skip
        note = conn.execute(
            sa.select(store.heads.c.note).where(store.heads.c.size == cp.size)
        ).scalar_one()
        rows = conn.execute(_select(q).where(store.events.c.seq < cp.size)).all()
    tree = merkle.Tree(leaves)
    if tree.size != cp.size or tree.root() != cp.root:
        raise VerificationError("the log does not match its own newest head; run verify")
    header = {"format": EXPORT_FORMAT, "checkpoint": note, "verifier": log.verifier.to_text()}
    out.write(json.dumps(header, sort_keys=True) + "\n")
    count = 0
    for seq, body, _leaf in rows:
        data = json.loads(body)
        if not _matches(q, data):
            continue
        proof = tree.inclusion_proof(int(seq))
        line = {
            "seq": int(seq),
            "event": body,
            "proof": [base64.b64encode(p).decode() for p in proof],
        }
        out.write(json.dumps(line, sort_keys=True) + "\n")
        count += 1
    log.record(
        AuditEvent(
            type="audit.export", action="R", user_id=reader, application="phiward",
            details={"filters": q.kinds(), "returned": count, "tree_size": cp.size},
        )
    )  # fmt: skip
    return count


@dataclass(frozen=True, slots=True)
class ExportCheck:
    events: int
    tree_size: int
    origin: str


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise VerificationError(f"line {number} is not JSON") from exc
            if not isinstance(value, dict):
                raise VerificationError(f"line {number} is not a JSON object")
            yield number, value


def verify_export(path: Path, verifier: Verifier | None = None) -> ExportCheck:
    """Check an export offline: the checkpoint signature (by ``verifier``, or the embedded key
    when none is pinned) and every event's inclusion proof. Raises VerificationError."""
    lines = _lines(path)
    try:
        _, header = next(lines)
    except StopIteration as exc:
        raise VerificationError("export is empty") from exc
    if header.get("format") != EXPORT_FORMAT:
        raise VerificationError(f"not a {EXPORT_FORMAT} file")
    embedded = Verifier.from_text(str(header.get("verifier", "")))
    if verifier is not None and verifier.to_text() != embedded.to_text():
        raise VerificationError("export is signed by a different key than the one pinned")
    cp = (verifier or embedded).open(str(header.get("checkpoint", "")))
    count = 0
    for number, line in lines:
        try:
            seq = int(line["seq"])
            body = str(line["event"])
            proof = [base64.b64decode(p, validate=True) for p in line["proof"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise VerificationError(f"line {number} is malformed: {exc}") from exc
        if json.loads(body).get("seq") != seq:
            raise VerificationError(f"line {number}: event body does not carry seq {seq}")
        try:
            merkle.verify_inclusion(merkle.leaf_hash(body.encode()), seq, cp.size, proof, cp.root)
        except VerificationError as exc:
            raise VerificationError(f"line {number} (seq {seq}): {exc}") from exc
        count += 1
    return ExportCheck(count, cp.size, cp.origin)
