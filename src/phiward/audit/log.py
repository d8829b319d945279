"""``AuditLog``: durable, group-committed appends, signed tree heads and exported checkpoints.

Every ``record`` call hands its event to one writer thread and blocks until the transaction that
holds it has committed (SQLite ``synchronous=FULL`` fsyncs the WAL; PostgreSQL commits are
durable), so an acknowledged event survives a power cut. Concurrent callers share that
transaction: the writer drains everything queued into one ``executemany`` on the connection it
holds between batches, which is what keeps throughput close to raw batched inserts.

Each row stores its canonical JSON body, its RFC 6962 leaf hash and an HMAC of (sequence number,
leaf hash) under a key derived from the signing key; the writer keeps the tree's compact range in
memory so a signed head costs O(log n), not a pass over the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from phiward.audit import merkle, store
from phiward.audit.checkpoint import (
    Checkpoint,
    KmsSigner,
    NoteSigner,
    Signer,
    Verifier,
    load_row_mac_key,
)
from phiward.audit.event import AuditEvent, event_json, iso_utc, parse_body, utcnow
from phiward.audit.sinks import CheckpointSink, DirectorySink, S3Sink
from phiward.core.settings import Settings
from phiward.errors import AuditError, InputError

DEFAULT_ORIGIN = "phiward.local/audit"
MAX_BATCH = 8192
LINGER_SECONDS = 0.002


_sha256 = hashlib.sha256


def row_mac(key: bytes, seq: int, leaf: bytes) -> bytes:
    return hmac.digest(key, seq.to_bytes(8, "big") + leaf, "sha256")


class Frontier:
    """The compact range of a Merkle tree: the roots of its perfect subtrees, left to right."""

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: list[tuple[int, bytes]] | None = None) -> None:
        self.size = size
        self.nodes: list[tuple[int, bytes]] = nodes or []

    def append(self, leaf: bytes) -> None:
        nodes = self.nodes
        w, h = 1, leaf
        while nodes and nodes[-1][0] == w:  # merge equal-width roots: RFC 6962 interior nodes
            h = _sha256(b"\x01" + nodes.pop()[1] + h).digest()
            w *= 2
        nodes.append((w, h))
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return merkle.EMPTY_ROOT
        acc = self.nodes[-1][1]
        for _, h in reversed(self.nodes[:-1]):
            acc = merkle.node_hash(h, acc)
        return acc

    def dump(self) -> bytes:
        return b"".join(w.to_bytes(8, "big") + h for w, h in self.nodes)

    @classmethod
    def load(cls, size: int, blob: bytes) -> Frontier:
        nodes = [
            (int.from_bytes(blob[i : i + 8], "big"), blob[i + 8 : i + 40])
            for i in range(0, len(blob), 40)
        ]
        if sum(w for w, _ in nodes) != size:
            raise AuditError("stored tree frontier does not match its size; run verify")
        return cls(size, nodes)


@dataclass(frozen=True)
class AuditConfig:
    """Where the log lives and where its checkpoints go (settings section ``[audit]``)."""

    database_url: str
    signing_key: Path
    origin: str = DEFAULT_ORIGIN
    checkpoint_dir: Path | None = None
    s3_bucket: str | None = None
    s3_prefix: str = "phiward-audit"
    retention_years: int = 6
    checkpoint_every: int = 10_000
    signing_kms_key: str | None = None  # an ECC_NIST_P256 KMS key signs heads instead of the file

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditConfig:
        sec: Mapping[str, Any] = settings.section("audit")
        home = settings.home / "audit"
        cdir = sec.get("checkpoint_dir", str(home / "checkpoints"))
        return cls(
            database_url=str(sec.get("database_url") or f"sqlite:///{home / 'audit.db'}"),
            signing_key=Path(str(sec.get("signing_key") or home / "signing.key")),
            origin=str(sec.get("origin", DEFAULT_ORIGIN)),
            checkpoint_dir=Path(str(cdir)) if cdir else None,
            s3_bucket=str(sec["s3_bucket"]) if sec.get("s3_bucket") else None,
            s3_prefix=str(sec.get("s3_prefix", "phiward-audit")),
            retention_years=int(sec.get("retention_years", 6)),
            checkpoint_every=int(sec.get("checkpoint_every", 10_000)),
            signing_kms_key=str(sec["signing_kms_key"]) if sec.get("signing_kms_key") else None,
        )


class _Pending:
    """One queued event and how its caller learns the outcome.

    ``record()`` waits on a bare lock (an acquire/release in C, where a ``Future`` costs a
    condition variable, an RLock and a notify per event); ``submit()`` and ``arecord()`` get a
    ``Future``. The lock waiters of a batch are woken as a chain, each by the one before it
    (:func:`_wake_chain`): releasing all of them at once made every caller thread runnable
    together, and the herd fought over the GIL (and the writer) for the whole next cycle.
    """

    __slots__ = ("abandoned", "afuture", "error", "event", "future", "lock", "next", "seq")

    def __init__(
        self,
        event: AuditEvent,
        lock: Any = None,
        future: Future[int] | None = None,
        afuture: asyncio.Future[int] | None = None,
    ) -> None:
        self.event = event
        self.lock = lock
        self.future = future
        self.afuture = afuture  # arecord(): resolved on its event loop, one call per batch
        self.seq = -1
        self.error: BaseException | None = None
        self.next: _Pending | None = None
        self.abandoned = False


def _settle(batch: list[_Pending], seqs: list[int] | None, error: BaseException | None) -> None:
    """Give every item its sequence number (or ``error``) and wake its caller."""
    waiters: list[_Pending] = []
    loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int]]] = {}
    for i, item in enumerate(batch):
        seq = -1 if seqs is None else seqs[i]
        if item.afuture is not None:
            loops.setdefault(item.afuture.get_loop(), []).append((item.afuture, seq))
        elif item.future is not None:
            if error is None:
                item.future.set_result(seq)
            else:
                item.future.set_exception(error)
        else:
            item.seq, item.error = seq, error
            if waiters:
                waiters[-1].next = item
            waiters.append(item)
    for loop, futures in loops.items():
        with contextlib.suppress(RuntimeError):  # that event loop has closed: nobody waits
            loop.call_soon_threadsafe(_resolve, futures, error)
    if waiters:
        _wake_chain(waiters[0])


def _resolve(futures: list[tuple[asyncio.Future[int], int]], error: BaseException | None) -> None:
    """On the callers' event loop: one call resolves every ``arecord`` of a batch."""
    for fut, seq in futures:
        if not fut.done():  # a cancelled caller: its event may still have been committed
            if error is None:
                fut.set_result(seq)
            else:
                fut.set_exception(error)


