"""Alembic migrations of the data-key table (version table ``phiward_keys_version``)."""
