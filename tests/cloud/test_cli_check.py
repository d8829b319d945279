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


def test_table_with_output_is_a_usage_error(moto_reset: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "check",
            "aws",
            "-r",
            "us-east-1",
            "-c",
            "iam_root_no_access_keys",
            "-o",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2
    assert "--output needs a file format" in result.output


def test_named_profile_from_the_standard_files(
    moto_reset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "credentials"
    creds.write_text("[audit]\naws_access_key_id = AKIAAUDIT\naws_secret_access_key = s3cr3t\n")
    config = tmp_path / "config"
    config.write_text("[profile audit]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(
        app,
        [
            "check",
            "aws",
            "--profile",
            "audit",
            "-r",
            "us-east-1",
            "-c",
            "iam_root_no_access_keys",
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["account_id"] == "123456789012"


def test_scan_emits_one_security_event(moto_reset: str) -> None:
    from phiward.cloud import ScanOptions, run_scan
    from phiward.core.events import SecurityEvent, set_hook

    seen: list[SecurityEvent] = []
    previous = set_hook(seen.append)
    try:
        run_scan(ScanOptions(regions=("us-east-1",), checks=("ec2_ebs_default_encryption",)))
    finally:
        set_hook(previous)
    [event] = seen
    assert event.action == "cloud.check" and event.crud == "E"
    assert event.outcome == "failure" and event.resource_id == "123456789012"
    assert event.details["failed_results"] == 1
