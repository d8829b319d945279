"""``phiward scan`` and ``phiward demo-data``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Register this module's commands on the root app."""
    del app
