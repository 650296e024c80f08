"""Ward teams and the supervising officer of a request (issue #23)

One table: the PCSOs and ward officers of each ward's team (name, role, email, phone, an optional linked account,
and whether they are still on the team). A support request gains the team member who will supervise it (NULL for
every request raised before: unsupervised, as the matcher has always assumed).

Task types' team rule (two adults, or one volunteer with the supervising officer) is a setting in the task type
policies' JSON (vetting/policy_text.py), read with the catalogue's default when absent, so it needs no column.

On SQLite batch mode rebuilds support_requests (for the foreign key), with foreign keys off as in 0012, so the
rebuild does not cascade into the request's skills and offers.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _sqlite_foreign_keys(on: bool) -> None:
    """As in 0017: batch mode drops and rebuilds the table, which with foreign keys on would delete the
    child rows first (the pragma is a no-op inside a transaction, open only on an empty database)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade() -> None:
    op.create_table(
        "ward_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum("pcso", "ward_officer", name="team_role", native_enum=False, create_constraint=True, length=12),
            nullable=False,
        ),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ward_team_members_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_ward_team_members_ward_id_wards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ward_team_members")),
    )
    with op.batch_alter_table("ward_team_members") as batch:
        batch.create_index(batch.f("ix_ward_team_members_ward_id"), ["ward_id"], unique=False)

    _sqlite_foreign_keys(False)
    with op.batch_alter_table("support_requests") as batch:
        batch.add_column(sa.Column("supervising_officer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_support_requests_supervising_officer_id_ward_team_members"),
            "ward_team_members",
            ["supervising_officer_id"],
            ["id"],
        )
        batch.create_index(
            batch.f("ix_support_requests_supervising_officer_id"), ["supervising_officer_id"], unique=False
        )
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("support_requests") as batch:
        batch.drop_index(batch.f("ix_support_requests_supervising_officer_id"))
        batch.drop_constraint(
            batch.f("fk_support_requests_supervising_officer_id_ward_team_members"), type_="foreignkey"
        )
        batch.drop_column("supervising_officer_id")
    _sqlite_foreign_keys(True)
    with op.batch_alter_table("ward_team_members") as batch:
        batch.drop_index(batch.f("ix_ward_team_members_ward_id"))
    op.drop_table("ward_team_members")
