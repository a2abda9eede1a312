""""Forget me" against Rasa's real SQL tracker store, on SQLite and PostgreSQL."""

import asyncio
from datetime import timedelta

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, Restarted, SessionStarted,
                                     SlotSet as RasaSlotSet, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.events import Restarted as SdkRestarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import privacy, resources, store as action_store
from actions.privacy import ActionDeleteConversation, ValidateDataDeletionForm
from actions.settings import Settings
from storage.ids import conversation_hash
from storage.time import utcnow
from storage.forgetting import PURGE_PASSES, run_due_purges
from storage.requests import NewRequest, RequestStore
from tests.actions.booking.test_flow import DOMAIN, tracker, utter
from tests.storage.support import database_url, postgres_admin, store  # noqa: F401


def conversation(sender: str, *texts: str, at: float = None) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
              ActionExecuted("action_listen", timestamp=at)]
    for text in texts:
        events += [UserUttered(text, {"name": "inform", "confidence": 0.9}, timestamp=at),
                   ActionExecuted("booking_form", timestamp=at),
                   BotUttered("What is your full name?", timestamp=at),
                   ActionExecuted("action_listen", timestamp=at)]
    return DialogueStateTracker.from_events(sender, events)


def count_events(rasa_store: SQLTrackerStore, sender: str) -> int:
    with rasa_store.session_scope() as session:
        return rasa_store._event_query(session, sender, fetch_events_from_all_sessions=True).count()


@pytest.fixture
def rasa_store(database_url):  # noqa: F811
    tracker_store = SQLTrackerStore(Domain.empty(), host=database_url)
    yield tracker_store
    tracker_store.engine.dispose()


@pytest.fixture(autouse=True)
def configured(store):  # noqa: F811
    resources.load(Settings.from_env({}))
    action_store.configure(store)
    yield
    action_store.configure(None)


def validate(t):
    dispatcher = CollectingDispatcher()
    return asyncio.run(ValidateDataDeletionForm().run(dispatcher, t, DOMAIN))


def form_tracker(text, intent):
    after = [{"event": "slot", "name": "requested_slot", "value": "deletion_confirmed"},
             {"event": "action", "name": "data_deletion_form"}]
    return tracker(text, intent, {"requested_slot": "deletion_confirmed"}, after=after,
                   active_loop="data_deletion_form", latest_action="data_deletion_form")


def test_only_a_clear_yes_confirms():
    assert validate(form_tracker("yes", "affirm")) == [SlotSet("deletion_confirmed", True)]
    assert validate(form_tracker("no", "deny")) == [SlotSet("deletion_confirmed", False)]
    assert validate(form_tracker("what would that delete?", "ask_capabilities")) == [
        SlotSet("deletion_confirmed", False)]
    assert validate(form_tracker("i can't breathe", "report_emergency")) == []  # emergency rule first
    # a person asked for, or goodbye: left to their rules (the data is kept)
    assert validate(form_tracker("can I speak with a staff member instead?", "request_human")) == []
    assert validate(form_tracker("bye", "goodbye")) == []
    # a question about the guide, or thanks: left to their rules (kept, then answered)
    assert validate(form_tracker("also what's the dystrophic type?", "ask_types")) == []
    assert validate(form_tracker("how do they spot them?", "ask_detection")) == []
    assert validate(form_tracker("thanks", "thank")) == []


def test_no_deletes_nothing(store):  # noqa: F811
    store.submit(NewRequest("handoff", "patient-1", "rest", "k"))
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionDeleteConversation().run(
        dispatcher, tracker("no", "deny", {"deletion_confirmed": False}), DOMAIN))
    assert dispatcher.messages == [utter("utter_data_kept")]
    assert events == [SlotSet("deletion_confirmed", None)]
    assert len(store.for_conversation("patient-1")) == 1 and store.pending_purges() == []


