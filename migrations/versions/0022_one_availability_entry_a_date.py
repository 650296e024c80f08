"""One availability entry a date (issue #19)

"Not available" and "available 9am to midday" on the same date were both kept, and the matcher took the day
as off without a word. A date now holds one entry: unique (volunteer_id, on_date).

Dates that already hold several keep one. A "not available" entry wins, as the matcher already read the
day that way, so no one becomes offerable on a day they said they could not do. Otherwise the longest window
stays (the first entered, on a tie); the volunteer can add a different window back after removing it.

On SQLite batch mode rebuilds the table; nothing refers to its rows, so the rebuild loses nothing.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_NAME = "uq_availability_exceptions_volunteer_id_on_date"


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, volunteer_id, on_date, available, start_minute, end_minute FROM availability_exceptions "
            "ORDER BY volunteer_id, on_date, id"
        )
    ).all()
    keep: dict[tuple, tuple] = {}
    for row in rows:
        rank = (not row.available, (row.end_minute or 0) - (row.start_minute or 0))
        key = (row.volunteer_id, row.on_date)
        if key not in keep or rank > keep[key][0]:
            keep[key] = (rank, row.id)
    kept = {row_id for _rank, row_id in keep.values()}
    for row in rows:
        if row.id not in kept:
            bind.execute(sa.text("DELETE FROM availability_exceptions WHERE id = :id"), {"id": row.id})
    with op.batch_alter_table("availability_exceptions") as batch:
        batch.create_unique_constraint(_NAME, ["volunteer_id", "on_date"])


def downgrade() -> None:
    with op.batch_alter_table("availability_exceptions") as batch:
        batch.drop_constraint(_NAME, type_="unique")
