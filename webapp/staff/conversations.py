"""Conversations: the filtered list, transcripts, review marks, corrections, exports, deletion."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlencode

import sqlalchemy as sa

from storage.personal_data import PERSONAL_SLOTS
from storage.requests import RequestStore
from storage.text import printable
from webapp.staff import inputs
from webapp.staff import tables as t
from storage.engine import has_table
from storage.forgetting import start_forgetting
from storage.ids import conversation_hash
from storage.time import utcnow as now
from webapp.staff.audit import audit
from webapp.staff.masking import Masker, masker_for
from webapp.staff.summary import (EMERGENCY_ACTIONS, EMERGENCY_INTENTS, FALLBACK_ACTIONS,
                                  FALLBACK_INTENTS, forget_staff_data, parse_event, user_intent, valid_ts)

TRI_STATE = ("", "yes", "no")
TAG_RE = re.compile(r"^[\w][\w \-]{0,49}$", re.UNICODE)
MAX_QUERY = 200
MAX_NOTE = 5000
MAX_EXAMPLE = 1000
TRANSCRIPT_PAGE = 300
# Characters of one message a transcript page shows (printable(text, limit) cuts); the page
# says when it shows less, and the exports hold all of it. Masked first, then cut, so that
# a cut cannot split a name or an address into parts the patterns no longer recognise.
MAX_SHOWN = 20_000


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


# --- the list ---------------------------------------------------------------------

@dataclass(frozen=True)
class ListFilters:
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    channel: str = ""
    fallback: str = ""
    low_confidence: str = ""
    emergency: str = ""
    request: str = ""
    reviewed: str = ""
    tag: str = ""
    q: str = ""
    page: int = 1
    errors: Tuple[str, ...] = field(default=(), compare=False)

    def params(self, **changes) -> Dict[str, str]:
        f = replace(self, **changes)
        values = {
            "from": f.date_from.isoformat() if f.date_from else "",
            "to": f.date_to.isoformat() if f.date_to else "",
            "channel": f.channel, "fallback": f.fallback, "low_confidence": f.low_confidence,
            "emergency": f.emergency, "request": f.request, "reviewed": f.reviewed,
            "tag": f.tag, "q": f.q, "page": str(f.page) if f.page > 1 else "",
        }
        return {k: v for k, v in values.items() if v}

    def query_string(self, **changes) -> str:
        return urlencode(self.params(**changes))

    @property
    def active(self) -> bool:
        return bool(set(self.params(page=1)))


def parse_filters(args) -> ListFilters:
    """Filters from query parameters; anything malformed is dropped with a message."""
    errors: List[str] = []

    def get(name: str, limit: int = 100) -> str:
        return inputs.text(args.get(name), limit)

    tri = {}
    for name in ("fallback", "low_confidence", "emergency", "request", "reviewed"):
        value = get(name)
        if value not in TRI_STATE:
            errors.append(f"Filter {name} must be yes or no; it was ignored.")
            value = ""
        tri[name] = value
    try:
        page = max(1, min(int(get("page") or "1"), 1_000_000))
    except ValueError:
        page = 1
    date_from = inputs.day(get("from"), "From", errors)
    date_to = inputs.day(get("to"), "To", errors)
    return ListFilters(date_from=date_from, date_to=date_to, channel=get("channel", 64),
                       tag=get("tag", 50).lower(), q=get("q", MAX_QUERY), page=page,
                       errors=tuple(errors), **tri)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(conn, f: ListFilters, low_confidence: float) -> list:
    c, r = t.conversations.c, t.reviews.c
    conds = []
    if f.date_from:
        conds.append(c.started_at >= _epoch(f.date_from))
    if f.date_to:
        conds.append(c.started_at < _epoch(f.date_to + timedelta(days=1)))
    if f.channel:
        conds.append(c.channel == f.channel)
    for name, column in (("fallback", c.fallback), ("emergency", c.emergency)):
        value = getattr(f, name)
        if value:
            conds.append(column.is_(value == "yes"))
    if f.low_confidence == "yes":
        conds.append(c.min_confidence < low_confidence)
    elif f.low_confidence == "no":
        conds.append(sa.or_(c.min_confidence.is_(None), c.min_confidence >= low_confidence))
    if f.request:
        if has_table(conn, "requests"):
            made = c.sender_id.in_(sa.select(t.requests.c.conversation_id))
            conds.append(made if f.request == "yes" else sa.not_(made))
        elif f.request == "yes":
            conds.append(sa.false())
    if f.reviewed == "yes":
        conds.append(r.reviewed.is_(True))
    elif f.reviewed == "no":
        conds.append(sa.or_(r.reviewed.is_(None), r.reviewed.is_(False)))
    if f.tag:
        conds.append(c.sender_id.in_(sa.select(t.tags.c.conversation_id).where(t.tags.c.tag == f.tag)))
    if f.q:
        needle = " ".join(f.q.lower().split())
        conds.append(c.sender_id.in_(sa.select(t.messages.c.sender_id).where(
            t.messages.c.text_norm.like(_like_pattern(needle), escape="\\"))))
    return conds


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def _base(conn, f: ListFilters, low_confidence: float):
    joined = t.conversations.outerjoin(t.reviews, t.reviews.c.conversation_id == t.conversations.c.sender_id)
    return joined, _conditions(conn, f, low_confidence)


def list_conversations(conn, f: ListFilters, low_confidence: float, page_size: int) -> dict:
    joined, conds = _base(conn, f, low_confidence)
    c = t.conversations.c
    total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*conds)).scalar_one()
    pages = max(1, -(-total // page_size))
    page = min(f.page, pages)
    rows = conn.execute(
        sa.select(c.id, c.sender_id, c.channel, c.started_at, c.last_at, c.n_user, c.n_bot,
                  c.min_confidence, c.fallback, c.emergency, t.reviews.c.reviewed)
        .select_from(joined).where(*conds)
        .order_by(c.started_at.desc(), c.id.desc())
        .limit(page_size).offset((page - 1) * page_size)).all()
    senders = [r.sender_id for r in rows]
    tags_by: Dict[str, List[str]] = {}
    with_request = set()
    if senders:
        for row in conn.execute(sa.select(t.tags.c.conversation_id, t.tags.c.tag)
                                .where(t.tags.c.conversation_id.in_(senders)).order_by(t.tags.c.tag)):
            tags_by.setdefault(row.conversation_id, []).append(row.tag)
        if has_table(conn, "requests"):
            with_request = {r[0] for r in conn.execute(
                sa.select(t.requests.c.conversation_id).where(t.requests.c.conversation_id.in_(senders)))}
    items = [{
        "id": r.id, "sender_id": r.sender_id, "channel": r.channel,
        "started": fmt_ts(r.started_at), "last": fmt_ts(r.last_at),
        "n_user": r.n_user, "n_bot": r.n_bot,
        "fallback": r.fallback, "emergency": r.emergency,
        "low_confidence": r.min_confidence is not None and r.min_confidence < low_confidence,
        "request": r.sender_id in with_request, "reviewed": bool(r.reviewed),
        "tags": tags_by.get(r.sender_id, []),
    } for r in rows]
    return {"items": items, "total": total, "page": page, "pages": pages}


def filter_choices(conn) -> dict:
    channels = [r[0] for r in conn.execute(
        sa.select(t.conversations.c.channel).distinct().order_by(t.conversations.c.channel))]
    tags = [r[0] for r in conn.execute(sa.select(t.tags.c.tag).distinct().order_by(t.tags.c.tag))]
    return {"channels": channels, "tags": tags}


def matching_senders(conn, f: ListFilters, low_confidence: float, limit: int) -> Tuple[int, List[str]]:
    joined, conds = _base(conn, f, low_confidence)
    c = t.conversations.c
    total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*conds)).scalar_one()
    senders = [r[0] for r in conn.execute(
        sa.select(c.sender_id).select_from(joined).where(*conds)
        .order_by(c.started_at.desc(), c.id.desc()).limit(limit))]
    return total, senders


# --- one conversation -------------------------------------------------------------

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


def _mask_annotation(annotated: str, mask: Masker) -> str:
    # mask the visible words but leave "(entity)" names alone (bounded: linear time)
    parts = re.split(r"(\]\([^)]{0,300}\))", annotated)
    return "".join(p if i % 2 else mask(p) for i, p in enumerate(parts))


def _as_list(value) -> list:
    return value if isinstance(value, list) else []  # stored JSON may hold anything


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
    items = []
    for row in rows:
        event = parse_event(row.data)
        item = {"id": row.id, "type": row.type_name, "time": fmt_ts(row.timestamp)}
        if row.type_name == "user":
            name, conf = user_intent(event, row.intent_name)
            text = event.get("text") if isinstance(event.get("text"), str) else ""
            parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
            entities = [x for x in _as_list(parse.get("entities")) if isinstance(x, dict)]
            flag = flags.get(row.id)
            fix = fixes.get(row.id)
            shown = mask(text)
            item.update(
                text=printable(shown, MAX_SHOWN), length=len(text) if len(shown) > MAX_SHOWN else 0,
                intent=name or "", confidence=conf,
                low=conf is not None and conf < low_confidence,
                fallback=bool(flag.fallback) if flag else name in FALLBACK_INTENTS,
                emergency=bool(flag.emergency) if flag else name in EMERGENCY_INTENTS,
                entities=[{"entity": printable(str(x.get("entity")), 200),
                           "value": printable(mask.entity(str(x.get("entity")), x.get("value")), 1000),
                           "extractor": printable(str(x.get("extractor") or ""), 200)} for x in entities[:100]],
                channel=str(event.get("input_channel") or ""),
                # too long to be saved as a correction anyway: its start, to shorten by hand
                annotated=_mask_annotation(annotate(text, entities), mask) if len(text) <= MAX_EXAMPLE
                else shown[:MAX_EXAMPLE],
                correction=None if fix is None else {
                    "intent": fix.intent, "text": fix.text, "author": fix.author,
                    "annotated": annotate(fix.text, json.loads(fix.entities or "[]")),
                    "at": fix.updated_at},
            )
        elif row.type_name == "bot":
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            buttons = [b.get("title") for b in _as_list(data.get("buttons")) if isinstance(b, dict)]
            raw = event.get("text") if isinstance(event.get("text"), str) else ""
            shown = mask(raw)
            item.update(text=printable(shown, MAX_SHOWN), length=len(raw) if len(shown) > MAX_SHOWN else 0,
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
        "review": review, "tags": tags,
        "requests": [{"id": r.id, "reference": r.reference, "kind": r.kind, "status": r.status} for r in reqs],
        "sender_hash": conversation_hash(sender),
    }


# --- review -----------------------------------------------------------------------

def set_reviewed(conn, sender: str, reviewed: bool, actor: str) -> None:
    values = {"reviewed": reviewed, "reviewed_by": actor if reviewed else None,
              "reviewed_at": now() if reviewed else None}
    _upsert_review(conn, sender, values)
    audit(conn, actor, "review_mark" if reviewed else "review_unmark", conversation_target(sender))


def save_note(conn, sender: str, note: str, actor: str) -> None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InputError(f"A note has at most {MAX_NOTE} characters.")
    _upsert_review(conn, sender, {"note": note or None, "note_by": actor, "note_at": now()})
    audit(conn, actor, "review_note", conversation_target(sender))


def _upsert_review(conn, sender: str, values: dict) -> None:
    done = conn.execute(t.reviews.update().where(t.reviews.c.conversation_id == sender).values(**values))
    if done.rowcount == 0:
        conn.execute(t.reviews.insert().values(conversation_id=sender, **{"reviewed": False, **values}))


def clean_tag(tag: str) -> str:
    tag = " ".join((tag or "").strip().lower().split())
    if not TAG_RE.match(tag):
        raise InputError("A tag has 1-50 letters, digits, spaces, - or _.")
    return tag


def add_tag(conn, sender: str, tag: str, actor: str) -> None:
    tag = clean_tag(tag)
    exists = conn.execute(sa.select(t.tags.c.id).where(
        t.tags.c.conversation_id == sender, t.tags.c.tag == tag)).first()
    if not exists:
        conn.execute(t.tags.insert().values(conversation_id=sender, tag=tag, created_by=actor, created_at=now()))
        audit(conn, actor, "tag_add", conversation_target(sender), tag)


def remove_tag(conn, sender: str, tag: str, actor: str) -> None:
    done = conn.execute(t.tags.delete().where(t.tags.c.conversation_id == sender, t.tags.c.tag == tag))
    if done.rowcount:
        audit(conn, actor, "tag_remove", conversation_target(sender), tag)


# --- corrections ------------------------------------------------------------------

def parse_example(annotated: str, intent: str, intents: Sequence[str], entities: Sequence[str]):
    """Check a corrected message; returns (plain text, entities) or raises InputError."""
    from rasa.shared.nlu.training_data.entities_parser import parse_training_example

    annotated = (annotated or "").strip()
    if not annotated:
        raise InputError("The message text is empty.")
    if len(annotated) > MAX_EXAMPLE or "\n" in annotated or "\r" in annotated:
        raise InputError(f"The message is one line of at most {MAX_EXAMPLE} characters.")
    if intents and intent not in intents:
        raise InputError("Choose an intent of the assistant's domain.")
    if not re.fullmatch(r"[A-Za-z0-9_\-/]{1,255}", intent or ""):
        raise InputError("The intent name is not valid.")
    try:
        message = parse_training_example(annotated, intent)
    except Exception as exc:  # rasa raises plain exceptions for malformed annotations
        raise InputError(f"The entity annotation cannot be read: {str(exc)[:200]}") from None
    found = []
    for ent in message.get("entities") or []:
        if entities and ent.get("entity") not in entities:
            raise InputError(f"Unknown entity {ent.get('entity')!r}: use one of the domain's entities.")
        found.append({k: ent[k] for k in ("start", "end", "value", "entity", "role", "group") if k in ent})
    text = message.get("text") or ""
    if not text.strip():
        raise InputError("The message text is empty.")
    return text, found


def correct_message(conn, sender: str, event_id: int, intent: str, annotated: str, actor: str,
                    intents: Sequence[str], entities: Sequence[str]) -> None:
    row = conn.execute(sa.select(t.events.c.id, t.events.c.intent_name, t.events.c.data).where(
        t.events.c.id == event_id, t.events.c.sender_id == sender, t.events.c.type_name == "user")).first()
    if row is None:
        raise InputError("That message is not part of this conversation.")
    text, found = parse_example(annotated, intent, intents, entities)
    original, _ = user_intent(parse_event(row.data), row.intent_name)
    values = {"intent": intent, "text": text, "entities": json.dumps(found, ensure_ascii=False),
              "author": actor, "updated_at": now(), "original_intent": original}
    done = conn.execute(t.corrections.update().where(t.corrections.c.event_id == event_id).values(**values))
    if done.rowcount == 0:
        conn.execute(t.corrections.insert().values(event_id=event_id, conversation_id=sender,
                                                   created_at=values["updated_at"], **values))
    audit(conn, actor, "correct_message", conversation_target(sender), f"{original} -> {intent}")


def list_corrections(conn) -> list:
    c = t.corrections.c
    rows = conn.execute(sa.select(t.corrections, t.conversations.c.id.label("conv_id"))
                        .select_from(t.corrections.outerjoin(
                            t.conversations, t.conversations.c.sender_id == c.conversation_id))
                        .order_by(c.updated_at.desc(), c.id.desc())).all()
    return [{"id": r.id, "conv_id": r.conv_id, "intent": r.intent, "original_intent": r.original_intent,
             "annotated": annotate(r.text, json.loads(r.entities or "[]")), "author": r.author,
             "updated": r.updated_at} for r in rows]


def delete_correction(conn, correction_id: int, actor: str) -> None:
    row = conn.execute(sa.select(t.corrections).where(t.corrections.c.id == correction_id)).first()
    if row is None:
        raise InputError("No such correction.")
    conn.execute(t.corrections.delete().where(t.corrections.c.id == correction_id))
    audit(conn, actor, "correction_delete", conversation_target(row.conversation_id), row.intent)


def training_data_yaml(conn) -> Tuple[str, int]:
    """The corrected messages as Rasa NLU training data (YAML, ``version: "3.1"``)."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples, seen = [], set()
    for row in conn.execute(sa.select(t.corrections).order_by(t.corrections.c.intent, t.corrections.c.id)):
        key = (row.intent, row.text)
        if key in seen:
            continue
        seen.add(key)
        data = {"text": row.text, "intent": row.intent}
        entities = json.loads(row.entities or "[]")
        if entities:
            data["entities"] = entities
        examples.append(Message(data=data))
    if not examples:
        return 'version: "3.1"\nnlu: []\n', 0
    return RasaYAMLWriter().dumps(TrainingData(training_examples=examples)), len(examples)


