"""Rasa's SQL tracker store without its exit on any ``ValueError``, and through a
database restart.

Rasa 3.6's ``SQLTrackerStore.session_scope`` checks the PostgreSQL schema and then
yields the session inside one ``try ... except ValueError``, exiting the whole server
("Requested PostgreSQL schema ... was not found") on *any* ``ValueError`` raised while
the session is in use. A ``UnicodeEncodeError`` is a ``ValueError``: one message or
sender id holding a lone surrogate stopped the assistant for everybody. Here only the
schema check can end the process; any other error fails that one turn.

A restarted database (PostgreSQL restarted, failed over) leaves Rasa's pool with dead
connections, and while it restarts every read and write fails. Pooled connections are
checked before use (``pool_pre_ping``), and a read or write that fails because the
connection is gone is tried again for up to RETRY_SECONDS: a turn whose answer was
already given is then still stored (a write is idempotent: Rasa stores only the events
after those already in the database).

Rasa finds the events to write by counting, on every save, the rows the conversation's
last session already has (a COUNT over a subquery for the session start). A tracker this
store read knows that number already: the events it was read with, plus those it saved
since (the conversation's lock keeps other writers out meanwhile). Such a tracker writes
its new events without the count; any other (a new conversation, a tracker read with all
its sessions) is counted as Rasa does. Measured with tools/loadtest/profile.py, side by
side: see README, "Measurements".

Rasa wraps every tracker store in ``FailSafeTrackerStore``, which on any error reads
*no* conversation (a new one) and writes into process memory: with several replicas a
database outage silently restarted conversations and dropped their turns. Here the error
goes on to the channel, which tells the patient to send the message again (503 on REST,
a notice on the widget) and nothing half-done is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import time
from typing import Any, Generator

from rasa.core.tracker_store import SQLTrackerStore

STOCK_SESSION_SCOPE = SQLTrackerStore.session_scope  # kept for the test that shows the old behaviour
STOCK_INIT, STOCK_SAVE, STOCK_RETRIEVE = SQLTrackerStore.__init__, SQLTrackerStore.save, SQLTrackerStore.retrieve
STOCK_ADDITIONAL_EVENTS = SQLTrackerStore._additional_events
# On a tracker read by ``retrieve``: how many of its events are stored (last session only).
STORED = "_rasa_ext_stored_events"
RETRY_SECONDS = 10.0
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)  # then 2 s until RETRY_SECONDS have passed

logger = logging.getLogger(__name__)


def connection_lost(error: BaseException) -> bool:
    """A database error that a new connection may not have: the server went away or restarts."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and bool(getattr(error, "connection_invalidated", False)))


def retried(method: Any) -> Any:
    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            try:
                return await method(self, *args, **kwargs)
            except Exception as error:  # noqa: BLE001 - re-raised unless the connection was lost
                if not connection_lost(error) or time.monotonic() >= deadline:
                    raise
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                logger.warning("Tracker store: database connection lost (%s); trying again in %.1f s",
                               type(error).__name__, delay)
                await asyncio.sleep(delay)
    return wrapper


def init_with_pre_ping(self: Any, *args: Any, **kwargs: Any) -> None:
    STOCK_INIT(self, *args, **kwargs)
    # Rasa builds its engine without pre-ping; checked connections replace dead ones quietly.
    self.engine.pool._pre_ping = True


@contextlib.contextmanager
def session_scope(self: Any) -> Generator[Any, None, None]:
    import rasa.shared.utils.cli
    from rasa.core.tracker_store import POSTGRESQL_SCHEMA, ensure_schema_exists

    session = self.sessionmaker()
    try:
        try:
            ensure_schema_exists(session)
        except ValueError as e:
            rasa.shared.utils.cli.print_error_and_exit(
                f"Requested PostgreSQL schema '{e}' was not found in the database. Create it, "
                f"or unset {POSTGRESQL_SCHEMA} to use the default schema. Exiting application.")
        yield session
    finally:
        session.close()


def additional_events(self: Any, session: Any, tracker: Any) -> Any:
    """The events not stored yet: after the known stored ones, or counted as Rasa does."""
    stored = getattr(tracker, STORED, None)
    if stored is None or stored > len(tracker.events):
        return STOCK_ADDITIONAL_EVENTS(self, session, tracker)
    return itertools.islice(tracker.events, stored, len(tracker.events))


async def retrieve_counted(self: Any, sender_id: str) -> Any:
    tracker = await STOCK_RETRIEVE(self, sender_id)
    if tracker is not None:
        setattr(tracker, STORED, len(tracker.events))
    return tracker


async def save_counted(self: Any, tracker: Any) -> None:
    try:
        await STOCK_SAVE(self, tracker)
    except Exception:
        # Whether the write reached the database is unknown (a connection lost at commit):
        # the retry and any later save count the stored rows again, so nothing is doubled.
        if getattr(tracker, STORED, None) is not None:
            setattr(tracker, STORED, None)
        raise
    if getattr(tracker, STORED, None) is not None:
        setattr(tracker, STORED, len(tracker.events))


async def retrieve_or_fail(self: Any, sender_id: str) -> Any:
    try:
        return await self._tracker_store.retrieve(sender_id)
    except Exception as error:
        self.on_tracker_store_error(error)
        raise


async def save_or_fail(self: Any, tracker: Any) -> None:
    try:
        await self._tracker_store.save(tracker)
    except Exception as error:
        self.on_tracker_store_error(error)
        raise


def install() -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    FailSafeTrackerStore.retrieve = retrieve_or_fail
    FailSafeTrackerStore.save = save_or_fail
    SQLTrackerStore.session_scope = session_scope
    SQLTrackerStore.__init__ = init_with_pre_ping
    SQLTrackerStore._additional_events = additional_events
    SQLTrackerStore.save = retried(save_counted)
    SQLTrackerStore.retrieve = retried(retrieve_counted)
