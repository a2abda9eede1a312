"""Reading a conversation's event history from a rasa_sdk ``Tracker``.

Forms need to know where the patient's latest message sits among the events: is
the form reading that message right now, or resuming after another action answered
it? What did a slot hold before the message? (The latest message's own intent and
entities: ``latest_intent`` and ``latest_entities`` in ``actions/base.py``.)
"""

from __future__ import annotations

from typing import Any, Collection, Dict, Optional

from rasa_sdk import Tracker

# Actions that run as part of a form (the booking and the "forget me" forms); any
# other action after the patient's message means the form is resuming after an
# interruption, not reading an answer.
FORM_MACHINERY = {None, "action_listen", "action_extract_slots",
                  "booking_form", "validate_booking_form",
                  "data_deletion_form", "validate_data_deletion_form"}


def last_user_event_index(tracker: Tracker) -> Optional[int]:
    """Index in ``tracker.events`` of the patient's latest message, None before any."""
    events = tracker.events or []
    return next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), None)


def latest_user_event(tracker: Tracker) -> Optional[Dict[str, Any]]:
    index = last_user_event_index(tracker)
    return None if index is None else tracker.events[index]


def answers_latest_message(tracker: Tracker) -> bool:
    """True when the form runs right after the patient's message (not resuming after
    another action answered it, not being activated)."""
    last_user = last_user_event_index(tracker)
    if last_user is None:
        return False
    return all(
        e.get("name") in FORM_MACHINERY for e in tracker.events[last_user + 1:] if e.get("event") == "action"
    )


def slot_before_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest message (the form's tracker has candidates on top)."""
    events = tracker.events or []
    last_user = last_user_event_index(tracker)
    value = None
    for event in events[: last_user if last_user is not None else len(events)]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
        elif event.get("event") in ("restart", "session_started"):
            value = None
    return value


def changed_by_message(tracker: Tracker, slots: Collection[str]) -> bool:
    """Whether the events since the latest message changed one of ``slots``
    ("no, make it Friday" at the booking summary)."""
    last_user = last_user_event_index(tracker)
    return last_user is not None and any(
        e.get("event") == "slot" and e.get("name") in slots
        and e.get("value") != slot_before_message(tracker, e.get("name"))
        for e in tracker.events[last_user + 1:]
    )
