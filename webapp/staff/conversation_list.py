"""The conversation list: its filters, one page of it, and the conversations a filter matches."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlencode

import sqlalchemy as sa

from storage.engine import has_table
from webapp.staff import inputs
from webapp.staff import tables as t
from storage.text import printable
from webapp.staff.common import fmt_ts
from webapp.staff.masking import masker_for
from webapp.staff.review import known_tags
from webapp.staff.summary import parse_event
from webapp.staff.transcript import personal_slot_values, requests_of

TRI_STATE = ("", "yes", "no")
MAX_QUERY = 200
PREVIEW = 120  # characters of the first patient message on a row
SNIPPET = 50  # characters either side of a search match


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
    feedback: str = ""  # "negative": a patient rated an answer not helpful
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
            "tag": f.tag, "feedback": f.feedback, "q": f.q, "page": str(f.page) if f.page > 1 else "",
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
    feedback = get("feedback")
    if feedback not in ("", "negative"):
        errors.append("Filter feedback must be negative; it was ignored.")
        feedback = ""
    date_from = inputs.day(get("from"), "From", errors)
    date_to = inputs.day(get("to"), "To", errors)
    return ListFilters(date_from=date_from, date_to=date_to, channel=get("channel", 64),
                       tag=get("tag", 50).lower(), q=get("q", MAX_QUERY), page=page, feedback=feedback,
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
    if f.feedback == "negative":
        if has_table(conn, "answer_feedback"):
            conds.append(c.sender_id.in_(sa.select(t.feedback.c.conversation_id).where(t.feedback.c.rating < 0)))
        else:
            conds.append(sa.false())
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
    shown = previews(conn, senders, f.q)
    items = [{
        **shown.get(r.sender_id, {"first": "", "snippet": ""}),
        "id": r.id, "sender_id": r.sender_id, "channel": r.channel,
        "started": fmt_ts(r.started_at), "last": fmt_ts(r.last_at),
        "n_user": r.n_user, "n_bot": r.n_bot,
        "fallback": r.fallback, "emergency": r.emergency,
        "low_confidence": r.min_confidence is not None and r.min_confidence < low_confidence,
        "request": r.sender_id in with_request, "reviewed": bool(r.reviewed),
        "tags": tags_by.get(r.sender_id, []),
    } for r in rows]
    return {"items": items, "total": total, "page": page, "pages": pages}


def previews(conn, senders: List[str], q: str) -> Dict[str, Dict[str, str]]:
    """Each conversation's first patient message and, when searching, the message that
    matched, with personal data masked as on the transcript."""
    if not senders:
        return {}
    m = t.messages.c
    first_ids = dict(conn.execute(sa.select(m.sender_id, sa.func.min(m.event_id))
                                  .where(m.sender_id.in_(senders)).group_by(m.sender_id)).all())
    needle = " ".join(q.lower().split())
    match_ids: Dict[str, int] = {}
    if needle:
        match_ids = dict(conn.execute(
            sa.select(m.sender_id, sa.func.min(m.event_id))
            .where(m.sender_id.in_(senders), m.text_norm.like(_like_pattern(needle), escape="\\"))
            .group_by(m.sender_id)).all())
    wanted = set(first_ids.values()) | set(match_ids.values())
    texts: Dict[int, str] = {}
    if wanted:
        for row in conn.execute(sa.select(t.events.c.id, t.events.c.data).where(t.events.c.id.in_(wanted))):
            text = parse_event(row.data).get("text")
            texts[row.id] = text if isinstance(text, str) else ""
    slots = personal_slot_values(conn, senders)
    requests_by: Dict[str, list] = {}
    for req in requests_of(conn, senders):
        requests_by.setdefault(req.conversation_id, []).append(req)
    out = {}
    for sender in senders:
        mask = masker_for(slots.get(sender, {}), requests_by.get(sender, []))
        first = " ".join(mask(texts.get(first_ids.get(sender, -1), "")).split())
        snippet = ""
        if sender in match_ids:
            shown = " ".join(mask(texts.get(match_ids[sender], "")).split())
            at = max(0, shown.lower().find(needle))
            start, end = max(0, at - SNIPPET), at + len(needle) + SNIPPET
            snippet = ("…" if start else "") + shown[start:end] + ("…" if end < len(shown) else "")
        out[sender] = {"first": printable(first, PREVIEW) + ("…" if len(first) > PREVIEW else ""),
                       "snippet": printable(snippet, 3 * SNIPPET + MAX_QUERY)}
    return out


def filter_choices(conn) -> dict:
    channels = [r[0] for r in conn.execute(
        sa.select(t.conversations.c.channel).distinct().order_by(t.conversations.c.channel))]
    return {"channels": channels, "tags": known_tags(conn)}


def matching_senders(conn, f: ListFilters, low_confidence: float, limit: int) -> Tuple[int, List[str]]:
    joined, conds = _base(conn, f, low_confidence)
    c = t.conversations.c
    total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*conds)).scalar_one()
    senders = [r[0] for r in conn.execute(
        sa.select(c.sender_id).select_from(joined).where(*conds)
        .order_by(c.started_at.desc(), c.id.desc()).limit(limit))]
    return total, senders


def list_page(conn, f: ListFilters, low_confidence: float, page_size: int) -> Tuple[dict, dict]:
    """One page of the list and the choices of its filters."""
    return list_conversations(conn, f, low_confidence, page_size), filter_choices(conn)
