"""The booking form's slots, the values they take, and clearing them."""

from __future__ import annotations

from typing import List

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.forms import REQUESTED_SLOT

FORM = "booking_form"
KIND = "booking_kind"
SPECIALIST = "booking_specialist"
NAME = "booking_full_name"
CONTACT = "booking_contact"
EMAIL = "booking_email"
PHONE = "booking_phone"
TIME_TEXT = "booking_time_text"
TIME = "booking_time"
NOTE = "booking_note"
CONFIRMED = "booking_confirmed"
NONCE = "booking_nonce"
REQUIRED = [KIND, SPECIALIST, NAME, CONTACT, TIME_TEXT, NOTE, CONFIRMED]
ALL_SLOTS = REQUIRED + [EMAIL, PHONE, TIME, NONCE]
# What the patient gives (each can be corrected later); booking_confirmed answers the summary.
FIELDS = [slot for slot in REQUIRED if slot != CONFIRMED]

KIND_BY_INTENT = {"request_appointment": "appointment", "request_second_opinion": "second_opinion"}
NOT_SURE = "Not sure"


def clear_booking() -> List[EventType]:
    return [SlotSet(slot, None) for slot in ALL_SLOTS] + [SlotSet(REQUESTED_SLOT, None)]
