"""The audit log on both stores: appends, group commit, signed heads, and fault injection.

Each tampering test edits the database directly, as a privileged attacker with SQL access would,
and checks that ``verify_log`` names the exact rows; an untouched log must verify clean.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from phiward.audit import AuditConfig, AuditEvent, AuditLog, DirectorySink, store, verify_log
from phiward.audit.checkpoint import Signer, Verifier
from phiward.errors import AuditError, InputError, VerificationError


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _config(url: str, tmp_path: Path, **kw: object) -> AuditConfig:
    return AuditConfig(
        database_url=url,
        signing_key=tmp_path / "signing.key",
        checkpoint_dir=tmp_path / "checkpoints",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def log(db_url: str, tmp_path: Path) -> Iterator[AuditLog]:
    with AuditLog(_config(db_url, tmp_path, checkpoint_every=10)) as opened:
        yield opened


@pytest.fixture(params=["sqlite-before-3.35", "postgres"])
def stored(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    """A log that stores its indexed copies: PostgreSQL, or SQLite as migration 0002 leaves it
    where SQLite cannot drop a column."""
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    with AuditLog(_config(url, tmp_path, checkpoint_every=10)) as opened:
        with opened.engine.connect() as conn:
            assert store.stored_copies(conn)
        yield opened


def _event(i: int, **kw: object) -> AuditEvent:
    return AuditEvent(
        type="phi.read",
        action="R",
        user_id=f"user-{i % 3}",
        patient_id=f"pat-{i % 5}",
        **kw,  # type: ignore[arg-type]
    )


def _fill(log: AuditLog, n: int = 40) -> None:
    for i in range(n):
        log.record(_event(i))
    log.checkpoint()


def _kinds(log: AuditLog) -> list[tuple[str, int | None, int | None]]:
    return [(p.kind, p.first, p.last) for p in verify_log(log).problems]


def _sql(log: AuditLog, statement: str, **params: object) -> None:
    with log.engine.connect() as conn:
        conn.execute(sa.text(statement), params)
        conn.commit()


def test_untouched_log_verifies_clean(log: AuditLog) -> None:
    _fill(log)
    report = verify_log(log)
    assert report.ok, report.problems
    assert report.size == 40
    assert report.heads_checked >= 4
    assert report.checkpoints_checked == 1


def test_concurrent_writers_get_contiguous_sequence_numbers(log: AuditLog) -> None:
    seqs: list[int] = []
    lock = threading.Lock()

    def writer(k: int) -> None:
        for i in range(25):
            seq = log.record(_event(k * 100 + i))
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(200))
    assert verify_log(log).ok


def test_record_and_submit_share_batches(log: AuditLog) -> None:
    futures = [log.submit(_event(i)) for i in range(10)]
    seqs: list[int] = []

    def writer(k: int) -> None:
        seqs.extend(log.record(_event(100 + k * 10 + i)) for i in range(10))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs.extend(f.result(10) for f in futures)
    assert sorted(seqs) == list(range(70))
    assert verify_log(log).ok


def test_failed_commit_reaches_every_waiter(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    log.record(_event(0))

    def broken(batch: object) -> list[int]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(log, "_append", broken)
    errors: list[str] = []

    def writer(k: int) -> None:
        try:
            log.record(_event(k))
        except AuditError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fut = log.submit(_event(9))
    with pytest.raises(AuditError, match="disk on fire"):
        fut.result(10)
    assert len(errors) == 5
    assert all("disk on fire" in e for e in errors)
    monkeypatch.undo()
    assert log.record(_event(10)) == 1  # nothing was half-written


def test_a_caller_that_times_out_does_not_strand_the_others(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    log.record(_event(0))
    real_append = log._append
    gate = threading.Event()

    def slow(batch: list[Any]) -> list[int]:
        gate.wait(10)
        return real_append(batch)

    monkeypatch.setattr(log, "_append", slow)
    results: dict[int, object] = {}

    def writer(k: int, timeout: float) -> None:
        try:
            results[k] = log.record(_event(k), timeout=timeout)
        except AuditError as exc:
            results[k] = exc

    blocker = log.submit(_event(99))  # the writer takes this alone and blocks in slow()
    time.sleep(0.1)
    # The next batch queues as [0, 3, 1, 2]; caller 3, in the middle of the wake-up chain, gives
    # up while the writer is still blocked.
    threads = {
        k: threading.Thread(target=writer, args=(k, 0.3 if k == 3 else 30.0)) for k in (0, 3, 1, 2)
    }
    for t in threads.values():
        t.start()
        time.sleep(0.05)
    threads[3].join()
    assert isinstance(results[3], AuditError)
    assert "not acknowledged" in str(results[3])
    gate.set()
    assert blocker.result(30) == 1
    for t in threads.values():
        t.join(30)
    assert sorted(results[k] for k in (0, 1, 2)) == [2, 4, 5]  # type: ignore[type-var]
    log.flush()
    assert log.size() == 6  # the abandoned event was still committed, as the error warns
    assert verify_log(log).ok


def test_acknowledged_event_is_committed(log: AuditLog, db_url: str) -> None:
    seq = log.record(_event(1))
    other = sa.create_engine(db_url)
    with other.connect() as conn:
        body = conn.execute(sa.text("SELECT body FROM audit_events WHERE seq = :s"), {"s": seq})
        assert '"patient_id":"pat-1"' in body.scalar_one()
    other.dispose()


def test_async_record(log: AuditLog) -> None:
    async def go() -> list[int]:
        return list(await asyncio.gather(*(log.arecord(_event(i)) for i in range(20))))

    assert sorted(asyncio.run(go())) == list(range(20))


def test_async_callers_on_two_loops_and_a_cancelled_one(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch resolves its ``arecord`` callers on their own event loops; a caller cancelled
    while its batch is being written does not disturb the others (its event is still written)."""
    real_append = log._append
    gate = threading.Event()

    def slow(batch: list[Any]) -> list[int]:
        gate.wait(10)
        return real_append(batch)

    monkeypatch.setattr(log, "_append", slow)

    async def one_loop(base: int, cancel: bool) -> list[int]:
        tasks = [asyncio.create_task(log.arecord(_event(base + i))) for i in range(10)]
        await asyncio.sleep(0.05)
        if cancel:
            tasks[0].cancel()
        await asyncio.sleep(0.05)
        gate.set()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return [d for d in done if isinstance(d, int)]

    results: dict[int, list[int]] = {}
    threads = [
        threading.Thread(target=lambda b=b: results.update({b: asyncio.run(one_loop(b, b == 0))}))
        for b in (0, 100)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results[0]) == 9 and len(results[100]) == 10
    seqs = results[0] + results[100]
    assert len(set(seqs)) == 19
    log.flush()
    assert log.size() == 20  # the cancelled caller's event was written all the same
    assert verify_log(log).ok


