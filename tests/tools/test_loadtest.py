"""The load test's pieces that decide its verdict: what the patients say and the integrity
check, against Rasa's real SQL tracker store on PostgreSQL."""

import asyncio
import json
import uuid

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered, UserUtteranceReverted
from rasa.shared.core.trackers import DialogueStateTracker

from tools.loadtest import integrity
from tools.loadtest.conversations import SETS, load_conversations
from tests.storage.support import POSTGRES_SERVER, drop_postgres, postgres_admin, scratch_postgres  # noqa: F401


def sent(sender, *texts, burst=0):
    return [{"sender": sender, "text": t, "seq": None if i < burst else i} for i, t in enumerate(texts)]


def test_conversations_come_from_the_readable_sets_and_never_ask_to_forget():
    conversations = load_conversations()
    assert "sealed" not in SETS and len(conversations) > 100
    assert all(len(turns) >= 2 and all(isinstance(t, str) and t for t in turns) for turns in conversations)
    assert not any("delete" in t.lower() and "data" in t.lower() for turns in conversations for t in turns)


def test_what_was_kept_exactly_and_in_order_passes():
    log = {"a": sent("a", "hi", "what types?", "thanks"), "b": sent("b", "x", "y", "z", burst=2)}
    kept = {"a": ["hi", "what types?", "thanks"], "b": ["y", "x", "z"]}  # a burst in any order
    result = integrity.check(log, kept)
    assert (result["lost_events"], result["duplicated_events"], result["out_of_order_conversations"]) == (0, 0, 0)
    assert result["messages"] == 6 and result["conversations"] == 2


def test_lost_duplicated_and_reordered_messages_are_counted():
    log = {"a": sent("a", "hi", "what types?", "thanks"), "b": sent("b", "one", "two"),
           "c": sent("c", "p", "q")}
    kept = {"a": ["hi", "thanks"], "b": ["one", "two", "two"], "c": ["q", "p"]}
    result = integrity.check(log, kept)
    assert (result["lost_events"], result["duplicated_events"], result["out_of_order_conversations"]) == (1, 1, 1)
    assert result["examples"][0] == {"conversation": "a", "missing": ["what types?"], "extra": []}


def test_stored_reads_rasas_tracker_store_and_counts_a_two_stage_fallback_restatement_once(postgres_admin):  # noqa: F811
    name = scratch_postgres(postgres_admin)
    url = sa.engine.make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    store = SQLTrackerStore(Domain.empty(), host=url)
    try:
        run = f"bench-{uuid.uuid4().hex[:6]}"
        # what Rasa stores when a message the classifier was unsure of is followed by a clear one
        events = [ActionExecuted("action_listen"), UserUttered("a long unclear story"),
                  ActionExecuted("action_two_stage_fallback"), ActionExecuted("action_listen"),
                  UserUttered("does it have to be removed?"), UserUtteranceReverted(),
                  UserUttered("does it have to be removed?"), ActionExecuted("action_answer_question"),
                  UserUttered("does it have to be removed?")]  # sent again by the patient: counts
        asyncio.run(store.save(DialogueStateTracker.from_events(f"{run}-1", events)))
        asyncio.run(store.save(DialogueStateTracker.from_events("someone-else", [UserUttered("hello")])))
        kept = integrity.stored(url, run)
        assert kept == {f"{run}-1": ["a long unclear story", "does it have to be removed?",
                                     "does it have to be removed?"]}
    finally:
        store.engine.dispose()
        drop_postgres(postgres_admin, name)


def test_acknowledged_reads_the_locust_log(tmp_path):
    log = tmp_path / "sent.jsonl"
    log.write_text("\n".join(json.dumps(e) for e in sent("a", "hi", "bye")) + "\n")
    assert integrity.acknowledged(log) == {"a": sent("a", "hi", "bye")}