# --- exports ----------------------------------------------------------------------

EXPORT_FIELDS = ["conversation_id", "channel", "time_utc", "event", "text", "intent",
                 "confidence", "entities", "name", "value"]


def _export_events(conn, senders: List[str], reveal: bool):
    """(sender, rows of export fields) for each conversation, masked unless ``reveal``."""
    e = t.events.c
    slot_values = {} if reveal else personal_slot_values(conn, senders)
    reqs: Dict[str, list] = {}
    if not reveal:
        for req in requests_of(conn, senders):
            reqs.setdefault(req.conversation_id, []).append(req)
    rows = conn.execute(sa.select(t.events).where(
        e.sender_id.in_(senders), e.type_name.in_(["user", "bot", "action", "slot"]))
        .order_by(e.sender_id, e.id)).all()
    by_sender: Dict[str, list] = {}
    for row in rows:
        by_sender.setdefault(row.sender_id, []).append(row)
    for sender in senders:
        mask = Masker.off() if reveal else masker_for(slot_values.get(sender, {}), reqs.get(sender, []))
        out = []
        for row in by_sender.get(sender, []):
            event = parse_event(row.data)
            item = {"time_utc": iso_ts(row.timestamp), "event": row.type_name, "text": "", "intent": "",
                    "confidence": "", "entities": "", "name": "", "value": ""}
            if row.type_name == "user":
                name, conf = user_intent(event, row.intent_name)
                parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
                item.update(text=mask(event.get("text") if isinstance(event.get("text"), str) else ""),
                            intent=name or "", confidence="" if conf is None else round(conf, 4),
                            entities=[{"entity": str(x.get("entity")),
                                       "value": mask.entity(str(x.get("entity")), x.get("value"))}
                                      for x in _as_list(parse.get("entities")) if isinstance(x, dict)])
            elif row.type_name == "bot":
                item["text"] = mask(event.get("text") if isinstance(event.get("text"), str) else "")
            elif row.type_name == "action":
                item["name"] = row.action_name or ""
            else:
                name = str(event.get("name") or row.action_name or "")
                item.update(name=name, value=mask.slot(name, event.get("value")))
            out.append(item)
        yield sender, mask, out


