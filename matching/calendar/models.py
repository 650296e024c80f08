"""Private calendar feed links (issue #20).

A volunteer or a sergeant subscribes their calendar app to ``/calendar/<token>.ics``. Calendar apps
cannot sign in, so the link itself is the key: a random token, of which we keep only the SHA-256, so
a copy of the database does not hand out anyone's bookings. One live link per person; replacing or
turning it off sets ``revoked_at`` and the old address stops working at once. Old rows stay as the
record of when each link was made and ended (the security log has who did it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy import text as text_clause
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User
from core.db import Base, UTCDateTime, utcnow

_LIVE_SQL = "revoked_at IS NULL"


class CalendarFeed(Base):
    __tablename__ = "calendar_feeds"
    __table_args__ = (
        # One live link per person: two tabs creating a link at once cannot leave two working.
        Index(
            "uq_calendar_feeds_user_id_live",
            "user_id",
            unique=True,
            sqlite_where=text_clause(_LIVE_SQL),
            postgresql_where=text_clause(_LIVE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # sha256 of the token, hex: the token has 256 random bits, so a fast hash is enough (no salt needed).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a calendar app last fetched it, to the hour (services.FETCH_RECORDED_EVERY): enough to tell a
    # person whether their link is in use, without a write on every fetch.
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
