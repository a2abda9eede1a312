"""The booking flow (actions/booking/actions.py and validation.py) with real rasa_sdk
Trackers, asserting exact events.

The trackers look like the ones Rasa sends: for ``validate_booking_form`` the
patient's message, then ``requested_slot`` and the form's own ActionExecuted.
"""

import asyncio
import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import notify, resources, store as action_store
from actions.booking import actions as booking_actions, clinic_time
from actions.booking.actions import (ActionAskBookingConfirmed, ActionCancelBooking, ActionStartBooking,
                                     ActionSubmitBooking)
from actions.booking.slots import ALL_SLOTS
from actions.booking.validation import ValidateBookingForm
from actions.settings import Settings
from storage import tables
from storage.requests import RequestStore, idempotency_key
from tests.actions.conftest import entity
from tests.actions.test_notify import FakeWebhook
from tests.conftest import ROOT

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2030, 3, 12, 15, 0, tzinfo=LONDON)  # a Tuesday afternoon
ALL_CLEARED = [SlotSet(s, None) for s in ALL_SLOTS] + [SlotSet("requested_slot", None)]


def load_domain() -> Dict:
    merged: Dict = {}
    for path in [ROOT / "domain.yml"]:
        data = yaml.safe_load(path.read_text()) or {}
        for key in ("slots", "forms", "responses"):
            merged.setdefault(key, {}).update(data.get(key) or {})
    return merged


DOMAIN = load_domain()


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "assistant.db"
    template = RequestStore(f"sqlite:///{path}")
    template.migrate()
    template.dispose()
    return path


@pytest.fixture(autouse=True)
def clinic(monkeypatch, tmp_path, migrated_database):
    """London clinic, a fixed "now", an SQLite request store and no notifications."""
    shutil.copy(migrated_database, tmp_path / "assistant.db")
    settings = Settings.from_env({"CLINIC_TIMEZONE": "Europe/London", "CLINIC_PHONE": "020 7946 0000",
                                  "DATABASE_URL": f"sqlite:///{tmp_path / 'assistant.db'}"})
    loaded = resources.load(settings)
    monkeypatch.setattr(clinic_time, "utcnow", lambda: NOW.astimezone(timezone.utc))
    store = RequestStore(settings.database_url)
    action_store.configure(store)
    notify.configure(notify.Notifier(settings, store))
    yield loaded
    action_store.configure(None)
    notify.configure(None)
    store.dispose()


def message(text, intent, entities=None, ranking=None):
    return {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
            "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}]}


def tracker(text, intent, slots=None, entities=None, before=(), after=(), ranking=None,
            active_loop=None, latest_action="action_listen", sender="patient-1") -> Tracker:
    """A tracker whose latest event is the patient's message (plus ``after``)."""
    parse = message(text, intent, entities, ranking)
    slots = {"disclaimer_shown": True, **(slots or {})}
    events = [{"event": "slot", "name": k, "value": v} for k, v in slots.items()] + list(before) + [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": parse, "input_channel": "rest", "timestamp": 1900000000.5},
    ] + list(after)
    return Tracker(sender, slots, parse, events, False, None,
                   {"name": active_loop} if active_loop else {}, latest_action)


def form_tracker(text, intent, requested, slots=None, entities=None, before=(), after=None, ranking=None):
    """What validate_booking_form receives while the form reads an answer."""
    slots = {"requested_slot": requested, **(slots or {})}
    if after is None:
        after = [{"event": "action", "name": "action_extract_slots"},
                 {"event": "slot", "name": "requested_slot", "value": requested},
                 {"event": "action", "name": "booking_form"}]
    return tracker(text, intent, slots, entities, before, after, ranking, active_loop="booking_form",
                   latest_action="booking_form")


def validate(t: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateBookingForm().run(dispatcher, t, DOMAIN))
    return [m["response"] for m in dispatcher.messages], events, dispatcher.messages


def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, t, DOMAIN)
    events = asyncio.run(result) if asyncio.iscoroutine(result) else result
    return dispatcher.messages, events


