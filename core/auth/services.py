"""Sign-in, server-side sessions, throttling, accounts and the security log.

Services own their transaction: each public function commits once (or not at all) and raises a
domain exception the view turns into a message. Nothing here touches request, flash or url_for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.auth.models import Role, SecurityEvent, User, UserSession
from core.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from core.db import utcnow
from core.field_errors import FieldError
from core.geography.models import Ward

security_log = logging.getLogger("sng.security")


class SignInError(Exception):
    """Sign-in refused. ``kind`` is 'bad_credentials', 'locked' or 'disabled'."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class AccountError(FieldError):
    """An account change was refused; ``field`` names the form field it concerns, if any."""


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta
    absolute: dt.timedelta
    max_failures: int
    cool_off: dt.timedelta

    @classmethod
    def from_config(cls, config: dict) -> SessionPolicy:
        return cls(
            idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            absolute=dt.timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
            max_failures=config["SIGN_IN_MAX_FAILURES"],
            cool_off=dt.timedelta(minutes=config["SIGN_IN_COOL_OFF_MINUTES"]),
        )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def record_event(session: Session, event: str, user_id: int | None, detail: str = "") -> None:
    """Add a security event to the session (the caller's commit saves it) and to the log stream."""
    at = utcnow()
    session.add(SecurityEvent(at=at, event=event, user_id=user_id, detail=detail[:200]))
    security_log.info("%s event=%s user_id=%s %s", at.isoformat(), event, user_id or "-", detail)


def log_event(session: Session, event: str, user_id: int | None, detail: str = "") -> None:
    """Record a security event in a transaction of its own."""
    record_event(session, event, user_id, detail)
    session.commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(
    session: Session, email: str, password: str, policy: SessionPolicy, now: dt.datetime | None = None
) -> tuple[User, str]:
    """Check the credentials and open a server-side session. Returns (user, session token).

    After ``policy.max_failures`` wrong passwords in a row the account refuses every attempt,
    the right password included, until the cooling-off period has passed.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        record_event(session, "sign_in_refused_locked", user.id)
        session.commit()
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise SignInError(
            "locked",
            f"There have been too many failed attempts to sign in to this account. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, or ask your coordinator.",
        )
    if not verify_password(user.password_hash if user else None, password) or user is None:
        if user is not None:
            # Atomic in SQL, so concurrent attempts on several app servers all count.
            failures = session.scalar(
                update(User)
                .where(User.id == user.id)
                .values(failed_sign_ins=User.failed_sign_ins + 1)
                .returning(User.failed_sign_ins)
            )
            if failures is not None and failures >= policy.max_failures:
                session.execute(update(User).where(User.id == user.id).values(locked_until=now + policy.cool_off))
                record_event(session, "account_locked", user.id, f"after {failures} failed sign-ins")
        record_event(
            session, "sign_in_failed", user.id if user else None, "" if user else "no account for the address given"
        )
        session.commit()
        raise SignInError("bad_credentials", "Enter a correct email address and password")
    if user.is_disabled:
        record_event(session, "sign_in_refused_disabled", user.id)
        session.commit()
        raise SignInError("disabled", "This account has been disabled. Contact your coordinator.")

    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    record_event(session, "sign_in", user.id)
    session.commit()
    return user, token


# How stale last_seen_at may get before we write it again: saves a write on every request.
_TOUCH_EVERY = dt.timedelta(seconds=60)


def resume_session(
    session: Session, user_id: str | None, token: str | None, policy: SessionPolicy, now: dt.datetime | None = None
) -> User | None:
    """The user for a request's session cookie, or None if the server-side session is not live."""
    if not user_id or not token:
        return None
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or str(row.user_id) != str(user_id):
        return None
    user = row.user
    expired = None
    if user.is_disabled:
        expired = "account_disabled"
    elif now - row.created_at > policy.absolute:
        expired = "expired_absolute"
    elif now - row.last_seen_at > policy.idle:
        expired = "expired_idle"
    if expired:
        row.revoked_at, row.revoked_reason = now, expired
        record_event(session, "session_ended", user.id, expired)
        session.commit()
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return user


def sign_out(session: Session, token: str | None, user_id: int | None) -> None:
    """Revoke the server-side session, so a copy of the cookie is useless from now on."""
    if token:
        session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _token_hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason="signed_out")
        )
    record_event(session, "sign_out", user_id)
    session.commit()


def create_account(
    session: Session,
    *,
    email: str,
    full_name: str,
    role: Role,
    password: str,
    actor_id: int | None = None,
    commit: bool = True,
) -> User:
    """Create an account after checking the password policy and that the email is free.

    ``commit=False`` when the account is part of a larger use case (a volunteer's application)
    whose service commits once for the whole.
    """
    email = normalise_email(email)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, field="password")
    if session.scalar(select(func.count(User.id)).where(User.email == email)):
        raise AccountError("An account with this email address already exists", field="email")
    user = User(email=email, full_name=full_name.strip(), role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record_event(session, "account_created", actor_id, f"account {user.id} role={role.value}")
    if commit:
        session.commit()
    return user


def set_disabled(session: Session, user_id: int, disabled: bool, actor_id: int) -> User:
    """Disable (killing every live session at once) or re-enable an account."""
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such account")
    if user.id == actor_id and disabled:
        raise AccountError("You cannot disable your own account")
    user.is_disabled = disabled
    if disabled:
        session.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason="account_disabled")
        )
    else:
        user.failed_sign_ins, user.locked_until = 0, None
    record_event(session, "account_disabled" if disabled else "account_enabled", actor_id, f"account {user.id}")
    session.commit()
    return user


def set_sergeant_wards_in_borough(
    session: Session, user_id: int, borough_id: int, ward_ids: list[int], actor_id: int
) -> User:
    """Make ``ward_ids`` the sergeant's wards within one borough; wards elsewhere are kept."""
    user = session.get(User, user_id)
    if user is None or user.role is not Role.SERGEANT:
        raise AccountError("Wards can only be given to a sergeant's account")
    chosen = list(session.scalars(select(Ward).where(Ward.id.in_(ward_ids), Ward.borough_id == borough_id)))
    if len(chosen) != len(set(ward_ids)):
        raise AccountError("Choose wards from the borough shown", field="wards")
    user.wards = [w for w in user.wards if w.borough_id != borough_id] + chosen
    record_event(session, "sergeant_wards_changed", actor_id, f"account {user.id} wards={len(user.wards)}")
    session.commit()
    return user
