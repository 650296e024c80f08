"""The vetting officers' queue and review pages. Vetting detail is shown to vetting officers only."""

from __future__ import annotations

import datetime as dt

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
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields import SelectChoice

from core.audit.services import key_from_config
from core.auth.models import Role
from core.auth.web import recent_auth_required
from core.db import get_session, utcnow
from core.forms import BaseForm, show_error
from core.hardening import database_id
from core.permissions import allow
from core.seams import seams
from core.timeutil import format_date, london_today
from vetting import audit_trail, dbs_checks, decisions, notices, queries, records
from vetting import policy as policy_service
from vetting import services as vetting_services
from vetting.catalogue import CLEARANCE_TYPES, CLEARANCE_TYPES_BY_CODE, TEAM_RULE_LABELS, TaskPolicy, TeamRule
from vetting.clearance_uses import clearance_uses
from vetting.dbs import DbsDetails, is_dbs, recheck_due
from vetting.forms import (
    REASON_MAX,
    AppealForm,
    ClearanceActionForm,
    DbsStatusCheckForm,
    DecisionForm,
    InformationForm,
    TaskPolicyForm,
    TaskTypeForm,
    ValidityForm,
)
from vetting.lifecycle import (
    GRANTING_KINDS,
    OUTCOMES_BY_KIND,
    REVIEW_KIND_LABELS,
    ClearanceEvent,
    allowed_events,
    appeal_open_until,
)
from vetting.models import (
    Clearance,
    ClearanceTransition,
    InformationSource,
    ReviewKind,
    ReviewStatus,
    VettingReview,
)
from vetting.policy import (
    PolicyError,
    TaskTypeNames,
    current_policy,
    current_task_policies,
    is_added,
    set_validity,
    update_task_policy,
)
from vetting.policy_text import (
    PolicyTextError,
    describe_groups,
    describe_skills,
    format_groups,
    format_skills,
    parse_groups,
    parse_skills,
)
from vetting.rules import ClearanceFact
from vetting.search_forms import AuditFilterForm, PersonSearchForm, QueueFilterForm, kind_label
from volunteers.models import Volunteer
from volunteers.skills import SKILLS, PatrolStatus, SkillFamily

bp = Blueprint("vetting", __name__, url_prefix="/vetting")


@bp.route("/queue")
@allow(Role.VETTING_OFFICER)
def queue():
    form = QueueFilterForm(request.args)
    form.validate()  # a filter with a bad value is shown by its box and left out
    kind = form.selected("kind")
    filters = queries.QueueFilters(
        text=(form.q.data or "").strip() if not form.q.errors else "",
        kind=ReviewKind(kind) if kind else None,
        overdue_only=form.chosen("overdue"),
        due_within_days=form.due_within.data if not form.due_within.errors else None,
        deployed_only=form.chosen("deployed"),
    )
    today = london_today()
    page = queries.queue_page(
        get_session(), today, utcnow(), seams().upcoming_deployments, filters, request.args.get("page")
    )
    # Only the filters in use travel to the next page.
    args = {
        name: request.args.getlist(name) if name == "only" else request.args[name]
        for name in ("q", "kind", "due_within", "only")
        if request.args.get(name) and not form[name].errors
    }
    return render_template(
        "vetting/queue.html",
        form=form,
        page=page,
        args=args,
        filtered=filters.in_use,
        today=today,
        horizon_days=queries.URGENT_DAYS,
        kind_label=kind_label,
    )


