"""The credential life cycle: password reset, invitations to set a first password, and changing one's
password or email address.

Every one-time link is a random token of which only the SHA-256 is stored (``AccountToken``), valid for
a set time and used once. Nobody ever sets another person's password: a coordinator creates an account
and the person is invited to choose their own. Each public function commits once (or raises before it
commits what it refuses) and returns what must be emailed; the caller sends it once the change is saved.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import emails
from core.auth.emails import Email
from core.auth.models import AccountToken, Role, TokenPurpose, User, UserSession
from core.auth.passwords import has_usable_password, hash_password, password_problem
from core.auth.services import (
    AccountError,
    _token_hash,
    create_account,
    normalise_email,
    open_session,
    pending_step_for,
    record_event,
)
from core.db import utcnow

RESET_LIFETIME = dt.timedelta(hours=1)
INVITATION_LIFETIME = dt.timedelta(days=7)
EMAIL_CHANGE_LIFETIME = dt.timedelta(hours=24)
# Reset emails one account may be sent in an hour: enough for a lost email, too few to flood an inbox.
RESETS_PER_HOUR = 3

LIFETIMES = {
    TokenPurpose.PASSWORD_RESET: RESET_LIFETIME,
    TokenPurpose.INVITATION: INVITATION_LIFETIME,
    TokenPurpose.EMAIL_CHANGE: EMAIL_CHANGE_LIFETIME,
}


class LinkError(Exception):
    """The link is unknown, used, superseded or expired (one message for all: which does not matter
    to the person, and telling them apart would help someone guessing)."""


@dataclass(frozen=True)
class Settings:
    """What the emails need to say: the service's name and where it is reached."""

    service: str
    public_url: str

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls(service=config["SERVICE_NAME"], public_url=config["PUBLIC_URL"])


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # a new server-side session: full, or pending its second step (core.auth.mfa)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _issue(session: Session, user: User, purpose: TokenPurpose, now: dt.datetime, new_email: str | None = None) -> str:
    token = _new_token()
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_token_hash(token),
            new_email=new_email,
            created_at=now,
            sent_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    return token


def _revoke(session: Session, user_id: int, purposes: Iterable[TokenPurpose], now: dt.datetime) -> None:
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose.in_(list(purposes)),
            AccountToken.used_at.is_(None),
            AccountToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


def _live_token(session: Session, token: str, purpose: TokenPurpose, now: dt.datetime) -> AccountToken | None:
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        select(AccountToken).where(AccountToken.token_hash == _token_hash(token), AccountToken.purpose == purpose)
    )
    if (
        row is None
        or row.used_at is not None
        or row.revoked_at is not None
        or row.expires_at is None
        or row.expires_at <= now
        or row.user.is_disabled
    ):
        return None
    return row


def _use(session: Session, token: str, purpose: TokenPurpose, now: dt.datetime) -> AccountToken:
    """Mark the link used, once: a conditional update, so two clicks racing cannot both pass."""
    row = _live_token(session, token, purpose, now)
    if row is None:
        raise LinkError()
    used = session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None), AccountToken.revoked_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not used:
        raise LinkError()
    return row


def _end_sessions(session: Session, user_id: int, reason: str, now: dt.datetime, keep_token: str | None = None):
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(UserSession.token_hash != _token_hash(keep_token))
    session.execute(query.values(revoked_at=now, revoked_reason=reason))


def link_user(session: Session, token: str, purpose: TokenPurpose, now: dt.datetime | None = None) -> User:
    """The account a live link belongs to (for showing its page); raises LinkError. Uses nothing up."""
    row = _live_token(session, token, purpose, now or utcnow())
    if row is None:
        raise LinkError()
    return row.user


# ---- Forgotten password -------------------------------------------------------------------------


