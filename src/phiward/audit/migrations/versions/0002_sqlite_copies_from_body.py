"""SQLite: the indexed copies become virtual columns computed from the signed body.

Stored copies were not hashed: a direct edit could hide an event from a query while its body
still verified. Generated from ``body`` they cannot be written at all (``cannot UPDATE generated
column``), their indexes are kept by SQLite itself, and rows shrink by the five copies.
PostgreSQL keeps stored copies (indexes on the body's fields re-parse it as ``jsonb`` once per
indexed expression on every insert, which cost 35-45 % of insert throughput when measured);
``verify`` checks them. SQLite before 3.35 cannot drop a column: the copies stay stored there,
and are checked.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlite3

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_audit_events_patient": "patient_id",
    "ix_audit_events_user": "user_id",
    "ix_audit_events_occurred": "occurred",
}
_COPIES = ("occurred", "type", "action", "user_id", "patient_id")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite" or sqlite3.sqlite_version_info < (3, 35):
        return
    for name in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for column in _COPIES:  # each drop rewrites the table: a one-time cost on a large log
        op.execute(f"ALTER TABLE audit_events DROP COLUMN {column}")
    for column in _COPIES:
        op.execute(
            f"ALTER TABLE audit_events ADD COLUMN {column} TEXT "
            f"GENERATED ALWAYS AS (json_extract(body, '$.{column}')) VIRTUAL"
        )
    for name, columns in _INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON audit_events ({columns})")


def downgrade() -> None:
    raise NotImplementedError("the audit log's schema is not downgraded")
