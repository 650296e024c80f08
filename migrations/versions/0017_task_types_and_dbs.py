"""Task types added by coordinators; DBS certificate and Update Service details (issue #17)

Task types a coordinator adds are rows of the existing task_type_policies table (their JSON carries the name,
the activity phrase and the description; vetting/policy_text.py), so they need no new table. A clearance's
restrictions become TEXT, as the task types they may name are no longer a fixed few. A DBS clearance gains its
certificate number and issue date, and its Update Service subscription ID with the date of the last status
check (vetting/dbs.py); all NULL on other clearances and on records made before.

On SQLite batch mode rebuilds the clearances table (for the column type), with foreign keys off as in 0012.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db  # noqa: F401

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _sqlite_foreign_keys(on: bool) -> None:
    """On SQLite, batch mode rebuilds a table by dropping it, and dropping a table with foreign keys on deletes
    its rows first, cascading to every child row (a clearance's transitions, reminders, pending decisions). So
    they are off while the table is rebuilt (the pragma is a no-op inside a transaction, and one is open only
    when earlier migrations ran just before, on an empty database)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("clearances") as batch:
        batch.alter_column("restricted_from", type_=sa.Text(), existing_type=sa.String(400), existing_nullable=False)
        batch.add_column(sa.Column("dbs_certificate_number", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("dbs_issued_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("dbs_update_service_id", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("dbs_status_checked_on", sa.Date(), nullable=True))
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    # Task types coordinators added stay as rows nothing reads; requests raised for them keep their codes.
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("clearances") as batch:
        batch.drop_column("dbs_status_checked_on")
        batch.drop_column("dbs_update_service_id")
        batch.drop_column("dbs_issued_on")
        batch.drop_column("dbs_certificate_number")
        batch.alter_column("restricted_from", type_=sa.String(400), existing_type=sa.Text(), existing_nullable=False)
    _sqlite_foreign_keys(True)
