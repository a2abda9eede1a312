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
