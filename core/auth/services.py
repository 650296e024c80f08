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

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.auth import throttling
from core.auth.models import PendingStep, Role, SecurityEvent, User, UserSession
from core.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    unusable_password_hash,
    verify_password,
)
from core.auth.security_log import client_address
from core.auth.security_log import emit as emit_security_line
from core.auth.throttle import Ceiling, Delay, address_key
from core.db import utcnow
from core.field_errors import FieldError
from core.geography.models import Ward
from core.seams import Affected, seams

security_log = logging.getLogger("sng.security")

# One message for every refused try: wrong password, unknown email, an account with no password yet,
# or a try refused unread because its account or address is in a delay. Which one is nobody's business.
BAD_CREDENTIALS = "Enter a correct email address and password"


class SignInError(Exception):
    """Sign-in refused. ``kind`` is 'bad_credentials' or 'disabled'."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class AccountError(FieldError):
    """An account change was refused; ``field`` names the form field it concerns, if any."""


@dataclass(frozen=True)
class Throttling:
    """How sign-in is slowed (core.auth.throttle): per account, per client address, and a ceiling of
    failures per minute across the service. ``browser_key`` signs the known-browser cookie."""

    account: Delay
    address: Delay
    ceiling: Ceiling
    browser_key: str

    @classmethod
    def from_config(cls, config: dict) -> Throttling:
        first = dt.timedelta(seconds=config["SIGN_IN_FIRST_DELAY_SECONDS"])
        longest = dt.timedelta(minutes=config["SIGN_IN_LONGEST_DELAY_MINUTES"])
        return cls(
            account=Delay(config["SIGN_IN_FREE_FAILURES"], first, longest),
            address=Delay(config["SIGN_IN_ADDRESS_FREE_FAILURES"], first, longest),
            ceiling=Ceiling(config["SIGN_IN_GLOBAL_FAILURES_PER_MINUTE"], dt.timedelta(minutes=1)),
            browser_key=config["SECRET_KEY"],
        )


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta
    absolute: dt.timedelta
    throttling: Throttling

    @classmethod
    def from_config(cls, config: dict) -> SessionPolicy:
        return cls(
            idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            absolute=dt.timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
            throttling=Throttling.from_config(config),
        )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def record_event(
    session: Session, event: str, user_id: int | None, detail: str = "", *, address: str | None = None
) -> None:
    """Add a security event to the session (the caller's commit saves it) and to the log stream.

    ``address`` is the client's; by default the one of the web request being served (None elsewhere).
    ``detail`` holds ids and counts only: never a password, a token or an email address.
    """
    at = utcnow()
    address = (address or client_address.get() or "")[:45] or None
    session.add(SecurityEvent(at=at, event=event, user_id=user_id, detail=detail[:200], address=address))
    emit_security_line(at, event, user_id, address, detail[:200])


def log_event(
    session: Session, event: str, user_id: int | None, detail: str = "", *, address: str | None = None
) -> None:
    """Record a security event in a transaction of its own."""
    record_event(session, event, user_id, detail, address=address)
    session.commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pending_step_for(user: User) -> PendingStep | None:
    """What a person whose password was right must still do before they are signed in, if anything."""
    if user.authenticator is not None:
        return PendingStep.CODE
    if user.mfa_required:
        return PendingStep.SET_UP
    return None


def open_session(session: Session, user: User, now: dt.datetime, second_step_done: bool = False) -> str:
    """Add a server-side session for a person who has just given their password; returns its token.

    Where the account needs a second step (a security code, or setting up an authenticator app first)
    the session is *pending*: it signs nobody in until core.auth.mfa completes it (``second_step_done``,
    under a new token). The caller commits.
    """
    token = secrets.token_urlsafe(32)
    step = None if second_step_done else pending_step_for(user)
    session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            pending_step=step,
            authenticated_at=None if step else now,
        )
    )
    return token


def sign_in(
    session: Session,
    email: str,
    password: str,
    policy: SessionPolicy,
    now: dt.datetime | None = None,
    *,
    address: str | None = None,
    browser: str | None = None,
) -> tuple[User, str]:
    """Check the credentials and open a server-side session. Returns (user, session token).

    Slowed, never locked (core.auth.throttle): failures make the next try wait, per account (the email
    typed, known or not) and per client ``address``, up to a ceiling per minute across the service; a
    try made during a wait is refused unread. A ``browser`` cookie showing the owner signed in with it
    before is counted on its own instead, so nobody else's failures slow its owner down.

    Every refusal reads the same and costs one Argon2 verification, whether the email is unknown,
    the account has no password yet, the password is wrong or the try came during a wait.

    Two commits: the try is counted (and committed) before the password is checked, so no row lock is
    held through the Argon2 work; the outcome is the second.
    """
    now = now or utcnow()
    email = normalise_email(email)
    user = session.scalar(select(User).where(User.email == email))
    rules = policy.throttling
    nonce = _known_browser_nonce(rules, browser, user)
    if nonce is not None:
        wanted = [(f"browser:{nonce}", rules.account)]
    else:
        wanted = [
            (f"account:{throttling.digest(email)}", rules.account),
            (f"address:{address_key(address)}", rules.address),
        ]
    waiting = throttling.delayed(session, [key for key, _ in wanted], now)
    if nonce is None and not waiting and throttling.over_ceiling(session, rules.ceiling, now):
        waiting = ["global"]
    claims = None if waiting else throttling.claim_all(session, wanted, now)
    session.commit()

    right = verify_password(user.password_hash if user and claims is not None else None, password)
    user_id = user.id if user else None
    if claims is None:
        kinds = sorted({key.split(":", 1)[0] for key in waiting}) or ["account or address"]
        record_event(session, "sign_in_refused_slowed", user_id, f"{', '.join(kinds)} waiting", address=address)
        session.commit()
        raise SignInError("bad_credentials", BAD_CREDENTIALS)
    if not right or user is None:
        _count_failure(session, user_id, claims, rules, counts_globally=nonce is None, now=now, address=address)
        session.commit()
        raise SignInError("bad_credentials", BAD_CREDENTIALS)
    throttling.forgive(session, claims, reset=True)
    if user.is_disabled:
        record_event(session, "sign_in_refused_disabled", user.id, address=address)
        session.commit()
        raise SignInError("disabled", "This account has been disabled. Contact your coordinator.")

    user.last_sign_in_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = open_session(session, user, now)
    record_event(session, "sign_in" if pending_step_for(user) is None else "sign_in_password_accepted", user.id)
    session.commit()
    return user, token


def _count_failure(
    session: Session,
    user_id: int | None,
    claims: list[throttling.Claim],
    rules: Throttling,
    *,
    counts_globally: bool,
    now: dt.datetime,
    address: str | None,
) -> None:
    """Record a failed try, already counted against its keys; note a delay beginning and the ceiling."""
    record_event(
        session, "sign_in_failed", user_id, "" if user_id else "no account for the address given", address=address
    )
    for claim in claims:
        if claim.starts_delay:
            record_event(
                session,
                "sign_in_slowed",
                user_id if claim.kind != "address" else None,
                f"{claim.kind}: {claim.failures} failures in a row; each next try waits longer, "
                f"up to {int(claim.rule.longest.total_seconds() // 60)} minutes",
                address=address,
            )
    if counts_globally and throttling.count_towards_ceiling(session, rules.ceiling, now) == rules.ceiling.limit:
        record_event(
            session,
            "sign_in_ceiling_reached",
            None,
            f"{rules.ceiling.limit} failed sign-ins this minute: until it ends only browsers known to their "
            "account may try",
            address=address,
        )
    throttling.prune(session, now)


# A browser its owner has signed in with: a signed cookie naming the account and a random nonce.
KNOWN_BROWSER_COOKIE = "sng_known_browser"
KNOWN_BROWSER_MAX_AGE = dt.timedelta(days=365)
_BROWSER_SALT = "sng.known-browser"


def _known_browser_nonce(rules: Throttling, cookie: str | None, user: User | None) -> str | None:
    """The nonce of a valid known-browser cookie for this account, or None."""
    if not cookie or user is None:
        return None
    try:
        user_id, nonce = URLSafeTimedSerializer(rules.browser_key, salt=_BROWSER_SALT).loads(
            cookie, max_age=int(KNOWN_BROWSER_MAX_AGE.total_seconds())
        )
    except (BadData, ValueError, TypeError):
        return None
    return nonce if user_id == user.id and isinstance(nonce, str) and nonce.isalnum() else None


def known_browser_cookie(policy: SessionPolicy, user_id: int, current: str | None) -> str:
    """The cookie value that marks this browser as known to the account: the one it carries if that is
    for this account (so its count goes on), else a new one. Set it after the password was right."""
    serializer = URLSafeTimedSerializer(policy.throttling.browser_key, salt=_BROWSER_SALT)
    if current:
        try:
            owner, nonce = serializer.loads(current, max_age=int(KNOWN_BROWSER_MAX_AGE.total_seconds()))
        except (BadData, ValueError, TypeError):
            pass
        else:
            if owner == user_id and isinstance(nonce, str) and nonce.isalnum():
                return serializer.dumps([user_id, nonce])
    return serializer.dumps([user_id, secrets.token_hex(16)])


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
    if row is None or row.revoked_at is not None or row.pending_step is not None or str(row.user_id) != str(user_id):
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
    password: str | None,
    actor_id: int | None = None,
    commit: bool = True,
) -> User:
    """Create an account after checking the password policy and that the email is free.

    ``password=None`` for an account whose person will choose their own password from an invitation
    (core.auth.credentials.invite_staff): until then no password opens it.
    ``commit=False`` when the account is part of a larger use case (a volunteer's application)
    whose service commits once for the whole.
    """
    email = normalise_email(email)
    problem = password_problem(password) if password is not None else None
    if problem:
        raise AccountError(problem, field="password")
    if session.scalar(select(func.count(User.id)).where(User.email == email)):
        raise AccountError("An account with this email address already exists", field="email")
    password_hash = hash_password(password) if password is not None else unusable_password_hash()
    user = User(email=email, full_name=full_name.strip(), role=role, password_hash=password_hash)
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
        # A volunteer's future offers and bookings are withdrawn with the account, in this transaction.
        for hook in seams().eligibility_changed:
            hook(session, Affected(user_ids=frozenset({user.id})), utcnow())
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
