"""Live take-over: which staff member holds which conversation (``staff_holds``).

A row exists while a person holds the conversation; handing it back deletes the row
(the audit log keeps who took, replied and handed back, and when).

Revision ID: staff_0002
Revises: staff_0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "staff_0002"
down_revision = "staff_0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_holds",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("held_by", sa.String(100), nullable=False, index=True),
        sa.Column("taken_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_holds")
