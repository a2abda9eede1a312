"""Names and contacts in the patient's words (actions/booking/parsing.py)."""

import pytest

from actions.booking.parsing import ContactAnswer, parse_contact, parse_name


@pytest.mark.parametrize("text, name", [
    ("Jane Smith", "Jane Smith"), ("jane smith", "Jane Smith"), ("my name is Jean-Luc Picard", "Jean-Luc Picard"),
    ("I'm Seán O'Brien", "Seán O'Brien"), ("Maria de la Cruz", "Maria de la Cruz"), ("Zhang Wei", "Zhang Wei"),
    ("Jane", None), ("Jane Smith 123", None), ("<b>Jane</b> Smith", None), ("what does a cardiologist do", None),
    ("not sure", None), ("x" * 120 + " Smith", None),
])
def test_full_names(text, name):
    assert parse_name(text) == name


@pytest.mark.parametrize("text, email, phone, error", [
    ("jane@example.org", "jane@example.org", None, None),
    ("my email is Jane.Doe+clinic@Example.ORG thanks", "Jane.Doe+clinic@example.org", None, None),
    ("07911 123456", None, "+447911123456", None),
    ("call me on 020 7946 0018", None, "+442079460018", None),
    ("+1 202 555 0143", None, "+12025550143", None),
    ("jane@example.org or 07911123456", "jane@example.org", "+447911123456", None),
    ("jane@example", None, None, "utter_booking_invalid_email"),
    ("jane.example.org email", None, None, "utter_booking_invalid_email"),
    ("12345", None, None, "utter_booking_invalid_phone"),
    ("07911 12", None, None, "utter_booking_invalid_phone"),
    ("I'd rather not", None, None, "utter_booking_invalid_contact"),
])
def test_contacts_are_validated_and_phones_normalised(text, email, phone, error):
    assert parse_contact(text, "GB") == ContactAnswer(email, phone, error)
