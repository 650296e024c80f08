"""Personal access tokens: issuing and revoking them (coordinators), and checking, counting and logging
every call a force system makes with one.

* A token is ``sng_`` + 43 characters of ``secrets.token_urlsafe(32)`` (256 random bits). Only its SHA-256
  and its first 8 characters are stored; it is shown once, on the page that answers its creation.
* Issue and revoke are in the HMAC-chained audit log, in the same transaction as the change.
* Every call with a known token is logged (``ApiTokenUse``): what was asked, the answer's status, from where.
* The rate limit is a fixed calendar-minute window per token, counted by one atomic upsert in
  ``throttle_counters`` (key ``api-token:<id>``), so every app server and process shares it; idle
  counters are pruned with the sign-in ones (``core.auth.throttling.prune``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Table, case, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from core.audit.services import record as audit
from core.auth.models import Role, ThrottleCounter, User
from core.db import UTCDateTime, utcnow
from core.field_errors import FieldError
from core.timeutil import london_to_utc, london_today
from matching.api.models import NAME_MAX, PATH_MAX, ApiToken, ApiTokenUse

# What each scope lets a token read, as the token pages say it.
SCOPES = {
    "requests:read": "Support requests: what was asked, where and when, and how many places are booked",
    "offers:read": "Offers: who was offered which place, and their answer",
    "deployments:read": "Deployments: attendance and hours served",
    "coverage:read": "Coverage figures: places asked, offered, booked, served and unfilled, week by week",
    "volunteers:read": "Volunteers: name, kind, status, home ward, skills and when they joined (never vetting)",
}
TOKEN_PREFIX = "sng_"  # noqa: S105 - a marker that makes a leaked token recognisable, not a secret
_TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^sng_[A-Za-z0-9_-]{43}$")
DISPLAY_CHARS = 8  # "sng_" and four characters: enough to tell tokens apart, far too few to guess one
LATEST_USES = 50
# last_used_at is for the list ("used today"); the use log has every call, so one write a minute is enough.
USE_RECORDED_EVERY = dt.timedelta(minutes=1)
RATE_WINDOW = dt.timedelta(minutes=1)
_counters: Table = ThrottleCounter.__table__  # type: ignore[assignment]


class TokenError(FieldError):
    """A refusal to issue or revoke a token, said by the field or as a flash message."""


@dataclass(frozen=True)
class NewToken:
    """A token just issued: ``secret`` exists only here and in the page that shows it once."""

    secret: str
    token: ApiToken


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def latest_expiry(today: dt.date) -> dt.date:
    """The furthest expiry day a token may have: a year from today (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def issue(
    session: Session,
    actor: User,
    *,
    name: str,
    scopes: list[str],
    expires_on: dt.date | None,
    key: bytes,
    now: dt.datetime | None = None,
) -> NewToken:
    """Issue a token to a force system; audited. Raises TokenError naming the field for anything wrong."""
    if actor.role is not Role.COORDINATOR:
        raise TokenError("Only coordinators can issue API tokens")
    now = now or utcnow()
    today = london_today(now)
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Enter a name for the token", "name")
    if len(name) > NAME_MAX:
        raise TokenError(f"The name must be {NAME_MAX} characters or fewer", "name")
    chosen = sorted(set(scopes or []))
    if not chosen:
        raise TokenError("Choose what the token may read", "scopes")
    if any(scope not in SCOPES for scope in chosen):
        raise TokenError("Choose what the token may read from the list", "scopes")
    if expires_on is None:
        raise TokenError("Enter the date the token expires", "expires_on")
    if expires_on <= today:
        raise TokenError("The expiry date must be in the future", "expires_on")
    if expires_on > latest_expiry(today):
        raise TokenError(
            f"The expiry date must be no more than a year from today (by {latest_expiry(today):%-d %B %Y})",
            "expires_on",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    token = ApiToken(
        name=name,
        token_hash=token_hash(secret),
        display_prefix=secret[:DISPLAY_CHARS],
        scopes=" ".join(chosen),
        created_by_id=actor.id,
        created_at=now,
        # Works through the whole of its last London day.
        expires_at=london_to_utc(expires_on + dt.timedelta(days=1), dt.time(0, 0)),
    )
    session.add(token)
    session.flush()
    audit(
        session,
        actor_id=actor.id,
        action="api_token.issued",
        subject_type="api_token",
        subject_id=token.id,
        detail={"name": name, "scopes": chosen, "expires_on": expires_on.isoformat(), "prefix": token.display_prefix},
        key=key,
        at=now,
    )
    session.commit()
    return NewToken(secret=secret, token=token)


def revoke(session: Session, actor: User, token_id: int, *, key: bytes, now: dt.datetime | None = None) -> ApiToken:
    """Revoke a token: it stops working at once (its next call is a 401). Audited."""
    if actor.role is not Role.COORDINATOR:
        raise TokenError("Only coordinators can revoke API tokens")
    now = now or utcnow()
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenError("There is no such token")
    # Conditional, so two coordinators revoking at once record one revocation.
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        session.rollback()
        raise TokenError("This token was already revoked")
    audit(
        session,
        actor_id=actor.id,
        action="api_token.revoked",
        subject_type="api_token",
        subject_id=token.id,
        detail={"name": token.name, "prefix": token.display_prefix},
        key=key,
        at=now,
    )
    session.commit()
    session.refresh(token)
    return token


def all_tokens(session: Session) -> list[ApiToken]:
    """Every token, newest first, with who issued it."""
    return list(session.scalars(select(ApiToken).options(joinedload(ApiToken.created_by)).order_by(ApiToken.id.desc())))


def latest_uses(session: Session, token_id: int, limit: int = LATEST_USES) -> list[ApiTokenUse]:
    return list(
        session.scalars(
            select(ApiTokenUse).where(ApiTokenUse.token_id == token_id).order_by(ApiTokenUse.id.desc()).limit(limit)
        )
    )


# ---- Calls -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """The token a call came with, as the API needs it (no ORM object kept across the request)."""

    token_id: int
    scopes: frozenset[str]


class Refused(Exception):
    """The call's credentials do not work: ``reason`` says why, for the problem's detail."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def authenticate(session: Session, authorization: str | None, now: dt.datetime) -> Caller:
    """The caller of a call with this Authorization header, or Refused (a 401)."""
    if not authorization:
        raise Refused("Send a token in the Authorization header: 'Authorization: Bearer sng_…'")
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not _TOKEN_SHAPE.match(secret):
        raise Refused("The Authorization header must be 'Bearer ' followed by an API token")
    row = session.execute(
        select(ApiToken.id, ApiToken.scopes, ApiToken.expires_at, ApiToken.revoked_at).where(
            ApiToken.token_hash == token_hash(secret)
        )
    ).first()
    if row is None:
        raise Refused("This token is not known")
    if row.revoked_at is not None:
        raise Refused("This token has been revoked")
    if row.expires_at <= now:
        raise Refused("This token has expired")
    return Caller(token_id=row.id, scopes=frozenset(row.scopes.split()))


@dataclass(frozen=True)
class RateCount:
    limit: int
    used: int
    resets_at: dt.datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def seconds_to_reset(self, now: dt.datetime) -> int:
        return max(1, int((self.resets_at - now).total_seconds() + 0.999))


def _window_start(now: dt.datetime) -> dt.datetime:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return now - (now - epoch) % RATE_WINDOW


def count_call(session: Session, token_id: int, limit: int, now: dt.datetime) -> RateCount:
    """Count this call against the token's current minute, and commit (a short transaction of its own, so
    no lock on the counter is held while the call's queries run)."""
    start = _window_start(now)
    at_start = literal(start, UTCDateTime())
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    new_window = _counters.c.window_start < at_start
    statement = (
        insert(_counters)
        .values(key=f"api-token:{token_id}", failures=1, window_start=start, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[_counters.c.key],
            set_={
                "failures": case((new_window, 1), else_=_counters.c.failures + 1),
                "window_start": at_start,
                "last_failure_at": literal(now, UTCDateTime()),
            },
        )
        .returning(_counters.c.failures)
    )
    used = session.execute(statement).scalar_one()
    session.commit()
    return RateCount(limit=limit, used=used, resets_at=start + RATE_WINDOW)


def record_use(
    session: Session, token_id: int, *, method: str, path: str, status: int, address: str | None, now: dt.datetime
) -> None:
    """Log one call, and keep the token's last use current to the minute; commits."""
    session.add(
        ApiTokenUse(
            token_id=token_id,
            used_at=now,
            method=method[:10],
            path=path[:PATH_MAX],
            status=status,
            address=(address or "")[:45],
        )
    )
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - USE_RECORDED_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
