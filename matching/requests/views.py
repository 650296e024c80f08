"""Sergeants' support requests: raise (task type first, then the details), list, see, edit, cancel.

Coordinators may list and read every request. Thin: form → service → redirect or page.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields import SelectChoice

from core.auth.models import Role
from core.db import get_session, session_factory, utcnow
from core.forms import clock_value, show_error
from core.geography.models import Bcu, Borough
from core.permissions import allow
from core.timeutil import london_today, to_london
from matching.deployments.views import request_page as deployments_request_page
from matching.models import (
    OFFER_STATUS_LABELS,
    PRIORITY_LABELS,
    REQUEST_CHANGED,
    STATUS_LABELS,
    Priority,
    RequestAudience,
    RequestStatus,
    RunScope,
    RunStatus,
    SupportRequest,
    duration_text,
)
from matching.offers import services as offers
from matching.offers.emails import send_cancelled_emails, send_changed_emails
from matching.offers.forms import AnswerForm
from matching.requests import services
from matching.requests.forms import (
    PRIORITY_HINTS,
    CancelForm,
    EditRequestForm,
    RequestFilterForm,
    RequestForm,
    TaskTypeForm,
    task_type_choices,
    team_rule_hint,
)
from matching.runs.services import RunError, queue_run, rematch, settings_from_config
from matching.teams import services as team_services
from vetting.catalogue import TaskPolicy
from volunteers.panels.services import list_groups
from volunteers.partners.services import partner_choices
from volunteers.skills import SKILLS_BY_CODE, SkillFamily

bp = Blueprint("requests", __name__, url_prefix="/requests")
SERGEANT = Role.SERGEANT
FILTER_NAMES = ("status", "ward", "bcu", "borough", "task_type", "date_from", "date_to")


def _policies() -> dict[str, TaskPolicy]:
    """The task types in force, as coordinators have set them: never the built-in table alone."""
    return services.policies_in_force(get_session())


def _names() -> dict:
    """What the request templates need to turn codes into words."""
    return {
        "task_names": {code: policy.name for code, policy in _policies().items()},
        "skill_names": {code: s.name for code, s in SKILLS_BY_CODE.items()},
        "status_labels": STATUS_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "duration_text": duration_text,
    }


def _visible(request_id: int) -> SupportRequest:
    try:
        return services.get_for_user(get_session(), current_user, request_id)
    except services.NotFound:
        abort(404)


# ---- The list -----------------------------------------------------------------------------------


def _filter_form() -> RequestFilterForm:
    db = get_session()
    form = RequestFilterForm(request.args)
    if current_user.role is Role.COORDINATOR:
        del form.ward  # a coordinator narrows by BCU or borough; a sergeant by one of their wards
        form.bcu.set_options([SelectChoice(str(b.id), b.name) for b in db.scalars(select(Bcu).order_by(Bcu.name))])
        form.borough.set_options(
            [SelectChoice(str(b.id), b.name) for b in db.scalars(select(Borough).order_by(Borough.name))]
        )
    else:
        del form.bcu
        del form.borough
        form.ward.set_options([SelectChoice(str(w.id), w.name) for w in current_user.wards])
    form.task_type.set_options(task_type_choices(_policies().values()))
    form.validate()
    return form


@bp.route("")
@allow(SERGEANT, Role.COORDINATOR)
def index():
    form = _filter_form()
    coordinator = current_user.role is Role.COORDINATOR
    status = form.selected("status")
    filters = services.RequestFilters(
        status=RequestStatus(status) if status else None,
        task_type=form.selected("task_type"),
        ward_id=None if coordinator else form.selected_id("ward"),
        bcu_id=form.selected_id("bcu") if coordinator else None,
        borough_id=form.selected_id("borough") if coordinator else None,
        date_from=form.selected_date("date_from"),
        date_to=form.selected_date("date_to"),
    )
    page = services.search_requests(get_session(), current_user, filters, request.args.get("page"))
    # Only the filters in use travel to the next page (a date travels as its three boxes).
    args = {
        name: request.args.getlist(name)
        for name in FILTER_NAMES
        if name in form and any(request.args.getlist(name)) and not form[name].errors
    }
    return render_template("requests/index.html", form=form, page=page, args=args, coordinator=coordinator, **_names())


# ---- Raising a request: the task type, then the details -----------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@allow(SERGEANT)
def new():
    policies = _policies()
    form = TaskTypeForm()
    form.task_type.choices = task_type_choices(policies.values())
    if request.method == "GET" and request.args.get("task_type") in policies:
        form.task_type.data = request.args["task_type"]  # "Change" from the details page keeps the choice
    if form.validate_on_submit():
        return redirect(url_for("requests.new_details", task_type=form.task_type.data))
    return render_template("requests/new.html", form=form, policies=policies.values())


def _prepare(form: RequestForm, policy: TaskPolicy, ward_ids: list[int]) -> None:
    """The choices that depend on who is asking and on the task type."""
    form.policy = policy
    form.ward.choices = [SelectChoice(str(w.id), w.label) for w in current_user.wards]
    form.partner.choices = [SelectChoice("", "None of these")] + [
        SelectChoice(str(pid), name) for pid, name in partner_choices(get_session())
    ]
    form.preferred_volunteer.choices = [SelectChoice("", "No preference")] + [
        SelectChoice(str(v.id), v.user.full_name) for v in services.previous_volunteers(get_session(), ward_ids)
    ]
    # Named by ward too: a sergeant of several wards picks an officer of the request's own ward (checked).
    form.specialist_group.choices = [SelectChoice("", "Choose a group")] + [
        SelectChoice(str(g.id), f"{g.name} ({g.kind_label.lower()})") for g in list_groups(get_session())
    ]
    form.supervising_officer.choices = [SelectChoice("", "No supervising officer")] + [
        SelectChoice(str(m.id), f"{m.label}, {m.ward.name}") for m in team_services.supervisors(get_session(), ward_ids)
    ]


def _details(form: RequestForm) -> services.RequestDetails:
    window_start, window_end = form.window
    return services.RequestDetails(
        ward_id=int(form.ward.data),
        remote=form.remote.data == "yes",
        title=form.title.data,
        description=form.description.data,
        window_start=window_start,
        window_end=window_end,
        duration_minutes=form.duration.data,
        people_needed=form.people_needed.data,
        all_or_nothing=form.all_or_nothing.data == "yes",
        priority=Priority(form.priority.data),
        skill_codes=tuple(form.skill_codes()),
        warranted_only=form.warranted_only.data == "yes",
        # A partner chosen with no name typed: its name, so conflicts declared by name alone still match.
        organisation=form.organisation.data
        or next((c.label for c in form.partner.choices if form.partner.data and c.value == form.partner.data), ""),
        partner_id=int(form.partner.data) if form.partner.data else None,
        preferred_volunteer_id=int(form.preferred_volunteer.data) if form.preferred_volunteer.data else None,
        contact_phone=form.contact_phone.data or "",
        supervising_officer_id=int(form.supervising_officer.data) if form.supervising_officer.data else None,
        audience=RequestAudience(form.audience.data or RequestAudience.WARD_PANEL_FIRST.value),
        specialist_group_id=(
            int(form.specialist_group.data)
            if form.audience.data == RequestAudience.SPECIALIST_GROUP.value and form.specialist_group.data
            else None
        ),
    )


def _render_details(template: str, form: RequestForm, policy: TaskPolicy, **context):
    return render_template(
        template,
        form=form,
        policy=policy,
        priority_hints=PRIORITY_HINTS,
        show_remote=policy.remote_possible or bool(form.remote.errors),
        show_warranted=not policy.warranted_only or bool(form.warranted_only.errors),
        show_preferred=len(form.preferred_volunteer.choices) > 1 or bool(form.preferred_volunteer.errors),
        show_supervisor=len(form.supervising_officer.choices) > 1 or bool(form.supervising_officer.errors),
        team_rule_hint=team_rule_hint(policy),
        **_names(),
        **context,
    )


@bp.route("/new/<task_type>", methods=["GET", "POST"])
@allow(SERGEANT)
def new_details(task_type: str):
    policy = _policies().get(task_type)
    if policy is None:
        abort(404)
    db = get_session()
    ward_ids = services.sergeant_ward_ids(db, current_user.id)
    form = RequestForm()
    _prepare(form, policy, ward_ids)
    if request.method == "GET":
        form.set_defaults(policy, services.last_contact_phone(db, current_user.id))
        if len(ward_ids) == 1:
            form.ward.data = str(ward_ids[0])
    if ward_ids and form.validate_on_submit():
        try:
            item = services.create_request(db, current_user, policy.code, _details(form), utcnow())
        except services.RequestError as exc:
            show_error(form, exc)
        else:
            flash(f"Request raised: {item.title}.", "success")
            return redirect(url_for("requests.show", request_id=item.id))
    return _render_details("requests/details.html", form, policy, has_wards=bool(ward_ids))


# ---- One request --------------------------------------------------------------------------------


@bp.route("/<int:request_id>")
@allow(SERGEANT, Role.COORDINATOR)
def show(request_id: int):
    item = _visible(request_id)
    db = get_session()
    conflicts = services.declared_conflicts(db, item.organisation, item.partner_id) if item.organisation else 0
    made = offers.offers_for_request(db, item.id)
    active = sum(1 for o in made if o.is_active)
    findings = offers.latest_findings(db, item.id)
    sergeant = current_user.role is SERGEANT
    return render_template(
        "requests/show.html",
        item=item,
        policy=_policies().get(item.task_type_code),
        conflicts=conflicts,
        can_change=sergeant and item.is_live,
        findings_before_change=services.findings_before_change(db, item, findings),
        offer_label=_offer_label,
        request_changed=REQUEST_CHANGED,
        can_cancel=sergeant and item.is_live,
        can_match=sergeant and item.is_live and active < item.people_needed and item.window_start > utcnow(),
        offers=made,
        findings=findings,
        funnel=json.loads(findings.funnel) if findings else [],
        offer_labels=OFFER_STATUS_LABELS,
        form=AnswerForm(),
        **_names(),
        **deployments_request_page(db, current_user, item),  # "What happened" once bookings have ended
    )


@bp.route("/<int:request_id>/match", methods=["POST"])
@allow(SERGEANT)
def match(request_id: int):
    """Find volunteers for the request's free places now, and send them offers."""
    from matching.tasks import run_now

    item = _visible(request_id)
    db = get_session()
    if not AnswerForm().validate_on_submit():
        abort(400)
    if not item.is_live or item.window_start <= utcnow():
        flash("This request has been cancelled or has already started, so it cannot be matched.", "error")
        return redirect(url_for("requests.show", request_id=request_id))
    day = to_london(item.window_start).date()
    try:
        run = queue_run(
            db,
            scope=RunScope.REQUEST,
            first_day=day,
            last_day=day,
            today=london_today(),
            trigger="web",
            requested_by_id=current_user.id,
            request_id=item.id,
        )
    except RunError as exc:
        flash(exc.message if exc.field != "first_day" else "This request's time has passed.", "error")
        return redirect(url_for("requests.show", request_id=request_id))
    done = run_now(current_app, run.id)
    if done.status is not RunStatus.SUCCEEDED:
        flash(f"Matching did not finish: {done.error}", "error")
    elif done.places_offered:
        flash(
            f"{done.places_offered} volunteer{'s have' if done.places_offered != 1 else ' has'} been offered "
            "this request. Their answers will show below.",
            "success",
        )
    elif done.requests_count:
        flash("Nobody could be offered this request yet: see below who dropped out and what would fill it.", "info")
    else:
        flash("Every place on this request already has a volunteer offered or booked.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


def _fill(form: EditRequestForm, item: SupportRequest) -> None:
    start, end = to_london(item.window_start), to_london(item.window_end)
    form.title.data = item.title
    form.description.data = item.description
    form.ward.data = str(item.ward_id)
    form.remote.data = "yes" if item.remote else "no"
    form.date.data = start.date()
    form.start_time.data = clock_value(start.time())
    form.end_time.data = clock_value(end.time())
    form.duration.data = item.duration_minutes
    form.people_needed.data = item.people_needed
    form.all_or_nothing.data = "yes" if item.all_or_nothing else "no"
    form.priority.data = item.priority.value
    form.extra_skills.data = [c for c in item.skill_codes if SKILLS_BY_CODE[c].family is not SkillFamily.LANGUAGE]
    form.languages.data = [c for c in item.skill_codes if SKILLS_BY_CODE[c].family is SkillFamily.LANGUAGE]
    form.warranted_only.data = "yes" if item.warranted_only else "no"
    form.organisation.data = item.organisation
    form.partner.data = str(item.partner_id) if item.partner_id else ""
    form.preferred_volunteer.data = str(item.preferred_volunteer_id) if item.preferred_volunteer_id else ""
    form.contact_phone.data = item.contact_phone
    form.supervising_officer.data = str(item.supervising_officer_id) if item.supervising_officer_id else ""
    form.audience.data = item.audience.value
    form.specialist_group.data = str(item.specialist_group_id) if item.specialist_group_id else ""
    form.version.data = str(item.version)


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@allow(SERGEANT)
def edit(request_id: int):
    item = _visible(request_id)
    if not item.is_live:
        flash("This request has been cancelled, so it can no longer be changed.", "error")
        return redirect(url_for("requests.show", request_id=request_id))
    policy = _policies().get(item.task_type_code)
    if policy is None:
        abort(404)
    db = get_session()
    form = EditRequestForm()
    _prepare(form, policy, services.sergeant_ward_ids(db, current_user.id))
    if request.method == "GET":
        _fill(form, item)
    conflict = withdrawal = None
    if form.validate_on_submit():
        try:
            edited = services.update_request(
                db,
                current_user,
                request_id,
                _details(form),
                form.expected_version(),
                utcnow(),
                withdraw_offers=form.confirm.data == "withdraw",
            )
        except services.OffersWouldBeWithdrawn as exc:
            # Nothing is saved: the page says what saving would do to the offers, and asks again.
            withdrawal = exc.message
            item = _visible(request_id)
        except services.EditConflict as exc:
            # Keep everything the sergeant typed; show what is saved now; the next save is deliberate.
            conflict = exc.message
            item = _visible(request_id)
            if not item.is_live:
                flash("This request was cancelled while you were editing it, so it can no longer be changed.", "error")
                return redirect(url_for("requests.show", request_id=request_id))
            form.version.data = str(item.version)
        except services.RequestError as exc:
            if not show_error(form, exc):
                return redirect(url_for("requests.show", request_id=request_id))
        else:
            _after_edit(edited)
            return redirect(url_for("requests.show", request_id=request_id))
    accepted, waiting = services.active_offer_counts(db, item.id)
    return _render_details(
        "requests/edit.html",
        form,
        policy,
        item=item,
        conflict=conflict,
        withdrawal=withdrawal,
        accepted=accepted,
        waiting=waiting,
        has_wards=True,
    )


def _after_edit(edited: services.Edited) -> None:
    """Tell the volunteers whose offers the change withdrew, match the request again if it had been, and say so."""
    message = "Request updated."
    if edited.withdrawn:
        from matching.tasks import queue_mail  # Huey's queue is opened on first use, not at start-up

        send_changed_emails(get_session(), edited.withdrawn, queue_mail)
        count = len(edited.withdrawn)
        message += f" {count} volunteer{'s have' if count != 1 else ' has'} been told and their offers withdrawn."
    elif not edited.matching_changed and edited.item.status is not RequestStatus.OPEN:
        message += " The volunteers offered or booked keep their places."
    if edited.match_again:
        from matching.tasks import offer_sender

        run = rematch(
            session_factory(),
            edited.item.id,
            settings_from_config(current_app.config),
            "edit",
            offer_sender(current_app),
        )
        if run is None or run.status is not RunStatus.SUCCEEDED:
            message += " It could not be matched again just now: press Find volunteers now to try again."
        elif run.places_offered:
            offered = run.places_offered
            message += (
                f" It has been matched again with the new details: {offered} volunteer"
                f"{'s have' if offered != 1 else ' has'} been offered it."
            )
        else:
            message += " It has been matched again with the new details: nobody could be offered it yet (see below)."
    flash(message, "success")


def _offer_label(offer) -> str:
    """How the sergeant reads an offer's state: one withdrawn by their own change says so."""
    if offer.closed_reason == REQUEST_CHANGED:
        return "Withdrawn: request changed"
    return OFFER_STATUS_LABELS[offer.status]


@bp.route("/<int:request_id>/cancel", methods=["GET", "POST"])
@allow(SERGEANT)
def cancel(request_id: int):
    item = _visible(request_id)
    if not item.is_live:
        flash("This request has already been cancelled.", "error")
        return redirect(url_for("requests.show", request_id=request_id))
    form = CancelForm()
    if form.validate_on_submit():
        try:
            _, closed = services.cancel_request(get_session(), current_user, request_id, form.reason.data, utcnow())
        except services.RequestError as exc:
            if not show_error(form, exc):
                return redirect(url_for("requests.show", request_id=request_id))
        else:
            if closed:
                from matching.tasks import queue_mail  # Huey's queue is opened on first use, not at start-up

                # Each volunteer's email is its own queued task: the cancellation is saved whatever
                # happens to one address, and a failure is logged and tried again, not shown as a 500.
                send_cancelled_emails(get_session(), closed, queue_mail)
            flash(f"Request cancelled: {item.title}.", "success")
            return redirect(url_for("requests.show", request_id=request_id))
    return render_template("requests/cancel.html", form=form, item=item, **_names())


# ---- The sergeant's home page -------------------------------------------------------------------


def sergeant_home(user) -> dict:
    """The sergeant's home page: their upcoming open requests (core's home view calls this through core.seams),
    and the words for their statuses (a template global of that name was a function, so every tag was empty)."""
    return {
        "open_requests": services.upcoming_open_requests(get_session(), user.id, utcnow()),
        "status_labels": STATUS_LABELS,
    }
