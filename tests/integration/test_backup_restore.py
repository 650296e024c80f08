"""Backup and restore, as docs/operations.md says to do them (issue 22), on PostgreSQL: a demo database is
dumped with `pg_dump --format=custom`, restored with `pg_restore --no-owner` into an empty database, and
the restored one is checked as the runbook says: `flask db upgrade` has nothing to do, the models match it,
`flask audit verify` passes, every table holds as many rows as the original, and new rows still get fresh
ids (the sequences came back too). Skipped when there is no PostgreSQL server or its client tools."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from core import create_app, migrate
from core.audit.services import key_from_config, record
from core.demo import DEMO_PASSWORD
from core.models import Base  # with every feature's tables
from core.timeutil import london_today
from matching.models import MatchRun, RunScope
from matching.runs.services import queue_run
from tests.helpers import CheckedClient
from tests.integration.conftest import TEST_SECRET, _admin
from tests.pg import PostgresUnavailable
from volunteers.models import Volunteer

SOURCE, RESTORED = "sng_backup_source", "sng_backup_restored"


@pytest.fixture
def server(request) -> object:
    try:
        return request.getfixturevalue("postgres_server")
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")


def _tool(server, name: str) -> str:
    """pg_dump / pg_restore of the server's own version when we started it, else the PATH's."""
    found = str(server.bindir / name) if server.bindir else shutil.which(name)
    if not found or not Path(found).exists():
        pytest.skip(f"{name} not found: install PostgreSQL's client tools")
    return found


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it (no "+psycopg")."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def databases(server, postgres_template) -> Iterator[tuple[str, str]]:
    base = make_url(server.url)
    with _admin(server.url) as conn:
        for name in (SOURCE, RESTORED):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {SOURCE} TEMPLATE {postgres_template}")
        # Empty: not even the migrations (template0 has nothing a dump could clash with).
        conn.execute(f"CREATE DATABASE {RESTORED} TEMPLATE template0")
    yield tuple(base.set(database=name).render_as_string(hide_password=False) for name in (SOURCE, RESTORED))
    with _admin(server.url) as conn:
        for name in (SOURCE, RESTORED):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _app(url: str):
    return create_app({"ENV_NAME": "testing", "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET})


def _counts(app) -> dict[str, int]:
    with app.extensions["db_sessionmaker"]() as session:
        counts = {
            table.name: session.scalar(select(func.count()).select_from(table)) for table in Base.metadata.sorted_tables
        }
        counts["alembic_version"] = session.scalar(text("SELECT count(*) FROM alembic_version"))
        return counts


def test_a_dump_restored_into_an_empty_database_is_the_same_database(server, databases, tmp_path):
    source_url, restored_url = databases
    source = _app(source_url)
    runner = source.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--scale", "300"])
    assert result.exit_code == 0, result.output
    # Something for the audit chain to prove, as vetting officers reading records write it.
    key = key_from_config(source.config)
    with source.extensions["db_sessionmaker"]() as session:
        for volunteer_id in session.scalars(select(Volunteer.id).order_by(Volunteer.id).limit(25)):
            record(
                session,
                actor_id=None,
                action="vetting_record.viewed",
                subject_type="volunteer",
                subject_id=str(volunteer_id),
                detail={"why": "backup test"},
                key=key,
            )
            session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "Audit log intact: 25 entries checked" in result.output, result.output
    before = _counts(source)
    assert before["users"] > 300 and before["offers"] > 0 and before["audit_log"] > 0
    with source.extensions["db_sessionmaker"]() as session:
        last_run_id = session.scalar(select(func.max(MatchRun.id)))
        source_head = session.scalar(text("SELECT version_num FROM alembic_version"))
    source.extensions["db_engine"].dispose()

    dump = tmp_path / "sng.dump"
    subprocess.run(
        [_tool(server, "pg_dump"), "--format=custom", f"--file={dump}", _libpq(source_url)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    restored_run = subprocess.run(
        [
            _tool(server, "pg_restore"),
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={_libpq(restored_url)}",
            str(dump),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restored_run.returncode == 0, restored_run.stderr

    restored = _app(restored_url)
    runner = restored.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])  # the runbook's next step: nothing left to do
    assert result.exit_code == 0, result.output
    migrate.check(restored_url)  # raises if the restored schema is not the models'
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "Audit log intact: 25 entries checked" in result.output, result.output
    assert _counts(restored) == before
    with restored.extensions["db_sessionmaker"]() as session:
        assert session.scalar(text("SELECT version_num FROM alembic_version")) == source_head
        # The sequences came back with the rows: a new run gets the next id, not one already taken.
        today = london_today()
        run = queue_run(session, scope=RunScope.LONDON, first_day=today, last_day=today, today=today, trigger="cli")
        assert run.id == last_run_id + 1
    # And people can still sign in: their accounts and password hashes came back too.
    restored.test_client_class = CheckedClient
    client = restored.test_client()
    response = client.post(
        "/sign-in",
        data={"email": "sergeant@demo.example", "password": DEMO_PASSWORD, "csrf_token": client.csrf_token()},
    )
    assert response.status_code == 302 and "sign-in" not in response.location
    restored.extensions["db_engine"].dispose()