@bp.route("/reviews/<int:review_id>", methods=["GET", "POST"])
@allow(Role.VETTING_OFFICER)
def review(review_id: int):
    db = get_session()
    item = db.get(VettingReview, review_id)
    if item is None:
        abort(404)
    form = _decision_form(db, item)
    if form.validate_on_submit():
        try:
            decisions.decide(
                db, review_id, current_user.id, _decision(form), key_from_config(current_app.config), _settings(db)
            )
        except decisions.DecisionError as exc:
            shown = [show_error(form, problem) for problem in getattr(exc, "problems", [exc])]
            if not any(shown):
                return redirect(url_for("vetting.review", review_id=review_id))
        else:
            item = db.get(VettingReview, review_id)
            db.refresh(item)  # sessions keep objects after a commit: read the proposal the service just saved
            pending = item.pending
            flash(
                "Decision recorded."
                if pending is None
                else f"{decisions.proposal_noun(pending.event).capitalize()} entered. It takes effect when a second "
                "vetting officer confirms it.",
                "success",
            )
            return redirect(url_for("vetting.review", review_id=review_id))
    elif form.is_submitted() and not form.csrf_token.errors and item.status is ReviewStatus.OPEN:
        _more_problems(db, item, form)
    if not form.is_submitted():
        decisions.record_view(db, item, current_user.id, key_from_config(current_app.config))
    return _review_page(db, item, form, form)


def _decision(form: DecisionForm) -> decisions.Decision:
    """The decision as typed. A box the form refused reads as empty; its own message is already by it."""

    def value(name: str):
        return form[name].data if name in form and not form[name].errors else None

    outcome = value("outcome")
    return decisions.Decision(
        outcome=decisions.Outcome(outcome) if outcome in set(decisions.Outcome) else None,
        reason=value("reason") or "",
        type_code=value("type_code") or None,
        valid_from=value("valid_from"),
        expires_on=value("expires_on"),
        restrictions=frozenset(value("restrictions") or ()),
        dbs=_dbs_details(form),
    )


def _more_problems(db, item: VettingReview, form: DecisionForm) -> None:
    """The form refused something: add what the decision's rules say about the other boxes, so every problem
    shows on this try (a grant with no clearance and no reason names both)."""
    if form.outcome.errors:
        return  # with no decision chosen there is nothing to check the rest against
    for problem in decisions.problems(db, item, _decision(form), _settings(db)):
        if problem.field in form and not form[problem.field].errors:
            show_error(form, problem)
    db.rollback()  # only read; end the transaction the checks opened


def _settings(db) -> decisions.Settings:
    """The force's settings for a decision, and the postbox its email leaves by."""
    config = current_app.config
    try:
        late = max(0, int(config.get("VETTING_LATE_RECORDING_DAYS") or decisions.LATE_RECORDING_DAYS))
    except ValueError:
        late = decisions.LATE_RECORDING_DAYS
    return decisions.Settings(
        policy=current_policy(db, config), late_recording_days=late, postbox=notices.postbox(config)
    )


DBS_FIELDS = ("dbs_certificate_number", "dbs_issued_on", "dbs_update_service_id", "dbs_status_checked_on")


def _dbs_details(form: DecisionForm) -> DbsDetails:
    """The DBS certificate as typed, where the form asks for it (decisions.py checks it)."""
    if "dbs_certificate_number" not in form:
        return DbsDetails()

    def value(name: str):
        return None if form[name].errors else form[name].data

    return DbsDetails(
        certificate_number=value("dbs_certificate_number"),
        issued_on=value("dbs_issued_on"),
        subscription_id=value("dbs_update_service_id"),
        status_checked_on=value("dbs_status_checked_on"),
    )


def _decision_form(db, item: VettingReview, posted: bool = True) -> DecisionForm:
    """The decision form with only what this kind of review decides: its outcomes, and dates and
    restrictions only where a clearance is granted (a renewal's clearance is the one due, not a choice), and
    a DBS certificate's details only where the clearance may be a DBS check (a renewal of one comes with the
    certificate on record, to keep or replace). ``posted=False`` when the request posted another form: it
    must not fill this one's boxes."""
    form = DecisionForm() if posted else DecisionForm(formdata=None)
    allowed = OUTCOMES_BY_KIND[item.kind]
    form.outcome.choices = [c for c in form.outcome.choices if c.value in allowed]
    if item.kind not in GRANTING_KINDS:
        for name in ("type_code", "valid_from", "expires_on", "restrictions", *DBS_FIELDS):
            del form[name]
    else:
        form.restrictions.choices = [SelectChoice(code, p.name) for code, p in current_task_policies(db).items()]
        if item.kind is ReviewKind.RENEWAL:
            del form["type_code"]
            due = db.get(Clearance, item.clearance_id) if item.clearance_id else None
            if due is None or not is_dbs(due.type_code):
                for name in DBS_FIELDS:
                    del form[name]
            elif not (posted and form.is_submitted()):
                form.dbs_certificate_number.data = due.dbs_certificate_number
                form.dbs_issued_on.data = due.dbs_issued_on
                form.dbs_update_service_id.data = due.dbs_update_service_id
                form.dbs_status_checked_on.data = due.dbs_status_checked_on
    return form


