"""What happened at a booked deployment (issue #20).

One row per accepted offer whose time has come, created by the first thing recorded about it (the
volunteer logging their hours, the sergeant confirming, the chase email). An accepted offer whose end
has passed and that has no row, or a row still ``awaiting``/``logged``, is a deployment nobody has
confirmed yet.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow
from matching.models import Offer, SupportRequest
from volunteers.models import Volunteer

NOTE_MAX = 1000
# A deployment is at most a day; the forms and the CHECK constraints share the limit.
SERVED_MINUTES_MAX = 24 * 60


class DeploymentOutcome(enum.StrEnum):
    """AWAITING: the time has passed, nothing recorded yet (a chase email may have gone). LOGGED: the
    volunteer logged their hours and the sergeant has not yet approved them. ATTENDED: confirmed by the
    sergeant (the hours in ``served_minutes`` count). DID_NOT_ATTEND: confirmed that they did not come."""

    AWAITING = "awaiting"
    LOGGED = "logged"
    ATTENDED = "attended"
    DID_NOT_ATTEND = "did_not_attend"


OUTCOME_LABELS = {
    DeploymentOutcome.AWAITING: "Waiting for confirmation",
    DeploymentOutcome.LOGGED: "Hours logged, waiting for approval",
    DeploymentOutcome.ATTENDED: "Attended",
    DeploymentOutcome.DID_NOT_ATTEND: "Did not attend",
}


class Deployment(Base):
    __tablename__ = "deployments"
    __table_args__ = (
        CheckConstraint(
            f"served_minutes IS NULL OR (served_minutes >= 0 AND served_minutes <= {SERVED_MINUTES_MAX})", name="served"
        ),
        CheckConstraint(
            f"logged_minutes IS NULL OR (logged_minutes >= 0 AND logged_minutes <= {SERVED_MINUTES_MAX})", name="logged"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One record per booking: the unique key stops two confirmations racing into two rows.
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[DeploymentOutcome] = mapped_column(
        enum_column(DeploymentOutcome, "deployment_outcome"), default=DeploymentOutcome.AWAITING
    )
    # Attendance and hours, as confirmed by the sergeant (or a coordinator).
    served_minutes: Mapped[int | None] = mapped_column(Integer)
    # Did not attend and gave no notice: the matcher ranks them lower for a while.
    no_notice: Mapped[bool] = mapped_column(default=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The volunteer's own log of their hours, waiting for the sergeant's approval.
    logged_minutes: Mapped[int | None] = mapped_column(Integer)
    logged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The last "please confirm" email to the sergeant (unconfirmed 3 days after the deployment).
    chased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The sergeant's feedback: seen by coordinators only, never by the volunteer.
    helpful: Mapped[bool | None] = mapped_column()
    would_ask_again: Mapped[bool | None] = mapped_column()
    coordinator_note: Mapped[str] = mapped_column(String(NOTE_MAX), default="", server_default="")
    feedback_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    feedback_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The volunteer's debrief and welfare answers.
    debrief_note: Mapped[str] = mapped_column(String(NOTE_MAX), default="", server_default="")
    welfare_affected: Mapped[bool | None] = mapped_column()
    welfare_contact_wanted: Mapped[bool | None] = mapped_column()
    debriefed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    welfare_alerted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    welfare_contacted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    welfare_contacted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A coordinator cleared the matcher's lower ranking that this deployment caused.
    ranking_cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ranking_cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    offer: Mapped[Offer] = relationship()
    request: Mapped[SupportRequest] = relationship()
    volunteer: Mapped[Volunteer] = relationship()
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