def utter(response, **kwargs):
    return {"text": None, "buttons": [], "elements": [], "custom": {}, "template": response,
            "response": response, "image": None, "attachment": None, **kwargs}


# ------------------------------------------------------------------ start
def test_start_from_the_patients_words_prefills_type_and_specialist(monkeypatch):
    monkeypatch.setattr(booking_actions.uuid, "uuid4", lambda: type("U", (), {"hex": "nonce-1"})())
    messages, events = run(ActionStartBooking(), tracker(
        "book me with a kidney doctor", "request_appointment", entities=[entity("specialist", "nephrologist")]))
    assert messages == [
        utter("utter_booking_intro", kind_label="appointment request"),
        utter("utter_booking_specialist_noted", specialist="Nephrologist"),
    ]
    assert events == ALL_CLEARED + [SlotSet("booking_nonce", "nonce-1"), SlotSet("booking_kind", "appointment"),
                                    SlotSet("booking_specialist", "Nephrologist")]


def test_start_after_kidney_questions_notes_the_nephrologist():
    messages, events = run(ActionStartBooking(), tracker(
        "I want a second opinion", "request_second_opinion", {"location": "kidney", "section": "specialists"}))
    assert messages[0] == utter("utter_booking_intro", kind_label="request for a second opinion")
    assert SlotSet("booking_specialist", "Nephrologist") in events
    assert SlotSet("booking_kind", "second_opinion") in events


def test_an_unclear_request_type_is_asked_for():
    ranking = [{"name": "request_second_opinion", "confidence": 0.48},
               {"name": "request_appointment", "confidence": 0.41}]
    messages, events = run(ActionStartBooking(), tracker(
        "can a specialist look at my results", "request_second_opinion", ranking=ranking))
    assert messages == [utter("utter_booking_intro_either")]
    assert SlotSet("booking_kind", None) in events and SlotSet("booking_specialist", None) in events


def test_the_first_reply_of_a_session_carries_the_disclaimer():
    t = tracker("book me in", "request_appointment", {"disclaimer_shown": False})
    messages, events = run(ActionStartBooking(), t)
    assert [m["response"] for m in messages] == ["utter_disclaimer", "utter_booking_intro"]
    assert events[-1] == SlotSet("disclaimer_shown", True)


# ------------------------------------------------------------------ answers
def test_a_name_answers_the_name_question():
    responses, events, _ = validate(form_tracker("jane smith", "nlu_fallback", "booking_full_name"))
    assert responses == [] and events == [SlotSet("booking_full_name", "Jane Smith")]


def test_an_invalid_name_is_asked_again():
    responses, events, _ = validate(form_tracker("hmm", "nlu_fallback", "booking_full_name"))
    assert responses == ["utter_booking_invalid_name"]
    assert events == [SlotSet("booking_full_name", None)]


def test_a_phone_number_is_stored_in_e164():
    responses, events, _ = validate(form_tracker("it's 07911 123456", "inform", "booking_contact"))
    assert responses == []
    assert events == [SlotSet("booking_contact", "+447911123456"), SlotSet("booking_email", None),
                      SlotSet("booking_phone", "+447911123456")]


def test_an_invalid_email_is_refused_and_asked_again():
    responses, events, _ = validate(form_tracker("jane@example", "inform", "booking_contact"))
    assert responses == ["utter_booking_invalid_email"]
    assert events == [SlotSet("booking_contact", None)]


def test_an_invalid_phone_is_refused_and_asked_again():
    responses, events, _ = validate(form_tracker("0791 12", "inform", "booking_contact"))
    assert responses == ["utter_booking_invalid_phone"]
    assert events == [SlotSet("booking_contact", None)]


def test_a_past_date_is_refused():
    responses, events, _ = validate(form_tracker("last monday", "inform", "booking_time_text"))
    assert responses == ["utter_booking_time_past"]
    assert events == [SlotSet("booking_time_text", None)]


