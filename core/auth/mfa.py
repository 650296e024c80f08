"""The second step of signing in (authenticator apps and recovery codes) and re-authentication.

A right password opens a *pending* session (core.auth.services.open_session) when the account has an
authenticator app, or must set one up; the functions here complete it, or end it after too many wrong
codes. Each public function commits once (or raises before committing what it refuses); nothing here
touches request, flash or url_for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from core.auth import totp
from core.auth.models import PendingStep, RecoveryCode, TotpAuthenticator, User, UserSession
from core.auth.passwords import hash_recovery_code, new_recovery_code, verify_password, verify_recovery_code
from core.auth.services import _token_hash, open_session, record_event
from core.clock import wall_clock
from core.db import utcnow
from core.field_errors import FieldError

# A pending sign-in lasts long enough to fetch a phone, not long enough to be left open on a desk.
PENDING_LIFETIME = dt.timedelta(minutes=10)
# Wrong codes (or passwords, when re-authenticating) before the session is ended: six digits are
# guessable only by volume, and every new try then costs a password and the sign-in throttle.
MAX_FAILURES = 5
# How recent the last proof of identity must be before changing sign-in details or exporting.
RECENT_AUTH = dt.timedelta(minutes=15)
RECOVERY_CODES = 10

WRONG_CODE = "The security code is not right. Enter the code your authenticator app shows now"
USED_CODE = "That code has already been used. Wait for your authenticator app to show a new code, then enter it"
WRONG_RECOVERY = "That recovery code is not right, or has already been used. Check it and try again"
TOO_MANY = "There were too many wrong codes. Sign in again to get another chance."
EXPIRED = "Your sign-in has expired. Sign in again."


class CodeError(FieldError):
    """A security or recovery code was refused. ``ended``: the attempt is over, start signing in again."""

    def __init__(self, message: str, field: str | None = "code", ended: bool = False):
        super().__init__(message, field)
        self.ended = ended


@dataclass(frozen=True)
class Pending:
    """A sign-in waiting for its second step."""

    user: User
    step: PendingStep
    setup_secret: str | None


# ---- Pending sign-ins ---------------------------------------------------------------------------


def _live_row(session: Session, token: str | None) -> UserSession | None:
    if not token:
        return None
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or row.user.is_disabled:
        return None
    return row


def _pending_row(session: Session, token: str | None, now: dt.datetime) -> UserSession | None:
    row = _live_row(session, token)
    if row is None or row.pending_step is None or now - row.created_at > PENDING_LIFETIME:
        return None
    return row


def pending_sign_in(session: Session, token: str | None, now: dt.datetime | None = None) -> Pending | None:
    """The sign-in a browser's pending token stands for, or None if there is none (or it has expired)."""
    row = _pending_row(session, token, now or utcnow())
    if row is None:
        return None
    return Pending(user=row.user, step=row.pending_step, setup_secret=row.setup_secret)


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # the new full session's; the pending one is dead


def _complete(session: Session, row: UserSession, now: dt.datetime, how: str) -> str:
    """Swap a pending session for a full one, under a new token: the pending token dies with its step."""
    row.revoked_at, row.revoked_reason = now, "second_step_done"
    token = open_session(session, row.user, now, second_step_done=True)
    row.user.last_sign_in_at = now
    record_event(session, "sign_in", row.user_id, how)
    return token


def _count_failure(session: Session, row: UserSession, now: dt.datetime, event: str) -> bool:
    """Count a wrong code or password on ``row``; True when that was one too many and the row is ended."""
    failures = session.scalar(
        update(UserSession)
        .where(UserSession.id == row.id)
        .values(failed_codes=UserSession.failed_codes + 1)
        .returning(UserSession.failed_codes)
    )
    record_event(session, event, row.user_id)
    if failures is not None and failures >= MAX_FAILURES:
        session.execute(
            update(UserSession).where(UserSession.id == row.id).values(revoked_at=now, revoked_reason="too_many_codes")
        )
        record_event(session, "session_ended", row.user_id, "too many wrong codes or passwords")
        return True
    return False


def _accept_totp(session: Session, user_id: int, secret: str, typed: str, now: dt.datetime) -> None:
    """Accept an authenticator code once: the step it belongs to must be later than the last accepted."""
    step = totp.matching_step(secret, typed, now)
    if step is None:
        raise CodeError(WRONG_CODE)
    # Conditional, so two requests racing with the same code cannot both pass.
    accepted = session.execute(
        update(TotpAuthenticator)
        .where(
            TotpAuthenticator.user_id == user_id,
            or_(TotpAuthenticator.last_step.is_(None), TotpAuthenticator.last_step < step),
        )
        .values(last_step=step)
    ).rowcount
    if not accepted:
        raise CodeError(USED_CODE)


