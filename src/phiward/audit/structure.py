"""The database structures that indexed queries read through, checked against the rows.

``verify`` proves the rows: every body, hash, MAC and head. A query by patient, user or time
(an accounting of disclosures) reads through an index instead, and an index can lie while every
row verifies: a B-tree entry removed below SQL, or an index rebuilt over a rewritten column
expression, leaves that event out of the answer. This is the check that closes the gap, run by
``verify_log(..., structure=True)`` (``phiward audit verify --structure``):

- **SQLite**: ``PRAGMA integrity_check`` on the log's two tables (every row has its entry in
  every index, and every entry matches its row as the schema defines it), and every row's
  indexed values, as the table's generated columns compute them, compared with the canonical
  ``json_extract`` of its body, which catches a column expression rewritten through
  ``PRAGMA writable_schema`` and reindexed.
- **PostgreSQL**: ``amcheck``'s ``bt_index_check`` with ``heapallindexed`` on every index of the
  two tables (every visible row has its entry; the stored copies themselves are compared with
  the bodies by every ``verify``). An index of another kind, which ``amcheck`` cannot check and
  phiward never creates, is reported. ``amcheck`` must be installed in the database
  (``CREATE EXTENSION amcheck``, by a superuser): verify changes nothing, so it does not.

It reads every row and index entry, so it costs several times a plain ``verify``: run it on a
schedule and before handing an accounting of disclosures to anyone.
"""

from __future__ import annotations

import re
import sqlite3

import sqlalchemy as sa

from phiward.audit import store
from phiward.errors import AuditError

Finding = tuple[int | None, str]
"""A sequence number where one is known, and what is wrong (names and numbers, never values)."""

_TABLES = ("audit_events", "audit_heads")
_MISSING = re.compile(r"row (\d+) missing from index (\S+)")
_COUNT = re.compile(r"wrong # of entries in index (\S+)")
_HEAP_TUPLE = re.compile(r"heap tuple \((\d+),(\d+)\)")
_LIMIT = 100  # findings of one kind named one by one; SQLite's integrity_check stops at 100 too


def check_structure(engine: sa.Engine) -> list[Finding]:
    """Check the indexes (and on SQLite the generated columns) of the log's tables."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            return _sqlite(conn)
    if engine.dialect.name == "postgresql":
        return _postgres(engine)
    raise AuditError(f"no structure check for {engine.dialect.name} databases")


def _sqlite(conn: sa.Connection) -> list[Finding]:
    findings: list[Finding] = []
    # (pragma, whether its "row N" are rows of audit_events); integrity_check(TABLE) since 3.33
    if sqlite3.sqlite_version_info >= (3, 33):
        pragmas = [(f"PRAGMA integrity_check({t})", t == "audit_events") for t in _TABLES]
    else:
        pragmas = [("PRAGMA integrity_check", False)]
    named: set[str] = set()  # indexes with a missing entry named: their count is no news
    for pragma, events_rows in pragmas:
        for (message,) in store.driver_rows(conn, pragma):
            count = _COUNT.fullmatch(str(message))
            if message == "ok" or (count and count[1] in named):
                continue
            missing = _MISSING.fullmatch(str(message))
            ours = missing and (events_rows or "audit_events" in missing[2])
            seq = _seq_of_rowid(conn, int(missing[1])) if missing and ours else None
            if missing and seq is not None:
                named.add(missing[2])
                findings.append(
                    (seq, f"index {missing[2]} has no entry for this event: a query through "
                          "it leaves the event out (integrity_check)")
                )  # fmt: skip
            else:
                findings.append((None, f"{message} (integrity_check)"))
    if not store.stored_copies(conn):  # stored copies are compared by every verify
        rows = store.driver_rows(
            conn,
            f"SELECT e.seq FROM audit_events AS e WHERE ({store.SQLITE_COPIES_DIFFER}) = 1 "  # noqa: S608 - constants
            f"ORDER BY e.seq LIMIT {_LIMIT + 1}",
        )
        for (seq,) in rows[:_LIMIT]:
            findings.append(
                (int(seq), "the indexed values generated for this event differ from its body: "
                           "a column expression was changed (json_extract comparison)")
            )  # fmt: skip
        if len(rows) > _LIMIT:
            findings.append((None, f"more events than these {_LIMIT} have generated values "
                                   "that differ from their bodies"))  # fmt: skip
    return findings


def _seq_of_rowid(conn: sa.Connection, rowid: int) -> int | None:
    rows = store.driver_rows(conn, "SELECT seq FROM audit_events WHERE rowid = ?", (rowid,))
    return int(rows[0][0]) if rows else None


_PG_INDEXES = """
SELECT c.oid, c.relname, t.relname, a.amname
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_am AS a ON a.oid = c.relam
WHERE i.indrelid IN ('audit_events'::regclass, 'audit_heads'::regclass) AND i.indisvalid
ORDER BY t.relname, c.relname
"""


def _postgres(engine: sa.Engine) -> list[Finding]:
    with engine.connect() as conn:
        ext = store.driver_rows(
            conn,
            "SELECT n.nspname FROM pg_extension AS x JOIN pg_namespace AS n "
            "ON n.oid = x.extnamespace WHERE x.extname = 'amcheck'",
        )
        if not ext:
            raise AuditError(
                "the structure check needs PostgreSQL's amcheck extension in this database; "
                "a superuser can add it with CREATE EXTENSION amcheck (verify changes nothing "
                "itself)"
            )
        schema = conn.dialect.identifier_preparer.quote(str(ext[0][0]))
        indexes = store.driver_rows(conn, _PG_INDEXES)
    findings: list[Finding] = []
    for oid, name, table, method in indexes:
        if method != "btree":
            findings.append(
                (None, f"index {name} on {table} is a {method} index, which amcheck cannot "
                       "check and phiward never creates: a query planned through it could "
                       "leave events out")
            )  # fmt: skip
            continue
        # One connection per index: a corruption error aborts the transaction it ran in.
        with engine.connect() as conn:
            try:
                store.driver_rows(
                    conn, f"SELECT {schema}.bt_index_check(%s::oid::regclass, true)", (oid,)
                )
            except conn.dialect.loaded_dbapi.Error as exc:  # the driver's own: a raw cursor
                findings.append(_amcheck_finding(engine, exc, name, table))
    return findings


def _amcheck_finding(engine: sa.Engine, exc: Exception, name: str, table: str) -> Finding:
    state = str(getattr(exc, "sqlstate", "") or "")
    first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    if state == "42501":
        raise AuditError(
            "the structure check needs permission to run amcheck's bt_index_check (a superuser, "
            "or GRANT EXECUTE on it to the verifying role)"
        ) from exc
    if not state.startswith("XX"):  # not a corruption report: something else went wrong
        raise AuditError(f"the structure check could not run on index {name}: {first}") from exc
    heap = _HEAP_TUPLE.search(first)
    if heap and table == "audit_events":
        with engine.connect() as conn:
            rows = store.driver_rows(
                conn,
                "SELECT seq FROM audit_events WHERE ctid = %s::tid",
                (f"({heap[1]},{heap[2]})",),
            )
        if rows:
            return (
                int(rows[0][0]),
                f"index {name} has no entry for this event: a query through it leaves the "
                f"event out (amcheck; it stops at the first fault in an index)",
            )
    return (None, f"index {name} on {table} is corrupt (amcheck: {first})")
