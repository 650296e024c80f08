"""Notifications: one row per thing a person must be told (issue #20).

Written in the same transaction as the event (an offer accepted, declined or withdrawn, a request a
run could not fill), so nobody is told of something that rolled back. After the commit the mail task
sends the immediate ones; the daily digest gathers the rest for those who chose it. ``sent_at`` is set
once sent, so a retried task never sends twice.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow


class NotificationKind(enum.StrEnum):
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    OFFER_WITHDRAWN = "offer_withdrawn"  # the volunteer pulled out, or is no longer available
    NOT_FILLED = "not_filled"  # a run could not fill every place on a request
    BOOKING_CONFIRMED = "booking_confirmed"
    REMINDER = "reminder"
    DEPLOYMENT_CHASE = "deployment_chase"
    WELFARE_ALERT = "welfare_alert"
    VOLUNTEER_LEFT = "volunteer_left"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_sent_at", "user_id", "sent_at"),
        # One reminder per booking, whichever worker's periodic task gets there first (migration 0026).
        Index(
            "uq_notifications_one_reminder",
            "offer_id",
            unique=True,
            sqlite_where=text("kind = 'reminder'"),
            postgresql_where=text("kind = 'reminder'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, "notification_kind"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("support_requests.id", ondelete="SET NULL"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text())
    # True: sent on its own straight away; False: waits for the person's daily digest.
    immediate: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A sender's claim (migration 0026): set by a conditional update before the SMTP conversation, so two
    # workers (or a retried task and the safety net) never both send it; a claim older than the delivery
    # lease is taken to be a worker that died, and the notification is sent again.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Why it was given up (the server refused the address for good): never tried again.
    failure: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class NotificationPreference(Base):
    """A sergeant's choice: every email at once (no row, the default) or one daily digest."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    daily_digest: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
