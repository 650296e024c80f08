"""Index users by (full_name, id) for the coordinators' volunteer directory, which lists volunteers by name.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 05:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_full_name_id", ["full_name", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_full_name_id")
