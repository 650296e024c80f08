"""The dashboards' summary tables (issue #21): coverage by ward, day and priority; unfilled requests and their
skills; when each summary was last worked out. Derived data, replaced whole every five minutes, so no foreign
keys (matching/insight/models.py says why).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coverage_days",
        sa.Column("ward_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("unfilled", sa.Integer(), nullable=False),
        sa.Column("still_open", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ward_id", "day", "priority", name=op.f("pk_coverage_days")),
    )
    op.create_index("ix_coverage_days_day_ward_id", "coverage_days", ["day", "ward_id"], unique=False)
    op.create_table(
        "unfilled_places",
        sa.Column("request_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("borough_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("task_type_code", sa.String(length=40), nullable=False),
        sa.Column("stop_rule", sa.String(length=20), nullable=False),
        sa.Column("time_band", sa.String(length=20), nullable=False),
        sa.Column("skills", sa.String(length=400), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_unfilled_places")),
    )
    op.create_index("ix_unfilled_places_day_ward_id", "unfilled_places", ["day", "ward_id"], unique=False)
    op.create_table(
        "unfilled_skills",
        sa.Column("request_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("skill", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "skill", name=op.f("pk_unfilled_skills")),
    )
    op.create_table(
        "insight_refreshes",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("refreshed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("covers_from", sa.Date(), nullable=False),
        sa.Column("covers_to", sa.Date(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_insight_refreshes")),
    )


def downgrade() -> None:
    op.drop_table("insight_refreshes")
    op.drop_table("unfilled_skills")
    op.drop_index("ix_unfilled_places_day_ward_id", table_name="unfilled_places")
    op.drop_table("unfilled_places")
    op.drop_index("ix_coverage_days_day_ward_id", table_name="coverage_days")
    op.drop_table("coverage_days")
