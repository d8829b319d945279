"""Shared fixtures: real services (PostgreSQL, a moto server) and hermetic settings.

Tests that need PostgreSQL or moto *skip* on a developer machine without them, but *fail* when
``CI=true``: CI must never go green by skipping the production store.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_HOST = os.environ.get("PHIWARD_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PHIWARD_TEST_PG_PORT", "5432"))
PG_DB = os.environ.get("PHIWARD_TEST_PG_DB", "test")


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI=true) but is not available")
    pytest.skip(f"{what} not available")


@pytest.fixture(autouse=True)
def _hermetic_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own PHIWARD_HOME so no test touches ~/.phiward or another test's keys."""
    home = tmp_path_factory.mktemp("phiward-home")
    monkeypatch.setenv("PHIWARD_HOME", str(home))
    for name in list(os.environ):
        if (
            name.startswith("PHIWARD_")
            and name != "PHIWARD_HOME"
            and not name.startswith("PHIWARD_TEST_")
        ):
            monkeypatch.delenv(name, raising=False)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    """SQLAlchemy URL of the test PostgreSQL database (psycopg 3 driver)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg (the [postgres] extra)")
    if not _port_open(PG_HOST, PG_PORT):
        _missing(f"PostgreSQL at {PG_HOST}:{PG_PORT}")
    user = os.environ.get("PHIWARD_TEST_PG_USER", "postgres")
    return f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{PG_DB}"


@pytest.fixture
def postgres_url(postgres_base_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(postgres_base_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{postgres_base_url}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on 127.0.0.1 (HTTP API), for the whole session.

    Code under test reaches it only through ``AWS_ENDPOINT_URL`` and boto3, exactly as it would AWS.
    """
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        _missing("moto[server]")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_AWS_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
)


@pytest.fixture
def moto_reset(moto_endpoint: str) -> Iterator[str]:
    """The moto endpoint, with all its state reset after the test."""
    import urllib.request

    yield moto_endpoint
    req = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()


def _find_shared_data() -> Path | None:
    """Third-party test data beside the project (``../shared/data``), if this machine has it.

    Looked up from every parent so it is found from a git worktree too; ``PHIWARD_TEST_SHARED_DATA``
    overrides. Tests using it skip without it: the suite must pass on a machine that lacks it.
    """
    override = os.environ.get("PHIWARD_TEST_SHARED_DATA")
    if override:
        return Path(override)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


SHARED_DATA: Path | None = _find_shared_data()
