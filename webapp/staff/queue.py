"""The request queue: bookings, second opinions and hand-offs the action server stored.

The console changes only ``requests.status``, ``requests.assigned_to`` (and
``updated_at`` with them) and adds ``request_notes``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Callable, List, Optional, Tuple

import sqlalchemy as sa

from storage.personal_data import PERSONAL_REQUEST_FIELDS
from storage.text import printable
from webapp.staff import tables as t
from webapp.staff.accounts import active_usernames
from webapp.staff.common import InputError
from storage.engine import has_table
from storage.time import aware, utcnow as now
from webapp.staff.audit import audit
from webapp.staff.masking import HIDDEN_TOKEN, Masker, masker_for
from webapp.staff.transcript import personal_slot_values

MAX_NOTE = 5000


def available(conn) -> bool:
    return has_table(conn, "requests")


SORTS = ("newest", "waiting")  # waiting: longest-waiting first


def list_requests(conn, status: str, kind: str, assigned: str, page: int, page_size: int,
                  sort: str = "newest", overdue_hours: Optional[float] = None) -> dict:
    r = t.requests.c
    conds = []
    if status:
        conds.append(r.status == status)
    if kind:
        conds.append(r.kind == kind)
    if assigned == "-":
        conds.append(r.assigned_to.is_(None))
    elif assigned:
        conds.append(r.assigned_to == assigned)
    total = conn.execute(sa.select(sa.func.count()).select_from(t.requests).where(*conds)).scalar_one()
    pages = max(1, -(-total // page_size))
    page = max(1, min(page, pages))
    rows = conn.execute(
        sa.select(r.id, r.reference, r.kind, r.status, r.specialist, r.channel, r.assigned_to,
                  r.created_at, r.updated_at, r.conversation_id, r.preferred_time_text, r.preferred_time,
                  t.conversations.c.id.label("conv_id"))
        .select_from(t.requests.outerjoin(t.conversations, t.conversations.c.sender_id == r.conversation_id))
        .where(*conds)
        .order_by(*((r.created_at, r.id) if sort == "waiting" else (r.created_at.desc(), r.id.desc())))
        .limit(page_size).offset((page - 1) * page_size)).all()
    counts = dict(conn.execute(sa.select(r.status, sa.func.count()).group_by(r.status)).all())
    # A request nobody has handled for longer than the patient was promised is overdue.
    overdue = set()
    if overdue_hours is not None:
        limit = now() - timedelta(hours=overdue_hours)
        overdue = {row.id for row in rows if row.status == "new" and aware(row.created_at) < limit}
    return {"items": rows, "total": total, "page": page, "pages": pages, "counts": counts, "overdue": overdue}


def get_request(conn, request_id: int, reveal: bool) -> Optional[dict]:
    r = t.requests.c
    row = conn.execute(
        sa.select(t.requests, t.conversations.c.id.label("conv_id"))
        .select_from(t.requests.outerjoin(t.conversations, t.conversations.c.sender_id == r.conversation_id))
        .where(r.id == request_id)).first()
    if row is None:
        return None
    if reveal:
        mask = Masker.off()
    else:
        slots = personal_slot_values(conn, [row.conversation_id]).get(row.conversation_id, {})
        mask = masker_for(slots, [row])
    notes = []
    if has_table(conn, "request_notes"):
        notes = conn.execute(sa.select(t.request_notes).where(t.request_notes.c.request_id == request_id)
                             .order_by(t.request_notes.c.id)).all()

    def show(field: str) -> str:
        # a declared personal field is hidden whole unless revealed; any other is masked
        value = getattr(row, field, None)
        if not value:
            return ""
        if field in PERSONAL_REQUEST_FIELDS:
            return printable(value) if reveal else HIDDEN_TOKEN
        return mask(value)

    return {
        "row": row,
        **{field: show(field) for field in ("full_name", "email", "phone", "note", "preferred_time_text")},
        "notes": [{"author": n.author, "body": mask(n.body), "at": n.created_at} for n in notes],
        "last_notify_error": row.last_notify_error or "",
    }


def update_request(conn, request_id: int, actor: str, status: Optional[str] = None,
                   assigned_to: Optional[str] = None, unassign: bool = False) -> None:
    values = {}
    if status is not None:
        if status not in t.REQUEST_STATUSES:
            raise InputError("The status is new, contacted or closed.")
        values["status"] = status
    if unassign:
        values["assigned_to"] = None
    elif assigned_to is not None:
        known = conn.execute(sa.select(t.users.c.id).where(
            t.users.c.username == assigned_to, t.users.c.active.is_(True))).first()
        if not known:
            raise InputError("Assign the request to an active staff account.")
        values["assigned_to"] = assigned_to
    if not values:
        return
    values["updated_at"] = now()
    done = conn.execute(t.requests.update().where(t.requests.c.id == request_id).values(**values))
    if done.rowcount == 0:
        raise InputError("No such request.")
    detail = ", ".join(f"{k}={v}" for k, v in values.items() if k != "updated_at")
    audit(conn, actor, "request_update", f"request:{request_id}", detail)


def add_note(conn, request_id: int, actor: str, body: str) -> None:
    body = (body or "").strip()
    if not body:
        raise InputError("The note is empty.")
    if len(body) > MAX_NOTE:
        raise InputError(f"A note has at most {MAX_NOTE} characters.")
    if not conn.execute(sa.select(t.requests.c.id).where(t.requests.c.id == request_id)).first():
        raise InputError("No such request.")
    conn.execute(t.request_notes.insert().values(request_id=request_id, author=actor, body=body,
                                                 created_at=now()))
    conn.execute(t.requests.update().where(t.requests.c.id == request_id).values(updated_at=now()))
    audit(conn, actor, "request_note", f"request:{request_id}")


# --- what the queue pages load ----------------------------------------------------

def queue_page(conn, status: str, kind: str, assigned: str, page: int, page_size: int,
               sort: str = "newest", overdue_hours: Optional[float] = None) -> Tuple[bool, dict, List[str]]:
    """(queue available, one page of requests, active staff) for the queue page."""
    if not available(conn):
        return False, {"items": [], "total": 0, "page": 1, "pages": 1, "counts": {}, "overdue": set()}, []
    return True, list_requests(conn, status, kind, assigned, page, page_size, sort, overdue_hours), \
        active_usernames(conn)


def request_page(conn, request_id: int, reveal: bool, actor: str,
                 ip: Optional[str]) -> Tuple[Optional[dict], List[str]]:
    """(the request or None, active staff) for a request's page; a reveal is audited."""
    if not available(conn):
        return None, []
    found = get_request(conn, request_id, reveal)
    if found and reveal:
        audit(conn, actor, "reveal", f"request:{request_id}", "contact details", ip)
    return found, active_usernames(conn)


def act_on_request(conn, action: Callable[..., None]) -> None:
    """Run ``action(conn)`` when there is a queue at all."""
    if not available(conn):
        raise InputError("No such request.")
    action(conn)
