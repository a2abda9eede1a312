"""One way to open the database and migrate it, for the action server and the console.

SQLAlchemy runs synchronously; async code calls it through ``run_sync`` so that an
event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any, Callable, Dict, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Each migration tree keeps its own version table (alembic_version_<name>).
MIGRATION_TREES = ("requests", "staff")
# PostgreSQL advisory lock held while migrating (any constant the application owns).
MIGRATION_LOCK_KEY = 7_305_2026

T = TypeVar("T")


def create_engine(url: Any) -> Engine:
    """An engine for ``url``: SQLite waits for the other process's lock and enforces
    foreign keys; other databases check pooled connections before use (a restarted
    PostgreSQL leaves dead ones behind)."""
    parsed = sa.engine.make_url(url)
    kwargs: Dict[str, Any] = {"future": True}
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # Handlers run in a thread pool; Rasa writes the same file from another process.
    kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = sa.create_engine(parsed, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def migrate(engine: Engine, tree: str) -> None:
    """Bring one migration tree (``requests`` or ``staff``) to its newest revision."""
    if tree not in MIGRATION_TREES:
        raise ValueError(f"unknown migration tree {tree!r}")
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / tree))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several action servers (and the console) start at once on one database: one
            # migrates, the others wait for it and then find nothing to do.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def has_table(connection, name: str) -> bool:
    return sa.inspect(connection).has_table(name)


async def run_sync(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (the database, SMTP) in the default thread pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))


def ensure_database(url: Any) -> bool:
    """Create the PostgreSQL database ``url`` names if it does not exist yet (connecting to
    the server's ``postgres`` database with the same credentials); True when it was created.
    SQLite files are created on first use: nothing to do."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": parsed.database}).first()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


if __name__ == "__main__":  # python -m storage.engine: create DATABASE_URL's database (make run-scaled)
    import sys

    from clinic.settings import database_url

    try:
        created = ensure_database(database_url())
    except sa.exc.SQLAlchemyError as exc:
        print(f"Could not reach the database: {type(exc).__name__}: {getattr(exc, 'orig', exc)}", file=sys.stderr)
        sys.exit(1)
    print("database created" if created else "database ready")
