"""The booking actions around the form: start it, show the summary to confirm, submit
(store once, notify staff, give the reference) and cancel."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from sqlalchemy.exc import SQLAlchemyError

from actions import notify, resources, store
from actions.base import PatientAction, latest_entities, latest_intent
from actions.booking.clinic_time import clinic_zone
from actions.booking.slots import (CONFIRMED, CONTACT, EMAIL, FIELDS, FORM, KIND, KIND_BY_INTENT,
                                   NAME, NONCE, NOT_SURE, NOTE, PHONE, SPECIALIST, TIME,
                                   TIME_TEXT, clear_booking)
from actions.booking.specialists import specialist_from_context, specialist_from_entities
from actions.booking.times import describe_time, time_from_slot
from actions.flow import FlowAction, channel_of, utter_clinic_phone
from storage.engine import run_sync
from storage.requests import NewRequest, StorageError, idempotency_key
from storage.tables import KIND_LABELS
from actions.tracker_reading import answers_latest_message, changed_by_message, slot_before_message

logger = logging.getLogger(__name__)


class ActionStartBooking(FlowAction, Action):
    """Starts a request: its type from the intent, the specialist from the conversation."""

    def name(self) -> Text:
        return "action_start_booking"

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        guide = resources.current().guide
        intent = latest_intent(tracker)
        kind = KIND_BY_INTENT.get(intent)
        ranking = tracker.latest_message.get("intent_ranking") or []
        top = [r for r in ranking[:2] if r.get("name") in KIND_BY_INTENT]
        if len(top) == 2 and abs(top[0].get("confidence", 0) - top[1].get("confidence", 0)) < 0.2:
            kind = None  # "can a specialist look at my results": ask which it is
        specialist = (specialist_from_entities(guide, latest_entities(tracker))
                      or specialist_from_context(guide, tracker))
        if tracker.get_slot(NONCE) and tracker.get_slot(CONFIRMED) is None and tracker.get_slot(NAME):
            # The last submission could not be stored: keep what the patient gave
            # (and the nonce, so that a row that did get stored is not doubled).
            events: List[EventType] = [SlotSet(REQUESTED_SLOT, None)]
            if kind:
                events.append(SlotSet(KIND, kind))
            dispatcher.utter_message(response="utter_booking_resume",
                                     kind_label=KIND_LABELS.get(kind or tracker.get_slot(KIND), "request"))
            return events
        events = clear_booking()
        events += [SlotSet(NONCE, uuid.uuid4().hex), SlotSet(KIND, kind), SlotSet(SPECIALIST, specialist)]
        if kind:
            dispatcher.utter_message(response="utter_booking_intro", kind_label=KIND_LABELS[kind])
        else:
            dispatcher.utter_message(response="utter_booking_intro_either")
        if specialist:
            dispatcher.utter_message(response="utter_booking_specialist_noted", specialist=specialist)
        return events


def summary_kwargs(tracker: Tracker) -> Dict[str, str]:
    zone = clinic_zone(resources.current().settings)
    return {
        "kind_label": KIND_LABELS.get(tracker.get_slot(KIND), "request"),
        "specialist": tracker.get_slot(SPECIALIST) or NOT_SURE,
        "full_name": tracker.get_slot(NAME) or "",
        "contact": tracker.get_slot(CONTACT) or "",
        "preferred_time": describe_time(tracker.get_slot(TIME_TEXT), tracker.get_slot(TIME), zone),
        "note": tracker.get_slot(NOTE) or "(none)",
    }


class ActionAskBookingConfirmed(Action):
    """The summary to confirm, or after a "no" the question what to change."""

    def name(self) -> Text:
        return f"action_ask_{FORM}_{CONFIRMED}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        if (answers_latest_message(tracker) and latest_intent(tracker) == "deny"
                and slot_before_message(tracker, REQUESTED_SLOT) == CONFIRMED
                and not changed_by_message(tracker, FIELDS)):
            dispatcher.utter_message(response="utter_booking_change_what")
        else:
            dispatcher.utter_message(response="utter_booking_summary", **summary_kwargs(tracker))
        return []


class ActionSubmitBooking(FlowAction, Action):
    """Stores the confirmed request (once), notifies staff, gives the reference."""

    def name(self) -> Text:
        return "action_submit_booking"

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        settings = resources.current().settings
        if tracker.get_slot(CONFIRMED) is not True or not tracker.get_slot(NONCE):
            dispatcher.utter_message(response="utter_booking_cancelled")
            return clear_booking()
        when, _ = time_from_slot(tracker.get_slot(TIME), clinic_zone(settings))
        try:
            new = NewRequest(
                kind=tracker.get_slot(KIND) or "appointment",
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                idempotency_key=idempotency_key("booking", tracker.sender_id, tracker.get_slot(NONCE)),
                specialist=tracker.get_slot(SPECIALIST),
                full_name=tracker.get_slot(NAME),
                email=tracker.get_slot(EMAIL),
                phone=tracker.get_slot(PHONE),
                preferred_time_text=tracker.get_slot(TIME_TEXT),
                preferred_time=when,
                note=tracker.get_slot(NOTE) or None,
            )
            stored = await run_sync(store.current().submit, new)
        except (SQLAlchemyError, StorageError, ValueError, OSError) as exc:
            logger.error("Could not store a booking request: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_booking_failed")
            utter_clinic_phone(dispatcher, settings)
            return [SlotSet(CONFIRMED, None)]
        if stored.created:
            notify.current().notify_soon(stored)
        by = " or ".join(v for v in (
            "e-mail" if stored.email else "", "phone" if stored.phone else "") if v) or "phone or e-mail"
        dispatcher.utter_message(
            response="utter_booking_submitted", kind_label=KIND_LABELS.get(stored.kind, "request"),
            reference=stored.reference, response_time=settings.staff_response_time, contact_method=by,
        )
        utter_clinic_phone(dispatcher, settings)
        return clear_booking()


class ActionCancelBooking(PatientAction, Action):
    """"Stop" / "never mind": drops the request being collected; nothing is stored."""

    def name(self) -> Text:
        return "action_cancel_booking"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                domain: Dict[Text, Any]) -> List[EventType]:
        in_form = tracker.active_loop_name == FORM
        if in_form or tracker.get_slot(NONCE):
            leaving = latest_intent(tracker) == "goodbye"  # "bye" mid-form: goodbye follows
            dispatcher.utter_message(response="utter_booking_left" if leaving else "utter_booking_cancelled")
            return clear_booking() + ([ActiveLoop(None)] if in_form else [])
        dispatcher.utter_message(response="utter_nothing_to_cancel")
        return []
