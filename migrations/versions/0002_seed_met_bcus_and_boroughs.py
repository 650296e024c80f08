"""Seed the Met's 12 BCUs and 32 boroughs (data only).

The data is written out here rather than imported from core.geography.data, so this migration
means the same thing forever even if that module changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BCUS = [
    (
        "CW",
        "Central West",
        [
            ("Westminster", 51.4975, -0.1357),
            ("Kensington and Chelsea", 51.5020, -0.1947),
            ("Hammersmith and Fulham", 51.4927, -0.2339),
        ],
    ),
    ("CN", "Central North", [("Camden", 51.5290, -0.1255), ("Islington", 51.5465, -0.1058)]),
    ("AS", "Central South", [("Lambeth", 51.4571, -0.1231), ("Southwark", 51.4734, -0.0755)]),
    ("CE", "Central East", [("Hackney", 51.5450, -0.0553), ("Tower Hamlets", 51.5099, -0.0059)]),
    ("NE", "North East", [("Newham", 51.5077, 0.0469), ("Waltham Forest", 51.5908, -0.0134)]),
    (
        "EA",
        "East",
        [("Barking and Dagenham", 51.5607, 0.1557), ("Havering", 51.5779, 0.2121), ("Redbridge", 51.5590, 0.0741)],
    ),
    ("NA", "North", [("Enfield", 51.6538, -0.0799), ("Haringey", 51.5906, -0.1110)]),
    ("NW", "North West", [("Barnet", 51.6252, -0.1517), ("Brent", 51.5673, -0.2711), ("Harrow", 51.5898, -0.3346)]),
    ("WA", "West", [("Ealing", 51.5130, -0.3089), ("Hillingdon", 51.5441, -0.4760), ("Hounslow", 51.4746, -0.3680)]),
    (
        "SW",
        "South West",
        [
            ("Kingston upon Thames", 51.3925, -0.2833),
            ("Merton", 51.4014, -0.1958),
            ("Richmond upon Thames", 51.4479, -0.3260),
            ("Wandsworth", 51.4571, -0.1818),
        ],
    ),
    ("SN", "South", [("Bromley", 51.4039, 0.0198), ("Croydon", 51.3714, -0.0977), ("Sutton", 51.3618, -0.1945)]),
    ("SE", "South East", [("Bexley", 51.4549, 0.1505), ("Greenwich", 51.4892, 0.0648), ("Lewisham", 51.4415, -0.0117)]),
]

bcus = sa.table("bcus", sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("name", sa.String))
boroughs = sa.table(
    "boroughs",
    sa.column("name", sa.String),
    sa.column("bcu_id", sa.Integer),
    sa.column("latitude", sa.Float),
    sa.column("longitude", sa.Float),
)


def upgrade() -> None:
    connection = op.get_bind()
    for code, name, members in BCUS:
        connection.execute(bcus.insert().values(code=code, name=name))
        bcu_id = connection.execute(sa.select(bcus.c.id).where(bcus.c.code == code)).scalar_one()
        connection.execute(
            boroughs.insert(),
            [{"name": borough, "bcu_id": bcu_id, "latitude": lat, "longitude": lon} for borough, lat, lon in members],
        )


def downgrade() -> None:
    op.execute("DELETE FROM boroughs")
    op.execute("DELETE FROM bcus")
