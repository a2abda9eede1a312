"""channels/staff_relay.py and channels/outbox.py on their own: what each call adds to a real
Rasa tracker, who may do it, what the patient is sent, and the REST outbox in memory and in
this machine's real Redis. The whole path through a running assistant is tests/e2e/test_live_takeover.py."""

import asyncio
import uuid

import pytest
import redis
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels import outbox
from channels.guard import InputRejected
from channels.staff_relay import (BACK_NOTICE, MAX_NAME, Conflict, StaffRelayInput, _reply_text, _staff_name,
                                  chat_text, deliver, joined_notice, payload, plan)
from tests.conftest import ROOT
from tools.scaled import free_port_block

REDIS_DB = 14


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


def conversation(domain, *events):
    return DialogueStateTracker.from_events("conv-1", [ActionExecuted("action_listen"),
                                                       UserUttered("I want a person"), *events],
                                            slots=domain.slots)


def apply(tracker, events):
    for event in events:
        tracker.update(event)
    return tracker


def test_take_holds_it_and_tells_the_patient_who_joined(domain):
    tracker = conversation(domain)
    events, said = plan("take", tracker, "alice", "", False)
    assert events[0] == SlotSet("live_agent", "alice")
    assert said == [events[1]] and said[0].text == joined_notice("alice")
    assert said[0].metadata == {"author": "assistant", "notice": "joined"}
    assert apply(tracker, events).get_slot("live_agent") == "alice"
    assert plan("take", tracker, "alice", "", False) == ([], [])  # taking again changes nothing


def test_take_stops_a_form_in_progress(domain):
    tracker = conversation(domain, ActiveLoop("booking_form"), SlotSet("requested_slot", "booking_full_name"))
    events, _ = plan("take", tracker, "alice", "", False)
    assert events[:3] == [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("live_agent", "alice")]
    apply(tracker, events)
    assert tracker.active_loop_name is None


def test_only_the_holder_replies_and_hands_back_unless_forced(domain):
    tracker = apply(conversation(domain), plan("take", conversation(domain), "alice", "", False)[0])
    with pytest.raises(Conflict) as held:
        plan("take", tracker, "bob", "", False)
    assert held.value.holder == "alice"
    with pytest.raises(Conflict):
        plan("reply", tracker, "bob", "hi", False)
    with pytest.raises(Conflict):
        plan("release", tracker, "bob", "", False)
    events, said = plan("reply", tracker, "alice", "Hello, this is Alice.", False)
    assert events == said and said[0].text == "Hello, this is Alice."
    assert said[0].metadata == {"author": "staff", "staff": "alice"}
    # an admin takes it over from a colleague, then hands it back
    apply(tracker, plan("take", tracker, "bob", "", True)[0])
    assert tracker.get_slot("live_agent") == "bob"
    events, said = plan("release", tracker, "bob", "", False)
    assert events[0] == SlotSet("live_agent", None) and said[0].text == BACK_NOTICE
    apply(tracker, events)
    assert plan("release", tracker, "bob", "", False) == ([], [])  # nothing held: nothing to do


def test_reply_needs_the_conversation_taken(domain):
    with pytest.raises(Conflict, match="take the conversation over"):
        plan("reply", conversation(domain), "alice", "hello", False)


@pytest.mark.parametrize("name", ["", "   ", None, 7, "a" * (MAX_NAME + 1), "eve\nmallory", "\u202e"])
def test_a_staff_name_must_be_printable_and_short(name):
    with pytest.raises(InputRejected):
        _staff_name(name)


@pytest.mark.parametrize("text", ["", "  \n ", None, 12, ["hi"], "x" * 2001])
def test_a_reply_must_be_text_of_at_most_2000_characters(text):
    with pytest.raises(InputRejected):
        _reply_text(text)


def test_a_reply_is_cleaned_like_a_patients_message():
    assert _reply_text(" Hello\x00 \ud800there ") == "Hello \ufffdthere"


def test_the_token_must_not_be_trivial():
    with pytest.raises(ValueError):
        StaffRelayInput.from_credentials({"token": "short"})
    with pytest.raises(ValueError):
        StaffRelayInput.from_credentials({})


def test_what_each_channel_shows():
    reply = BotUttered("See you at 3.", metadata={"author": "staff", "staff": "alice"})
    back = BotUttered(BACK_NOTICE, metadata={"author": "assistant", "notice": "handed_back"})
    assert payload(reply) == {"text": "See you at 3.", "author": "staff", "staff": "alice"}
    assert payload(back) == {"text": BACK_NOTICE, "author": "assistant"}
    assert chat_text(reply) == "alice (clinic team): See you at 3."  # Telegram and Slack show no author
    assert chat_text(back) == BACK_NOTICE


def test_rest_conversations_get_it_with_their_next_answer(monkeypatch):
    box = outbox.MemoryOutbox()
    monkeypatch.setattr(outbox, "_current", box)
    reply = BotUttered("Hello", metadata={"author": "staff", "staff": "alice"})

    class App:
        class ctx:
            input_channels = []

    assert asyncio.run(deliver(App, "rest-1", "rest", [reply])) == "next_request"
    assert asyncio.run(deliver(App, "rest-1", "rest", [])) == "none"
    assert asyncio.run(deliver(App, "tg-1", "telegram", [reply])) == "failed"  # that channel is not configured
    assert box.take("rest-1") == [{"recipient_id": "rest-1", "text": "Hello", "author": "staff", "staff": "alice"}]
    assert box.take("rest-1") == []  # each once


def test_memory_outbox_keeps_order_and_a_bound():
    box = outbox.MemoryOutbox()
    for i in range(outbox.MAX_WAITING + 5):
        box.put("c", {"text": str(i)})
    box.put("other", {"text": "x"})
    taken = box.take("c")
    assert len(taken) == outbox.MAX_WAITING and taken[0]["text"] == "5" and taken[-1]["text"] == str(
        outbox.MAX_WAITING + 4)
    assert box.take("c") == [] and box.take("other") == [{"text": "x"}]


@pytest.fixture
def conv():
    conv = f"rest-{uuid.uuid4().hex[:8]}"
    yield conv
    redis.Redis(db=REDIS_DB).delete(f"calcified:outbox:{conv}")


def test_redis_outbox_is_shared_by_replicas(conv):
    first, second = (outbox.RedisOutbox("127.0.0.1", 6379, REDIS_DB) for _ in range(2))
    first.put(conv, {"text": "one"})
    first.put(conv, {"text": "two"})
    assert 0 < redis.Redis(db=REDIS_DB).ttl(f"calcified:outbox:{conv}") <= outbox.TTL_SECONDS
    assert second.take(conv) == [{"text": "one"}, {"text": "two"}]  # the next request reached the other replica
    assert first.take(conv) == []


def test_redis_outbox_unreachable_answers_nothing_instead_of_failing_the_turn(conv):
    down = outbox.RedisOutbox("127.0.0.1", free_port_block(1), REDIS_DB)
    assert down.take(conv) == []


def test_the_outbox_follows_the_lock_store(monkeypatch):
    monkeypatch.setattr(outbox, "_current", None)
    assert isinstance(outbox.current({}), outbox.MemoryOutbox)
    monkeypatch.setattr(outbox, "_current", None)
    assert isinstance(outbox.current({"REDIS_HOST": "127.0.0.1", "REDIS_DB": str(REDIS_DB)}), outbox.RedisOutbox)
    monkeypatch.setattr(outbox, "_current", None)
