"""After the deployment (issue #20): what happened at each booking (attendance, hours served, the
sergeant's feedback, the volunteer's debrief and welfare answers), and the notifications sergeants and
volunteers are sent at once or in a daily digest, with each sergeant's choice between the two.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:56:33.251400
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("daily_digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "awaiting",
                "logged",
                "attended",
                "did_not_attend",
                name="deployment_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("served_minutes", sa.Integer(), nullable=True),
        sa.Column("no_notice", sa.Boolean(), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("logged_minutes", sa.Integer(), nullable=True),
        sa.Column("logged_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("chased_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("would_ask_again", sa.Boolean(), nullable=True),
        sa.Column("coordinator_note", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("feedback_by_id", sa.Integer(), nullable=True),
        sa.Column("feedback_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("debrief_note", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("welfare_affected", sa.Boolean(), nullable=True),
        sa.Column("welfare_contact_wanted", sa.Boolean(), nullable=True),
        sa.Column("debriefed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("welfare_alerted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("welfare_contacted_by_id", sa.Integer(), nullable=True),
        sa.Column("welfare_contacted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ranking_cleared_by_id", sa.Integer(), nullable=True),
        sa.Column("ranking_cleared_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "logged_minutes IS NULL OR (logged_minutes >= 0 AND logged_minutes <= 1440)",
            name=op.f("ck_deployments_logged"),
        ),
        sa.CheckConstraint(
            "served_minutes IS NULL OR (served_minutes >= 0 AND served_minutes <= 1440)",
            name=op.f("ck_deployments_served"),
        ),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["users.id"], name=op.f("fk_deployments_confirmed_by_id_users")),
        sa.ForeignKeyConstraint(["feedback_by_id"], ["users.id"], name=op.f("fk_deployments_feedback_by_id_users")),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_deployments_offer_id_offers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ranking_cleared_by_id"], ["users.id"], name=op.f("fk_deployments_ranking_cleared_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name=op.f("fk_deployments_request_id_support_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_deployments_volunteer_id_volunteers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["welfare_contacted_by_id"], ["users.id"], name=op.f("fk_deployments_welfare_contacted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_deployments_offer_id")),
    )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deployments_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deployments_volunteer_id"), ["volunteer_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "offer_accepted",
                "offer_declined",
                "offer_withdrawn",
                "not_filled",
                "booking_confirmed",
                "reminder",
                "deployment_chase",
                "welfare_alert",
                "volunteer_left",
                name="notification_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("immediate", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_notifications_offer_id_offers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name=op.f("fk_notifications_request_id_support_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_request_id"), ["request_id"], unique=False)
        batch_op.create_index("ix_notifications_user_id_sent_at", ["user_id", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_id_sent_at")
        batch_op.drop_index(batch_op.f("ix_notifications_request_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_offer_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_created_at"))

    op.drop_table("notifications")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployments_volunteer_id"))
        batch_op.drop_index(batch_op.f("ix_deployments_request_id"))

    op.drop_table("deployments")
    op.drop_table("notification_preferences")
