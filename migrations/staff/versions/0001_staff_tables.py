"""Staff console tables: accounts, sessions, login throttling, audit log, review
marks, tags, corrected labels, and the conversation/message summaries derived
from Rasa's events.

Revision ID: staff_0001
Revises:
Create Date: 2024-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "staff_0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_login_at", TZ, nullable=True),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_staff_login_failures_username_at", "staff_login_failures", ["username", "at"])
    op.create_index("ix_staff_login_failures_ip_at", "staff_login_failures", ["ip", "at"])
    op.create_table(
        "staff_audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
    )
    op.create_table(
        "staff_reviews",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("reviewed", sa.Boolean, nullable=False),
        sa.Column("reviewed_by", sa.String(100), nullable=True),
        sa.Column("reviewed_at", TZ, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("note_by", sa.String(100), nullable=True),
        sa.Column("note_at", TZ, nullable=True),
    )
    op.create_table(
        "staff_tags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("tag", sa.String(50), nullable=False, index=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("conversation_id", "tag", name="uq_staff_tags_conversation_tag"),
    )
    op.create_table(
        "staff_corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Integer, nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("original_intent", sa.String(255), nullable=True),
        sa.Column("intent", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("entities", sa.Text, nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "staff_conversations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(255), nullable=False, unique=True),
        sa.Column("sender_hash", sa.String(64), nullable=False, index=True),
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
    )
    op.create_index("ix_staff_conversations_channel_started", "staff_conversations",
                    ["channel", "started_at"])
    op.create_table(
        "staff_messages",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("day", sa.String(10), nullable=False, index=True),
        sa.Column("intent", sa.String(255), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("emergency", sa.Boolean, nullable=False),
        sa.Column("text_norm", sa.Text, nullable=False),
    )
    op.create_table(
        "staff_refresh_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("last_deletion_id", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in ("staff_refresh_state", "staff_messages", "staff_conversations",
                  "staff_corrections", "staff_tags", "staff_reviews", "staff_audit_log",
                  "staff_login_failures", "staff_sessions", "staff_users"):
        op.drop_table(table)
