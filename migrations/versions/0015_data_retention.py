"""Data retention: when a volunteer left (or their application ended), and when their personal data was
erased after the retention period (issue #18; docs/data-protection.md).

People who had already left get today as the day they left: the retention period starts now for them,
never earlier than the force can have known.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("left_at", core.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("erased_at", core.db.UTCDateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_volunteers_left_at"), ["left_at"], unique=False)
    volunteers = sa.table("volunteers", sa.column("status", sa.String), sa.column("left_at", core.db.UTCDateTime()))
    op.execute(
        volunteers.update()
        .where(volunteers.c.status.in_(["left", "not_accepted"]))
        .values(left_at=dt.datetime.now(dt.UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_index(batch.f("ix_volunteers_left_at"))
        batch.drop_column("erased_at")
        batch.drop_column("left_at")