def test_forget_me_deletes_requests_and_events_even_if_rasa_writes_them_back(store, rasa_store):  # noqa: F811
    me, other = "patient-1", "someone-else"
    asyncio.run(rasa_store.save(conversation(me, "I want an appointment", "Jane Smith", "jane@example.org")))
    asyncio.run(rasa_store.save(conversation(other, "hello")))
    store.submit(NewRequest("appointment", me, "rest", "a", full_name="Jane Smith"))
    store.submit(NewRequest("handoff", me, "rest", "b"))
    kept = store.submit(NewRequest("handoff", other, "rest", "c"))
    other_events = count_events(rasa_store, other)

    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionDeleteConversation().run(
        dispatcher, tracker("yes", "affirm", {"deletion_confirmed": True}, sender=me), DOMAIN))
    assert dispatcher.messages == [utter("utter_data_deleted", deleted_requests=2)]
    assert events == [SdkRestarted()]
    assert store.for_conversation(me) == []
    [purge] = store.pending_purges()
    start = purge.created_at

    # Rasa finishes the turn: its in-memory tracker, with this turn's events, is saved.
    turn = conversation(me, "I want an appointment", "Jane Smith", "jane@example.org")
    for event in (UserUttered("yes", {"name": "affirm", "confidence": 1.0}),
                  ActionExecuted("action_delete_conversation"), BotUttered("Done."), Restarted(),
                  RasaSlotSet("deletion_confirmed", None)):
        turn.update(event)
    asyncio.run(rasa_store.save(turn))
    first = count_events(rasa_store, me)
    assert run_due_purges(store, start) == 0  # not due yet
    assert run_due_purges(store, start + timedelta(seconds=1)) == 1
    assert count_events(rasa_store, me) == 0

    # A slow or concurrent turn writes the old events back (Rasa appends past the rows
    # it counts, and there are none now): the next pass deletes them again.
    asyncio.run(rasa_store.save(turn))
    second = count_events(rasa_store, me)
    assert second == len(turn.events)
    assert run_due_purges(store, start + timedelta(seconds=5)) == 1
    assert count_events(rasa_store, me) == 0
    assert store.deletion_records() == []  # recorded only when finished

    # The patient's next message, after the deletion, starts a new conversation: it stays.
    later = purge.cutoff + 60
    asyncio.run(rasa_store.save(conversation(me, "hello again", at=later)))
    fresh = count_events(rasa_store, me)
    assert run_due_purges(store, start + timedelta(seconds=30)) == 1
    assert count_events(rasa_store, me) == fresh > 0
    assert store.pending_purges() == []
    [record] = store.deletion_records()
    assert record["conversation_hash"] == conversation_hash(me)
    assert (record["requested_via"], record["deleted_requests"]) == ("rest", 2)
    assert record["deleted_events"] == first + second
    assert record["created_at"] == start
    assert set(record) == {"id", "conversation_hash", "requested_via", "deleted_requests",
                           "deleted_events", "created_at"}  # no content, not even the id
    # the other conversation is untouched
    assert count_events(rasa_store, other) == other_events
    assert [r.reference for r in store.for_conversation(other)] == [kept.reference]


def test_a_purge_is_finished_after_a_restart_and_without_a_tracker_table(store):  # noqa: F811
    now = utcnow()
    store.forget_conversation("gone", "telegram", now, now.timestamp() + 3, now)
    # a new process (e.g. after a crash) picks the queue up from the database
    restarted = RequestStore(str(store.engine.url.render_as_string(hide_password=False)))
    try:
        for seconds in PURGE_PASSES:
            assert run_due_purges(restarted, now + timedelta(seconds=seconds)) == 1
    finally:
        restarted.dispose()
    [record] = store.deletion_records()
    assert (record["requested_via"], record["deleted_requests"], record["deleted_events"]) == ("telegram", 0, 0)


def test_a_pass_is_run_by_one_worker_only(store):  # noqa: F811
    now = utcnow()
    store.forget_conversation("gone", "rest", now, now.timestamp() + 3, now)
    [purge] = store.due_purges(now)
    assert store.purge_pass(purge, None)
    assert not store.purge_pass(purge, None)  # the second worker's snapshot is stale
    assert len(store.deletion_records()) == 1
