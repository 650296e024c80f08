"""Recording what someone must be told, in the caller's transaction.

Every feature that tells a sergeant or a volunteer something calls ``record`` inside its own
transaction; the notification row commits (or rolls back) with the event. Delivery is not the caller's
business: once the session commits, the ids gathered in ``session.info`` are handed to the mail task
(``matching.notifications.delivery``), which sends the immediate ones; the daily digest sends the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import User
from core.mail import header_text
from matching.notifications.models import Notification, NotificationKind, NotificationPreference

PENDING_KEY = "pending_notifications"

# What may wait for a sergeant's daily digest. A volunteer's booking confirmation, reminder and the
# welfare alert to coordinators never wait.
DIGESTIBLE = frozenset(
    {
        NotificationKind.OFFER_ACCEPTED,
        NotificationKind.OFFER_DECLINED,
        NotificationKind.OFFER_WITHDRAWN,
        NotificationKind.NOT_FILLED,
    }
)


def wants_digest(session: Session, user_id: int) -> bool:
    preference = session.get(NotificationPreference, user_id)
    return bool(preference and preference.daily_digest)


def record(
    session: Session,
    *,
    user: User,
    kind: NotificationKind,
    subject: str,
    body: str,
    request_id: int | None = None,
    offer_id: int | None = None,
) -> Notification:
    """Add a notification for ``user`` to the session (the caller commits). Sent at once after the commit,
    unless it is something a sergeant who chose the daily digest gets in the digest."""
    immediate = kind not in DIGESTIBLE or not wants_digest(session, user.id)
    notification = Notification(
        user_id=user.id,
        kind=kind,
        subject=header_text(subject),
        body=body,
        request_id=request_id,
        offer_id=offer_id,
        immediate=immediate,
    )
    session.add(notification)
    session.flush()
    if immediate:
        session.info.setdefault(PENDING_KEY, []).append(notification.id)
    return notification


@dataclass(frozen=True)
class Pending:
    """One notification to record with ``record_many``: ``record``'s arguments."""

    user: User
    kind: NotificationKind
    subject: str
    body: str
    request_id: int | None = None
    offer_id: int | None = None


def record_many(session: Session, items: Sequence[Pending]) -> list[Notification]:
    """``record`` for many at once (a London run's unfilled requests): the preferences read in one query and
    the rows inserted in one flush."""
    if not items:
        return []
    user_ids = sorted({item.user.id for item in items})
    digest_users: set[int] = set()
    for chunk in range(0, len(user_ids), 500):
        digest_users.update(
            session.scalars(
                select(NotificationPreference.user_id).where(
                    NotificationPreference.user_id.in_(user_ids[chunk : chunk + 500]),
                    NotificationPreference.daily_digest.is_(True),
                )
            )
        )
    rows = [
        Notification(
            user_id=item.user.id,
            kind=item.kind,
            subject=header_text(item.subject),
            body=item.body,
            request_id=item.request_id,
            offer_id=item.offer_id,
            immediate=item.kind not in DIGESTIBLE or item.user.id not in digest_users,
        )
        for item in items
    ]
    session.add_all(rows)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).extend(row.id for row in rows if row.immediate)
    return rows


def set_daily_digest(session: Session, user_id: int, daily_digest: bool) -> None:
    """Save a sergeant's choice between emails as things happen and one daily digest (commits).

    Notifications already waiting for a digest still go in the next one; from now on new ones follow the
    new choice."""
    preference = session.get(NotificationPreference, user_id)
    if preference is None:
        session.add(NotificationPreference(user_id=user_id, daily_digest=daily_digest))
    else:
        preference.daily_digest = daily_digest
    session.commit()


def unsent_for(session: Session, user_id: int) -> list[Notification]:
    """The user's notifications not sent yet, oldest first (the digest's contents)."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.sent_at.is_(None))
            .order_by(Notification.created_at, Notification.id)
        )
    )
