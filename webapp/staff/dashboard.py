"""Dashboard figures over a date range, and their charts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Dict, List, Optional

import sqlalchemy as sa

from webapp.staff import charts, inputs
from webapp.staff import tables as t
from webapp.staff.transcript import personal_slot_values, requests_of
from storage.engine import has_table
from webapp.staff.masking import masker_for

MAX_DAYS = 366
TOP = 10


def parse_range(args, today: Optional[date] = None):
    """(first day, last day, errors) from ?from=&to=; the last 30 days by default."""
    today = today or datetime.now(timezone.utc).date()
    errors: List[str] = []

    def day(name: str) -> Optional[date]:
        return inputs.day(args.get(name), name, errors)

    last = day("to") or today
    first = day("from") or last - timedelta(days=29)
    if first > last:
        errors.append("The range starts after it ends; the dates were swapped.")
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        errors.append(f"At most {MAX_DAYS} days are shown; the range was shortened.")
        first = last - timedelta(days=MAX_DAYS - 1)
    return first, last, errors


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def figures(conn, first: date, last: date) -> Dict:
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    m, c = t.messages.c, t.conversations.c
    lo, hi = _epoch(first), _epoch(last + timedelta(days=1))
    in_days = sa.and_(m.day >= days[0], m.day <= days[-1])

    conv_per_day = {d: 0 for d in days}
    for (started,) in conn.execute(sa.select(c.started_at).where(c.started_at >= lo, c.started_at < hi)):
        key = datetime.fromtimestamp(started, tz=timezone.utc).date().isoformat()
        if key in conv_per_day:
            conv_per_day[key] += 1
    msgs, falls = {d: 0 for d in days}, {d: 0 for d in days}
    for row in conn.execute(sa.select(m.day, sa.func.count(), sa.func.sum(sa.case((m.fallback.is_(True), 1), else_=0)))
                            .where(in_days).group_by(m.day)):
        msgs[row[0]], falls[row[0]] = int(row[1]), int(row[2] or 0)
    rate = [100.0 * falls[d] / msgs[d] if msgs[d] else 0.0 for d in days]

    intents = conn.execute(sa.select(sa.func.coalesce(m.intent, "(none)"), sa.func.count().label("n"))
                           .where(in_days).group_by(m.intent).order_by(sa.desc("n"), m.intent).limit(TOP)).all()
    fallback_texts = conn.execute(
        sa.select(m.text_norm, sa.func.count().label("n")).where(in_days, m.fallback.is_(True), m.text_norm != "")
        .group_by(m.text_norm).order_by(sa.desc("n"), m.text_norm).limit(TOP)).all()
    fallback_list = _masked_texts(conn, [r.text_norm for r in fallback_texts], days)
    channels = conn.execute(sa.select(c.channel, sa.func.count().label("n")).where(c.started_at >= lo, c.started_at < hi)
                            .group_by(c.channel).order_by(sa.desc("n"), c.channel)).all()
    by_status: List = []
    if has_table(conn, "requests"):
        r = t.requests.c
        counts = dict(conn.execute(sa.select(r.status, sa.func.count()).group_by(r.status)).all())
        by_status = [(s, counts.pop(s, 0)) for s in t.REQUEST_STATUSES] + sorted(counts.items())

    f = t.feedback.c
    lo_dt, hi_dt = datetime.fromtimestamp(lo, tz=timezone.utc), datetime.fromtimestamp(hi, tz=timezone.utc)
    rated = dict(conn.execute(sa.select(f.rating, sa.func.count()).where(f.created_at >= lo_dt, f.created_at < hi_dt)
                              .group_by(f.rating)).all()) if has_table(conn, "answer_feedback") else {}
    total_msgs, total_falls = sum(msgs.values()), sum(falls.values())
    return {
        "totals": {
            "conversations": sum(conv_per_day.values()), "messages": total_msgs,
            "fallback_rate": (100.0 * total_falls / total_msgs) if total_msgs else 0.0,
            "requests_open": sum(n for s, n in by_status if s != "closed"),
            "helpful": int(rated.get(1, 0)), "not_helpful": int(rated.get(-1, 0)),
        },
        "charts": [
            charts.line_chart("Conversations and patient messages per day", days,
                              [("Conversations started", [conv_per_day[d] for d in days]),
                               ("Patient messages", [msgs[d] for d in days])], y_label="Count"),
            charts.line_chart("Fallback rate per day (share of patient messages not understood)", days,
                              [("Fallback rate", rate)], y_label="% of messages", percent=True),
            charts.bar_chart("Top intents of patient messages", [(name, n) for name, n in intents],
                             x_label="Messages"),
            charts.bar_chart("Most frequent messages that led to a fallback",
                             [(text, n) for text, n in fallback_list], x_label="Times sent"),
            charts.bar_chart("Requests by status (all time)", by_status, x_label="Requests"),
            charts.bar_chart("Conversations by channel", [(ch, n) for ch, n in channels],
                             x_label="Conversations started"),
        ],
        "fallback_messages": fallback_list,
    }


def _masked_texts(conn, texts: List[str], days: List[str]):
    """Fallback messages with personal data of the conversations they came from hidden."""
    if not texts:
        return []
    m = t.messages.c
    rows = conn.execute(sa.select(m.text_norm, m.sender_id).where(
        m.text_norm.in_(texts), m.fallback.is_(True), m.day >= days[0], m.day <= days[-1])).all()
    senders = sorted({r.sender_id for r in rows})[:2000]
    slots = personal_slot_values(conn, senders)
    merged: Dict[str, List[str]] = {}
    for values in slots.values():
        for slot, found in values.items():
            merged.setdefault(slot, []).extend(found)
    mask = masker_for(merged, requests_of(conn, senders), lowercase=True)
    counts: Dict[str, int] = {}
    for r in rows:
        counts[r.text_norm] = counts.get(r.text_norm, 0) + 1
    merged_counts: Dict[str, int] = {}
    for text in texts:
        shown = mask(text)
        merged_counts[shown] = merged_counts.get(shown, 0) + counts.get(text, 0)
    return sorted(merged_counts.items(), key=lambda kv: (-kv[1], kv[0]))
