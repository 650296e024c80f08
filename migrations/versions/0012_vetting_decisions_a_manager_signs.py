"""Vetting decisions a vetting manager would sign (issue #17): the annual integrity review, clearances
ended as no longer needed, applicants not accepted, what prompted a triggered review (several reports,
or information from outside), and outcome emails saved with the decision.

Enumerations are VARCHAR + CHECK, so a new value means a new CHECK constraint (and, where the new
value is the longest, a wider column). On SQLite batch mode rebuilds the table with the new CHECK.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CLEARANCE_STATES = (
    "applied",
    "in_progress",
    "granted",
    "granted_with_restrictions",
    "refused",
    "discontinued",
    "renewal_due",
    "renewed",
    "lapsed",
    "suspended",
    "withdrawn",
    "appealed",
)
REVIEW_KINDS = ("new_application", "renewal", "triggered", "appeal")
VOLUNTEER_STATUSES = ("applied", "active", "paused", "left")
INFORMATION_SOURCES = ("police_systems", "professional_standards", "partner", "public", "other")

# (table, column, enum name, values before, values after)
ENUMS = (
    ("clearances", "state", "clearance_state", CLEARANCE_STATES, (*CLEARANCE_STATES, "no_longer_needed")),
    ("clearance_transitions", "from_state", "from_state", CLEARANCE_STATES, (*CLEARANCE_STATES, "no_longer_needed")),
    ("clearance_transitions", "to_state", "to_state", CLEARANCE_STATES, (*CLEARANCE_STATES, "no_longer_needed")),
    ("vetting_reviews", "kind", "review_kind", REVIEW_KINDS, (*REVIEW_KINDS, "integrity")),
    ("volunteers", "status", "volunteer_status", VOLUNTEER_STATUSES, (*VOLUNTEER_STATUSES, "not_accepted")),
)


def _enum_values(table: str, column: str, name: str, values: tuple[str, ...], before: tuple[str, ...]) -> None:
    """Replace the column's CHECK constraint with one allowing ``values``, widening it if needed."""
    check = f"ck_{table}_{name}"
    allowed = ", ".join(f"'{value}'" for value in values)
    width, was = max(len(v) for v in values), max(len(v) for v in before)
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(check), type_="check")
        if width != was:
            batch.alter_column(column, type_=sa.String(width), existing_type=sa.String(was), existing_nullable=False)
        batch.create_check_constraint(op.f(check), f"{column} IN ({allowed})")


def _sqlite_foreign_keys(on: bool) -> None:
    """On SQLite, batch mode rebuilds a table by dropping it, and dropping a table with foreign keys on
    deletes its rows first, cascading to every child row (a volunteer's clearances, reviews, reports).
    So they are off while the tables are rebuilt: first thing, as the pragma is a no-op inside a
    transaction (and one is open only when earlier migrations ran just before, on an empty database).
    The connection is closed after the migrations, so the setting goes with it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    for table, column, name, before, after in ENUMS:
        _enum_values(table, column, name, after, before)
    _sqlite_foreign_keys(True)

    op.create_table(
        "review_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("circumstance_report_id", sa.Integer(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(*INFORMATION_SOURCES, name="information_source", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(circumstance_report_id IS NULL) <> (source IS NULL)", name=op.f("ck_review_triggers_one_kind")
        ),
        sa.ForeignKeyConstraint(
            ["circumstance_report_id"],
            ["circumstance_reports.id"],
            name=op.f("fk_review_triggers_circumstance_report_id_circumstance_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_review_triggers_recorded_by_id_users")),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["vetting_reviews.id"],
            name=op.f("fk_review_triggers_review_id_vetting_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_triggers")),
    )
    with op.batch_alter_table("review_triggers") as batch:
        batch.create_index(batch.f("ix_review_triggers_review_id"), ["review_id"], unique=False)
        batch.create_index(
            batch.f("ix_review_triggers_circumstance_report_id"), ["circumstance_report_id"], unique=False
        )
    # Every triggered review so far was opened by one report: it becomes that review's first trigger.
    op.execute(
        "INSERT INTO review_triggers (review_id, circumstance_report_id, recorded_at) "
        "SELECT id, circumstance_report_id, opened_at FROM vetting_reviews WHERE circumstance_report_id IS NOT NULL"
    )

    op.create_table(
        "vetting_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_vetting_notices_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vetting_notices")),
    )
    with op.batch_alter_table("vetting_notices") as batch:
        batch.create_index(batch.f("ix_vetting_notices_volunteer_id"), ["volunteer_id"], unique=False)
        batch.create_index(batch.f("ix_vetting_notices_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("vetting_notices") as batch:
        batch.drop_index(batch.f("ix_vetting_notices_sent_at"))
        batch.drop_index(batch.f("ix_vetting_notices_volunteer_id"))
    op.drop_table("vetting_notices")
    with op.batch_alter_table("review_triggers") as batch:
        batch.drop_index(batch.f("ix_review_triggers_circumstance_report_id"))
        batch.drop_index(batch.f("ix_review_triggers_review_id"))
    op.drop_table("review_triggers")
    # Rows using the new values have no place in the old schema: they go back to their nearest old value.
    op.execute("UPDATE clearances SET state = 'withdrawn' WHERE state = 'no_longer_needed'")
    op.execute("UPDATE clearance_transitions SET to_state = 'withdrawn' WHERE to_state = 'no_longer_needed'")
    op.execute("UPDATE clearance_transitions SET from_state = 'withdrawn' WHERE from_state = 'no_longer_needed'")
    op.execute("DELETE FROM vetting_reviews WHERE kind = 'integrity'")
    op.execute("UPDATE volunteers SET status = 'left' WHERE status = 'not_accepted'")
    for table, column, name, before, after in ENUMS:
        _enum_values(table, column, name, before, after)
    _sqlite_foreign_keys(True)
