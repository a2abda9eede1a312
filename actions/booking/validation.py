"""``validate_booking_form``: reads the patient's answers (and corrections) for
``booking_form``, one ``extract_``/``validate_`` pair per slot.

``message.plan_message`` decides which slots a message fills; the validate methods
parse each value (``parsing``, ``times``, ``specialists``) and refuse it with the
response naming the problem. A refused correction keeps the earlier answer.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from actions import resources
from actions.base import latest_entities, latest_intent
from actions.booking.clinic_time import read_preferred_time
from actions.booking.message import plan_message, should_leave_form
from actions.booking.parsing import (MAX_NOTE, contact_display, parse_contact, parse_kind, parse_name,
                                     parse_note, single_line)
from actions.booking.slots import (CONFIRMED, CONTACT, EMAIL, FORM, KIND, KIND_BY_INTENT, NAME, NOT_SURE,
                                   NOTE, PHONE, SPECIALIST, TIME, TIME_TEXT)
from actions.booking.specialists import parse_specialist, specialist_titles
from actions.booking.times import tidy_time_text, time_slot_value
from actions.tracker_reading import answers_latest_message, slot_before_message
from storage.tables import KIND_LABELS


class ValidateBookingForm(FormValidationAction):
    """Reads the patient's answers (and corrections) for ``booking_form``."""

    def name(self) -> Text:
        return f"validate_{FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if answers_latest_message(tracker) and should_leave_form(tracker, tracker.get_slot(REQUESTED_SLOT)):
            return []  # nothing filled: Rasa rejects the form and the rules take over
        return await super().run(dispatcher, tracker, domain)

    # ---- helpers
    @staticmethod
    def _plan(tracker: Tracker) -> Dict[str, str]:
        return plan_message(tracker, resources.current().guide)

    def _extract(self, slot: str, tracker: Tracker) -> Dict[Text, Any]:
        plan = self._plan(tracker)
        return {slot: plan[slot]} if slot in plan else {}

    @staticmethod
    def _is_correction(slot: str, tracker: Tracker) -> bool:
        return answers_latest_message(tracker) and tracker.get_slot(REQUESTED_SLOT) != slot

    def _acknowledge(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, field: str) -> None:
        if self._is_correction(slot, tracker) and tracker.get_slot(REQUESTED_SLOT) != CONFIRMED:
            dispatcher.utter_message(response="utter_booking_updated", field=field)

    def _refuse(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                response: str, **kwargs: Any) -> Dict[Text, Any]:
        dispatcher.utter_message(response=response, **kwargs)
        # A failed correction keeps the earlier answer; a failed answer asks again.
        keep = slot_before_message(tracker, slot) if self._is_correction(slot, tracker) else None
        return {slot: keep}

    # ---- extraction (raw text per slot; see plan_message)
    def extract_booking_kind(self, dispatcher, tracker, domain):
        return self._extract(KIND, tracker)

    def extract_booking_specialist(self, dispatcher, tracker, domain):
        return self._extract(SPECIALIST, tracker)

    def extract_booking_full_name(self, dispatcher, tracker, domain):
        return self._extract(NAME, tracker)

    def extract_booking_contact(self, dispatcher, tracker, domain):
        return self._extract(CONTACT, tracker)

    def extract_booking_time_text(self, dispatcher, tracker, domain):
        return self._extract(TIME_TEXT, tracker)

    def extract_booking_note(self, dispatcher, tracker, domain):
        return self._extract(NOTE, tracker)

    def extract_booking_confirmed(self, dispatcher, tracker, domain):
        return self._extract(CONFIRMED, tracker)

    # ---- validation
    def validate_booking_kind(self, value, dispatcher, tracker, domain):
        if value in KIND_BY_INTENT.values():
            return {KIND: value}
        kind = parse_kind(single_line(value), latest_intent(tracker))
        if kind is None:
            return self._refuse(KIND, dispatcher, tracker, "utter_booking_invalid_kind")
        if self._is_correction(KIND, tracker):
            if kind == slot_before_message(tracker, KIND):
                dispatcher.utter_message(response="utter_booking_continue", kind_label=KIND_LABELS[kind])
            else:
                self._acknowledge(KIND, dispatcher, tracker, "request type")
        return {KIND: kind}

    def validate_booking_specialist(self, value, dispatcher, tracker, domain):
        guide = resources.current().guide
        if value is None:
            return {SPECIALIST: None}
        if not answers_latest_message(tracker) and (value == NOT_SURE or value in specialist_titles(guide).values()):
            return {SPECIALIST: value}  # pre-filled by action_start_booking
        found, error = parse_specialist(guide, single_line(value), latest_entities(tracker),
                                        latest_intent(tracker))
        if error:
            return self._refuse(SPECIALIST, dispatcher, tracker, error)
        self._acknowledge(SPECIALIST, dispatcher, tracker, "specialist")
        return {SPECIALIST: found}

    def validate_booking_full_name(self, value, dispatcher, tracker, domain):
        name = parse_name(single_line(value)) if value else None
        if name is None:
            return self._refuse(NAME, dispatcher, tracker, "utter_booking_invalid_name")
        self._acknowledge(NAME, dispatcher, tracker, "name")
        return {NAME: name}

    def validate_booking_contact(self, value, dispatcher, tracker, domain):
        if value is None:
            return {CONTACT: None}
        region = resources.current().settings.clinic_phone_region
        answer = parse_contact(single_line(value), region)
        if answer.error:
            return self._refuse(CONTACT, dispatcher, tracker, answer.error)
        email = answer.email or slot_before_message(tracker, EMAIL)
        phone = answer.phone or slot_before_message(tracker, PHONE)
        field = "e-mail address" if answer.email and not answer.phone else \
            "phone number" if answer.phone and not answer.email else "contact details"
        self._acknowledge(CONTACT, dispatcher, tracker, field)
        return {CONTACT: contact_display(email, phone), EMAIL: email, PHONE: phone}

    def validate_booking_time_text(self, value, dispatcher, tracker, domain):
        if value is None:
            return {TIME_TEXT: None}
        answer = read_preferred_time(single_line(value), resources.current().settings)
        if answer.error:
            refused = self._refuse(TIME_TEXT, dispatcher, tracker, answer.error)
            if self._is_correction(TIME_TEXT, tracker):
                refused[TIME] = slot_before_message(tracker, TIME)
            return refused
        self._acknowledge(TIME_TEXT, dispatcher, tracker, "preferred day and time")
        return {TIME_TEXT: tidy_time_text(answer.text), TIME: time_slot_value(answer)}

    def validate_booking_note(self, value, dispatcher, tracker, domain):
        if value is None:
            return {NOTE: None}
        note, error = parse_note(single_line(value, MAX_NOTE + 1), latest_intent(tracker))
        if error:
            return self._refuse(NOTE, dispatcher, tracker, error, limit=MAX_NOTE)
        self._acknowledge(NOTE, dispatcher, tracker, "note")
        return {NOTE: note}

    def validate_booking_confirmed(self, value, dispatcher, tracker, domain):
        if value is True or value == "yes":
            return {CONFIRMED: True}
        if value == "unclear":
            dispatcher.utter_message(response="utter_booking_confirm_unclear")
        # "no": action_ask_booking_form_booking_confirmed asks what to change
        return {CONFIRMED: None}
