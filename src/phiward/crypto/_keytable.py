"""The key table: wrapped data keys referenced by id from field tokens (SQLAlchemy). Private.

Field tokens carry only a data-key id, so re-wrapping every data key under a new master key
rewrites this table and never the data. Crypto-shredding deletes the wrapped key (the row stays as
a tombstone so decryption says "shredded" instead of "unknown").

The schema is created and upgraded by the Alembic migrations in ``phiward/crypto/migrations``
(version table ``phiward_keys_alembic_version``, apart from the audit log's), run when a
``KeyTable`` opens. A table made by the earlier ``metadata.create_all`` is adopted: stamped at
revision 0001 after its columns are checked, with no row touched.
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

from phiward.core.migrating import RACE_ATTEMPTS, alembic_lock, race_pause
from phiward.errors import ConfigError, KeyProviderError

TABLE_NAME = "phiward_data_keys"
VERSION_TABLE = "phiward_keys_alembic_version"
ADOPTED_REVISION = "0001"  # the schema metadata.create_all made before the migrations existed
_PG_MIGRATE_LOCK = 0x70687761726B6579  # pg_advisory_xact_lock key ("phwarkey")

# The runtime model of the table, for queries. Schema changes go through a new migration in
# phiward/crypto/migrations/versions (and then here).

metadata = sa.MetaData()
data_keys = sa.Table(
    TABLE_NAME,
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("subject", sa.String(256), nullable=True),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("master_key_id", sa.String(2048), nullable=False),
    sa.Column("master_version", sa.String(2048), nullable=False),
    sa.Column("wrapped", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rewrapped_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_phiward_data_keys_master", "master_key_id", "master_version"),
    sa.Index("ix_phiward_data_keys_subject", "tenant", "subject"),
)


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: str
    tenant: str
    subject: str | None
    provider: str
    master_key_id: str
    master_version: str
    wrapped: bytes | None = field(repr=False)
    shredded: bool


_TABLES: weakref.WeakSet[KeyTable] = weakref.WeakSet()


def _fresh_pools_after_fork() -> None:
    """Database connections must not be shared with a forked child (SQLAlchemy's advice):
    the child opens its own, leaving the parent's untouched."""
    for table in list(_TABLES):
        table.engine.dispose(close=False)


os.register_at_fork(after_in_child=_fresh_pools_after_fork)


@functools.cache
def _head_revision() -> str:
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - see _alembic_config

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise ConfigError("the key table migrations are missing from this installation")
    return head


def _alembic_config() -> Config:
    # Alembic is imported on first use: it costs ~0.1 s, and most commands never open a table.
    from alembic.config import Config  # noqa: PLC0415

    cfg = Config()
    cfg.set_main_option("script_location", "phiward.crypto:migrations")
    return cfg


def _check_adoptable(conn: sa.Connection) -> None:
    """A table named ``phiward_data_keys`` without a version row: adopt it only if it has the
    columns ``metadata.create_all`` gave it (never stamp someone else's table)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(TABLE_NAME)}
    missing = sorted({c.name for c in data_keys.columns} - have)
    if missing:
        raise ConfigError(
            f"table {TABLE_NAME} exists but is not a phiward key table (missing columns: "
            f"{', '.join(missing)}); not adopting it"
        )


def migrate(engine: Engine) -> str:
    """Create or upgrade the key table's schema to the newest revision; adopt (stamp) a table
    made by ``metadata.create_all``. Returns what it did: ``current``, ``created``,
    ``adopted`` or ``upgraded``."""
    from alembic import command  # noqa: PLC0415 - see _alembic_config
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    head = _head_revision()
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
                    current = context.get_current_revision()
                    if current == head:
                        return "current"
                    cfg = _alembic_config()
                    cfg.attributes["connection"] = conn
                    done = "upgraded" if current is not None else "created"
                    with alembic_lock():
                        if current is None and sa.inspect(conn).has_table(TABLE_NAME):
                            _check_adoptable(conn)
                            command.stamp(cfg, ADOPTED_REVISION)
                            done = "adopted"
                        command.upgrade(cfg, "head")
                    return done
            except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError):
                # SQLite has no DDL lock: another process may have created the schema between
                # our look and our CREATE. Look again after a pause (core.migrating).
                if attempt == RACE_ATTEMPTS:
                    raise
                race_pause(attempt)
        raise AssertionError("unreachable")  # pragma: no cover
    except sa.exc.SQLAlchemyError as exc:
        raise ConfigError(f"cannot prepare the key table: {exc.__class__.__name__}") from exc


def _now() -> datetime:
    return datetime.now(UTC)


def _row(r: sa.Row[tuple[object, ...]]) -> KeyRow:
    m = r._mapping
    return KeyRow(
        str(m["id"]),
        str(m["tenant"]),
        m["subject"],
        str(m["provider"]),
        str(m["master_key_id"]),
        str(m["master_version"]),
        bytes(m["wrapped"]) if m["wrapped"] is not None else None,
        m["shredded_at"] is not None,
    )


class KeyTable:
    """Wrapped data keys in SQLite (default: ``$PHIWARD_HOME/keys.db``) or PostgreSQL."""

    def __init__(self, url_or_engine: str | Engine, *, create: bool = True) -> None:
        if isinstance(url_or_engine, Engine):
            self.engine = url_or_engine
        else:
            try:
                self.engine = sa.create_engine(url_or_engine)
            except (sa.exc.ArgumentError, ImportError) as exc:
                raise ConfigError(f"key table URL is not usable: {type(exc).__name__}") from exc
        if create:
            migrate(self.engine)
        _TABLES.add(self)

    def insert(self, row: KeyRow) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                data_keys.insert().values(
                    id=row.id,
                    tenant=row.tenant,
                    subject=row.subject,
                    provider=row.provider,
                    master_key_id=row.master_key_id,
                    master_version=row.master_version,
                    wrapped=row.wrapped,
                    created_at=_now(),
                )
            )

    def get(self, key_id: str) -> KeyRow | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(data_keys).where(data_keys.c.id == key_id)).first()
        return _row(r) if r is not None else None

    def shred_subject(self, tenant: str, subject: str) -> list[str]:
        """Erase the wrapped keys of one subject; returns the ids shredded."""
        with self.engine.begin() as conn:
            ids = [
                str(i)
                for i in conn.execute(
                    sa.select(data_keys.c.id).where(
                        data_keys.c.tenant == tenant,
                        data_keys.c.subject == subject,
                        data_keys.c.wrapped.is_not(None),
                    )
                ).scalars()
            ]
            if ids:
                conn.execute(
                    data_keys.update()
                    .where(data_keys.c.id.in_(ids))
                    .values(wrapped=None, shredded_at=_now())
                )
        return ids

    def iter_stale(
        self,
        master_key_id: str,
        current_version: str,
        batch_size: int,
        target_key_id: str | None = None,
    ) -> Iterator[list[KeyRow]]:
        """Batches of live keys of ``master_key_id`` not yet under ``target`` at its current
        version, in id order. The condition is the state of the table, so a crashed run resumes
        where it stopped; the id cursor moves past rows that could not be re-wrapped."""
        target = target_key_id or master_key_id
        after = ""
        while True:
            cond = sa.and_(
                data_keys.c.master_key_id == master_key_id,
                data_keys.c.wrapped.is_not(None),
                data_keys.c.id > after,
            )
            if target == master_key_id:
                cond = sa.and_(cond, data_keys.c.master_version != current_version)
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(data_keys).where(cond).order_by(data_keys.c.id).limit(batch_size)
                ).all()
            if not rows:
                return
            batch = [_row(r) for r in rows]
            after = batch[-1].id
            yield batch

    def update_wrapped(self, updates: Sequence[tuple[KeyRow, bytes, str, str]]) -> int:
        """Replace wrapped keys in one transaction; each update only applies if the row still has
        the wrapped value we read (so concurrent shredding or re-wrapping is never undone)."""
        done = 0
        now = _now()
        with self.engine.begin() as conn:
            for row, wrapped, key_id, version in updates:
                res = conn.execute(
                    data_keys.update()
                    .where(
                        data_keys.c.id == row.id,
                        data_keys.c.master_version == row.master_version,
                        data_keys.c.master_key_id == row.master_key_id,
                        data_keys.c.wrapped == row.wrapped,
                    )
                    .values(
                        wrapped=wrapped,
                        master_key_id=key_id,
                        master_version=version,
                        rewrapped_at=now,
                    )
                )
                done += res.rowcount
        return done

    def count_by_master(self) -> list[tuple[str, str, str, int]]:
        """``(provider, master_key_id, master_version, live keys)`` for the stale-key report."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    data_keys.c.provider,
                    data_keys.c.master_key_id,
                    data_keys.c.master_version,
                    sa.func.count(),
                )
                .where(data_keys.c.wrapped.is_not(None))
                .group_by(
                    data_keys.c.provider, data_keys.c.master_key_id, data_keys.c.master_version
                )
                .order_by(data_keys.c.master_key_id, data_keys.c.master_version)
            ).all()
        return [(str(p), str(k), str(v), int(n)) for p, k, v, n in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(data_keys)).scalar_one())


def check_provider(row: KeyRow, provider_name: str) -> None:
    if row.provider != provider_name:
        raise KeyProviderError(
            f"data key {row.id} was wrapped by provider {row.provider!r}, not {provider_name!r}"
        )
