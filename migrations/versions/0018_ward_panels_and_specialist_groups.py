"""Ward panels, specialist groups, ring-fenced wards and requests aimed at a panel (issue #23)

Three tables: the specialist groups (London-wide, each with a lead), and the memberships of ward panels and of
specialist groups (one row per volunteer and panel, its state invited → member / declined / removed, or asked →
…). A ward gains ``ring_fenced`` (false for every ward until a coordinator says otherwise), and a support request
gains who the matcher should ask: its ward panel first (every request raised before) or one specialist group
only, with a CHECK that the group is named exactly when the request is aimed at one.

On SQLite batch mode rebuilds support_requests (for the CHECK and the foreign key), with foreign keys off as in
0012, so the rebuild does not cascade into the request's skills and offers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PANEL_STATES = ("invited", "asked", "member", "declined", "removed")
SPECIALIST_KINDS = ("cyber", "mental_health", "youth", "languages", "other")
AUDIENCES = ("ward_panel_first", "specialist_group")


def _sqlite_foreign_keys(on: bool) -> None:
    """As in 0017: batch mode drops and rebuilds the table, which with foreign keys on would delete the
    child rows first (the pragma is a no-op inside a transaction, open only on an empty database)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _state_column() -> sa.Column:
    return sa.Column(
        "state",
        sa.Enum(*PANEL_STATES, name="panel_state", native_enum=False, create_constraint=True, length=8),
        nullable=False,
    )


def _membership_table(table: str, parent_column: str, parent_table: str) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(parent_column, sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        _state_column(),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f(f"fk_{table}_decided_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            [parent_column],
            [f"{parent_table}.id"],
            name=op.f(f"fk_{table}_{parent_column}_{parent_table}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f(f"fk_{table}_volunteer_id_volunteers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(parent_column, "volunteer_id", name=op.f(f"uq_{table}_{parent_column}_volunteer_id")),
    )
    with op.batch_alter_table(table) as batch:
        batch.create_index(batch.f(f"ix_{table}_volunteer_id"), ["volunteer_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "specialist_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*SPECIALIST_KINDS, name="specialist_kind", native_enum=False, create_constraint=True, length=13),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=600), nullable=False),
        sa.Column("lead_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_user_id"], ["users.id"], name=op.f("fk_specialist_groups_lead_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specialist_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_specialist_groups_name")),
    )
    with op.batch_alter_table("specialist_groups") as batch:
        batch.create_index(batch.f("ix_specialist_groups_lead_user_id"), ["lead_user_id"], unique=False)

    _membership_table("ward_panel_memberships", "ward_id", "wards")
    _membership_table("specialist_group_memberships", "group_id", "specialist_groups")

    op.add_column("wards", sa.Column("ring_fenced", sa.Boolean(), nullable=False, server_default=sa.false()))

    _sqlite_foreign_keys(False)
    with op.batch_alter_table("support_requests") as batch:
        batch.add_column(
            sa.Column(
                "audience",
                sa.Enum(*AUDIENCES, name="request_audience", native_enum=False, create_constraint=True, length=16),
                nullable=False,
                server_default="ward_panel_first",
            )
        )
        batch.add_column(sa.Column("specialist_group_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_support_requests_specialist_group_id_specialist_groups"),
            "specialist_groups",
            ["specialist_group_id"],
            ["id"],
        )
        batch.create_index(batch.f("ix_support_requests_specialist_group_id"), ["specialist_group_id"], unique=False)
        batch.create_check_constraint(
            batch.f("ck_support_requests_audience_group"),
            "(audience = 'specialist_group') = (specialist_group_id IS NOT NULL)",
        )
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("support_requests") as batch:
        batch.drop_constraint(batch.f("ck_support_requests_audience_group"), type_="check")
        batch.drop_index(batch.f("ix_support_requests_specialist_group_id"))
        batch.drop_constraint(batch.f("fk_support_requests_specialist_group_id_specialist_groups"), type_="foreignkey")
        batch.drop_column("specialist_group_id")
        batch.drop_constraint(batch.f("ck_support_requests_request_audience"), type_="check")
        batch.drop_column("audience")
    _sqlite_foreign_keys(True)

    with op.batch_alter_table("wards") as batch:
        batch.drop_column("ring_fenced")

    for table in ("specialist_group_memberships", "ward_panel_memberships"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f"ix_{table}_volunteer_id"))
        op.drop_table(table)
    with op.batch_alter_table("specialist_groups") as batch:
        batch.drop_index(batch.f("ix_specialist_groups_lead_user_id"))
    op.drop_table("specialist_groups")
