"""SQLAlchemy Core tables the staff console uses.

``staff`` holds the console's own tables (created by migrations/staff). The tables other
parts own are imported from their owner, storage/tables.py: Rasa's tracker table
``events`` (read; rows deleted only when a conversation is forgotten) and the action
server's request tables (the console updates ``requests.status``/``assigned_to`` and
adds ``request_notes``). The console never creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

staff = sa.MetaData()

TZ = sa.DateTime(timezone=True)

users = sa.Table(
    "staff_users", staff,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("last_login_at", TZ, nullable=True),
)

sessions = sa.Table(
    "staff_sessions", staff,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("last_seen_at", TZ, nullable=False),
    sa.Column("expires_at", TZ, nullable=False),
)

login_failures = sa.Table(
    "staff_login_failures", staff,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("at", TZ, nullable=False),
    sa.Index("ix_staff_login_failures_username_at", "username", "at"),
    sa.Index("ix_staff_login_failures_ip_at", "ip", "at"),
)

audit_log = sa.Table(
    "staff_audit_log", staff,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", TZ, nullable=False, index=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.String(255), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("ip", sa.String(64), nullable=True),
)

reviews = sa.Table(
    "staff_reviews", staff,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("reviewed", sa.Boolean, nullable=False, default=False),
    sa.Column("reviewed_by", sa.String(100), nullable=True),
    sa.Column("reviewed_at", TZ, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("note_by", sa.String(100), nullable=True),
    sa.Column("note_at", TZ, nullable=True),
)

tags = sa.Table(
    "staff_tags", staff,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("tag", sa.String(50), nullable=False, index=True),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", TZ, nullable=False),
    sa.UniqueConstraint("conversation_id", "tag", name="uq_staff_tags_conversation_tag"),
)

corrections = sa.Table(
    "staff_corrections", staff,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Integer, nullable=False, unique=True),  # events.id of the message
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("original_intent", sa.String(255), nullable=True),
    sa.Column("intent", sa.String(255), nullable=False),
    sa.Column("text", sa.Text, nullable=False),  # plain text, personal data masked
    sa.Column("entities", sa.Text, nullable=False),  # JSON list of {start, end, value, entity}
    sa.Column("author", sa.String(100), nullable=False),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("updated_at", TZ, nullable=False),
)

# One row per conversation (Rasa sender_id), derived from `events` and refreshed
# incrementally: the list page filters and sorts this instead of 200k events.
conversations = sa.Table(
    "staff_conversations", staff,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False, unique=True),
    sa.Column("sender_hash", sa.String(64), nullable=False, index=True),  # sha256, as in deletion_records
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False, index=True),
    sa.Column("last_at", sa.Float, nullable=False),
    sa.Column("n_events", sa.Integer, nullable=False),
    sa.Column("n_user", sa.Integer, nullable=False),
    sa.Column("n_bot", sa.Integer, nullable=False),
    sa.Column("min_confidence", sa.Float, nullable=True),
    sa.Column("fallback", sa.Boolean, nullable=False),
    sa.Column("emergency", sa.Boolean, nullable=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Index("ix_staff_conversations_channel_started", "channel", "started_at"),
)

# One row per patient message, derived from `events`: search and dashboard figures.
messages = sa.Table(
    "staff_messages", staff,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("day", sa.String(10), nullable=False, index=True),  # UTC date, YYYY-MM-DD
    sa.Column("intent", sa.String(255), nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("fallback", sa.Boolean, nullable=False),
    sa.Column("emergency", sa.Boolean, nullable=False),
    sa.Column("text_norm", sa.Text, nullable=False),  # lower case, spaces collapsed
)

refresh_state = sa.Table(
    "staff_refresh_state", staff,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("last_deletion_id", sa.Integer, nullable=False),
    sa.Column("updated_at", TZ, nullable=False),
)

# A person holds a conversation (live take-over) while its row exists.
holds = sa.Table(
    "staff_holds", staff,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("held_by", sa.String(100), nullable=False, index=True),
    sa.Column("taken_at", TZ, nullable=False),
)

# --- tables owned by others: their owners' definitions --------------------------
# Rasa's tracker table, the action server's request tables and patients' answer ratings,
# as storage/tables.py defines them (the console never creates them).
from storage.tables import (  # noqa: E402,F401
    KINDS as REQUEST_KINDS,
    STATUSES as REQUEST_STATUSES,
    answer_feedback as feedback,
    deletion_records,
    events,
    request_notes,
    requests,
)

# reviewer: conversations and training data, personal data masked; desk: also the contact
# details of requests (to call patients back); admin: everything, accounts and audit log.
ROLES = ("reviewer", "desk", "admin")
