"""Sergeants' support requests and the extra skills or languages each one needs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 05:29:59.923494
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("remote", sa.Boolean(), nullable=False),
        sa.Column("task_type_code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("window_start", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("people_needed", sa.Integer(), nullable=False),
        sa.Column("all_or_nothing", sa.Boolean(), nullable=False),
        sa.Column(
            "priority",
            sa.Enum(
                "routine", "priority", "urgent", name="request_priority", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("warranted_only", sa.Boolean(), nullable=False),
        sa.Column("organisation", sa.String(length=160), nullable=False),
        sa.Column("preferred_volunteer_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "matched",
                "part_filled",
                "filled",
                "cancelled",
                "completed",
                name="request_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f("ck_support_requests_cancelled_when")
        ),
        sa.CheckConstraint("duration_minutes BETWEEN 15 AND 1440", name=op.f("ck_support_requests_duration")),
        sa.CheckConstraint("people_needed BETWEEN 1 AND 10", name=op.f("ck_support_requests_people_needed")),
        sa.CheckConstraint("window_end > window_start", name=op.f("ck_support_requests_window_order")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_support_requests_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["preferred_volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_support_requests_preferred_volunteer_id_volunteers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["ward_id"], ["wards.id"], name=op.f("fk_support_requests_ward_id_wards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_requests")),
    )
    with op.batch_alter_table("support_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_requests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_requests_task_type_code"), ["task_type_code"], unique=False)
        batch_op.create_index("ix_support_requests_ward_id_window_start", ["ward_id", "window_start"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_requests_window_start"), ["window_start"], unique=False)

    op.create_table(
        "support_request_skills",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("skill_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name=op.f("fk_support_request_skills_request_id_support_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "skill_code", name=op.f("pk_support_request_skills")),
    )


def downgrade() -> None:
    op.drop_table("support_request_skills")
    with op.batch_alter_table("support_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_requests_window_start"))
        batch_op.drop_index("ix_support_requests_ward_id_window_start")
        batch_op.drop_index(batch_op.f("ix_support_requests_task_type_code"))
        batch_op.drop_index(batch_op.f("ix_support_requests_status"))

    op.drop_table("support_requests")