def _wake_chain(item: _Pending | None) -> None:
    """Release ``item``'s caller, which releases the next one when it runs.

    Exactly one thread acquires a released lock: normally its caller, who then wakes the next;
    if the caller gave up waiting (``abandoned``), whoever re-acquires the lock first, this
    function or the caller on its way out, carries the chain on.
    """
    while item is not None:
        item.lock.release()
        if not (item.abandoned and item.lock.acquire(blocking=False)):
            return
        item = item.next


_NEVER = 1 << 62


class AuditLog:
    """The tamper-evident log. Open with :meth:`open`; close (or use as a context manager)."""

    def __init__(self, config: AuditConfig, *, sinks: list[CheckpointSink] | None = None) -> None:
        self.config = config
        self.signer: NoteSigner
        if config.signing_kms_key:
            self.signer = KmsSigner(config.signing_kms_key, config.origin)
            self._mac_key = load_row_mac_key(config.signing_key.with_name("row-mac.key"))
        else:
            local = Signer.load_or_create(config.signing_key, config.origin)
            self.signer, self._mac_key = local, local.row_mac_key()
        self._row_hmac = hmac.new(self._mac_key, digestmod=hashlib.sha256)
        self.engine = store.create_engine(config.database_url)
        store.migrate(self.engine)
        if sinks is None:
            sinks = []
            if config.checkpoint_dir is not None:
                sinks.append(DirectorySink(config.checkpoint_dir))
            if config.s3_bucket:
                sinks.append(S3Sink(config.s3_bucket, config.s3_prefix))
        self.sinks = sinks
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        # The writer lingers on this lock for the callers of its previous batch; the caller whose
        # event makes the queue ``_wake_at`` long releases it (no wake-up per event).
        self._wake = threading.Lock()
        self._wake.acquire()
        self._wake_at = _NEVER
        self._frontier: Frontier | None = None
        self._copies: bool | None = None  # does the database store the indexed copies?
        self._since_head = 0
        self._pending_export: tuple[int, str] | None = None
        self._last_batch = 1
        self._lock = threading.Lock()
        self._tree_lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._running = False  # True from the writer's start until its loop has ended
        self._conn: sa.Connection | None = None  # held by the writer thread
        self._pid = os.getpid()
        self._closed = False

    @classmethod
    def open(cls, settings: Settings, **kwargs: Any) -> AuditLog:
        return cls(AuditConfig.from_settings(settings), **kwargs)

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- appending ---------------------------------------------------------------------------

    def submit(self, event: AuditEvent) -> Future[int]:
        """Queue ``event``; the future resolves to its sequence number once durably committed."""
        fut: Future[int] = Future()
        self._put(_Pending(event, future=fut))
        return fut

    def record(self, event: AuditEvent, *, timeout: float | None = 60.0) -> int:
        """Append ``event`` durably and return its sequence number.

        Raises AuditError if the append failed, or was not acknowledged within ``timeout``
        seconds (the event may then still be committed later).
        """
        lock = threading.Lock()
        lock.acquire()
        item = _Pending(event, lock)
        self._put(item)
        if not lock.acquire(timeout=-1 if timeout is None else timeout):
            item.abandoned = True
            if not lock.acquire(blocking=False):  # still not settled: the writer will pass us by
                raise AuditError(f"audit append not acknowledged within {timeout} s")
        _wake_chain(item.next)
        if item.error is not None:
            raise item.error
        return item.seq

    def _put(self, item: _Pending) -> None:
        if self._closed:
            raise AuditError("the audit log is closed")
        if not isinstance(item.event, AuditEvent):
            raise InputError("AuditLog.record takes an AuditEvent")
        self._ensure_writer()
        q = self._queue
        q.put(item)
        if q.qsize() >= self._wake_at:
            with contextlib.suppress(RuntimeError):  # already released by another caller
                self._wake.release()

    async def arecord(self, event: AuditEvent) -> int:
        """The asyncio form of :meth:`record` (the event loop is not blocked).

        The writer resolves all of a batch's ``arecord`` calls on one event loop with a single
        thread-safe callback, rather than one wake-up of the loop per event.
        """
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._put(_Pending(event, afuture=fut))
        return await fut

    def _ensure_writer(self) -> None:
        if self._running and self._pid == os.getpid():  # the writer clears it as it exits
            return
        with self._lock:
            if self._writer is None or self._pid != os.getpid() or not self._writer.is_alive():
                if self._pid != os.getpid():  # a forked child must not share pooled connections
                    self.engine.dispose(close=False)
                    self._frontier = None
                    self._conn = None  # the parent's; never closed from here
                self._pid = os.getpid()
                self._queue = queue.SimpleQueue()
                self._writer = threading.Thread(
                    target=self._run, name="phiward-audit-writer", daemon=True
                )
                self._running = True
                self._writer.start()

    def _run(self) -> None:
        try:
            self._write_loop()
        finally:
            self._running = False
            self._drop_connection()

    def _write_loop(self) -> None:
        q = self._queue
        wake = self._wake
        while True:
            first = q.get()
            if first is None:
                return
            batch = [first]
            stop = False
            # Linger: the callers of the last batch are likely about to submit again; waiting a
            # moment for them turns many small fsyncs into one. The wait ends as soon as as many
            # events as last time are queued (a single writer never waits).
            want = min(self._last_batch, MAX_BATCH)
            if want > 1:
                wake.acquire(blocking=False)  # clear a release left from an earlier batch
                self._wake_at = want - 1
                if q.qsize() < want - 1:
                    wake.acquire(timeout=LINGER_SECONDS)
                self._wake_at = _NEVER
            while len(batch) < MAX_BATCH:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._last_batch = len(batch)
            real = [item for item in batch if item.event is not _FLUSH]
            try:
                seqs = self._append(real) if real else []
                self._export_pending()
            except BaseException as exc:  # every waiter must learn of the failure
                err = (
                    exc
                    if isinstance(exc, AuditError)
                    else AuditError(f"audit append failed: {exc}")
                )
                _settle(batch, None, err)
            else:
                _settle(real, seqs, None)
                _settle([item for item in batch if item.event is _FLUSH], None, None)
            if stop:
                return

    def _load_frontier(self, conn: sa.Connection, upto: int) -> Frontier:
        """The compact range at size ``upto``: from the last signed head, then the leaves after."""
        frontier = self._frontier
        if frontier is None or frontier.size > upto:
            row = conn.execute(
                sa.select(store.heads.c.size, store.heads.c.frontier)
                .where(store.heads.c.size <= upto)
                .order_by(store.heads.c.size.desc())
                .limit(1)
            ).first()
            frontier = Frontier.load(int(row.size), row.frontier) if row else Frontier()
        if frontier.size < upto:
            rows = conn.execute(
                sa.select(store.events.c.leaf)
                .where(store.events.c.seq >= frontier.size, store.events.c.seq < upto)
                .order_by(store.events.c.seq)
            )
            for (leaf,) in rows:
                frontier.append(bytes(leaf))
            if frontier.size != upto:
                raise AuditError("audit log has gaps in its sequence numbers; run verify")
        return frontier

    def _append(self, batch: list[_Pending]) -> list[int]:
        """Commit ``batch`` in one durable transaction under the log's write lock.

        The writer thread keeps its connection between batches. If that connection turns out
        dead before anything was written (the database restarted, an idle timeout), the batch
        is retried once on a fresh one; a failure after the lock was taken is never retried,
        since the commit may have happened.
        """
        held = threading.current_thread() is self._writer
        for attempt in (1, 2):
            conn = self._held_connection() if held else self.engine.connect()
            locked = False
            try:
                with self._tree_lock, store.append_transaction(conn) as start:
                    locked = True
                    seqs, frontier = self._append_locked(conn, start, batch)
            except sa.exc.DBAPIError as exc:
                if held:
                    self._drop_connection()  # the next batch starts on a fresh connection
                if held and attempt == 1 and not locked and exc.connection_invalidated:
                    continue
                raise
            except BaseException:
                if held:
                    self._drop_connection()
                raise
            finally:
                if not held:
                    conn.close()
            self._frontier = frontier
            return seqs
        raise AssertionError("unreachable")  # pragma: no cover

    def _held_connection(self) -> sa.Connection:
        """The writer thread's connection, kept between batches (a pool checkout, with
        PostgreSQL's pre-ping, cost a round trip per batch)."""
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _append_locked(
        self, conn: sa.Connection, start: int, batch: list[_Pending]
    ) -> tuple[list[int], Frontier]:
        recorded = iso_utc(utcnow())
        mac = self._row_hmac.copy  # the keyed state, copied per row: row_mac() without re-keying
        sha, node = hashlib.sha256, b"\x00"
        frontier = self._load_frontier(conn, start)
        append = frontier.append
        rows: list[tuple[Any, ...]] = []
        add = rows.append
        copies = self._copies
        if copies is None:
            copies = self._copies = store.stored_copies(conn)
        for seq, item in enumerate(batch, start):
            event = item.event
            data = event.to_dict(recorded=recorded, seq=seq)
            body = event_json(data, event.details)
            leaf = sha(node + body).digest()
            append(leaf)
            h = mac()
            h.update(seq.to_bytes(8, "big") + leaf)
            if copies:
                add(
                    (seq, data["occurred"], event.type, event.action, event.user_id,
                     event.patient_id, body.decode(), leaf, h.digest(), False)
                )  # fmt: skip
            else:
                add((seq, body.decode(), leaf, h.digest(), False))
        store.insert_events(conn, rows, copies=copies)
        self._since_head += len(rows)
        if self._since_head >= self.config.checkpoint_every:
            self._sign_head(conn, frontier)
        return [start + i for i in range(len(batch))], frontier

    # -- heads and checkpoints -----------------------------------------------------------------

    def _sign_head(self, conn: sa.Connection, frontier: Frontier) -> str:
        cp = Checkpoint(self.config.origin, frontier.size, frontier.root())
        note = self.signer.sign(cp)
        exists = conn.execute(
            sa.select(store.heads.c.size).where(store.heads.c.size == cp.size)
        ).first()
        if exists is None:
            conn.execute(
                store.heads.insert().values(
                    size=cp.size,
                    root=cp.root,
                    note=note,
                    frontier=frontier.dump(),
                    created=recorded_now(),
                )
            )
        self._since_head = 0
        self._pending_export = (cp.size, note)
        return note

    def _export_pending(self) -> None:
        pending, self._pending_export = self._pending_export, None
        if pending is not None:
            for sink in self.sinks:
                sink.put(*pending)

    def checkpoint(self) -> Checkpoint:
        """Sign the current tree head, store it and export it to every sink."""
        self.flush()
        with self._tree_lock, store.write_transaction(self.engine) as conn:
            size = store.next_seq(conn)
            frontier = self._load_frontier(conn, size)
            self._sign_head(conn, frontier)
        self._frontier = frontier
        self._export_pending()
        return Checkpoint(self.config.origin, frontier.size, frontier.root())

    def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        if self._writer is not None and self._writer.is_alive() and self._pid == os.getpid():
            marker: Future[int] = Future()
            self._queue.put(_Pending(_FLUSH, future=marker))
            marker.result(60)

    def size(self) -> int:
        with self.engine.connect() as conn:
            return store.next_seq(conn)

    def close(self) -> None:
        if self._closed:
            return
        if self._writer is not None and self._writer.is_alive() and self._pid == os.getpid():
            self._queue.put(None)
            self._writer.join(60)
        self._closed = True
        self.engine.dispose()

    # -- retention -----------------------------------------------------------------------------

    def apply_retention(self, *, now: datetime | None = None, years: int | None = None) -> int:
        """Drop the bodies of events older than the retention period (default 6 years).

        Leaf hashes and MACs stay, so the tree and every later proof still verify; the purge is
        itself recorded as an ``audit.retention`` event naming the range it covered.
        """
        years = self.config.retention_years if years is None else years
        now = now or datetime.now(UTC)
        try:
            cutoff = now.replace(year=now.year - years)
        except ValueError:  # 29 February
            cutoff = now.replace(year=now.year - years, day=28)
        cut = cutoff.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        self.flush()
        with store.write_transaction(self.engine) as conn:
            ev = store.events.c
            upto = conn.execute(
                sa.select(sa.func.max(ev.seq)).where(ev.occurred < cut, ev.purged.is_(False))
            ).scalar()
            if upto is None:
                return 0
            _check_purge_bound(conn, int(upto), cut)
            purged = conn.execute(
                store.events.update()
                .where(ev.seq <= upto, ev.purged.is_(False))
                .values(body=None, purged=True)
            ).rowcount
        self.record(
            AuditEvent(
                type="audit.retention",
                action="D",
                application="phiward",
                details={"purged_through_seq": int(upto), "count": int(purged), "cutoff": cut},
            )
        )
        return int(purged)


def _check_purge_bound(conn: sa.Connection, upto: int, cut: str) -> None:
    """Refuse a purge whose last row is not old by its signed body.

    The purge takes every row up to the newest one whose indexed ``occurred`` is before the
    cutoff; that copy is not hashed, so an edited one could stretch the purge over recent events.
    Checking that single row's body is enough: if it is old, an honest index would have purged
    at least as far.
    """
    row = conn.execute(
        sa.select(store.events.c.body, store.events.c.leaf).where(store.events.c.seq == upto)
    ).one()
    body = str(row.body).encode()
    if merkle.leaf_hash(body) != bytes(row.leaf):
        raise AuditError(f"audit row {upto} does not match its hash; run `phiward audit verify`")
    data = parse_body(body)
    occurred = None if data is None else data.get("occurred")
    if not isinstance(occurred, str) or occurred >= cut:
        raise AuditError(
            f"refusing to purge: audit row {upto} is indexed as older than the cutoff but its "
            "signed body is not; run `phiward audit verify`"
        )


_FLUSH = AuditEvent(type="audit.flush", action="E")


def recorded_now() -> str:
    return utcnow().isoformat(timespec="microseconds").replace("+00:00", "Z")
