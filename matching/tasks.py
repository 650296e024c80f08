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
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey, crontab
from sqlalchemy import select

from core.db import among, session_factory, utcnow
from core.mail import MailError, send_mail
from matching.models import Offer, OfferStatus
from matching.notifications import delivery
from matching.notifications.events import offers_unavailable, record_reminders
from matching.offers.emails import send_offer_emails, send_withdrawn_emails
from matching.runs.services import (
    execute_run,
    expire_and_rematch,
    give_up_stale,
    rematch,
    settings_from_config,
    stale_after_from_config,
)

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
        # One task per email: a volunteer whose address fails is retried alone, and holds up nobody else.
        send_offer_emails(session, offer_ids, queue_mail, app.config["PUBLIC_URL"])


@huey.task()
def after_withdrawal(offer_ids: list[int], booked_ids: list[int], tell_volunteers: bool = True) -> None:
    """Queued once an event that ended people's eligibility has committed (``withdrawals.withdraw_for``)."""
    with _app() as app:
        follow_up_withdrawals(app, offer_ids, booked_ids, tell_volunteers=tell_volunteers)


def follow_up_withdrawals(
    app: Flask, offer_ids: list[int], booked_ids: list[int], *, tell_volunteers: bool = True
) -> None:
    """Offers withdrawn because their volunteers can no longer take them: tell the ward's sergeants (never
    why), tell the volunteers in plain words unless they saw it on screen (an accept that found them no
    longer eligible), and offer each place to someone else at once (a one-request run, as after a decline).

    Only offers still withdrawn when this runs count: one whose withdrawal was undone inside the event's
    transaction (a savepoint rolled back) is reported to nobody.
    """
    make_session = session_factory(app)
    send = partial(send_mail, app.config)
    with make_session() as session:
        withdrawn: list[int] = []
        request_ids: set[int] = set()
        for some in among(session, Offer.id, sorted(set(offer_ids))):
            for offer_id, request_id in session.execute(
                select(Offer.id, Offer.request_id).where(some, Offer.status == OfferStatus.WITHDRAWN)
            ):
                withdrawn.append(offer_id)
                request_ids.add(request_id)
        # Through the notifications, so a sergeant who chose one daily email gets it there.
        offers_unavailable(session, withdrawn, reoffered=True)
        session.commit()
        if tell_volunteers:
            send_withdrawn_emails(session, withdrawn, set(booked_ids), send)
    settings = settings_from_config(app.config)
    for request_id in sorted(request_ids):
        rematch(make_session, request_id, settings, "withdrawal", offer_sender(app))


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
            give_up_stale(session, utcnow(), stale_after_from_config(app.config))
        expire_and_rematch(make_session, settings_from_config(app.config), offer_sender(app))


@huey.periodic_task(crontab(minute="*/5"))
def refresh_dashboards() -> None:
    """Every five minutes: work out the coverage and "why unfilled" dashboards' summaries again, so their pages
    only sum them (a year of London's requests read live was too slow). Without a worker, a page refreshes
    them itself once they are half an hour old (matching.insight.summaries.ensure)."""
    from matching.insight.summaries import refresh

    with _app() as app, session_factory(app)() as session:
        refresh(session, utcnow())


# ---- Email, one message per task ----------------------------------------------------------------

mail_log = logging.getLogger("sng.mail")
MAIL_RETRIES = 6
MAIL_FIRST_RETRY_SECONDS = 60  # then doubling: the last try is about an hour after the first


@huey.task(retries=MAIL_RETRIES, retry_delay=MAIL_FIRST_RETRY_SECONDS, retry_backoff=2)
def deliver_mail(to: str, subject: str, body: str) -> None:
    """Send one email. A failure the server may get over (it was down, or said "try later") is raised,
    so the queue tries again; one it will not (an unusable or refused address) is logged and dropped."""
    with _app() as app:
        try:
            send_mail(app.config, to, subject, body)
        except MailError as exc:
            if exc.permanent:
                mail_log.warning("mail not sent, and not retried: %s", exc)
                return
            mail_log.warning("mail not sent; the queue tries again unless this was the last try: %s", exc)
            raise


