"""Alembic environment: the key table hands over its open connection; nothing is read from disk.

The version table is the key table's own, so these migrations share a database with the audit
log's (``phiward_audit_version``) without either seeing the other's revisions.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table="phiward_keys_version",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
