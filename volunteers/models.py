"""A volunteer's profile: who they are, where, when they can help, what they can do, what they declare."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow
from core.geography.models import Ward
from volunteers.partners.models import PartnerOrganisation
from volunteers.skills import PatrolStatus, SkillLevel


class VolunteerKind(enum.StrEnum):
    SPECIAL = "special"  # special constable: warranted once attested
    PSV = "psv"  # police support volunteer


class VolunteerStatus(enum.StrEnum):
    APPLIED = "applied"  # application with vetting: may edit the profile, never matched
    ACTIVE = "active"
    PAUSED = "paused"  # stepped back for a while (the volunteer's choice)
    LEFT = "left"
    NOT_ACCEPTED = "not_accepted"  # the application was refused or did not go ahead (vetting sets it)


# No longer volunteering: their personal data is erased once the retention period has passed.
ENDED_STATUSES = frozenset({VolunteerStatus.LEFT, VolunteerStatus.NOT_ACCEPTED})


class WorkAdjustment(enum.StrEnum):
    """Limits on the work someone can do. Seed 000: people not fit for street duty can still serve."""

    NONE = "none"
    DESK_ONLY = "desk_only"
    REMOTE_ONLY = "remote_only"


class OccupationCategory(enum.StrEnum):
    OTHER = "other"
    PRIVATE_SECURITY_CYBER = "private_security_cyber"
    PRIVATE_INVESTIGATION = "private_investigation"
    NHS_AMBULANCE = "nhs_ambulance"  # health work: NHS, ambulance or other medical staff
    YOUTH_SERVICES = "youth_services"


# Occupations that need a conflict review (or employer permission) before any deployment.
CONFLICT_REVIEW_OCCUPATIONS = frozenset(
    {
        OccupationCategory.PRIVATE_SECURITY_CYBER,
        OccupationCategory.PRIVATE_INVESTIGATION,
        OccupationCategory.NHS_AMBULANCE,
        OccupationCategory.YOUTH_SERVICES,
    }
)
# Military reservists need one too (their military commitments come first): the line of work's code.
RESERVIST_LINE = "military_reservist"


def conflict_review_lines(category: OccupationCategory, military_reservist: bool) -> frozenset[str]:
    """The lines of work of someone's profile that need a conflict review before any deployment, as codes."""
    lines = {category.value} if category in CONFLICT_REVIEW_OCCUPATIONS else set()
    if military_reservist:
        lines.add(RESERVIST_LINE)
    return frozenset(lines)


