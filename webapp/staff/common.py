"""Small helpers the console's data modules share: the form error, timestamps, audit targets."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Optional
from zoneinfo import ZoneInfo

from storage.ids import conversation_hash
from webapp.staff.summary import valid_ts


class InputError(ValueError):
    """Bad input from a form; the message is shown to the person."""


# The console shows times in the clinic's zone (CLINIC_TIMEZONE, set once at start by
# Console.start from the settings); exports keep UTC ISO 8601.
_zone: tzinfo = timezone.utc
_zone_name = "UTC"


def configure_timezone(name: str) -> None:
    global _zone, _zone_name
    _zone, _zone_name = (timezone.utc, "UTC") if name == "UTC" else (ZoneInfo(name), name)


def zone_name() -> str:
    return _zone_name


def local(value: datetime) -> datetime:
    return value.astimezone(_zone)


def fmt_ts(ts: Optional[float]) -> str:
    ts = valid_ts(ts)
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=_zone).strftime("%Y-%m-%d %H:%M:%S")


def iso_ts(ts: Optional[float]) -> str:
    ts = valid_ts(ts)
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def conversation_target(sender_id: str) -> str:
    # audit entries name a conversation by the hash kept in deletion_records, not its id
    return f"conversation:{conversation_hash(sender_id)[:16]}"


def as_list(value) -> list:
    return value if isinstance(value, list) else []  # stored JSON may hold anything
