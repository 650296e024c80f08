"""Matching runs: when a running run last showed progress, so a run whose worker died can be given up.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("match_runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_runs") as batch:
        batch.drop_column("heartbeat_at")