def test_modified_body_is_named(log: AuditLog) -> None:
    _fill(log)
    _sql(log, "UPDATE audit_events SET body = replace(body, 'pat-2', 'pat-4') WHERE seq = 17")
    assert ("modified", 17, 17) in _kinds(log)


def test_modified_body_with_recomputed_hash_is_named(log: AuditLog) -> None:
    _fill(log)
    with log.engine.connect() as conn:
        body = conn.execute(sa.text("SELECT body FROM audit_events WHERE seq = 12")).scalar_one()
        forged = body.replace("phi.read", "phi.list")
        from phiward.audit.merkle import leaf_hash

        conn.execute(
            sa.text("UPDATE audit_events SET body = :b, leaf = :l WHERE seq = 12"),
            {"b": forged, "l": leaf_hash(forged.encode())},
        )
        conn.commit()
    kinds = _kinds(log)
    assert ("inserted", 12, 12) in kinds or ("modified", 12, 12) in kinds
    assert any(k == "head" for k, _, _ in kinds)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("patient_id", "pat-9"),  # the event leaves that patient's accounting of disclosures
        ("patient_id", None),
        ("user_id", "user-0"),
        ("user_id", None),
        ("occurred", "1999-01-01T00:00:00.000000Z"),
        ("type", "phi.list"),
        ("action", "D"),
    ],
)
def test_edited_index_copy_is_named(
    stored: AuditLog, column: str, value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored copies, which queries filter on, are not hashed; an edited one must not verify
    clean (in one pass, and read by worker processes)."""
    from phiward.audit import verify as verify_mod

    monkeypatch.setattr(verify_mod, "PARALLEL_MIN_ROWS", 10)
    log = stored
    _fill(log)
    _sql(log, f"UPDATE audit_events SET {column} = :v WHERE seq = 17", v=value)
    report = verify_log(log, workers=1)
    assert [(p.kind, p.first, p.detail) for p in report.problems] == [
        ("modified", 17, f"the indexed copy of {column} differs from the signed body")
    ]
    assert verify_log(log, workers=2).problems == report.problems


def test_index_copy_set_where_the_body_has_none_is_named(stored: AuditLog) -> None:
    log = stored
    log.record(AuditEvent(type="phi.read", action="R", details={"patient_id": "pat-1"}))
    log.checkpoint()
    _sql(log, "UPDATE audit_events SET patient_id = 'pat-1' WHERE seq = 0")
    assert _kinds(log) == [("modified", 0, 0)]


def test_a_blob_in_an_index_column_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite keeps a BLOB in a text column, and ``patient_id = 'pat-2'`` then misses it."""
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))  # stored copies
    with AuditLog(_config(f"sqlite:///{tmp_path / 'a.db'}", tmp_path)) as log:
        _fill(log, 12)
        _sql(log, "UPDATE audit_events SET patient_id = CAST(patient_id AS BLOB) WHERE seq = 7")
        assert _kinds(log) == [("modified", 7, 7)]


