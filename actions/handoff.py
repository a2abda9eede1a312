"""Hand-off to a person: "talk to a human", "can someone call me".

Creates a ``handoff`` request in the same queue as bookings, with the conversation
id and channel so that staff open the transcript from the console (its inbox) and can
take the conversation over. Asking again while staff have not yet handled the first
request gives the same reference; a retried webhook call for the same message finds
the row it already made.

What the patient is told depends on the team's hours (``STAFF_HOURS``, clinic/hours.py):
in staffed hours, that someone will join here shortly, and a reminder fires after
``STAFF_PICKUP_MINUTES``: if nobody has taken the conversation by then, the patient
hears that nobody is free yet and when to expect a reply. Outside them, when the team
is back. Either way, a patient whose contact is not known is invited (optionally) to
leave a phone number or e-mail for a call-back, stored on the request.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import notify, resources, store
from actions.booking.slots import EMAIL, FORM, NAME, PHONE, clear_booking
from actions.booking.parsing import contact_display, parse_contact, single_line
from actions.flow import FlowAction, channel_of, utter_clinic_phone
from actions.tracker_reading import latest_user_event
from clinic.hours import StaffHours
from storage.engine import run_sync
from storage.requests import NewRequest, StorageError, StoredRequest, idempotency_key
from storage.time import utcnow

logger = logging.getLogger(__name__)

WAITING_INTENT = "EXTERNAL_handoff_waiting"  # the reminder: has anyone taken the conversation?
LIVE_AGENT = "live_agent"  # set while a person holds the conversation (channels/staff_relay.py)


def latest_message_stamp(tracker: Tracker) -> str:
    """Identifies the patient's latest message (a retried call carries the same one)."""
    event = latest_user_event(tracker)
    return str(event.get("message_id") or event.get("timestamp") or "") if event else ""


class ActionRequestHandoff(FlowAction, Action):
    def name(self) -> Text:
        return "action_request_handoff"

    def _store(self, tracker: Tracker) -> StoredRequest:
        requests = store.current()
        existing = requests.open_request(tracker.sender_id, "handoff")
        if existing:
            return existing
        return requests.submit(NewRequest(
            kind="handoff",
            conversation_id=tracker.sender_id,
            channel=channel_of(tracker),
            idempotency_key=idempotency_key("handoff", tracker.sender_id,
                                            latest_message_stamp(tracker)),
            # what the patient already gave in this conversation, if anything
            full_name=tracker.get_slot(NAME), email=tracker.get_slot(EMAIL),
            phone=tracker.get_slot(PHONE),
        ))

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        settings = resources.current().settings
        events: List[EventType] = []
        if tracker.active_loop_name == FORM:
            dispatcher.utter_message(response="utter_handoff_stopped_booking")
            events = clear_booking() + [ActiveLoop(None)]
        try:
            stored = await run_sync(self._store, tracker)
        except (SQLAlchemyError, StorageError, ValueError, OSError) as exc:
            logger.error("Could not store a hand-off request: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_handoff_failed")
            utter_clinic_phone(dispatcher, settings)
            return events
        if stored.created:
            notify.current().notify_soon(stored)
        hours = StaffHours.parse(settings.staff_hours, settings.clinic_timezone)
        now = utcnow()
        if not stored.created:
            dispatcher.utter_message(response="utter_handoff_exists", reference=stored.reference,
                                     response_time=settings.staff_response_time)
        elif hours.is_open(now):
            minutes = settings.staff_pickup_minutes
            dispatcher.utter_message(response="utter_handoff_created", reference=stored.reference,
                                     minutes=f"{minutes:g}")
            events.append(ReminderScheduled(WAITING_INTENT, now + timedelta(minutes=minutes),
                                            name="handoff_waiting", kill_on_user_message=False))
        else:
            dispatcher.utter_message(response="utter_handoff_closed", reference=stored.reference,
                                     hours=hours.spec, next_open=hours.describe_next(now))
        if not (stored.email or stored.phone):
            dispatcher.utter_message(response="utter_ask_handoff_contact")
        utter_clinic_phone(dispatcher, settings)
        return events


class ActionRemindHandoff(FlowAction, Action):
    """The reminder after ``STAFF_PICKUP_MINUTES``: silent if someone took the conversation
    or staff handled the request; otherwise tells the patient nobody is free yet."""

    def name(self) -> Text:
        return "action_remind_handoff"

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot(LIVE_AGENT):
            return []
        settings = resources.current().settings
        try:
            waiting = await run_sync(store.current().open_request, tracker.sender_id, "handoff")
        except (SQLAlchemyError, StorageError, OSError) as exc:
            logger.error("Could not read the hand-off request: %s", type(exc).__name__)
            return []
        if waiting is None:  # taken or handled in the meantime
            return []
        hours = StaffHours.parse(settings.staff_hours, settings.clinic_timezone)
        now = utcnow()
        dispatcher.utter_message(response="utter_handoff_waiting", reference=waiting.reference,
                                 response_time=settings.staff_response_time if hours.is_open(now)
                                 else f"from {hours.describe_next(now)}")
        if not (waiting.email or waiting.phone):
            dispatcher.utter_message(response="utter_ask_handoff_contact")
        utter_clinic_phone(dispatcher, settings)
        return []


def contact_of(tracker: Tracker, region: str):
    event = latest_user_event(tracker)
    return parse_contact(single_line(str((event or {}).get("text") or "")), region)


class ActionSaveHandoffContact(FlowAction, Action):
    """A phone number or e-mail left for a call-back after asking for a person."""

    def name(self) -> Text:
        return "action_save_handoff_contact"

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        settings = resources.current().settings
        answer = contact_of(tracker, settings.clinic_phone_region)
        if not (answer.email or answer.phone):
            # a half-typed e-mail is said so; anything else gets the hand-off's own wording
            dispatcher.utter_message(response="utter_booking_invalid_email" if answer.error ==
                                     "utter_booking_invalid_email" else "utter_handoff_contact_unclear")
            return []
        requests = store.current()
        try:
            waiting: Optional[StoredRequest] = await run_sync(requests.open_request, tracker.sender_id, "handoff")
            if waiting is not None:
                await run_sync(requests.add_contact, waiting.id, answer.email, answer.phone)
        except (SQLAlchemyError, StorageError, ValueError, OSError) as exc:
            logger.error("Could not store a call-back contact: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_handoff_failed")
            return []
        if waiting is None:  # staff already took it or handled it: they can read the message
            dispatcher.utter_message(response="utter_handoff_contact_noted")
        else:
            dispatcher.utter_message(response="utter_handoff_contact_saved",
                                     contact=contact_display(answer.email, answer.phone),
                                     reference=waiting.reference)
        return [SlotSet(EMAIL, answer.email or tracker.get_slot(EMAIL)),
                SlotSet(PHONE, answer.phone or tracker.get_slot(PHONE))]