def _review_page(db, item: VettingReview, decision_form, form, acting: tuple[int, str] | None = None, status=200):
    """The review page. ``form`` is the form the officer last posted (its errors head the page); ``acting``
    names the clearance action whose reason box it is, so that panel opens on the message."""
    clearances = list(
        db.scalars(select(Clearance).where(Clearance.volunteer_id == item.volunteer_id).order_by(Clearance.created_at))
    )
    history = list(
        db.scalars(
            select(ClearanceTransition)
            .where(ClearanceTransition.clearance_id.in_([c.id for c in clearances]))
            .order_by(ClearanceTransition.at, ClearanceTransition.id)
        )
    )
    due = db.get(Clearance, item.clearance_id) if item.kind is ReviewKind.RENEWAL and item.clearance_id else None
    return (
        render_template(
            "vetting/review.html",
            review=item,
            form=form,
            decision_form=decision_form,
            clearances=clearances,
            history=history,
            due=due,
            types=CLEARANCE_TYPES_BY_CODE,
            tasks=current_task_policies(db),
            recheck_due=_recheck_due(db, clearances),
            kind_labels=REVIEW_KIND_LABELS,
            took_part=decisions.took_part_in_appealed_decision(db, item, current_user.id),
            confirm_form=BaseForm(),
            action_form=form if acting else ClearanceActionForm(formdata=None),
            acting=acting,
            reason_max=REASON_MAX,
        ),
        status,
    )


def _recheck_due(db, clearances: list[Clearance]) -> dict[int, dt.date]:
    """When each recorded DBS certificate is due a re-check, under the force's settings now."""
    policy = current_policy(db, current_app.config)
    return {
        c.id: recheck_due(c.dbs_issued_on, c.dbs_status_checked_on, policy)
        for c in clearances
        if c.dbs_issued_on is not None
    }


@bp.route("/reviews/<int:review_id>/clearances/<int:clearance_id>/<action>", methods=["POST"])
@allow(Role.VETTING_OFFICER)
def clearance_action(review_id: int, clearance_id: int, action: str):
    try:
        chosen = decisions.ClearanceAction(action)
    except ValueError:
        abort(404)
    db = get_session()
    item = db.get(VettingReview, review_id)
    if item is None:
        abort(404)
    form = ClearanceActionForm(action=action)
    # The reason box is named per clearance and action on the page, so the error summary links to it.
    form.reason.id = f"reason-{clearance_id}-{action}"
    if form.validate_on_submit():
        try:
            decisions.act_on_clearance(
                db,
                review_id,
                clearance_id,
                chosen,
                current_user.id,
                form.reason.data,
                key_from_config(current_app.config),
                _settings(db),
            )
        except decisions.DecisionError as exc:
            if exc.field != "reason":
                flash(exc.message, "error")
                return redirect(url_for("vetting.review", review_id=review_id))
            form.reason.errors = [*form.reason.errors, exc.message]
        else:
            flash(
                {
                    "suspend": "Clearance suspended pending review: it no longer counts for matching.",
                    "reinstate": "Clearance reinstated.",
                    "withdraw": "Withdrawal entered. It takes effect when a second vetting officer confirms it.",
                }[action],
                "success",
            )
            return redirect(url_for("vetting.review", review_id=review_id))
    if item.status is ReviewStatus.CLOSED:
        flash("This review has already been decided", "error")
        return redirect(url_for("vetting.review", review_id=review_id))
    db.rollback()
    return _review_page(db, item, _decision_form(db, item, posted=False), form, acting=(clearance_id, action))


