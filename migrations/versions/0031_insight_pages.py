"""Dashboard pages worked out once and served again for a few minutes to anyone asking for the same period and
area (issue #21): shared by every app server, so kept in the database.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_pages",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("built_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("page", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_insight_pages")),
    )
    op.create_index(op.f("ix_insight_pages_built_at"), "insight_pages", ["built_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_insight_pages_built_at"), table_name="insight_pages")
    op.drop_table("insight_pages")
