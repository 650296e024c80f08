"""Notification delivery (issue #20): a sender's claim on each notification (so two workers never send it
twice, and a dead worker's is sent again after a lease), why one was given up, and one reminder per booking.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failure", sa.String(length=200), nullable=True))
        batch_op.create_index(
            "uq_notifications_one_reminder",
            ["offer_id"],
            unique=True,
            sqlite_where=sa.text("kind = 'reminder'"),
            postgresql_where=sa.text("kind = 'reminder'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("uq_notifications_one_reminder")
        batch_op.drop_column("failure")
        batch_op.drop_column("claimed_at")
