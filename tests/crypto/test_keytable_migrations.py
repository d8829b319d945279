"""The data-key table's Alembic migrations: fresh creation, adoption of tables made by the old
``metadata.create_all`` path (no data lost), coexistence with the audit log's migrations in one
database, and concurrent first opens. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from phiward.audit import store as audit_store
from phiward.crypto import FieldEncryptor, KeyTable, LocalKeyStore, token_key_id
from phiward.crypto._keytable import VERSION_TABLE, _head_revision, metadata, migrate
from phiward.errors import ConfigError

WHERE = {"table": "patients", "column": "ssn", "record_id": "p-17"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def _versions(engine: sa.Engine, table: str) -> list[str]:
    with engine.connect() as conn:
        return [str(v) for v in conn.execute(sa.text(f"SELECT version_num FROM {table}")).scalars()]


def _schema(engine: sa.Engine) -> tuple[object, ...]:
    insp = sa.inspect(engine)
    columns = sorted(
        (c["name"], type(c["type"]).__name__, getattr(c["type"], "length", None), c["nullable"])
        for c in insp.get_columns("phiward_data_keys")
    )
    indexes = sorted(
        (i["name"], tuple(i["column_names"])) for i in insp.get_indexes("phiward_data_keys")
    )
    pk = insp.get_pk_constraint("phiward_data_keys")["constrained_columns"]
    return tuple(columns), tuple(indexes), tuple(pk)


def test_fresh_database_gets_the_migrated_schema(db_url: str) -> None:
    table = KeyTable(db_url)
    try:
        assert _versions(table.engine, VERSION_TABLE) == [_head_revision()] == ["0001"]
        assert migrate(table.engine) == "current"  # a second open changes nothing
        assert table.count() == 0
    finally:
        table.engine.dispose()


def test_migration_matches_the_create_all_schema(tmp_path: Path) -> None:
    """Revision 0001 must be exactly what create_all made, or adoption would be a lie."""
    old = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    metadata.create_all(old)
    new = KeyTable(f"sqlite:///{tmp_path / 'new.db'}").engine
    assert _schema(old) == _schema(new)


def test_create_all_database_is_adopted_without_data_loss(db_url: str, master_key_env: str) -> None:
    store = LocalKeyStore.open()
    store.create_key("app")
    old_engine = sa.create_engine(db_url)
    metadata.create_all(old_engine)  # the pre-Alembic path, exactly as KeyTable used to do it
    old = FieldEncryptor(store, KeyTable(old_engine, create=False), "app")
    tokens = [old.encrypt(f"v{i}", subject="s" if i % 2 else None, **WHERE) for i in range(6)]
    assert old.shred_subject("s") == 1
    before = old.key_table.count_by_master(), old.key_table.count()
    assert not sa.inspect(old_engine).has_table(VERSION_TABLE)

    assert migrate(old_engine) == "adopted"
    assert _versions(old_engine, VERSION_TABLE) == ["0001"]
    table = KeyTable(db_url)  # what every later open does
    try:
        assert (table.count_by_master(), table.count()) == before
        fresh = FieldEncryptor(LocalKeyStore.open(), table, "app")
        assert [fresh.decrypt_str(t, **WHERE) for t in tokens[::2]] == ["v0", "v2", "v4"]
        shredded = table.get(token_key_id(tokens[1]))
        assert shredded is not None and shredded.shredded and shredded.wrapped is None
        assert migrate(table.engine) == "current"
    finally:
        table.engine.dispose()
        old_engine.dispose()


def test_foreign_table_with_the_same_name_is_not_adopted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE phiward_data_keys (id TEXT PRIMARY KEY, blob BLOB)"))
    with pytest.raises(ConfigError, match="not a phiward key table"):
        KeyTable(url)
    assert not sa.inspect(engine).has_table(VERSION_TABLE)


def test_unusable_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="cannot prepare the key table"):
        KeyTable(f"sqlite:///{tmp_path / 'not-a-db'}")


def test_coexists_with_the_audit_log_migrations(db_url: str) -> None:
    """One database, two Alembic histories, two version tables: neither sees the other."""
    engine = sa.create_engine(db_url)
    try:
        audit_store.migrate(engine)
        audit_versions = _versions(engine, "phiward_audit_version")
        table = KeyTable(engine)
        assert _versions(engine, VERSION_TABLE) == ["0001"]
        assert _versions(engine, "phiward_audit_version") == audit_versions
        audit_store.migrate(engine)  # the audit log reopening does not touch the key table
        assert migrate(engine) == "current"
        names = set(sa.inspect(engine).get_table_names())
        assert {
            "audit_events",
            "phiward_data_keys",
            VERSION_TABLE,
            "phiward_audit_version",
        } <= names
        assert table.count() == 0
    finally:
        engine.dispose()


def test_concurrent_first_opens_all_succeed(db_url: str) -> None:
    errors: list[BaseException] = []
    tables: list[KeyTable] = []
    lock = threading.Lock()

    def open_table() -> None:
        try:
            t = KeyTable(db_url)
            with lock:
                tables.append(t)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_table) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert _versions(tables[0].engine, VERSION_TABLE) == ["0001"]
    finally:
        for t in tables:
            t.engine.dispose()


def test_concurrent_first_opens_from_several_processes(tmp_path: Path) -> None:
    """SQLite has no DDL lock: processes racing to create the schema must all end up open."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = "import sys; from phiward.crypto import KeyTable; KeyTable(sys.argv[1]); print('ok')"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outs == ["ok"] * 4 and all(p.returncode == 0 for p in procs)
    assert _versions(sa.create_engine(url), VERSION_TABLE) == ["0001"]
