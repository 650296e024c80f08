"""Coordinators' validity periods and task-type policy edits, and the reminders the sweep has sent.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 05:15:07.308020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_type_policies",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_task_type_policies_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_task_type_policies")),
    )
    op.create_table(
        "clearance_type_settings",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("validity_months", sa.Integer(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "validity_months BETWEEN 1 AND 240", name=op.f("ck_clearance_type_settings_validity_months")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_clearance_type_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_clearance_type_settings")),
    )
    op.create_table(
        "clearance_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clearance_id", sa.Integer(), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clearance_id"],
            ["clearances.id"],
            name=op.f("fk_clearance_reminders_clearance_id_clearances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearance_reminders")),
        sa.UniqueConstraint(
            "clearance_id", "threshold_days", name=op.f("uq_clearance_reminders_clearance_id_threshold_days")
        ),
    )
    with op.batch_alter_table("clearance_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clearance_reminders_clearance_id"), ["clearance_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clearance_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clearance_reminders_clearance_id"))

    op.drop_table("clearance_reminders")
    op.drop_table("clearance_type_settings")
    op.drop_table("task_type_policies")
