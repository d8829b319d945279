"""Verify a log end to end and say exactly what is wrong.

What is checked, in one pass over the rows in sequence order:

- every row's body hashes to its stored leaf, and its MAC binds (sequence number, leaf) under the
  log's key: a row edited in place is **modified** at that sequence number;
- the body's own ``seq`` matches the row: a row moved elsewhere is **reordered** (it names where it
  came from when its MAC still holds for that position);
- sequence numbers are contiguous: a gap is **deleted** rows; a row whose MAC fits no position is
  **inserted**;
- bodies are only missing where a recorded ``audit.retention`` event purged them;
- the indexed copies of body fields (``store.INDEXED``: who, which patient, when, what) equal the
  body's own values: an edited copy would hide the event from a query (an accounting of
  disclosures) while its body still verifies, so the row is **modified**;
- every signed tree head stored in the database has a valid signature and its root equals the
  root recomputed from the rows (so consecutive heads are consistent: each is a prefix of the
  next); every exported checkpoint (directory, S3) verifies the same way, and a checkpoint larger
  than the database means the log was **truncated**.

With ``structure=True`` it also checks what indexed queries read through (index contents; on
SQLite the generated columns): :mod:`phiward.audit.structure`, reported as **structure**.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol, cast

import sqlalchemy as sa

from phiward.audit import merkle, store
from phiward.audit.checkpoint import Checkpoint, Verifier
from phiward.audit.event import parse_body
from phiward.audit.log import AuditLog, row_mac
from phiward.errors import PhiwardError, VerificationError

_SEQ = re.compile(rb'"seq":(\d+)')
_PURGE = re.compile(rb'"purged_through_seq":(\d+)')


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # modified | deleted | inserted | reordered | truncated | head | checkpoint | purged
    #            | structure
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
    structure_checked: bool = False
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
            "structure_checked": self.structure_checked,
            "problems": [p.to_dict() for p in self.problems],
        }


def verify_log(
    log: AuditLog,
    *,
    verifier: Verifier | None = None,
    workers: int | None = None,
    structure: bool = False,
) -> VerifyReport:
    """Check ``log`` completely. Never raises for tampering: it is all in the report.

    Logs of more than ``PARALLEL_MIN_ROWS`` events are read in sequence ranges by ``workers``
    processes (default: the CPU count, at most 4); the tree and the heads are checked here.
    ``structure=True`` adds the check of indexes and generated columns
    (:func:`phiward.audit.structure.check_structure`; raises AuditError where it cannot run).
    """
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
        # Rows covered by a signed head are authenticated by its signature once the head
        # verifies; their MACs are only needed to name rows when a head fails (second pass).
        trusted_below = max(heads, default=0)
        bounds = conn.execute(
            sa.select(sa.func.min(store.events.c.seq), sa.func.max(store.events.c.seq))
        ).one()
    last = -1 if bounds[1] is None else int(bounds[1])
    sink_notes = [(sink, *_read_sink(sink, verifier)) for sink in log.sinks]
    wanted = sorted(set(heads) | {cp.size for _, _, cp in sink_notes if cp is not None})
    ranges = _split_ranges(last + 1, workers)
    url = log.engine.url.render_as_string(hide_password=False)
    if len(ranges) > 1:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(ranges), mp_context=ctx) as pool:
            futures = [
                pool.submit(_scan_range, url, key, trusted_below, lo, hi, wanted)
                for lo, hi in ranges
            ]
            parts = [f.result() for f in futures]
    else:
        with log.engine.connect() as conn:
            rows = _raw_rows(conn, trusted_below)
            parts = [
                _scan(rows, key, trusted_below, 0, last + 1,
                      mac_of=_mac_lookup(conn), indexed_of=_indexed_lookup(conn))
            ]  # fmt: skip
    roots: _Roots = (
        _ChunkRoots(ranges[0][1] - ranges[0][0], parts) if len(parts) > 1 else _TreeRoots(parts[0])
    )
    unsigned: list[tuple[int, bytes, bytes, bool]] = []
    purged_rows: list[int] = []
    purged_through = -1
    for part in parts:
        _merge_problems(problems, part.problems)
        unsigned.extend(part.unsigned)
        purged_rows.extend(part.purged_rows)
        purged_through = max(purged_through, part.purged_through)
    report.size = last + 1
    for seq in purged_rows:
        if seq > purged_through:
            problems.append(
                Problem("purged", seq, seq, "body missing with no retention event covering it")
            )
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
        elif roots.root_at(size) != root:
            broken.append(size)
        report.heads_checked += 1
    if broken:
        later = f"; {len(broken) - 1} later head(s) fail too" if len(broken) > 1 else ""
        problems.append(
            Problem("head", 0, broken[0] - 1,
                    f"rows no longer hash to the root signed at size {broken[0]}{later}")
        )  # fmt: skip
    for sink, error, exported in sink_notes:
        _check_sink(sink, error, exported, report, roots)
    if any(p.kind in {"head", "checkpoint"} for p in problems):
        unsigned = list(_all_macs(log))
    for seq, leaf, mac, hashed in unsigned:
        if not hmac.compare_digest(row_mac(key, seq, leaf), mac):
            kind = "inserted" if hashed else "modified"
            problems.append(Problem(kind, seq, seq, "row MAC does not verify"))
    if structure:
        from phiward.audit.structure import check_structure  # noqa: PLC0415 - seldom used

        problems.extend(Problem("structure", seq, seq, detail) for seq, detail in
                        check_structure(log.engine))  # fmt: skip
        report.structure_checked = True
    problems.sort(key=lambda p: (p.first is None, p.first or 0))
    return report


PARALLEL_MIN_ROWS = 200_000


@dataclass
class _Partial:
    """What one pass over a sequence range found."""

    leaves: list[bytes] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unsigned: list[tuple[int, bytes, bytes, bool]] = field(default_factory=list)
    purged_rows: list[int] = field(default_factory=list)
    purged_through: int = -1
    chunk_root: bytes | None = None
    prefixes: dict[int, list[bytes]] = field(default_factory=dict)


def _split_ranges(rows: int, workers: int | None) -> list[tuple[int, int]]:
    count = min(os.cpu_count() or 1, 4) if workers is None else max(1, workers)
    if rows < PARALLEL_MIN_ROWS or count == 1:
        return [(0, rows)]
    # Chunks are a power of two long, so each is a perfect subtree of the RFC 6962 tree and the
    # parent can assemble any prefix root from chunk roots and one chunk's compact range.
    step = 1 << (-(-rows // count) - 1).bit_length()
    return [(lo, min(lo + step, rows)) for lo in range(0, rows, step)]


def _merge_problems(into: list[Problem], more: list[Problem]) -> None:
    """Append ``more``, joining a deletion that spans the boundary between two ranges."""
    for problem in more:
        prev = into[-1] if into else None
        if (
            prev is not None and prev.kind == problem.kind == "deleted"
            and prev.last is not None and problem.first == prev.last + 1
        ):  # fmt: skip
            first, last = prev.first or 0, problem.last or 0
            into[-1] = Problem("deleted", first, last, f"{last - first + 1} row(s) missing")
        else:
            into.append(problem)


def _scan_range(  # noqa: PLR0917 - submitted positionally to the process pool
    url: str, key: bytes, trusted_below: int, lo: int, hi: int, wanted: list[int]
) -> _Partial:
    """One worker process: its own connection, rows ``lo <= seq < hi``, and the hashes the
    parent needs from this chunk: its root and the compact range of each wanted prefix ending
    inside it."""
    engine = store.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = _raw_rows(conn, trusted_below, lo, hi)
            part = _scan(rows, key, trusted_below, lo, hi,
                         mac_of=_mac_lookup(conn), indexed_of=_indexed_lookup(conn))  # fmt: skip
    finally:
        engine.dispose()
    tree = merkle.Tree(part.leaves)
    part.leaves = []  # not sent back to the parent
    part.chunk_root = tree.root() if tree.size else None
    for size in wanted:
        if lo < size <= lo + tree.size:
            part.prefixes[size] = _compact(tree, size - lo)
    return part


def _compact(tree: merkle.Tree, n: int) -> list[bytes]:
    """The perfect subtrees covering the first ``n`` leaves of ``tree``, largest first."""
    nodes, offset = [], 0
    for bit in range(n.bit_length() - 1, -1, -1):
        if n >> bit & 1:
            nodes.append(tree.levels[bit][offset >> bit])
            offset += 1 << bit
    return nodes


class _Roots(Protocol):
    def root_at(self, size: int) -> bytes | None: ...


class _TreeRoots:
    """Prefix roots from one in-memory tree (the serial path)."""

    def __init__(self, part: _Partial) -> None:
        self.tree = merkle.Tree(part.leaves)

    def root_at(self, size: int) -> bytes | None:
        if size == 0:
            return merkle.EMPTY_ROOT
        return self.tree.range_root(0, size) if size <= self.tree.size else None


class _ChunkRoots:
    """Prefix roots assembled from the workers' chunk roots and compact ranges."""

    def __init__(self, chunk: int, parts: list[_Partial]) -> None:
        self.chunk = chunk
        self.roots = [p.chunk_root for p in parts]
        self.prefixes: dict[int, list[bytes]] = {}
        for part in parts:
            self.prefixes.update(part.prefixes)

    def root_at(self, size: int) -> bytes | None:
        if size == 0:
            return merkle.EMPTY_ROOT
        tail = self.prefixes.get(size)
        k = (size - 1) // self.chunk
        full = self.roots[:k]
        if tail is None or len(full) < k or any(r is None for r in full):
            return None
        nodes, start = [], 0
        for bit in range(k.bit_length() - 1, -1, -1):
            if k >> bit & 1:
                nodes.append(merkle.root_hash([r for r in full[start : start + (1 << bit)] if r]))
                start += 1 << bit
        nodes.extend(tail)
        acc = nodes[-1]
        for node in reversed(nodes[:-1]):
            acc = merkle.node_hash(node, acc)
        return acc