def _review_info(conn, senders: List[str]) -> Tuple[dict, dict]:
    reviews = {r.conversation_id: r for r in conn.execute(
        sa.select(t.reviews).where(t.reviews.c.conversation_id.in_(senders)))}
    tags: Dict[str, List[str]] = {}
    for r in conn.execute(sa.select(t.tags).where(t.tags.c.conversation_id.in_(senders)).order_by(t.tags.c.tag)):
        tags.setdefault(r.conversation_id, []).append(r.tag)
    return reviews, tags


def _safe_cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False) if isinstance(
        value, (list, dict)) else str(value)
    text = printable(text)  # csv cannot write NUL; ids and names come from the database as they are
    # a cell starting like a formula would run in a spreadsheet
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(conn, senders: List[str], reveal: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    channels = dict(conn.execute(sa.select(t.conversations.c.sender_id, t.conversations.c.channel)
                                 .where(t.conversations.c.sender_id.in_(senders))).all())
    for start in range(0, len(senders), 400):
        for sender, mask, rows in _export_events(conn, senders[start:start + 400], reveal):
            for item in rows:
                writer.writerow({k: _safe_cell(v) for k, v in dict(
                    item, conversation_id=sender, channel=channels.get(sender, "")).items()})
    return buffer.getvalue()


def export_json(conn, senders: List[str], reveal: bool, low_confidence: float) -> str:
    conversations = []
    summary = {r.sender_id: r for r in conn.execute(
        sa.select(t.conversations).where(t.conversations.c.sender_id.in_(senders)))}
    for start in range(0, len(senders), 400):
        part = senders[start:start + 400]
        reviews, tags = _review_info(conn, part)
        for sender, mask, rows in _export_events(conn, part, reveal):
            s = summary.get(sender)
            review = reviews.get(sender)
            conversations.append({
                "conversation_id": sender,
                "channel": s.channel if s else "",
                "started_utc": iso_ts(s.started_at) if s else "",
                "last_utc": iso_ts(s.last_at) if s else "",
                "flags": {
                    "fallback": bool(s and s.fallback), "emergency": bool(s and s.emergency),
                    "low_confidence": bool(s and s.min_confidence is not None and s.min_confidence < low_confidence),
                },
                "review": {"reviewed": bool(review and review.reviewed),
                           "note": mask(review.note) if review and review.note else "",
                           "tags": tags.get(sender, [])},
                "events": rows,
            })
    return json.dumps({"exported_utc": now().isoformat(), "personal_data_masked": not reveal,
                       "conversations": conversations}, ensure_ascii=False, indent=1)


# --- deletion ---------------------------------------------------------------------

def delete_conversation(engine, sender: str, actor: str, ip: Optional[str]) -> int:
    """Forget a conversation the way a patient's "forget me" does (storage/forgetting.py).

    The requests go at once and the first purge pass of the events runs right away;
    the action server's loop runs the later passes (which catch rows a turn still in
    flight writes back) and then leaves the deletion record. Staff data about the
    conversation goes now. Returns the number of requests deleted.
    """
    deleted = start_forgetting(RequestStore(engine.url, engine=engine), sender, f"staff:{actor}",
                               first_pass_now=True)
    with engine.begin() as conn:
        forget_staff_data(conn, [sender])
        audit(conn, actor, "conversation_delete", conversation_target(sender),
              f"requests={deleted}, events purged", ip)
    return deleted
