"""Small helpers the console's data modules share: the form error, timestamps, audit targets."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from storage.ids import conversation_hash
from webapp.staff.summary import valid_ts


class InputError(ValueError):
    """Bad input from a form; the message is shown to the person."""


def fmt_ts(ts: Optional[float]) -> str:
    ts = valid_ts(ts)
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


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