@bp.route("/my-clearances", methods=["GET", "POST"])
@allow(Role.VOLUNTEER)
def my_clearances():
    """The volunteer's own clearances: outcomes, dates, restrictions that affect them, and appeals."""
    db = get_session()
    volunteer = db.scalar(select(Volunteer).where(Volunteer.user_id == current_user.id))
    if volunteer is None:
        abort(404)
    policy = current_policy(db, current_app.config)
    form = AppealForm()
    # database_id: an id outside the database's range is no id (not a query PostgreSQL refuses with a 500).
    appealing = request.args.get("appeal", type=database_id) or request.form.get("clearance_id", type=database_id)
    if appealing and form.validate_on_submit():
        try:
            decisions.lodge_appeal(
                db,
                volunteer.id,
                appealing,
                form.grounds.data,
                policy,
                key_from_config(current_app.config),
                london_today(),
            )
        except decisions.DecisionError as exc:
            show_error(form, exc)
        else:
            flash("Your appeal has been sent. The vetting team will write to you with their decision.", "success")
            return redirect(url_for("vetting.my_clearances"))
    clearances = list(
        db.scalars(
            select(Clearance).where(Clearance.volunteer_id == volunteer.id).order_by(Clearance.created_at.desc())
        )
    )
    deadlines = {}
    for clearance in clearances:
        if ClearanceEvent.APPEAL in allowed_events(clearance.state):
            deadline = appeal_open_until(decisions.previous_record(db, clearance), london_today(), policy)
            if deadline is not None:
                deadlines[clearance.id] = deadline
    tasks = current_task_policies(db)
    # What each clearance lets them do, from the task policies in force (the matcher's source; issue #19).
    facts = {
        c.id: ClearanceFact(c.type_code, c.state, c.valid_from, c.expires_on, c.restrictions)
        for c in clearances
        if c.valid_from is not None and c.expires_on is not None
    }
    held, today = list(facts.values()), london_today()
    uses = {cid: clearance_uses(fact, held, tasks.values(), today) for cid, fact in facts.items()}
    return render_template(
        "vetting/my_clearances.html",
        clearances=clearances,
        deadlines=deadlines,
        types=CLEARANCE_TYPES_BY_CODE,
        tasks=tasks,
        uses=uses,
        today=today,
        form=form if appealing else None,
        appealing=appealing,
    )


@bp.route("/reviews/<int:review_id>/confirm", methods=["POST"])
@allow(Role.VETTING_OFFICER)
def confirm(review_id: int):
    db = get_session()
    try:
        decisions.confirm_pending(db, review_id, current_user.id, key_from_config(current_app.config), _settings(db))
    except decisions.DecisionError as exc:
        flash(exc.message, "error")
    else:
        flash("Decision confirmed: it has taken effect.", "success")
    return redirect(url_for("vetting.review", review_id=review_id))


@bp.route("/volunteers/<int:volunteer_id>/information", methods=["GET", "POST"])
@allow(Role.VETTING_OFFICER)
def record_information(volunteer_id: int):
    """Information about a person from outside their own reports: it opens a triggered review (or joins
    the open one), and may suspend their clearances until that review is decided."""
    db = get_session()
    volunteer = db.get(Volunteer, volunteer_id)
    if volunteer is None:
        abort(404)
    form = InformationForm()
    if form.validate_on_submit():
        try:
            opened = vetting_services.record_information(
                db,
                volunteer_id,
                current_user.id,
                InformationSource(form.source.data),
                form.summary.data,
                bool(form.suspend.data),
                key_from_config(current_app.config),
                _settings(db),
            )
        except decisions.DecisionError as exc:
            if not show_error(form, exc):
                return redirect(url_for("vetting.record_information", volunteer_id=volunteer_id))
        else:
            flash(
                "Information recorded in a triggered review"
                + (": their clearances are suspended until it is decided." if form.suspend.data else "."),
                "success",
            )
            return redirect(url_for("vetting.review", review_id=opened.id))
    return render_template("vetting/information.html", form=form, volunteer=volunteer)


