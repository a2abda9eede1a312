"""Keeps the console's summary tables in step with Rasa's ``events`` table.

``staff_conversations`` (one row per sender) and ``staff_messages`` (one row per
patient message) are derived data: each refresh recomputes, from all of their
events, the conversations that have events newer than the last one seen. That is
idempotent, so a refresh that dies half-way or runs twice does no harm. Events are
re-read from a margin below the last id seen, because on PostgreSQL a transaction
that took a lower id can commit after one that took a higher id.

Conversations forgotten on a patient's request (rows in ``deletion_records``,
matched by the sha256 of the sender id) are removed here with all staff data
about them (review marks, tags, notes, corrected messages).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import namedtuple
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from storage.text import printable
from webapp.staff import tables as t
from storage.engine import has_table
from storage.ids import conversation_hash
from storage.time import utcnow as now

logger = logging.getLogger(__name__)

FALLBACK_INTENTS = frozenset({"nlu_fallback"})
FALLBACK_ACTIONS = frozenset({"action_two_stage_fallback", "action_default_fallback"})
EMERGENCY_INTENTS = frozenset({"report_emergency"})
EMERGENCY_ACTIONS = frozenset({"action_give_emergency_advice"})
MARGIN = 200  # ids re-read below the last one seen
CHUNK = 400  # conversations recomputed per transaction (keeps SQLite write locks short)
MAX_TEXT = 5000

# plain tuples: attribute access on SQLAlchemy rows is the slow part of a full rebuild
EventRow = namedtuple("EventRow", "id sender_id type_name timestamp intent_name action_name data")


# Any float a timestamp column holds must not stop a refresh: out of this range
# datetime cannot show it (and NaN/inf are no time at all).
MIN_TS, MAX_TS = -62135596800.0, 253402300799.0  # 0001-01-01 .. 9999-12-31 23:59:59 UTC
# Escapes json.dumps writes for what storage.text.printable replaces: controls
# (\u0000-\u001f, \u007f-\u009f, \b, \f) and surrogates (\ud800-\udfff).
_UNSAFE_JSON = re.compile(r"\\(?:u(?:00[0189][0-9a-fA-F]|007[fF]|[dD][89a-fA-F][0-9a-fA-F]{2})|[bf])")


def valid_ts(ts) -> Optional[float]:
    if isinstance(ts, (int, float)) and not isinstance(ts, bool) and MIN_TS <= ts <= MAX_TS:
        return float(ts)
    return None  # NaN fails both comparisons


def day_of(ts: float) -> str:
    ts = valid_ts(ts)
    return datetime.fromtimestamp(ts if ts is not None else 0.0, tz=timezone.utc).strftime("%Y-%m-%d")


def parse_event(data: Optional[str]) -> dict:
    """The JSON of an event row; ``{}`` if it is not an object. Its strings are made
    printable (storage.text): rows may hold lone surrogates, NUL and control characters
    as escapes, which would break rendering, UTF-8 encoding and PostgreSQL columns."""
    try:
        value = json.loads(data or "{}")
    except (TypeError, ValueError, RecursionError):  # RecursionError: nested too deep
        return {}
    if not isinstance(value, dict):
        return {}
    if isinstance(data, str) and (_UNSAFE_JSON.search(data) or printable(data) != data):
        value = _printable_tree(value)
    return value


def _printable_tree(root: dict) -> dict:
    """Every string (keys too) of a parsed JSON value made printable; iterative, so
    depth is no limit. Only rows that hold such escapes pay for it."""
    fix = lambda v: printable(v) if isinstance(v, str) else v  # noqa: E731
    out: dict = {}
    stack = [(root, out)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(item, (dict, list)):
                item_copy: Any = {} if isinstance(item, dict) else [None] * len(item)
                stack.append((item, item_copy))
                item = item_copy
            else:
                item = fix(item)
            if isinstance(target, dict):
                target[fix(key)] = item
            else:
                target[key] = item
    return out


def user_intent(event: dict, fallback_name: Optional[str]) -> Tuple[Optional[str], Optional[float]]:
    parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
    intent = parse.get("intent") if isinstance(parse.get("intent"), dict) else {}
    name = intent.get("name")
    if not (isinstance(name, str) and name):
        name = printable(fallback_name) if isinstance(fallback_name, str) else None
    confidence = intent.get("confidence")
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool):
        return name, None
    try:
        confidence = float(confidence)  # a JSON integer may be too large for a float
    except OverflowError:
        return name, None
    return name, (confidence if math.isfinite(confidence) else None)


def summarize(sender_id: str, rows: Sequence) -> Tuple[dict, List[dict]]:
    """Summary row and message rows of one conversation from its events (in id order)."""
    channel = None
    n_user = n_bot = 0
    min_conf: Optional[float] = None
    fallback = emergency = False
    found: List[dict] = []
    last_user: Optional[dict] = None
    first_ts = last_ts = None
    for row in rows:
        ts = valid_ts(row.timestamp)
        ts = ts if ts is not None else (last_ts or 0.0)
        first_ts = ts if first_ts is None else min(first_ts, ts)
        last_ts = ts if last_ts is None else max(last_ts, ts)
        if row.type_name == "user":
            event = parse_event(row.data)
            n_user += 1
            name, conf = user_intent(event, row.intent_name)
            text = event.get("text") if isinstance(event.get("text"), str) else ""
            if channel is None and isinstance(event.get("input_channel"), str) and event["input_channel"]:
                channel = event["input_channel"][:64]  # printable: parse_event
            if conf is not None:
                min_conf = conf if min_conf is None else min(min_conf, conf)
            last_user = {
                "event_id": row.id, "sender_id": sender_id, "ts": ts, "day": day_of(ts),
                "intent": (name or None) and name[:255], "confidence": conf,
                "fallback": name in FALLBACK_INTENTS, "emergency": name in EMERGENCY_INTENTS,
                "text_norm": " ".join(text.lower().split())[:MAX_TEXT],
            }
            fallback = fallback or last_user["fallback"]
            emergency = emergency or last_user["emergency"]
            found.append(last_user)
        elif row.type_name == "bot":
            n_bot += 1
        elif row.type_name == "action":
            action = row.action_name
            if action in FALLBACK_ACTIONS:
                fallback = True
                if last_user:
                    last_user["fallback"] = True
            elif action in EMERGENCY_ACTIONS:
                emergency = True
                if last_user:
                    last_user["emergency"] = True
            elif action == "action_listen":
                last_user = None
    summary = {
        "sender_id": sender_id, "sender_hash": conversation_hash(sender_id),
        "channel": channel or "unknown", "started_at": first_ts or 0.0, "last_at": last_ts or 0.0,
        "n_events": len(rows), "n_user": n_user, "n_bot": n_bot, "min_confidence": min_conf,
        "fallback": fallback, "emergency": emergency,
        "last_event_id": rows[-1].id if rows else 0,
    }
    return summary, found


def forget_staff_data(conn, sender_ids: Iterable[str]) -> None:
    """Remove everything the console keeps about these conversations."""
    ids = list(sender_ids)
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        conn.execute(t.messages.delete().where(t.messages.c.sender_id.in_(part)))
        conn.execute(t.conversations.delete().where(t.conversations.c.sender_id.in_(part)))
        conn.execute(t.reviews.delete().where(t.reviews.c.conversation_id.in_(part)))
        conn.execute(t.tags.delete().where(t.tags.c.conversation_id.in_(part)))
        conn.execute(t.corrections.delete().where(t.corrections.c.conversation_id.in_(part)))
        conn.execute(t.holds.delete().where(t.holds.c.conversation_id.in_(part)))
        conn.execute(t.feedback.delete().where(t.feedback.c.conversation_id.in_(part)))


class Refresher:
    """Brings the summaries up to date; one refresh at a time per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._tables_seen = False

    def _events_exist(self, conn) -> bool:
        # Rasa creates `events` when it first starts; until then there is nothing to show.
        if not self._tables_seen:
            self._tables_seen = has_table(conn, "events")
        return self._tables_seen

    def refresh(self) -> None:
        with self._lock:
            try:
                self._refresh()
            except IntegrityError:
                # another process inserted the same conversation meanwhile; the
                # recompute is idempotent, so once more settles it
                logger.info("summary refresh collided with another process; retrying")
                self._refresh()

    def _refresh(self) -> None:
        with self.engine.connect() as conn:
            if not self._events_exist(conn):
                return
            lock = self._advisory_lock(conn)
            try:
                self._refresh_locked(conn)
            finally:
                if lock:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
                    conn.commit()

    @staticmethod
    def _advisory_lock(conn) -> Optional[int]:
        """Serialise refreshes of several web app processes on PostgreSQL."""
        if conn.dialect.name != "postgresql":
            return None
        key = 0x5747_4146  # arbitrary, constant
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
        return key

    def _refresh_locked(self, conn) -> None:
        state = conn.execute(sa.select(t.refresh_state).where(t.refresh_state.c.id == 1)).first()
        if state is None:
            conn.execute(t.refresh_state.insert().values(
                id=1, last_event_id=0, last_deletion_id=0, updated_at=now()))
            conn.commit()
            last_event_id, last_deletion_id = 0, 0
        else:
            last_event_id, last_deletion_id = state.last_event_id, state.last_deletion_id

        new_deletion_id = self._forget_deleted(conn, last_deletion_id)
        high = conn.execute(sa.select(sa.func.max(t.events.c.id))).scalar() or 0
        if high < last_event_id:  # events were wiped or replaced: start over
            conn.execute(t.messages.delete())
            conn.execute(t.conversations.delete())
            conn.commit()
            last_event_id = 0
        if high == last_event_id and new_deletion_id == last_deletion_id:
            return
        if high > last_event_id:
            low = max(0, last_event_id - MARGIN) if last_event_id else 0
            senders = [r[0] for r in conn.execute(
                sa.select(t.events.c.sender_id).where(t.events.c.id > low).distinct())]
            for start in range(0, len(senders), CHUNK):
                self._recompute(conn, senders[start:start + CHUNK])
        conn.execute(t.refresh_state.update().where(t.refresh_state.c.id == 1).values(
            last_event_id=high, last_deletion_id=new_deletion_id, updated_at=now()))
        conn.commit()

    def _forget_deleted(self, conn, last_deletion_id: int) -> int:
        # "forget me" still in progress (actions/privacy.py): hide it from staff at once
        if has_table(conn, "event_purges"):
            pending = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT conversation_id FROM event_purges"))]
            if pending:
                forget_staff_data(conn, pending)
                conn.commit()
        if not has_table(conn, "deletion_records"):
            return last_deletion_id
        rows = conn.execute(sa.select(t.deletion_records.c.id, t.deletion_records.c.conversation_hash)
                            .where(t.deletion_records.c.id > last_deletion_id)).all()
        if not rows:
            return last_deletion_id
        hashes = list({r.conversation_hash for r in rows})
        senders: List[str] = []
        for start in range(0, len(hashes), CHUNK):
            senders += [r[0] for r in conn.execute(
                sa.select(t.conversations.c.sender_id)
                .where(t.conversations.c.sender_hash.in_(hashes[start:start + CHUNK])))]
        # only what has no events left: a patient may have started afresh since
        remaining = set()
        for start in range(0, len(senders), CHUNK):
            remaining.update(r[0] for r in conn.execute(
                sa.select(t.events.c.sender_id).where(t.events.c.sender_id.in_(senders[start:start + CHUNK]))
                .distinct()))
        forget_staff_data(conn, [s for s in senders if s not in remaining])
        for sender in remaining:
            self._recompute(conn, [sender], commit=False)
        conn.commit()
        return max(r.id for r in rows)

    def _recompute(self, conn, senders: List[str], commit: bool = True) -> None:
        e = t.events
        rows = conn.execute(
            sa.select(e.c.id, e.c.sender_id, e.c.type_name, e.c.timestamp, e.c.intent_name,
                      e.c.action_name, sa.case((e.c.type_name == "user", e.c.data), else_=None).label("data"))
            .where(e.c.sender_id.in_(senders)).order_by(e.c.sender_id, e.c.id)).all()
        by_sender: Dict[str, list] = {}
        for raw in rows:
            row = EventRow._make(raw)
            by_sender.setdefault(row.sender_id, []).append(row)
        summaries, found = [], []
        for sender, events in by_sender.items():
            summary, messages = summarize(sender, events)
            summaries.append(summary)
            found += messages
        existing = {r.sender_id for r in conn.execute(
            sa.select(t.conversations.c.sender_id).where(t.conversations.c.sender_id.in_(senders)))}
        gone = [s for s in existing if s not in by_sender]
        if gone:
            forget_staff_data(conn, gone)
        conn.execute(t.messages.delete().where(t.messages.c.sender_id.in_(senders)))
        if found:
            conn.execute(t.messages.insert(), found)
        updates = [s for s in summaries if s["sender_id"] in existing]
        inserts = [s for s in summaries if s["sender_id"] not in existing]
        if inserts:
            conn.execute(t.conversations.insert(), inserts)
        if updates:
            c = t.conversations.c
            conn.execute(
                t.conversations.update().where(c.sender_id == sa.bindparam("b_sender")).values(
                    {k: sa.bindparam(k) for k in updates[0] if k != "sender_id"}),
                [dict(u, b_sender=u["sender_id"]) for u in updates])
        if commit:
            conn.commit()
