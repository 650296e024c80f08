"""Hours pages: the volunteer's year and a special's duty hours; approving duty hours (sergeants of the
special's home ward, coordinators); the coordinators' table of specials against their commitment.

Thin: form → service → redirect or page. Another ward's special's hours are a 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields import SelectChoice

from core.auth.models import Role
from core.db import get_session, utcnow
from core.forms import show_error
from core.permissions import allow
from core.timeutil import london_today
from matching.hours import rules, services
from matching.hours.forms import ApproveForm, BcuFilterForm, DutyForm, RejectForm
from matching.hours.models import DutyKind, DutyState
from volunteers.models import Volunteer, VolunteerKind
from volunteers.services import volunteer_for_user

bp = Blueprint("hours", __name__, url_prefix="/hours")
APPROVERS = (Role.SERGEANT, Role.COORDINATOR)


@bp.app_template_filter("hours")
def _hours_filter(minutes: int | None) -> str:
    return rules.hours_text(minutes or 0)


def _own_volunteer() -> Volunteer:
    volunteer = volunteer_for_user(get_session(), current_user.id)
    if volunteer is None:
        abort(404)
    return volunteer


@bp.route("")
@allow(Role.VOLUNTEER)
def mine():
    """Your hours: served this month and year against your commitment, past deployments, duty hours."""
    year = services.volunteer_year(get_session(), _own_volunteer(), utcnow())
    return render_template("hours/mine.html", year=year)


@bp.route("/duty/new", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def log_duty():
    volunteer = _own_volunteer()
    if volunteer.kind is not VolunteerKind.SPECIAL:
        # Police support volunteers' hours are their deployments, which the sergeants confirm.
        flash(
            "Only special constables log duty hours of their own. Your deployments are counted once the "
            "sergeant confirms them.",
            "info",
        )
        return redirect(url_for("hours.mine"))
    form = DutyForm()
    if form.validate_on_submit():
        details = services.DutyDetails(
            on_date=form.on_date.data,
            kind=DutyKind(form.kind.data),
            start=form.clock("start_time"),
            end=form.clock("end_time"),
            minutes=form.minutes(),
            note=form.note.data or "",
        )
        try:
            entry = services.log_duty(get_session(), volunteer, details, utcnow())
        except services.HoursError as exc:
            show_error(form, exc)
        else:
            flash(
                f"{entry.kind_label} on {entry.on_date.day} {entry.on_date:%B %Y}, {rules.hours_text(entry.minutes)}: "
                "sent for approval. It counts towards your hours once a sergeant or coordinator approves it.",
                "success",
            )
            return redirect(url_for("hours.mine"))
    return render_template("hours/log.html", form=form, today=london_today(utcnow()))


@bp.route("/approvals")
@allow(*APPROVERS)
def approvals():
    db = get_session()
    return render_template(
        "hours/approvals.html",
        waiting=services.waiting(db, current_user),
        decided=services.recently_decided(db, current_user),
        form=ApproveForm(),
        approved=DutyState.APPROVED,
    )


def _entry(entry_id: int):
    try:
        return services.entry_for(get_session(), current_user, entry_id)
    except services.NotFound:
        abort(404)


@bp.route("/duty/<int:entry_id>/approve", methods=["POST"])
@allow(*APPROVERS)
def approve(entry_id: int):
    entry = _entry(entry_id)
    form = ApproveForm()
    if form.validate_on_submit():
        name = entry.volunteer.user.full_name
        try:
            services.approve(get_session(), current_user, entry.id, utcnow())
        except services.HoursError as exc:
            flash(exc.message, "error")
        else:
            flash(f"{name}: {rules.hours_text(entry.minutes)} of {entry.kind_label.lower()} approved.", "success")
    else:
        flash("The form had expired. Approve the hours again.", "error")
    return redirect(url_for("hours.approvals"))


@bp.route("/duty/<int:entry_id>/reject", methods=["GET", "POST"])
@allow(*APPROVERS)
def reject(entry_id: int):
    entry = _entry(entry_id)
    form = RejectForm()
    if form.validate_on_submit():
        name = entry.volunteer.user.full_name
        try:
            services.reject(get_session(), current_user, entry.id, form.reason.data or "", utcnow())
        except services.HoursError as exc:
            if not show_error(form, exc):
                return redirect(url_for("hours.approvals"))
        else:
            flash(f"{name}: hours not approved. They will see your reason.", "success")
            return redirect(url_for("hours.approvals"))
    return render_template("hours/reject.html", form=form, entry=entry)


@bp.route("/volunteers/<int:volunteer_id>")
@allow(Role.COORDINATOR)
def volunteer(volunteer_id: int):
    """A coordinator's view of one volunteer's hours (linked from their directory record)."""
    db = get_session()
    try:
        found = services.volunteer_by_id(db, volunteer_id)
    except services.NotFound:
        abort(404)
    return render_template("hours/volunteer.html", year=services.volunteer_year(db, found, utcnow()))


def _table():
    db = get_session()
    form = BcuFilterForm(request.args)
    form.bcu.set_options([SelectChoice(str(b.id), b.name) for b in services.bcus(db)])
    form.validate()
    bcu_id = int(form.bcu.data) if form.bcu.data and not form.bcu.errors else None
    config = current_app.config
    table = services.commitment_table(
        db, utcnow(), config["SPECIALS_GREEN_PERCENT"], config["SPECIALS_AMBER_PERCENT"], bcu_id=bcu_id
    )
    return form, bcu_id, table


@bp.route("/specials")
@allow(Role.COORDINATOR)
def specials():
    form, bcu_id, table = _table()
    return render_template("hours/specials.html", form=form, bcu_id=bcu_id, table=table, labels=rules.RAG_LABELS)


@bp.route("/specials/export.csv")
@allow(Role.COORDINATOR)
def specials_csv():
    form, bcu_id, table = _table()
    if form.errors:
        return redirect(url_for("hours.specials", bcu=request.args.get("bcu", "")))
    filename = f"specials-hours-{london_today(utcnow()).isoformat()}.csv"
    return Response(
        services.table_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
