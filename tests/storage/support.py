"""Fixtures shared by the request-store tests: the same tests run on SQLite and on
this machine's real PostgreSQL (a scratch database per test, dropped afterwards).

PostgreSQL is reached at TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
when it is not running the PostgreSQL cases are skipped, unless REQUIRE_POSTGRES=1.
"""

import os
import uuid

import pytest
import sqlalchemy as sa

from storage.requests import RequestStore

POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_admin():
    engine = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT", future=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {exc.orig}")
    yield engine
    engine.dispose()


def scratch_postgres(admin) -> str:
    name = f"test_requests_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return name


def drop_postgres(admin, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'assistant.db'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    name = scratch_postgres(admin)
    url = sa.engine.make_url(POSTGRES_SERVER).set(database=name)
    yield url.render_as_string(hide_password=False)
    drop_postgres(admin, name)


@pytest.fixture
def store(database_url):
    store = RequestStore(database_url)
    store.migrate()
    yield store
    store.dispose()