def _scan(
    batches: Iterator[list[tuple[Any, ...]]],
    key: bytes,
    trusted_below: int,
    lo: int,
    hi: int,
    *,
    mac_of: Callable[[int], bytes | None],
    indexed_of: Callable[[int], tuple[Any, ...] | None],
) -> _Partial:
    """Check each row's hash, sequence and position; collect leaves and unsigned MAC work.

    The hot loop of ``verify``: bodies arrive as UTF-8 bytes (no decode and re-encode), and the
    body's own ``seq`` is checked in place: in canonical JSON the top-level ``"seq":`` key is the
    last occurrence of that byte string (keys are sorted, nothing after it nests, and a quote
    inside a string is escaped), so ``rfind`` finds it even when ``details`` has a ``seq`` too.
    MACs arrive only for rows at or above ``trusted_below``; ``mac_of`` fetches one otherwise.
    Each row's last field is 0 when its indexed copies are known to equal its body's fields;
    otherwise the row loop fetches them with ``indexed_of`` and names those that differ.
    Rows go through in chunks of ``_CHUNK``: a clean chunk, the usual case, is accepted by
    :func:`_clean_batch` in a few C-level passes; any other goes through :func:`_scan_rows`.
    """
    part = _Partial()
    expected = lo
    for rows in batches:
        for at in range(0, len(rows), _CHUNK):
            batch = rows[at : at + _CHUNK]
            if _clean_batch(batch, expected, trusted_below, part):
                expected += len(batch)
            else:
                expected = _scan_rows(batch, expected, key, trusted_below, part, mac_of, indexed_of)
    if expected < hi:
        part.problems.append(
            Problem("deleted", expected, hi - 1, f"{hi - expected} row(s) missing")
        )
    return part


