"""Patients' thumbs up / down on the assistant's answers (``answer_feedback``).

One row per rating: the conversation, the answer's text as the patient saw it, +1 or -1,
and the channel (the widget, Telegram or Slack). A patient who changes their mind adds a
row; the console reads the latest per answer. Here rather than in the console's tree
because Rasa's channels write it too (Telegram and Slack reactions).

Revision ID: requests_0002
Revises: requests_0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "requests_0002"
down_revision = "requests_0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("answer_feedback")
