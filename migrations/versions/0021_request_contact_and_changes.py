"""Support requests: a phone number for the volunteers to call, and when the matcher's facts last changed (issue #19)

``contact_phone`` is the number the sergeant gives the volunteers offered or booked (with the sergeant's name and
email): empty for every request raised before. ``matching_changed_at`` is when the sergeant last changed something
the matcher reads (time, place, people, skills…): a run's findings older than it are from before the change, and
the request page says so. NULL for every request raised before (never changed).

Both are plain added columns: on SQLite batch mode adds them in place, without rebuilding the table.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_requests") as batch:
        batch.add_column(sa.Column("contact_phone", sa.String(length=40), server_default="", nullable=False))
        batch.add_column(sa.Column("matching_changed_at", core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("support_requests") as batch:
        batch.drop_column("matching_changed_at")
        batch.drop_column("contact_phone")
