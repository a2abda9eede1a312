"""One conversation: finding it, masking its personal data, and its transcript page."""

from __future__ import annotations

import json
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from storage.engine import has_table
from storage.ids import conversation_hash
from storage.personal_data import PERSONAL_SLOTS
from storage.text import printable
from webapp.staff import tables as t
from webapp.staff.audit import audit
from webapp.staff.common import as_list, conversation_target, fmt_ts
from webapp.staff.masking import Masker, masker_for
from webapp.staff.review import known_tags
from webapp.staff.summary import (EMERGENCY_ACTIONS, EMERGENCY_INTENTS, FALLBACK_ACTIONS,
                                  FALLBACK_INTENTS, parse_event, user_intent)

MAX_EXAMPLE = 1000  # characters of a message saved as a correction
TRANSCRIPT_PAGE = 300
# Characters of one message a transcript page shows (printable(text, limit) cuts); the page
# says when it shows less, and the exports hold all of it. Masked first, then cut, so that
# a cut cannot split a name or an address into parts the patterns no longer recognise.
MAX_SHOWN = 20_000


def get_conversation(conn, conversation_id: int):
    return conn.execute(sa.select(t.conversations).where(t.conversations.c.id == conversation_id)).first()


def requests_of(conn, sender_ids: Sequence[str]) -> list:
    if not sender_ids or not has_table(conn, "requests"):
        return []
    return conn.execute(sa.select(t.requests).where(t.requests.c.conversation_id.in_(list(sender_ids)))
                        .order_by(t.requests.c.id)).all()


def personal_slot_values(conn, sender_ids: Sequence[str]) -> Dict[str, Dict[str, List[str]]]:
    """Values of the personal slots (storage.personal_data) set in these conversations."""
    found: Dict[str, Dict[str, List[str]]] = {}
    if not sender_ids:
        return found
    e = t.events.c
    for row in conn.execute(sa.select(e.sender_id, e.action_name, e.data).where(
            e.sender_id.in_(list(sender_ids)), e.type_name == "slot",
            e.action_name.in_(sorted(PERSONAL_SLOTS)))):
        value = parse_event(row.data).get("value")
        if isinstance(value, str) and value.strip():
            found.setdefault(row.sender_id, {}).setdefault(row.action_name, []).append(value)
    return found


def conversation_masker(conn, sender_id: str, reveal: bool) -> Masker:
    if reveal:
        return Masker.off()
    slots = personal_slot_values(conn, [sender_id]).get(sender_id, {})
    return masker_for(slots, requests_of(conn, [sender_id]))


def annotate(text: str, entities: list) -> str:
    """The message in Rasa's training-data syntax: ``[kidney stones](lesion_type)``."""
    spans = []
    for ent in entities or []:
        if not isinstance(ent, dict):
            continue
        start, end, name = ent.get("start"), ent.get("end"), ent.get("entity")
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(name, str)):
            continue
        if 0 <= start < end <= len(text):
            spans.append((start, end, name))
    out, pos = [], 0
    for start, end, name in sorted(set(spans)):
        if start < pos:
            continue  # overlapping annotations cannot be written; keep the first
        out.append(text[pos:start])
        out.append(f"[{text[start:end]}]({name})")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def answer_ratings(conn, sender: str) -> Dict[str, int]:
    """The patient's latest rating (+1 / -1) of each answer of the conversation, by its text."""
    if not has_table(conn, "answer_feedback"):
        return {}
    f = t.feedback.c
    return {row.answer: row.rating for row in conn.execute(
        sa.select(f.answer, f.rating).where(f.conversation_id == sender).order_by(f.id))}


def _span(text: str, entity: dict) -> str:
    start, end = entity.get("start"), entity.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return text[start:end]
    return ""


