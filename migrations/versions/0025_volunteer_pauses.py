"""Pausing volunteering (issue #20): the dates a volunteer stepped back, never matched meanwhile.

A volunteer's own pulling out of a booking needs no schema change: the offer is closed WITHDRAWN with a
``closed_reason`` that says they withdrew (matching.models.VOLUNTEER_WITHDREW).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volunteer_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("last_day IS NULL OR first_day <= last_day", name=op.f("ck_volunteer_pauses_order")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_pauses_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_pauses")),
    )
    op.create_index(op.f("ix_volunteer_pauses_volunteer_id"), "volunteer_pauses", ["volunteer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_volunteer_pauses_volunteer_id"), table_name="volunteer_pauses")
    op.drop_table("volunteer_pauses")