def test_a_day_and_time_keeps_the_words_and_the_time():
    responses, events, _ = validate(form_tracker("next Tuesday morning", "inform", "booking_time_text"))
    assert responses == []
    assert events == [SlotSet("booking_time_text", "next Tuesday morning"),
                      SlotSet("booking_time", "2030-03-19T09:00:00+00:00")]


def test_not_sure_is_a_valid_specialist_and_a_concern_is_kept_in_the_patients_words():
    _, events, _ = validate(form_tracker("not sure", "deny", "booking_specialist"))
    assert events == [SlotSet("booking_specialist", "Not sure")]
    _, events, _ = validate(form_tracker("my shoulder pain", "inform", "booking_specialist"))
    assert events == [SlotSet("booking_specialist", "my shoulder pain")]
    _, events, _ = validate(form_tracker("the kidneys", "ask_followup", "booking_specialist",
                                         entities=[entity("location", "kidney")]))
    assert events == [SlotSet("booking_specialist", "Nephrologist")]


def test_no_note_is_an_empty_note():
    _, events, _ = validate(form_tracker("no thanks", "deny", "booking_note"))
    assert events == [SlotSet("booking_note", "")]
    _, events, _ = validate(form_tracker("I'll bring my CT report", "inform", "booking_note"))
    assert events == [SlotSet("booking_note", "I'll bring my CT report")]


# ------------------------------------------------------------------ corrections
def test_a_correction_of_another_field_updates_it_and_asks_the_question_again():
    previous = {"booking_contact": "old@example.org", "booking_email": "old@example.org"}
    responses, events, messages = validate(form_tracker(
        "actually my email is jane@example.org", "inform", "booking_full_name", previous))
    assert messages == [utter("utter_booking_updated", field="e-mail address")]
    assert events == [SlotSet("booking_contact", "jane@example.org"), SlotSet("booking_email", "jane@example.org"),
                      SlotSet("booking_phone", None)]


def test_an_invalid_correction_keeps_the_earlier_answer():
    previous = {"booking_contact": "old@example.org", "booking_email": "old@example.org"}
    responses, events, _ = validate(form_tracker(
        "actually my email is jane@example", "inform", "booking_time_text", previous))
    assert responses == ["utter_booking_invalid_email"]
    assert events == [SlotSet("booking_contact", "old@example.org")]


def test_the_summary_step_takes_corrections_of_any_field():
    filled = {"booking_kind": "appointment", "booking_time_text": "monday", "booking_time": "2030-03-18"}
    responses, events, _ = validate(form_tracker("make it friday afternoon", "inform", "booking_confirmed", filled))
    assert responses == []  # the summary that follows shows the change
    assert events == [SlotSet("booking_time_text", "friday afternoon"),
                      SlotSet("booking_time", "2030-03-15T14:00:00+00:00")]
    _, events, _ = validate(form_tracker("a cardiologist instead", "inform", "booking_confirmed",
                                         entities=[entity("specialist", "cardiologist")]))
    assert events == [SlotSet("booking_specialist", "Cardiologist")]


def test_yes_confirms_no_asks_what_to_change():
    _, events, _ = validate(form_tracker("yes", "affirm", "booking_confirmed"))
    assert events == [SlotSet("booking_confirmed", True)]
    responses, events, _ = validate(form_tracker("no", "deny", "booking_confirmed"))
    assert responses == [] and events == [SlotSet("booking_confirmed", None)]
    responses, events, _ = validate(form_tracker("hmm perhaps", "nlu_fallback", "booking_confirmed"))
    assert responses == ["utter_booking_confirm_unclear"] and events == [SlotSet("booking_confirmed", None)]


