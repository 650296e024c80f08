"""The audit log table: append-only (database triggers refuse UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class AuditEntry(Base):
    """One vetting action or view of a vetting record, chained to the entry before it by HMAC.

    ``seq`` is the position in the chain: 1, 2, 3… with no gaps (``id`` may have gaps, as
    sequences do when a transaction rolls back). UNIQUE on ``seq`` and on ``prev_mac`` means two
    writers that raced past the lock could never both save an entry on the same predecessor: one
    of them fails instead of the chain forking.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_audit_log_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # None for the system (the nightly sweep, say). Accounts are never deleted, and one that has
    # audit entries cannot be: RESTRICT, never CASCADE or SET NULL, which would rewrite the log.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    # Canonical JSON text (sorted keys, no whitespace): the exact string the MAC was computed over.
    detail: Mapped[str] = mapped_column(Text)
    prev_mac: Mapped[str] = mapped_column(String(64), unique=True)
    mac: Mapped[str] = mapped_column(String(64))
