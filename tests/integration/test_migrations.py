"""The schema comes only from the migrations, and they agree with the models."""

from __future__ import annotations

from sqlalchemy import func, select

from core import migrate
from core.geography.models import Bcu, Borough


def test_models_and_migrations_agree(database_url):
    migrate.check(database_url)  # raises if autogenerate would produce any operation


def test_migrations_seed_the_met_bcus_and_boroughs(db):
    assert db.scalar(select(func.count(Bcu.id))) == 12
    assert db.scalar(select(func.count(Borough.id))) == 32
    central_west = db.scalars(select(Bcu).where(Bcu.code == "CW")).one()
    assert [b.name for b in central_west.boroughs] == [
        "Hammersmith and Fulham",
        "Kensington and Chelsea",
        "Westminster",
    ]
