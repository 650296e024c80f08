"""Partner organisations, partner reviewers and their word on volunteers' skills (issue #23)

Four tables: the partner organisations coordinators keep (name, unique whatever the case through
``name_key``; kind; description), the partner reviewer accounts and the one organisation each reviews for,
the organisations volunteers name (works for / works with), and the skill claims each organisation is asked
to vouch for, with its answer. A volunteer's skill gains the partner that vouched for it; a declared conflict
of interest and a support request's organisation involved can name a partner, so the conflict check matches
them by id.

The fifth role, ``partner_reviewer``, is one character longer than the longest before ("vetting_officer"):
the users.role column widens to 16 and its CHECK constraint is replaced (on PostgreSQL an ALTER; on SQLite
batch mode rebuilds users, volunteer_skills, conflict_declarations and support_requests, with foreign keys
off as in 0012 so the rebuilds do not cascade into their child rows).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ROLES = ("volunteer", "sergeant", "vetting_officer", "coordinator")
PARTNER_KINDS = ("cyber_resilience_centre", "nhs_trust", "youth_service", "university", "business", "other")
RELATIONS = ("works_for", "works_with")
CLAIM_STATES = ("pending", "vouched", "declined")


def _sqlite_foreign_keys(on: bool) -> None:
    """As in 0017: batch mode drops and rebuilds a table, which with foreign keys on would delete its child
    rows first (the pragma is a no-op inside a transaction, open only on an empty database)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _roles(values: tuple[str, ...], before: tuple[str, ...]) -> None:
    """Replace users.role's CHECK constraint with one allowing ``values``, changing the column's width."""
    allowed = ", ".join(f"'{value}'" for value in values)
    width, was = max(len(v) for v in values), max(len(v) for v in before)
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.alter_column("role", type_=sa.String(width), existing_type=sa.String(was), existing_nullable=False)
        batch.create_check_constraint(op.f("ck_users_role"), f"role IN ({allowed})")


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=max(map(len, values)))


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    _roles((*ROLES, "partner_reviewer"), ROLES)

    op.create_table(
        "partner_organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("name_key", sa.String(length=160), nullable=False),
        sa.Column("kind", _enum("partner_kind", PARTNER_KINDS), nullable=False),
        sa.Column("description", sa.String(length=600), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_organisations")),
        sa.UniqueConstraint("name_key", name=op.f("uq_partner_organisations_name_key")),
    )
    op.create_table(
        "partner_reviewers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_partner_reviewers_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner_organisations.id"],
            name=op.f("fk_partner_reviewers_partner_id_partner_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"], ["users.id"], name=op.f("fk_partner_reviewers_linked_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_partner_reviewers")),
    )
    with op.batch_alter_table("partner_reviewers") as batch:
        batch.create_index(batch.f("ix_partner_reviewers_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "volunteer_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("relation", _enum("partner_relation", RELATIONS), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_partners_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner_organisations.id"],
            name=op.f("fk_volunteer_partners_partner_id_partner_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_partners")),
        sa.UniqueConstraint("volunteer_id", "partner_id", name=op.f("uq_volunteer_partners_volunteer_id_partner_id")),
    )
    with op.batch_alter_table("volunteer_partners") as batch:
        batch.create_index(batch.f("ix_volunteer_partners_volunteer_id"), ["volunteer_id"], unique=False)
        batch.create_index(batch.f("ix_volunteer_partners_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "partner_skill_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("state", _enum("claim_state", CLAIM_STATES), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["volunteer_partners.id"],
            name=op.f("fk_partner_skill_claims_link_id_volunteer_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"],
            ["volunteer_skills.id"],
            name=op.f("fk_partner_skill_claims_skill_id_volunteer_skills"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_partner_skill_claims_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_skill_claims")),
        sa.UniqueConstraint("link_id", "skill_id", name=op.f("uq_partner_skill_claims_link_id_skill_id")),
    )
    with op.batch_alter_table("partner_skill_claims") as batch:
        batch.create_index(batch.f("ix_partner_skill_claims_link_id"), ["link_id"], unique=False)
        batch.create_index(batch.f("ix_partner_skill_claims_skill_id"), ["skill_id"], unique=False)
        batch.create_index(batch.f("ix_partner_skill_claims_state"), ["state"], unique=False)

    with op.batch_alter_table("volunteer_skills") as batch:
        batch.add_column(sa.Column("vouched_by_partner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_volunteer_skills_vouched_by_partner_id_partner_organisations"),
            "partner_organisations",
            ["vouched_by_partner_id"],
            ["id"],
        )
    for table in ("conflict_declarations", "support_requests"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                batch.f(f"fk_{table}_partner_id_partner_organisations"), "partner_organisations", ["partner_id"], ["id"]
            )
            batch.create_index(batch.f(f"ix_{table}_partner_id"), ["partner_id"], unique=False)
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    for table in ("support_requests", "conflict_declarations"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f"ix_{table}_partner_id"))
            batch.drop_constraint(batch.f(f"fk_{table}_partner_id_partner_organisations"), type_="foreignkey")
            batch.drop_column("partner_id")
    with op.batch_alter_table("volunteer_skills") as batch:
        batch.drop_constraint(
            batch.f("fk_volunteer_skills_vouched_by_partner_id_partner_organisations"), type_="foreignkey"
        )
        batch.drop_column("vouched_by_partner_id")
    op.drop_table("partner_skill_claims")
    op.drop_table("volunteer_partners")
    op.drop_table("partner_reviewers")
    op.drop_table("partner_organisations")
    # Partner reviewers' accounts cannot stay under a CHECK that no longer allows their role: they go first.
    op.execute("DELETE FROM users WHERE role = 'partner_reviewer'")
    _roles(ROLES, (*ROLES, "partner_reviewer"))
    _sqlite_foreign_keys(True)
