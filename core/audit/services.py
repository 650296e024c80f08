"""Appending to the audit log and verifying its chain.

Unlike other services, ``record`` does **not** commit: it adds the entry to the caller's
transaction, and the caller's service commits once. The audit entry and the action it records are
then saved together or not at all — an action never happens unrecorded, and a rolled-back action
leaves no entry (and no gap in ``seq``, which is computed, not drawn from a sequence).

Appends are serialised so that two app servers cannot fork the chain: on PostgreSQL by a
transaction-scoped advisory lock, on SQLite by taking the database's write lock before reading the
last entry. The lock is held until the caller's transaction ends, so call ``record`` late in a use
case (just before the commit) and keep that transaction short. UNIQUE(seq) and UNIQUE(prev_mac)
are the backstop: a writer that somehow raced past the lock fails with IntegrityError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.audit.chain import GENESIS_MAC, ChainEntry, VerifyResult, canonical_json, compute_mac, verify_chain
from core.audit.models import AuditEntry
from core.db import utcnow

# The advisory lock that serialises appends on PostgreSQL. Any fixed 64-bit number will do, as
# long as nothing else in the database uses it: this is the first 8 bytes of "sngaudit".
CHAIN_LOCK_ID = 0x736E_6761_7564_6974

_LIMITS = {"action": 60, "subject_type": 40, "subject_id": 64}


def key_from_config(config: Mapping) -> bytes:
    """The HMAC key from the app's configuration (``AUDIT_HMAC_KEY``, read from the environment)."""
    key = config["AUDIT_HMAC_KEY"]
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


def _lock_chain(session: Session) -> None:
    """Hold the chain's append lock until the end of the current transaction."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": CHAIN_LOCK_ID})
    elif dialect == "sqlite":
        # SQLite cannot BEGIN IMMEDIATE through the ORM, but a statement that writes nothing still
        # takes the database's write lock (waiting up to busy_timeout for it) and keeps it until
        # commit or rollback; the read of the last entry below is then current.
        session.execute(text("UPDATE audit_log SET seq = seq WHERE 0 = 1"))


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: str | int,
    detail: Mapping | None = None,
    key: bytes,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append an entry to the audit log **in the caller's transaction** (this does not commit).

    ``actor_id`` is the user who acted, or None for the system. ``action`` is a short dotted name
    (``"clearance.granted"``, ``"vetting_record.viewed"``); ``subject_type``/``subject_id`` say what
    it is about (``("volunteer", "42")``); ``detail`` is a JSON-serialisable mapping. ``key`` is
    the HMAC key (see ``key_from_config``). The entry is flushed, so it has its ``id`` and ``seq``.
    Raises ValueError/TypeError for values that do not fit or cannot be stored canonically.
    """
    subject_id = str(subject_id)
    for name, value in (("action", action), ("subject_type", subject_type), ("subject_id", subject_id)):
        if not value or len(value) > _LIMITS[name]:
            raise ValueError(f"audit {name} must be 1 to {_LIMITS[name]} characters, not {value!r}")
    detail_text = canonical_json(detail or {})

    _lock_chain(session)
    last = session.execute(select(AuditEntry.seq, AuditEntry.mac).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev_mac = (last.seq + 1, last.mac) if last is not None else (1, GENESIS_MAC)
    # Microseconds are kept by both backends, so the time read back is the time that was MAC'd.
    at = at or utcnow()
    mac = compute_mac(
        key,
        seq=seq,
        at=at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail_text,
        prev_mac=prev_mac,
    )
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail_text,
        prev_mac=prev_mac,
        mac=mac,
    )
    session.add(entry)
    session.flush()
    return entry


def _stream(session: Session, batch_size: int) -> Iterator[ChainEntry]:
    """Every entry in seq order, fetched ``batch_size`` rows at a time (keyset pagination)."""
    columns = (
        AuditEntry.id,
        AuditEntry.seq,
        AuditEntry.at,
        AuditEntry.actor_id,
        AuditEntry.action,
        AuditEntry.subject_type,
        AuditEntry.subject_id,
        AuditEntry.detail,
        AuditEntry.prev_mac,
        AuditEntry.mac,
    )
    after = 0
    while True:
        rows = session.execute(
            select(*columns).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch_size)
        ).all()
        for row in rows:
            yield ChainEntry(**row._mapping)
        if len(rows) < batch_size:
            return
        after = rows[-1].seq


def verify(session: Session, key: bytes, batch_size: int = 2000) -> VerifyResult:
    """Check the whole stored chain in seq order; report the first entry that breaks it, and why.

    Streams the log in batches (plain rows, not ORM objects), so memory stays flat for millions of
    entries. Reads only; it neither commits nor takes the append lock.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    return verify_chain(_stream(session, batch_size), key)
