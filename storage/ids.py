"""Conversation ids that must agree between Rasa's channels and the web app.

The widget keeps a random secret token in the browser (32 random bytes, URL-safe
base64). The conversation id (Rasa's ``sender_id``) is derived from it, so the
token is the credential: the socket.io channel derives the id itself from the
token a browser presents, and the history endpoint does the same. Knowing a
conversation id (shown in the staff console, written to logs) is not enough to
join or read a conversation.
"""

from __future__ import annotations

import hashlib
import re

WIDGET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
WIDGET_SESSION_RE = re.compile(r"^[0-9a-f]{64}$")


def widget_session_id(token: str) -> str:
    """The conversation id of the browser holding ``token`` (which must match WIDGET_TOKEN_RE)."""
    return hashlib.sha256(b"clinic-widget-session:" + token.encode("ascii")).hexdigest()


def conversation_hash(sender_id: str) -> str:
    """What may be kept of a conversation id where the id itself may not: its sha256, hex
    (``deletion_records.conversation_hash``, ``staff_conversations.sender_hash``).
    surrogatepass: the same bytes for every id a database can hold, and no exception
    for any other str."""
    return hashlib.sha256(sender_id.encode("utf-8", "surrogatepass")).hexdigest()


def log_ref(sender_id: str) -> str:
    """A short, non-reversible reference to a conversation for log lines (never the id itself)."""
    return conversation_hash(sender_id)[:12]