@pytest.mark.parametrize("column", store.INDEXED)
def test_sqlite_copies_are_generated_and_cannot_be_written(tmp_path: Path, column: str) -> None:
    with AuditLog(_config(f"sqlite:///{tmp_path / 'a.db'}", tmp_path)) as log:
        _fill(log, 12)
        with log.engine.connect() as conn:
            assert not store.stored_copies(conn)
        with pytest.raises(sa.exc.OperationalError, match="cannot UPDATE generated column"):
            _sql(log, f"UPDATE audit_events SET {column} = 'x' WHERE seq = 3")
        with pytest.raises(sa.exc.OperationalError, match="malformed JSON"):
            _sql(log, "UPDATE audit_events SET body = 'not json' WHERE seq = 3")
        with log.engine.connect() as conn:
            plan = conn.execute(
                sa.text("EXPLAIN QUERY PLAN SELECT seq FROM audit_events WHERE patient_id = 'p'")
            ).all()
        assert "ix_audit_events_patient" in str(plan)
        assert verify_log(log).ok


def test_migration_0002_turns_stored_copies_into_generated_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phiward.audit.query import Query, query

    url = f"sqlite:///{tmp_path / 'a.db'}"
    with monkeypatch.context() as m:
        m.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
        with AuditLog(_config(url, tmp_path)) as log:
            _fill(log, 30)
            _sql(log, "UPDATE phiward_audit_version SET version_num = '0001'")
    with AuditLog(_config(url, tmp_path)) as log:  # SQLite 3.40: 0002 runs
        with log.engine.connect() as conn:
            assert not store.stored_copies(conn)
        assert verify_log(log).ok
        assert [e["seq"] for e in query(log, Query(patient_id="pat-2"))] == [2, 7, 12, 17, 22, 27]
        log.record(_event(30))
        assert verify_log(log).ok


def test_a_non_json_body_with_its_own_hash_does_not_stop_verify(stored: AuditLog) -> None:
    """(Where SQLite generates the copies, it refuses a body that is not JSON: see above.)"""
    from phiward.audit.merkle import leaf_hash

    log = stored
    _fill(log)
    _sql(log, "UPDATE audit_events SET body = :b, leaf = :l WHERE seq = 9",
         b="not json", l=leaf_hash(b"not json"))  # fmt: skip
    kinds = _kinds(log)
    assert ("reordered", 9, 9) in kinds or ("modified", 9, 9) in kinds
    assert any(k == "head" for k, _, _ in kinds)


