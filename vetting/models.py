"""Clearances held by volunteers, and the reviews in the vetting officers' queue."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import enum_column
from core.db import Base, UTCDateTime, utcnow
from vetting.lifecycle import ClearanceState, ReviewKind
from volunteers.models import CircumstanceReport, Volunteer


class ReviewStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Clearance(Base):
    """One clearance of one type for one volunteer. A renewal is a new row linked to the old one."""

    __tablename__ = "clearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    type_code: Mapped[str] = mapped_column(String(20))
    state: Mapped[ClearanceState] = mapped_column(enum_column(ClearanceState, "clearance_state"), index=True)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    # The last day the clearance is valid (inclusive).
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # Task-type codes this clearance may not be used for (comma-separated); shown to the volunteer.
    restricted_from: Mapped[str] = mapped_column(String(400), default="")
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("clearances.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()

    @property
    def restrictions(self) -> frozenset[str]:
        return frozenset(code for code in self.restricted_from.split(",") if code)


class VettingReview(Base):
    """An item in the vetting officers' queue: an application, a renewal, a triggered review, an appeal."""

    __tablename__ = "vetting_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReviewKind] = mapped_column(enum_column(ReviewKind, "review_kind"))
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus, "review_status"), default=ReviewStatus.OPEN, index=True
    )
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    clearance_id: Mapped[int | None] = mapped_column(ForeignKey("clearances.id"))
    circumstance_report_id: Mapped[int | None] = mapped_column(ForeignKey("circumstance_reports.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Vetting officers' notes: never shown to the volunteer or to sergeants.
    notes: Mapped[str] = mapped_column(Text, default="")

    # Vetting officer who closed the review, and what they concluded (vetting officers only).
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(40))

    volunteer: Mapped[Volunteer] = relationship()
    circumstance_report: Mapped[CircumstanceReport | None] = relationship()
    pending: Mapped[PendingDecision | None] = relationship(uselist=False, viewonly=True)


class ClearanceTransition(Base):
    """One step of a clearance's life: who moved it, from what, to what, when and why."""

    __tablename__ = "clearance_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    clearance_id: Mapped[int] = mapped_column(ForeignKey("clearances.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[ClearanceState] = mapped_column(enum_column(ClearanceState, "from_state"))
    to_state: Mapped[ClearanceState] = mapped_column(enum_column(ClearanceState, "to_state"))
    event: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)


class PendingDecision(Base):
    """A refusal or withdrawal entered by one vetting officer, waiting for a second to confirm it.

    One per review (unique), so two officers cannot propose conflicting decisions at once.
    """

    __tablename__ = "pending_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("vetting_reviews.id", ondelete="CASCADE"), unique=True)
    clearance_id: Mapped[int] = mapped_column(ForeignKey("clearances.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)

    clearance: Mapped[Clearance] = relationship()


class ClearanceTypeSetting(Base):
    """A force's own validity period for a clearance type, set by a coordinator (audited)."""

    __tablename__ = "clearance_type_settings"
    __table_args__ = (CheckConstraint("validity_months BETWEEN 1 AND 240", name="validity_months"),)

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    validity_months: Mapped[int] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ClearanceReminder(Base):
    """A renewal reminder threshold (90/30/7 days) sent or covered for one clearance: each at most once."""

    __tablename__ = "clearance_reminders"
    __table_args__ = (UniqueConstraint("clearance_id", "threshold_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clearance_id: Mapped[int] = mapped_column(ForeignKey("clearances.id", ondelete="CASCADE"), index=True)
    threshold_days: Mapped[int] = mapped_column()
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TaskTypePolicy(Base):
    """A coordinator's edit of a task type's requirements, over the seeded default (audited).

    Stored as canonical JSON of the rules' TaskPolicy fields, so the pure rules stay the one
    definition of what a policy is.
    """

    __tablename__ = "task_type_policies"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    policy_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
