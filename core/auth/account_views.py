"""Your account: the second step of signing in, forgotten passwords, invitations, and changing your own
password, email address and authenticator app. Views are thin: form → service → redirect or page.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from core.auth import credentials, mfa, totp
from core.auth.emails import Email
from core.auth.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmIdentityForm,
    ForgottenPasswordForm,
    NewPasswordForm,
    RecoveryCodeForm,
    SecurityCodeForm,
)
from core.auth.models import PendingStep, TokenPurpose, User
from core.auth.services import AccountError
from core.auth.web import (
    PENDING_TOKEN_KEY,
    SESSION_TOKEN_KEY,
    after_password,
    finish_sign_in,
    recent_auth_required,
    safe_next,
)
from core.db import get_session
from core.forms import show_error
from core.mail import MailError, send_mail, send_soon
from core.permissions import EVERY_ROLE, allow, public

bp = Blueprint("account", __name__)
_log = logging.getLogger("sng.mail")

# The address typed on the forgotten-password page, shown back on the "check your email" page.
_RESET_ASKED_KEY = "reset_asked_for"
_NEW_EMAIL_KEY = "new_email_asked_for"


def _settings() -> credentials.Settings:
    return credentials.Settings.from_config(current_app.config)


def _send(email: Email) -> bool:
    """Send now; False (and logged) if the mail server would not take it."""
    try:
        send_mail(current_app.config, email.to, email.subject, email.body)
    except MailError as exc:
        _log.warning("account mail not sent: %s", exc)
        return False
    return True


# ---- Forgotten password -------------------------------------------------------------------------


@bp.route("/forgotten-password", methods=["GET", "POST"])
@public
def forgotten_password():
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        email = credentials.request_password_reset(get_session(), form.email.data, _settings())
        if email is not None:
            # From a background thread: the reply must not take longer for an address that has an account.
            send_soon(current_app.config, email.to, email.subject, email.body)
        session[_RESET_ASKED_KEY] = form.email.data.strip()
        return redirect(url_for("account.reset_link_sent"))
    return render_template("account/forgotten_password.html", form=form)


@bp.route("/forgotten-password/check-your-email")
@public
def reset_link_sent():
    # Reads the same whether or not the address has an account (GOV.UK's confirm-an-email pattern).
    return render_template("account/check_email.html", address=session.get(_RESET_ASKED_KEY), purpose="reset")


def _link_expired(purpose: TokenPurpose):
    return render_template("account/link_expired.html", purpose=purpose.value)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    return _choose_password(token, TokenPurpose.PASSWORD_RESET)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    return _choose_password(token, TokenPurpose.INVITATION)


def _choose_password(token: str, purpose: TokenPurpose):
    db = get_session()
    try:
        user = credentials.link_user(db, token, purpose)
    except credentials.LinkError:
        return _link_expired(purpose)
    form = NewPasswordForm()
    if form.validate_on_submit():
        use = credentials.reset_password if purpose is TokenPurpose.PASSWORD_RESET else credentials.accept_invitation
        try:
            signed_in = use(db, token, form.password.data)
        except credentials.LinkError:
            return _link_expired(purpose)
        except AccountError as exc:
            show_error(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()
            flash(
                "Your password has been changed, and every other sign-in to your account has been ended."
                if purpose is TokenPurpose.PASSWORD_RESET
                else "Your password has been saved.",
                "success",
            )
            return after_password(signed_in.user, signed_in.token, None)
    return render_template("account/choose_password.html", form=form, user=user, purpose=purpose.value)


# ---- The second step of signing in --------------------------------------------------------------


def _pending(step: PendingStep):
    """The pending sign-in of this browser if it waits for ``step``; else None (and a redirect is due)."""
    pending = mfa.pending_sign_in(get_session(), session.get(PENDING_TOKEN_KEY))
    if pending is None or pending.step is not step:
        return None
    return pending


def _start_again():
    if session.pop(PENDING_TOKEN_KEY, None):
        flash("Your sign-in has expired. Sign in again.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/sign-in/security-code", methods=["GET", "POST"])
@public
def security_code():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if _pending(PendingStep.CODE) is None:
        return _start_again()
    form = SecurityCodeForm()
    if form.validate_on_submit():
        try:
            signed_in = mfa.complete_with_code(get_session(), session.get(PENDING_TOKEN_KEY), form.code.data)
        except mfa.CodeError as exc:
            if exc.ended:
                session.pop(PENDING_TOKEN_KEY, None)
                flash(exc.message, "error")
                return redirect(url_for("auth.sign_in"))
            show_error(form, exc)
        else:
            return redirect(finish_sign_in(signed_in.user, signed_in.token))
    return render_template("account/security_code.html", form=form)


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
@public
def recovery_code():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if _pending(PendingStep.CODE) is None:
        return _start_again()
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            signed_in = mfa.complete_with_recovery_code(db, session.get(PENDING_TOKEN_KEY), form.code.data)
        except mfa.CodeError as exc:
            if exc.ended:
                session.pop(PENDING_TOKEN_KEY, None)
                flash(exc.message, "error")
                return redirect(url_for("auth.sign_in"))
            show_error(form, exc)
        else:
            left = mfa.recovery_codes_left(db, signed_in.user.id)
            flash(
                f"You have {left} recovery code{'' if left == 1 else 's'} left. If you have lost your phone, set up "
                "your authenticator app again from your account page: that also gives you new recovery codes.",
                "info",
            )
            return redirect(finish_sign_in(signed_in.user, signed_in.token))
    return render_template("account/recovery_code.html", form=form)


@bp.route("/sign-in/set-up-authenticator", methods=["GET", "POST"])
@public
def set_up_at_sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    pending = _pending(PendingStep.SET_UP)
    if pending is None:
        return _start_again()
    return _set_up(pending.user, session.get(PENDING_TOKEN_KEY), at_sign_in=True)


def _set_up(user: User, token: str | None, at_sign_in: bool):
    db = get_session()
    secret = mfa.setup_secret(db, token)
    if secret is None:
        return _start_again()
    form = SecurityCodeForm()
    if form.validate_on_submit():
        try:
            done = mfa.confirm_setup(db, token, form.code.data)
        except mfa.CodeError as exc:
            if exc.ended:
                session.clear()
                logout_user()
                flash(exc.message, "error")
                return redirect(url_for("auth.sign_in"))
            show_error(form, exc)
        else:
            then = url_for("home.index")
            if done.new_session_token is not None:
                then = finish_sign_in(done.user, done.new_session_token)
            elif not at_sign_in:
                then = url_for("account.index")
            # Shown in this response and never again: only their hashes are kept.
            return render_template("account/recovery_codes.html", codes=done.recovery_codes, then=then)
    uri = totp.provisioning_uri(secret, user.email, current_app.config["SERVICE_NAME"])
    return render_template(
        "account/set_up_authenticator.html",
        form=form,
        qr_svg=totp.qr_svg(uri),
        secret=totp.grouped(secret),
        at_sign_in=at_sign_in,
        replacing=user.authenticator is not None,
        required=user.mfa_required,
    )


# ---- Your account -------------------------------------------------------------------------------


@bp.route("/account")
@allow(*EVERY_ROLE)
def index():
    db = get_session()
    user = db.get(User, current_user.id)
    left = mfa.recovery_codes_left(db, user.id) if user.authenticator is not None else 0
    return render_template("account/index.html", user=user, codes_left=left)


@bp.route("/account/confirm-identity", methods=["GET", "POST"])
@allow(*EVERY_ROLE)
def confirm_identity():
    db = get_session()
    user = db.get(User, current_user.id)
    recovery = request.args.get("with") == "recovery-code"
    form = ConfirmIdentityForm()
    if user.authenticator is None:
        del form.code
    elif recovery:
        form.code.label.text = "Recovery code"
        form.code.description = "One of the recovery codes you saved when you set up your authenticator app."
    target = safe_next(request.args.get("next")) or url_for("account.index")
    if form.validate_on_submit():
        try:
            mfa.reauthenticate(
                db,
                session.get(SESSION_TOKEN_KEY),
                form.password.data,
                form.code.data if "code" in form else None,
                recovery=recovery,
            )
        except mfa.ReauthError as exc:
            if exc.ended:
                return _signed_out(exc.message)
            show_error(form, exc)
        else:
            return redirect(target)
    return render_template("account/confirm_identity.html", form=form, recovery=recovery, target=target)


def _signed_out(message: str):
    """Too many wrong tries: the service has ended this session; the browser forgets it too."""
    logout_user()
    session.clear()
    flash(message, "error")
    return redirect(url_for("auth.sign_in"))


def _check_current_password(form: ChangePasswordForm | ChangeEmailForm):
    """Check the current password whenever one was sent, even if another box was refused, so a wrong password
    and a bad new value are both said on one try (a wrong try counts either way). A response when too many
    wrong tries have ended the session; otherwise None, with any refusal by the password's box."""
    if not form.is_submitted() or form.csrf_token.errors or form.current_password.errors:
        return None
    try:
        mfa.check_current_password(get_session(), session.get(SESSION_TOKEN_KEY), form.current_password.data)
    except mfa.ReauthError as exc:
        if exc.ended:
            return _signed_out(exc.message)
        show_error(form, exc)
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@allow(*EVERY_ROLE)
@recent_auth_required
def change_password():
    form = ChangePasswordForm()
    valid = form.validate_on_submit()
    ended = _check_current_password(form)
    if ended is not None:
        return ended
    if valid and not form.current_password.errors:
        db = get_session()
        try:
            notice = credentials.change_password(
                db, current_user.id, session.get(SESSION_TOKEN_KEY), form.new_password.data, _settings()
            )
        except AccountError as exc:
            show_error(form, exc)
        else:
            _send(notice)
            flash("Your password has been changed. Everywhere else you were signed in has been signed out.", "success")
            return redirect(url_for("account.index"))
    return render_template("account/change_password.html", form=form)


