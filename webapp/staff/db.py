"""Database access of the staff console: engine, migrations, small helpers.

SQLAlchemy runs synchronously; request handlers call into it through
``run_sync`` so that the event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webapp.staff import tables as t

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "migrations" / "staff"

T = TypeVar("T")


def create_engine(url: str) -> Engine:
    parsed = sa.engine.make_url(url)
    kwargs: dict = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # handlers run in a thread pool; Rasa writes the same file from another process
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    return sa.create_engine(url, **kwargs)


def migrate(engine: Engine) -> None:
    """Bring the staff tables to the newest revision (alembic_version_staff)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


async def run_sync(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: Optional[datetime]) -> Optional[datetime]:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def sender_hash(sender_id: str) -> str:
    """As deletion_records.conversation_hash: sha256 of the sender id, hex. (surrogatepass:
    the same bytes for every id a database can hold, and no exception for any other str)"""
    return hashlib.sha256(sender_id.encode("utf-8", "surrogatepass")).hexdigest()


def has_table(connection, name: str) -> bool:
    return sa.inspect(connection).has_table(name)


def audit(connection, actor: str, action: str, target: Optional[str] = None,
          detail: Optional[str] = None, ip: Optional[str] = None) -> None:
    connection.execute(t.audit_log.insert().values(
        at=now(), actor=actor[:100], action=action[:40],
        target=None if target is None else target[:255],
        detail=detail, ip=None if ip is None else ip[:64],
    ))
