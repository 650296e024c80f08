"""Accounts, their server-side sessions and the security log."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import BigInteger, Column, Enum, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from core.geography.models import Ward


class Role(enum.StrEnum):
    VOLUNTEER = "volunteer"
    SERGEANT = "sergeant"
    VETTING_OFFICER = "vetting_officer"
    COORDINATOR = "coordinator"
    # A partner organisation's named contact (volunteers/partners): sees only the volunteers who name their
    # organisation and the skills they ask it to vouch for.
    PARTNER_REVIEWER = "partner_reviewer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.VOLUNTEER: "Volunteer",
    Role.SERGEANT: "Ward sergeant",
    Role.VETTING_OFFICER: "Vetting officer",
    Role.COORDINATOR: "Coordinator",
    Role.PARTNER_REVIEWER: "Partner reviewer",
}


class PendingStep(enum.StrEnum):
    """What a sign-in whose password was right still needs before it lets the person in."""

    CODE = "code"  # a security code from their authenticator app (or a recovery code)
    SET_UP = "set_up"  # their role requires an authenticator app and they have none yet


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
    INVITATION = "invitation"
    EMAIL_CHANGE = "email_change"


# The roles that see criminal-offence and special-category data (vetting detail, every volunteer's
# record): they cannot sign in without an authenticator app. Sergeants and volunteers may add one.
# Partner reviewers too: people outside the force who see who volunteers for the police, which can put a
# volunteer at risk if an account is taken over; and a vouch is evidence the matcher trusts.
MFA_REQUIRED_ROLES = frozenset({Role.VETTING_OFFICER, Role.COORDINATOR, Role.PARTNER_REVIEWER})


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
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    wards: Mapped[list[Ward]] = relationship(secondary=sergeant_wards, order_by="Ward.name")

    # Loaded only where asked for: most pages never need to know about the second factor.
    authenticator: Mapped[TotpAuthenticator | None] = relationship(lazy="select", viewonly=True)

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot be signed in
        return not self.is_disabled

    @property
    def mfa_required(self) -> bool:
        return self.role in MFA_REQUIRED_ROLES


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
    # Set while the password has been accepted but the second step is not done yet: such a row
    # signs nobody in (resume_session ignores it); it only lets the code or set-up pages continue.
    pending_step: Mapped[PendingStep | None] = mapped_column(enum_column(PendingStep, "pending_step"))
    # When the person last proved who they are here (password, and a code where MFA is on): at sign-in
    # and at each re-authentication. Changing credentials and exports need it recent.
    authenticated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Wrong security codes given in this session; too many end a pending sign-in.
    failed_codes: Mapped[int] = mapped_column(default=0)
    # A new authenticator secret being set up, until the person proves it with a code.
    setup_secret: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()


class SecurityEvent(Base):
    """Who did what, when (UTC). Never a password, an email address or other personal detail."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    detail: Mapped[str] = mapped_column(String(200), default="")
    # The client's address (the proxy's X-Forwarded-For where TRUSTED_PROXIES says so); None outside a
    # web request. 45 characters hold any IPv6 address written out.
    address: Mapped[str | None] = mapped_column(String(45))


class AccountToken(Base):
    """A one-time link sent by email: a password reset, an invitation to set a first password, or the
    confirmation of a new email address.

    Only the SHA-256 of the link's random token is stored, so a copy of the database opens no account.
    An imported volunteer's invitation waits with no token (``token_hash`` NULL) until the sender mails
    it: the token exists only in the email. A link is used once (``used_at``), dies at ``expires_at``,
    and a newer link of the same purpose revokes the older ones (``revoked_at``).
    """

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_id_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # An email change: the address that becomes the account's once the link is followed.
    new_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class TotpAuthenticator(Base):
    """An account's authenticator app (TOTP, RFC 6238): the shared secret and the last time step used.

    ``last_step`` makes each code single-use: a code is accepted only for a later step than the last
    one accepted, so a code seen over someone's shoulder cannot be replayed within its 30 seconds.
    """

    __tablename__ = "totp_authenticators"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(32))  # base32, as authenticator apps take it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_step: Mapped[int | None] = mapped_column(BigInteger())


class RecoveryCode(Base):
    """One of the ten single-use codes that sign a person in without their authenticator app.

    Stored as Argon2 hashes, like passwords: the codes are shown once, when they are made.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ThrottleCounter(Base):
    """Failures (or applications) counted for one key, shared by every app server through the database.

    Keys: ``account:<sha256 of the email>`` (any email typed, known or not, so every path is the same),
    ``browser:<nonce>`` (a browser its owner signed in with before), ``address:<client address>``,
    ``global`` (the fixed-minute ceiling), ``apply-address:…`` and ``apply-email:…``. The rules are in
    ``core.auth.throttle``; the counting is ``core.auth.throttling``. Rows idle for a day are pruned.
    """

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # When this count began: the first failure of the run, or the start of the ceiling's window.
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    # No try is looked at before this (None: no delay now).
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
