"""Alembic environment: the store hands over its open connection; nothing is read from disk."""

from __future__ import annotations

from alembic import context

from phiward.audit.store import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=VERSION_TABLE,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