def _scan_rows(  # noqa: PLR0917 - internal, once per chunk
    batch: list[tuple[Any, ...]],
    expected: int,
    key: bytes,
    trusted_below: int,
    part: _Partial,
    mac_of: Callable[[int], bytes | None],
    indexed_of: Callable[[int], tuple[Any, ...] | None],
) -> int:
    """:func:`_scan` row by row, naming each problem; returns the next expected ``seq``."""
    problems = part.problems
    add_leaf = part.leaves.append
    unsigned = part.unsigned
    sha, node = hashlib.sha256, b"\x00"
    for seq, raw, leaf, mac, purged, indexed in batch:
        add_leaf(leaf)
        if seq != expected:
            if seq > expected:
                problems.append(
                    Problem("deleted", expected, seq - 1, f"{seq - expected} row(s) missing")
                )
            expected = seq
        expected += 1
        hashed = False
        if raw is None:
            if not purged:
                problems.append(Problem("modified", seq, seq, "body removed"))
            else:
                part.purged_rows.append(seq)
        elif sha(node + raw).digest() != leaf:
            problems.append(Problem("modified", seq, seq, "body does not match its hash"))
        else:
            hashed = True
            at = raw.rfind(b'"seq":') + 6
            digits = b"%d" % seq
            end = at + len(digits)
            if at < 6 or not raw.startswith(digits, at) or raw[end : end + 1] not in b",}":
                own = _own_seq(raw)
                stored = mac if mac is not None else mac_of(seq)
                where = (
                    "its MAC holds there"
                    if own >= 0
                    and stored is not None
                    and hmac.compare_digest(row_mac(key, own, leaf), stored)
                    else "its MAC fits nowhere"
                )
                problems.append(
                    Problem("reordered", seq, seq, f"row holds event seq {own} ({where})")
                )
                continue
            if raw.startswith(b'{"action":"D"') and b'"type":"audit.retention"' in raw:
                pm = _PURGE.search(raw)
                if pm:
                    part.purged_through = max(part.purged_through, int(pm.group(1)))
            if indexed:
                differ = _indexed_differ(raw, indexed_of(seq))
                if differ:
                    problems.append(Problem("modified", seq, seq, _copies_differ(differ)))
        if seq >= trusted_below:
            unsigned.append((seq, leaf, mac, hashed))
    return expected


