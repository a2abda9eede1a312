"""The booking form's parsers: days and times, names, contacts, specialists."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from actions import booking
from tests.actions.test_booking import tracker

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2030, 3, 12, 15, 0, tzinfo=LONDON)  # a Tuesday afternoon


@pytest.mark.parametrize("text, expected", [
    ("next Tuesday morning", datetime(2030, 3, 19, 9, 0, tzinfo=LONDON)),
    ("tomorrow at 10am", datetime(2030, 3, 13, 10, 0, tzinfo=LONDON)),
    ("friday afternoon", datetime(2030, 3, 15, 14, 0, tzinfo=LONDON)),
    ("monday at 9", datetime(2030, 3, 18, 9, 0, tzinfo=LONDON)),
    ("friday at 3", datetime(2030, 3, 15, 15, 0, tzinfo=LONDON)),
    ("the 20th at 9:30", datetime(2030, 3, 20, 9, 30, tzinfo=LONDON)),
    ("this afternoon", datetime(2030, 3, 12, 16, 0, tzinfo=LONDON)),  # said at 15:00
    ("any weekday after the 3rd", "2030-04-04"),  # the 3rd is past in March: 4 April, a Thursday
    ("any weekday after the 5th of april", "2030-04-08"),  # the 6th is a Saturday: Monday the 8th
    ("sometime in april", "2030-04-01"),
    ("20/03", "2030-03-20"),
    ("today", "2030-03-12"),
    ("weekday mornings", None),
    ("as soon as possible", None),
])
def test_preferred_times_in_the_patients_words(text, expected):
    answer = booking.parse_preferred_time(text, NOW)
    assert answer.error is None and answer.text == text
    if isinstance(expected, str):
        assert answer.date_only and answer.when.date().isoformat() == expected
    elif expected is None:
        assert answer.when is None
    else:
        assert not answer.date_only and answer.when == expected


@pytest.mark.parametrize("text, error", [
    ("yesterday", "utter_booking_time_past"),
    ("12 march 2024", "utter_booking_time_past"),
    ("this morning", "utter_booking_time_past"),
    ("1 January 2099", "utter_booking_time_far"),
    ("banana", "utter_booking_time_unclear"),
    ("???", "utter_booking_time_unclear"),
])
def test_past_far_and_unreadable_times_are_refused(text, error):
    assert booking.parse_preferred_time(text, NOW).error == error


def test_preferred_time_is_read_in_the_clinics_time_zone():
    instant = NOW.astimezone(timezone.utc)
    london = booking.parse_preferred_time("tomorrow at 9am", instant.astimezone(LONDON)).when
    new_york = booking.parse_preferred_time("tomorrow at 9am", instant.astimezone(ZoneInfo("America/New_York"))).when
    assert london.astimezone(timezone.utc) == datetime(2030, 3, 13, 9, 0, tzinfo=timezone.utc)
    assert new_york.astimezone(timezone.utc) == datetime(2030, 3, 13, 13, 0, tzinfo=timezone.utc)
    # US order for US clinics
    assert booking.parse_preferred_time("4/5", NOW, "MDY").when.date().isoformat() == "2030-04-05"
    assert booking.parse_preferred_time("4/5", NOW, "DMY").when.date().isoformat() == "2030-05-04"


@pytest.mark.parametrize("text, name", [
    ("Jane Smith", "Jane Smith"), ("jane smith", "Jane Smith"), ("my name is Jean-Luc Picard", "Jean-Luc Picard"),
    ("I'm Seán O'Brien", "Seán O'Brien"), ("Maria de la Cruz", "Maria de la Cruz"), ("Zhang Wei", "Zhang Wei"),
    ("Jane", None), ("Jane Smith 123", None), ("<b>Jane</b> Smith", None), ("what does a cardiologist do", None),
    ("not sure", None), ("x" * 120 + " Smith", None),
])
def test_full_names(text, name):
    assert booking.parse_name(text) == name


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
    assert booking.parse_contact(text, "GB") == booking.ContactAnswer(email, phone, error)


def test_the_specialist_comes_from_what_the_conversation_was_about(guide):
    def context(**slots):
        return booking.specialist_from_context(guide, tracker("book me in", "request_appointment", slots))

    assert context(location="kidney") == "Nephrologist"
    assert context(lesion_type="atherosclerotic_calcifications") == "Cardiologist"
    assert context(item="specialists:rheumatologist") == "Rheumatologist"
    assert context(item="types:brain_calcifications") is None  # the guide names no one for the brain
    assert context(cause="cancer") == "Oncologist"
    assert context() is None




@pytest.mark.parametrize("text, tidy", [
    ("make it friday afternoon", "friday afternoon"),
    ("actually, can we do Thursday instead?", "Thursday"),
    ("change the day to monday", "monday"),
    ("next Tuesday morning", "next Tuesday morning"),
    ("instead", "instead"),
])
def test_correction_words_are_not_kept_with_the_time(text, tidy):
    assert booking.tidy_time_text(text) == tidy