def test_asking_for_the_other_request_type_switches_it():
    responses, events, messages = validate(form_tracker(
        "actually I want a second opinion", "request_second_opinion", "booking_full_name",
        {"booking_kind": "appointment"}))
    assert messages == [utter("utter_booking_updated", field="request type")]
    assert events == [SlotSet("booking_kind", "second_opinion")]
    responses, events, messages = validate(form_tracker(
        "ok id like an appointment please", "request_appointment", "booking_full_name",
        {"booking_kind": "appointment"}))
    assert messages == [utter("utter_booking_continue", kind_label="appointment request")]
    assert events == [SlotSet("booking_kind", "appointment")]


# ------------------------------------------------------------------ leaving the form
@pytest.mark.parametrize("text, intent, requested", [
    ("I have sudden chest pain", "report_emergency", "booking_full_name"),
    ("stop", "cancel", "booking_contact"),
    ("never mind", "cancel", "booking_confirmed"),
    ("talk to a human", "request_human", "booking_note"),
    ("forget me", "request_data_deletion", "booking_time_text"),
    ("start over", "restart", "booking_specialist"),
    ("actually first, what does a cardiologist do", "ask_specialist", "booking_full_name"),
    ("how long is recovery after surgery?", "ask_recovery", "booking_time_text"),
    ("are you a bot", "bot_challenge", "booking_contact"),
    ("what's the weather tomorrow?", "out_of_scope", "booking_note"),
    ("thank you", "thank", "booking_full_name"),
    ("bye", "goodbye", "booking_full_name"),
    ("she takes loads of tablets, does that matter", "ask_preparation", "booking_full_name"),  # no "?"
    ("thanks, bye for now", "goodbye", "booking_note"),
    ("In the meantime, is there anything I can change in my daily habits?", "nlu_fallback", "booking_full_name"),
])
def test_emergencies_cancels_and_questions_are_left_to_the_rules(text, intent, requested):
    responses, events, _ = validate(form_tracker(text, intent, requested))
    assert responses == [] and events == []  # nothing filled: Rasa rejects the form


def test_a_question_shaped_answer_that_answers_the_step_stays_in_the_form():
    _, events, _ = validate(form_tracker("can you do friday at 10am?", "ask_followup", "booking_time_text"))
    assert events == [SlotSet("booking_time_text", "friday at 10am"),
                      SlotSet("booking_time", "2030-03-15T10:00:00+00:00")]


def test_resuming_after_an_answer_does_not_read_the_question_as_an_answer():
    after = [{"event": "action", "name": "action_extract_slots"},
             {"event": "action", "name": "action_answer_question"},
             {"event": "bot", "text": "From the guide ..."},
             {"event": "slot", "name": "section", "value": "recovery"},
             {"event": "slot", "name": "requested_slot", "value": "booking_full_name"},
             {"event": "action", "name": "booking_form"}]
    responses, events, _ = validate(form_tracker("how long is recovery?", "ask_recovery", "booking_full_name",
                                                 after=after))
    assert responses == [] and events == []


# ------------------------------------------------------------------ summary, submit, cancel
FILLED = {
    "booking_kind": "second_opinion", "booking_specialist": "Nephrologist", "booking_full_name": "Jane Smith",
    "booking_contact": "jane@example.org and +447911123456", "booking_email": "jane@example.org",
    "booking_phone": "+447911123456", "booking_time_text": "next Tuesday morning",
    "booking_time": "2030-03-19T09:00:00+00:00", "booking_note": "", "booking_nonce": "nonce-1",
}


def test_the_summary_shows_every_field():
    # after "no" to "anything else?" (the note), the summary
    messages, events = run(ActionAskBookingConfirmed(), form_tracker("no", "deny", "booking_note", FILLED))
    assert messages == [utter(
        "utter_booking_summary", kind_label="request for a second opinion", specialist="Nephrologist",
        full_name="Jane Smith", contact="jane@example.org and +447911123456",
        preferred_time="next Tuesday morning (Tuesday 19 March 2030, 09:00)", note="(none)",
    )]
    assert events == []
    # after "no" to the summary, what to change
    no_to_summary = form_tracker("no", "deny", "booking_confirmed", FILLED,
                                 before=[{"event": "slot", "name": "requested_slot", "value": "booking_confirmed"}])
    messages, _ = run(ActionAskBookingConfirmed(), no_to_summary)
    assert messages == [utter("utter_booking_change_what")]


