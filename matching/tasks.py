"""Background work with Huey: matching runs too big to wait for, and closing unanswered offers.

Storage: Huey's SQLite storage in ``instance/huey.sqlite3`` by default (``HUEY_SQLITE_PATH`` moves
it); Redis when ``HUEY_REDIS_URL`` is set, which is what several app servers and workers on
several machines must share. ``HUEY_IMMEDIATE=1`` runs tasks at once in the caller (tests).
The queue holds only run ids: a run's state lives in the database (``match_runs``), so any web
process can show its progress and a worker that dies leaves a run the page reports as failed
once it is retried (see ``execute_run``).

Run the worker with ``flask match worker`` (``make run`` starts one beside the web server).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey, crontab

from core.db import session_factory
from core.mail import send_mail
from matching.offers.emails import send_offer_emails
from matching.runs.services import execute_run, expire_and_rematch, give_up_stale, settings_from_config

ROOT = Path(__file__).resolve().parent.parent


def _make_huey():
    immediate = os.environ.get("HUEY_IMMEDIATE") == "1"
    url = os.environ.get("HUEY_REDIS_URL")
    if url:
        return RedisHuey("sng", url=url, immediate=immediate)
    path = os.environ.get("HUEY_SQLITE_PATH") or str(ROOT / "instance" / "huey.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("sng", filename=path, immediate=immediate)


huey = _make_huey()
_worker_app: Flask | None = None


@contextmanager
def _app() -> Iterator[Flask]:
    """The app to work in: the caller's (immediate mode, CLI) or the worker's own, made once per process."""
    global _worker_app
    if has_app_context():
        yield current_app._get_current_object()
        return
    if _worker_app is None:
        from core import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        yield _worker_app


def offer_sender(app: Flask):
    """What a run calls once its offers are saved: queue their emails for the worker, so a London run's
    thousands of emails never hold up the run (or a volunteer's decline) that made them."""
    return lambda session, offer_ids: email_offers(sorted(offer_ids))


@huey.task()
def email_offers(offer_ids: list[int]) -> None:
    with _app() as app, session_factory(app)() as session:
        send = partial(send_mail, app.config)
        send_offer_emails(
            session, offer_ids, lambda to, subject, body: send(to, subject, body), app.config["PUBLIC_URL"]
        )


def run_now(app: Flask, run_id: int, now: dt.datetime | None = None, keep_instance=None):
    """Execute a queued run in this process (a ward's run from the web page, the CLI, a task)."""
    return execute_run(
        session_factory(app),
        run_id,
        settings_from_config(app.config),
        offer_sender(app),
        now,
        keep_instance,
    )


@huey.task()
def run_match(run_id: int) -> None:
    with _app() as app:
        run_now(app, run_id)


@huey.periodic_task(crontab(minute="*/5"))
def expire_offers() -> None:
    """Every five minutes: close offers nobody answered in time and offer those places again; give up
    runs whose worker stopped mid-run (another worker, or this one restarted, runs this)."""
    with _app() as app:
        make_session = session_factory(app)
        with make_session() as session:
            give_up_stale(session, dt.datetime.now(dt.UTC))
        expire_and_rematch(make_session, settings_from_config(app.config), offer_sender(app))
