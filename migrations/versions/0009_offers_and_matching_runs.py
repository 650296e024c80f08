"""Offers and matching runs; on PostgreSQL, an exclusion constraint against double booking.

The constraint needs the btree_gist extension (for ``volunteer_id WITH =`` in a GiST index). It
ships with PostgreSQL and is a trusted extension, so the database's owner may create it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:01:30.773473
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("ward", "bcu", "london", "request", name="run_scope", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("ward_id", sa.Integer(), nullable=True),
        sa.Column("bcu_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued", "running", "succeeded", "failed", name="run_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("stage", sa.String(length=80), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("requests_count", sa.Integer(), nullable=True),
        sa.Column("volunteers_count", sa.Integer(), nullable=True),
        sa.Column("places_needed", sa.Integer(), nullable=True),
        sa.Column("places_offered", sa.Integer(), nullable=True),
        sa.Column("coverage", sa.Integer(), nullable=True),
        sa.Column("coverage_bound", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("score_bound", sa.Float(), nullable=True),
        sa.Column("optimal", sa.Boolean(), nullable=True),
        sa.Column("solve_seconds", sa.Float(), nullable=True),
        sa.Column("total_seconds", sa.Float(), nullable=True),
        sa.Column("by_priority", sa.Text(), nullable=True),
        sa.CheckConstraint("last_day >= first_day", name=op.f("ck_match_runs_day_order")),
        sa.CheckConstraint("percent BETWEEN 0 AND 100", name=op.f("ck_match_runs_percent")),
        sa.ForeignKeyConstraint(["bcu_id"], ["bcus.id"], name=op.f("fk_match_runs_bcu_id_bcus")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name=op.f("fk_match_runs_request_id_support_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_match_runs_requested_by_id_users")),
        sa.ForeignKeyConstraint(["ward_id"], ["wards.id"], name=op.f("fk_match_runs_ward_id_wards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_runs")),
    )
    with op.batch_alter_table("match_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_runs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_runs_status"), ["status"], unique=False)

    op.create_table(
        "match_run_requests",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("places_needed", sa.Integer(), nullable=False),
        sa.Column("places_offered", sa.Integer(), nullable=False),
        sa.Column("funnel", sa.Text(), nullable=False),
        sa.Column("suggestion", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name=op.f("fk_match_run_requests_request_id_support_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["match_runs.id"], name=op.f("fk_match_run_requests_run_id_match_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "request_id", name=op.f("pk_match_run_requests")),
    )
    with op.batch_alter_table("match_run_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_run_requests_request_id"), ["request_id"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "offered",
                "accepted",
                "declined",
                "expired",
                "withdrawn",
                "cancelled",
                name="offer_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("load_minutes", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.String(length=300), nullable=False),
        sa.Column("offered_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("respond_by", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=120), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_offers_time_order")),
        sa.CheckConstraint("load_minutes >= 0", name=op.f("ck_offers_load")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name=op.f("fk_offers_request_id_support_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["match_runs.id"], name=op.f("fk_offers_run_id_match_runs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_offers_volunteer_id_volunteers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_run_id"), ["run_id"], unique=False)
        batch_op.create_index("ix_offers_status_respond_by", ["status", "respond_by"], unique=False)
        batch_op.create_index("ix_offers_volunteer_id_starts_at", ["volunteer_id", "starts_at"], unique=False)
        batch_op.create_index(
            "uq_offers_request_id_volunteer_id_active",
            ["request_id", "volunteer_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('offered', 'accepted')"),
            postgresql_where=sa.text("status IN ('offered', 'accepted')"),
        )

    if op.get_bind().dialect.name == "postgresql":
        # No volunteer in two places at once, whichever process books them: two active offers of one
        # volunteer may not overlap in time ('[)' ranges, so back-to-back slots are allowed).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE offers ADD CONSTRAINT ex_offers_volunteer_overlap EXCLUDE USING gist "
            "(volunteer_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status IN ('offered', 'accepted'))"
        )


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_offers_request_id_volunteer_id_active",
            sqlite_where=sa.text("status IN ('offered', 'accepted')"),
            postgresql_where=sa.text("status IN ('offered', 'accepted')"),
        )
        batch_op.drop_index("ix_offers_volunteer_id_starts_at")
        batch_op.drop_index("ix_offers_status_respond_by")
        batch_op.drop_index(batch_op.f("ix_offers_run_id"))
        batch_op.drop_index(batch_op.f("ix_offers_request_id"))

    op.drop_table("offers")
    with op.batch_alter_table("match_run_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_run_requests_request_id"))

    op.drop_table("match_run_requests")
    with op.batch_alter_table("match_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_runs_status"))
        batch_op.drop_index(batch_op.f("ix_match_runs_created_at"))

    op.drop_table("match_runs")
