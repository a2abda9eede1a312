"""A storage error fails one turn; it no longer stops Rasa (rasa_ext/tracker_store.py)."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext import tracker_store


def save(store: SQLTrackerStore, sender: str, text: str) -> None:
    tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), UserUttered(text)])
    asyncio.run(store.save(tracker))


@pytest.fixture
def store(tmp_path):
    return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "events.db"))


def test_stock_rasa_exits_on_a_lone_surrogate(store, monkeypatch):
    """Finding 1 as it was: the encoding error was taken for a missing schema, and Rasa exited."""
    monkeypatch.setattr(SQLTrackerStore, "session_scope", tracker_store.STOCK_SESSION_SCOPE)
    with pytest.raises(SystemExit):
        save(store, "rt-\udc00", "hello")


def test_with_the_fix_one_turn_fails_and_the_store_goes_on(store, monkeypatch):
    monkeypatch.setattr(SQLTrackerStore, "session_scope", tracker_store.session_scope)
    with pytest.raises(Exception) as failure:
        save(store, "rt-\udc00", "hello")
    assert not isinstance(failure.value, SystemExit)
    save(store, "rt-ok", "what types are there?")
    assert asyncio.run(store.retrieve("rt-ok")).latest_message.text == "what types are there?"


class Flaky:
    """An async store method that loses its connection ``failures`` times, then works."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.calls, self.failures, self.error = 0, failures, error

    async def __call__(self, _store, *_args):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "kept"


def lost_connection():
    from sqlalchemy.exc import OperationalError

    return OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))


def test_a_read_or_write_that_lost_its_connection_is_tried_again(monkeypatch):
    monkeypatch.setattr(tracker_store, "RETRY_DELAYS", (0.01,))
    method = Flaky(2, lost_connection())
    assert asyncio.run(tracker_store.retried(method)(object())) == "kept" and method.calls == 3


def test_other_errors_are_not_retried(monkeypatch):
    method = Flaky(1, ValueError("bad data"))
    with pytest.raises(ValueError):
        asyncio.run(tracker_store.retried(method)(object()))
    assert method.calls == 1


def test_retrying_stops_after_the_window(monkeypatch):
    monkeypatch.setattr(tracker_store, "RETRY_SECONDS", 0.2)
    monkeypatch.setattr(tracker_store, "RETRY_DELAYS", (0.05,))
    method = Flaky(1000, lost_connection())
    with pytest.raises(Exception, match="server closed the connection"):
        asyncio.run(tracker_store.retried(method)(object()))
    assert 2 <= method.calls <= 10


def test_a_store_error_is_not_hidden_behind_an_empty_conversation_in_memory():
    from rasa.core.tracker_store import FailSafeTrackerStore

    tracker_store.install()

    class Down(SQLTrackerStore):
        def __init__(self):  # a store whose database is gone
            self.domain, self.event_broker = Domain.empty(), None

        async def retrieve(self, sender_id):
            raise lost_connection()

        async def save(self, tracker):
            raise lost_connection()

    failsafe = FailSafeTrackerStore(Down())
    with pytest.raises(Exception, match="server closed"):
        asyncio.run(failsafe.retrieve("rt-1"))  # Rasa returned None: a new, empty conversation
    with pytest.raises(Exception, match="server closed"):
        asyncio.run(failsafe.save(DialogueStateTracker.from_events("rt-1", [UserUttered("hi")])))
    assert failsafe._fallback_tracker_store is None  # nothing went to memory


def test_pooled_connections_are_checked_before_use(tmp_path):
    tracker_store.install()
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "events.db"))
    assert store.engine.pool._pre_ping is True
