"""Preferred days and times in the patient's words ("next Tuesday morning", "any
weekday after the 3rd", "as soon as possible"), read with ``dateparser`` against a
given "now" in the clinic's time zone. Pure functions (the clock: ``clinic_time.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional, Tuple
from zoneinfo import ZoneInfo

from actions.booking.parsing import single_line

MAX_TIME_TEXT = 200
MAX_DAYS_AHEAD = 366

# Part of the day -> (the hour it is read as, the hour it ends).
_PART_OF_DAY = [
    (re.compile(r"\bearly\s+morning\b"), (8, 10)), (re.compile(r"\bmornings?\b"), (9, 12)),
    (re.compile(r"\b(?:lunch\s*time|lunch|midday|noon)\b"), (12, 14)),
    (re.compile(r"\bafternoons?\b"), (14, 17)), (re.compile(r"\b(?:evenings?|after\s+work)\b"), (17, 21)),
    (re.compile(r"\btonight\b"), (18, 22)),
]
_EXPLICIT_TIME = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|\bo'?clock\b|\bnoon\b|\bmidday\b")
_FLEXIBLE = re.compile(
    r"\b(?:any\s*time|anytime|whenever|asap|as\s+soon\s+as\s+possible|soonest|earliest|flexible|"
    r"any\s+day|no\s+preference|don'?t\s+mind|not\s+fussy|weekdays?|weekends?|mornings?|"
    r"afternoons?|evenings?)\b", re.I)
_STRIP = re.compile(
    r"\b(?:any\s+weekday|weekdays?|weekends?|any\s+day|any\s*time|anytime|sometime|some\s+time|"
    r"preferably|ideally|please|if\s+possible|if\s+you\s+can|would\s+be\s+(?:good|great|best|fine|ideal)|"
    r"works(?:\s+for\s+me)?|suits\s+me|is\s+(?:good|best|fine)|or\s+later|onwards|i'?m\s+free|"
    r"i\s+am\s+free|free|how\s+about|(?:can|could)\s+(?:we|you|i)\s+(?:do|come(?:\s+in)?|make\s+it|have\s+it)|"
    r"is\s+there\s+(?:a\s+slot|anything|availability)|do\s+you\s+have\s+(?:anything|a\s+slot)|"
    r"(?:is|would)\s+(?:that|it)\s+(?:possible|ok)|possible|available|maybe|perhaps|around|"
    r"actually|instead|make\s+it|move\s+it\s+to|change\s+it\s+to|i'?d\s+prefer|i\s+prefer|"
    r"prefer|best|good|for\s+me|early|late)\b", re.I)
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_ORDINAL_DAY = re.compile(r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b(?:\s+of\b)?", re.I)
# Words that make a message about a day or time; without one dateparser reads too much
# into text ("a second opinion" is not "one second from now").
_TIME_WORD = re.compile(
    rf"\d|\b(?:{_MONTHS}|(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?|today|tomorrow|tonight|"
    r"week|weekend|weekday|fortnight|month|year|morning|afternoon|evening|noon|midday|lunch|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)s?\b", re.I)
_PAST_WORDS = re.compile(r"\b(?:last|ago|yesterday|previous|earlier\s+today)\b", re.I)
_AFTER = re.compile(r"\b(?:after|from|starting|beginning)\s+", re.I)
_BARE_HOUR = re.compile(r"\bat\s+(\d{1,2})\b(?!\s*(?::|\.|am|pm|a\.m|p\.m|o'?clock|h\b))", re.I)


@dataclass(frozen=True)
class TimeAnswer:
    text: str
    when: Optional[datetime] = None  # local to the clinic; midnight when only a day was given
    date_only: bool = False
    error: Optional[str] = None  # a response name


def _next_day_of_month(day: int, today: date) -> Optional[date]:
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate and candidate >= today:
            return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return None


def parse_preferred_time(text: str, now: datetime, date_order: str = "DMY") -> TimeAnswer:
    """The preferred day and time in the patient's words, read in the clinic's zone.

    ``now`` is aware, in the clinic's time zone. Accepts dates ("next Tuesday
    morning", "the 20th at 9:30", "any weekday after the 3rd") and open preferences
    ("weekday mornings", "as soon as possible"); refuses the past.
    """
    import dateparser
    from dateparser.search import search_dates

    original = single_line(text, MAX_TIME_TEXT)
    lowered = original.lower()
    if not re.search(r"[a-z0-9]", lowered):
        return TimeAnswer(original, error="utter_booking_time_unclear")
    if _PAST_WORDS.search(lowered):
        return TimeAnswer(original, error="utter_booking_time_past")
    if not _TIME_WORD.search(lowered):
        if _FLEXIBLE.search(lowered):
            return TimeAnswer(original)
        return TimeAnswer(original, error="utter_booking_time_unclear")
    part = next((hours for pattern, hours in _PART_OF_DAY if pattern.search(lowered)), None)
    explicit = bool(_EXPLICIT_TIME.search(lowered))
    weekday_only = bool(re.search(r"\bweekdays?\b", lowered))
    after = bool(_AFTER.search(lowered))

    s = re.sub(r"\btonight\b", " today ", lowered)
    for pattern, _ in _PART_OF_DAY:
        s = pattern.sub(" ", s)
    s = _STRIP.sub(" ", s)
    s = _AFTER.sub(" ", s)
    s = re.sub(r"\b(?:next|this|coming)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
               r"\1", s)
    s = re.sub(r"\bthis\b(?!\s+(?:week|month|year|friday|saturday|sunday|monday|tuesday|wednesday|thursday)\b)",
               " today ", s)  # "this afternoon"
    bare_hours = _BARE_HOUR.findall(s)
    s = _BARE_HOUR.sub(lambda m: f"at {int(m.group(1)) + 12 if 1 <= int(m.group(1)) <= 7 else int(m.group(1))}:00", s)
    explicit = explicit or bool(bare_hours)
    today = now.date()
    if not re.search(rf"\b{_MONTHS}\b", s):
        def ordinal(match: "re.Match[str]") -> str:
            day = _next_day_of_month(int(match.group(1)), today)
            return f" {day.day} {day.strftime('%B')} {day.year} " if day else match.group(0)
        s = _ORDINAL_DAY.sub(ordinal, s)
    s = " ".join(re.sub(r"[,;!?]", " ", s).split())

    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "TIMEZONE": str(now.tzinfo),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "DATE_ORDER": date_order,
        "PREFER_DAY_OF_MONTH": "first",  # "in April": the 1st, not today's day of the month
    }
    found = dateparser.parse(s, languages=["en"], settings=settings) if s else None
    if found is None and s:
        hits = search_dates(s, languages=["en"], settings=settings) or []
        found = hits[0][1] if hits else None
    if found is None:
        if _FLEXIBLE.search(lowered):
            return TimeAnswer(original)
        return TimeAnswer(original, error="utter_booking_time_unclear")

    zone = now.tzinfo
    local = found.astimezone(zone)
    date_only = not explicit and part is None
    day = local.date()
    if after and date_only:
        day += timedelta(days=1)
    if weekday_only and day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    if date_only:
        when = datetime(day.year, day.month, day.day, tzinfo=zone)
    elif explicit:
        when = datetime(day.year, day.month, day.day, local.hour, local.minute, tzinfo=zone)
    else:
        when = datetime(day.year, day.month, day.day, part[0], 0, tzinfo=zone)
        if day == today and when <= now < when.replace(hour=part[1]):
            # "this afternoon" said at three: from the next full hour
            when = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if (date_only and day < today) or (not date_only and when <= now):
        return TimeAnswer(original, error="utter_booking_time_past")
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return TimeAnswer(original, error="utter_booking_time_far")
    return TimeAnswer(original, when, date_only)


_TIME_LEAD = re.compile(
    r"^(?:(?:actually|sorry|oh|no|ok(?:ay)?|please|instead)[\s,.!:-]+)*(?:(?:make|change|move)\s+(?:it|that|the\s+(?:day|time|date))"
    r"(?:\s+to)?|(?:can|could)\s+(?:we|you)\s+(?:do|make\s+it)|how\s+about|i'?d\s+(?:rather|prefer))?\s*", re.I)


def tidy_time_text(text: str) -> str:
    """The patient's words for the day and time, without "actually, make it ... instead"."""
    tidy = _TIME_LEAD.sub("", text).strip()
    tidy = re.sub(r"[\s,]*\binstead\b[\s.!?]*$", "", tidy, flags=re.I).strip(" ,")
    if tidy != text:
        tidy = tidy.rstrip(" ?")
    return tidy or text


def time_slot_value(answer: TimeAnswer) -> Optional[str]:
    """booking_time: an ISO day ("2030-05-14") or local date-time with offset."""
    if answer.when is None:
        return None
    return answer.when.date().isoformat() if answer.date_only else answer.when.isoformat()


def time_from_slot(value: Optional[str], zone: ZoneInfo) -> Tuple[Optional[datetime], bool]:
    if not value:
        return None, False
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=zone), True
        parsed = datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)), False
    except ValueError:
        return None, False


def describe_time(text: Optional[str], value: Optional[str], zone: ZoneInfo) -> str:
    when, date_only = time_from_slot(value, zone)
    if when is None:
        return text or ""
    when = when.astimezone(zone)
    shown = f"{when:%A} {when.day} {when:%B %Y}" + ("" if date_only else f", {when:%H:%M}")
    return f"{text} ({shown})" if text else shown


def date_order(region: str) -> str:
    return "MDY" if region in {"US", "CA", "PH"} else "DMY"