@bp.route("/clearances/<int:clearance_id>/dbs-status-check", methods=["GET", "POST"])
@allow(Role.VETTING_OFFICER)
def dbs_status_check(clearance_id: int):
    """Record a DBS Update Service status check on a recorded certificate (vetting/dbs_checks.py)."""
    db = get_session()
    try:
        clearance = dbs_checks.status_check_clearance(db, clearance_id)
    except dbs_checks.StatusCheckError as exc:
        flash(exc.message, "error")
        return redirect(url_for("vetting.queue"))
    # Back to the review the officer came from, if it is this person's; otherwise their whole record.
    from_review = db.get(VettingReview, request.args.get("review", type=database_id) or 0)
    if from_review is not None and from_review.volunteer_id != clearance.volunteer_id:
        from_review = None
    back = (
        url_for("vetting.review", review_id=from_review.id)
        if from_review
        else url_for("vetting.person", volunteer_id=clearance.volunteer_id)
    )
    form = DbsStatusCheckForm()
    if request.method == "GET":
        form.dbs_update_service_id.data = clearance.dbs_update_service_id
    policy = current_policy(db, current_app.config)
    if form.validate_on_submit():
        try:
            done = dbs_checks.record_status_check(
                db,
                clearance_id,
                current_user.id,
                form.dbs_update_service_id.data,
                form.dbs_status_checked_on.data,
                form.result.data == "current",
                key_from_config(current_app.config),
                london_today(),
                policy,
            )
        except dbs_checks.StatusCheckError as exc:
            if not show_error(form, exc):
                return redirect(back)
        else:
            if done.review is not None:
                flash("Status check recorded. A renewal review is open for a new DBS check.", "success")
                return redirect(url_for("vetting.review", review_id=done.review.id))
            flash(
                "Status check recorded."
                + (
                    f" The clearance now counts until {format_date(done.clearance.expires_on)}."
                    if done.extended_from
                    else ""
                ),
                "success",
            )
            return redirect(back)
    return render_template(
        "vetting/dbs_status_check.html",
        form=form,
        clearance=clearance,
        clearance_type=CLEARANCE_TYPES_BY_CODE[clearance.type_code],
        due=recheck_due(clearance.dbs_issued_on, clearance.dbs_status_checked_on, policy)
        if clearance.dbs_issued_on
        else None,
        update_months=policy.dbs_update_check_months,
        back=back,
    )


@bp.route("/clearance-types")
@allow(Role.COORDINATOR)
def clearance_types():
    policy = current_policy(get_session(), current_app.config)
    return render_template(
        "vetting/clearance_types.html",
        types=CLEARANCE_TYPES,
        months={t.code: policy.validity_months(t) for t in CLEARANCE_TYPES},
    )


