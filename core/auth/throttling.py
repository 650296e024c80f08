"""Throttle counters in the database, so every app server shares them. The rules are ``core.auth.throttle``.

Each function runs in the caller's transaction and does not commit. Counting is one atomic upsert per
key (INSERT … ON CONFLICT DO UPDATE on SQLite and PostgreSQL alike): concurrent tries on several
servers each count, and the row lock (PostgreSQL) or write lock (SQLite) orders them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.auth.models import ThrottleCounter
from core.auth.throttle import Ceiling, Delay
from core.db import UTCDateTime

GLOBAL_KEY = "global"
# Idle counters are kept this long, then pruned: longer than any delay, so pruning never lifts one.
KEEP_IDLE = dt.timedelta(days=1)

_table: Table = ThrottleCounter.__table__  # type: ignore[assignment]


def digest(value: str) -> str:
    """A key part for a value we should not store as it is (an email address typed at sign-in)."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """A key this try was counted against, the count it reached and the rule it was counted by."""

    key: str
    failures: int
    rule: Delay

    @property
    def starts_delay(self) -> bool:
        """This failure is the first that makes the next try wait."""
        return self.failures == self.rule.free

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


def _insert(session: Session):
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


def _at(value: dt.datetime):
    return literal(value, UTCDateTime())


def delayed(session: Session, keys: Sequence[str], now: dt.datetime) -> list[str]:
    """The keys among ``keys`` in their delay at ``now``."""
    return list(
        session.scalars(
            select(ThrottleCounter.key).where(
                ThrottleCounter.key.in_(keys),
                ThrottleCounter.blocked_until.is_not(None),
                ThrottleCounter.blocked_until > now,
            )
        )
    )


def claim(session: Session, key: str, rule: Delay, now: dt.datetime) -> Claim | None:
    """Count a try against ``key`` as a failure now, unless the key is in its delay (then None, and
    nothing is counted: tries refused during a delay never lengthen it).

    Counted before the password is checked, and pessimistically: the delay this failure would start is
    set at once, so a burst of parallel tries cannot all be checked before the first one's failure is
    known. ``forgive`` takes the count back when the password was right.
    """
    starts_afresh = _table.c.last_failure_at <= _at(now - rule.longest)
    statement = (
        _insert(session)(_table)
        .values(key=key, failures=1, window_start=now, last_failure_at=now, blocked_until=rule.blocked_until(1, now))
        .on_conflict_do_update(
            index_elements=[_table.c.key],
            set_={
                "failures": case((starts_afresh, 1), else_=_table.c.failures + 1),
                "window_start": case((starts_afresh, _at(now)), else_=_table.c.window_start),
                "last_failure_at": _at(now),
            },
            where=or_(_table.c.blocked_until.is_(None), _table.c.blocked_until <= _at(now)),
        )
        .returning(_table.c.failures)
    )
    failures = session.execute(statement).scalar()
    if failures is None:
        return None
    # The delay follows from the count just reached (the insert above set it only for a first failure).
    session.execute(update(_table).where(_table.c.key == key).values(blocked_until=rule.blocked_until(failures, now)))
    return Claim(key, failures, rule)


def claim_all(session: Session, wanted: Sequence[tuple[str, Delay]], now: dt.datetime) -> list[Claim] | None:
    """Count a try against every key, or against none of them if any is in its delay (None)."""
    if delayed(session, [key for key, _ in wanted], now):
        return None
    claims = []
    for key, rule in wanted:
        claimed = claim(session, key, rule, now)
        if claimed is None:  # another server's try got there first: give back what this one counted
            forgive(session, claims, reset=False)
            return None
        claims.append(claimed)
    return claims


def forgive(session: Session, claims: Sequence[Claim], *, reset: bool) -> None:
    """The try was not a failure after all. ``reset``: the owner proved who they are, so the count of
    the keys that stand for them (their account, their browser) starts again; otherwise (a shared
    client address) only this try is taken back, so signing in to one's own account between guesses
    at others wipes nothing."""
    for item in claims:
        if reset and item.kind in ("account", "browser"):
            session.execute(delete(_table).where(_table.c.key == item.key))
        else:
            session.execute(
                update(_table)
                .where(_table.c.key == item.key)
                .values(
                    failures=case((_table.c.failures > 0, _table.c.failures - 1), else_=0),
                    blocked_until=None,
                )
            )


def over_ceiling(session: Session, ceiling: Ceiling, now: dt.datetime) -> bool:
    """Whether the service has had ``ceiling.limit`` failures already in the current window."""
    row = session.get(ThrottleCounter, GLOBAL_KEY)
    return row is not None and row.window_start == ceiling.window_start(now) and row.failures >= ceiling.limit


def count_towards_ceiling(session: Session, ceiling: Ceiling, now: dt.datetime) -> int:
    """Count one failure in the current window; returns the window's count so far."""
    start = ceiling.window_start(now)
    new_window = _table.c.window_start < _at(start)
    statement = (
        _insert(session)(_table)
        .values(key=GLOBAL_KEY, failures=1, window_start=start, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[_table.c.key],
            set_={
                "failures": case((new_window, 1), else_=_table.c.failures + 1),
                "window_start": _at(start),
                "last_failure_at": _at(now),
            },
        )
        .returning(_table.c.failures)
    )
    return session.execute(statement).scalar_one()


def prune(session: Session, now: dt.datetime) -> None:
    """Forget counters idle for a day (none of them is in a delay by then)."""
    session.execute(
        delete(_table).where(
            _table.c.last_failure_at < _at(now - KEEP_IDLE),
            or_(_table.c.blocked_until.is_(None), _table.c.blocked_until < _at(now)),
        )
    )
