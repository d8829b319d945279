"""``phiward audit`` end to end, and the wiring: CLI commands leave verified events in the log."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phiward.cli.main import app
from phiward.core import events

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PHIWARD_MASTER_KEY", os.urandom(32).hex())
    return Path(os.environ["PHIWARD_HOME"])


def test_crypto_commands_are_audited_and_the_log_verifies(keyed: Path, tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("clinical notes\n" * 50)
    assert run("keys", "create", "app")[0] == 0
    assert run("encrypt", str(src), "-o", str(tmp_path / "n.enc"), "--key", "app")[0] == 0
    code, _, err = run("decrypt", str(tmp_path / "n.enc"), "-o", str(tmp_path / "n.out"),
                       "--key", "app")  # fmt: skip
    assert code == 0, err
    assert events.current_hook() is None  # each command put the previous hook back

    code, out, err = run("audit", "query", "--format", "json")
    assert code == 0, err
    types = [e["type"] for e in json.loads(out)]
    assert "key.create" in types and "file.encrypt" in types and "file.decrypt" in types
    code, out, _ = run("audit", "verify", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["checkpoints_checked"] == 1
    # The query itself was recorded.
    code, out, _ = run("audit", "query", "--type", "audit.read", "--format", "json")
    assert code == 0 and len(json.loads(out)) >= 1


def test_scan_is_audited(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("nothing to see\n")
    code, _, err = run("scan", str(tmp_path / "a.txt"), "--quiet")
    assert code in (0, 1), err
    code, out, _ = run("audit", "query", "--type", "scan.run", "--format", "json")
    assert code == 0 and len(json.loads(out)) == 1


def test_tampering_exits_5_and_names_the_row(keyed: Path, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        assert run("keys", "create", name)[0] == 0
    db = keyed / "audit" / "audit.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_events SET body = replace(body, 'key.create', 'key.creatf') "
                     "WHERE seq = 1")  # fmt: skip
    code, out, _ = run("audit", "verify")
    assert code == 5
    assert "modified seq 1" in out


def test_the_patient_copy_cannot_be_edited(keyed: Path, tmp_path: Path) -> None:
    """SQLite generates the indexed patient_id from the signed body: there is no copy to edit."""
    for name in ("a", "b"):
        assert run("keys", "create", name)[0] == 0
    db = keyed / "audit" / "audit.db"
    with sqlite3.connect(db) as conn, pytest.raises(sqlite3.OperationalError, match="generated"):
        conn.execute("UPDATE audit_events SET patient_id = 'pat-7' WHERE seq = 1")
    code, out, _ = run("audit", "verify")
    assert code == 0, out


def test_query_table_shows_whole_values_and_skips_empty_columns(keyed: Path) -> None:
    assert run("keys", "create", "a-key-with-a-rather-long-name")[0] == 0
    result = CliRunner().invoke(app, ["audit", "query"], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.stderr
    assert "…" not in result.stdout  # values wrap in a narrow table; none is cut short
    assert "pati" not in result.stdout  # no event names a patient: no patient_id column


def test_export_and_offline_verification(keyed: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert run("keys", "create", name)[0] == 0
    out_file = tmp_path / "export.ndjson"
    code, _, err = run("audit", "export", "-o", str(out_file))
    assert code == 0, err
    code, info, _ = run("audit", "info")
    key = next(line.split(None, 1)[1] for line in info.splitlines() if line.startswith("verifier"))
    code, out, err = run("audit", "verify-export", str(out_file), "--key", key)
    assert code == 0 and "events proven" in out, err

    lines = out_file.read_text().splitlines()
    record = json.loads(lines[1])
    record["event"] = record["event"].replace("key.create", "key.delete")
    lines[1] = json.dumps(record)
    bad = tmp_path / "bad.ndjson"
    bad.write_text("\n".join(lines) + "\n")
    code, _, err = run("audit", "verify-export", str(bad), "--key", key)
    assert code == 5 and "line 2" in err


def test_audit_can_be_disabled(monkeypatch: pytest.MonkeyPatch, keyed: Path) -> None:
    monkeypatch.setenv("PHIWARD_AUDIT__ENABLED", "false")
    assert run("keys", "create", "x")[0] == 0
    assert not (keyed / "audit" / "audit.db").exists()


def test_retention_requires_apply() -> None:
    code, _, err = run("audit", "retention")
    assert code == 2 and "--apply" in err


def test_verify_structure_names_an_index_missing_an_entry(keyed: Path) -> None:
    """An index rebuilt without event 1's entry, its schema text restored: rows all verify, so
    plain verify passes (and says the structure was not checked); --structure exits 5."""
    for name in ("a", "b", "c"):
        assert run("keys", "create", name)[0] == 0
    wide = {"COLUMNS": "200"}
    result = CliRunner().invoke(app, ["audit", "verify", "--structure"], env=wide)
    assert result.exit_code == 0 and "index structure checked" in result.stdout
    conn = sqlite3.connect(keyed / "audit" / "audit.db")
    with conn:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_schema WHERE name = 'ix_audit_events_occurred'"
        ).fetchone()
        conn.execute("DROP INDEX ix_audit_events_occurred")
        conn.execute(f"{sql} WHERE seq <> 1")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = 'ix_audit_events_occurred'",
                     (sql,))  # fmt: skip
    conn.close()
    result = CliRunner().invoke(app, ["audit", "verify"], env=wide)
    assert result.exit_code == 0 and "not checked (--structure)" in result.stdout
    code, out, _ = run("audit", "verify", "--structure", "--format", "json")
    report = json.loads(out)
    assert code == 5 and report["structure_checked"] and not report["ok"]
    assert [(p["kind"], p["first"]) for p in report["problems"]] == [("structure", 1)]
    assert "ix_audit_events_occurred" in report["problems"][0]["detail"]