def request_password_reset(
    session: Session, email: str, settings: Settings, now: dt.datetime | None = None
) -> Email | None:
    """A reset link for the account with this address, if there is one that may have it.

    The caller's reply must not depend on the result (it reads the same whether or not the address is
    known); None when no email is due: no account, a disabled one, or RESETS_PER_HOUR already sent.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        record_event(session, "password_reset_requested", None, "no account for the address given")
        session.commit()
        return None
    if user.is_disabled:
        record_event(session, "password_reset_refused", user.id, "account disabled")
        session.commit()
        return None
    sent = session.scalar(
        select(func.count(AccountToken.id)).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.PASSWORD_RESET,
            AccountToken.created_at > now - dt.timedelta(hours=1),
        )
    )
    if sent >= RESETS_PER_HOUR:
        record_event(session, "password_reset_throttled", user.id, f"{sent} reset emails in the last hour")
        session.commit()
        return None
    token = _issue(session, user, TokenPurpose.PASSWORD_RESET, now)
    record_event(session, "password_reset_requested", user.id)
    session.commit()
    return emails.password_reset(settings.service, settings.public_url, user.email, user.full_name, token)


def _set_password(
    session: Session, token: str, purpose: TokenPurpose, password: str, event: str, now: dt.datetime
) -> SignedIn:
    problem = password_problem(password)
    if problem:  # checked first: a refused password must not use the link up
        if _live_token(session, token, purpose, now) is None:
            raise LinkError()
        raise AccountError(problem, field="password")
    row = _use(session, token, purpose, now)
    user = row.user
    user.password_hash = hash_password(password)
    # Whoever held a session or another link is out: this is how someone takes their account back.
    _end_sessions(session, user.id, event, now)
    _revoke(session, user.id, [TokenPurpose.PASSWORD_RESET, TokenPurpose.INVITATION], now)
    record_event(session, event, user.id)
    new_token = open_session(session, user, now)
    if pending_step_for(user) is None:
        user.last_sign_in_at = now
    session.commit()
    return SignedIn(user=user, token=new_token)


def reset_password(session: Session, token: str, password: str, now: dt.datetime | None = None) -> SignedIn:
    """Set a new password from a reset link: the link is used up, every session of the account ends,
    and the person is signed in afresh (through their second step, where they have one).
    Raises LinkError, or AccountError for a password the policy refuses (the link stays live)."""
    return _set_password(session, token, TokenPurpose.PASSWORD_RESET, password, "password_reset", now or utcnow())


# ---- Invitations --------------------------------------------------------------------------------


def invite_staff(
    session: Session,
    *,
    email: str,
    full_name: str,
    role: Role,
    actor_id: int,
    settings: Settings,
    now: dt.datetime | None = None,
) -> tuple[User, Email]:
    """Create a staff account with no password and an invitation (valid 7 days) to choose one."""
    now = now or utcnow()
    user = create_account(
        session, email=email, full_name=full_name, role=role, password=None, actor_id=actor_id, commit=False
    )
    token = _issue(session, user, TokenPurpose.INVITATION, now)
    record_event(session, "invitation_sent", actor_id, f"account {user.id}")
    session.commit()
    return user, emails.invitation(settings.service, settings.public_url, user.email, user.full_name, user.role, token)


def resend_invitation(
    session: Session, user_id: int, actor_id: int, settings: Settings, now: dt.datetime | None = None
) -> tuple[User, Email]:
    """A new invitation link for someone who has not chosen a password yet; earlier links stop working."""
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such account")
    if has_usable_password(user.password_hash):
        raise AccountError(f"{user.full_name} has already chosen a password")
    if user.is_disabled:
        raise AccountError(f"{user.full_name}'s account is disabled. Enable it first.")
    _revoke(session, user.id, [TokenPurpose.INVITATION], now)
    token = _issue(session, user, TokenPurpose.INVITATION, now)
    record_event(session, "invitation_sent", actor_id, f"account {user.id} (sent again)")
    session.commit()
    return user, emails.invitation(settings.service, settings.public_url, user.email, user.full_name, user.role, token)


def queue_invitations(session: Session, user_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Invitations for many new accounts (a CSV import), in the caller's transaction, to be mailed by
    ``send_queued_invitations``: they hold no token until then, so the only copy is in the email."""
    now = now or utcnow()
    rows = [dict(user_id=uid, purpose=TokenPurpose.INVITATION, created_at=now) for uid in user_ids]
    for start in range(0, len(rows), 5000):
        session.execute(insert(AccountToken.__table__), rows[start : start + 5000])


def send_queued_invitations(
    session: Session,
    send: Callable[[Email], object],
    settings: Settings,
    now: Callable[[], dt.datetime] = utcnow,
    limit: int | None = None,
) -> tuple[int, int]:
    """Mail the queued invitations, one commit each. Returns (sent, failed).

    A message the mail server refuses stays queued for the next run, and this run stops there: the
    server is probably down, and the rest would fail the same way. ``send`` raises on failure.
    """
    sent = 0
    while limit is None or sent < limit:
        row = session.scalar(
            select(AccountToken)
            .where(
                AccountToken.purpose == TokenPurpose.INVITATION,
                AccountToken.token_hash.is_(None),
                AccountToken.used_at.is_(None),
                AccountToken.revoked_at.is_(None),
            )
            .order_by(AccountToken.id)
            .limit(1)
        )
        if row is None:
            return sent, 0
        at = now()
        user = row.user
        if user.is_disabled or has_usable_password(user.password_hash):
            row.revoked_at = at  # nothing to invite them to any more
            session.commit()
            continue
        token = _new_token()
        row.token_hash, row.sent_at, row.expires_at = _token_hash(token), at, at + INVITATION_LIFETIME
        session.flush()
        try:
            send(emails.invitation(settings.service, settings.public_url, user.email, user.full_name, user.role, token))
        except Exception:  # noqa: BLE001 - any failure to hand the mail over: keep it queued
            session.rollback()
            return sent, 1
        record_event(session, "invitation_sent", None, f"account {user.id} (queued)")
        session.commit()
        sent += 1
    return sent, 0


