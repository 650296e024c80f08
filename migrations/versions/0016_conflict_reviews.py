"""Conflict reviews for lines of work that need one (issue #17)

Their outcome and findings (organisations or wards the person has a conflict with, task types they are not
suitable for), and youth services as a line of work that needs one. The occupation category is VARCHAR +
CHECK, so the new value means a new CHECK constraint; on SQLite batch mode rebuilds the table with it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OCCUPATIONS = ("other", "private_security_cyber", "private_investigation", "nhs_ambulance")
OUTCOMES = ("no_conflict", "conflicts", "not_suitable", "conflicts_and_not_suitable")


def _occupations(values: tuple[str, ...]) -> None:
    """Replace the occupation category's CHECK constraint with one allowing ``values`` (no wider column:
    the longest value stays "private_security_cyber")."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_constraint(op.f("ck_volunteers_occupation_category"), type_="check")
        batch.create_check_constraint(op.f("ck_volunteers_occupation_category"), f"occupation_category IN ({allowed})")


def _sqlite_foreign_keys(on: bool) -> None:
    """On SQLite, batch mode rebuilds a table by dropping it, and dropping a table with foreign keys on
    deletes its rows first, cascading to every child row (a volunteer's skills, clearances, reviews). So
    they are off while the table is rebuilt (as in 0012: the pragma is a no-op inside a transaction, and
    one is open only when earlier migrations ran just before, on an empty database)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    _occupations((*OCCUPATIONS, "youth_services"))
    _sqlite_foreign_keys(True)

    op.create_table(
        "conflict_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(*OUTCOMES, name="conflict_review_outcome", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("lines_of_work", sa.String(length=200), nullable=False),
        sa.Column("employer", sa.String(length=120), nullable=False),
        sa.Column("employer_permission", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_conflict_reviews_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_conflict_reviews_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict_reviews")),
    )
    with op.batch_alter_table("conflict_reviews") as batch:
        batch.create_index(batch.f("ix_conflict_reviews_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "conflict_review_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=160), nullable=True),
        sa.Column("ward_id", sa.Integer(), nullable=True),
        sa.Column("task_type_code", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN organisation IS NULL THEN 0 ELSE 1 END) + (CASE WHEN ward_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN task_type_code IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_conflict_review_findings_one_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["conflict_reviews.id"],
            name=op.f("fk_conflict_review_findings_review_id_conflict_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["ward_id"], ["wards.id"], name=op.f("fk_conflict_review_findings_ward_id_wards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict_review_findings")),
    )
    with op.batch_alter_table("conflict_review_findings") as batch:
        batch.create_index(batch.f("ix_conflict_review_findings_review_id"), ["review_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conflict_review_findings") as batch:
        batch.drop_index(batch.f("ix_conflict_review_findings_review_id"))
    op.drop_table("conflict_review_findings")
    with op.batch_alter_table("conflict_reviews") as batch:
        batch.drop_index(batch.f("ix_conflict_reviews_volunteer_id"))
    op.drop_table("conflict_reviews")

    _sqlite_foreign_keys(False)
    # Youth services has no place in the old schema: "None of these" is its nearest old value.
    op.execute("UPDATE volunteers SET occupation_category = 'other' WHERE occupation_category = 'youth_services'")
    _occupations(OCCUPATIONS)
    _sqlite_foreign_keys(True)
