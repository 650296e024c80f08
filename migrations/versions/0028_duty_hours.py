"""Special constables' own duty hours (patrol, events, training), waiting for a sergeant's or a
coordinator's approval before they count as served (issue #20).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duty_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "patrol", "event", "training", "other", name="duty_kind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("start_minute", sa.Integer(), nullable=True),
        sa.Column("end_minute", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "approved", "rejected", name="duty_state", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("minutes > 0 AND minutes <= 1440", name=op.f("ck_duty_hours_minutes")),
        sa.CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            "(start_minute >= 0 AND start_minute < 1440 AND end_minute >= 0 AND end_minute <= 1440)",
            name=op.f("ck_duty_hours_times"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_duty_hours_decided_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_duty_hours_volunteer_id_volunteers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_hours")),
    )
    with op.batch_alter_table("duty_hours", schema=None) as batch_op:
        batch_op.create_index("ix_duty_hours_state_created_at", ["state", "created_at"], unique=False)
        batch_op.create_index("ix_duty_hours_volunteer_id_on_date", ["volunteer_id", "on_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("duty_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_duty_hours_volunteer_id_on_date")
        batch_op.drop_index("ix_duty_hours_state_created_at")
    op.drop_table("duty_hours")