def test_retention_refuses_a_purge_stretched_by_an_edited_copy(stored: AuditLog) -> None:
    log = stored
    old = datetime.now(UTC) - timedelta(days=7 * 365)
    for i in range(3):
        log.record(_event(i, occurred=old))
    for i in range(5):
        log.record(_event(i))
    _sql(log, "UPDATE audit_events SET occurred = '2001-01-01T00:00:00.000000Z' WHERE seq = 6")
    with pytest.raises(AuditError, match="refusing to purge: audit row 6"):
        log.apply_retention()
    with log.engine.connect() as conn:
        purged = conn.execute(sa.text("SELECT count(*) FROM audit_events WHERE body IS NULL"))
        assert purged.scalar_one() == 0


def test_deleted_rows_are_named(log: AuditLog) -> None:
    _fill(log)
    _sql(log, "DELETE FROM audit_events WHERE seq IN (5, 6, 7)")
    assert ("deleted", 5, 7) in _kinds(log)


def test_truncated_tail_is_detected_against_signed_heads(log: AuditLog) -> None:
    _fill(log)
    _sql(log, "DELETE FROM audit_events WHERE seq >= 30")
    _sql(log, "DELETE FROM audit_heads WHERE size > 30")
    kinds = _kinds(log)
    assert ("truncated", 30, 39) in kinds  # the exported checkpoint still says 40


def test_reordered_rows_are_named(log: AuditLog) -> None:
    _fill(log)
    with log.engine.connect() as conn:
        a = conn.execute(sa.text("SELECT body, leaf, mac FROM audit_events WHERE seq = 3")).one()
        b = conn.execute(sa.text("SELECT body, leaf, mac FROM audit_events WHERE seq = 4")).one()
        for seq, row in ((3, b), (4, a)):
            conn.execute(
                sa.text("UPDATE audit_events SET body = :b, leaf = :l, mac = :m WHERE seq = :s"),
                {"b": row.body, "l": row.leaf, "m": row.mac, "s": seq},
            )
        conn.commit()
    kinds = _kinds(log)
    assert ("reordered", 3, 3) in kinds
    assert ("reordered", 4, 4) in kinds
    # The rows are under a signed head, so their MACs are looked up only for this message.
    details = {p.first: p.detail for p in verify_log(log).problems if p.kind == "reordered"}
    assert details[3] == "row holds event seq 4 (its MAC holds there)"
    assert details[4] == "row holds event seq 3 (its MAC holds there)"


def test_a_seq_inside_details_is_not_the_events_seq(log: AuditLog) -> None:
    for i in range(12):
        log.record(_event(i, details={"seq": 1000 + i, "note": '"seq":7,'}))
    log.checkpoint()
    assert verify_log(log).ok


def test_inserted_row_is_named(log: AuditLog) -> None:
    _fill(log)
    from phiward.audit.event import canonical_json
    from phiward.audit.merkle import leaf_hash

    now = datetime.now(UTC)
    data = _event(99).to_dict(recorded=now, seq=40)
    body = canonical_json(data)
    with log.engine.connect() as conn:
        copies = store.stored_copies(conn)
    _sql(
        log,
        "INSERT INTO audit_events (seq, occurred, type, action, patient_id, user_id, body, leaf, "
        "mac, purged) VALUES (40, :o, 'phi.read', 'R', :p, :u, :b, :l, :m, :f)"
        if copies
        else "INSERT INTO audit_events (seq, body, leaf, mac, purged) VALUES (40, :b, :l, :m, :f)",
        o=data["occurred"], p=data["patient_id"], u=data["user_id"],
        b=body.decode(), l=leaf_hash(body), m=b"\x00" * 32, f=False,
    )  # fmt: skip
    assert _kinds(log) == [("inserted", 40, 40)]


def test_altered_head_is_detected(log: AuditLog) -> None:
    _fill(log)
    _sql(log, "UPDATE audit_heads SET note = replace(note, 'phiward', 'phiwarx') WHERE size = 40")
    assert any(k == "head" for k, _, _ in _kinds(log))


