"""Alembic migrations of the data-key table (shipped in the package, run by ``KeyTable``).

Separate from the audit log's migrations: its own version table
(``phiward_keys_alembic_version``), so both schemas can live in one database.
"""