def word_choices(text: str, longest: int = 4, limit: int = 200) -> List[str]:
    """The message's words and runs of up to ``longest`` words: what an entity can be."""
    words = re.findall(r"[\w'’-]+", text)
    found: List[str] = []
    for size in range(1, longest + 1):
        for start in range(0, len(words) - size + 1):
            run = " ".join(words[start:start + size])
            if run not in found:
                found.append(run)
            if len(found) >= limit:
                return found
    return found


def _mask_annotation(annotated: str, mask: Masker) -> str:
    # mask the visible words but leave "(entity)" names alone (bounded: linear time)
    parts = re.split(r"(\]\([^)]{0,300}\))", annotated)
    return "".join(p if i % 2 else mask(p) for i, p in enumerate(parts))


def _describe_other(kind: str, event: dict) -> str:
    if kind == "session_started":
        return "session started"
    if kind == "restart":
        return "conversation restarted"
    if kind == "active_loop":
        return f"form/loop active: {event.get('name') or 'none'}"
    if kind == "followup":
        return f"follow-up action: {event.get('name')}"
    if kind == "action_execution_rejected":
        return f"action rejected: {event.get('name')}"
    if kind in ("rewind", "undo", "pause", "resume", "export", "reset_slots", "loop_interrupted"):
        return kind.replace("_", " ")
    return kind


