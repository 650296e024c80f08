"""Ward panels and specialist groups: who sits on which, and how they came to.

A membership row is the whole story of one volunteer and one panel (or group): invited by a sergeant or
a coordinator, or asked for by the volunteer; then a member, declined, or removed (a member who leaves is
removed by themselves). One row per pair, so asking again after a refusal reuses it; the audit log keeps
every step. The matcher (``matching/facts.py``) reads only the current members: ``state == MEMBER``.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow
from core.geography.models import Ward
from volunteers.models import Volunteer
from volunteers.skills import SkillFamily

GROUP_NAME_MAX = 80
GROUP_DESCRIPTION_MAX = 600


class PanelState(enum.StrEnum):
    INVITED = "invited"  # a sergeant or coordinator asked the volunteer: the volunteer answers
    ASKED = "asked"  # the volunteer asked to join: the sergeant (or the group's lead) answers
    MEMBER = "member"
    DECLINED = "declined"  # whichever side was asked said no
    REMOVED = "removed"  # a member taken off, or who left


PANEL_STATE_LABELS = {
    PanelState.INVITED: "Invited",
    PanelState.ASKED: "Asked to join",
    PanelState.MEMBER: "Member",
    PanelState.DECLINED: "Declined",
    PanelState.REMOVED: "Removed",
}
# Waiting for someone's answer.
PENDING_STATES = frozenset({PanelState.INVITED, PanelState.ASKED})


class SpecialistKind(enum.StrEnum):
    CYBER = "cyber"
    MENTAL_HEALTH = "mental_health"
    YOUTH = "youth"
    LANGUAGES = "languages"
    OTHER = "other"


SPECIALIST_KIND_LABELS = {
    SpecialistKind.CYBER: "Cyber",
    SpecialistKind.MENTAL_HEALTH: "Mental health",
    SpecialistKind.YOUTH: "Youth",
    SpecialistKind.LANGUAGES: "Languages",
    SpecialistKind.OTHER: "Other",
}
# The skills a group's lead may vouch for: those of the group's field, never outside it.
KIND_SKILL_FAMILY = {
    SpecialistKind.CYBER: SkillFamily.CYBER,
    SpecialistKind.MENTAL_HEALTH: SkillFamily.HEALTH,
    SpecialistKind.YOUTH: SkillFamily.YOUTH,
    SpecialistKind.LANGUAGES: SkillFamily.LANGUAGE,
    SpecialistKind.OTHER: SkillFamily.OTHER,
}


class WardPanelMembership(Base):
    """One volunteer on (or invited to, or asking to join) one ward's panel."""

    __tablename__ = "ward_panel_memberships"
    __table_args__ = (UniqueConstraint("ward_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    state: Mapped[PanelState] = mapped_column(enum_column(PanelState, "panel_state"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    ward: Mapped[Ward] = relationship()
    volunteer: Mapped[Volunteer] = relationship()
    decided_by: Mapped[User | None] = relationship()


class SpecialistGroup(Base):
    """A London-wide group of volunteers with one field of expertise, led by someone who vouches for them."""

    __tablename__ = "specialist_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(GROUP_NAME_MAX), unique=True)
    kind: Mapped[SpecialistKind] = mapped_column(enum_column(SpecialistKind, "specialist_kind"))
    description: Mapped[str] = mapped_column(String(GROUP_DESCRIPTION_MAX), default="")
    lead_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lead: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return SPECIALIST_KIND_LABELS[self.kind]

    @property
    def skill_family(self) -> SkillFamily:
        return KIND_SKILL_FAMILY[self.kind]


class SpecialistGroupMembership(Base):
    """One volunteer in (or invited to, or asking to join) one specialist group."""

    __tablename__ = "specialist_group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("specialist_groups.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    state: Mapped[PanelState] = mapped_column(enum_column(PanelState, "panel_state"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    group: Mapped[SpecialistGroup] = relationship()
    volunteer: Mapped[Volunteer] = relationship()
    decided_by: Mapped[User | None] = relationship()
