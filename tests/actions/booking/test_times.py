"""Preferred days and times in the patient's words (actions/booking/times.py)."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from actions.booking.times import parse_preferred_time, tidy_time_text

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
    answer = parse_preferred_time(text, NOW)
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
    assert parse_preferred_time(text, NOW).error == error


def test_preferred_time_is_read_in_the_clinics_time_zone():
    instant = NOW.astimezone(timezone.utc)
    london = parse_preferred_time("tomorrow at 9am", instant.astimezone(LONDON)).when
    new_york = parse_preferred_time("tomorrow at 9am", instant.astimezone(ZoneInfo("America/New_York"))).when
    assert london.astimezone(timezone.utc) == datetime(2030, 3, 13, 9, 0, tzinfo=timezone.utc)
    assert new_york.astimezone(timezone.utc) == datetime(2030, 3, 13, 13, 0, tzinfo=timezone.utc)
    # US order for US clinics
    assert parse_preferred_time("4/5", NOW, "MDY").when.date().isoformat() == "2030-04-05"
    assert parse_preferred_time("4/5", NOW, "DMY").when.date().isoformat() == "2030-05-04"


@pytest.mark.parametrize("text, tidy", [
    ("make it friday afternoon", "friday afternoon"),
    ("actually, can we do Thursday instead?", "Thursday"),
    ("change the day to monday", "monday"),
    ("next Tuesday morning", "next Tuesday morning"),
    ("instead", "instead"),
])
def test_correction_words_are_not_kept_with_the_time(text, tidy):
    assert tidy_time_text(text) == tidy