@bp.route("/clearance-types/<code>", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit_clearance_type(code: str):
    clearance_type = CLEARANCE_TYPES_BY_CODE.get(code)
    if clearance_type is None:
        abort(404)
    db = get_session()
    form = ValidityForm()
    if request.method == "GET":
        form.validity_months.data = current_policy(db, current_app.config).validity_months(clearance_type)
    if form.validate_on_submit():
        try:
            set_validity(db, code, form.validity_months.data, current_user.id, key_from_config(current_app.config))
        except PolicyError as exc:
            show_error(form, exc)
        else:
            flash(
                f"{clearance_type.name}: clearances granted from now on are valid for "
                f"{form.validity_months.data} months.",
                "success",
            )
            return redirect(url_for("vetting.clearance_types"))
    return render_template("vetting/edit_clearance_type.html", form=form, clearance_type=clearance_type)


@bp.route("/task-types")
@allow(Role.COORDINATOR)
def task_types():
    return render_template(
        "vetting/task_types.html",
        policies=current_task_policies(get_session()).values(),
        describe_groups=describe_groups,
        describe_skills=describe_skills,
        team_rule_labels=TEAM_RULE_LABELS,
    )


_YES_NO_SETTINGS = ("warranted_only", "unsupervised_allowed", "all_or_nothing", "remote_possible", "street_duty")


def _fill_requirements(form: TaskPolicyForm, policy: TaskPolicy) -> None:
    yes = {True: "yes", False: "no"}
    form.clearances.data = format_groups(policy.clearance_groups)
    form.unsupervised_clearances.data = format_groups(policy.unsupervised_clearance_groups)
    form.skills.data = format_skills(policy.required_skills)
    form.minimum_patrol_status.data = policy.minimum_patrol_status.value if policy.minimum_patrol_status else ""
    form.default_team_size.data = policy.default_team_size
    form.team_rule.data = policy.team_rule.value
    for name in _YES_NO_SETTINGS:
        getattr(form, name).data = yes[getattr(policy, name)]


def _requirements(form: TaskPolicyForm) -> dict | None:
    """The requirement settings as typed, or None with each line that is not understood shown by its box.
    Read whether or not the rest of the form passed, so every problem shows at once."""
    changes, failed = {}, False
    for field, key, parse in (
        (form.clearances, "clearance_groups", parse_groups),
        (form.unsupervised_clearances, "unsupervised_clearance_groups", parse_groups),
        (form.skills, "required_skills", parse_skills),
    ):
        if field.errors:
            failed = True
            continue
        try:
            changes[key] = parse(field.data or "")
        except PolicyTextError as exc:
            field.errors.append(str(exc))
            failed = True
    if failed or any(
        form[name].errors for name in ("minimum_patrol_status", "default_team_size", "team_rule", *_YES_NO_SETTINGS)
    ):
        return None
    return changes | {
        "minimum_patrol_status": PatrolStatus(form.minimum_patrol_status.data)
        if form.minimum_patrol_status.data
        else None,
        "default_team_size": form.default_team_size.data,
        "team_rule": TeamRule(form.team_rule.data),
        **{name: getattr(form, name).data == "yes" for name in _YES_NO_SETTINGS},
    }


def _names(form: TaskTypeForm) -> TaskTypeNames:
    return TaskTypeNames(
        name=form.name.data or "", activity=form.activity.data or "", description=form.description.data or ""
    )


def _task_type_page(form: TaskPolicyForm, policy: TaskPolicy | None):
    return render_template(
        "vetting/edit_task_type.html",
        form=form,
        policy=policy,
        clearance_types=CLEARANCE_TYPES,
        skills=[s for s in SKILLS if s.family is not SkillFamily.LANGUAGE],
    )


@bp.route("/task-types/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def add_task_type():
    """A task type of the force's own: its name and words, and the same requirements as an edit."""
    form = TaskTypeForm()
    if request.method == "GET":
        form.warranted_only.data = form.unsupervised_allowed.data = form.all_or_nothing.data = "no"
        form.remote_possible.data, form.street_duty.data = "no", "yes"
        form.default_team_size.data = 1
        form.team_rule.data = TeamRule.NONE.value
    valid = form.validate_on_submit()
    if form.is_submitted():
        settings = _requirements(form)
        if valid and settings is not None:
            try:
                added = policy_service.add_task_type(
                    get_session(), current_user.id, key_from_config(current_app.config), _names(form), **settings
                )
            except PolicyError as exc:
                show_error(form, exc)
            else:
                flash(f"{added.name}: task type added. Sergeants can raise requests for it now.", "success")
                return redirect(url_for("vetting.task_types"))
    return _task_type_page(form, None)


@bp.route("/task-types/<task_code>", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit_task_type(task_code: str):
    db = get_session()
    policy = current_task_policies(db).get(task_code)
    if policy is None:
        abort(404)
    # A type the force added keeps its words editable; a built-in one is named by the catalogue.
    added = is_added(task_code)
    form = TaskTypeForm() if added else TaskPolicyForm()
    if request.method == "GET":
        _fill_requirements(form, policy)
        if added:
            form.name.data, form.activity.data, form.description.data = policy.name, policy.activity, policy.description
    valid = form.validate_on_submit()
    if form.is_submitted():
        changes = _requirements(form)
        if valid and changes is not None:
            try:
                saved = update_task_policy(
                    db,
                    task_code,
                    current_user.id,
                    key_from_config(current_app.config),
                    _names(form) if added else None,
                    **changes,
                )
            except PolicyError as exc:
                show_error(form, exc)
            else:
                flash(f"{saved.name}: policy saved. It applies to requests and matching from now on.", "success")
                return redirect(url_for("vetting.task_types"))
    return _task_type_page(form, policy)


# ---- The vetting officers' tools: find a person, their whole record, the audit log ---------------


@bp.route("/people")
@allow(Role.VETTING_OFFICER)
def people():
    form = PersonSearchForm(request.args)
    page = None
    if "q" in request.args and form.validate():
        page = records.search_people(get_session(), form.q.data.strip(), request.args.get("page"))
    return render_template("vetting/people.html", form=form, page=page, query=(form.q.data or "").strip())


@bp.route("/people/<int:volunteer_id>")
@allow(Role.VETTING_OFFICER)
def person(volunteer_id: int):
    try:
        record = records.open_person_record(
            get_session(), volunteer_id, current_user.id, key_from_config(current_app.config)
        )
    except records.PersonNotFound:
        abort(404)
    return render_template(
        "vetting/person.html",
        record=record,
        types=CLEARANCE_TYPES_BY_CODE,
        tasks=current_task_policies(get_session()),
        today=london_today(),
        kind_label=kind_label,
    )


AUDIT_FILTERS = ("person", "actor", "action", "from_date", "to_date")


def _audit_form() -> tuple[AuditFilterForm, audit_trail.AuditQuery, dict]:
    """The audit log's filters as typed, the query they make, and the ones in use (for links)."""
    db = get_session()
    form = AuditFilterForm(request.args)
    form.actor.set_options([SelectChoice(value, label) for value, label in audit_trail.actor_choices(db)])
    form.action.set_options([SelectChoice(value, label) for value, label in audit_trail.action_choices(db)])
    form.validate()
    query = audit_trail.AuditQuery(
        person_text=(form.person.data or "").strip() if not form.person.errors else "",
        actor=form.selected("actor"),
        action=form.selected("action"),
        from_date=form.from_date.data if not form.from_date.errors else None,
        to_date=form.to_date.data if not form.to_date.errors else None,
    )
    args = {name: request.args.getlist(name) for name in AUDIT_FILTERS if any(request.args.getlist(name))}
    return form, query, args


@bp.route("/audit-log")
@allow(Role.VETTING_OFFICER)
def audit_log():
    form, query, args = _audit_form()
    page = person = None
    if not form.errors:  # a log read with a filter left out would mislead: show nothing until it is put right
        try:
            page, person = audit_trail.read_log(
                get_session(), query, request.args.get("page"), current_user.id, key_from_config(current_app.config)
            )
        except audit_trail.AuditFilterError as exc:
            show_error(form, exc)
    return render_template("vetting/audit_log.html", form=form, page=page, person=person, args=args)


@bp.route("/audit-log/export.csv")
@allow(Role.VETTING_OFFICER)
@recent_auth_required  # who read whose vetting record, in bulk: the officer must have proved who they are lately
def audit_log_csv():
    form, query, args = _audit_form()
    if form.errors:
        return redirect(url_for("vetting.audit_log", **args))
    try:
        _, chunks = audit_trail.export_log(get_session(), query, current_user.id, key_from_config(current_app.config))
    except audit_trail.AuditFilterError:
        return redirect(url_for("vetting.audit_log", **args))
    filename = f"audit-log-{london_today().isoformat()}.csv"
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
