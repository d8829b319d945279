"""Audit log benchmark (issue 4): durable appends vs the raw batched-INSERT ceiling, verification
speed on a 1,000,000-event log, and inclusion-proof generation and checking.

    .venv/bin/python bench/audit_bench.py                 # full run (SQLite + PostgreSQL, 1M)
    .venv/bin/python bench/audit_bench.py --events 100000 --no-postgres   # quick

Appends: N writer threads call ``AuditLog.record`` (each call returns only after its durable
commit) for a fixed time; the ceiling is the same rows (one event from each writer per batch, as
the log's batches hold them), prepared in advance, inserted by the writer's own transaction
(lock, ``max(seq)``, insert, durable commit) on a held connection in batches of N (the most N
waiting callers can share) and of 4,096, in the same database with the same durability settings
(SQLite WAL + synchronous=FULL; PostgreSQL synchronous_commit=on). Both run in this process, one
after the other, so the ratio is the figure to trust.

The fsync time behind every commit drifts by a third or more within a minute on these machines,
and a ratio of two measurements taken a minute apart drifts with it. So each writer count runs
``--rounds`` rounds, each a fresh ceiling measurement followed at once by a fresh append
measurement (``--seconds`` each); the table gives the median round's ratio and every round's.
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from phiward.audit import AuditConfig, AuditEvent, AuditLog, merkle, store, verify_log
from phiward.audit.event import canonical_json, utcnow
from phiward.audit.log import row_mac
from phiward.audit.structure import check_structure

PG_URL = os.environ.get("PHIWARD_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def event(i: int) -> AuditEvent:
    return AuditEvent(
        type="phi.read",
        action="R",
        user_id=f"user-{i % 97}",
        role="clinician",
        application="ehr",
        network_address="10.0.0.7",
        patient_id=f"pat-{i % 10007}",
        resource_type="Observation",
        resource_id=f"obs-{i}",
        purpose="TREAT",
    )


def writers_event(k: int, i: int) -> AuditEvent:
    """Writer ``k``'s ``i``-th event in the append benchmarks (and so in the ceiling's rows)."""
    return event(k * 1_000_000 + i)


def open_log(url: str, folder: Path) -> AuditLog:
    cfg = AuditConfig(
        database_url=url,
        signing_key=folder / "signing.key",
        checkpoint_dir=None,
        checkpoint_every=1_000_000_000,
    )
    return AuditLog(cfg)


def appends(log: AuditLog, writers: int, seconds: float) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * writers

    def run(k: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            log.record(writers_event(k, i))
            i += 1
        counts[k] = i

    threads = [threading.Thread(target=run, args=(k,)) for k in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def async_appends(log: AuditLog, writers: int, seconds: float) -> float:
    """N asyncio tasks in one event loop, each awaiting ``AuditLog.arecord`` in turn (how the
    server records): the same durable group commit, with no thread per caller to wake."""
    import asyncio

    async def run() -> float:
        stop = time.perf_counter() + seconds
        counts = [0] * writers

        async def task(k: int) -> None:
            i = 0
            while time.perf_counter() < stop:
                await log.arecord(writers_event(k, i))
                i += 1
            counts[k] = i

        t0 = time.perf_counter()
        await asyncio.gather(*(task(k) for k in range(writers)))
        return sum(counts) / (time.perf_counter() - t0)

    return asyncio.run(run())


def writer_event(writers: int, j: int) -> AuditEvent:
    """The ``j``-th event of a run with ``writers`` callers, in the order the log's batches hold
    them: one event from each writer per batch (:func:`writers_event`, as :func:`appends`
    makes them)."""
    return writers_event(j % writers, j // writers)


def raw_ceiling(
    url: str, folder: Path, seconds: float, batch: int = 4096, writers: int = 1
) -> float:
    """The raw batched-INSERT ceiling: the rows the log itself writes for the benchmark's events
    with ``writers`` callers (same bodies, hashes, MACs and indexed values, one event from each
    writer per batch of ``writers``), made before each batch is timed; the timed part is the
    same transaction the log's writer runs (write lock and ``max(seq)``, multi-row insert
    through the driver, durable commit) on one held connection, with no hashing and no callers.

    The mix matters: consecutive events of one writer have neighbouring patient ids, whose index
    entries share leaf pages, and SQLite commits such rows 20-28% faster than the rows 64
    writers make, whose patient ids are spread over the index."""
    engine = store.create_engine(url)
    store.migrate(engine)
    key = os.urandom(32)
    done, spent = 0, 0.0
    conn = engine.connect()
    copies = store.stored_copies(conn)
    start = 0
    while spent < seconds:
        # Each batch's rows are made before its timer starts, from fresh events, as the writer
        # makes them: where SQLite generates the indexed values from the bodies, reused bodies
        # would scatter every batch's index entries over the same pages.
        recorded = utcnow()
        rows: list[tuple[object, ...]] = []
        for j in range(start, start + batch):
            ev = writer_event(writers, j)
            data = ev.to_dict(recorded=recorded, seq=j)
            body = canonical_json(data)
            leaf = merkle.leaf_hash(body)
            mac = row_mac(key, j, leaf)
            if not copies:
                rows.append((j, body.decode(), leaf, mac, False))
            else:
                rows.append((j, data["occurred"], ev.type, ev.action, ev.user_id, ev.patient_id,
                             body.decode(), leaf, mac, False))  # fmt: skip
        t0 = time.perf_counter()
        with store.append_transaction(conn) as first:
            assert first == start
            store.insert_events(conn, rows, copies=copies)
        spent += time.perf_counter() - t0
        done += batch
        start += batch
    conn.close()
    engine.dispose()
    return done / spent


def fill(log: AuditLog, n: int) -> float:
    """Append n events through the log's own group-commit path in 8,192-event batches."""
    from phiward.audit.log import _Pending

    t0 = time.perf_counter()
    done = 0
    while done < n:
        k = min(8192, n - done)
        batch = [_Pending(event(done + i)) for i in range(k)]
        log._append(batch)
        done += k
    return n / (time.perf_counter() - t0)


