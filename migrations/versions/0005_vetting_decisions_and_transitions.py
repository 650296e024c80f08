"""Vetting decisions: clearance transition history, pending two-officer decisions, who closed a review.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:56:25.587305
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearance_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clearance_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_state",
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
                name="from_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_state",
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
                name="to_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_clearance_transitions_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["clearance_id"],
            ["clearances.id"],
            name=op.f("fk_clearance_transitions_clearance_id_clearances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_clearance_transitions_proposed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearance_transitions")),
    )
    with op.batch_alter_table("clearance_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clearance_transitions_clearance_id"), ["clearance_id"], unique=False)

    op.create_table(
        "pending_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("clearance_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clearance_id"],
            ["clearances.id"],
            name=op.f("fk_pending_decisions_clearance_id_clearances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_pending_decisions_proposed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["vetting_reviews.id"],
            name=op.f("fk_pending_decisions_review_id_vetting_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_decisions")),
        sa.UniqueConstraint("review_id", name=op.f("uq_pending_decisions_review_id")),
    )
    with op.batch_alter_table("vetting_reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_vetting_reviews_closed_by_id_users"), "users", ["closed_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("vetting_reviews", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_vetting_reviews_closed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("outcome")
        batch_op.drop_column("closed_by_id")

    op.drop_table("pending_decisions")
    with op.batch_alter_table("clearance_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clearance_transitions_clearance_id"))

    op.drop_table("clearance_transitions")
