"""The key table is created and upgraded by Alembic with its own version table."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from phiward.crypto import KeyTable
from phiward.crypto._keytable import FIRST_REVISION, TABLE_NAME, VERSION_TABLE, metadata


def _version(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one())


def _drift(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    return [d for d in diff if "version" not in str(d)]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'keys.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_new_database_is_migrated_to_head_and_matches_the_model(url: str) -> None:
    table = KeyTable(url)
    assert _version(table.engine) == FIRST_REVISION
    assert _drift(table.engine) == []
    KeyTable(url)  # opening again is a no-op
    assert _version(table.engine) == FIRST_REVISION


def test_a_table_made_before_migrations_is_adopted_with_its_rows(url: str) -> None:
    engine = sa.create_engine(url)
    metadata.create_all(engine)  # how the key table was created before this change
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO {TABLE_NAME} (id, tenant, provider, master_key_id, master_version,"
                " wrapped, created_at) VALUES ('a' , 't', 'local', 'app', 'v1', :w, :c)"
            ),
            {"w": b"\x01wrapped", "c": "2026-01-01 00:00:00"},
        )
    table = KeyTable(url)
    assert _version(table.engine) == FIRST_REVISION
    row = table.get("a")
    assert row is not None and row.wrapped == b"\x01wrapped"


def test_shares_a_database_with_the_audit_log(tmp_path: Path) -> None:
    from phiward.audit import store

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = store.create_engine(url)
    store.migrate(engine)
    table = KeyTable(url)
    with table.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert {VERSION_TABLE, "phiward_audit_version", TABLE_NAME, "audit_events"} <= names
    assert _version(table.engine) == FIRST_REVISION
