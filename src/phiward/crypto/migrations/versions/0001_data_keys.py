"""Data-key table ``phiward_data_keys`` (the schema ``metadata.create_all`` made before Alembic).

Key tables created that way are adopted: ``KeyTable`` stamps them at this revision (after
checking their columns) instead of creating anything, so no row is touched.

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
        "phiward_data_keys",
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
    )
    op.create_index(
        "ix_phiward_data_keys_master", "phiward_data_keys", ["master_key_id", "master_version"]
    )
    op.create_index("ix_phiward_data_keys_subject", "phiward_data_keys", ["tenant", "subject"])


def downgrade() -> None:
    op.drop_index("ix_phiward_data_keys_subject", table_name="phiward_data_keys")
    op.drop_index("ix_phiward_data_keys_master", table_name="phiward_data_keys")
    op.drop_table("phiward_data_keys")
