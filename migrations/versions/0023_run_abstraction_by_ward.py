"""Matching runs: abstraction per ward (panel hours given to other wards, local places left unfilled while
the panel worked elsewhere) as JSON on the run, and on each request's finding the panel members who
could have taken it but were given other wards' requests, and why (issue #23, local first).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("match_runs") as batch:
        batch.add_column(sa.Column("abstraction", sa.Text(), nullable=True))
    with op.batch_alter_table("match_run_requests") as batch:
        batch.add_column(sa.Column("panel_elsewhere", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_run_requests") as batch:
        batch.drop_column("panel_elsewhere")
    with op.batch_alter_table("match_runs") as batch:
        batch.drop_column("abstraction")
