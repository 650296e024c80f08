"""Volunteer profiles (skills, availability, conflicts, circumstances), clearances and vetting reviews.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 04:38:40.032275
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("special", "psv", name="volunteer_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "applied",
                "active",
                "paused",
                "left",
                name="volunteer_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("home_ward_id", sa.Integer(), nullable=True),
        sa.Column("travel_limit_km", sa.Integer(), nullable=False),
        sa.Column("weekly_hours_cap_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "adjustment",
            sa.Enum(
                "none", "desk_only", "remote_only", name="work_adjustment", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("occupation", sa.String(length=120), nullable=False),
        sa.Column(
            "occupation_category",
            sa.Enum(
                "other",
                "private_security_cyber",
                "private_investigation",
                "nhs_ambulance",
                name="occupation_category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("employer", sa.String(length=120), nullable=False),
        sa.Column("military_reservist", sa.Boolean(), nullable=False),
        sa.Column("warrant_number", sa.String(length=20), nullable=True),
        sa.Column(
            "patrol_status",
            sa.Enum(
                "accompanied", "directed", "qualified", name="patrol_status", native_enum=False, create_constraint=True
            ),
            nullable=True,
        ),
        sa.Column("monthly_commitment_minutes", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("travel_limit_km BETWEEN 0 AND 200", name=op.f("ck_volunteers_travel_limit")),
        sa.CheckConstraint("weekly_hours_cap_minutes BETWEEN 0 AND 4200", name=op.f("ck_volunteers_weekly_hours_cap")),
        sa.ForeignKeyConstraint(["home_ward_id"], ["wards.id"], name=op.f("fk_volunteers_home_ward_id_wards")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_volunteers_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_volunteers_user_id")),
    )
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volunteers_home_ward_id"), ["home_ward_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_volunteers_status"), ["status"], unique=False)

    op.create_table(
        "availability_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=True),
        sa.Column("end_minute", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR (start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute)",
            name=op.f("ck_availability_exceptions_times"),
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_availability_exceptions_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_exceptions")),
    )
    with op.batch_alter_table("availability_exceptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_availability_exceptions_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "availability_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name=op.f("ck_availability_slots_times"),
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_availability_slots_weekday")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_availability_slots_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_slots")),
    )
    with op.batch_alter_table("availability_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_availability_slots_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "blocked_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum("holiday", "mobilisation", "other", name="block_reason", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_blocked_periods_order")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_blocked_periods_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_periods")),
    )
    with op.batch_alter_table("blocked_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blocked_periods_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "circumstance_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "new_job",
                "new_address",
                "new_partner",
                "criminal_involvement",
                "financial",
                "other",
                name="circumstance_category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("reported_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_circumstance_reports_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circumstance_reports")),
    )
    with op.batch_alter_table("circumstance_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_circumstance_reports_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "clearances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("type_code", sa.String(length=20), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
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
                name="clearance_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("restricted_from", sa.String(length=400), nullable=False),
        sa.Column("renews_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["renews_id"], ["clearances.id"], name=op.f("fk_clearances_renews_id_clearances")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_clearances_volunteer_id_volunteers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearances")),
    )
    with op.batch_alter_table("clearances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clearances_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_clearances_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_clearances_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "conflict_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "employer",
                "client",
                "business",
                "school",
                "personal",
                "place",
                name="conflict_category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("organisation", sa.String(length=160), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=True),
        sa.Column("declared_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_conflict_declarations_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["ward_id"], ["wards.id"], name=op.f("fk_conflict_declarations_ward_id_wards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict_declarations")),
    )
    with op.batch_alter_table("conflict_declarations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflict_declarations_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "volunteer_skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("skill_code", sa.String(length=40), nullable=False),
        sa.Column(
            "level",
            sa.Enum("aware", "practitioner", "expert", name="skill_level", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("evidence_body", sa.String(length=40), nullable=True),
        sa.Column("registration_number", sa.String(length=40), nullable=True),
        sa.Column("evidence_expires_on", sa.Date(), nullable=True),
        sa.Column(
            "evidence_status",
            sa.Enum(
                "not_needed",
                "pending",
                "verified",
                "rejected",
                name="evidence_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("evidence_reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("evidence_reviewed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("evidence_rejection_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["evidence_reviewed_by_id"], ["users.id"], name=op.f("fk_volunteer_skills_evidence_reviewed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_skills_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_skills")),
        sa.UniqueConstraint("volunteer_id", "skill_code", name=op.f("uq_volunteer_skills_volunteer_id_skill_code")),
    )
    with op.batch_alter_table("volunteer_skills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volunteer_skills_evidence_status"), ["evidence_status"], unique=False)
        batch_op.create_index(batch_op.f("ix_volunteer_skills_skill_code"), ["skill_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_volunteer_skills_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "volunteer_task_preferences",
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("task_type_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_volunteer_task_preferences_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("volunteer_id", "task_type_code", name=op.f("pk_volunteer_task_preferences")),
    )
    op.create_table(
        "vetting_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "new_application",
                "renewal",
                "triggered",
                "appeal",
                name="review_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="review_status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("opened_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("clearance_id", sa.Integer(), nullable=True),
        sa.Column("circumstance_report_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circumstance_report_id"],
            ["circumstance_reports.id"],
            name=op.f("fk_vetting_reviews_circumstance_report_id_circumstance_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["clearance_id"], ["clearances.id"], name=op.f("fk_vetting_reviews_clearance_id_clearances")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name=op.f("fk_vetting_reviews_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vetting_reviews")),
    )
    with op.batch_alter_table("vetting_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vetting_reviews_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_vetting_reviews_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_vetting_reviews_volunteer_id"), ["volunteer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vetting_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vetting_reviews_volunteer_id"))
        batch_op.drop_index(batch_op.f("ix_vetting_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_vetting_reviews_due_on"))

    op.drop_table("vetting_reviews")
    op.drop_table("volunteer_task_preferences")
    with op.batch_alter_table("volunteer_skills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteer_skills_volunteer_id"))
        batch_op.drop_index(batch_op.f("ix_volunteer_skills_skill_code"))
        batch_op.drop_index(batch_op.f("ix_volunteer_skills_evidence_status"))

    op.drop_table("volunteer_skills")
    with op.batch_alter_table("conflict_declarations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_declarations_volunteer_id"))

    op.drop_table("conflict_declarations")
    with op.batch_alter_table("clearances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clearances_volunteer_id"))
        batch_op.drop_index(batch_op.f("ix_clearances_state"))
        batch_op.drop_index(batch_op.f("ix_clearances_expires_on"))

    op.drop_table("clearances")
    with op.batch_alter_table("circumstance_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_circumstance_reports_volunteer_id"))

    op.drop_table("circumstance_reports")
    with op.batch_alter_table("blocked_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blocked_periods_volunteer_id"))

    op.drop_table("blocked_periods")
    with op.batch_alter_table("availability_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_slots_volunteer_id"))

    op.drop_table("availability_slots")
    with op.batch_alter_table("availability_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_exceptions_volunteer_id"))

    op.drop_table("availability_exceptions")
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volunteers_status"))
        batch_op.drop_index(batch_op.f("ix_volunteers_home_ward_id"))

    op.drop_table("volunteers")