def test_dropped_database_is_detected_by_the_exported_checkpoint(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'dropped.db'}"
    cfg = _config(db_url, tmp_path)
    with AuditLog(cfg) as first:
        _fill(first, 12)
    Path(sa.engine.make_url(db_url).database or "").unlink()
    with AuditLog(cfg) as fresh:
        fresh.record(_event(0))
        kinds = _kinds(fresh)
    assert ("truncated", 1, 11) in kinds


def test_retention_purges_bodies_and_still_verifies(log: AuditLog) -> None:
    old = datetime.now(UTC) - timedelta(days=7 * 365)
    for i in range(5):
        log.record(_event(i, occurred=old))
    for i in range(5):
        log.record(_event(i))
    assert log.apply_retention() == 5
    log.checkpoint()
    report = verify_log(log)
    assert report.ok, report.problems
    with log.engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT type FROM audit_events ORDER BY seq")).scalars().all()
    assert kinds[-1] == "audit.retention"


def test_body_removed_without_retention_is_flagged(log: AuditLog) -> None:
    _fill(log)
    _sql(log, "UPDATE audit_events SET body = NULL, purged = :t WHERE seq = 20", t=True)
    assert ("purged", 20, 20) in _kinds(log)


def test_checkpoint_is_a_c2sp_signed_note(log: AuditLog, tmp_path: Path) -> None:
    _fill(log, 3)
    note = DirectorySink(tmp_path / "checkpoints").latest()
    assert note is not None
    lines = note.split("\n")
    assert lines[0] == "phiward.local/audit" and lines[1] == "3"
    assert lines[4].startswith("\u2014 phiward.local/audit ")
    verifier = Verifier.from_text(log.verifier.to_text())
    assert verifier.open(note).size == 3
    other = Signer.load_or_create(tmp_path / "other.key", "phiward.local/audit").verifier
    with pytest.raises(VerificationError):
        other.open(note)
    with pytest.raises(VerificationError):
        verifier.open(note.replace("\n3\n", "\n4\n"))


