"""Opening, creating and migrating the database, on this machine's real PostgreSQL."""

import threading
import uuid

import sqlalchemy as sa

from storage.engine import MIGRATION_TREES, create_engine, ensure_database, migrate
from tests.storage.support import POSTGRES_SERVER, drop_postgres, postgres_admin  # noqa: F401


def test_ensure_database_creates_a_missing_postgresql_database_once(postgres_admin):  # noqa: F811
    name = f"test_ensure_{uuid.uuid4().hex[:10]}"
    url = sa.engine.make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        assert ensure_database(url) is True
        assert ensure_database(url) is False
        with postgres_admin.connect() as conn:
            assert conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    finally:
        drop_postgres(postgres_admin, name)


def test_ensure_database_leaves_sqlite_alone(tmp_path):
    assert ensure_database(f"sqlite:///{tmp_path / 'a.db'}") is False
    assert not (tmp_path / "a.db").exists()


def test_services_starting_together_migrate_one_fresh_database_without_failing(postgres_admin):  # noqa: F811
    # Two action servers and the console of `make run-scaled` start at the same moment.
    name = f"test_migrate_{uuid.uuid4().hex[:10]}"
    url = sa.engine.make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    ensure_database(url)
    errors, start = [], threading.Barrier(4)

    def service():
        engine = create_engine(url)
        try:
            start.wait()
            for tree in MIGRATION_TREES:
                migrate(engine, tree)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=service) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        engine = create_engine(url)
        with engine.connect() as conn:
            versions = {tree: conn.execute(sa.text(f"SELECT count(*) FROM alembic_version_{tree}")).scalar()
                        for tree in MIGRATION_TREES}
        engine.dispose()
        assert versions == {tree: 1 for tree in MIGRATION_TREES}
    finally:
        drop_postgres(postgres_admin, name)
