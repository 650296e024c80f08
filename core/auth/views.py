"""Sign in and out, and the coordinator's account administration. Views are thin: form → service."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from wtforms.fields import SelectChoice

from core.auth import services
from core.auth.forms import BoroughChoiceForm, SergeantWardsForm, SignInForm, StaffAccountForm
from core.auth.models import Role, User
from core.db import get_session
from core.forms import show_error
from core.geography.models import Borough, Ward
from core.pagination import Page
from core.permissions import EVERY_ROLE, allow, public

bp = Blueprint("auth", __name__)

SESSION_TOKEN_KEY = "sid"  # noqa: S105 - the session key name, not a secret


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
            user, token = services.sign_in(get_session(), form.email.data, form.password.data, session_policy())
        except services.SignInError as exc:
            form.email.errors.append(exc.message)
        else:
            session.clear()  # a fresh session on sign-in: nothing carried over from before
            login_user(user)
            session[SESSION_TOKEN_KEY] = token
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/sign_in.html", form=form)


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
    page = Page.of(get_session(), query, count, request.args.get("page"), per_page=50)
    return render_template("auth/accounts.html", page=page, role=role, roles=list(Role))


@bp.route("/accounts/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new_account():
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            user = services.create_account(
                get_session(),
                email=form.email.data,
                full_name=form.full_name.data,
                role=Role(form.role.data),
                password=form.password.data,
                actor_id=current_user.id,
            )
        except services.AccountError as exc:
            show_error(form, exc)
        else:
            flash(f"Account created for {user.full_name}.", "success")
            if user.role is Role.SERGEANT:
                return redirect(url_for("auth.sergeant_wards", user_id=user.id))
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