_FAST_PATH = True  # tests turn it off to compare both paths
_CHUNK = 256  # rows per fast-path check: several passes over a chunk stay in the CPU cache


def _clean_batch(
    batch: list[tuple[Any, ...]], expected: int, trusted_below: int, part: _Partial
) -> bool:
    """The usual case, checked a batch at a time in C loops (``map``, list comparison): every
    row present at its place, every body hashing to its leaf, each body's top-level ``seq``
    equal to its row's and followed by ``,``, every row's indexed copies known to match, no
    retention event. Records the batch and returns
    True; returns False, recording nothing, for anything else, and :func:`_scan` then checks
    the batch row by row and names what is wrong. What it records for a batch it takes is what
    the row loop would (tested with hypothesis on tampered rows)."""
    if not _FAST_PATH or not batch:
        return False
    seqs, raws, stored, macs, _purged, indexed = zip(*batch, strict=True)
    if any(indexed) or None in raws or seqs != tuple(range(expected, expected + len(seqs))):
        return False
    sha, node = hashlib.sha256, b"\x00"
    if [sha(node + raw).digest() for raw in raws] != list(stored):
        return False
    marks = map(b'"seq":%d,'.__mod__, seqs)
    if not all(map(bytes.startswith, raws, marks, map(bytes.rfind, raws, repeat(b'"seq":')))):
        return False
    if any(map(bytes.startswith, raws, repeat(b'{"action":"D"'))):
        return False  # perhaps a retention event: the row loop reads it
    part.leaves.extend(stored)
    if seqs[-1] >= trusted_below:
        first = max(0, trusted_below - expected)
        part.unsigned.extend(
            zip(seqs[first:], stored[first:], macs[first:], repeat(True), strict=False)
        )
    return True


def _own_seq(raw: bytes) -> int:
    """The top-level ``seq`` of a canonical body (the last ``"seq":``), or -1."""
    m = _SEQ.match(raw, raw.rfind(b'"seq":'))
    return int(m.group(1)) if m else -1


# Where SQLite stores the copies (before 3.35, see migration 0002) it compares them with the body
# in C as it reads the row (``store.SQLITE_COPIES_DIFFER``, ~1.2 us a row; in Python, fetching five
# more columns, twice that), ``json_valid`` first: a forged non-JSON body must be reported, not
# abort the query.
# PostgreSQL parses each body once (``json_to_record``; ``jsonb`` was slower) and compares in the
# server, whose CPU is usually not the verifier's. A body that is not JSON aborts that query; only
# a forged row can hold one, and the range is then read again with the comparison made here.
# Either way the check cost ~40 % of verify's speed on a 2-vCPU machine shared with the server.
_PG_INDEXED = (
    "CASE WHEN e.body IS NULL THEN 0 WHEN "
    + " AND ".join(f"r.{name} IS NOT DISTINCT FROM e.{name}" for name in store.INDEXED)
    + " THEN 0 ELSE 1 END"
)
_PG_RECORD = (
    "CROSS JOIN LATERAL json_to_record(e.body::json) AS r("
    + ", ".join(f"{name} text" for name in store.INDEXED)
    + ")"
)


