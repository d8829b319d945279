from __future__ import annotations

from typer.testing import CliRunner

from phiward import __version__
from phiward.cli.main import app


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"phiward {__version__}"


def test_help_lists_exit_codes() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output
