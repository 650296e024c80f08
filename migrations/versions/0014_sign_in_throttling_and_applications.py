"""Sign-in throttling counters, confirmed applications, the client address in the security log (issue #18)

The hard lock goes (users.failed_sign_ins, users.locked_until): a growing delay counted per key in
throttle_counters replaces it. Applications wait in pending_applications until their email address is
confirmed. security_events gains the client's address.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_failure_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counters")),
    )
    op.create_index(op.f("ix_throttle_counters_last_failure_at"), "throttle_counters", ["last_failure_at"])

    op.create_table(
        "pending_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("special", "psv", name="volunteer_kind", native_enum=False, create_constraint=True, length=7),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_applications")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_applications_token_hash")),
    )
    op.create_index(op.f("ix_pending_applications_email"), "pending_applications", ["email"])
    op.create_index(op.f("ix_pending_applications_expires_at"), "pending_applications", ["expires_at"])

    # Plain ALTER TABLE on both backends (SQLite has dropped columns in place since 3.35). Batch mode
    # would rebuild users on SQLite, and dropping the old table with foreign keys on would cascade
    # into every table that refers to an account.
    op.add_column("security_events", sa.Column("address", sa.String(length=45), nullable=True))
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_sign_ins")


def downgrade() -> None:
    op.add_column("users", sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("users", sa.Column("locked_until", core.db.UTCDateTime(timezone=True), nullable=True))
    op.drop_column("security_events", "address")
    op.drop_index(op.f("ix_pending_applications_expires_at"), table_name="pending_applications")
    op.drop_index(op.f("ix_pending_applications_email"), table_name="pending_applications")
    op.drop_table("pending_applications")
    op.drop_index(op.f("ix_throttle_counters_last_failure_at"), table_name="throttle_counters")
    op.drop_table("throttle_counters")
