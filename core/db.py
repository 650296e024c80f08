"""Database plumbing: the declarative base, a UTC timestamp type and the request-scoped session.

We use plain SQLAlchemy 2.x (typed ``Mapped`` models, ``select()``) rather than Flask-SQLAlchemy:
the one thing it would give us is session scoping, which is the few lines below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import ColumnElement, DateTime, Integer, MetaData, any_, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from core import clock

# Deterministic constraint names, so Alembic migrations name (and can later drop) them the same
# way on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite caps the parameters of one statement (32,766 in the versions we run; some builds 999).
SQLITE_IDS_PER_STATEMENT = 900


def among(session: Session, column: Any, ids: Sequence[int]) -> Iterator[ColumnElement[bool]]:
    """``column IN ids`` as few conditions as the database takes, for one statement each: on PostgreSQL
    one, with the ids as a single array parameter however many there are; on SQLite one per few hundred.
    Why: a London run reads and updates 20,000 requests, and binding them as 5,000-parameter IN lists
    cost about a second."""
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam("among_ids", list(ids), type_=ARRAY(Integer), unique=True))
        return
    for chunk in range(0, len(ids), SQLITE_IDS_PER_STATEMENT):
        yield column.in_(ids[chunk : chunk + SQLITE_IDS_PER_STATEMENT])


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so we store naive UTC there and
    attach UTC on the way out. Naive datetimes are refused on the way in: a naive value is a bug
    (was it London time or UTC?) that would otherwise be silent for half the year.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; use an aware datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """Now, in UTC, on the app's clock (core/clock.py: the system clock, unless a test has moved it)."""
    return clock.utcnow()


def make_engine(url: str, pooled: bool = True) -> Engine:
    """Create the engine for ``url`` with the settings each backend needs.

    ``pooled=False`` for one-off jobs (migrations) that should not hold connections open.
    """
    pool_args: dict = {} if pooled else {"poolclass": NullPool}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool_args)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL lets the web server read while a CLI job (sweep, demo load) writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if pooled:
        pool_args = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}
    return create_engine(url, **pool_args)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            # Anything not committed by a service is rolled back here, never half-saved.
            session.close()


def get_session() -> Session:
    """The session for the current app context (one per request, CLI command or job)."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


def session_factory(app: Flask | None = None) -> sessionmaker[Session]:
    """Makes sessions of their own, outside the request's: background work, and saves that must not
    share the request's transaction (a matching run, a re-match)."""
    return (app or current_app).extensions["db_sessionmaker"]


def get_engine(app: Flask | None = None) -> Engine:
    """The app's engine, for work below the ORM (the audit chain's lock, raw SQL in tests)."""
    return (app or current_app).extensions["db_engine"]