def _use_recovery_code(session: Session, user_id: int, typed: str, now: dt.datetime) -> None:
    for code in session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    ):
        if verify_recovery_code(code.code_hash, typed):
            used = session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == code.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if used:
                return
    raise CodeError(WRONG_RECOVERY)


def complete_with_code(session: Session, token: str | None, typed: str, now: dt.datetime | None = None) -> SignedIn:
    """Finish a pending sign-in with a code from the authenticator app. Raises CodeError."""
    # The phone's code follows real time, never a test's moved app clock (core/clock.py).
    code_time = now or wall_clock()
    now = now or utcnow()
    row = _pending_row(session, token, now)
    if row is None or row.pending_step is not PendingStep.CODE or row.user.authenticator is None:
        raise CodeError(EXPIRED, ended=True)
    try:
        _accept_totp(session, row.user_id, row.user.authenticator.secret, typed, code_time)
    except CodeError as refused:
        _refuse(session, row, now, refused, "sign_in_code_refused")
    return _finish(session, row, now, "with an authenticator code")


def complete_with_recovery_code(
    session: Session, token: str | None, typed: str, now: dt.datetime | None = None
) -> SignedIn:
    """Finish a pending sign-in with one of the account's recovery codes, which is then used up."""
    now = now or utcnow()
    row = _pending_row(session, token, now)
    if row is None or row.pending_step is not PendingStep.CODE:
        raise CodeError(EXPIRED, ended=True)
    try:
        _use_recovery_code(session, row.user_id, typed, now)
    except CodeError as refused:
        _refuse(session, row, now, refused, "recovery_code_refused")
    return _finish(session, row, now, "with a recovery code")


def _refuse(session: Session, row: UserSession, now: dt.datetime, refused: CodeError, event: str) -> NoReturn:
    session.rollback()  # nothing of the refused attempt is kept but the count
    row = session.get(UserSession, row.id)
    ended = _count_failure(session, row, now, event)
    session.commit()
    if ended:
        raise CodeError(TOO_MANY, ended=True) from None
    raise refused


def _finish(session: Session, row: UserSession, now: dt.datetime, how: str) -> SignedIn:
    token = _complete(session, row, now, how)
    session.commit()
    return SignedIn(user=row.user, token=token)


def recovery_codes_left(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )


# ---- Setting up an authenticator app ------------------------------------------------------------


def setup_secret(session: Session, token: str | None, now: dt.datetime | None = None) -> str | None:
    """The secret being set up in this session (made on first call, kept so a reload shows the same
    QR code); None if the session is neither live nor a sign-in waiting for set-up."""
    now = now or utcnow()
    row = _live_row(session, token)
    if row is None or row.pending_step is PendingStep.CODE:
        return None
    if row.pending_step is PendingStep.SET_UP and now - row.created_at > PENDING_LIFETIME:
        return None
    if row.setup_secret is None:
        row.setup_secret = totp.new_secret()
        session.commit()
    return row.setup_secret


@dataclass(frozen=True)
class SetUp:
    user: User
    recovery_codes: list[str]  # shown once; only their hashes are kept
    new_session_token: str | None  # when this completed a sign-in


def confirm_setup(session: Session, token: str | None, typed: str, now: dt.datetime | None = None) -> SetUp:
    """Prove the new app with a code it shows: it becomes the account's (replacing any earlier one),
    with ten new recovery codes. A sign-in that was waiting for this is completed."""
    code_time = now or wall_clock()  # the phone's code follows real time (core/clock.py)
    now = now or utcnow()
    row = _live_row(session, token)
    if row is None or row.setup_secret is None or row.pending_step is PendingStep.CODE:
        raise CodeError(EXPIRED, ended=True)
    step = totp.matching_step(row.setup_secret, typed, code_time)
    if step is None:
        ended = _count_failure(session, row, now, "authenticator_set_up_code_refused")
        session.commit()
        raise CodeError(TOO_MANY if ended else WRONG_CODE, ended=ended)
    user = row.user
    session.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id))
    session.add(TotpAuthenticator(user_id=user.id, secret=row.setup_secret, created_at=now, last_step=step))
    codes = _replace_recovery_codes(session, user.id, now)
    row.setup_secret = None
    record_event(session, "authenticator_set_up", user.id)
    new_token = None
    if row.pending_step is PendingStep.SET_UP:
        new_token = _complete(session, row, now, "after setting up an authenticator app")
    else:
        row.authenticated_at = now  # they have just proved the new app
    session.commit()
    session.expire(user, ["authenticator"])
    return SetUp(user=user, recovery_codes=codes, new_session_token=new_token)


def _replace_recovery_codes(session: Session, user_id: int, now: dt.datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=hash_recovery_code(c), created_at=now) for c in codes)
    return codes


