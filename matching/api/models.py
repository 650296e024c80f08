"""Personal access tokens for the read-only JSON API (issue #21), and the log of every use of one.

A force system (a duty or HR system) cannot sign in, so a coordinator issues it a token: a random value
with a recognisable prefix, of which we keep only the SHA-256 and the first few characters to show in the
list, so a copy of the database hands out no access. A token has scopes (which lists it may read), an
expiry, and may be revoked at once; revoked and expired rows stay as the record of who had access when.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User
from core.db import Base, UTCDateTime, utcnow

NAME_MAX = 80
PATH_MAX = 300


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the token is for, in the coordinator's words ("Duty system, Central West").
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # sha256 of the whole token, hex: the token carries 256 random bits, so a fast hash is enough (no salt).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters ("sng_Ab3x"), so a coordinator can tell which one a system holds.
    display_prefix: Mapped[str] = mapped_column(String(12))
    # Space-separated scopes ("requests:read offers:read"), from matching.api.tokens.SCOPES.
    scopes: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The first moment it no longer works: London midnight after the expiry day the coordinator chose.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Written at most once a minute (tokens.USE_RECORDED_EVERY): the use log has every call.
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def state(self, now: dt.datetime) -> str:
        """'Revoked', 'Expired' or 'Active'."""
        if self.revoked_at is not None:
            return "Revoked"
        if self.expires_at <= now:
            return "Expired"
        return "Active"


class ApiTokenUse(Base):
    """One call made with a token, whatever its answer (a refusal for scope or the rate limit too)."""

    __tablename__ = "api_token_uses"
    __table_args__ = (
        # The token's page shows its latest uses, newest first.
        Index("ix_api_token_uses_token_id_id", "token_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    method: Mapped[str] = mapped_column(String(10))
    # The path and query string as sent, cut to PATH_MAX characters.
    path: Mapped[str] = mapped_column(String(PATH_MAX))
    status: Mapped[int] = mapped_column(Integer)
    # The client's address (after ProxyFix, when TRUSTED_PROXIES is set).
    address: Mapped[str] = mapped_column(String(45), default="")
