"""Where the log lives: SQLite (embedded default, WAL, ``synchronous=FULL``) or PostgreSQL.

The schema is created and upgraded by the Alembic migrations shipped in
``phiward/audit/migrations``. Appends hold a write lock for the length of one transaction
(``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL) so that several
processes can share one log and sequence numbers never collide.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError

from phiward.core.migrating import RACE_ATTEMPTS, alembic_lock, race_pause
from phiward.errors import AuditError

metadata = sa.MetaData()
events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("occurred", sa.String(32), nullable=False),
    sa.Column("type", sa.String(128), nullable=False),
    sa.Column("action", sa.String(1), nullable=False),
    sa.Column("user_id", sa.String(512)),
    sa.Column("patient_id", sa.String(512)),
    sa.Column("body", sa.Text),
    sa.Column("leaf", sa.LargeBinary(32), nullable=False),
    sa.Column("mac", sa.LargeBinary(32), nullable=False),
    sa.Column("purged", sa.Boolean, nullable=False),
)
heads = sa.Table(
    "audit_heads",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("frontier", sa.LargeBinary, nullable=False),
    sa.Column("created", sa.String(32), nullable=False),
)

_PG_LOCK_ID = 0x70686977_61756474 & 0x7FFFFFFFFFFFFFFF  # "phiwaudt"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level so that our explicit BEGIN IMMEDIATE is the transaction.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with the durability settings the log needs."""
    if url.startswith("sqlite"):
        db = sa.engine.make_url(url).database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A pooled connection stays open: closing the last connection of a WAL database
        # checkpoints and removes the WAL, which cost ~2 ms per append batch.
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    # PostgreSQL commits are durable with the server's default synchronous_commit=on.
    return sa.create_engine(url, pool_pre_ping=True)


_PG_MIGRATE_LOCK = 0x70686977_6D696772 & 0x7FFFFFFFFFFFFFFF  # "phiwmigr"
VERSION_TABLE = "phiward_audit_version"


def migrate(engine: sa.Engine) -> None:
    """Create or upgrade the schema to the newest revision.

    Several processes may open one log at once: on PostgreSQL they take turns under an advisory
    lock; SQLite's ``BEGIN IMMEDIATE`` is not taken by Alembic's DDL, so a lost race to create
    the tables is looked at once more. A schema already at the head costs one query.
    """
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    cfg = Config()
    cfg.set_main_option("script_location", "phiward.audit:migrations")
    head = ScriptDirectory.from_config(cfg).get_current_head()
    try:
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                with engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(
                            sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATE_LOCK}
                        )
                    context = MigrationContext.configure(
                        conn, opts={"version_table": VERSION_TABLE}
                    )
                    if context.get_current_revision() == head:
                        return
                    cfg.attributes["connection"] = conn
                    with alembic_lock():
                        command.upgrade(cfg, "head")
                    return
            except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError):
                if attempt == RACE_ATTEMPTS:
                    raise
                race_pause(attempt)
    except sa.exc.SQLAlchemyError as exc:
        raise AuditError(f"cannot prepare the audit database: {exc.__class__.__name__}") from exc
    except CommandError as exc:  # a revision this version does not know: a newer phiward's
        raise AuditError(
            f"the audit database's schema is newer than this phiward ({exc}); upgrade phiward"
        ) from exc


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One append transaction, holding the log's write lock until commit."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
        yield conn


def driver_rows(conn: sa.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run ``sql`` (in the driver's parameter style) on the driver's own cursor and fetch all.

    Cheaper than SQLAlchemy's statement handling on hot paths, and it opens no SQLAlchemy
    transaction, which on SQLite would mean ``BEGIN IMMEDIATE``, the log's write lock."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def next_seq(conn: sa.Connection) -> int:
    """The next sequence number, read through the driver (once per append batch: SQLAlchemy's
    statement handling cost ~4x the query itself)."""
    rows = driver_rows(conn, "SELECT max(seq) FROM audit_events")
    value = rows[0][0] if rows else None
    return 0 if value is None else int(value) + 1


_PG_LOCK_AND_MAX = (
    f"SELECT pg_advisory_xact_lock({_PG_LOCK_ID}); "  # noqa: S608 - a constant
    "SELECT max(seq) FROM audit_events"
)


@contextmanager
def append_transaction(conn: sa.Connection) -> Iterator[int]:
    """A write transaction on a connection the writer holds; yields the next sequence number.

    The writer keeps one connection for its lifetime (a pool checkout with PostgreSQL's
    pre-ping cost a round trip per batch). On PostgreSQL the write lock and ``max(seq)`` go
    in one round trip: two statements in one simple query, the second running, with its own
    snapshot, only once the lock is held.
    """
    with conn.begin():
        if conn.dialect.name != "postgresql":
            yield next_seq(conn)
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_PG_LOCK_AND_MAX)
            cursor.nextset()
            row = cursor.fetchone()
        finally:
            cursor.close()
        value = None if row is None else row[0]
        yield 0 if value is None else int(value) + 1


INDEXED = ("occurred", "type", "action", "user_id", "patient_id")
"""Columns that copy a top-level field of the signed body so that queries can use an index. On
SQLite (3.35 and later) they are virtual columns generated from the body, which nobody can write;
elsewhere they are stored, not covered by the hash, and ``verify`` checks every row's copies
against its body (retention also checks the row that bounds a purge)."""

COLUMNS = ("seq", "occurred", "type", "action", "user_id", "patient_id", "body", "leaf", "mac",
           "purged")  # fmt: skip
"""An event row as the writer inserts it where the copies are stored."""
BODY_COLUMNS = ("seq", "body", "leaf", "mac", "purged")
"""An event row as the writer inserts it where the copies are generated from the body."""


SQLITE_COPIES_DIFFER = (
    "CASE WHEN e.body IS NULL THEN 0 WHEN NOT json_valid(e.body) THEN 1 WHEN "
    + " AND ".join(f"json_extract(e.body, '$.{name}') IS e.{name}" for name in INDEXED)
    + " THEN 0 ELSE 1 END"
)
"""SQLite: 1 where a row's indexed copies (table alias ``e``) differ from its body's own fields,
whether the copies are stored or generated by a column expression someone may have rewritten."""


def stored_copies(conn: sa.Connection) -> bool:
    """Does this database store the indexed copies (PostgreSQL; SQLite before 3.35) rather than
    generate them from the body (migration 0002)?"""
    if conn.dialect.name != "sqlite":
        return True
    columns = driver_rows(conn, "PRAGMA table_xinfo(audit_events)")
    return not any(c[1] == "patient_id" and c[6] in {2, 3} for c in columns)  # 2, 3: generated


def insert_events(conn: sa.Connection, rows: list[tuple[Any, ...]], *, copies: bool) -> None:
    """Insert event rows (in ``COLUMNS`` order, or ``BODY_COLUMNS`` when not ``copies``)
    through the driver's ``executemany``.

    The hot path of every append: SQLAlchemy's per-row parameter processing cost more than the
    hashing, so the rows go to the driver as tuples, in its own parameter style.
    """
    columns = COLUMNS if copies else BODY_COLUMNS
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO audit_events ({', '.join(columns)}) "  # noqa: S608 - fixed names
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
    except Exception as exc:
        raise AuditError(f"cannot append to the audit log: {exc.__class__.__name__}") from exc
    finally:
        cursor.close()
