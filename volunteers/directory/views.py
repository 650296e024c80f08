"""Coordinators' pages over every volunteer: the directory, a volunteer's profile, evidence checks,
specials' details, and CSV export and import (also on the command line). Thin: form → service → page.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.cli import AppGroup
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields import SelectChoice

from core import wording
from core.auth.models import Role
from core.auth.web import recent_auth_required
from core.db import get_session, utcnow
from core.forms import show_error
from core.geography.models import Bcu, Borough, Ward
from core.hardening import accepts_upload
from core.permissions import allow
from core.seams import seams
from core.timeutil import london_today
from volunteers.directory import csv_io, services
from volunteers.directory.forms import (
    DEFAULT_IMPORT_MAX_BYTES,
    FAMILY_LABELS,
    KIND_LABELS,
    STATUS_HINTS,
    STATUS_LABELS,
    DirectoryFilterForm,
    ImportForm,
    RejectEvidenceForm,
    SpecialDetailsForm,
    StatusForm,
)
from volunteers.models import EvidenceStatus, VolunteerKind, VolunteerStatus
from volunteers.partners import services as partner_services
from volunteers.partners.models import CLAIM_STATE_LABELS, PARTNER_RELATION_LABELS
from volunteers.services import EditConflict, ProfileError
from volunteers.skills import SKILLS_BY_CODE, PatrolStatus, SkillFamily
from volunteers.stepping_back import current_pause

bp = Blueprint("directory", __name__)
COORDINATOR = Role.COORDINATOR
FILTER_NAMES = ("q", "skill", "family", "bcu", "borough", "ward", "status", "kind", "expiring_within")


def _task_type_names() -> dict[str, str]:
    return seams().task_type_names(get_session())


def _template_names() -> dict:
    return {
        "skill_names": {code: s.name for code, s in SKILLS_BY_CODE.items()},
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
    }


# ---------------------------------------------------------------------------------------------
# The directory
# ---------------------------------------------------------------------------------------------


def _filter_form() -> DirectoryFilterForm:
    db = get_session()
    form = DirectoryFilterForm(request.args)
    form.bcu.set_options([SelectChoice(str(b.id), b.name) for b in db.scalars(select(Bcu).order_by(Bcu.name))])
    form.borough.set_options(
        [SelectChoice(str(b.id), b.name) for b in db.scalars(select(Borough).order_by(Borough.name))]
    )
    # Wards are listed once a borough is chosen: 600 wards in one list would help nobody. A bad borough
    # value lists none (the length check keeps a huge number away from the database's integer type).
    raw_borough = request.args.get("borough", "")
    if raw_borough.isascii() and raw_borough.isdigit() and len(raw_borough) <= 9:
        form.ward.set_options(
            [
                SelectChoice(str(w.id), w.name)
                for w in db.scalars(select(Ward).where(Ward.borough_id == int(raw_borough)).order_by(Ward.name))
            ]
        )
    form.validate()
    return form


def _filters(form: DirectoryFilterForm) -> services.DirectoryFilters:
    family, status, kind, days = (form.selected(n) for n in ("family", "status", "kind", "expiring_within"))
    return services.DirectoryFilters(
        text=(form.q.data or "").strip() if not form.q.errors else "",
        skill=form.selected("skill"),
        family=SkillFamily(family) if family else None,
        bcu_id=form.selected_id("bcu"),
        borough_id=form.selected_id("borough"),
        ward_id=form.selected_id("ward"),
        status=VolunteerStatus(status) if status else None,
        kind=VolunteerKind(kind) if kind else None,
        expiring_within_days=int(days) if days else None,
    )


@bp.route("/volunteers")
@allow(COORDINATOR)
def index():
    form = _filter_form()
    page = services.search_volunteers(
        get_session(),
        _filters(form),
        request.args.get("page"),
        expiring_ids=seams().expiring_clearance_volunteer_ids,
    )
    # Only the filters in use travel to the next page.
    args = {name: request.args[name] for name in FILTER_NAMES if request.args.get(name) and not form[name].errors}
    return render_template("directory/index.html", form=form, page=page, args=args, **_template_names())


# ---------------------------------------------------------------------------------------------
# One volunteer, and the evidence of their professional skills
# ---------------------------------------------------------------------------------------------


@bp.route("/volunteers/<int:volunteer_id>")
@allow(COORDINATOR)
def volunteer(volunteer_id: int):
    try:
        profile = services.volunteer_profile(get_session(), volunteer_id, seams().has_open_vetting_review)
    except services.NotFound:
        abort(404)
    names = _task_type_names()
    return render_template(
        "directory/volunteer.html",
        profile=profile,
        volunteer=profile.volunteer,
        preferences=[names.get(p.task_type_code, p.task_type_code) for p in profile.volunteer.preferences],
        family_labels=FAMILY_LABELS,
        skills=SKILLS_BY_CODE,
        pending=EvidenceStatus.PENDING,
        patrol_labels={p: p.value.capitalize() for p in PatrolStatus},
        today=london_today(),
        conflict_review=seams().conflict_review_summary(get_session(), profile.volunteer),
        # A pause the volunteer set themselves (dates, not a status): in force or still to come.
        pause=current_pause(get_session(), profile.volunteer, london_today()),
        # Deployments, the sergeants' feedback and welfare answers (matching/deployments): coordinators only.
        deployment_record=seams().deployment_record(get_session(), profile.volunteer),
        # Hours served against the commitment and long service (matching/hours).
        hours_served=seams().volunteer_hours(get_session(), profile.volunteer, utcnow()),
        # The organisations they name and each one's answers (volunteers/partners; declines show only here).
        partner_links=partner_services.links_of(get_session(), volunteer_id),
        partner_relation_labels=PARTNER_RELATION_LABELS,
        partner_state_labels=CLAIM_STATE_LABELS,
        partner_skill_name=partner_services.skill_name,
        **_template_names(),
    )


@bp.route("/volunteers/evidence")
@allow(COORDINATOR)
def evidence_queue():
    page = services.pending_evidence(get_session(), request.args.get("page"))
    return render_template("directory/evidence.html", page=page, skills=SKILLS_BY_CODE, today=london_today())


def _from_queue() -> bool:
    """Whether the coordinator came from the list of evidence to check (and goes back there when done)."""
    return request.values.get("return_to") == "queue"


def _back(volunteer_id: int):
    if _from_queue():
        return redirect(url_for("directory.evidence_queue"))
    return redirect(url_for("directory.volunteer", volunteer_id=volunteer_id))


@bp.route("/volunteers/<int:volunteer_id>/skills/<int:skill_id>/verify", methods=["POST"])
@allow(COORDINATOR)
def verify_evidence(volunteer_id: int, skill_id: int):
    try:
        skill = services.verify_evidence(get_session(), volunteer_id, skill_id, current_user.id)
    except services.NotFound:
        abort(404)
    except services.EvidenceError as exc:
        flash(exc.message, "error")
    else:
        flash(f"{SKILLS_BY_CODE[skill.skill_code].name} evidence verified.", "success")
    return _back(volunteer_id)


@bp.route("/volunteers/<int:volunteer_id>/skills/<int:skill_id>/reject", methods=["GET", "POST"])
@allow(COORDINATOR)
def reject_evidence(volunteer_id: int, skill_id: int):
    db = get_session()
    try:
        skill = services.get_skill(db, volunteer_id, skill_id)
    except services.NotFound:
        abort(404)
    if skill.evidence_status is not EvidenceStatus.PENDING:
        flash(f"This evidence has already been {skill.evidence_status.value}.", "info")
        return _back(volunteer_id)
    form = RejectEvidenceForm()
    if form.validate_on_submit():
        try:
            services.reject_evidence(db, volunteer_id, skill_id, current_user.id, form.reason.data)
        except services.EvidenceError as exc:
            if not show_error(form, exc):
                return _back(volunteer_id)
        else:
            # Back where the coordinator came from: the list of evidence still to check, or the profile.
            flash(f"{SKILLS_BY_CODE[skill.skill_code].name} evidence rejected.", "success")
            return _back(volunteer_id)
    return render_template(
        "directory/reject.html",
        form=form,
        skill=skill,
        volunteer=skill.volunteer,
        skill_name=SKILLS_BY_CODE[skill.skill_code].name,
        from_queue=_from_queue(),
    )


# ---------------------------------------------------------------------------------------------
# Specials' details
# ---------------------------------------------------------------------------------------------


@bp.route("/volunteers/<int:volunteer_id>/special", methods=["GET", "POST"])
@allow(COORDINATOR)
def edit_special(volunteer_id: int):
    db = get_session()
    try:
        volunteer = services.get_volunteer(db, volunteer_id)
    except services.NotFound:
        abort(404)
    if volunteer.kind is not VolunteerKind.SPECIAL:
        abort(404)
    form = SpecialDetailsForm()
    if request.method == "GET":
        form.version.data = str(volunteer.version)
        form.warrant_number.data = volunteer.warrant_number or ""
        form.patrol_status.data = volunteer.patrol_status.value if volunteer.patrol_status else None
        form.monthly_commitment_hours.data = (volunteer.monthly_commitment_minutes or 16 * 60) // 60
    elif form.validate_on_submit():
        try:
            services.update_special_details(
                db,
                volunteer,
                warrant_number=form.warrant_number.data,
                patrol_status=PatrolStatus(form.patrol_status.data),
                monthly_hours=form.monthly_commitment_hours.data,
                expected_version=form.expected_version(),
            )
        except EditConflict:
            flash(
                f"{volunteer.user.full_name}'s details were changed by someone else while you were editing. "
                "Check them below and make your change again.",
                "error",
            )
            return redirect(url_for("directory.edit_special", volunteer_id=volunteer_id))
        except ProfileError as exc:
            if not show_error(form, exc):
                return redirect(url_for("directory.volunteer", volunteer_id=volunteer_id))
        else:
            flash(f"Special constable details saved for {volunteer.user.full_name}.", "success")
            return redirect(url_for("directory.volunteer", volunteer_id=volunteer_id))
    return render_template("directory/special.html", form=form, volunteer=volunteer)


@bp.route("/volunteers/<int:volunteer_id>/status", methods=["GET", "POST"])
@allow(COORDINATOR)
def edit_status(volunteer_id: int):
    db = get_session()
    try:
        volunteer = services.get_volunteer(db, volunteer_id)
    except services.NotFound:
        abort(404)
    form = StatusForm()
    if request.method == "GET":
        form.version.data = str(volunteer.version)
        return _status_page(form, volunteer)
    valid = form.validate_on_submit()
    chosen = VolunteerStatus(form.status.data) if form.status.data and not form.status.errors else None
    refusal = services.status_refusal(volunteer, chosen) if chosen else None
    if refusal is not None:  # said with the form's own problems, not after them
        show_error(form, refusal)
        valid = False
    if valid and chosen is VolunteerStatus.LEFT and request.form.get("confirm") != "yes":
        # Leaving is final: say what it does, and ask again, before anything changes.
        if request.form.get("confirm") != "change":
            return render_template("directory/confirm_left.html", form=form, volunteer=volunteer)
    elif valid:
        try:
            services.set_status(
                db,
                volunteer,
                VolunteerStatus(form.status.data),
                form.reason.data,
                current_user.id,
                expected_version=form.expected_version(),
                now=utcnow(),
            )
        except EditConflict:
            flash(
                f"{volunteer.user.full_name}'s record was changed by someone else while you were editing. "
                "Check it below and make your change again.",
                "error",
            )
            return redirect(url_for("directory.edit_status", volunteer_id=volunteer_id))
        except ProfileError as exc:
            show_error(form, exc)
        else:
            flash(f"{volunteer.user.full_name} is now {STATUS_LABELS[volunteer.status].lower()}.", "success")
            return redirect(url_for("directory.volunteer", volunteer_id=volunteer_id))
    return _status_page(form, volunteer)


def _status_page(form: StatusForm, volunteer):
    return render_template(
        "directory/status.html", form=form, volunteer=volunteer, status_hints=STATUS_HINTS, status_labels=STATUS_LABELS
    )


# ---------------------------------------------------------------------------------------------
# CSV export and import
# ---------------------------------------------------------------------------------------------


@bp.route("/volunteers/export.csv")
@allow(COORDINATOR)
@recent_auth_required  # every volunteer's personal data at once: the person must have proved who they are lately
def export_csv():
    # Exactly the volunteers the directory shows with these filters. A filter it would refuse is not quietly
    # dropped (a file of everyone, when the coordinator asked for a few): back to the page, which says why.
    form = _filter_form()
    if form.errors:
        return redirect(
            url_for("directory.index", **{name: request.args[name] for name in FILTER_NAMES if name in request.args})
        )
    filters = _filters(form)
    db = get_session()
    services.log_export(db, current_user.id, filters)
    # Streamed a few hundred rows at a time: 50,000 volunteers are never one string in memory.
    chunks = csv_io.write_volunteers(
        services.export_records(db, filters=filters, expiring_ids=seams().expiring_clearance_volunteer_ids)
    )
    filename = f"volunteers-{london_today().isoformat()}.csv"
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/volunteers/import", methods=["GET", "POST"])
@allow(COORDINATOR)
@accepts_upload("VOLUNTEER_IMPORT_MAX_BYTES")  # every other page takes at most MAX_CONTENT_LENGTH
def import_csv():
    form = ImportForm()
    form.max_bytes = current_app.config.get("VOLUNTEER_IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES)
    refused = None
    if form.validate_on_submit():
        try:
            imported = services.import_volunteers(get_session(), form.text, _task_type_names(), current_user.id)
        except services.ImportRefused as exc:
            refused = exc
            form.file.errors.append(exc.summary)
        else:
            flash(
                f"Imported {wording.plural(imported, 'volunteer')}. Each will be emailed an invitation "
                "to choose their password within a few minutes (valid 7 days; you can send it again from Accounts).",
                "success",
            )
            return redirect(url_for("directory.index"))
    return render_template("directory/import.html", form=form, refused=refused, columns=csv_io.COLUMNS)


volunteers_cli = AppGroup("volunteers", help="Volunteers: CSV export and import.")


@volunteers_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_command(path: Path) -> None:
    """Write every volunteer to a CSV file (the same format the import reads)."""
    count = 0

    def counted():
        nonlocal count
        for record in services.export_records(get_session()):
            count += 1
            yield record

    with path.open("w", encoding="utf-8", newline="") as out:
        for chunk in csv_io.write_volunteers(counted()):
            out.write(chunk)
    click.echo(f"Exported {wording.plural(count, 'volunteer')} to {path}.")


@volunteers_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Create volunteers (and their accounts) from a CSV file. All or nothing: one bad row imports nothing.

    Accounts get no password: each volunteer is emailed an invitation to choose theirs
    (`flask accounts send-invitations`, or the worker, sends them).
    """
    try:
        text = csv_io.decode(path.read_bytes())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        count = services.import_volunteers(get_session(), text, _task_type_names())
    except services.ImportRefused as exc:
        for error in exc.shown:
            click.echo(str(error), err=True)
        if len(exc.errors) > len(exc.shown):
            click.echo(f"… and {wording.count(len(exc.errors) - len(exc.shown))} more.", err=True)
        raise click.ClickException(exc.summary) from None
    click.echo(
        f"Imported {wording.plural(count, 'volunteer')}. Their invitations to choose a password are queued: "
        "the worker sends them, or run `flask accounts send-invitations`."
    )
