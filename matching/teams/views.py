"""The ward team: a sergeant's PCSOs and ward officers (a coordinator may keep any ward's).

Thin: form → service → redirect or page. Another ward's team or member is a 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields import SelectChoice

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import get_session, utcnow
from core.forms import show_error
from core.permissions import allow
from matching.teams import services
from matching.teams.forms import ChangeMemberForm, MemberForm, RemoveForm, WardChoiceForm
from matching.teams.models import TeamRole, WardTeamMember

bp = Blueprint("teams", __name__, url_prefix="/ward-team")
KEEPERS = (Role.SERGEANT, Role.COORDINATOR)


def _ward(ward_id: int):
    try:
        return services.ward_for(get_session(), current_user, ward_id)
    except services.NotFound:
        abort(404)


def _member(member_id: int) -> WardTeamMember:
    try:
        return services.member_for(get_session(), current_user, member_id)
    except services.NotFound:
        abort(404)


@bp.route("")
@allow(*KEEPERS)
def index():
    """A sergeant's wards, each with its team; a coordinator chooses the ward first."""
    db = get_session()
    if current_user.role is Role.COORDINATOR:
        form = WardChoiceForm(request.args)
        form.ward.choices = [SelectChoice("", "Choose a ward")] + [
            SelectChoice(str(w.id), w.label) for w in services.kept_wards(db, current_user)
        ]
        if "ward" in request.args and form.validate():
            return redirect(url_for("teams.ward", ward_id=int(form.ward.data)))
        return render_template("teams/choose.html", form=form)
    wards = services.kept_wards(db, current_user)
    return render_template("teams/index.html", wards=wards, teams=services.members(db, [w.id for w in wards]))


@bp.route("/wards/<int:ward_id>")
@allow(*KEEPERS)
def ward(ward_id: int):
    found = _ward(ward_id)
    teams = services.members(get_session(), [found.id])
    return render_template("teams/ward.html", ward=found, members=teams[found.id])


def _details(form: MemberForm, active: bool = True) -> services.MemberDetails:
    return services.MemberDetails(
        name=form.name.data or "",
        role=TeamRole(form.role.data),
        email=form.email.data or "",
        phone=form.phone.data or "",
        active=active,
    )


@bp.route("/wards/<int:ward_id>/add", methods=["GET", "POST"])
@allow(*KEEPERS)
def add(ward_id: int):
    found = _ward(ward_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            member = services.add_member(
                get_session(), current_user, found.id, _details(form), key_from_config(current_app.config), utcnow()
            )
        except services.TeamError as exc:
            show_error(form, exc)
        else:
            flash(f"{member.name} added to the {found.name} team.", "success")
            return redirect(url_for("teams.ward", ward_id=found.id))
    return render_template("teams/member.html", form=form, ward=found, member=None)


@bp.route("/members/<int:member_id>/change", methods=["GET", "POST"])
@allow(*KEEPERS)
def change(member_id: int):
    member = _member(member_id)
    form = ChangeMemberForm()
    if request.method == "GET":
        form.name.data, form.role.data = member.name, member.role.value
        form.email.data, form.phone.data = member.email, member.phone
        form.active.data = "yes" if member.active else "no"
    if form.validate_on_submit():
        try:
            services.update_member(
                get_session(),
                current_user,
                member.id,
                _details(form, active=form.active.data == "yes"),
                key_from_config(current_app.config),
                utcnow(),
            )
        except services.TeamError as exc:
            show_error(form, exc)
        else:
            flash(f"{form.name.data.strip()}: details saved.", "success")
            return redirect(url_for("teams.ward", ward_id=member.ward_id))
    return render_template("teams/member.html", form=form, ward=member.ward, member=member)


@bp.route("/members/<int:member_id>/remove", methods=["GET", "POST"])
@allow(*KEEPERS)
def remove(member_id: int):
    member = _member(member_id)
    form = RemoveForm()
    if form.validate_on_submit():
        ward_id, name = member.ward_id, member.name
        try:
            services.remove_member(get_session(), current_user, member.id, key_from_config(current_app.config))
        except services.TeamError as exc:
            flash(exc.message, "error")
        else:
            flash(f"{name} removed from the team.", "success")
        return redirect(url_for("teams.ward", ward_id=ward_id))
    return render_template("teams/remove.html", form=form, member=member)