def transcript(conn, conv, reveal: bool, low_confidence: float, page: int) -> dict:
    e = t.events.c
    sender = conv.sender_id
    mask = conversation_masker(conn, sender, reveal)
    total = conn.execute(sa.select(sa.func.count()).select_from(t.events)
                         .where(e.sender_id == sender)).scalar_one()
    pages = max(1, -(-total // TRANSCRIPT_PAGE))
    page = max(1, min(page, pages))
    rows = conn.execute(sa.select(t.events).where(e.sender_id == sender).order_by(e.id)
                        .limit(TRANSCRIPT_PAGE).offset((page - 1) * TRANSCRIPT_PAGE)).all()
    flags = {r.event_id: r for r in conn.execute(
        sa.select(t.messages.c.event_id, t.messages.c.fallback, t.messages.c.emergency)
        .where(t.messages.c.sender_id == sender))}
    fixes = {r.event_id: r for r in conn.execute(
        sa.select(t.corrections).where(t.corrections.c.conversation_id == sender))}
    ratings = answer_ratings(conn, sender)
    items = []
    titles: Dict[str, str] = {}  # button payload -> title: a click shows as what the patient chose
    for row in rows:
        event = parse_event(row.data)
        item = {"id": row.id, "type": row.type_name, "time": fmt_ts(row.timestamp)}
        if row.type_name == "user":
            name, conf = user_intent(event, row.intent_name)
            text = event.get("text") if isinstance(event.get("text"), str) else ""
            parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
            entities = [x for x in as_list(parse.get("entities")) if isinstance(x, dict)]
            flag = flags.get(row.id)
            fix = fixes.get(row.id)
            clicked = text in titles
            shown = mask(titles.get(text, text))
            item.update(
                text=printable(shown, MAX_SHOWN), clicked=clicked, length=len(text) if len(shown) > MAX_SHOWN else 0,
                intent=name or "", confidence=conf,
                low=conf is not None and conf < low_confidence,
                fallback=bool(flag.fallback) if flag else name in FALLBACK_INTENTS,
                emergency=bool(flag.emergency) if flag else name in EMERGENCY_INTENTS,
                entities=[{"entity": printable(str(x.get("entity")), 200),
                           "value": printable(mask.entity(str(x.get("entity")), x.get("value")), 1000),
                           "words": printable(mask(_span(text, x) or str(x.get("value") or "")), 1000),
                           "extractor": printable(str(x.get("extractor") or ""), 200)} for x in entities[:100]],
                # what the correction form offers: the message as plain text and its words
                plain=printable(mask(text), MAX_EXAMPLE) if not clicked else printable(shown, MAX_EXAMPLE),
                channel=str(event.get("input_channel") or ""),
                # too long to be saved as a correction anyway: its start, to shorten by hand
                annotated=_mask_annotation(annotate(text, entities), mask) if len(text) <= MAX_EXAMPLE
                else shown[:MAX_EXAMPLE],
                correction=None if fix is None else {
                    "intent": fix.intent, "text": fix.text, "author": fix.author,
                    "entities": [{"entity": x.get("entity"), "words": _span(fix.text, x)}
                                 for x in json.loads(fix.entities or "[]") if isinstance(x, dict)],
                    "annotated": annotate(fix.text, json.loads(fix.entities or "[]")),
                    "at": fix.updated_at},
            )
        elif row.type_name == "bot":
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            buttons = [b.get("title") for b in as_list(data.get("buttons")) if isinstance(b, dict)]
            for b in as_list(data.get("buttons")):
                if isinstance(b, dict) and isinstance(b.get("payload"), str) and isinstance(b.get("title"), str):
                    titles[b["payload"]] = b["title"]
            raw = event.get("text") if isinstance(event.get("text"), str) else ""
            shown = mask(raw)
            meta = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
            staff = meta.get("staff") if meta.get("author") == "staff" and isinstance(meta.get("staff"), str) else ""
            parts = [" ".join(p.split()) for p in raw.split("\n\n")] + [" ".join(raw.split())]
            rated = [ratings[p] for p in parts if p in ratings]
            item.update(author="staff" if staff else "assistant", staff=printable(staff, 100),
                        rating=rated[-1] if rated else 0,
                        notice=bool(meta.get("notice")),
                        text=printable(shown, MAX_SHOWN), length=len(raw) if len(shown) > MAX_SHOWN else 0,
                        buttons=[printable(mask(str(b)), 1000) for b in buttons[:100] if b])
        elif row.type_name == "action":
            item.update(name=row.action_name or str(event.get("name") or ""),
                        policy=str(event.get("policy") or ""),
                        confidence=event.get("confidence") if isinstance(event.get("confidence"), (int, float)) else None,
                        fallback=row.action_name in FALLBACK_ACTIONS,
                        emergency=row.action_name in EMERGENCY_ACTIONS)
        elif row.type_name == "slot":
            name = str(event.get("name") or row.action_name or "")
            item.update(name=printable(name, 200), value=printable(mask.slot(name, event.get("value")), MAX_SHOWN))
        else:
            item.update(summary=printable(_describe_other(row.type_name, event), 1000))
        items.append(item)
    review = conn.execute(sa.select(t.reviews).where(t.reviews.c.conversation_id == sender)).first()
    tags = [r.tag for r in conn.execute(sa.select(t.tags.c.tag).where(t.tags.c.conversation_id == sender)
                                        .order_by(t.tags.c.tag))]
    reqs = requests_of(conn, [sender])
    return {
        "items": items, "page": page, "pages": pages, "total": total,
        "last_id": rows[-1].id if rows else 0,
        "review": review, "tags": tags,
        "requests": [{"id": r.id, "reference": r.reference, "kind": r.kind, "status": r.status} for r in reqs],
        "sender_hash": conversation_hash(sender),
    }


def conversation_page(conn, conversation_id: int, reveal: bool, low_confidence: float, page: int,
                      actor: str, ip: Optional[str]) -> Tuple[Optional[sa.engine.Row], Optional[dict], List[str]]:
    """(conversation, transcript page, known tags) for the conversation page; a reveal is audited."""
    conv = get_conversation(conn, conversation_id)
    if conv is None:
        return None, None, []
    data = transcript(conn, conv, reveal, low_confidence, page)
    tags = known_tags(conn)
    if reveal:
        audit(conn, actor, "reveal", conversation_target(conv.sender_id), "transcript", ip)
    return conv, data, tags


def act_on_conversation(conn, conversation_id: int, action: Callable[..., None]) -> bool:
    """Run ``action(conn, sender_id)`` on a conversation; False if there is no such conversation."""
    conv = get_conversation(conn, conversation_id)
    if conv is None:
        return False
    action(conn, conv.sender_id)
    return True
