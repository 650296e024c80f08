"""Accounts, their server-side sessions and the security log."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import Column, Enum, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from core.geography.models import Ward


class Role(enum.StrEnum):
    VOLUNTEER = "volunteer"
    SERGEANT = "sergeant"
    VETTING_OFFICER = "vetting_officer"
    COORDINATOR = "coordinator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.VOLUNTEER: "Volunteer",
    Role.SERGEANT: "Ward sergeant",
    Role.VETTING_OFFICER: "Vetting officer",
    Role.COORDINATOR: "Coordinator",
}


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum: VARCHAR + CHECK constraint, storing the values (not the Python names)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


sergeant_wards = Table(
    "sergeant_wards",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("ward_id", Integer, ForeignKey("wards.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_disabled: Mapped[bool] = mapped_column(default=False)
    # Consecutive failed sign-ins; reset by a successful one. Updated atomically in SQL.
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    wards: Mapped[list[Ward]] = relationship(secondary=sergeant_wards, order_by="Ward.name")

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot be signed in
        return not self.is_disabled


class UserSession(Base):
    """A signed-in session, held server-side so that signing out or disabling kills it everywhere.

    The browser's (signed) cookie carries a random token; we store only its SHA-256, so a copy of
    the database does not hand out live sessions.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(30))

    user: Mapped[User] = relationship()


class SecurityEvent(Base):
    """Who did what, when (UTC). Never a password, an email address or other personal detail."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    detail: Mapped[str] = mapped_column(String(200), default="")
