"""Deleting a conversation and everything linked to it, as a patient's "forget me" does."""

from __future__ import annotations

from typing import Optional

from storage.forgetting import start_forgetting
from storage.requests import RequestStore
from webapp.staff.audit import audit
from webapp.staff.common import conversation_target
from webapp.staff.summary import forget_staff_data
from webapp.staff.transcript import get_conversation


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


def delete_conversation_by_id(engine, conversation_id: int, actor: str, ip: Optional[str]) -> bool:
    """Delete the conversation with this console id; False if there is none."""
    with engine.begin() as conn:
        conv = get_conversation(conn, conversation_id)
    if conv is None:
        return False
    delete_conversation(engine, conv.sender_id, actor, ip)
    return True
