"""core.db.among: ``column IN ids`` in as few statements as each database takes."""

from __future__ import annotations

from sqlalchemy import select

from core.db import SQLITE_IDS_PER_STATEMENT, among
from core.geography.models import Bcu


def test_among_finds_exactly_the_listed_rows_however_many_ids(db):
    db.add_all(Bcu(code=f"T{k:03}", name=f"Test unit {k}") for k in range(300))
    db.commit()
    rows = db.scalars(select(Bcu.id).order_by(Bcu.id)).all()
    wanted = rows[::3]
    ids = wanted + list(range(10**6, 10**6 + 2 * SQLITE_IDS_PER_STATEMENT))  # and many that match nothing
    conditions = list(among(db, Bcu.id, ids))
    found = [row for condition in conditions for row in db.scalars(select(Bcu.id).where(condition))]
    assert sorted(found) == wanted
    expected_statements = 1 if db.get_bind().dialect.name == "postgresql" else -(-len(ids) // SQLITE_IDS_PER_STATEMENT)
    assert len(conditions) == expected_statements
    assert list(among(db, Bcu.id, [])) == []


def test_two_of_them_in_one_statement_keep_their_own_ids(db):
    db.add_all(Bcu(code=f"U{k:03}", name=f"Other unit {k}") for k in range(10))
    db.commit()
    rows = db.scalars(select(Bcu.id).order_by(Bcu.id)).all()
    (evens,) = among(db, Bcu.id, rows[::2])
    (first_half,) = among(db, Bcu.id, rows[:5])
    assert db.scalars(select(Bcu.id).where(evens, first_half).order_by(Bcu.id)).all() == rows[:5:2]