def test_submit_stores_once_notifies_and_gives_the_reference(caplog):
    webhook = FakeWebhook()
    try:
        settings = Settings.from_env({"CLINIC_TIMEZONE": "Europe/London", "CLINIC_PHONE": "020 7946 0000",
                                      "STAFF_SLACK_WEBHOOK_URL": webhook.url})
        resources.load(settings)
        notify.configure(notify.Notifier(settings, action_store.current(), ["Nephrologist"]))
        caplog.set_level(logging.INFO)
        t = tracker("yes", "affirm", {**FILLED, "booking_confirmed": True}, sender="web-7")
        messages, events = run(ActionSubmitBooking(), t)
        [stored] = action_store.current().for_conversation("web-7")
        assert messages == [
            utter("utter_booking_submitted", kind_label="request for a second opinion", reference=stored.reference,
                  response_time="within one working day", contact_method="e-mail or phone"),
            utter("utter_clinic_phone", clinic_phone="020 7946 0000"),
        ]
        assert events == ALL_CLEARED
        assert (stored.kind, stored.specialist, stored.full_name, stored.email, stored.phone) == (
            "second_opinion", "Nephrologist", "Jane Smith", "jane@example.org", "+447911123456")
        assert stored.preferred_time == datetime(2030, 3, 19, 9, 0, tzinfo=timezone.utc)
        assert (stored.preferred_time_text, stored.note, stored.channel) == ("next Tuesday morning", None, "rest")
        assert stored.idempotency_key == idempotency_key("booking", "web-7", "nonce-1")
        assert len(webhook.bodies) == 1 and stored.reference in webhook.bodies[0]["text"]
        # the same webhook call again (Rasa retried it): one row, no second notification
        messages, _ = run(ActionSubmitBooking(), t)
        assert messages[0]["reference"] == stored.reference
        assert len(action_store.current().for_conversation("web-7")) == 1
        assert len(webhook.bodies) == 1
        for private in ("Jane", "jane@example.org", "7911123456"):
            assert private not in caplog.text
        assert f"Stored second_opinion request {stored.reference}" in caplog.text
    finally:
        webhook.close()


def test_a_request_that_cannot_be_stored_keeps_the_answers_for_another_try(tmp_path):
    broken = RequestStore(f"sqlite:///{tmp_path / 'not-migrated.db'}")  # no tables
    action_store.configure(broken)
    t = tracker("yes", "affirm", {**FILLED, "booking_confirmed": True})
    messages, events = run(ActionSubmitBooking(), t)
    assert [m["response"] for m in messages] == ["utter_booking_failed", "utter_clinic_phone"]
    assert events == [SlotSet("booking_confirmed", None)]
    # "book an appointment" again: the details are kept, only the summary is asked again
    messages, events = run(ActionStartBooking(), tracker("book me in", "request_appointment", FILLED))
    assert messages == [utter("utter_booking_resume", kind_label="appointment request")]
    assert events == [SlotSet("requested_slot", None), SlotSet("booking_kind", "appointment")]
    broken.dispose()


def test_submit_without_a_confirmation_stores_nothing():
    messages, events = run(ActionSubmitBooking(), tracker("no", "deny", FILLED))
    assert [m["response"] for m in messages] == ["utter_booking_cancelled"]
    assert events == ALL_CLEARED
    with action_store.current().engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.requests)).scalar_one() == 0


def test_cancel_in_the_form_drops_everything():
    t = tracker("never mind", "cancel", {**FILLED, "requested_slot": "booking_note"}, active_loop="booking_form")
    messages, events = run(ActionCancelBooking(), t)
    assert messages == [utter("utter_booking_cancelled")]
    assert events == ALL_CLEARED + [ActiveLoop(None)]


