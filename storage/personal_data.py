"""Which slots, request fields and entities hold personal data: declared here, once.

The staff console's masking, its exports and the services' logs all read these
lists. A test (tests/storage/test_personal_data.py) fails when the domain has a
slot that is in neither ``PERSONAL_SLOTS`` nor ``NOT_PERSONAL_SLOTS``, so a new
form question cannot leak into transcripts unnoticed.

Kinds say how a value is masked: a ``name`` also hides its parts ("Anna" of
"Anna Stone") where they appear in messages; ``email`` and ``phone`` hide the value
wherever it appears; ``free_text`` (a note, a contact line) is hidden as a whole
slot or field value, and its e-mails and numbers are caught by the patterns.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

NAME, EMAIL, PHONE, CONTACT, FREE_TEXT = "name", "email", "phone", "contact", "free_text"
KINDS = (NAME, EMAIL, PHONE, CONTACT, FREE_TEXT)

#: Slots of the domain that hold personal data, with their kind.
PERSONAL_SLOTS: Mapping[str, str] = MappingProxyType({
    "booking_full_name": NAME,
    "booking_email": EMAIL,
    "booking_phone": PHONE,
    "booking_contact": CONTACT,   # "anna@example.org, +44 20 7946 0000" as the summary shows it
    "booking_note": FREE_TEXT,    # whatever the patient adds for the clinic
})

#: Slots checked and found to hold no personal identifier (guide context, flags, ids
#: made by the assistant). The concern in a patient's words (``booking_specialist``)
#: and the preferred time are health and scheduling data staff need to read; they name
#: nobody.
NOT_PERSONAL_SLOTS = frozenset({
    "lesion_type", "location", "cause", "section", "item", "disclaimer_shown",
    "booking_kind", "booking_specialist", "booking_time_text", "booking_time",
    "booking_confirmed", "booking_nonce", "deletion_confirmed",
    "requested_slot", "session_started_metadata",
    "live_agent",  # the staff member holding the conversation (a colleague, not the patient)
})

#: Columns of the ``requests`` table that hold personal data.
PERSONAL_REQUEST_FIELDS: Mapping[str, str] = MappingProxyType({
    "full_name": NAME,
    "email": EMAIL,
    "phone": PHONE,
    "note": FREE_TEXT,
})

#: Entity names (ours and common extractors') whose values are personal.
PERSONAL_ENTITIES = frozenset({"person", "PERSON", "name", "email", "phone", "phone_number"})


def slots_of_kind(*kinds: str) -> frozenset:
    return frozenset(slot for slot, kind in PERSONAL_SLOTS.items() if kind in kinds)


def is_personal_slot(name: str) -> bool:
    return name in PERSONAL_SLOTS