def _median_round(rounds: list[tuple[float, float]]) -> tuple[float, float]:
    """The round whose appends/ceiling ratio is the median (the lower middle for an even count)."""
    ordered = sorted(rounds, key=lambda r: r[0] / r[1])
    return ordered[(len(ordered) - 1) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="size of the verified log")
    ap.add_argument("--seconds", type=float, default=4.0, help="time per append measurement")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    ap.add_argument(
        "--rounds", type=int, default=3, help="back-to-back ceiling/append rounds per writer count"
    )
    ap.add_argument(
        "--writers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 8, 64],
        help="writer counts, comma-separated (default 1,8,64)",
    )
    ap.add_argument("--no-verify", action="store_true", help="appends only: skip verify, proofs")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="phiward-audit-bench-"))
    atexit.register(shutil.rmtree, folder, True)  # the 1M-event log alone is ~1 GB
    print(f"machine: {os.cpu_count()} cores; events for verify: {args.events:,}")
    schemas: list[str] = []

    def drop_schemas() -> None:
        """Leave the shared test database as found (and quiet before verify is timed:
        autovacuum of the append runs' tables competed with it for the two cores)."""
        if schemas:
            eng = sa.create_engine(PG_URL)
            with eng.begin() as conn:
                for schema in schemas:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            eng.dispose()
            schemas.clear()

    atexit.register(drop_schemas)
    stores = [("SQLite", lambda tag: f"sqlite:///{folder / (tag + '.db')}")]
    if not args.no_postgres:

        def pg(tag: str) -> str:
            schema = f"bench_{tag}_{uuid.uuid4().hex[:8]}"
            eng = sa.create_engine(PG_URL)
            with eng.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            eng.dispose()
            schemas.append(schema)
            return f"{PG_URL}?options=-csearch_path%3D{schema}"

        stores.append(("PostgreSQL", pg))

    print("\n| store | writers | durable appends/s (median round) | raw INSERT of the same rows, "
          "batches of N = writers | ratio, median round | ratio, every round "
          "| raw INSERT of the same rows, batches of 4,096 | ratio "
          "| info: raw INSERT of one writer's consecutive events, batches of N "
          "| ratio |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    asyncs: dict[str, list[tuple[float, float]]] = {}
    for name, make_url in stores:
        for writers in args.writers:
            rounds: list[tuple[float, float]] = []  # (appends/s, ceiling/s), measured back to back
            for r in range(args.rounds):
                same = raw_ceiling(
                    make_url(f"c{writers}r{r}"), folder, args.seconds, writers, writers
                )
                log = open_log(make_url(f"w{writers}r{r}"), folder)
                rounds.append((appends(log, writers, args.seconds), same))
                log.close()
                if writers == 64:
                    same = raw_ceiling(make_url(f"ac{r}"), folder, args.seconds, writers, writers)
                    alog = open_log(make_url(f"a{r}"), folder)
                    asyncs.setdefault(name, []).append(
                        (async_appends(alog, writers, args.seconds), same)
                    )
                    alog.close()
            rate, same = _median_round(rounds)
            every = ", ".join(f"{a / c:.1%}" for a, c in rounds)
            big = raw_ceiling(make_url(f"b{writers}"), folder, args.seconds, 4096, writers)
            one = raw_ceiling(make_url(f"s{writers}"), folder, args.seconds, writers, 1)
            print(f"| {name} | {writers} | {rate:,.0f} | {same:,.0f} | {rate / same:.1%} | {every} "
                  f"| {big:,.0f} | {rate / big:.0%} "
                  f"| {one:,.0f} | {rate / one:.0%} |")  # fmt: skip

    drop_schemas()
    for name, rounds in asyncs.items():
        rate, same = _median_round(rounds)
        every = ", ".join(f"{a / c:.1%}" for a, c in rounds)
        print(f"{name}, 64 asyncio tasks awaiting arecord: {rate:,.0f} appends/s "
              f"({rate / same:.1%} of the batches-of-64 ceiling in the median round; "
              f"every round: {every})")  # fmt: skip

    if args.no_verify:
        return
    log = open_log(f"sqlite:///{folder / 'big.db'}", folder)
    fill_rate = fill(log, args.events)
    log.checkpoint()
    t0 = time.perf_counter()
    report = verify_log(log)
    dt = time.perf_counter() - t0
    assert report.ok, report.problems
    print(f"\nfill through the batch path: {fill_rate:,.0f} events/s")
    print(f"verify {report.size:,} events (SQLite, whole log, MACs, heads): "
          f"{dt:.2f} s = {report.size / dt:,.0f} events/s")  # fmt: skip
    t0 = time.perf_counter()
    found = check_structure(log.engine)
    dt = time.perf_counter() - t0
    assert not found, found
    print(f"structure check of the same log (verify --structure adds it: integrity_check of "
          f"the tables and indexes, generated columns against bodies): {dt:.2f} s = "
          f"{report.size / dt:,.0f} events/s")  # fmt: skip

    with log.engine.connect() as conn:
        leaves = [bytes(r[0]) for r in conn.execute(
            sa.select(store.events.c.leaf).order_by(store.events.c.seq))]  # fmt: skip
    t0 = time.perf_counter()
    tree = merkle.Tree(leaves)
    build = time.perf_counter() - t0
    root = tree.root()
    idx = [random.randrange(len(leaves)) for _ in range(20_000)]
    gen: list[float] = []
    chk: list[float] = []
    for i in idx:
        t0 = time.perf_counter()
        proof = tree.inclusion_proof(i)
        t1 = time.perf_counter()
        merkle.verify_inclusion(leaves[i], i, len(leaves), proof, root)
        t2 = time.perf_counter()
        gen.append(t1 - t0)
        chk.append(t2 - t1)
    totals = sorted(g + c for g, c in zip(gen, chk, strict=True))
    worst = totals[-1]
    print(f"tree build for {len(leaves):,} leaves (once per export): {build:.2f} s")
    print(f"inclusion proof generation: {1 / statistics.mean(gen):,.0f}/s "
          f"(median {statistics.median(gen) * 1e3:.4f} ms)")  # fmt: skip
    print(f"inclusion proof check: {1 / statistics.mean(chk):,.0f}/s "
          f"(median {statistics.median(chk) * 1e3:.4f} ms)")  # fmt: skip
    print(f"worst proof generate+check of 20,000 random leaves: {worst * 1e3:.3f} ms "
          f"(99.9th percentile {totals[int(len(totals) * 0.999)] * 1e3:.3f} ms; a worst case "
          f"far above it is the process being descheduled, not the proof)")  # fmt: skip
    old = len(leaves) // 3
    t0 = time.perf_counter()
    cproof = tree.consistency_proof(old)
    merkle.verify_consistency(old, len(leaves), tree.range_root(0, old), root, cproof)
    print(
        f"consistency proof {old:,} -> {len(leaves):,}: {(time.perf_counter() - t0) * 1e3:.3f} ms"
    )
    log.close()


if __name__ == "__main__":
    main()
