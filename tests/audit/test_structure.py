"""``verify --structure``: an index that lies is found, though every row still verifies.

Each attack here hides event 5 from the accounting of disclosures for its patient without
touching a row, so the plain ``verify`` stays clean (asserted, to show the attack is
real); the structure check must name seq 5. An untouched log passes it on both stores.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from phiward.audit import AuditConfig, AuditEvent, AuditLog, verify_log
from phiward.audit.query import Query, query
from phiward.errors import AuditError


def _config(url: str, tmp_path: Path) -> AuditConfig:
    return AuditConfig(database_url=url, signing_key=tmp_path / "signing.key",
                       checkpoint_dir=tmp_path / "checkpoints", checkpoint_every=4)  # fmt: skip


def _fill(url: str, tmp_path: Path, n: int = 12, patients: int = 2) -> None:
    with AuditLog(_config(url, tmp_path)) as log:
        for i in range(n):
            log.record(AuditEvent(type="phi.read", action="R", user_id=f"u{i % 3}",
                                  patient_id=f"p{i % patients}"))  # fmt: skip
        log.checkpoint()


def _patient_seqs(url: str, tmp_path: Path, patient: str) -> list[int]:
    with AuditLog(_config(url, tmp_path)) as log:
        return [e["seq"] for e in query(log, Query(patient_id=patient))]


def _verify(url: str, tmp_path: Path, *, structure: bool) -> list[tuple[str, int | None, str]]:
    with AuditLog(_config(url, tmp_path)) as log:
        report = verify_log(log, structure=structure)
    assert report.structure_checked is structure
    return [(p.kind, p.first, p.detail) for p in report.problems]


@pytest.fixture
def pg_amcheck(postgres_url: str) -> str:
    """The test's schema, with amcheck installed in it (dropped with the schema)."""
    schema = postgres_url.rsplit("%3D", 1)[1]
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA "{schema}"'))
    engine.dispose()
    return postgres_url


_OLD_SQLITE = {"sqlite-before-3.35": (3, 34, 1), "sqlite-before-3.33": (3, 32, 3)}


@pytest.fixture(params=["sqlite", *_OLD_SQLITE, "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Before 3.35 the copies stay stored (migration 0002); before 3.33 integrity_check takes
    no table name and checks the whole file."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_amcheck"))
    if request.param in _OLD_SQLITE:
        request.getfixturevalue("monkeypatch").setattr(
            sqlite3, "sqlite_version_info", _OLD_SQLITE[request.param]
        )
    return f"sqlite:///{tmp_path / 'audit.db'}"


def test_an_untouched_log_passes(url: str, tmp_path: Path) -> None:
    _fill(url, tmp_path)
    assert _verify(url, tmp_path, structure=True) == []


def _hide_from_patient_index(url: str) -> None:
    """Rebuild the patient index without event 5's entry, then make the schema say it is whole
    again: what an edit of the index B-tree below SQL leaves behind."""
    if url.startswith("sqlite"):
        db = url.removeprefix("sqlite:///")
        with sqlite3.connect(db) as conn:
            (sql,) = conn.execute(
                "SELECT sql FROM sqlite_schema WHERE name = 'ix_audit_events_patient'"
            ).fetchone()
            conn.execute("DROP INDEX ix_audit_events_patient")
            conn.execute(f"{sql} WHERE seq <> 5")
            conn.execute("PRAGMA writable_schema = ON")
            conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = 'ix_audit_events_patient'",
                         (sql,))  # fmt: skip
        conn.close()
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_audit_events_patient"))
        conn.execute(sa.text("CREATE INDEX ix_audit_events_patient ON audit_events "
                             "(patient_id, occurred) WHERE seq <> 5"))  # fmt: skip
        conn.execute(sa.text("UPDATE pg_index SET indpred = NULL "
                             "WHERE indexrelid = 'ix_audit_events_patient'::regclass"))  # fmt: skip
        conn.execute(sa.text("ANALYZE audit_events"))
    engine.dispose()


def test_an_index_missing_an_entry_is_named(url: str, tmp_path: Path) -> None:
    # 400 events over 50 patients: selective enough that PostgreSQL plans the patient index.
    _fill(url, tmp_path, n=400, patients=50)
    before = _patient_seqs(url, tmp_path, "p5")
    assert 5 in before
    _hide_from_patient_index(url)
    # The attack works: the accounting for p5 lost event 5.
    assert _patient_seqs(url, tmp_path, "p5") == [s for s in before if s != 5]
    assert _verify(url, tmp_path, structure=False) == []  # every row still verifies
    found = _verify(url, tmp_path, structure=True)
    assert [(kind, seq) for kind, seq, _ in found] == [("structure", 5)]
    assert "ix_audit_events_patient" in found[0][2]


def test_a_rewritten_generated_column_is_named(tmp_path: Path) -> None:
    """SQLite: patient_id's expression rewritten (and the index rebuilt to match) so event 5
    reads as another patient. integrity_check is satisfied; the comparison with the body is not."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    _fill(url, tmp_path)
    db = tmp_path / "audit.db"
    honest = "json_extract(body, '$.patient_id')"
    with sqlite3.connect(db) as conn:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_schema WHERE name = 'audit_events'"
        ).fetchone()
        assert sql.count(honest) == 1
        forged = sql.replace(honest, f"CASE WHEN seq = 5 THEN 'p9' ELSE {honest} END")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_schema SET sql = ? WHERE name = 'audit_events'", (forged,))
    conn.close()
    with sqlite3.connect(db) as conn:
        conn.execute("REINDEX ix_audit_events_patient")
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    assert 5 not in _patient_seqs(url, tmp_path, "p1")
    assert _verify(url, tmp_path, structure=False) == []
    found = _verify(url, tmp_path, structure=True)
    assert [(kind, seq) for kind, seq, _ in found] == [("structure", 5)]
    assert "expression" in found[0][2]


def test_an_index_amcheck_cannot_check_is_named(pg_amcheck: str, tmp_path: Path) -> None:
    _fill(pg_amcheck, tmp_path)
    engine = sa.create_engine(pg_amcheck)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE INDEX sneaky ON audit_events USING hash (patient_id)"))
    engine.dispose()
    found = _verify(pg_amcheck, tmp_path, structure=True)
    assert [(kind, seq) for kind, seq, _ in found] == [("structure", None)]
    assert "sneaky" in found[0][2] and "hash" in found[0][2]


@pytest.fixture
def database_without_amcheck(postgres_base_url: str) -> Iterator[str]:
    """A fresh database (amcheck is per database; another test's may exist in ``test``)."""
    name = f"phiward_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_without_amcheck_the_check_refuses_rather_than_passes(
    database_without_amcheck: str, tmp_path: Path
) -> None:
    _fill(database_without_amcheck, tmp_path)
    with AuditLog(_config(database_without_amcheck, tmp_path)) as log:
        assert verify_log(log).ok
        with pytest.raises(AuditError, match="CREATE EXTENSION amcheck"):
            verify_log(log, structure=True)
