"""Patients' thumbs up / down on the assistant's answers (``staff_feedback``).

One row per rating: the conversation, the answer's text as the patient saw it, +1 or -1.
A patient who changes their mind adds a row; the console reads the latest per answer.

Revision ID: staff_0003
Revises: staff_0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "staff_0003"
down_revision = "staff_0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("staff_feedback")
