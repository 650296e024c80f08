"""The ward team's members: PCSOs and dedicated ward officers, with their contact details.

They are not necessarily users of the service: a PCSO may never sign in. A member who has an account (a
non-volunteer account with the same email) is linked to it. A member who leaves the team is kept, marked
``active = False``, because the requests they supervised still name them.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User, enum_column
from core.db import Base, UTCDateTime, utcnow
from core.geography.models import Ward

# The limits the forms, the services and the columns share.
NAME_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 40


class TeamRole(enum.StrEnum):
    """What the member is in the Safer Neighbourhood Team (typically two ward officers and a PCSO per ward)."""

    PCSO = "pcso"
    WARD_OFFICER = "ward_officer"


TEAM_ROLE_LABELS = {TeamRole.PCSO: "PCSO", TeamRole.WARD_OFFICER: "Dedicated ward officer"}


class WardTeamMember(Base):
    """One PCSO or ward officer of one ward's team."""

    __tablename__ = "ward_team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[TeamRole] = mapped_column(enum_column(TeamRole, "team_role"))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    phone: Mapped[str] = mapped_column(String(PHONE_MAX), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    ward: Mapped[Ward] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def role_label(self) -> str:
        return TEAM_ROLE_LABELS[self.role]

    @property
    def label(self) -> str:
        """How the member is named in a list: "PC Dev Patel (Dedicated ward officer)"."""
        return f"{self.name} ({self.role_label})"
