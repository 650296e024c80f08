"""Support requests: what a ward sergeant asks volunteers for, and when.

Only the request itself lives here for now. Offers, assignments and the explanations of a match
come with the matcher's web side; the statuses they will set are already in ``RequestStatus``.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow
from core.geography.models import Ward
from core.timeutil import to_london
from volunteers.models import Volunteer

# The limits the forms, the services and the CHECK constraints share.
TITLE_MAX = 120
DESCRIPTION_MAX = 1000
ORGANISATION_MAX = 160
CANCEL_REASON_MAX = 300
PEOPLE_MIN, PEOPLE_MAX = 1, 10
DURATION_MIN, DURATION_MAX = 15, 24 * 60


class RequestStatus(enum.StrEnum):
    """Where a request is in its life.

    Reachable today: OPEN (raised, waiting for the matcher) and CANCELLED (by the sergeant, with a
    reason). The others are set by matching and offers, which come next: MATCHED (volunteers chosen,
    offers out), PART_FILLED (some places accepted), FILLED (every place accepted), COMPLETED (the
    task has been done).
    """

    OPEN = "open"
    MATCHED = "matched"
    PART_FILLED = "part_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


STATUS_LABELS = {
    RequestStatus.OPEN: "Open",
    RequestStatus.MATCHED: "Matched",
    RequestStatus.PART_FILLED: "Part filled",
    RequestStatus.FILLED: "Filled",
    RequestStatus.CANCELLED: "Cancelled",
    RequestStatus.COMPLETED: "Completed",
}


class Priority(enum.StrEnum):
    """How much filling the request matters; the matcher covers higher priorities first."""

    ROUTINE = "routine"
    PRIORITY = "priority"
    URGENT = "urgent"


PRIORITY_LABELS = {Priority.ROUTINE: "Routine", Priority.PRIORITY: "Priority", Priority.URGENT: "Urgent"}


class SupportRequest(Base):
    """A sergeant's request for volunteers in one of their wards.

    ``ward_id`` is always set, also for remote work: a request belongs to a ward, and so to the
    sergeants of that ward. ``remote`` says the volunteer need not travel there.

    The window is when the task may happen; ``duration_minutes`` is how long it takes, which is at
    most the window's length (checked by the service: the length of a window in SQL is not portable).
    """

    __tablename__ = "support_requests"
    __table_args__ = (
        CheckConstraint("window_end > window_start", name="window_order"),
        CheckConstraint(f"duration_minutes BETWEEN {DURATION_MIN} AND {DURATION_MAX}", name="duration"),
        CheckConstraint(f"people_needed BETWEEN {PEOPLE_MIN} AND {PEOPLE_MAX}", name="people_needed"),
        CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_when"),
        # The sergeant's list: their wards' requests, newest window first.
        Index("ix_support_requests_ward_id_window_start", "ward_id", "window_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"))
    remote: Mapped[bool] = mapped_column(default=False)
    task_type_code: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX))
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    window_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer)
    people_needed: Mapped[int] = mapped_column(Integer)
    all_or_nothing: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "request_priority"), default=Priority.ROUTINE)
    warranted_only: Mapped[bool] = mapped_column(default=False)
    organisation: Mapped[str] = mapped_column(String(ORGANISATION_MAX), default="")
    preferred_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"), default=RequestStatus.OPEN, index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(CANCEL_REASON_MAX))
    # Optimistic locking: two sergeants of one ward saving the same request cannot overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    ward: Mapped[Ward] = relationship()
    created_by: Mapped[User] = relationship()
    preferred_volunteer: Mapped[Volunteer | None] = relationship()
    skills: Mapped[list[RequestSkill]] = relationship(
        cascade="all, delete-orphan", order_by="RequestSkill.skill_code"
    )

    @property
    def skill_codes(self) -> list[str]:
        return [s.skill_code for s in self.skills]

    @property
    def window_text(self) -> str:
        return format_window(self.window_start, self.window_end)

    @property
    def is_open(self) -> bool:
        return self.status is RequestStatus.OPEN


class RequestSkill(Base):
    """An extra skill or language the request needs, on top of what its task type needs."""

    __tablename__ = "support_request_skills"

    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(String(40), primary_key=True)


# ---- Showing times ------------------------------------------------------------------------------

def clock_text(moment: dt.datetime) -> str:
    """'2pm', '9:30am', 'midday', 'midnight': a London wall-clock time in the GOV.UK style."""
    local = to_london(moment)
    if local.hour == 12 and local.minute == 0:
        return "midday"
    if local.hour == 0 and local.minute == 0:
        return "midnight"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def format_window(start: dt.datetime, end: dt.datetime) -> str:
    """'Tuesday 14 July 2026, 2pm to 4pm' in London time; the end's date too if it is another day.

    A window ending at midnight is shown as 'to midnight', not as the next day's date.
    """
    first, last = to_london(start), to_london(end)
    day = f"{first:%A} {first.day} {first:%B %Y}"
    ends_at_midnight = last.hour == 0 and last.minute == 0 and last.date() == first.date() + dt.timedelta(days=1)
    if last.date() == first.date() or ends_at_midnight:
        return f"{day}, {clock_text(start)} to {clock_text(end)}"
    return f"{day}, {clock_text(start)} to {last:%A} {last.day} {last:%B %Y}, {clock_text(end)}"


def duration_text(minutes: int) -> str:
    """'45 minutes', '1 hour', '2 hours 30 minutes'."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)
