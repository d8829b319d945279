"""Audit log tables: events (append-only leaves) and signed tree heads.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("occurred", sa.String(32), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("action", sa.String(1), nullable=False),
        sa.Column("user_id", sa.String(512)),
        sa.Column("patient_id", sa.String(512)),
        sa.Column("body", sa.Text),
        sa.Column("leaf", sa.LargeBinary(32), nullable=False),
        sa.Column("mac", sa.LargeBinary(32), nullable=False),
        sa.Column("purged", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_audit_events_patient", "audit_events", ["patient_id", "occurred"])
    op.create_index("ix_audit_events_user", "audit_events", ["user_id", "occurred"])
    op.create_index("ix_audit_events_occurred", "audit_events", ["occurred"])
    op.create_table(
        "audit_heads",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_heads")
    op.drop_table("audit_events")
