"""Live take-over: the inbox of people waiting for a person, holding a conversation,
replying in it and handing it back.

Rasa owns the conversation: taking, replying and handing back go through Rasa's staff
relay (channels/staff_relay.py, ``STAFF_RELAY_TOKEN``), which changes the tracker under
the conversation's lock and delivers the message on the patient's channel. The console
keeps who holds what (``staff_holds``), writes each step to the audit log and moves the
hand-off request along (taken: ``contacted``, assigned to the person).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import aiohttp
import sqlalchemy as sa

from storage.engine import has_table
from storage.text import printable
from storage.time import utcnow
from webapp.settings import WebSettings
from webapp.staff import tables as t
from webapp.staff.audit import audit
from webapp.staff.common import conversation_target, fmt_ts
from webapp.staff.summary import parse_event
from webapp.staff.conversation_list import previews
from webapp.staff.transcript import conversation_masker

logger = logging.getLogger(__name__)

MAX_REPLY = 2000  # characters: the same cap as a patient's message (channels/guard.py)
RELAY_TIMEOUT = 15.0
DELIVERY = {
    "now": "Delivered.",
    "next_request": "Stored: the patient's app receives it with its next message (REST).",
    "failed": "Stored in the conversation, but it could not be delivered to the patient's app.",
    "none": "",
}


class RelayError(Exception):
    """Rasa's relay refused or could not be reached; ``str()`` is shown to the staff member."""

    def __init__(self, status: int, message: str, holder: Optional[str] = None) -> None:
        super().__init__(message)
        self.status, self.holder = status, holder


async def call_relay(settings: WebSettings, verb: str, conversation_id: str, staff: str,
                     text: str = "", force: bool = False) -> Dict[str, Any]:
    if not settings.relay_token:
        raise RelayError(409, "Live take-over is off: STAFF_RELAY_TOKEN is not set for the console and Rasa.")
    body = {"conversation_id": conversation_id, "staff": staff, "force": force}
    if verb == "reply":
        body["text"] = text
    url = f"{settings.relay_url}/webhooks/staff/{verb}"
    headers = {"Authorization": f"Bearer {settings.relay_token}"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=RELAY_TIMEOUT)) as session:
            async with session.post(url, json=body, headers=headers) as resp:
                try:
                    answer = await resp.json(content_type=None)
                except ValueError:
                    answer = None
                status = resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        logger.error("The staff relay could not be reached: %s", type(exc).__name__)
        raise RelayError(502, "The assistant could not be reached. Try again in a moment.") from exc
    answer = answer if isinstance(answer, dict) else {}
    if status == 200:
        return answer
    if status == 409:
        raise RelayError(409, "Someone else holds this conversation" + (
            f" ({answer.get('holder')})." if answer.get("holder") else "."), answer.get("holder"))
    if status == 404:
        raise RelayError(404, "The assistant does not know this conversation (it may have been deleted).")
    if status == 401:
        logger.error("The staff relay refused the console's token (STAFF_RELAY_TOKEN differs)")
        raise RelayError(502, "The assistant refused the console: STAFF_RELAY_TOKEN differs between them.")
    if status == 400:
        raise RelayError(400, str(answer.get("error") or "The message was refused."))
    raise RelayError(502, "The assistant could not take this step right now. Try again in a moment.")


# --- the console's own record ----------------------------------------------------------

SLOT = "live_agent"  # set by Rasa's staff relay while a person holds the conversation


@dataclass(frozen=True)
class Hold:
    held_by: str
    taken_at: Any


def tracker_holder(conn, sender: str) -> Optional[str]:
    """Who holds the conversation according to Rasa's tracker, the truth the assistant acts on:
    the latest ``live_agent`` slot value, unless a new session (or a restart) cleared it since."""
    e = t.events.c
    last = conn.execute(sa.select(e.id, e.data).where(e.sender_id == sender, e.type_name == "slot",
                                                      e.action_name == SLOT)
                        .order_by(e.id.desc()).limit(1)).first()
    if last is None:
        return None
    cleared = conn.execute(sa.select(e.id).where(e.sender_id == sender, e.id > last.id,
                                                 e.type_name.in_(("session_started", "restart"))).limit(1)).first()
    value = parse_event(last.data).get("value")
    return value if cleared is None and isinstance(value, str) and value else None


def holder(conn, sender: str) -> Optional[Hold]:
    """Who holds the conversation. ``staff_holds`` is only the console's index of held
    conversations (for the inbox) and of since when; the tracker decides, and the index is
    corrected when they differ (a session that ended after an hour of silence, a hand-back
    by another console)."""
    if not has_table(conn, "staff_holds"):
        return None
    held_by = tracker_holder(conn, sender)
    row = conn.execute(sa.select(t.holds).where(t.holds.c.conversation_id == sender)).first()
    if held_by is None:
        if row is not None:
            conn.execute(t.holds.delete().where(t.holds.c.conversation_id == sender))
        return None
    if row is not None and row.held_by == held_by:
        return Hold(row.held_by, row.taken_at)
    taken_at = utcnow()
    conn.execute(t.holds.delete().where(t.holds.c.conversation_id == sender))
    conn.execute(t.holds.insert().values(conversation_id=sender, held_by=held_by, taken_at=taken_at))
    return Hold(held_by, taken_at)


