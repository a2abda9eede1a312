"""Hand-off to a person: a 'handoff' request in the same queue as bookings."""

import asyncio

import pytest
from rasa_sdk.events import ActiveLoop
from rasa_sdk.executor import CollectingDispatcher

from actions import notify, resources, store as action_store
from actions.booking.slots import clear_booking
from actions.handoff import ActionRequestHandoff
from actions.settings import Settings
from storage import tables
from storage.requests import RequestStore
from tests.actions.booking.test_flow import FILLED, tracker, utter
from tests.actions.test_notify import FakeWebhook


@pytest.fixture
def webhook():
    hook = FakeWebhook()
    yield hook
    hook.close()


@pytest.fixture(autouse=True)
def clinic(tmp_path, webhook):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'assistant.db'}",
                                  "STAFF_SLACK_WEBHOOK_URL": webhook.url,
                                  "STAFF_RESPONSE_TIME": "within two hours",
                                  "STAFF_CONSOLE_URL": "https://clinic.example/staff"})
    resources.load(settings)
    store = RequestStore(settings.database_url)
    store.migrate()
    action_store.configure(store)
    notify.configure(notify.Notifier(settings, store, []))
    yield store
    action_store.configure(None)
    notify.configure(None)
    store.dispose()


def run(t):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRequestHandoff().run(dispatcher, t, {}))
    return dispatcher.messages, events


def test_a_person_is_asked_for_with_a_link_to_the_conversation(clinic, webhook):
    messages, events = run(tracker("can someone call me", "request_human", sender="tg-555"))
    [request] = clinic.for_conversation("tg-555")
    assert (request.kind, request.channel, request.status) == ("handoff", "rest", "new")
    assert request.full_name is None and request.email is None
    assert messages == [utter("utter_handoff_created", reference=request.reference,
                              response_time="within two hours")]
    assert events == []
    assert webhook.bodies[0]["text"] == (
        f"New request to talk to a person {request.reference}\nChannel: rest\n"
        "Conversation: https://clinic.example/staff/conversations/tg-555")


def test_asking_again_gives_the_same_reference(clinic, webhook):
    run(tracker("talk to a human", "request_human"))
    messages, _ = run(tracker("hello?? a human please", "request_human"))
    [request] = clinic.for_conversation("patient-1")
    assert messages == [utter("utter_handoff_exists", reference=request.reference,
                              response_time="within two hours")]
    assert len(webhook.bodies) == 1


def test_a_retried_call_for_the_same_message_stores_one_request(clinic):
    t = tracker("talk to a human", "request_human")
    run(t)
    with clinic.engine.begin() as conn:  # staff already closed it; Rasa retries the same call
        conn.execute(tables.requests.update().values(status="closed"))
    run(t)
    assert len(clinic.for_conversation("patient-1")) == 1
    run(tracker("talk to a human", "request_human", after=[{"event": "user", "text": "again", "timestamp": 2e9}]))
    assert len(clinic.for_conversation("patient-1")) == 2  # a new message after it was closed: a new request


def test_during_a_booking_the_form_stops_and_known_details_go_along(clinic):
    t = tracker("actually can i just talk to someone", "request_human",
                {**FILLED, "requested_slot": "booking_note"}, active_loop="booking_form")
    messages, events = run(t)
    [request] = clinic.for_conversation("patient-1")
    assert (request.full_name, request.email, request.phone) == ("Jane Smith", "jane@example.org", "+447911123456")
    assert [m["response"] for m in messages] == ["utter_handoff_stopped_booking", "utter_handoff_created"]
    assert events == clear_booking() + [ActiveLoop(None)]


def test_a_storage_failure_says_so(tmp_path):
    action_store.configure(RequestStore(f"sqlite:///{tmp_path / 'empty.db'}"))
    messages, events = run(tracker("talk to a human", "request_human"))
    assert messages == [utter("utter_handoff_failed")]
    assert events == []


def test_the_clinic_phone_number_is_given_when_configured(clinic):
    resources.load(Settings.from_env({"CLINIC_PHONE": "+44 20 7946 0000"}))
    messages, _ = run(tracker("talk to a human", "request_human"))
    assert messages[-1] == utter("utter_clinic_phone", clinic_phone="+44 20 7946 0000")
