"""Now in the clinic's time zone (``CLINIC_TIMEZONE``), and the patient's words for a
day and time read against it: the one place the booking form looks at the clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from actions.booking.times import TimeAnswer, date_order, parse_preferred_time
from actions.settings import Settings
from storage.time import utcnow


def clinic_zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.clinic_timezone)


def clinic_now(settings: Settings) -> datetime:
    return utcnow().astimezone(clinic_zone(settings))


def read_preferred_time(text: str, settings: Settings) -> TimeAnswer:
    """``parse_preferred_time`` now, in the clinic's zone and date order (``CLINIC_PHONE_REGION``)."""
    return parse_preferred_time(text, clinic_now(settings), date_order(settings.clinic_phone_region))