def record_take(conn, sender: str, user: str, ip: Optional[str], taken_from: Optional[str] = None) -> None:
    conn.execute(t.holds.delete().where(t.holds.c.conversation_id == sender))
    conn.execute(t.holds.insert().values(conversation_id=sender, held_by=user, taken_at=utcnow()))
    r = t.requests.c
    if has_table(conn, "requests"):
        conn.execute(t.requests.update().where(r.conversation_id == sender, r.kind == "handoff",
                                               r.status == "new")
                     .values(status="contacted", assigned_to=user, updated_at=utcnow()))
    audit(conn, user, "live_take", conversation_target(sender),
          f"taken over from {taken_from}" if taken_from else None, ip)


def record_reply(conn, sender: str, user: str, ip: Optional[str], length: int, delivered: str) -> None:
    audit(conn, user, "live_reply", conversation_target(sender), f"{length} characters; delivery: {delivered}", ip)


def record_release(conn, sender: str, user: str, ip: Optional[str]) -> None:
    conn.execute(t.holds.delete().where(t.holds.c.conversation_id == sender))
    audit(conn, user, "live_handback", conversation_target(sender), None, ip)


# --- what the inbox shows ---------------------------------------------------------------

def waiting_count(conn) -> int:
    """Hand-off requests nobody has taken yet (the number in the navigation)."""
    if not has_table(conn, "requests"):
        return 0
    r = t.requests.c
    held = sa.select(t.holds.c.conversation_id)
    return conn.execute(sa.select(sa.func.count()).select_from(t.requests).where(
        r.kind == "handoff", r.status == "new", r.conversation_id.not_in(held))).scalar_one()


def inbox(conn, user: str) -> Dict[str, List[Dict[str, Any]]]:
    """Waiting hand-off requests (longest waiting first) and the conversations people hold."""
    waiting: List[Dict[str, Any]] = []
    now = utcnow()
    if has_table(conn, "requests"):
        r = t.requests.c
        held = sa.select(t.holds.c.conversation_id)
        rows = conn.execute(
            sa.select(r.id, r.reference, r.channel, r.created_at, r.conversation_id,
                      t.conversations.c.id.label("conv_id"), t.conversations.c.last_at)
            .select_from(t.requests.outerjoin(t.conversations, t.conversations.c.sender_id == r.conversation_id))
            .where(r.kind == "handoff", r.status == "new", r.conversation_id.not_in(held))
            .order_by(r.created_at, r.id)).all()
        first = previews(conn, [row.conversation_id for row in rows], "")
        for row in rows:
            waiting.append({
                "request_id": row.id, "reference": row.reference, "channel": row.channel,
                "conv_id": row.conv_id, "created_at": row.created_at,
                "waiting_minutes": max(0, int((now - row.created_at).total_seconds() // 60)),
                "first": first.get(row.conversation_id, {}).get("first", ""),
                "last": fmt_ts(row.last_at),
            })
    held_rows = conn.execute(
        sa.select(t.holds, t.conversations.c.id.label("conv_id"), t.conversations.c.channel,
                  t.conversations.c.last_at)
        .select_from(t.holds.outerjoin(t.conversations, t.conversations.c.sender_id == t.holds.c.conversation_id))
        .order_by(t.holds.c.taken_at)).all()
    holding = []
    for row in held_rows:
        hold = holder(conn, row.conversation_id)  # the tracker may have ended it meanwhile
        if hold is not None:
            holding.append({"conv_id": row.conv_id, "held_by": hold.held_by, "mine": hold.held_by == user,
                            "channel": row.channel or "", "taken_at": hold.taken_at, "last": fmt_ts(row.last_at)})
    return {"waiting": waiting, "holding": holding}


def author_of(event: Dict[str, Any]) -> Dict[str, str]:
    """Who wrote a bot event: the assistant, or a named staff member (live take-over)."""
    meta = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    if meta.get("author") == "staff" and isinstance(meta.get("staff"), str):
        return {"who": "staff", "name": printable(meta["staff"], 100)}
    return {"who": "assistant", "name": ""}


def feed(conn, sender: str, after_id: int) -> Dict[str, Any]:
    """What the open conversation page polls for: new messages and who holds it, in one go."""
    hold = holder(conn, sender)
    return {"messages": messages_after(conn, sender, after_id), "holder": hold.held_by if hold else None}


def messages_after(conn, sender: str, after_id: int, limit: int = 200) -> List[Dict[str, Any]]:
    """Patient, assistant and staff messages after event ``after_id`` (for the live page)."""
    e = t.events.c
    rows = conn.execute(sa.select(e.id, e.type_name, e.timestamp, e.data)
                        .where(e.sender_id == sender, e.id > after_id, e.type_name.in_(("user", "bot")))
                        .order_by(e.id).limit(limit)).all()
    if not rows:
        return []
    mask = conversation_masker(conn, sender, False)
    out = []
    for row in rows:
        event = parse_event(row.data)
        text = event.get("text") if isinstance(event.get("text"), str) else ""
        who = {"who": "patient", "name": ""} if row.type_name == "user" else author_of(event)
        out.append({"id": row.id, "time": fmt_ts(row.timestamp), "text": printable(mask(text), 20_000), **who})
    return out
