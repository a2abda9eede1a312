"""When the clinic's team answers chats: ``STAFF_HOURS`` in ``CLINIC_TIMEZONE``.

``STAFF_HOURS`` lists days and times, e.g. ``Mon-Fri 08:00-18:00, Sat 09:00-12:00``
(``always`` for a team that is always there). A patient who asks for a person outside
those hours is told when a person will answer; inside them, the assistant waits a few
minutes for someone to take the conversation before saying that nobody is free yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import List, Optional, Tuple
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_HOURS = "Mon-Fri 08:00-18:00"
_PART = re.compile(r"^(?P<d1>[a-z]{3})(?:\s*-\s*(?P<d2>[a-z]{3}))?\s+(?P<t1>\d{1,2}:\d{2})\s*-\s*(?P<t2>\d{1,2}:\d{2})$")


class HoursError(ValueError):
    """``STAFF_HOURS`` cannot be read; the message says how to write it."""


def _clock(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours == 24 and minutes == 0:
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise HoursError(f"{text!r} is not a time of day")
    return time(hours, minutes)


@dataclass(frozen=True)
class StaffHours:
    spec: str
    timezone: str
    # (weekday 0-6, opens, closes); empty with always=True
    spans: Tuple[Tuple[int, time, time], ...] = ()
    always: bool = False

    @classmethod
    def parse(cls, spec: Optional[str], timezone: str = "UTC") -> "StaffHours":
        spec = (spec or "").strip() or DEFAULT_HOURS
        ZoneInfo(timezone)  # raises for an unknown zone
        if spec.lower() == "always":
            return cls(spec, timezone, always=True)
        spans: List[Tuple[int, time, time]] = []
        for part in re.split(r"[,;]", spec):
            match = _PART.match(part.strip().lower())
            if not match or match["d1"] not in DAYS or (match["d2"] and match["d2"] not in DAYS):
                raise HoursError(f"STAFF_HOURS: cannot read {part.strip()!r}; write for example "
                                 f"'Mon-Fri 08:00-18:00, Sat 09:00-12:00' or 'always'")
            first, last = DAYS.index(match["d1"]), DAYS.index(match["d2"] or match["d1"])
            opens, closes = _clock(match["t1"]), _clock(match["t2"])
            if closes <= opens:
                raise HoursError(f"STAFF_HOURS: {part.strip()!r} closes before it opens")
            day = first
            while True:
                spans.append((day, opens, closes))
                if day == last:
                    break
                day = (day + 1) % 7
        return cls(spec, timezone, tuple(sorted(spans)))

    def _local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.timezone))

    def is_open(self, now: datetime) -> bool:
        if self.always:
            return True
        local = self._local(now)
        return any(day == local.weekday() and opens <= local.time() < closes for day, opens, closes in self.spans)

    def next_opening(self, now: datetime) -> Optional[datetime]:
        """The next moment the team is there (``now`` if it is), in the clinic's time zone."""
        local = self._local(now)
        if self.is_open(now):
            return local
        for ahead in range(8):
            date = (local + timedelta(days=ahead)).date()
            for day, opens, _ in self.spans:
                if day != date.weekday():
                    continue
                moment = datetime.combine(date, opens, tzinfo=local.tzinfo)
                if moment > local:
                    return moment
        return None

    def describe_next(self, now: datetime) -> str:
        """'tomorrow (Tuesday) at 08:00' / 'Monday at 08:00' / 'today at 14:00', in the clinic's zone."""
        moment = self.next_opening(now)
        if moment is None:
            return "as soon as possible"
        local = self._local(now)
        days = (moment.date() - local.date()).days
        when = "today" if days == 0 else (f"tomorrow ({DAY_NAMES[moment.weekday()]})" if days == 1
                                          else DAY_NAMES[moment.weekday()])
        return f"{when} at {moment:%H:%M} ({self.timezone} time)"


_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "twenty-four": 24, "forty-eight": 48}
_UNITS = {"minute": 1 / 60, "min": 1 / 60, "hour": 1, "h": 1, "hr": 1, "day": 24, "working day": 24,
          "business day": 24, "week": 168}
_WITHIN = re.compile(r"(\d+(?:\.\d+)?|[a-z-]+)\s*(working day|business day|minute|min|hour|hr|h|day|week)s?\b")


def response_hours(text: str) -> Optional[float]:
    """Hours in a response time such as 'within one working day' or 'within 2 hours'
    (a working day counts as 24 hours), or None when the text names no duration."""
    match = _WITHIN.search((text or "").lower())
    if not match:
        return None
    raw, unit = match.groups()
    number = float(raw) if raw[0].isdigit() else _NUMBERS.get(raw)
    return None if number is None else number * _UNITS[unit]
