"""Support requests, the offers the matcher makes for them, and the matching runs that made them.

A request (a sergeant's ask) gets places filled by offers: the matcher proposes a volunteer, the
proposal is an offer the volunteer accepts (the place is theirs: an assignment) or declines. The
runs keep their figures and, per request, the funnel that says who dropped out at which rule.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as text_clause
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow
from core.geography.models import Bcu, Ward
from core.timeutil import to_london
from matching.teams.models import WardTeamMember
from volunteers.models import Volunteer
from volunteers.panels.models import SpecialistGroup

# The limits the forms, the services and the CHECK constraints share.
TITLE_MAX = 120
DESCRIPTION_MAX = 1000
ORGANISATION_MAX = 160
CANCEL_REASON_MAX = 300
CONTACT_PHONE_MAX = 40
PEOPLE_MIN, PEOPLE_MAX = 1, 10
DURATION_MIN, DURATION_MAX = 15, 24 * 60


class RequestStatus(enum.StrEnum):
    """Where a request is in its life.

    Derived from the request's offers after every change (``matching.offers.services.refresh_status``):
    OPEN (no offer out and nobody accepted), MATCHED (offers out, nobody has accepted yet),
    PART_FILLED (some places accepted), FILLED (every place accepted). CANCELLED is set by the
    sergeant, with a reason. COMPLETED (the task has been done) is set once its time has passed and every
    booking on it is confirmed (``matching.deployments.services.complete_if_done``); neither it nor CANCELLED
    is ever changed by ``refresh_status``.
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


class RequestAudience(enum.StrEnum):
    """Who the matcher asks (issue #23): the ward's own panel first, then anyone suitable; or only the
    members of one London-wide specialist group (``specialist_group_id``)."""

    WARD_PANEL_FIRST = "ward_panel_first"
    SPECIALIST_GROUP = "specialist_group"


AUDIENCE_LABELS = {
    RequestAudience.WARD_PANEL_FIRST: "Your ward panel first",
    RequestAudience.SPECIALIST_GROUP: "A specialist group only",
}


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
        CheckConstraint("(audience = 'specialist_group') = (specialist_group_id IS NOT NULL)", name="audience_group"),
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
    # The organisation involved, when it is a partner chosen from the list: conflicts are then matched by id.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner_organisations.id"), index=True)
    preferred_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    # The PCSO or ward officer of the ward's team who will be there (issue #23): the request is supervised.
    supervising_officer_id: Mapped[int | None] = mapped_column(ForeignKey("ward_team_members.id"), index=True)
    audience: Mapped[RequestAudience] = mapped_column(
        enum_column(RequestAudience, "request_audience"), default=RequestAudience.WARD_PANEL_FIRST
    )
    specialist_group_id: Mapped[int | None] = mapped_column(ForeignKey("specialist_groups.id"), index=True)
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"), default=RequestStatus.OPEN, index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(CANCEL_REASON_MAX))
    # The number the volunteers offered or booked may call, shown with the raising sergeant's name and email.
    contact_phone: Mapped[str] = mapped_column(String(CONTACT_PHONE_MAX), default="", server_default="")
    # When the sergeant last changed what the matcher reads (time, place, people, skills…): findings of a run
    # started before it are from before the change.
    matching_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking: two sergeants of one ward saving the same request cannot overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    ward: Mapped[Ward] = relationship()
    created_by: Mapped[User] = relationship()
    preferred_volunteer: Mapped[Volunteer | None] = relationship()
    supervising_officer: Mapped[WardTeamMember | None] = relationship()
    specialist_group: Mapped[SpecialistGroup | None] = relationship()
    skills: Mapped[list[RequestSkill]] = relationship(cascade="all, delete-orphan", order_by="RequestSkill.skill_code")

    @property
    def skill_codes(self) -> list[str]:
        return [s.skill_code for s in self.skills]

    @property
    def window_text(self) -> str:
        return format_window(self.window_start, self.window_end)

    @property
    def is_open(self) -> bool:
        return self.status is RequestStatus.OPEN

    @property
    def deployment_end(self) -> dt.datetime:
        """The slot the matcher books: the window's start for the task's duration."""
        return self.window_start + dt.timedelta(minutes=self.duration_minutes)

    @property
    def is_live(self) -> bool:
        """Still wanted: not cancelled or completed (it may still have free places)."""
        return self.status not in (RequestStatus.CANCELLED, RequestStatus.COMPLETED)


