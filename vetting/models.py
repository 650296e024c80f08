"""Clearances held by volunteers, and the reviews in the vetting officers' queue."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import enum_column
from core.db import Base, UTCDateTime, utcnow
from core.geography.models import Ward
from vetting.conflict_rules import Outcome as ConflictOutcome
from vetting.lifecycle import ClearanceState, ReviewKind
from volunteers.models import CircumstanceCategory, CircumstanceReport, Volunteer


class ReviewStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class InformationSource(enum.StrEnum):
    """Where information from outside came from (not the volunteer's own report of a change)."""

    POLICE_SYSTEMS = "police_systems"
    PROFESSIONAL_STANDARDS = "professional_standards"
    PARTNER = "partner"
    PUBLIC = "public"
    OTHER = "other"


INFORMATION_SOURCE_LABELS = {
    InformationSource.POLICE_SYSTEMS: "police systems",
    InformationSource.PROFESSIONAL_STANDARDS: "Professional Standards",
    InformationSource.PARTNER: "a partner organisation or employer",
    InformationSource.PUBLIC: "a member of the public",
    InformationSource.OTHER: "another source",
}

# What changed, in a vetting officer's words (the volunteer's own words are on their form).
CHANGE_LABELS = {
    CircumstanceCategory.NEW_JOB: "New job or employer",
    CircumstanceCategory.NEW_ADDRESS: "New address",
    CircumstanceCategory.NEW_PARTNER: "New partner or household member",
    CircumstanceCategory.CRIMINAL_INVOLVEMENT: "Arrest, charge, caution, conviction or investigation",
    CircumstanceCategory.FINANCIAL: "Financial difficulty",
    CircumstanceCategory.OTHER: "Something else",
}

# A closed review's outcome as the officers' pages show it.
OUTCOME_LABELS = {
    "grant": "Granted",
    "grant_with_restrictions": "Granted with restrictions",
    "refused": "Refused",
    "withdrawn": "Clearance withdrawn",
    "discontinue": "Discontinued",
    "no_change": "No change needed",
    "let_lapse": "Not renewed: left to lapse",
    "uphold": "Decision upheld",
    "overturned": "Decision overturned",
    "volunteer_left": "Closed: the volunteer left",
}


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
    # Task-type codes this clearance may not be used for (comma-separated); shown to the volunteer. Text, as
    # coordinators add task types and an officer may rule out many of them.
    restricted_from: Mapped[str] = mapped_column(Text, default="")
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("clearances.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A DBS clearance's certificate and its Update Service subscription (vetting/dbs.py). Vetting officers only:
    # never shown to the volunteer, sergeants or coordinators. None on other types and on records made before.
    dbs_certificate_number: Mapped[str | None] = mapped_column(String(12))
    dbs_issued_on: Mapped[dt.date | None] = mapped_column(Date)
    dbs_update_service_id: Mapped[str | None] = mapped_column(String(20))
    # The last Update Service status check that found no new information.
    dbs_status_checked_on: Mapped[dt.date | None] = mapped_column(Date)

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
    # The report that opened a triggered review; ``triggers`` holds it and everything that joined since.
    circumstance_report: Mapped[CircumstanceReport | None] = relationship()
    pending: Mapped[PendingDecision | None] = relationship(uselist=False, viewonly=True)
    triggers: Mapped[list[ReviewTrigger]] = relationship(
        order_by="ReviewTrigger.id", back_populates="review", cascade="all, delete-orphan"
    )

    @property
    def trigger_labels(self) -> list[str]:
        """What prompted a triggered review, in words, each once: "New address", "Information from …"."""
        labels: list[str] = []
        for trigger in self.triggers:
            if trigger.label not in labels:
                labels.append(trigger.label)
        if not labels and self.circumstance_report is not None:  # a review recorded without its trigger row
            labels.append(CHANGE_LABELS.get(self.circumstance_report.category, "Something else"))
        return labels

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome or "", (self.outcome or "").replace("_", " ").capitalize())


class ReviewTrigger(Base):
    """What prompted a triggered review: the volunteer's own report of a change of circumstances, or
    information from outside recorded by a vetting officer. A second one joins the open review.

    Vetting data: the summary is shown to vetting officers only, never to the volunteer.
    """

    __tablename__ = "review_triggers"
    __table_args__ = (CheckConstraint("(circumstance_report_id IS NULL) <> (source IS NULL)", name="one_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("vetting_reviews.id", ondelete="CASCADE"), index=True)
    circumstance_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("circumstance_reports.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[InformationSource | None] = mapped_column(enum_column(InformationSource, "information_source"))
    summary: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    review: Mapped[VettingReview] = relationship(back_populates="triggers")
    circumstance_report: Mapped[CircumstanceReport | None] = relationship()

    @property
    def label(self) -> str:
        if self.circumstance_report is not None:
            return CHANGE_LABELS.get(self.circumstance_report.category, "Something else")
        return "Information from " + INFORMATION_SOURCE_LABELS.get(self.source, "another source")


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


class VettingNotice(Base):
    """An outcome email to a volunteer, saved with the decision and sent once it is committed.

    Saved in the decision's transaction, so a decision rolled back leaves no email; sent straight
    after the commit, and one that SMTP refused is sent by the next sweep. The text says what the
    outcome means for the person and how to appeal, never the officers' reasons.
    """

    __tablename__ = "vetting_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when a sender claims the email; cleared again if SMTP refuses it.
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)


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


class ConflictReview(Base):
    """A conflict-of-interest review of a volunteer (vetting.conflict_rules): its outcome, the lines of work
    and employer it was recorded for, who recorded it and why. The latest is in force; earlier ones are its
    history. Recorded by a vetting officer or a coordinator; neither sergeants nor the volunteer see it.
    """

    __tablename__ = "conflict_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[ConflictOutcome] = mapped_column(enum_column(ConflictOutcome, "conflict_review_outcome"))
    lines_of_work: Mapped[str] = mapped_column(String(200), default="")  # conflict_rules.join_lines
    employer: Mapped[str] = mapped_column(String(120), default="")
    # Health staff volunteer only with their employer's permission: True once seen; None where not asked.
    employer_permission: Mapped[bool | None] = mapped_column()
    notes: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    findings: Mapped[list[ConflictReviewFinding]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ConflictReviewFinding.id"
    )


class ConflictReviewFinding(Base):
    """One finding of a conflict review: an organisation or a ward the person has a conflict with (the
    matcher's conflict rule applies it as it does a declared conflict), or a task type they are not suitable
    for (a hard rule of vetting.rules)."""

    __tablename__ = "conflict_review_findings"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN organisation IS NULL THEN 0 ELSE 1 END) + (CASE WHEN ward_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN task_type_code IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("conflict_reviews.id", ondelete="CASCADE"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(160))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"))
    task_type_code: Mapped[str | None] = mapped_column(String(40))

    review: Mapped[ConflictReview] = relationship(back_populates="findings")
    ward: Mapped[Ward | None] = relationship()
