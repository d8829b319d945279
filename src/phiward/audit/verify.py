"""Verify a log end to end and say exactly what is wrong.

What is checked, in one pass over the rows in sequence order:

- every row's body hashes to its stored leaf, and its MAC binds (sequence number, leaf) under the
  log's key: a row edited in place is **modified** at that sequence number;
- the body's own ``seq`` matches the row: a row moved elsewhere is **reordered** (it names where it
  came from when its MAC still holds for that position);
- sequence numbers are contiguous: a gap is **deleted** rows; a row whose MAC fits no position is
  **inserted**;
- bodies are only missing where a recorded ``audit.retention`` event purged them;
- every signed tree head stored in the database has a valid signature and its root equals the
  root recomputed from the rows (so consecutive heads are consistent: each is a prefix of the
  next); every exported checkpoint (directory, S3) verifies the same way, and a checkpoint larger
  than the database means the log was **truncated**.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from phiward.audit import merkle, store
from phiward.audit.checkpoint import Verifier
from phiward.audit.log import AuditLog, row_mac
from phiward.errors import PhiwardError, VerificationError

_SEQ = re.compile(rb'"seq":(\d+)')
_PURGE = re.compile(rb'"purged_through_seq":(\d+)')


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # modified | deleted | inserted | reordered | truncated | head | checkpoint | purged
    first: int | None
    last: int | None
    detail: str

    def describe(self) -> str:
        if self.first is None:
            where = ""
        elif self.first == self.last:
            where = f" seq {self.first}"
        else:
            where = f" seq {self.first}-{self.last}"
        return f"{self.kind}{where}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "first": self.first, "last": self.last, "detail": self.detail}


@dataclass
class VerifyReport:
    size: int = 0
    heads_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "heads_checked": self.heads_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "problems": [p.to_dict() for p in self.problems],
        }


def verify_log(log: AuditLog, *, verifier: Verifier | None = None) -> VerifyReport:
    """Check ``log`` completely. Never raises for tampering: it is all in the report."""
    verifier = verifier or log.verifier
    key = log._mac_key
    report = VerifyReport()
    problems = report.problems
    with log.engine.connect() as conn:
        head_rows = conn.execute(
            sa.select(store.heads.c.size, store.heads.c.root, store.heads.c.note).order_by(
                store.heads.c.size
            )
        ).all()
        heads = {int(r.size): (bytes(r.root), r.note) for r in head_rows}
        rows = _raw_rows(conn)
        # Rows covered by a signed head are authenticated by its signature once the head
        # verifies; their MACs are only needed to name rows when a head fails (second pass).
        trusted_below = max(heads, default=0)
        leaves: list[bytes] = []
        unsigned: list[tuple[int, bytes, bytes, bool]] = []
        expected = 0
        purged_through = -1
        purged_rows: list[int] = []
        sha, node = hashlib.sha256, b"\x00"
        search = _SEQ.search
        for row_seq, body, row_leaf, mac, purged in rows:
            seq = int(row_seq)
            leaf = bytes(row_leaf)
            leaves.append(leaf)
            if seq != expected:
                if seq > expected:
                    problems.append(
                        Problem("deleted", expected, seq - 1, f"{seq - expected} row(s) missing")
                    )
                expected = seq
            expected += 1
            hashed = False
            if body is None:
                if not purged:
                    problems.append(Problem("modified", seq, seq, "body removed"))
                else:
                    purged_rows.append(seq)
            else:
                raw = body.encode()
                if sha(node + raw).digest() != leaf:
                    problems.append(Problem("modified", seq, seq, "body does not match its hash"))
                else:
                    hashed = True
                    m = search(raw)
                    own = int(m.group(1)) if m else -1
                    if own != seq:
                        where = (
                            "its MAC holds there"
                            if hmac.compare_digest(row_mac(key, own, leaf), bytes(mac))
                            else "its MAC fits nowhere"
                        )
                        problems.append(
                            Problem("reordered", seq, seq, f"row holds event seq {own} ({where})")
                        )
                        continue
                    if raw.startswith(b'{"action":"D"') and b'"type":"audit.retention"' in raw:
                        pm = _PURGE.search(raw)
                        if pm:
                            purged_through = max(purged_through, int(pm.group(1)))
            if seq >= trusted_below:
                unsigned.append((seq, leaf, bytes(mac), hashed))
        report.size = expected
        for seq in purged_rows:
            if seq > purged_through:
                problems.append(
                    Problem("purged", seq, seq, "body missing with no retention event covering it")
                )
    tree = merkle.Tree(leaves)
    broken: list[int] = []
    for size, (root, note) in heads.items():
        try:
            cp = verifier.open(note)
        except VerificationError as exc:
            problems.append(Problem("head", None, None, f"tree head at size {size}: {exc}"))
            continue
        if cp.size != size or cp.root != root:
            problems.append(Problem("head", None, None, f"tree head at size {size} was altered"))
        elif size > report.size:
            problems.append(
                Problem("truncated", report.size, size - 1,
                        f"a signed head covers {size} events, the log has {report.size}")
            )  # fmt: skip
        elif _root_at(tree, size) != root:
            broken.append(size)
        report.heads_checked += 1
    if broken:
        later = f"; {len(broken) - 1} later head(s) fail too" if len(broken) > 1 else ""
        problems.append(
            Problem("head", 0, broken[0] - 1,
                    f"rows no longer hash to the root signed at size {broken[0]}{later}")
        )  # fmt: skip
    for sink in log.sinks:
        _check_sink(sink, verifier, report, tree)
    if any(p.kind in {"head", "checkpoint"} for p in problems):
        unsigned = list(_all_macs(log))
    for seq, leaf, mac, hashed in unsigned:
        if not hmac.compare_digest(row_mac(key, seq, leaf), mac):
            kind = "inserted" if hashed else "modified"
            problems.append(Problem(kind, seq, seq, "row MAC does not verify"))
    problems.sort(key=lambda p: (p.first is None, p.first or 0))
    return report


def _raw_rows(conn: sa.Connection) -> Iterator[tuple[Any, ...]]:
    """Every row in sequence order, through the driver's own cursor: SQLAlchemy's row objects
    cost more than hashing a row, and verify reads them all."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute("SELECT seq, body, leaf, mac, purged FROM audit_events ORDER BY seq")
        while batch := cursor.fetchmany(20_000):
            yield from batch
    finally:
        cursor.close()


