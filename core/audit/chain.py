"""The HMAC chain of the audit log, over plain values: no Flask, no ORM.

Each entry's MAC is HMAC-SHA256 (keyed from the environment) over a canonical encoding of its
fields *and the previous entry's MAC*, so altering, removing, inserting or reordering an entry
breaks the chain at that entry, and nobody without the key can rebuild it.

The canonical encoding is a JSON array (unambiguous: every string is quoted and escaped) of a
version tag, seq, the time as ISO-8601 UTC with microseconds, actor_id (or null), action,
subject_type, subject_id, the detail as canonical JSON text, and prev_mac. Everything in it is a
string or an integer, so it is the same bytes whatever database the entry was read back from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Bumped if the encoding ever changes; entries say which encoding their MAC was computed over.
ENCODING_VERSION = "sng-audit-v1"
GENESIS_MAC = "0" * 64  # the prev_mac of the first entry
MAC_LENGTH = 64  # hex characters of an HMAC-SHA256


def canonical_json(value: Mapping) -> str:
    """``value`` as canonical JSON: sorted keys, no whitespace, ASCII only, no NaN or infinities.

    Raises TypeError for anything JSON cannot represent, and ValueError for NaN/infinity, so a
    detail that would not read back identically is refused when it is written.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"audit detail must be a mapping, not {type(value).__name__}")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def format_at(at: dt.datetime) -> str:
    """The time as it enters the MAC: ISO-8601 in UTC, always with microseconds and a Z."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given for an audit entry; use an aware datetime")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ChainEntry:
    """One audit entry as plain values. ``detail`` is the canonical JSON text as stored.

    ``id`` is the row's primary key, carried only so that a report can name the row.
    """

    seq: int
    at: dt.datetime
    actor_id: int | None
    action: str
    subject_type: str
    subject_id: str
    detail: str
    prev_mac: str
    mac: str
    id: int | None = None


def compute_mac(
    key: bytes,
    *,
    seq: int,
    at: dt.datetime,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: str,
    prev_mac: str,
) -> str:
    """The hex HMAC-SHA256 of one entry's fields and the previous entry's MAC."""
    if not key:
        raise ValueError("the audit HMAC key is empty")
    message = json.dumps(
        [ENCODING_VERSION, seq, format_at(at), actor_id, action, subject_type, subject_id, detail, prev_mac],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


def entry_mac(key: bytes, entry: ChainEntry) -> str:
    """What ``entry.mac`` should be, given its fields (its own ``mac`` is ignored)."""
    return compute_mac(
        key,
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        detail=entry.detail,
        prev_mac=entry.prev_mac,
    )


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking a chain: ``ok``, or the first entry that breaks it and why.

    ``checked`` counts the entries examined, the breaking one included.
    """

    ok: bool
    checked: int
    bad_seq: int | None = None
    bad_id: int | None = None
    reason: str | None = None


class ChainVerifier:
    """Checks entries one at a time, in seq order, so a chain of millions can be streamed through."""

    def __init__(self, key: bytes):
        if not key:
            raise ValueError("the audit HMAC key is empty")
        self._key = key
        self.checked = 0
        self._expected_seq = 1
        self._prev_mac = GENESIS_MAC

    def check(self, entry: ChainEntry) -> str | None:
        """Check the next entry; return why it breaks the chain, or None if it is sound."""
        self.checked += 1
        if entry.seq != self._expected_seq:
            if entry.seq > self._expected_seq:
                missing = (
                    f"seq={self._expected_seq}"
                    if entry.seq == self._expected_seq + 1
                    else f"seq={self._expected_seq}..{entry.seq - 1}"
                )
                return f"gap in seq: entry {missing} is missing"
            return f"gap in seq: expected seq={self._expected_seq}, found seq={entry.seq}"
        if not hmac.compare_digest(entry_mac(self._key, entry), entry.mac):
            return "mac mismatch: the entry was altered after it was written (or written with another key)"
        if not hmac.compare_digest(entry.prev_mac, self._prev_mac):
            previous = "the genesis value" if self._expected_seq == 1 else f"the mac of entry seq={entry.seq - 1}"
            return f"broken link: prev_mac is not {previous}"
        self._expected_seq += 1
        self._prev_mac = entry.mac
        return None


def verify_chain(entries: Iterable[ChainEntry], key: bytes) -> VerifyResult:
    """Check a whole chain, given in seq order from the first entry; stops at the first break.

    ``entries`` may be a generator: it is consumed one entry at a time and never held whole.
    """
    verifier = ChainVerifier(key)
    for entry in entries:
        reason = verifier.check(entry)
        if reason is not None:
            return VerifyResult(ok=False, checked=verifier.checked, bad_seq=entry.seq, bad_id=entry.id, reason=reason)
    return VerifyResult(ok=True, checked=verifier.checked)
