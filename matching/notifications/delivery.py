"""Sending notifications: each immediate one once its transaction commits, the daily digests, and a safety
net for any a worker lost.

**After the commit.** ``record`` leaves the new immediate notifications' ids in the session's ``info``.
``install`` listens on the app's sessionmaker: when a session's transaction commits, the ids go to the mail
task (``matching.tasks.deliver_notification``, one per notification, carrying only its id); when it ends any
other way (rolled back, closed) the ids are dropped, so nobody is told of something that did not happen.

**Exactly once.** A sender first *claims* the notification by a conditional update (unsent, not given up,
unclaimed or claimed longer ago than ``LEASE``) and commits the claim before talking to the SMTP server:
a retried task, a second worker or the safety net finds it claimed or sent and does nothing. A failure the
server may get over releases the claim and raises (the task is retried); a refusal for good records
``failure`` and is never tried again. A worker that dies mid-send leaves a claim that expires after
``LEASE``: the safety net then sends it (at worst a second copy of that one email, never a lost one).

**The safety net** (``stranded``, every few minutes): immediate notifications unsent ``STRANDED_AFTER``
after they were recorded, e.g. a worker stopped between the commit and queueing the task.

**The digest** (``digest_due``, ``send_digest``): a sergeant who chose one email a day gets, from
``NOTIFICATION_DIGEST_HOUR`` London time, one email gathering everything recorded for them before that hour
today and not yet sent, grouped by request. Run as often as you like: once sent, nothing is left to send.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from itertools import groupby

from flask import Flask, has_app_context
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session, SessionTransaction, joinedload, sessionmaker

from core.db import utcnow
from core.mail import Attachment, MailError, send_mail
from core.timeutil import london_to_utc, london_today
from matching.calendar.ics import calendar_bytes
from matching.calendar.services import booking_event
from matching.models import Offer, SupportRequest
from matching.notifications.models import Notification, NotificationKind
from matching.notifications.services import DIGESTIBLE, PENDING_KEY

log = logging.getLogger("sng.mail")

LEASE = dt.timedelta(minutes=10)  # far longer than one SMTP conversation (its timeout is 30 s)
STRANDED_AFTER = dt.timedelta(minutes=5)
# The safety net gives up on what is older than this (a server refusing "try later" for two days is an
# outage for people to fix, not something to retry for ever); the log says what was not sent.
STRANDED_UNTIL = dt.timedelta(days=2)

# ---- After the commit -----------------------------------------------------------------------------


def install(app: Flask, queue: Callable[[int], object]) -> None:
    """Hand the ids ``record`` gathered to ``queue`` (one call per notification) when a session of this app
    commits; drop them when its transaction ends otherwise. Called once, by ``create_app``."""
    factory: sessionmaker = app.extensions["db_sessionmaker"]

    def after_commit(session: Session) -> None:
        ids = session.info.pop(PENDING_KEY, [])
        if not ids:
            return
        # The queue runs the task at once in tests (HUEY_IMMEDIATE): it needs this app, not one of its own.
        context = app.app_context() if not has_app_context() else None
        if context is not None:
            context.push()
        try:
            for notification_id in ids:
                try:
                    queue(notification_id)
                except Exception:  # the event is saved: the safety net sends it later
                    log.exception("notification %s could not be queued", notification_id)
        finally:
            if context is not None:
                context.pop()

    def after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        # after_commit has already taken what a commit was owed; a savepoint ending is not the transaction's end.
        if transaction.parent is None:
            session.info.pop(PENDING_KEY, None)

    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_transaction_end", after_transaction_end)


# ---- Sending one ----------------------------------------------------------------------------------


def _claimable(now: dt.datetime):
    return (
        Notification.sent_at.is_(None),
        Notification.failure.is_(None),
        or_(Notification.claimed_at.is_(None), Notification.claimed_at < now - LEASE),
    )


def deliver(session: Session, notification_id: int, config: Mapping, now: dt.datetime | None = None) -> bool:
    """Send one immediate notification unless it is sent, given up or being sent; True if this call sent it.

    Raises MailError when the server may get over it (the claim released, so a retry sends it)."""
    now = now or utcnow()
    claimed = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.immediate.is_(True), *_claimable(now))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if claimed != 1:
        return False
    notification = session.scalar(
        select(Notification).where(Notification.id == notification_id).options(joinedload(Notification.user))
    )
    user = notification.user
    if user.is_disabled:
        return _give_up(session, [notification_id], now, "the account is closed")
    attachments = _attachments(session, notification, config)
    try:
        send_mail(
            config, user.email, notification.subject, notification.body + footer(notification, config), attachments
        )
    except MailError as exc:
        if exc.permanent:
            log.warning("notification %s not sent, and not retried: %s", notification_id, exc)
            return _give_up(session, [notification_id], now, str(exc))
        _release(session, [notification_id], now)
        raise
    _mark_sent(session, [notification_id], now)
    return True


def _release(session: Session, ids: list[int], claim: dt.datetime) -> None:
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.claimed_at == claim, Notification.sent_at.is_(None))
        .values(claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _mark_sent(session: Session, ids: list[int], claim: dt.datetime) -> None:
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.claimed_at == claim)
        .values(sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _give_up(session: Session, ids: list[int], claim: dt.datetime, why: str) -> bool:
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.claimed_at == claim)
        .values(failure=why[:200])
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return False


def footer(notification: Notification, config: Mapping) -> str:
    """The links under a notification and the service's name: where to see it, and (for what a sergeant may
    get in a digest) where to choose how they hear."""
    base = str(config.get("PUBLIC_URL", "")).rstrip("/")
    lines = []
    if notification.kind in DIGESTIBLE:
        if notification.request_id:
            lines.append(f"See the request: {base}/requests/{notification.request_id}")
        lines.append(f"Choose between these emails as things happen and one a day: {base}/account/notifications")
    elif notification.offer_id and notification.kind in (NotificationKind.BOOKING_CONFIRMED, NotificationKind.REMINDER):
        lines.append(f"See your booking: {base}/offers/{notification.offer_id}")
    return "\n" + "".join(line + "\n" for line in lines) + f"\n{config['SERVICE_NAME']}\n"


def _attachments(session: Session, notification: Notification, config: Mapping) -> list[Attachment]:
    """A booking confirmation carries the booking as a calendar file (the same UID as the volunteer's feed,
    so a calendar that has both keeps one)."""
    if notification.kind is not NotificationKind.BOOKING_CONFIRMED or notification.offer_id is None:
        return []
    offer = session.scalar(
        select(Offer)
        .where(Offer.id == notification.offer_id)
        .options(joinedload(Offer.request).joinedload(SupportRequest.ward))
    )
    if offer is None:
        return []
    return [("booking.ics", "text/calendar", booking_ics(session, offer, config))]


def booking_ics(session: Session, offer: Offer, config: Mapping) -> bytes:
    """The volunteer's booking as a one-event calendar file (Europe/London), to attach to an email: the event
    their calendar feed shows too (``matching.calendar.services.booking_event``)."""
    return calendar_bytes(
        [booking_event(session, offer, public_url=config["PUBLIC_URL"])],
        name=config["SERVICE_NAME"],
        method="PUBLISH",
        service=config["SERVICE_NAME"],
        stamped_at=utcnow(),
    )


# ---- The safety net -------------------------------------------------------------------------------


def stranded(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Immediate notifications recorded over ``STRANDED_AFTER`` ago and still unsent and unclaimed (or whose
    sender's claim ran out): what a stopped worker left behind. Their ids, to queue again."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.immediate.is_(True),
                Notification.created_at < now - STRANDED_AFTER,
                Notification.created_at > now - STRANDED_UNTIL,
                *_claimable(now),
            )
            .order_by(Notification.id)
        )
    )


# ---- The daily digest -----------------------------------------------------------------------------


def digest_cutoff(now: dt.datetime, hour: int) -> dt.datetime | None:
    """Today's digest time (``hour`` London time) once it has come, else None: the digest gathers what was
    recorded before it."""
    cutoff = london_to_utc(london_today(now), dt.time(hour))
    return cutoff if now >= cutoff else None


def _digest_rows(user_id: int | None, cutoff: dt.datetime, now: dt.datetime):
    conditions = [Notification.immediate.is_(False), Notification.created_at < cutoff, *_claimable(now)]
    if user_id is not None:
        conditions.append(Notification.user_id == user_id)
    return conditions


def digest_due(session: Session, hour: int, now: dt.datetime | None = None) -> list[int]:
    """The users owed today's digest: anything waiting for one, recorded before today's digest hour."""
    now = now or utcnow()
    cutoff = digest_cutoff(now, hour)
    if cutoff is None:
        return []
    return list(
        session.scalars(
            select(Notification.user_id)
            .where(*_digest_rows(None, cutoff, now))
            .distinct()
            .order_by(Notification.user_id)
        )
    )


def send_digest(session: Session, user_id: int, config: Mapping, now: dt.datetime | None = None) -> int:
    """Send ``user_id`` one email gathering their waiting notifications recorded before today's digest hour,
    grouped by request; returns how many it gathered (0: nothing was sent). Claimed as ``deliver`` claims."""
    now = now or utcnow()
    cutoff = digest_cutoff(now, int(config["NOTIFICATION_DIGEST_HOUR"]))
    if cutoff is None:
        return 0
    session.execute(
        update(Notification)
        .where(*_digest_rows(user_id, cutoff, now))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    rows = list(
        session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.claimed_at == now,
                Notification.sent_at.is_(None),
                Notification.immediate.is_(False),
            )
            .order_by(Notification.request_id, Notification.created_at, Notification.id)
            .options(joinedload(Notification.user))
        )
    )
    if not rows:
        return 0
    ids = [row.id for row in rows]
    user = rows[0].user
    if user.is_disabled:
        return _give_up(session, ids, now, "the account is closed")
    try:
        send_mail(config, user.email, *digest_message(rows, config))
    except MailError as exc:
        if exc.permanent:
            log.warning("digest for user %s not sent, and not retried: %s", user_id, exc)
            return _give_up(session, ids, now, str(exc))
        _release(session, ids, now)
        raise
    _mark_sent(session, ids, now)
    return len(rows)


def _subject_title(row: Notification) -> str:
    # Every digestible subject is "<what happened>: <request title>".
    return row.subject.partition(": ")[2] or row.subject


def digest_message(rows: list[Notification], config: Mapping) -> tuple[str, str]:
    """The digest's subject and body: each request's news under its title, oldest first, with its link."""
    base = str(config.get("PUBLIC_URL", "")).rstrip("/")
    user = rows[0].user
    ordered = sorted(rows, key=lambda r: (r.request_id is None, r.request_id or 0, r.created_at, r.id))
    parts = [f"Dear {user.full_name},\n\nWhat happened on your requests since your last daily email:\n"]
    for request_id, group in groupby(ordered, key=lambda r: r.request_id):
        items = list(group)
        parts.append(f"\n{_subject_title(items[0])}\n" + "-" * min(len(_subject_title(items[0])), 60) + "\n")
        for row in items:
            news = row.body.split("\n\n", 1)[1] if row.body.startswith("Dear ") else row.body
            parts.append(f"\n{row.subject.partition(': ')[0]}:\n{news.strip()}\n")
        if request_id is not None:
            parts.append(f"\nSee the request: {base}/requests/{request_id}\n")
    parts.append(
        f"\nYou get one email a day. To get each as it happens instead: {base}/account/notifications\n\n"
        f"{config['SERVICE_NAME']}\n"
    )
    subject = f"Your daily update: {len(rows)} {'change' if len(rows) == 1 else 'changes'} to your requests"
    return subject, "".join(parts)
