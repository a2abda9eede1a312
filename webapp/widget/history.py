"""A visitor's own conversation, read back from Rasa's tracker table ``events``.

The browser keeps a random secret token (32 random bytes). The conversation's
``sender_id`` is derived from it (``storage.ids.widget_session_id``), by the socket.io
channel and by this endpoint alike. So the history endpoint needs the token, and
knowing a ``sender_id`` (from the staff console, a log line or the database) is not
enough to read a conversation back or to join it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clinic.responses import EMERGENCY_RESPONSE
from storage.text import printable

logger = logging.getLogger(__name__)



MAX_TEXT = 10_000  # characters of one stored message shown back (patients' are capped at 2,000)


class HistoryUnavailable(Exception):
    """The database could not be read (down, locked, misconfigured)."""


class HistoryStore:
    def __init__(self, database_url: str, limit: int, emergency_call: str = "") -> None:
        self.database_url, self.limit, self.emergency_call = database_url, limit, emergency_call
        self._engine: Optional[Engine] = None
        self._has_events = False
        self._lock = threading.Lock()

    def _engine_or_none(self) -> Optional[Engine]:
        with self._lock:
            if self._engine is None:
                url = sa.engine.make_url(self.database_url)
                kwargs: Dict[str, Any] = {"future": True}
                if url.get_backend_name() == "sqlite":
                    # Reading must not create an empty database file before Rasa does.
                    if url.database and url.database != ":memory:" and not Path(url.database).exists():
                        return None
                    kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
                else:
                    kwargs["pool_pre_ping"] = True
                self._engine = sa.create_engine(url, **kwargs)
            return self._engine

    def read(self, sender_id: str) -> List[Dict[str, Any]]:
        """The newest ``limit`` user and bot events of this conversation, oldest first."""
        try:
            engine = self._engine_or_none()
            if engine is None:
                return []
            if not self._has_events:
                if not sa.inspect(engine).has_table("events"):
                    return []  # Rasa has not stored any conversation yet
                self._has_events = True
            query = sa.text(
                "SELECT type_name, data FROM events WHERE sender_id = :sender AND type_name IN ('user', 'bot') "
                "ORDER BY id DESC LIMIT :limit")
            with engine.connect() as connection:
                rows = connection.execute(query, {"sender": sender_id, "limit": self.limit}).all()
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("Widget history could not be read: %s", type(exc).__name__)
            raise HistoryUnavailable() from exc
        return messages_from_events(reversed(rows), self.emergency_call)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def messages_from_events(rows: Iterable[Tuple[str, str]], emergency_call: str = "") -> List[Dict[str, Any]]:
    """Tracker events as the widget shows them (bot texts split like Rasa's socket.io channel)."""
    messages: List[Dict[str, Any]] = []
    titles: Dict[str, str] = {}  # button payload -> title, to show a click as its title
    for type_name, data in rows:
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            continue
        if not isinstance(event, dict):
            continue
        # Rows written before the input guard (or by another client) may hold lone
        # surrogates, NUL or megabytes: shown repaired and shortened, never a 500.
        text = printable(event.get("text"), MAX_TEXT) if isinstance(event.get("text"), str) else ""
        stamp = event.get("timestamp")
        when = {"time": round(float(stamp), 3)} if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) \
            and 0 < stamp < 1e11 else {}  # Unix seconds; the widget shows the time
        if type_name == "user":
            if text.strip():
                messages.append({"sender": "user", "text": titles.get(text, text), **when})
            continue
        extra = event.get("data") if isinstance(event.get("data"), dict) else {}
        buttons = _buttons(extra.get("buttons") or extra.get("quick_replies"))
        for button in buttons:
            titles[button["payload"]] = button["title"]
        parts = [part for part in text.strip().split("\n\n") if part.strip()] or ([""] if buttons else [])
        meta = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
        if meta.get("utter_action") == EMERGENCY_RESPONSE and text.strip():
            messages.append({**emergency_alert(text, emergency_call), **when})  # whole, as channels/socketio.py sends it
            continue
        staff = meta.get("staff") if meta.get("author") == "staff" and isinstance(meta.get("staff"), str) else ""
        for index, part in enumerate(parts):
            message: Dict[str, Any] = {"sender": "bot", "text": part, **when}
            if staff:  # written by a person from the clinic (live take-over)
                message.update(author="staff", staff=printable(staff, 100))
            if index == len(parts) - 1 and buttons:
                message["buttons"] = buttons
            messages.append(message)
    return messages


def emergency_alert(text: str, emergency_call: str) -> Dict[str, Any]:
    """The red-flag advice as the widget shows it; ``emergency_call`` is the number to dial, if any."""
    alert: Dict[str, Any] = {"sender": "bot", "text": text, "kind": "emergency"}
    if emergency_call:
        alert["call"] = emergency_call
    return alert


def _buttons(raw: Any) -> List[Dict[str, str]]:
    if not isinstance(raw, list):
        return []
    return [{"title": printable(b["title"], MAX_TEXT), "payload": printable(b["payload"], MAX_TEXT)} for b in raw
            if isinstance(b, dict) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str)]


class RateLimit:
    """At most ``per_minute`` hits per key in each clock minute (in memory, for one process)."""

    def __init__(self, per_minute: int, clock=time.monotonic, max_keys: int = 50_000) -> None:
        self.per_minute, self.clock, self.max_keys = per_minute, clock, max_keys
        self._windows: Dict[str, Tuple[int, int]] = {}

    def allow(self, key: str) -> bool:
        window = int(self.clock() // 60)
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            start, count = window, 0
        if count >= self.per_minute:
            return False
        if len(self._windows) >= self.max_keys and key not in self._windows:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        self._windows[key] = (start, count + 1)
        return True
