"""Hand-off to a person: a 'handoff' request in the same queue as bookings, what the
patient is told in and outside staffed hours, the reminder and a call-back contact.
The clock is frozen: a Tuesday 10:00 in London unless a test says otherwise."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk.events import ActiveLoop, ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import notify, resources, store as action_store
from actions.booking.slots import clear_booking
from actions import handoff
from actions.handoff import ActionRemindHandoff, ActionRequestHandoff, ActionSaveHandoffContact
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


TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)  # 10:00 in London too (GMT)
SATURDAY_10 = datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc)
ENV = {"STAFF_RESPONSE_TIME": "within two hours", "STAFF_CONSOLE_URL": "https://clinic.example/staff",
       "STAFF_HOURS": "Mon-Fri 08:00-18:00", "CLINIC_TIMEZONE": "Europe/London", "STAFF_PICKUP_MINUTES": "4"}


@pytest.fixture(autouse=True)
def now(monkeypatch):
    clock = {"now": TUESDAY_10}
    monkeypatch.setattr(handoff, "utcnow", lambda: clock["now"])
    return clock


def reminder(at=TUESDAY_10):
    return ReminderScheduled(handoff.WAITING_INTENT, at + timedelta(minutes=4), name="handoff_waiting",
                             kill_on_user_message=False)


@pytest.fixture(autouse=True)
def clinic(tmp_path, webhook):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'assistant.db'}",
                                  "STAFF_SLACK_WEBHOOK_URL": webhook.url, **ENV})
    resources.load(settings)
    store = RequestStore(settings.database_url)
    store.migrate()
    action_store.configure(store)
    notify.configure(notify.Notifier(settings, store, []))
    yield store
    action_store.configure(None)
    notify.configure(None)
    store.dispose()


def run(t, action=None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run((action or ActionRequestHandoff()).run(dispatcher, t, {}))
    return dispatcher.messages, events


def test_a_person_is_asked_for_with_a_link_to_the_conversation(clinic, webhook):
    messages, events = run(tracker("can someone call me", "request_human", sender="tg-555"))
    [request] = clinic.for_conversation("tg-555")
    assert (request.kind, request.channel, request.status) == ("handoff", "rest", "new")
    assert request.full_name is None and request.email is None
    assert messages == [utter("utter_handoff_created", reference=request.reference, minutes="4"),
                        utter("utter_ask_handoff_contact")]
    assert events == [reminder()]
    assert webhook.bodies[0]["text"] == (
        f"New request to talk to a person {request.reference}\nChannel: rest\n"
        "Conversation: https://clinic.example/staff/conversations/tg-555")


def test_asking_again_gives_the_same_reference(clinic, webhook):
    run(tracker("talk to a human", "request_human"))
    messages, _ = run(tracker("hello?? a human please", "request_human"))
    [request] = clinic.for_conversation("patient-1")
    assert messages == [utter("utter_handoff_exists", reference=request.reference,
                              response_time="within two hours"), utter("utter_ask_handoff_contact")]
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
    # the contact is known: no call-back question
    assert [m["response"] for m in messages] == ["utter_handoff_stopped_booking", "utter_handoff_created"]
    assert events == clear_booking() + [ActiveLoop(None), reminder()]


def test_a_storage_failure_says_so(tmp_path):
    action_store.configure(RequestStore(f"sqlite:///{tmp_path / 'empty.db'}"))
    messages, events = run(tracker("talk to a human", "request_human"))
    assert messages == [utter("utter_handoff_failed")]
    assert events == []


def test_the_clinic_phone_number_is_given_when_configured(clinic):
    resources.load(Settings.from_env({"CLINIC_PHONE": "+44 20 7946 0000"}))
    messages, _ = run(tracker("talk to a human", "request_human"))
    assert messages[-1] == utter("utter_clinic_phone", clinic_phone="+44 20 7946 0000")


def test_outside_staffed_hours_the_patient_hears_when_a_person_answers(clinic, now):
    now["now"] = SATURDAY_10
    messages, events = run(tracker("can I talk to someone", "request_human"))
    [request] = clinic.for_conversation("patient-1")
    assert messages == [utter("utter_handoff_closed", reference=request.reference, hours="Mon-Fri 08:00-18:00",
                              next_open="Monday at 08:00 (Europe/London time)"),
                        utter("utter_ask_handoff_contact")]
    assert events == []  # no reminder: nobody is expected before Monday


def test_the_reminder_speaks_only_while_nobody_has_taken_it(clinic):
    run(tracker("can I talk to someone", "request_human"))
    [request] = clinic.for_conversation("patient-1")
    waiting = tracker("EXTERNAL_handoff_waiting", "EXTERNAL_handoff_waiting")
    messages, events = run(waiting, ActionRemindHandoff())
    assert messages == [utter("utter_handoff_waiting", reference=request.reference,
                              response_time="within two hours"), utter("utter_ask_handoff_contact")]
    held = tracker("EXTERNAL_handoff_waiting", "EXTERNAL_handoff_waiting", {"live_agent": "alice"})
    assert run(held, ActionRemindHandoff()) == ([], [])
    with clinic.engine.begin() as conn:  # staff handled it from the queue
        conn.execute(tables.requests.update().values(status="contacted"))
    assert run(waiting, ActionRemindHandoff()) == ([], [])


def test_a_call_back_contact_is_stored_on_the_request(clinic):
    run(tracker("can I talk to someone", "request_human"))
    [request] = clinic.for_conversation("patient-1")
    messages, events = run(tracker("please call me on 07911 123456", "inform"), ActionSaveHandoffContact())
    assert clinic.get(request.id).phone == "+447911123456" and clinic.get(request.id).email is None
    assert messages == [utter("utter_handoff_contact_saved", contact="+447911123456", reference=request.reference)]
    assert events == [SlotSet("booking_email", None), SlotSet("booking_phone", "+447911123456")]
    run(tracker("or mail jo@example.org", "inform"), ActionSaveHandoffContact())
    assert (clinic.get(request.id).email, clinic.get(request.id).phone) == ("jo@example.org", "+447911123456")


def test_a_message_without_a_contact_is_not_stored(clinic):
    run(tracker("can I talk to someone", "request_human"))
    messages, events = run(tracker("my number is secret", "inform"), ActionSaveHandoffContact())
    assert messages == [utter("utter_handoff_contact_unclear")] and events == []
    [request] = clinic.for_conversation("patient-1")
    assert request.phone is None and request.email is None


def test_a_contact_after_staff_took_the_request_is_left_for_them(clinic):
    run(tracker("can I talk to someone", "request_human"))
    with clinic.engine.begin() as conn:
        conn.execute(tables.requests.update().values(status="contacted"))
    messages, _ = run(tracker("jo@example.org", "inform"), ActionSaveHandoffContact())
    assert messages == [utter("utter_handoff_contact_noted")]