def queue_mail(to: str, subject: str, body: str) -> None:
    """Hand one email to the queue. Never raises: what the person did is already saved (a cancellation,
    say), so a failure is logged and retried, and every other recipient is still written to."""
    try:
        deliver_mail(to, subject, body)
    except Exception:  # the queue's storage itself failed; nothing the person can do about it
        mail_log.exception("mail could not be queued")


@huey.periodic_task(crontab(minute="*/5"))
def send_invitations() -> None:
    """Every five minutes: email the invitations a CSV import queued (core.auth.credentials), so the
    import itself never waits on thousands of emails. Without a worker, cron runs
    `flask accounts send-invitations` instead."""
    from core.auth.credentials import Settings, send_queued_invitations

    with _app() as app, session_factory(app)() as session:
        sent, failed = send_queued_invitations(
            session,
            lambda email: send_mail(app.config, email.to, email.subject, email.body),
            Settings.from_config(app.config),
        )
        if failed:
            mail_log.warning("invitations: %s sent, then the mail server refused one; the rest wait", sent)


# ---- Notifications (matching/notifications) ------------------------------------------------------


@huey.task(retries=MAIL_RETRIES, retry_delay=MAIL_FIRST_RETRY_SECONDS, retry_backoff=2)
def deliver_notification(notification_id: int) -> None:
    """Send one notification, queued once the transaction that recorded it committed. A retry, a second
    worker or the safety net finds it claimed or sent and sends nothing (``delivery.deliver``)."""
    with _app() as app, session_factory(app)() as session:
        try:
            delivery.deliver(session, notification_id, app.config)
        except MailError as exc:
            mail_log.warning("notification not sent; the queue tries again unless this was the last try: %s", exc)
            raise


@huey.task(retries=MAIL_RETRIES, retry_delay=MAIL_FIRST_RETRY_SECONDS, retry_backoff=2)
def send_digest(user_id: int) -> None:
    """One sergeant's daily email (``delivery.send_digest``): sent once however often it is queued."""
    with _app() as app, session_factory(app)() as session:
        try:
            delivery.send_digest(session, user_id, app.config)
        except MailError as exc:
            mail_log.warning("digest not sent; the queue tries again unless this was the last try: %s", exc)
            raise


@huey.periodic_task(crontab(minute="*/5"))
def notifications_due() -> None:
    """Every five minutes: queue again immediate notifications a stopped worker left unsent; from the digest
    hour (London time, so right across the clock change), each waiting sergeant's daily email; from the
    reminder hour, tomorrow's booking reminders. Each is sent once however often this runs."""
    with _app() as app, session_factory(app)() as session:
        for notification_id in delivery.stranded(session):
            deliver_notification(notification_id)
        for user_id in delivery.digest_due(session, app.config["NOTIFICATION_DIGEST_HOUR"]):
            send_digest(user_id)
        session.rollback()  # end the read transaction before the reminders' own
        record_reminders(session, utcnow(), app.config["BOOKING_REMINDER_HOUR"])


# ---- After the deployment (matching/deployments) ---------------------------------------------------


@huey.periodic_task(crontab(minute="17"))
def chase_unconfirmed_deployments() -> None:
    """Every hour: email each raising sergeant about deployments still unconfirmed three days after they
    ended. Each deployment is chased once (``chased_at``), however often this runs."""
    from matching.deployments.services import chase_unconfirmed

    with _app() as app, session_factory(app)() as session:
        base = app.config["PUBLIC_URL"].rstrip("/")
        chase_unconfirmed(session, utcnow(), lambda offer_id: f"{base}/deployments/{offer_id}/confirm")