def new_recovery_codes(session: Session, user_id: int, now: dt.datetime | None = None) -> list[str]:
    """Ten fresh recovery codes; the old ones stop working."""
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None or user.authenticator is None:
        raise CodeError("Set up an authenticator app first", field=None)
    codes = _replace_recovery_codes(session, user_id, now)
    record_event(session, "recovery_codes_replaced", user_id)
    session.commit()
    return codes


def remove_own_authenticator(session: Session, user_id: int) -> None:
    """Turn off the second step, for a role that may do without it."""
    user = session.get(User, user_id)
    if user is None:
        raise CodeError("No such account", field=None)
    if user.mfa_required:
        raise CodeError(
            f"A {user.role.label.lower()} must use an authenticator app. You can set up a new one instead.",
            field=None,
        )
    _drop_authenticator(session, user_id)
    record_event(session, "authenticator_removed", user_id)
    session.commit()


def _drop_authenticator(session: Session, user_id: int) -> None:
    session.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


def reset_authenticator(session: Session, user_id: int, actor_id: int, now: dt.datetime | None = None) -> User:
    """A coordinator resets someone's second step (a lost phone, no recovery codes left): the app and
    recovery codes are removed and every session of the account ends. A role that needs an app sets
    up a new one at its next sign-in. Audited in the security log."""
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None:
        raise CodeError("No such account", field=None)
    if user.id == actor_id:
        raise CodeError("You cannot reset your own authenticator app here. Use your account page.", field=None)
    if user.authenticator is None:
        raise CodeError(f"{user.full_name} has no authenticator app to reset", field=None)
    _drop_authenticator(session, user.id)
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason="authenticator_reset")
    )
    record_event(session, "authenticator_reset", actor_id, f"account {user.id}")
    session.commit()
    return user


# ---- Re-authentication --------------------------------------------------------------------------


def recently_authenticated(session: Session, token: str | None, now: dt.datetime | None = None) -> bool:
    """Whether this session's person proved who they are within RECENT_AUTH."""
    now = now or utcnow()
    row = _live_row(session, token)
    return (
        row is not None
        and row.pending_step is None
        and row.authenticated_at is not None
        and now - row.authenticated_at <= RECENT_AUTH
    )


class ReauthError(FieldError):
    """Re-authentication refused; ``ended``: too many tries, the session has been signed out."""

    def __init__(self, message: str, field: str | None, ended: bool = False):
        super().__init__(message, field)
        self.ended = ended


def reauthenticate(
    session: Session,
    token: str | None,
    password: str,
    code: str | None,
    recovery: bool = False,
    now: dt.datetime | None = None,
) -> None:
    """Prove again who you are: the password, and where the account has an app, a code from it (or,
    with ``recovery``, a recovery code). Too many wrong tries sign the session out."""
    code_time = now or wall_clock()  # the phone's code follows real time (core/clock.py)
    now = now or utcnow()
    row = _live_row(session, token)
    if row is None or row.pending_step is not None:
        raise ReauthError("Sign in again.", None, ended=True)
    user = row.user
    try:
        if not verify_password(user.password_hash, password):
            raise ReauthError("The password is not right", "password")
        if user.authenticator is not None:
            if not code:
                raise ReauthError("Enter the recovery code" if recovery else "Enter the security code", "code")
            try:
                if recovery:
                    _use_recovery_code(session, user.id, code, now)
                else:
                    _accept_totp(session, user.id, user.authenticator.secret, code, code_time)
            except CodeError as refused:
                raise ReauthError(refused.message, "code") from None
    except ReauthError:
        session.rollback()
        row = session.get(UserSession, row.id)
        ended = _count_failure(session, row, now, "reauthentication_refused")
        session.commit()
        if ended:
            raise ReauthError(TOO_MANY.replace("codes", "tries"), None, ended=True) from None
        raise
    row.authenticated_at = now
    row.failed_codes = 0
    record_event(session, "reauthenticated", user.id)
    session.commit()


def check_current_password(session: Session, token: str | None, password: str, now: dt.datetime | None = None) -> None:
    """The current password, asked again by a change of password or email: wrong tries count like
    re-authentication's, so a left-open session cannot be used to guess it."""
    now = now or utcnow()
    row = _live_row(session, token)
    if row is None or row.pending_step is not None:
        raise ReauthError("Sign in again.", None, ended=True)
    if verify_password(row.user.password_hash, password):
        return
    ended = _count_failure(session, row, now, "current_password_refused")
    session.commit()
    if ended:
        raise ReauthError(TOO_MANY.replace("codes", "tries"), None, ended=True)
    raise ReauthError("Your current password is not right", "current_password")