class RequestSkill(Base):
    """An extra skill or language the request needs, on top of what its task type needs."""

    __tablename__ = "support_request_skills"

    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(String(40), primary_key=True)


# ---- Offers: the matcher's proposals, and the volunteers' answers --------------------------------


class OfferStatus(enum.StrEnum):
    """OFFERED waits for the volunteer's answer until ``respond_by``; ACCEPTED is an assignment.
    DECLINED and EXPIRED (no answer in time) reopen the place; WITHDRAWN means the volunteer is no
    longer available (no longer eligible, found at the event that ended it, at their accept or by the
    nightly sweep: the sergeant is told no more than that), or the volunteer pulled out of a booking with notice
    (``closed_reason`` starts VOLUNTEER_WITHDREW; the sergeant is told their reason); CANCELLED follows the
    request's cancellation."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


# Offers that hold a place and the volunteer's time: the database keeps these from overlapping.
ACTIVE_OFFER_STATUSES = (OfferStatus.OFFERED, OfferStatus.ACCEPTED)
_ACTIVE_SQL = "status IN ('offered', 'accepted')"

OFFER_STATUS_LABELS = {
    OfferStatus.OFFERED: "Waiting for an answer",
    OfferStatus.ACCEPTED: "Accepted",
    OfferStatus.DECLINED: "Declined",
    OfferStatus.EXPIRED: "No answer in time",
    OfferStatus.WITHDRAWN: "No longer available",
    OfferStatus.CANCELLED: "Request cancelled",
}
EXPLANATION_MAX = 300
# ``closed_reason`` of an offer CANCELLED because the sergeant changed the request's time, place, people or
# who may do it: not the volunteer's doing, so they may be offered the changed request again.
REQUEST_CHANGED = "request changed"
# ``closed_reason`` of an offer WITHDRAWN because the volunteer pulled out of the booking in good time (their
# reason follows). Still "no longer available" to the place, but not a no-show and not a vetting matter, so
# a status of its own would only add a case every page must handle.
VOLUNTEER_WITHDREW = "volunteer withdrew: "


class Offer(Base):
    """One place on a request offered to one volunteer.

    ``starts_at``/``ends_at`` are the deployment itself (the request's slot). On PostgreSQL an
    exclusion constraint (migration 0009) refuses two active offers of one volunteer whose times
    overlap, whichever process writes them; on SQLite, where there is no such constraint, the
    booking service checks under the database's single write lock. ``load_minutes`` is what the
    deployment costs the volunteer's weekly hours: the task plus travel there and back.
    """

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="time_order"),
        CheckConstraint("load_minutes >= 0", name="load"),
        # One live offer per volunteer per request; old declined ones stay as history.
        Index(
            "uq_offers_request_id_volunteer_id_active",
            "request_id",
            "volunteer_id",
            unique=True,
            sqlite_where=text_clause(_ACTIVE_SQL),
            postgresql_where=text_clause(_ACTIVE_SQL),
        ),
        Index("ix_offers_volunteer_id_starts_at", "volunteer_id", "starts_at"),
        Index("ix_offers_status_respond_by", "status", "respond_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("match_runs.id", ondelete="SET NULL"), index=True)
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus, "offer_status"), default=OfferStatus.OFFERED)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    load_minutes: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(String(EXPLANATION_MAX), default="")
    offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    respond_by: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Internal only (vetting officers and the log): never shown to the sergeant.
    closed_reason: Mapped[str | None] = mapped_column(String(120))

    request: Mapped[SupportRequest] = relationship()
    volunteer: Mapped[Volunteer] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_OFFER_STATUSES


# ---- Matching runs ------------------------------------------------------------------------------


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RunScope(enum.StrEnum):
    WARD = "ward"
    BCU = "bcu"
    LONDON = "london"
    REQUEST = "request"  # a re-match of one request after a decline or an expired offer


class MatchRun(Base):
    """One run of the matcher over a scope and a date range, with its figures.

    Progress (``stage``, ``percent``) is written in short transactions of its own while the run
    works, so any web process can show it; the offers and the figures are saved in one transaction
    at the end, so a run that fails midway leaves no offers behind.
    """

    __tablename__ = "match_runs"
    __table_args__ = (
        CheckConstraint("percent BETWEEN 0 AND 100", name="percent"),
        CheckConstraint("last_day >= first_day", name="day_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[RunScope] = mapped_column(enum_column(RunScope, "run_scope"))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"))
    bcu_id: Mapped[int | None] = mapped_column(ForeignKey("bcus.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    trigger: Mapped[str] = mapped_column(String(20))  # "web", "cli", "decline", "expiry"
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "run_status"), default=RunStatus.QUEUED, index=True
    )
    stage: Mapped[str] = mapped_column(String(80), default="Waiting to start")
    percent: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When a running run last wrote its progress: one silent for long had its worker die (runs.give_up_stale).
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(500))
    # The figures, set when the run succeeds.
    requests_count: Mapped[int | None] = mapped_column(Integer)
    volunteers_count: Mapped[int | None] = mapped_column(Integer)
    places_needed: Mapped[int | None] = mapped_column(Integer)
    places_offered: Mapped[int | None] = mapped_column(Integer)
    coverage: Mapped[int | None] = mapped_column(Integer)
    coverage_bound: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    score_bound: Mapped[float | None] = mapped_column(Float)
    optimal: Mapped[bool | None] = mapped_column()
    solve_seconds: Mapped[float | None] = mapped_column(Float)
    total_seconds: Mapped[float | None] = mapped_column(Float)
    # {"urgent": [filled, needed], "priority": [...], "routine": [...]} as JSON.
    by_priority: Mapped[str | None] = mapped_column(Text)
    # {"requests": 0.4, "volunteers": 3.1, "rules": 6.0, "instance": 2.2, "solve": 14.9, "save": 2.4} as JSON:
    # where a run's time went (a coordinator asking why London took a minute; the benchmark).
    step_seconds: Mapped[str | None] = mapped_column(Text)
    # Local first (issue #23, docs/matching.md): per ward whose panel worked elsewhere, as JSON
    # {"<ward id>": {"hours_elsewhere": 7.5, "members_elsewhere": 2, "places_unfilled": 1}}; None before 0023.
    abstraction: Mapped[str | None] = mapped_column(Text)

    ward: Mapped[Ward | None] = relationship()
    bcu: Mapped[Bcu | None] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)


class RunRequest(Base):
    """What one run found for one request: places asked and offered, the funnel and what would fill it."""

    __tablename__ = "match_run_requests"

    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"), primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("support_requests.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    places_needed: Mapped[int] = mapped_column(Integer)
    places_offered: Mapped[int] = mapped_column(Integer)
    # [[label, remaining], …] as JSON: "14 have the skills → 6 cleared for this task on 3 December …".
    funnel: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str | None] = mapped_column(String(400))
    # [[volunteer id, request id, reason], …] as JSON: panel members of this request's ward who could have
    # taken it but were given another ward's request ("higher", "team" or "busy": local_first.Elsewhere).
    panel_elsewhere: Mapped[str | None] = mapped_column(Text)


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

    A window ending at midnight is shown as 'to midnight', not as the next day's date; one ending later the
    next day (night work) as '10pm to 2am the next day', which reads as the sergeant entered it.
    """
    first, last = to_london(start), to_london(end)
    day = f"{first:%A} {first.day} {first:%B %Y}"
    next_day = last.date() == first.date() + dt.timedelta(days=1)
    ends_at_midnight = last.hour == 0 and last.minute == 0 and next_day
    if last.date() == first.date() or ends_at_midnight:
        return f"{day}, {clock_text(start)} to {clock_text(end)}"
    if next_day:
        return f"{day}, {clock_text(start)} to {clock_text(end)} the next day"
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