def test_goodbye_in_the_form_drops_everything_and_says_nothing_was_sent():
    t = tracker("bye", "goodbye", {**FILLED, "requested_slot": "booking_note"}, active_loop="booking_form")
    messages, events = run(ActionCancelBooking(), t)
    assert messages == [utter("utter_booking_left")]
    assert events == ALL_CLEARED + [ActiveLoop(None)]


def test_a_short_answer_classified_as_a_question_stays_in_the_form_and_is_judged():
    responses, events, _ = validate(form_tracker("Rosalind", "ask_followup", "booking_full_name"))
    assert responses and events == [SlotSet("booking_full_name", None)]  # "doesn't look like a full name"


def test_an_unsure_guess_stays_in_the_form_unless_it_is_a_question_of_some_length():
    responses, events, _ = validate(form_tracker("Rosalind?", "nlu_fallback", "booking_full_name"))
    assert responses and events == [SlotSet("booking_full_name", None)]  # judged as a name
    _, events, _ = validate(form_tracker("can the doctor look at my knee too?", "nlu_fallback", "booking_note"))
    assert events and events[0]["name"] == "booking_note"  # free text: the note


def test_a_note_that_is_not_shaped_as_a_question_stays_the_note():
    _, events, _ = validate(form_tracker("my scan shows calcium in my kidney", "ask_diagnosis", "booking_note"))
    assert events and events[0]["name"] == "booking_note"


def test_a_name_classified_as_small_talk_is_still_the_name():
    _, events, _ = validate(form_tracker("Ngozi Okafor", "goodbye", "booking_full_name"))
    assert events and events[0] == SlotSet("booking_full_name", "Ngozi Okafor")


def test_cancel_with_nothing_going_on():
    messages, events = run(ActionCancelBooking(), tracker("stop", "cancel"))
    assert messages == [utter("utter_nothing_to_cancel")]
    assert events == []


def test_a_day_taken_for_a_booking_request_still_answers_the_day_question():
    # "next Tuesday morning" may be classified as request_appointment: it is the answer
    _, events, _ = validate(form_tracker("next Tuesday morning", "request_appointment", "booking_time_text"))
    assert events == [SlotSet("booking_time_text", "next Tuesday morning"),
                      SlotSet("booking_time", "2030-03-19T09:00:00+00:00")]


def test_an_answer_the_classifier_took_for_a_question_stays_in_the_form():
    responses, events, _ = validate(form_tracker("rosalind.okafor@example", "ask_capabilities", "booking_contact"))
    assert responses == ["utter_booking_invalid_email"] and events == [SlotSet("booking_contact", None)]
    _, events, _ = validate(form_tracker("Rosalind Okafor", "bot_challenge", "booking_full_name"))
    assert events == [SlotSet("booking_full_name", "Rosalind Okafor")]
    _, events, _ = validate(form_tracker("call me on 07911 123456", "request_human", "booking_contact"))
    assert events == [SlotSet("booking_contact", "+447911123456"), SlotSet("booking_email", None),
                      SlotSet("booking_phone", "+447911123456")]
    # ... but "help" and "start again" are not names
    assert validate(form_tracker("help", "ask_capabilities", "booking_full_name"))[1] == []
    assert validate(form_tracker("start again", "restart", "booking_full_name"))[1] == []


def test_yes_book_it_confirms_and_no_make_it_friday_shows_the_new_summary():
    _, events, _ = validate(form_tracker("yes, book it", "affirm", "booking_confirmed", {"booking_kind": "appointment"}))
    assert events == [SlotSet("booking_confirmed", True)]
    after = [{"event": "action", "name": "action_extract_slots"},
             {"event": "slot", "name": "requested_slot", "value": "booking_confirmed"},
             {"event": "action", "name": "booking_form"},
             {"event": "slot", "name": "booking_time_text", "value": "friday"}]
    t = form_tracker("no, make it friday", "deny", "booking_confirmed", FILLED, after=after)
    messages, _ = run(ActionAskBookingConfirmed(), t)
    assert messages[0]["response"] == "utter_booking_summary"
