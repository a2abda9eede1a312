"""Reading query strings, form fields and route ids of the staff console.

Whatever a browser (or anyone) sends, a bad value becomes a message and the default,
a 400 or a 404, never an exception: dates outside what ``datetime`` can add a day to,
numbers larger than the database's integer columns, and NUL, which PostgreSQL refuses
in every text parameter.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Any, List, Optional, Tuple

from storage.text import printable

# The day after MAX_DAY must exist (a range ends at the midnight after its last day).
MIN_DAY, MAX_DAY = date(1900, 1, 1), date(9999, 12, 30)
MAX_ID = 2**31 - 1  # ids are INTEGER columns; larger numbers match nothing
# Form fields taken as typed: passwords are only hashed, never stored or shown as text.
RAW_FIELDS = frozenset({"password", "current", "new"})


def text(value: Any, limit: int) -> str:
    """A query or form value: at most ``limit`` characters, stripped, lone surrogates,
    NUL and other control characters replaced (storage.text.printable)."""
    if not isinstance(value, str):
        return ""
    return printable(value.strip()[:limit])


def day(value: Any, label: str, errors: List[str]) -> Optional[date]:
    """A YYYY-MM-DD date, or None with a message in ``errors``."""
    raw = text(value, 10)
    if not raw:
        return None
    try:
        found = date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{label} is not a date (YYYY-MM-DD); it was ignored.")
        return None
    if not MIN_DAY <= found <= MAX_DAY:
        errors.append(f"{label} is outside {MIN_DAY.isoformat()} to {MAX_DAY.isoformat()}; it was ignored.")
        return None
    return found


def valid_id(value: Any) -> bool:
    return isinstance(value, int) and 1 <= value <= MAX_ID


def field(form, name: str, limit: int) -> str:
    """A form field; printable unless a password (PostgreSQL refuses NUL in any parameter)."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value[:limit] if name in RAW_FIELDS else printable(value[:limit])


def pairs(body: bytes, first: str, second: str, limit: int, most: int = 20) -> List[Tuple[str, str]]:
    """Rows of two repeated fields of a URL-encoded form, in order, blanks kept (Sanic's form
    parser drops blank values, which would pair one row's kind with the next row's words)."""
    from urllib.parse import parse_qsl

    try:
        items = parse_qsl((body or b"").decode("utf-8", "replace"), keep_blank_values=True)
    except ValueError:
        return []
    a = [printable(v[:limit]) for k, v in items if k == first]
    b = [printable(v[:limit]) for k, v in items if k == second]
    return list(zip(a, b))[:most] if len(a) == len(b) else []


def arg(args, name: str, limit: int = 100) -> str:
    return printable((args.get(name) or "")[:limit])


def same_token(a: str, b: str) -> bool:
    # compare_digest raises on non-ASCII str (a forged token "é" was a 500): compare bytes
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))
