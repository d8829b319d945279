"""Verify speed of a 1,000,000-event SQLite audit log with 1 and 2 worker processes.

.venv/bin/python bench/audit_verify_workers.py
"""

import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from audit_bench import fill, open_log
from phiward.audit import verify_log

d = pathlib.Path(tempfile.mkdtemp())
log = open_log(f"sqlite:///{d / 'big.db'}", d)
print("fill", round(fill(log, 1_000_000)))
log.checkpoint()
for w in (1, 2, 1, 2, 2):
    t = time.perf_counter()
    r = verify_log(log, workers=w)
    dt = time.perf_counter() - t
    assert r.ok
    print(f"workers={w}: {r.size / dt:,.0f} events/s ({dt:.2f} s)")
