"""Request tables: requests, request_notes, deletion_records, event_purges.

Revision ID: requests_0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = "requests_0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="new"),
        sa.Column("specialist", sa.String(100), nullable=True),
        sa.Column("full_name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("preferred_time_text", sa.String(200), nullable=True),
        sa.Column("preferred_time", TZ, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("assigned_to", sa.String(100), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("notified_at", TZ, nullable=True),
        sa.Column("notify_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_notify_error", sa.Text, nullable=True),
        sa.UniqueConstraint("reference", name="uq_requests_reference"),
        sa.UniqueConstraint("idempotency_key", name="uq_requests_idempotency_key"),
        sa.CheckConstraint("kind IN ('appointment', 'second_opinion', 'handoff')",
                           name="ck_requests_kind"),
        sa.CheckConstraint("status IN ('new', 'contacted', 'closed')", name="ck_requests_status"),
    )
    op.create_index("ix_requests_conversation_id", "requests", ["conversation_id"])
    op.create_index("ix_requests_status_created_at", "requests", ["status", "created_at"])

    op.create_table(
        "request_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer,
                  sa.ForeignKey("requests.id", ondelete="CASCADE", name="fk_request_notes_request"),
                  nullable=False),
        sa.Column("author", sa.String(100), nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=True),
    )
    op.create_index("ix_request_notes_request_id", "request_notes", ["request_id"])

    op.create_table(
        "deletion_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_hash", sa.String(64), nullable=False),
        sa.Column("requested_via", sa.String(40), nullable=False),
        sa.Column("deleted_requests", sa.Integer, nullable=True),
        sa.Column("deleted_events", sa.Integer, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_deletion_records_conversation_hash", "deletion_records",
                    ["conversation_hash"])

    op.create_table(
        "event_purges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("requested_via", sa.String(40), nullable=False),
        sa.Column("deleted_requests", sa.Integer, nullable=False),
        sa.Column("deleted_events", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cutoff", sa.Float, nullable=False),
        sa.Column("passes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_event_purges_due_at", "event_purges", ["due_at"])


def downgrade() -> None:
    op.drop_table("event_purges")
    op.drop_table("deletion_records")
    op.drop_table("request_notes")
    op.drop_table("requests")
