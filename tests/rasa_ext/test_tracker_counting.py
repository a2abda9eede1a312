"""A tracker read from the store writes its new events without counting the stored rows
first (rasa_ext/tracker_store.py), and still stores every event exactly once: over turns,
a new conversation, a second session, and a write whose commit lost its connection.
SQLite and the machine's PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import psycopg2
import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from rasa_ext import tracker_store

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
tracker_store.install()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "events.db"))
        return
    name = f"counting_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(f"{PG_SERVER}/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1", port=5432,
                            username="postgres", db=name)
    try:
        yield store
    finally:
        store.engine.dispose()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def statements(store):
    """The SQL the store sends, as it sends it (a list that fills while the test runs)."""
    sent = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: sent.append(statement.lower()))
    return sent


def stored_texts(store, sender):
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                            {"s": sender}).all()
    return [(kind, __import__("json").loads(data).get("text")) for kind, data in rows]


def started(store, text="hello"):
    """A new conversation with one stored turn; its sender id."""
    sender = f"c-{uuid.uuid4().hex[:8]}"
    tracker = asyncio.run(store.get_or_create_tracker(sender))  # new: counted as Rasa does
    turn(tracker, text)
    asyncio.run(store.save(tracker))
    return sender


def turn(tracker, text):
    for event in (UserUttered(text), ActionExecuted("action_answer"), BotUttered(f"re: {text}"),
                  ActionExecuted("action_listen")):
        tracker.update(event)


def test_turns_of_a_read_tracker_are_written_once_without_a_count(store):
    sender = started(store)
    sent = statements(store)
    tracker = asyncio.run(store.retrieve(sender))
    for text in ("what types are there?", "and the kidneys?"):
        turn(tracker, text)
        asyncio.run(store.save(tracker))  # twice on one object, as a turn with two saves does
    writes = [s for s in sent if "count(" in s]
    assert writes == []
    texts = [text for kind, text in stored_texts(store, sender) if kind in ("user", "bot")]
    assert texts == ["hello", "re: hello", "what types are there?", "re: what types are there?",
                     "and the kidneys?", "re: and the kidneys?"]
    assert len(stored_texts(store, sender)) == len(asyncio.run(store.retrieve(sender)).events)


def test_a_second_session_is_stored_once(store):
    sender = started(store)
    tracker = asyncio.run(store.retrieve(sender))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    turn(tracker, "back again")
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve(sender))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["back again"]
    assert sum(1 for kind, _ in stored_texts(store, sender) if kind == "user") == 2


def test_a_write_whose_commit_lost_its_connection_is_not_doubled(store, monkeypatch):
    """The commit reached the database, then the connection went: the retry counts again."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    monkeypatch.setattr(tracker_store, "RETRY_DELAYS", (0.01,))
    sender = f"c-{uuid.uuid4().hex[:8]}"
    tracker = asyncio.run(store.get_or_create_tracker(sender))
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve(sender))
    turn(tracker, "is surgery needed?")
    commit, failed = Session.commit, []

    def commit_then_lose(session):
        commit(session)
        if not failed:
            failed.append(True)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(Session, "commit", commit_then_lose)
    asyncio.run(store.save(tracker))
    monkeypatch.setattr(Session, "commit", commit)
    assert failed
    assert [t for k, t in stored_texts(store, sender) if k == "user"] == ["is surgery needed?"]
    turn(tracker, "and after?")
    asyncio.run(store.save(tracker))
    assert [t for k, t in stored_texts(store, sender) if k == "user"] == ["is surgery needed?", "and after?"]


def test_a_tracker_read_with_all_its_sessions_is_counted_as_rasa_does(store):
    sender = started(store)
    full = asyncio.run(store.retrieve_full_tracker(sender))
    assert getattr(full, tracker_store.STORED, None) is None
    sent = statements(store)
    turn(full, "more")
    asyncio.run(store.save(full))
    assert any("count(" in s for s in sent)
    assert [t for k, t in stored_texts(store, sender) if k == "user"] == ["hello", "more"]