def accept_invitation(session: Session, token: str, password: str, now: dt.datetime | None = None) -> SignedIn:
    """Choose a first password from an invitation; the person is then signed in (a role that needs an
    authenticator app sets one up next)."""
    return _set_password(session, token, TokenPurpose.INVITATION, password, "invitation_accepted", now or utcnow())


def invitation_state(session: Session, user_ids: Iterable[int], now: dt.datetime | None = None) -> dict[int, str]:
    """For the accounts list: 'waiting' (a live link is out or queued) or 'expired', for each of
    ``user_ids`` that has never chosen a password."""
    now = now or utcnow()
    ids = list(user_ids)
    if not ids:
        return {}
    waiting = set(
        session.scalars(
            select(AccountToken.user_id).where(
                AccountToken.user_id.in_(ids),
                AccountToken.purpose == TokenPurpose.INVITATION,
                AccountToken.used_at.is_(None),
                AccountToken.revoked_at.is_(None),
                (AccountToken.expires_at.is_(None)) | (AccountToken.expires_at > now),
            )
        )
    )
    no_password = session.scalars(select(User.id).where(User.id.in_(ids), User.password_hash.startswith("!")))
    return {uid: "waiting" if uid in waiting else "expired" for uid in no_password}


# ---- Changing one's own password or email address -----------------------------------------------


def change_password(
    session: Session,
    user_id: int,
    current_token: str | None,
    new_password: str,
    settings: Settings,
    now: dt.datetime | None = None,
) -> Email:
    """Set a new password (the current one has been checked by core.auth.mfa.check_current_password).
    Every other session of the account ends; this one stays. Returns the notice for the account's address."""
    now = now or utcnow()
    problem = password_problem(new_password)
    if problem:
        raise AccountError(problem, field="new_password")
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such account")
    user.password_hash = hash_password(new_password)
    _end_sessions(session, user.id, "password_changed", now, keep_token=current_token)
    _revoke(session, user.id, [TokenPurpose.PASSWORD_RESET], now)
    record_event(session, "password_changed", user.id)
    session.commit()
    return emails.password_changed(settings.service, user.email, user.full_name)


def request_email_change(
    session: Session, user_id: int, new_email: str, settings: Settings, now: dt.datetime | None = None
) -> Email:
    """Ask to move the account to ``new_email``: a confirmation link goes there, and the address changes
    only when it is followed. If the address already has an account, its owner is told instead and
    nothing changes: the reply to the person asking is the same either way."""
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such account")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise AccountError("That is already your email address", field="email")
    if session.scalar(select(func.count(User.id)).where(User.email == new_email)):
        record_event(session, "email_change_refused", user.id, "the new address already has an account")
        session.commit()
        return emails.new_email_already_used(settings.service, new_email)
    _revoke(session, user.id, [TokenPurpose.EMAIL_CHANGE], now)
    token = _issue(session, user, TokenPurpose.EMAIL_CHANGE, now, new_email=new_email)
    record_event(session, "email_change_requested", user.id)
    session.commit()
    return emails.confirm_new_email(settings.service, settings.public_url, new_email, user.full_name, token)


def confirm_email_change(
    session: Session, token: str, user_id: int, settings: Settings, now: dt.datetime | None = None
) -> Email:
    """Follow the confirmation link (signed in as the account it is for): the address changes. Returns
    the notice for the old address. Raises LinkError, or AccountError if the address was taken meanwhile."""
    now = now or utcnow()
    row = _live_token(session, token, TokenPurpose.EMAIL_CHANGE, now)
    if row is None or row.user_id != user_id:
        raise LinkError()
    _use(session, token, TokenPurpose.EMAIL_CHANGE, now)
    user = row.user
    old_email, user.email = user.email, row.new_email
    # Reset links went to the old address: they must not outlive it.
    _revoke(session, user.id, [TokenPurpose.PASSWORD_RESET], now)
    record_event(session, "email_changed", user.id)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError("That email address now belongs to another account. Choose a different one.") from None
    return emails.email_changed(settings.service, old_email, user.full_name, user.email)
