"""Where a 64-thread group-commit cycle goes: the writer's phases and the callers' turns.

    .venv/bin/python bench/audit_handoff.py [--writers 64] [--seconds 3]
    taskset -c 0 .venv/bin/python bench/audit_handoff.py     # every thread on one core

A dev tool for issue 4 (``bench/audit_bench.py`` is the benchmark). It wraps the log's internals
with timers, so its own rate is a little lower than the benchmark's; the split is what it is for:

- writer: preparing the rows (hashes, MACs, JSON), ``executemany``, the durable commit, and the
  gap from acknowledging one batch to starting the next (the callers' turns);
- callers: one turn is from being woken (its lock released by the caller before it) to queueing
  its next event, which includes building that event (``AuditEvent(...)``, timed alone as well);
  the hand-off is from queueing to the next caller's wake-up.

A turn's Python costs about twice as much in the chain as in a loop on one thread: each woken
thread runs on the other core, where the objects the last one touched are not in cache. Pinning
the process to one core (``taskset``) shows the difference.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import threading
import time
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_bench as ab
from phiward.audit import log as audit_log
from phiward.audit import store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--writers", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    clock = time.perf_counter
    marks: list[tuple[str, float, int]] = []
    built: list[float] = []
    phases: dict[str, float] = {}
    batches: list[dict[str, float]] = []

    wake_chain, put = audit_log._wake_chain, audit_log.AuditLog._put
    append, insert, settle = audit_log.AuditLog._append, store.insert_events, audit_log._settle
    make_event = ab.event

    def timed_wake(item: Any) -> None:
        marks.append(("wake", clock(), threading.get_ident()))
        wake_chain(item)

    def timed_put(self: audit_log.AuditLog, item: Any) -> None:
        marks.append(("put", clock(), threading.get_ident()))
        put(self, item)

    def timed_insert(conn: Any, rows: list[tuple[Any, ...]], *, copies: bool) -> None:
        phases["prepared"] = clock()
        insert(conn, rows, copies=copies)
        phases["inserted"] = clock()

    def timed_append(self: audit_log.AuditLog, batch: list[Any]) -> list[int]:
        phases["start"] = clock()
        seqs = append(self, batch)
        phases["committed"] = clock()
        return seqs

    def timed_settle(batch: list[Any], seqs: Any, error: Any) -> None:
        settle(batch, seqs, error)
        if "committed" in phases and batch and batch[0].event is not audit_log._FLUSH:
            batches.append({**phases, "settled": clock(), "n": float(len(batch))})
            phases.clear()

    def timed_event(i: int) -> Any:
        t0 = clock()
        ev = make_event(i)
        built.append(clock() - t0)
        return ev

    audit_log._wake_chain = timed_wake
    audit_log.AuditLog._put = timed_put  # type: ignore[method-assign]
    audit_log.AuditLog._append = timed_append  # type: ignore[method-assign]
    audit_log._settle = timed_settle
    store.insert_events = timed_insert
    ab.event = timed_event

    folder = Path(tempfile.mkdtemp(prefix="phiward-audit-handoff-"))
    log = ab.open_log(f"sqlite:///{folder / 'log.db'}", folder)
    rate = ab.appends(log, args.writers, args.seconds)
    log.close()

    def us(xs: list[float]) -> str:
        return f"{statistics.median(xs) * 1e6:,.1f} µs" if xs else "n/a"

    steady = batches[len(batches) // 10 : -2]
    print(f"{args.writers} writer threads, SQLite: {rate:,.0f} durable appends/s (timers on)")
    print(f"batches: {len(steady)}, median size {statistics.median(b['n'] for b in steady):.0f}")

    def phase(a: str, b: str) -> str:
        return us([x[b] - x[a] for x in steady])

    print("writer, per batch (median):")
    print(f"  lock + max(seq) + prepare rows  {phase('start', 'prepared')}")
    print(f"  executemany                     {phase('prepared', 'inserted')}")
    print(f"  durable commit                  {phase('inserted', 'committed')}")
    gaps = [steady[i + 1]["start"] - steady[i]["settled"] for i in range(len(steady) - 1)]
    print(f"  acknowledged -> next batch      {us(gaps)}")
    cycles = [steady[i + 1]["start"] - steady[i]["start"] for i in range(len(steady) - 1)]
    print(f"  whole cycle                     {us(cycles)}")

    middle = marks[len(marks) // 3 : 2 * len(marks) // 3]
    turns, handoffs = [], []
    for (kind, t, tid), (nkind, nt, ntid) in itertools.pairwise(middle):
        if kind == "wake" and nkind == "put" and tid == ntid:
            turns.append(nt - t)
        elif kind == "put" and nkind == "wake":
            handoffs.append(nt - t)
    alone = timeit.timeit(lambda: make_event(12345), number=20_000) / 20_000
    print("callers (median):")
    print(f"  turn: woken -> next event queued  {us(turns)}")
    print(f"  hand-off: queued -> next woken    {us(handoffs)}")
    print(f"  building one AuditEvent: in the chain {us(built)}, alone {alone * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
