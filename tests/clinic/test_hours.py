"""clinic/hours.py: staffed hours in the clinic's time zone, at fixed moments (no real clock)."""

from datetime import datetime, timezone

import pytest

from clinic.hours import DEFAULT_HOURS, HoursError, StaffHours

UTC = timezone.utc


def at(*args):
    return datetime(*args, tzinfo=UTC)


def test_the_default_is_weekdays_in_office_hours():
    hours = StaffHours.parse("", "UTC")
    assert hours.spec == DEFAULT_HOURS
    assert hours.is_open(at(2026, 12, 1, 8, 0)) and hours.is_open(at(2026, 12, 1, 17, 59))  # a Tuesday
    assert not hours.is_open(at(2026, 12, 1, 18, 0)) and not hours.is_open(at(2026, 12, 1, 7, 59))
    assert not hours.is_open(at(2026, 12, 5, 10, 0))  # a Saturday


def test_hours_are_read_in_the_clinics_time_zone():
    berlin = StaffHours.parse("Mon-Fri 09:00-17:00", "Europe/Berlin")
    assert berlin.is_open(at(2026, 12, 1, 8, 30))  # 09:30 in Berlin
    assert not berlin.is_open(at(2026, 12, 1, 16, 30))  # 17:30 in Berlin
    # summer time: UTC+2
    assert berlin.is_open(at(2026, 7, 7, 7, 0)) and not berlin.is_open(at(2026, 7, 7, 6, 59))


def test_several_spans_and_a_week_that_wraps():
    hours = StaffHours.parse("Fri-Mon 10:00-12:00; Wed 14:00-24:00", "UTC")
    assert {d for d, _, _ in hours.spans} == {4, 5, 6, 0, 2}
    assert hours.is_open(at(2026, 12, 6, 11, 0))  # Sunday
    assert hours.is_open(at(2026, 12, 2, 23, 59)) and not hours.is_open(at(2026, 12, 1, 11, 0))


def test_when_the_team_is_back():
    hours = StaffHours.parse("Mon-Fri 08:00-18:00", "Europe/London")
    assert hours.describe_next(at(2026, 12, 5, 10, 0)) == "Monday at 08:00 (Europe/London time)"
    assert hours.describe_next(at(2026, 12, 1, 19, 0)) == "tomorrow (Wednesday) at 08:00 (Europe/London time)"
    assert hours.describe_next(at(2026, 12, 1, 6, 0)) == "today at 08:00 (Europe/London time)"
    assert hours.next_opening(at(2026, 12, 1, 9, 0)) == at(2026, 12, 1, 9, 0)  # open: now
    always = StaffHours.parse("always", "UTC")
    assert always.is_open(at(2026, 12, 6, 3, 0)) and always.next_opening(at(2026, 12, 6, 3, 0)) is not None


@pytest.mark.parametrize("spec", ["weekdays", "Mon-Fri 9-17", "Mon-Fri 18:00-08:00", "Mon-Fri 25:00-26:00",
                                  "Mo-Fr 08:00-18:00", "Mon-Fri 08:00-18:00, nonsense"])
def test_unreadable_hours_say_how_to_write_them(spec):
    with pytest.raises(HoursError, match="STAFF_HOURS|time of day"):
        StaffHours.parse(spec, "UTC")
