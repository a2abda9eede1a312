"""The tables the action server and the console share, and the words for their values.

Created and changed only by the Alembic migrations in migrations/requests/ (version
table ``alembic_version_requests``), in the database of ``DATABASE_URL``:

- ``requests``: appointment, second-opinion and hand-off requests for staff;
  ``idempotency_key`` is unique, so a double submit or a retried webhook call finds
  the row it already made instead of adding one.
- ``request_notes``: notes the staff console adds to a request.
- ``deletion_records``: one row per "forget me": sha256 of the conversation id and
  counts, no content.
- ``event_purges``: "forget me" deletions still in progress (storage/forgetting.py);
  a row lives a few seconds, then becomes a ``deletion_records`` row.
- ``answer_feedback``: patients' thumbs up (+1) / down (-1) on an answer, from the
  widget (web app) and Telegram and Slack reactions (Rasa's channels); the console shows,
  filters and counts them (storage/feedback.py).

``events`` is Rasa's tracker table, owned by Rasa's SQLTrackerStore: the console reads
it, and only "forget me" deletes from it.
"""

from __future__ import annotations

import sqlalchemy as sa

from storage.time import UTCDateTime

KINDS = ("appointment", "second_opinion", "handoff")
STATUSES = ("new", "contacted", "closed")
# How patients and staff read a kind ("your appointment request", "New request to talk to a person").
KIND_LABELS = {
    "appointment": "appointment request",
    "second_opinion": "request for a second opinion",
    "handoff": "request to talk to a person",
}

metadata = sa.MetaData()

requests = sa.Table(
    "requests", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reference", sa.String(20), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="new"),
    sa.Column("specialist", sa.String(100), nullable=True),
    sa.Column("full_name", sa.String(200), nullable=True),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("preferred_time_text", sa.String(200), nullable=True),
    sa.Column("preferred_time", UTCDateTime, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("assigned_to", sa.String(100), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("notified_at", UTCDateTime, nullable=True),
    sa.Column("notify_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_notify_error", sa.Text, nullable=True),
    sa.Index("ix_requests_status_created_at", "status", "created_at"),  # the queue: new ones, oldest first
)

request_notes = sa.Table(
    "request_notes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("author", sa.String(100), nullable=True),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=True),
)

deletion_records = sa.Table(
    "deletion_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_hash", sa.String(64), nullable=False, index=True),
    sa.Column("requested_via", sa.String(40), nullable=False),
    sa.Column("deleted_requests", sa.Integer, nullable=True),
    sa.Column("deleted_events", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

event_purges = sa.Table(
    "event_purges", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("requested_via", sa.String(40), nullable=False),
    sa.Column("deleted_requests", sa.Integer, nullable=False),
    sa.Column("deleted_events", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cutoff", sa.Float, nullable=False),  # events up to this Unix time go
    sa.Column("passes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", UTCDateTime, nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

answer_feedback = sa.Table(
    "answer_feedback", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("rating", sa.SmallInteger, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),  # the answer's text as the patient saw it
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
)

rasa = sa.MetaData()
events = sa.Table(
    "events", rasa,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)
