"""Sign in and out, and the coordinator's account administration. Views are thin: form → service."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms.fields import SelectChoice

from core.auth import credentials, mfa, services
from core.auth.emails import Email
from core.auth.forms import BoroughChoiceForm, SergeantWardsForm, SignInForm, StaffAccountForm
from core.auth.models import Role, TotpAuthenticator, User
from core.auth.web import SESSION_TOKEN_KEY, after_password, recent_auth_required
from core.db import get_session
from core.forms import show_error
from core.geography.models import Borough, Ward
from core.mail import MailError, send_mail
from core.pagination import Page
from core.permissions import EVERY_ROLE, allow, public

bp = Blueprint("auth", __name__)


def session_policy() -> services.SessionPolicy:
    return services.SessionPolicy.from_config(current_app.config)


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would make our sign-in page a phishing aid."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user, token = services.sign_in(
                get_session(),
                form.email.data,
                form.password.data,
                session_policy(),
                address=request.remote_addr,  # ProxyFix has put the client's there when TRUSTED_PROXIES is set
                browser=request.cookies.get(services.KNOWN_BROWSER_COOKIE),
            )
        except services.SignInError as exc:
            form.email.errors.append(exc.message)
        else:
            # Into the service, or first to the security code (or authenticator set-up) the account needs.
            return remember_browser(after_password(user, token, request.args.get("next")), user.id)
    return render_template("auth/sign_in.html", form=form)


def remember_browser(response: Response, user_id: int) -> Response:
    """Mark this browser as one the account's owner signs in with (after a right password): its tries on
    this account are then counted on their own, so other people's failures never slow its owner down.
    The cookie names the account by id only, is signed, and lives a year."""
    value = services.known_browser_cookie(session_policy(), user_id, request.cookies.get(services.KNOWN_BROWSER_COOKIE))
    response.set_cookie(
        services.KNOWN_BROWSER_COOKIE,
        value,
        max_age=int(services.KNOWN_BROWSER_MAX_AGE.total_seconds()),
        path=url_for("auth.sign_in"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.route("/sign-out", methods=["POST"])
@allow(*EVERY_ROLE)
def sign_out():
    services.sign_out(get_session(), session.get(SESSION_TOKEN_KEY), current_user.id)
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/accounts")
@allow(Role.COORDINATOR)
def accounts():
    role = request.args.get("role")
    query = select(User).order_by(User.full_name, User.id)
    count = select(func.count(User.id))
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
        count = count.where(User.role == Role(role))
    db = get_session()
    page = Page.of(db, query, count, request.args.get("page"), per_page=50)
    ids = [user.id for user in page.items]
    invited = credentials.invitation_state(db, ids)
    with_app = set(db.scalars(select(TotpAuthenticator.user_id).where(TotpAuthenticator.user_id.in_(ids))))
    return render_template(
        "auth/accounts.html", page=page, role=role, roles=list(Role), invited=invited, with_app=with_app
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new_account():
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            user, invitation = credentials.invite_staff(
                get_session(),
                email=form.email.data,
                full_name=form.full_name.data,
                role=Role(form.role.data),
                actor_id=current_user.id,
                settings=credentials.Settings.from_config(current_app.config),
            )
        except services.AccountError as exc:
            show_error(form, exc)
        else:
            _flash_invitation(user, _send_invitation(invitation), "Account created for")
            if user.role is Role.SERGEANT:
                return redirect(url_for("auth.sergeant_wards", user_id=user.id))
            if user.role is Role.PARTNER_REVIEWER:  # next: the one organisation they vouch for (volunteers.partners)
                return redirect(url_for("partners.reviewer_partner", reviewer_id=user.id))
            return redirect(url_for("auth.accounts"))
    return render_template("auth/new_account.html", form=form)


@bp.route("/accounts/<int:user_id>/wards", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def sergeant_wards(user_id: int):
    db = get_session()
    user = db.get(User, user_id)
    if user is None or user.role is not Role.SERGEANT:
        abort(404)
    boroughs = list(db.scalars(select(Borough).order_by(Borough.name)))
    choices = [SelectChoice(str(b.id), b.name) for b in boroughs]
    borough_id = user.wards[0].borough_id if user.wards else boroughs[0].id
    asked = BoroughChoiceForm(request.args, meta={"csrf": False})
    asked.borough.choices = choices
    if "borough" in request.args and asked.validate():
        borough_id = asked.borough.data
    # Re-built from the value in use: a tampered borough id just shows the default, with no error.
    chooser = BoroughChoiceForm(formdata=None, data={"borough": borough_id}, meta={"csrf": False})
    chooser.borough.choices = choices
    borough = db.get(Borough, borough_id)
    form = SergeantWardsForm()
    form.wards.choices = [
        SelectChoice(str(w.id), w.name)
        for w in db.scalars(select(Ward).where(Ward.borough_id == borough_id).order_by(Ward.name))
    ]
    if request.method == "GET":
        form.wards.data = [w.id for w in user.wards if w.borough_id == borough_id]
    elif form.validate_on_submit():
        try:
            services.set_sergeant_wards_in_borough(db, user.id, borough_id, form.wards.data or [], current_user.id)
        except services.AccountError as exc:  # e.g. a ward moved to another borough since the page was drawn
            show_error(form, exc)
        else:
            flash(f"Wards saved for {user.full_name}.", "success")
            return redirect(url_for("auth.accounts", role=Role.SERGEANT.value))
    return render_template("auth/sergeant_wards.html", user=user, chooser=chooser, form=form, borough=borough)


@bp.route("/accounts/<int:user_id>/disable", methods=["POST"])
@allow(Role.COORDINATOR)
def disable_account(user_id: int):
    return _set_disabled(user_id, True)


@bp.route("/accounts/<int:user_id>/enable", methods=["POST"])
@allow(Role.COORDINATOR)
def enable_account(user_id: int):
    return _set_disabled(user_id, False)


def _set_disabled(user_id: int, disabled: bool):
    # CSRFProtect has already refused a POST without a valid token.
    try:
        user = services.set_disabled(get_session(), user_id, disabled, current_user.id)
    except services.AccountError as exc:
        flash(exc.message, "error")
    else:
        flash(f"{user.full_name}'s account is now {'disabled' if disabled else 'enabled'}.", "success")
    return redirect(request.referrer if _safe_next(request.referrer) else url_for("auth.accounts"))


def _send_invitation(invitation: Email) -> bool:
    """Send at once (one email, for one account the coordinator is looking at); False if it failed."""
    try:
        send_mail(current_app.config, invitation.to, invitation.subject, invitation.body)
    except MailError as exc:
        current_app.logger.warning("invitation not sent: %s", exc)
        return False
    return True


def _flash_invitation(user: User, sent: bool, done: str) -> None:
    if sent:
        flash(f"{done} {user.full_name}. We have emailed them a link to choose their password.", "success")
    else:
        flash(
            f"{done} {user.full_name}, but the invitation email could not be sent. "
            "Use 'Send invitation again' on the accounts page once email is working.",
            "error",
        )


@bp.route("/accounts/<int:user_id>/invitation", methods=["POST"])
@allow(Role.COORDINATOR)
def resend_invitation(user_id: int):
    try:
        user, invitation = credentials.resend_invitation(
            get_session(), user_id, current_user.id, credentials.Settings.from_config(current_app.config)
        )
    except services.AccountError as exc:
        flash(exc.message, "error")
    else:
        _flash_invitation(user, _send_invitation(invitation), "A new invitation for")
    return redirect(request.referrer if _safe_next(request.referrer) else url_for("auth.accounts"))


@bp.route("/accounts/<int:user_id>/reset-authenticator", methods=["POST"])
@allow(Role.COORDINATOR)
@recent_auth_required
def reset_authenticator(user_id: int):
    """For someone who has lost their phone and their recovery codes: audited in the security log."""
    try:
        user = mfa.reset_authenticator(get_session(), user_id, current_user.id)
    except mfa.CodeError as exc:
        flash(exc.message, "error")
    else:
        message = f"{user.full_name}'s authenticator app has been reset and they have been signed out everywhere."
        if user.mfa_required:
            message += " They will set up a new one when they next sign in."
        flash(message, "success")
    return redirect(request.referrer if _safe_next(request.referrer) else url_for("auth.accounts"))