def test_signing_key_permissions_are_enforced(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    Signer.load_or_create(key, "x")
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        Signer.load_or_create(key, "x")


def test_bad_events_are_refused() -> None:
    with pytest.raises(InputError):
        AuditEvent(type="x", action="Z")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        AuditEvent(type="x", action="R", occurred=datetime(2020, 1, 1)).to_dict()


def test_closed_log_refuses(log: AuditLog) -> None:
    log.close()
    with pytest.raises(AuditError):
        log.record(_event(0))


def test_s3_checkpoints_use_object_lock(moto_reset: str, tmp_path: Path) -> None:
    import boto3

    from phiward.audit import S3Sink

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="audit-lock", ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="audit-plain")
    locked, plain = S3Sink("audit-lock", "logs", client=s3), S3Sink("audit-plain", client=s3)
    cfg = _config(f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    with AuditLog(cfg, sinks=[locked, plain]) as log:
        _fill(log, 5)
        head = s3.head_object(Bucket="audit-lock", Key="logs/checkpoint-00000000000000000005.txt")
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert "ObjectLockMode" not in s3.head_object(
            Bucket="audit-plain", Key="checkpoint-00000000000000000005.txt"
        )
        report = verify_log(log)
        assert report.ok and report.checkpoints_checked == 2
        # Truncating the database is caught by the S3 checkpoint too.
        _sql(log, "DELETE FROM audit_events WHERE seq >= 3")
        _sql(log, "DELETE FROM audit_heads")
        kinds = _kinds(log)
    assert kinds.count(("truncated", 3, 4)) == 2


def test_many_deleted_rows_under_a_head_do_not_crash_verify(log: AuditLog) -> None:
    _fill(log, 60)
    _sql(log, "DELETE FROM audit_events WHERE seq BETWEEN 10 AND 45")
    kinds = _kinds(log)
    assert ("deleted", 10, 45) in kinds
    assert any(k == "head" for k, _, _ in kinds)


def test_parallel_verify_finds_the_same_problems(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phiward.audit import verify as verify_mod

    monkeypatch.setattr(verify_mod, "PARALLEL_MIN_ROWS", 10)
    _fill(log, 60)
    assert verify_log(log, workers=3).ok
    _sql(log, "DELETE FROM audit_events WHERE seq BETWEEN 15 AND 25")  # spans the 0-19/20-39 split
    _sql(log, "UPDATE audit_events SET body = replace(body, 'pat-', 'pax-') WHERE seq = 47")
    parallel = [(p.kind, p.first, p.last) for p in verify_log(log, workers=3).problems]
    serial = [(p.kind, p.first, p.last) for p in verify_log(log, workers=1).problems]
    assert parallel == serial
    assert ("deleted", 15, 25) in parallel and ("modified", 47, 47) in parallel


@pytest.mark.parametrize(("rows", "workers"), [(33, 2), (100, 4), (129, 3)])
def test_parallel_verify_assembles_every_head_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int, workers: int
) -> None:
    from phiward.audit import verify as verify_mod

    monkeypatch.setattr(verify_mod, "PARALLEL_MIN_ROWS", 10)
    cfg = _config(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, checkpoint_every=7)
    with AuditLog(cfg) as log:
        _fill(log, rows)
        report = verify_log(log, workers=workers)
        assert report.ok, report.problems
        assert report.heads_checked >= rows // 7
        _sql(log, "UPDATE audit_heads SET root = :r WHERE size = 14", r=b"\x01" * 32)
        assert any(p.kind == "head" for p in verify_log(log, workers=workers).problems)


def test_writer_survives_its_held_connection_dying(postgres_url: str, tmp_path: Path) -> None:
    """The writer keeps one connection between batches; a server-side disconnect (restart,
    idle timeout) must cost a reconnect, not the next caller's event."""
    with AuditLog(_config(postgres_url, tmp_path)) as log:
        assert log.record(_event(0)) == 0
        held = log._conn
        assert held is not None
        pid = held.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        with log.engine.connect() as conn:
            killed = conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            assert killed.scalar() is True
        assert log.record(_event(1)) == 1
        assert log.record(_event(2)) == 2
        assert verify_log(log).ok


def test_logs_opened_at_once_on_a_fresh_database(db_url: str, tmp_path: Path) -> None:
    """Threads (and processes) opening one new log together: one creates the schema, the others
    find it; Alembic's process-global context is never shared between two migrations."""
    opened: list[AuditLog] = []
    errors: list[BaseException] = []

    def open_one(k: int) -> None:
        try:
            opened.append(AuditLog(_config(db_url, tmp_path / f"k{k}")))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(k,), daemon=True) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert len(opened) == 6
        assert opened[0].record(_event(0)) == 0
    finally:
        for one in opened:
            one.close()


def test_verify_lookups_do_not_take_the_write_lock(log: AuditLog) -> None:
    """On SQLite a SQLAlchemy statement opens BEGIN IMMEDIATE: the row loop's lookups must not."""
    from phiward.audit import verify as V

    _fill(log, 5)
    with log.engine.connect() as conn:
        mac, copies = V._mac_lookup(conn)(3), V._indexed_lookup(conn)(3)
        assert V._mac_lookup(conn)(99) is None
        assert not conn.in_transaction()
        names = ", ".join(store.INDEXED)
        row = conn.execute(sa.text(f"SELECT mac, {names} FROM audit_events WHERE seq = 3")).one()
    assert (mac, copies) == (bytes(row[0]), tuple(row[1:]))


def test_a_schema_from_a_newer_phiward_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with AuditLog(_config(url, tmp_path)) as log:
        _sql(log, "UPDATE phiward_audit_version SET version_num = '0099'")
    with pytest.raises(AuditError, match="newer than this phiward"):
        AuditLog(_config(url, tmp_path))


def test_copies_holding_quotes_backslashes_and_accents_verify_clean(stored: AuditLog) -> None:
    """The database's own JSON reading must agree with the stored copies (no false alarm)."""
    event = AuditEvent(
        type='phi."read"',
        action="R",
        user_id="dr\\o'brien",
        patient_id="pat-é\t\u2028",
        details={"patient_id": "other"},
    )
    stored.record(event)
    stored.checkpoint()
    assert verify_log(stored).ok