class EvidenceStatus(enum.StrEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"  # waiting for a coordinator to check the register
    VERIFIED = "verified"
    REJECTED = "rejected"


class ConflictCategory(enum.StrEnum):
    EMPLOYER = "employer"
    CLIENT = "client"
    BUSINESS = "business"
    SCHOOL = "school"
    PERSONAL = "personal"
    PLACE = "place"


class CircumstanceCategory(enum.StrEnum):
    NEW_JOB = "new_job"
    NEW_ADDRESS = "new_address"
    NEW_PARTNER = "new_partner"
    CRIMINAL_INVOLVEMENT = "criminal_involvement"
    FINANCIAL = "financial"
    OTHER = "other"


class BlockReason(enum.StrEnum):
    HOLIDAY = "holiday"
    MOBILISATION = "mobilisation"  # military reservists: mobilisation takes priority
    OTHER = "other"


class Volunteer(Base):
    __tablename__ = "volunteers"
    __table_args__ = (
        CheckConstraint("travel_limit_km BETWEEN 0 AND 200", name="travel_limit"),
        CheckConstraint("weekly_hours_cap_minutes BETWEEN 0 AND 4200", name="weekly_hours_cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    kind: Mapped[VolunteerKind] = mapped_column(enum_column(VolunteerKind, "volunteer_kind"))
    status: Mapped[VolunteerStatus] = mapped_column(
        enum_column(VolunteerStatus, "volunteer_status"), default=VolunteerStatus.APPLIED, index=True
    )
    phone: Mapped[str] = mapped_column(String(30), default="")
    home_ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"), index=True)
    travel_limit_km: Mapped[int] = mapped_column(Integer, default=5)
    weekly_hours_cap_minutes: Mapped[int] = mapped_column(Integer, default=8 * 60)
    adjustment: Mapped[WorkAdjustment] = mapped_column(
        enum_column(WorkAdjustment, "work_adjustment"), default=WorkAdjustment.NONE
    )
    occupation: Mapped[str] = mapped_column(String(120), default="")
    occupation_category: Mapped[OccupationCategory] = mapped_column(
        enum_column(OccupationCategory, "occupation_category"), default=OccupationCategory.OTHER
    )
    employer: Mapped[str] = mapped_column(String(120), default="")
    military_reservist: Mapped[bool] = mapped_column(default=False)
    # Specials only.
    warrant_number: Mapped[str | None] = mapped_column(String(20))
    patrol_status: Mapped[PatrolStatus | None] = mapped_column(enum_column(PatrolStatus, "patrol_status"))
    monthly_commitment_minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Data retention (volunteers/retention.py): when the person left, or their application ended, and
    # when their personal data was erased once the retention period had passed.
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking: two people saving the same profile at once cannot overwrite each other.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    user: Mapped[User] = relationship()
    home_ward: Mapped[Ward | None] = relationship()
    skills: Mapped[list[VolunteerSkill]] = relationship(
        back_populates="volunteer", cascade="all, delete-orphan", order_by="VolunteerSkill.skill_code"
    )
    preferences: Mapped[list[TaskPreference]] = relationship(cascade="all, delete-orphan")

    @validates("status")
    def _stamp_leaving(self, key: str, status: VolunteerStatus) -> VolunteerStatus:
        # The retention period counts from the day someone stops volunteering. Stamped here, so every
        # way a status changes (a page, the CSV import, a vetting decision) starts the clock.
        if status in ENDED_STATUSES:
            self.left_at = self.left_at or utcnow()
        else:
            self.left_at = None
        return status

    @property
    def conflict_review_lines(self) -> frozenset[str]:
        return conflict_review_lines(self.occupation_category, self.military_reservist)

    @property
    def needs_conflict_review(self) -> bool:
        """Their line of work needs a conflict review before any deployment (whether or not it is recorded)."""
        return bool(self.conflict_review_lines)


# The coordinators' directory lists volunteers by name, (users.full_name, users.id): indexed so that a
# deep page of 50,000 volunteers costs about what the first does. Declared here: only the directory needs it.
Index("ix_users_full_name_id", User.full_name, User.id)


class TaskPreference(Base):
    """A task type the volunteer would like to be offered (a soft goal for the matcher)."""

    __tablename__ = "volunteer_task_preferences"

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True)
    task_type_code: Mapped[str] = mapped_column(String(40), primary_key=True)


class VolunteerSkill(Base):
    __tablename__ = "volunteer_skills"
    __table_args__ = (UniqueConstraint("volunteer_id", "skill_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    skill_code: Mapped[str] = mapped_column(String(40), index=True)
    level: Mapped[SkillLevel] = mapped_column(enum_column(SkillLevel, "skill_level"))
    evidence_body: Mapped[str | None] = mapped_column(String(40))
    registration_number: Mapped[str | None] = mapped_column(String(40))
    evidence_expires_on: Mapped[dt.date | None] = mapped_column(Date)
    evidence_status: Mapped[EvidenceStatus] = mapped_column(
        enum_column(EvidenceStatus, "evidence_status"), default=EvidenceStatus.NOT_NEEDED, index=True
    )
    evidence_reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    evidence_reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    evidence_rejection_reason: Mapped[str | None] = mapped_column(String(300))
    # Set when a partner organisation's reviewer vouched for the skill (volunteers/partners): the evidence is
    # then verified by that partner, and evidence_reviewed_by_id is the reviewer.
    vouched_by_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner_organisations.id"))

    volunteer: Mapped[Volunteer] = relationship(back_populates="skills")
    vouched_by_partner: Mapped[PartnerOrganisation | None] = relationship()


class AvailabilitySlot(Base):
    """A recurring weekly window, in London wall-clock minutes from midnight."""

    __tablename__ = "availability_slots"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class AvailabilityException(Base):
    """One date that differs from the weekly pattern: extra hours, or not available (all day if no times)."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            "(start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute)",
            name="times",
        ),
        # One entry a date: "not available" and "available 9am to midday" on one day contradict each other.
        UniqueConstraint("volunteer_id", "on_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    on_date: Mapped[dt.date] = mapped_column(Date)
    available: Mapped[bool] = mapped_column()
    start_minute: Mapped[int | None] = mapped_column(Integer)
    end_minute: Mapped[int | None] = mapped_column(Integer)


class BlockedPeriod(Base):
    """Dates (inclusive) when the volunteer cannot be deployed at all: holiday, mobilisation."""

    __tablename__ = "blocked_periods"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[BlockReason] = mapped_column(enum_column(BlockReason, "block_reason"))


PAUSE_REASON_MAX = 200
# Why someone left, in their words: kept whole in the audit record (200 characters with its ids), no column of its own.
LEAVE_REASON_MAX = 140


class VolunteerPause(Base):
    """The volunteer stepped back from volunteering: never offered anything on these London days (inclusive).

    Not a status: someone paused from next month is still matched this month, and their bookings outside
    the pause stand. No ``last_day`` means until they resume. Resuming early sets ``ended_at``; the row is
    kept so coordinators can see when someone was away. A status of PAUSED (a coordinator's choice, no dates)
    still takes them out of everything.
    """

    __tablename__ = "volunteer_pauses"
    __table_args__ = (CheckConstraint("last_day IS NULL OR first_day <= last_day", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date | None] = mapped_column(Date)
    # Theirs to give or not; coordinators see it, sergeants never do.
    reason: Mapped[str] = mapped_column(String(PAUSE_REASON_MAX), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def covers(self, day: dt.date) -> bool:
        return self.ended_at is None and self.first_day <= day and (self.last_day is None or day <= self.last_day)


class ConflictDeclaration(Base):
    """Someone or somewhere the volunteer must not be sent to: a hard exclusion for the matcher."""

    __tablename__ = "conflict_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    category: Mapped[ConflictCategory] = mapped_column(enum_column(ConflictCategory, "conflict_category"))
    organisation: Mapped[str] = mapped_column(String(160))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"))
    # A partner organisation chosen from the list: the conflict check then matches requests naming it by id.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner_organisations.id"), index=True)
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ward: Mapped[Ward | None] = relationship()
    partner: Mapped[PartnerOrganisation | None] = relationship()


class CircumstanceReport(Base):
    """A change of circumstances. Its details are vetting data: vetting officers only."""

    __tablename__ = "circumstance_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    category: Mapped[CircumstanceCategory] = mapped_column(enum_column(CircumstanceCategory, "circumstance_category"))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    details: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PendingApplication(Base):
    """An application waiting for its email address to be confirmed (issue #18).

    Nothing of it reaches an account or the vetting queue until the link emailed to the address is
    followed: so /apply cannot tell anyone which addresses have accounts, and a flood of made-up
    applications fills no officer's queue. Only the SHA-256 of the link's token and the Argon2 hash of
    the chosen password are kept. Rows die at ``expires_at`` and are pruned by the next application.
    Several may wait for one address (each from its own form, each with its own link); the first
    confirmed wins and the others go.
    """

    __tablename__ = "pending_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(30))
    kind: Mapped[VolunteerKind] = mapped_column(enum_column(VolunteerKind, "volunteer_kind"))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