def _raw_rows(
    conn: sa.Connection, trusted_below: int, lo: int = 0, hi: int | None = None
) -> Iterator[list[tuple[Any, ...]]]:
    """Every row in sequence order, in batches, through the driver's own cursor (SQLAlchemy's row
    objects cost more than hashing a row): ``(seq, body as UTF-8 bytes, leaf, mac, purged,
    indexed)``, the MAC only from ``trusted_below`` on (below, a verified head vouches for the
    rows), ``indexed`` 0 when the row's indexed copies equal its body's fields, else 1.

    Where SQLite generates the copies from the body (migration 0002) there is nothing to check;
    where it stores them it compares them as it reads (:data:`store.SQLITE_COPIES_DIFFER`), and
    so does PostgreSQL (:data:`_PG_INDEXED`)."""
    sqlite = conn.dialect.name == "sqlite"
    body = "CAST(e.body AS BLOB)" if sqlite else "convert_to(e.body, 'UTF8')"
    mac = f"CASE WHEN e.seq >= {int(trusted_below)} THEN e.mac END"
    where = f"e.seq >= {int(lo)}" + (f" AND e.seq < {int(hi)}" if hi is not None else "")
    if sqlite:
        extra, join = ("0" if not store.stored_copies(conn) else store.SQLITE_COPIES_DIFFER), ""
    else:
        extra, join = _PG_INDEXED, _PG_RECORD
    select = (
        "SELECT e.seq, {body}, e.leaf, {mac}, e.purged, {extra} "
        "FROM audit_events AS e {join} WHERE {where} ORDER BY e.seq"
    )
    dbapi = conn.connection.dbapi_connection
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    python_check = False
    try:
        try:
            cursor.execute(select.format(body=body, mac=mac, extra=extra, join=join, where=where))
        except conn.dialect.loaded_dbapi.DataError:  # a body PostgreSQL cannot parse as JSON
            if sqlite:
                raise
            dbapi.rollback()  # type: ignore[union-attr]
            python_check = True
            copies = ", ".join(f"e.{name}" for name in store.INDEXED)
            cursor.execute(select.format(body=body, mac=mac, extra=copies, join="", where=where))
        while batch := cursor.fetchmany(20_000):
            if python_check:
                batch = [
                    (*row[:5], 1 if row[1] is not None and _indexed_differ(row[1], row[5:]) else 0)
                    for row in batch
                ]
            yield cast("list[tuple[Any, ...]]", batch)
    finally:
        cursor.close()


def _copies_differ(names: list[str]) -> str:
    if len(names) == 1:
        return f"the indexed copy of {names[0]} differs from the signed body"
    return f"the indexed copies of {', '.join(names)} differ from the signed body"


def _indexed_differ(raw: bytes, copies: tuple[Any, ...] | None) -> list[str]:
    """The names in ``store.INDEXED`` whose stored copy is not the body's own top-level value
    (all of them when the body is not a JSON object or the row has gone)."""
    data = parse_body(raw)
    if data is None or copies is None:
        return list(store.INDEXED)
    return [
        name
        for name, copy in zip(store.INDEXED, copies, strict=True)
        if type(copy) is not type(data.get(name)) or copy != data.get(name)
    ]


def _row_lookup(conn: sa.Connection, columns: str) -> Callable[[int], tuple[Any, ...] | None]:
    """One row's ``columns`` by ``seq``, through the driver (:func:`store.driver_rows`): a
    SQLAlchemy statement would hold the SQLite log's write lock for the rest of the pass."""
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"SELECT {columns} FROM audit_events WHERE seq = {marker}"  # noqa: S608 - fixed names

    def lookup(seq: int) -> tuple[Any, ...] | None:
        rows = store.driver_rows(conn, sql, (seq,))
        return tuple(rows[0]) if rows else None

    return lookup


def _mac_lookup(conn: sa.Connection) -> Callable[[int], bytes | None]:
    row_of = _row_lookup(conn, "mac")

    def mac_of(seq: int) -> bytes | None:
        row = row_of(seq)
        return None if row is None else bytes(row[0])

    return mac_of


def _indexed_lookup(conn: sa.Connection) -> Callable[[int], tuple[Any, ...] | None]:
    return _row_lookup(conn, ", ".join(store.INDEXED))


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


def _read_sink(sink: Any, verifier: Verifier) -> tuple[str | None, Checkpoint | None]:
    """The sink's newest checkpoint, opened with ``verifier``; or the reason it could not be."""
    try:
        note = sink.latest()
    except PhiwardError as exc:
        return str(exc), None
    if note is None:
        return None, None
    try:
        return None, verifier.open(note)
    except VerificationError as exc:
        return f"{sink.describe()}: {exc}", None


def _check_sink(
    sink: Any, error: str | None, cp: Checkpoint | None, report: VerifyReport, roots: _Roots
) -> None:
    if error is not None:
        report.problems.append(Problem("checkpoint", None, None, error))
        return
    if cp is None:
        return
    report.checkpoints_checked += 1
    if cp.size > report.size:
        report.problems.append(
            Problem("truncated", report.size, cp.size - 1,
                    f"{sink.describe()} holds a checkpoint of {cp.size} events; "
                    f"the log has {report.size}")
        )  # fmt: skip
        return
    if roots.root_at(cp.size) != cp.root:
        report.problems.append(
            Problem("checkpoint", None, None,
                    f"rows 0-{cp.size - 1} do not match the checkpoint in {sink.describe()}")
        )  # fmt: skip


def report_json(report: VerifyReport) -> str:
    return json.dumps(report.to_dict(), indent=2)
