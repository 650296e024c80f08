"""Partner organisations, the volunteers who name them, and their reviewers' word on skill claims.

A partner (the London Cyber Resilience Centre, an NHS trust, a borough youth service…) can check what the
force cannot: whether someone who says they are a competent incident responder or youth worker is one. A
volunteer names the organisations they work for or with (``VolunteerPartner``) and asks each to vouch for
some of their skills (``SkillClaim``). The organisation's named contact, a *partner reviewer* account
(``PartnerReviewer``, one organisation each), vouches for or declines each claim once. A vouch makes the
skill's evidence verified (``VolunteerSkill.evidence_status``, with ``vouched_by_partner_id``); a decline
changes nothing the matcher reads and is shown to coordinators. Every step is in the audit log.

Partners are also organisations for conflicts of interest: a request's organisation involved and a
volunteer's declared conflict can name one (``support_requests.partner_id``,
``conflict_declarations.partner_id``), and the conflict check then matches them by id.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from volunteers.models import Volunteer, VolunteerSkill

PARTNER_NAME_MAX = 160  # the longest organisation name a request or a conflict declaration holds
PARTNER_DESCRIPTION_MAX = 600
REASON_MAX = 300


class PartnerKind(enum.StrEnum):
    CYBER_RESILIENCE_CENTRE = "cyber_resilience_centre"
    NHS_TRUST = "nhs_trust"
    YOUTH_SERVICE = "youth_service"
    UNIVERSITY = "university"
    BUSINESS = "business"
    OTHER = "other"


PARTNER_KIND_LABELS = {
    PartnerKind.CYBER_RESILIENCE_CENTRE: "Cyber resilience centre",
    PartnerKind.NHS_TRUST: "NHS trust",
    PartnerKind.YOUTH_SERVICE: "Youth service",
    PartnerKind.UNIVERSITY: "University",
    PartnerKind.BUSINESS: "Business",
    PartnerKind.OTHER: "Other",
}


class PartnerRelation(enum.StrEnum):
    WORKS_FOR = "works_for"  # employed by it
    WORKS_WITH = "works_with"  # volunteers, studies or trains with it, or works alongside it


PARTNER_RELATION_LABELS = {
    PartnerRelation.WORKS_FOR: "Works for",
    PartnerRelation.WORKS_WITH: "Works with",
}


class ClaimState(enum.StrEnum):
    PENDING = "pending"  # waiting for the partner's reviewer
    VOUCHED = "vouched"
    DECLINED = "declined"


CLAIM_STATE_LABELS = {
    ClaimState.PENDING: "Waiting for the partner",
    ClaimState.VOUCHED: "Vouched for",
    ClaimState.DECLINED: "Declined",
}


class PartnerOrganisation(Base):
    __tablename__ = "partner_organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique whatever the case: stored as typed, compared lower-cased by the service (and name_key here).
    name: Mapped[str] = mapped_column(String(PARTNER_NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(PARTNER_NAME_MAX), unique=True)
    kind: Mapped[PartnerKind] = mapped_column(enum_column(PartnerKind, "partner_kind"))
    description: Mapped[str] = mapped_column(String(PARTNER_DESCRIPTION_MAX), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def kind_label(self) -> str:
        return PARTNER_KIND_LABELS[self.kind]


class PartnerReviewer(Base):
    """A partner reviewer's account and the one organisation whose claims they decide."""

    __tablename__ = "partner_reviewers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner_organisations.id"), index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    partner: Mapped[PartnerOrganisation] = relationship()


class VolunteerPartner(Base):
    """A volunteer's word that they work for or with a partner organisation."""

    __tablename__ = "volunteer_partners"
    __table_args__ = (UniqueConstraint("volunteer_id", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner_organisations.id"), index=True)
    relation: Mapped[PartnerRelation] = mapped_column(enum_column(PartnerRelation, "partner_relation"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    partner: Mapped[PartnerOrganisation] = relationship()
    claims: Mapped[list[SkillClaim]] = relationship(
        back_populates="link", cascade="all, delete-orphan", order_by="SkillClaim.id"
    )


class SkillClaim(Base):
    """One skill a volunteer asks one partner to vouch for, and the partner's answer (given once)."""

    __tablename__ = "partner_skill_claims"
    __table_args__ = (UniqueConstraint("link_id", "skill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("volunteer_partners.id", ondelete="CASCADE"), index=True)
    # Removing the skill from the profile ends the claim with it.
    skill_id: Mapped[int] = mapped_column(ForeignKey("volunteer_skills.id", ondelete="CASCADE"), index=True)
    state: Mapped[ClaimState] = mapped_column(
        enum_column(ClaimState, "claim_state"), default=ClaimState.PENDING, index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    link: Mapped[VolunteerPartner] = relationship(back_populates="claims")
    skill: Mapped[VolunteerSkill] = relationship()
    decided_by: Mapped[User | None] = relationship()

    @property
    def state_label(self) -> str:
        return CLAIM_STATE_LABELS[self.state]
