"""Reading the event history (actions/tracker_reading.py)."""

from rasa_sdk import Tracker

from actions.tracker_reading import (answers_latest_message, changed_by_message, last_user_event_index,
                                     latest_user_event, slot_before_message)


def history(*events) -> Tracker:
    return Tracker("patient-1", {}, {}, list(events), False, None, {}, "action_listen")


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def user(text, **extra):
    return {"event": "user", "text": text, **extra}


def action(name):
    return {"event": "action", "name": name}


def test_the_latest_message_is_found_from_the_end():
    t = history(user("hi"), action("action_reply_canned"), user("book me in", message_id="m2"),
                action("booking_form"))
    assert last_user_event_index(t) == 2
    assert latest_user_event(t)["message_id"] == "m2"
    assert last_user_event_index(history()) is None and latest_user_event(history()) is None


def test_a_form_answers_the_message_only_when_nothing_else_ran_since():
    assert answers_latest_message(history(user("Jane Smith"), action("action_extract_slots"),
                                          action("booking_form"), action("validate_booking_form")))
    assert not answers_latest_message(history(user("what is it?"), action("action_answer_question"),
                                              action("booking_form")))
    assert not answers_latest_message(history(action("action_listen")))


def test_slots_before_the_message_ignore_the_forms_candidates_and_restarts():
    t = history(slot("booking_note", "old"), user("x"), slot("booking_note", "new"))
    assert slot_before_message(t, "booking_note") == "old"
    assert slot_before_message(history(slot("booking_note", "old"), {"event": "restart"}, user("x")),
                               "booking_note") is None


def test_changes_since_the_message_are_only_those_of_the_slots_asked_about():
    t = history(slot("booking_note", "old"), user("no, make it Friday"), slot("booking_note", "old"),
                slot("booking_time_text", "Friday"))
    assert changed_by_message(t, {"booking_time_text"})
    assert not changed_by_message(t, {"booking_note"})
    assert not changed_by_message(history(slot("booking_note", "a")), {"booking_note"})
