"""``phiward check aws``: formats, exit codes, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phiward.cli.main import app

pytestmark = pytest.mark.moto
runner = CliRunner()


def test_help_explains_options() -> None:
    result = runner.invoke(app, ["check", "aws", "--help"])
    assert result.exit_code == 0
    for option in ("--region", "--profile", "--format", "--output", "--check", "--workers"):
        assert option in result.output


def test_list_checks() -> None:
    result = runner.invoke(app, ["check", "aws", "--list-checks"])
    assert result.exit_code == 0
    assert "rds_instance_not_publicly_accessible" in result.output
    assert "164.312(a)(1)" in result.output


def test_failures_exit_3_with_json(moto_reset: str) -> None:
    result = runner.invoke(app, ["check", "aws", "-r", "us-east-1", "--format", "json"])
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["failed"] is True
    assert len(data["requirements"]) >= 50


def test_clean_selection_exits_0_and_table_prints(moto_reset: str) -> None:
    result = runner.invoke(
        app, ["check", "aws", "-r", "us-east-1", "-c", "iam_root_no_access_keys"]
    )
    assert result.exit_code == 0, result.output
    assert "Requirements:" in result.output and "MANUAL" in result.output


def test_output_file_is_written(moto_reset: str, tmp_path: Path) -> None:
    out = tmp_path / "r" / "report.html"
    result = runner.invoke(
        app,
        [
            "check",
            "aws",
            "-r",
            "us-east-1",
            "-c",
            "ec2_ebs_default_encryption",
            "-f",
            "html",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 3
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_usage_errors_exit_2() -> None:
    result = runner.invoke(app, ["check", "aws", "--format", "bogus"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["check", "aws", "--workers", "0"])
    assert result.exit_code == 2


def test_unknown_check_is_a_clear_error(moto_reset: str) -> None:
    result = runner.invoke(app, ["check", "aws", "-r", "us-east-1", "-c", "no_such_check"])
    assert result.exit_code == 4
    assert "no_such_check" in result.output


def test_bad_eligible_list_is_a_clear_error(moto_reset: str, tmp_path: Path) -> None:
    bad = tmp_path / "e.json"
    bad.write_text('{"services": 3}')
    result = runner.invoke(
        app, ["check", "aws", "-r", "us-east-1", "--eligible-services", str(bad)]
    )
    assert result.exit_code == 4
    assert "eligible-services" in result.output


def test_missing_profile_is_a_clear_error(moto_reset: str) -> None:
    result = runner.invoke(app, ["check", "aws", "--profile", "does-not-exist-xyz"])
    assert result.exit_code == 4
    assert "does-not-exist-xyz" in result.output