def _root_at(tree: merkle.Tree, size: int) -> bytes | None:
    """The root over the first ``size`` rows present, or None when fewer rows remain."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return tree.range_root(0, size) if size <= tree.size else None


def _all_macs(log: AuditLog) -> Iterator[tuple[int, bytes, bytes, bool]]:
    """Every row's MAC inputs, for naming rows once a signed head has failed."""
    with log.engine.connect() as conn:
        rows = conn.execution_options(yield_per=20_000).execute(
            sa.select(store.events.c.seq, store.events.c.body, store.events.c.leaf,
                      store.events.c.mac).order_by(store.events.c.seq)
        )  # fmt: skip
        for seq, body, leaf, mac in rows:
            hashed = body is not None and merkle.leaf_hash(body.encode()) == bytes(leaf)
            yield int(seq), bytes(leaf), bytes(mac), hashed


def _check_sink(sink: Any, verifier: Verifier, report: VerifyReport, tree: merkle.Tree) -> None:
    try:
        note = sink.latest()
    except PhiwardError as exc:
        report.problems.append(Problem("checkpoint", None, None, str(exc)))
        return
    if note is None:
        return
    try:
        cp = verifier.open(note)
    except VerificationError as exc:
        report.problems.append(Problem("checkpoint", None, None, f"{sink.describe()}: {exc}"))
        return
    report.checkpoints_checked += 1
    if cp.size > report.size:
        report.problems.append(
            Problem("truncated", report.size, cp.size - 1,
                    f"{sink.describe()} holds a checkpoint of {cp.size} events; "
                    f"the log has {report.size}")
        )  # fmt: skip
        return
    if _root_at(tree, cp.size) != cp.root:
        report.problems.append(
            Problem("checkpoint", None, None,
                    f"rows 0-{cp.size - 1} do not match the checkpoint in {sink.describe()}")
        )  # fmt: skip


def report_json(report: VerifyReport) -> str:
    return json.dumps(report.to_dict(), indent=2)
