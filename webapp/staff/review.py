"""Review marks of a conversation: reviewed or not, the note, the tags."""

from __future__ import annotations

import re
from typing import List

import sqlalchemy as sa

from storage.time import utcnow as now
from webapp.staff import tables as t
from webapp.staff.audit import audit
from webapp.staff.common import InputError, conversation_target

TAG_RE = re.compile(r"^[\w][\w \-]{0,49}$", re.UNICODE)
MAX_NOTE = 5000


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


def known_tags(conn) -> List[str]:
    """Every tag in use, for the tag choices."""
    return [r[0] for r in conn.execute(sa.select(t.tags.c.tag).distinct().order_by(t.tags.c.tag))]
