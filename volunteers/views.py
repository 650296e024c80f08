"""The volunteer's own pages: apply, the profile and its sections. Thin: form → service → redirect."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from sqlalchemy import select
from wtforms.fields import SelectChoice

from core.auth import services as auth_services
from core.auth.models import Role
from core.auth.views import SESSION_TOKEN_KEY, session_policy
from core.db import get_session
from core.geography.models import Borough, Ward
from core.permissions import allow, public
from volunteers import services
from volunteers.forms import (
    BoroughForm,
    ContactForm,
    HomeWardForm,
    PreferencesForm,
    RegistrationForm,
    TravelForm,
    WorkForm,
)
from volunteers.models import OccupationCategory, Volunteer, VolunteerKind, WorkAdjustment

bp = Blueprint("volunteers", __name__)


def task_type_names() -> dict[str, str]:
    """Task types the vetting policy defines (wired in by create_app: volunteers does not import vetting)."""
    return current_app.extensions["task_type_names"]()


def _own_volunteer() -> Volunteer:
    volunteer = services.volunteer_for_user(get_session(), current_user.id)
    if volunteer is None:
        abort(404)
    return volunteer


@bp.route("/apply", methods=["GET", "POST"])
@public
def apply():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.register(
                db, full_name=form.full_name.data, email=form.email.data, phone=form.phone.data,
                kind=VolunteerKind(form.kind.data), password=form.password.data,
            )
        except services.ProfileError as exc:
            getattr(form, exc.field or "email").errors.append(exc.message)
        else:
            user, token = auth_services.sign_in(db, form.email.data, form.password.data, session_policy())
            session.clear()
            login_user(user)
            session[SESSION_TOKEN_KEY] = token
            flash("Application received. A vetting officer will review it; meanwhile, complete your profile.",
                  "success")
            return redirect(url_for("volunteers.profile"))
    return render_template("volunteers/apply.html", form=form)


@bp.route("/profile")
@allow(Role.VOLUNTEER)
def profile():
    volunteer = _own_volunteer()
    names = task_type_names()
    return render_template("volunteers/profile.html", volunteer=volunteer,
                           preferences=[names.get(p.task_type_code, p.task_type_code) for p in volunteer.preferences])


def _versioned(form, volunteer: Volunteer) -> None:
    if request.method == "GET":
        form.version.data = str(volunteer.version)


def _edit(form, volunteer: Volunteer, save, template: str, **context):
    """The shared shape of every profile section: show, validate, save with the version check."""
    _versioned(form, volunteer)
    if form.validate_on_submit():
        try:
            save()
        except services.ProfileError as exc:
            target = getattr(form, exc.field, None) if exc.field else None
            if target is not None:
                target.errors.append(exc.message)
            else:
                flash(exc.message, "error")
                return redirect(request.url)
        else:
            flash("Your profile has been updated.", "success")
            return redirect(url_for("volunteers.profile"))
    return render_template(template, form=form, volunteer=volunteer, **context)


@bp.route("/profile/contact", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_contact():
    volunteer = _own_volunteer()
    form = ContactForm(obj=volunteer) if request.method == "GET" else ContactForm()
    return _edit(form, volunteer, lambda: services.update_contact(
        get_session(), volunteer, phone=form.phone.data, expected_version=form.expected_version()),
        "volunteers/edit.html", title="Your contact details")


@bp.route("/profile/home-ward", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_home_ward():
    db = get_session()
    volunteer = _own_volunteer()
    boroughs = list(db.scalars(select(Borough).order_by(Borough.name)))
    choices = [SelectChoice(str(b.id), b.name) for b in boroughs]
    borough_id = volunteer.home_ward.borough_id if volunteer.home_ward else boroughs[0].id
    asked = BoroughForm(request.args)
    asked.borough.choices = choices
    if "borough" in request.args and asked.validate():
        borough_id = asked.borough.data
    chooser = BoroughForm(formdata=None, data={"borough": borough_id})
    chooser.borough.choices = choices
    borough = db.get(Borough, borough_id)
    form = HomeWardForm()
    form.ward.choices = [SelectChoice(str(w.id), w.name) for w in db.scalars(
        select(Ward).where(Ward.borough_id == borough_id).order_by(Ward.name))]
    if request.method == "GET" and volunteer.home_ward_id:
        form.ward.data = volunteer.home_ward_id
    return _edit(form, volunteer, lambda: services.set_home_ward(
        db, volunteer, form.ward.data, expected_version=form.expected_version()),
        "volunteers/edit_home_ward.html", chooser=chooser, borough=borough)


@bp.route("/profile/travel", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_travel():
    volunteer = _own_volunteer()
    form = TravelForm()
    if request.method == "GET":
        form.travel_limit_km.data = volunteer.travel_limit_km
        form.weekly_hours_cap.data = volunteer.weekly_hours_cap_minutes // 60
    return _edit(form, volunteer, lambda: services.update_travel(
        get_session(), volunteer, travel_limit_km=form.travel_limit_km.data, weekly_hours=form.weekly_hours_cap.data,
        expected_version=form.expected_version()), "volunteers/edit.html", title="Travel and hours")


@bp.route("/profile/work", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_work():
    volunteer = _own_volunteer()
    form = WorkForm()
    if request.method == "GET":
        form.occupation.data = volunteer.occupation
        form.employer.data = volunteer.employer
        form.occupation_category.data = volunteer.occupation_category.value
        form.adjustment.data = volunteer.adjustment.value
        form.military_reservist.data = "yes" if volunteer.military_reservist else "no"
    return _edit(form, volunteer, lambda: services.update_work(
        get_session(), volunteer, occupation=form.occupation.data or "", employer=form.employer.data or "",
        category=OccupationCategory(form.occupation_category.data), adjustment=WorkAdjustment(form.adjustment.data),
        military_reservist=form.military_reservist.data == "yes", expected_version=form.expected_version()),
        "volunteers/edit.html", title="Your work")


@bp.route("/profile/preferences", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def edit_preferences():
    volunteer = _own_volunteer()
    names = task_type_names()
    form = PreferencesForm()
    form.task_types.choices = [SelectChoice(code, name) for code, name in names.items()]
    if request.method == "GET":
        form.task_types.data = [p.task_type_code for p in volunteer.preferences]
    return _edit(form, volunteer, lambda: services.set_preferences(
        get_session(), volunteer, form.task_types.data or [], set(names), expected_version=form.expected_version()),
        "volunteers/edit.html", title="Tasks you would like")


def home_context(user) -> dict:
    """What the volunteer's home page shows (core's home view calls this; it cannot import us)."""
    volunteer = services.volunteer_for_user(get_session(), user.id)
    if volunteer is None:
        return {"volunteer": None, "todo": []}
    todo = []
    if volunteer.home_ward_id is None:
        todo.append(("Choose your home ward", url_for("volunteers.edit_home_ward")))
    if not volunteer.occupation:
        todo.append(("Tell us about your work", url_for("volunteers.edit_work")))
    if not volunteer.preferences:
        todo.append(("Choose the tasks you would like", url_for("volunteers.edit_preferences")))
    return {"volunteer": volunteer, "todo": todo}
