"""Alembic migrations of the audit log schema (shipped in the package, run by the store)."""