@bp.route("/account/email", methods=["GET", "POST"])
@allow(*EVERY_ROLE)
@recent_auth_required
def change_email():
    form = ChangeEmailForm()
    valid = form.validate_on_submit()
    ended = _check_current_password(form)
    if ended is not None:
        return ended
    if valid and not form.current_password.errors:
        db = get_session()
        try:
            email = credentials.request_email_change(db, current_user.id, form.email.data, _settings())
        except AccountError as exc:
            show_error(form, exc)
        else:
            # The same page whether or not the address is free: its owner's email says what happened.
            send_soon(current_app.config, email.to, email.subject, email.body)
            session[_NEW_EMAIL_KEY] = form.email.data.strip()
            return redirect(url_for("account.email_link_sent"))
    return render_template("account/change_email.html", form=form)


@bp.route("/account/email/check-your-email")
@allow(*EVERY_ROLE)
def email_link_sent():
    return render_template("account/check_email.html", address=session.get(_NEW_EMAIL_KEY), purpose="email")


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
@allow(*EVERY_ROLE)
def confirm_email(token: str):
    db = get_session()
    try:
        owner = credentials.link_user(db, token, TokenPurpose.EMAIL_CHANGE)
    except credentials.LinkError:
        return _link_expired(TokenPurpose.EMAIL_CHANGE)
    if owner.id != current_user.id:  # only the account that asked may confirm its new address
        return _link_expired(TokenPurpose.EMAIL_CHANGE)
    if request.method == "POST":  # CSRFProtect has checked the token
        try:
            notice = credentials.confirm_email_change(db, token, current_user.id, _settings())
        except credentials.LinkError:
            return _link_expired(TokenPurpose.EMAIL_CHANGE)
        except AccountError as exc:
            flash(exc.message, "error")
            return redirect(url_for("account.index"))
        _send(notice)  # to the old address: if this was not them, they learn of it
        flash(f"Your email address is now {current_user.email}.", "success")
        return redirect(url_for("account.index"))
    return render_template("account/confirm_email.html", token=token)


@bp.route("/account/authenticator", methods=["GET", "POST"])
@allow(*EVERY_ROLE)
@recent_auth_required
def set_up_authenticator():
    return _set_up(get_session().get(User, current_user.id), session.get(SESSION_TOKEN_KEY), at_sign_in=False)


@bp.route("/account/authenticator/remove", methods=["POST"])
@allow(*EVERY_ROLE)
@recent_auth_required
def remove_authenticator():
    try:
        mfa.remove_own_authenticator(get_session(), current_user.id)
    except mfa.CodeError as exc:
        flash(exc.message, "error")
    else:
        flash("Your authenticator app has been removed. You now sign in with your password alone.", "success")
    return redirect(url_for("account.index"))


@bp.route("/account/recovery-codes", methods=["POST"])
@allow(*EVERY_ROLE)
@recent_auth_required
def new_recovery_codes():
    try:
        codes = mfa.new_recovery_codes(get_session(), current_user.id)
    except mfa.CodeError as exc:
        flash(exc.message, "error")
        return redirect(url_for("account.index"))
    return render_template("account/recovery_codes.html", codes=codes, then=url_for("account.index"))
