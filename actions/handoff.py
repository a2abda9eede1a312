"""Hand-off to a person: "talk to a human", "can someone call me".

Creates a ``handoff`` request in the same queue as bookings, with the conversation
id and channel so that staff open the transcript from the console. Asking again
while staff have not yet handled the first request gives the same reference; a
retried webhook call for the same message finds the row it already made.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import notify, resources, store
from actions.booking.slots import EMAIL, FORM, NAME, PHONE, clear_booking
from actions.flow import FlowAction, channel_of, utter_clinic_phone
from storage.engine import run_sync
from storage.requests import NewRequest, StorageError, StoredRequest, idempotency_key
from actions.tracker_reading import latest_user_event

logger = logging.getLogger(__name__)


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
            response = "utter_handoff_created"
        else:
            response = "utter_handoff_exists"
        dispatcher.utter_message(response=response, reference=stored.reference,
                                 response_time=settings.staff_response_time)
        utter_clinic_phone(dispatcher, settings)
        return events
