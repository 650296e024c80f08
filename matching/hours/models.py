"""A special constable's own duty hours: patrol, events, training, logged by them and approved by a sergeant
of their home ward or a coordinator.

Deployments found by the matcher have their own record (``matching.deployments``); these are the rest of a
special's duty, which a force counts against the same monthly commitment.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow
from volunteers.models import Volunteer

# The limits the forms, the services and the CHECK constraints share.
NOTE_MAX = 500
REASON_MAX = 500
DAY_MINUTES = 24 * 60


class DutyKind(enum.StrEnum):
    PATROL = "patrol"
    EVENT = "event"
    TRAINING = "training"
    OTHER = "other"


DUTY_KIND_LABELS = {
    DutyKind.PATROL: "Patrol",
    DutyKind.EVENT: "Event",
    DutyKind.TRAINING: "Training",
    DutyKind.OTHER: "Other duty",
}


class DutyState(enum.StrEnum):
    """PENDING: waiting for a sergeant or coordinator. Only APPROVED hours count as served."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


DUTY_STATE_LABELS = {
    DutyState.PENDING: "Waiting for approval",
    DutyState.APPROVED: "Approved",
    DutyState.REJECTED: "Not approved",
}


class DutyHours(Base):
    """One stretch of duty on one London date."""

    __tablename__ = "duty_hours"
    __table_args__ = (
        CheckConstraint(f"minutes > 0 AND minutes <= {DAY_MINUTES}", name="minutes"),
        # Clock times are kept when the special gave them (the approver sees them); an overnight patrol has
        # an end earlier than its start, so the order is not checked here.
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            f"(start_minute >= 0 AND start_minute < {DAY_MINUTES} AND end_minute >= 0 AND end_minute <= {DAY_MINUTES})",
            name="times",
        ),
        # The approvers' queue: what is still waiting, oldest first.
        Index("ix_duty_hours_state_created_at", "state", "created_at"),
        Index("ix_duty_hours_volunteer_id_on_date", "volunteer_id", "on_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    on_date: Mapped[dt.date] = mapped_column(Date)  # the London date the duty started
    kind: Mapped[DutyKind] = mapped_column(enum_column(DutyKind, "duty_kind"))
    start_minute: Mapped[int | None] = mapped_column(Integer)
    end_minute: Mapped[int | None] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="", server_default="")
    state: Mapped[DutyState] = mapped_column(enum_column(DutyState, "duty_state"), default=DutyState.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str] = mapped_column(String(REASON_MAX), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    decided_by: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return DUTY_KIND_LABELS[self.kind]

    @property
    def state_label(self) -> str:
        return DUTY_STATE_LABELS[self.state]
