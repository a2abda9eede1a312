"""Exports of conversations as CSV or JSON, masked unless personal data is revealed."""

from __future__ import annotations

import csv
import io
import json
from typing import Dict, List, Optional, Tuple

import sqlalchemy as sa

from storage.text import printable
from storage.time import utcnow as now
from webapp.staff import tables as t
from webapp.staff.audit import audit
from webapp.staff.common import as_list, iso_ts
from webapp.staff.conversation_list import ListFilters, matching_senders
from webapp.staff.masking import Masker, masker_for
from webapp.staff.summary import parse_event, user_intent
from webapp.staff.transcript import personal_slot_values, requests_of

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
                                      for x in as_list(parse.get("entities")) if isinstance(x, dict)])
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


def export_conversations(conn, f: ListFilters, fmt: str, reveal: bool, low_confidence: float, limit: int,
                         actor: str, ip: Optional[str]) -> Tuple[int, Optional[str]]:
    """(matching conversations, file body) for an export of the list; the body is None when
    more than ``limit`` match. The export (and a reveal) is audited."""
    total, senders = matching_senders(conn, f, low_confidence, limit)
    if total > limit:
        return total, None
    body = (export_csv(conn, senders, reveal) if fmt == "csv"
            else export_json(conn, senders, reveal, low_confidence))
    audit(conn, actor, "export_conversations", None,
          json.dumps({"format": fmt, "conversations": total, "personal_data": reveal,
                      "filters": f.params(page=1)}, ensure_ascii=False)[:2000], ip)
    if reveal:
        audit(conn, actor, "reveal", None, f"export of {total} conversations", ip)
    return total, body
