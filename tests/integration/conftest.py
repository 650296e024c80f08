"""Integration fixtures: every test here runs on SQLite AND on a real PostgreSQL server.

Both databases are built by running the Alembic migrations once per run into a template; each
test then gets a fresh copy (a file copy for SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL),
so services can commit freely and tests stay independent.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import shutil
import socket
from collections.abc import Iterator

import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from core import create_app, migrate
from tests.helpers import CheckedClient
from tests.pg import start_postgres

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
_copies = itertools.count(1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


def _admin(url: str) -> psycopg.Connection:
    parts = make_url(url).set(drivername="postgresql")
    return psycopg.connect(parts.render_as_string(hide_password=False), autocommit=True)


@pytest.fixture(scope="session")
def postgres_template(postgres_server) -> str:
    base = make_url(postgres_server.url)
    with _admin(postgres_server.url) as conn:
        conn.execute("DROP DATABASE IF EXISTS sng_template")
        conn.execute("CREATE DATABASE sng_template")
    migrate.upgrade(base.set(database="sng_template").render_as_string(hide_password=False))
    return "sng_template"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"sng_test_{next(_copies)}"
    with _admin(server.url) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield make_url(server.url).set(database=name).render_as_string(hide_password=False)
    with _admin(server.url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def app(database_url):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET})
    app.test_client_class = CheckedClient
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app) -> CheckedClient:
    return app.test_client()


@pytest.fixture
def db(app):
    """A session of the test's own for arranging and checking data.

    Not inside an app context on purpose: a pushed context would be shared with the client's
    requests, and the views would then run in the test's session instead of their own.
    Call ``db.expire_all()`` before reading what a request has changed.
    """
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


# ---- A real SMTP server on a loopback port, the app's mail pointed at it -----------------------


def body(envelope) -> str:
    """The decoded text of a received message (SMTP may have quoted-printable encoded it)."""
    return email.message_from_bytes(envelope.content, policy=email.policy.default).get_body().get_content()


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(app):
    """An aiosmtpd server for the test; its Inbox collects the envelopes the app sends."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield inbox
    controller.stop()
