"""A background worker killed with SIGKILL in the middle of a London run (issue 22): while it solves, and
while it saves. Nothing of the run is left behind (no offer, no finding, no request or offer whose status
changed, nothing in any other table); the five-minute check marks the run failed once its heartbeat has
been silent for RUN_STALE_AFTER_SECONDS (and not before); its page says it stopped and that nothing was
saved, and offers "Run again", which a fresh worker then completes.

Real processes on both databases: `flask match worker` (or the same worker paused inside the save, see
paused_worker.py) on a queue file of its own, over a copy of the demo data with a city's week of requests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from core import create_app
from core.demo import DEMO_DOMAIN, DEMO_PASSWORD
from core.models import Base  # with every feature's tables
from core.timeutil import london_today
from matching.models import MatchRun, Offer, RunScope, RunStatus, SupportRequest
from matching.runs.services import STOPPED_MESSAGE
from tests.helpers import CheckedClient, date_fields
from tests.integration.conftest import TEST_SECRET, _admin

ROOT = Path(__file__).resolve().parents[2]
COORDINATOR = f"coordinator@{DEMO_DOMAIN}"
STALE_SECONDS = 6  # RUN_STALE_AFTER_SECONDS for these tests (15 minutes in service)
FIRST = london_today() + dt.timedelta(days=1)
LAST = FIRST + dt.timedelta(days=6)
WEEK_OF_REQUESTS = 600
_copies = itertools.count(1)


# ---- One demo database per backend, copied for each test ---------------------------------------


def _load_demo(url: str) -> None:
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET})
    runner = app.test_cli_runner()
    for args in (
        ["demo", "load", "--scale", "2000"],
        ["match", "demo-week", "--requests", str(WEEK_OF_REQUESTS), "--from", FIRST.isoformat()],
        ["match", "expire-offers"],  # anything already due is closed before the tests look
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="module")
def demo_sqlite(sqlite_template, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copyfile(sqlite_template, path)
    _load_demo(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="module")
def demo_postgresql(postgres_server, postgres_template) -> Iterator[str]:
    with _admin(postgres_server.url) as conn:
        conn.execute("DROP DATABASE IF EXISTS sng_demo_killed")
        conn.execute(f"CREATE DATABASE sng_demo_killed TEMPLATE {postgres_template}")
    _load_demo(make_url(postgres_server.url).set(database="sng_demo_killed").render_as_string(hide_password=False))
    yield "sng_demo_killed"
    with _admin(postgres_server.url) as conn:
        conn.execute("DROP DATABASE IF EXISTS sng_demo_killed WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """Overrides conftest's: a fresh copy of the demo database, not an empty one."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("demo_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("demo_postgresql")
    name = f"sng_killed_{next(_copies)}"
    with _admin(server.url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield make_url(server.url).set(database=name).render_as_string(hide_password=False)
    with _admin(server.url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ---- The worker, its queue, and what the database holds -----------------------------------------


@pytest.fixture
def queue(tmp_path, monkeypatch) -> Path:
    """The worker's queue file. This process's Huey (immediate in the tests) queues into it instead, so
    the coordinator's page hands the run to the real worker as in service."""
    from matching.tasks import huey

    path = tmp_path / "queue.sqlite3"
    monkeypatch.setattr(huey, "_immediate", False)
    monkeypatch.setattr(huey, "storage", huey.storage_class(huey.name, filename=str(path)))
    return path


class Worker:
    def __init__(self, app, queue: Path, module: list[str], **extra: str):
        env = {
            **os.environ,
            "FLASK_APP": "wsgi:app",
            "FLASK_ENV": "testing",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "HUEY_SQLITE_PATH": str(queue),
            "MATCH_TIME_LIMIT_SECONDS": "4",  # a few seconds of solving to be killed in
            **extra,
        }
        env.pop("HUEY_IMMEDIATE", None)
        # A session of its own: the solver's forked helpers, orphaned by the kill, are cleaned up with it.
        self.process = subprocess.Popen(
            [sys.executable, *module],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill_9(self) -> None:
        """What the kernel's OOM killer or `kill -9 PID` does: the worker process, with no warning."""
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL
        self.clean_up()

    def clean_up(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group ended already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def workers(app, queue) -> Iterator[callable]:
    started: list[Worker] = []

    def start(module=("-m", "flask", "match", "worker"), **extra) -> Worker:
        worker = Worker(app, queue, list(module), **extra)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.clean_up()


def _holdings(db) -> dict:
    """Every table's row count (but match_runs, where the run itself lives), and every request's and
    offer's status: what a half-saved run would change."""
    db.expire_all()
    counts = {
        table.name: db.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
        if table.name != MatchRun.__tablename__
    }
    return {
        "counts": counts,
        "requests": dict(db.execute(select(SupportRequest.id, SupportRequest.status)).all()),
        "offers": dict(db.execute(select(Offer.id, Offer.status)).all()),
    }


def _wait_for(db, run_id: int, until, seconds: float, what: str) -> MatchRun:
    deadline = time.monotonic() + seconds
    while True:
        db.expire_all()
        run = db.get(MatchRun, run_id)
        if until(run):
            return run
        assert time.monotonic() < deadline, f"{what}: still {run.status.value}, {run.stage!r}"
        time.sleep(0.05)


def _start_london_run(client: CheckedClient, db) -> MatchRun:
    """The coordinator starts a London run from the page; it goes to the worker's queue."""
    token = client.csrf_token("/matching/runs")
    response = client.post(
        "/matching/runs",
        data={
            "csrf_token": token,
            "scope": "london",
            **date_fields("first_day", FIRST),
            **date_fields("last_day", LAST),
        },
    )
    assert response.status_code == 302, response.text
    run = db.scalars(select(MatchRun).order_by(MatchRun.id.desc())).first()
    assert (run.scope, run.status) == (RunScope.LONDON, RunStatus.QUEUED)
    return run


def _given_up_by_its_heartbeat(app, db, run_id: int) -> MatchRun:
    """`flask match expire-offers` (the five-minute check) leaves the run alone while its heartbeat is
    recent, and marks it failed once it has been silent for RUN_STALE_AFTER_SECONDS."""
    app.config["RUN_STALE_AFTER_SECONDS"] = STALE_SECONDS
    runner = app.test_cli_runner()
    result = runner.invoke(args=["match", "expire-offers"])
    assert result.exit_code == 0 and "had stopped" not in result.output, result.output
    db.expire_all()
    run = db.get(MatchRun, run_id)
    assert run.status is RunStatus.RUNNING, "given up before its heartbeat went silent"
    silent_since = run.heartbeat_at
    time.sleep(max(0.0, (silent_since + dt.timedelta(seconds=STALE_SECONDS) - dt.datetime.now(dt.UTC)).total_seconds()))
    time.sleep(0.5)
    result = runner.invoke(args=["match", "expire-offers"])
    assert result.exit_code == 0 and "1 matching run(s) had stopped without finishing" in result.output, result.output
    db.expire_all()
    run = db.get(MatchRun, run_id)
    assert (run.status, run.error) == (RunStatus.FAILED, STOPPED_MESSAGE)
    # Within the stated time: the stale time after its last sign of life (plus the check's own period,
    # which here is the test calling it at once).
    assert (
        dt.timedelta(seconds=STALE_SECONDS) <= run.finished_at - silent_since < dt.timedelta(seconds=STALE_SECONDS + 5)
    )
    return run


def _the_page_says_it_stopped(client: CheckedClient, run_id: int) -> str:
    response = client.get(f"/matching/runs/{run_id}")
    text = " ".join(response.soup.get_text().split())
    assert "The run stopped before it finished" in text
    assert "The worker stopped before this run finished. Nothing from it was saved" in text
    assert "no offers were sent and no request changed" in text
    button = response.soup.select_one(f"form[action='/matching/runs/{run_id}/again'] button")
    assert button is not None and button.get_text(strip=True) == "Run again"
    return text


def _signed_in_coordinator(app) -> CheckedClient:
    client = app.test_client()
    client.sign_in(COORDINATOR, DEMO_PASSWORD)
    return client


# ---- The tests ----------------------------------------------------------------------------------


def test_killed_while_solving_nothing_is_saved_and_the_run_can_be_run_again(app, db, workers):
    client = _signed_in_coordinator(app)
    before = _holdings(db)
    run = _start_london_run(client, db)
    worker = workers()
    run = _wait_for(
        db,
        run.id,
        lambda r: r.stage.startswith("Finding the best plan") or r.is_finished,
        45,
        "never reached the solve",
    )
    assert not run.is_finished, f"the run finished before the solve could be interrupted: {run.status.value}"
    time.sleep(0.3)  # well inside the solve (its time limit is 4 s a week)
    worker.kill_9()

    db.expire_all()
    run = db.get(MatchRun, run.id)
    assert run.status is RunStatus.RUNNING and run.stage.startswith("Finding the best plan")
    assert _holdings(db) == before
    assert db.scalar(select(func.count(Offer.id)).where(Offer.run_id == run.id)) == 0

    run = _given_up_by_its_heartbeat(app, db, run.id)
    _the_page_says_it_stopped(client, run.id)
    assert _holdings(db) == before

    # Run again: a new run of all London over the same days, to a fresh worker, which completes it.
    response = client.post(
        f"/matching/runs/{run.id}/again", data={"csrf_token": client.csrf_token(f"/matching/runs/{run.id}")}
    )
    assert response.status_code == 302
    again = db.scalars(select(MatchRun).order_by(MatchRun.id.desc())).first()
    assert response.location == f"/matching/runs/{again.id}"
    assert (again.id, again.scope, again.first_day, again.last_day) == (run.id + 1, RunScope.LONDON, FIRST, LAST)
    assert again.status is RunStatus.QUEUED
    workers(MATCH_TIME_LIMIT_SECONDS="1")
    again = _wait_for(db, again.id, lambda r: r.is_finished, 50, "the fresh worker did not finish the run")
    assert again.status is RunStatus.SUCCEEDED, again.error
    assert again.places_offered > 0
    assert db.scalar(select(func.count(Offer.id)).where(Offer.run_id == again.id)) == again.places_offered
    # The failed run is still failed, with nothing of its own.
    assert db.get(MatchRun, run.id).status is RunStatus.FAILED
    assert db.scalar(select(func.count(Offer.id)).where(Offer.run_id == run.id)) == 0


def test_killed_while_saving_nothing_is_saved(app, db, workers, tmp_path):
    client = _signed_in_coordinator(app)
    before = _holdings(db)
    run = _start_london_run(client, db)
    paused = tmp_path / "paused-in-save.json"
    worker = workers(("-m", "tests.integration.paused_worker"), PAUSED_IN_SAVE_FILE=str(paused))
    deadline = time.monotonic() + 50
    while not paused.exists():
        assert worker.process.poll() is None, "the worker ended before it reached the save"
        assert time.monotonic() < deadline, "the worker never reached the save"
        time.sleep(0.05)
    time.sleep(0.1)  # the file is written; let the write finish
    # Inside the save's one transaction: its offers and findings written, not committed.
    held = json.loads(paused.read_text(encoding="utf-8"))
    assert held["offers"] > before["counts"]["offers"]
    assert held["findings"] > before["counts"]["match_run_requests"]
    worker.kill_9()

    assert _holdings(db) == before
    db.expire_all()
    run = db.get(MatchRun, run.id)
    assert run.status is RunStatus.RUNNING and run.stage == "Saving the offers"
    if db.get_bind().dialect.name == "postgresql":
        # The server ended the killed connection's transaction: nobody holds the save lock now.
        assert db.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")) == 0
    db.rollback()

    run = _given_up_by_its_heartbeat(app, db, run.id)
    _the_page_says_it_stopped(client, run.id)
    assert _holdings(db) == before


def test_run_again_only_for_a_failed_run_with_days_to_come(app, db):
    """The Run again button and what it refuses (a ward's run is done at once, in the request)."""
    client = _signed_in_coordinator(app)
    ward_id = db.scalar(select(SupportRequest.ward_id).where(SupportRequest.window_start > dt.datetime.now(dt.UTC)))
    today = london_today()

    def run(**values) -> MatchRun:
        values = {
            "scope": RunScope.WARD,
            "ward_id": ward_id,
            "first_day": today,
            "last_day": LAST,
            "trigger": "web",
            "status": RunStatus.FAILED,
            "error": STOPPED_MESSAGE,
        } | values
        made = MatchRun(**values)
        db.add(made)
        db.commit()
        return made

    def again(run_id: int, token: str | None = None):
        token = token if token is not None else client.csrf_token(f"/matching/runs/{run_id}")
        return client.post(f"/matching/runs/{run_id}/again", data={"csrf_token": token}, follow_redirects=True)

    passed = run(first_day=today - dt.timedelta(days=3), last_day=today - dt.timedelta(days=1))
    page = client.get(f"/matching/runs/{passed.id}")
    assert "The run stopped before it finished" in page.text and "Run again" not in page.text
    response = again(passed.id)
    assert "The days of this run have passed: start a new run for the days to come" in response.text

    one_request = run(scope=RunScope.REQUEST, ward_id=None, request_id=None, trigger="decline")
    assert "Run again" not in client.get(f"/matching/runs/{one_request.id}").text
    succeeded = run(status=RunStatus.SUCCEEDED, error=None)
    assert "Only a run that failed can be run again" in again(succeeded.id).text
    failed = run(error="The run stopped with an error (OperationalError)")
    page = client.get(f"/matching/runs/{failed.id}")
    assert "The run failed" in page.text and "The run stopped with an error" in page.text
    assert client.post(f"/matching/runs/{failed.id}/again", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/matching/runs/99999999/again", data={"csrf_token": client.csrf_token("/")}).status_code == 404
    count = db.scalar(select(func.count(MatchRun.id)))

    response = again(failed.id)
    db.expire_all()
    assert db.scalar(select(func.count(MatchRun.id))) == count + 1
    new = db.scalars(select(MatchRun).order_by(MatchRun.id.desc())).first()
    assert (new.scope, new.ward_id, new.first_day, new.last_day, new.trigger) == (
        RunScope.WARD,
        ward_id,
        today,
        LAST,
        "again",
    )
    assert new.status is RunStatus.SUCCEEDED and f"Run {new.id}" in response.text
    assert db.get(MatchRun, failed.id).status is RunStatus.FAILED
