"""The vetting officers' queue and review pages. Vetting detail is shown to vetting officers only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import get_session, utcnow
from core.forms import BaseForm, show_error
from core.permissions import allow
from core.seams import seams
from core.timeutil import london_today
from vetting import decisions, queries
from vetting.catalogue import CLEARANCE_TYPES, CLEARANCE_TYPES_BY_CODE, TASK_POLICIES_BY_CODE
from vetting.forms import AppealForm, ClearanceActionForm, DecisionForm, TaskPolicyForm, ValidityForm
from vetting.lifecycle import OUTCOMES_BY_KIND, ClearanceEvent, allowed_events, appeal_open_until
from vetting.models import Clearance, ClearanceTransition, ReviewStatus, VettingReview
from vetting.policy import PolicyError, current_policy, current_task_policies, set_validity, update_task_policy
from vetting.policy_text import PolicyTextError, format_groups, format_skills, parse_groups, parse_skills
from volunteers.models import Volunteer
from volunteers.skills import PatrolStatus

bp = Blueprint("vetting", __name__, url_prefix="/vetting")


@bp.route("/queue")
@allow(Role.VETTING_OFFICER)
def queue():
    items = queries.review_queue(get_session(), london_today(), utcnow(), seams().upcoming_deployments)
    return render_template("vetting/queue.html", items=items, today=london_today(), horizon_days=queries.URGENT_DAYS)


@bp.route("/reviews/<int:review_id>", methods=["GET", "POST"])
@allow(Role.VETTING_OFFICER)
def review(review_id: int):
    db = get_session()
    item = db.get(VettingReview, review_id)
    if item is None:
        abort(404)
    key = key_from_config(current_app.config)
    form = DecisionForm()
    # Offer only the decisions that fit this kind of review.
    allowed = OUTCOMES_BY_KIND[item.kind]
    form.outcome.choices = [c for c in form.outcome.choices if c.value in allowed]
    if form.validate_on_submit():
        try:
            decisions.decide(
                db,
                review_id,
                current_user.id,
                decisions.Decision(
                    outcome=decisions.Outcome(form.outcome.data),
                    reason=form.reason.data,
                    type_code=form.type_code.data or None,
                    valid_from=form.valid_from.data,
                    expires_on=form.expires_on.data,
                    restrictions=frozenset(form.restrictions.data or ()),
                ),
                key,
                current_policy(db, current_app.config),
            )
        except decisions.DecisionError as exc:
            if not show_error(form, exc):
                return redirect(url_for("vetting.review", review_id=review_id))
        else:
            flash(
                "Decision recorded."
                if db.get(VettingReview, review_id).status is ReviewStatus.CLOSED
                else "Refusal entered. It takes effect when a second vetting officer confirms it.",
                "success",
            )
            return redirect(url_for("vetting.review", review_id=review_id))
    if not form.is_submitted():
        decisions.record_view(db, item, current_user.id, key)
    clearances = list(
        db.scalars(select(Clearance).where(Clearance.volunteer_id == item.volunteer_id).order_by(Clearance.created_at))
    )
    history = list(
        db.scalars(
            select(ClearanceTransition)
            .where(ClearanceTransition.clearance_id.in_([c.id for c in clearances]))
            .order_by(ClearanceTransition.at)
        )
    )
    return render_template(
        "vetting/review.html",
        review=item,
        form=form,
        clearances=clearances,
        history=history,
        types=CLEARANCE_TYPES_BY_CODE,
        tasks=TASK_POLICIES_BY_CODE,
        confirm_form=BaseForm(),
        action_form=ClearanceActionForm(formdata=None),
    )


@bp.route("/reviews/<int:review_id>/clearances/<int:clearance_id>/<action>", methods=["POST"])
@allow(Role.VETTING_OFFICER)
def clearance_action(review_id: int, clearance_id: int, action: str):
    try:
        chosen = decisions.ClearanceAction(action)
    except ValueError:
        abort(404)
    form = ClearanceActionForm()
    if not form.validate_on_submit():
        flash(
            "Enter the reason for "
            + (
                "suspending"
                if chosen is decisions.ClearanceAction.SUSPEND
                else "reinstating"
                if chosen is decisions.ClearanceAction.REINSTATE
                else "withdrawing"
            )
            + " the clearance",
            "error",
        )
        return redirect(url_for("vetting.review", review_id=review_id))
    try:
        decisions.act_on_clearance(
            get_session(),
            review_id,
            clearance_id,
            chosen,
            current_user.id,
            form.reason.data,
            key_from_config(current_app.config),
        )
    except decisions.DecisionError as exc:
        flash(exc.message, "error")
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
    appealing = request.args.get("appeal", type=int) or request.form.get("clearance_id", type=int)
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
    return render_template(
        "vetting/my_clearances.html",
        clearances=clearances,
        deadlines=deadlines,
        types=CLEARANCE_TYPES_BY_CODE,
        tasks=TASK_POLICIES_BY_CODE,
        form=form if appealing else None,
        appealing=appealing,
    )


@bp.route("/reviews/<int:review_id>/confirm", methods=["POST"])
@allow(Role.VETTING_OFFICER)
def confirm(review_id: int):
    try:
        decisions.confirm_pending(get_session(), review_id, current_user.id, key_from_config(current_app.config))
    except decisions.DecisionError as exc:
        flash(exc.message, "error")
    else:
        flash("Decision confirmed: it has taken effect.", "success")
    return redirect(url_for("vetting.review", review_id=review_id))


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
        format_groups=format_groups,
        format_skills=format_skills,
    )


@bp.route("/task-types/<task_code>", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit_task_type(task_code: str):
    db = get_session()
    policy = current_task_policies(db).get(task_code)
    if policy is None:
        abort(404)
    form = TaskPolicyForm()
    if request.method == "GET":
        yes = {True: "yes", False: "no"}
        form.clearances.data = format_groups(policy.clearance_groups)
        form.unsupervised_clearances.data = format_groups(policy.unsupervised_clearance_groups)
        form.skills.data = format_skills(policy.required_skills)
        form.minimum_patrol_status.data = policy.minimum_patrol_status.value if policy.minimum_patrol_status else ""
        form.default_team_size.data = policy.default_team_size
        for name in ("warranted_only", "unsupervised_allowed", "all_or_nothing", "remote_possible", "street_duty"):
            getattr(form, name).data = yes[getattr(policy, name)]
    if form.validate_on_submit():
        changes, failed = {}, False
        for field, key, parse in (
            (form.clearances, "clearance_groups", parse_groups),
            (form.unsupervised_clearances, "unsupervised_clearance_groups", parse_groups),
            (form.skills, "required_skills", parse_skills),
        ):
            try:
                changes[key] = parse(field.data or "")
            except PolicyTextError as exc:
                field.errors.append(str(exc))
                failed = True
        if not failed:
            changes.update(
                minimum_patrol_status=PatrolStatus(form.minimum_patrol_status.data)
                if form.minimum_patrol_status.data
                else None,
                default_team_size=form.default_team_size.data,
                **{
                    name: getattr(form, name).data == "yes"
                    for name in (
                        "warranted_only",
                        "unsupervised_allowed",
                        "all_or_nothing",
                        "remote_possible",
                        "street_duty",
                    )
                },
            )
            try:
                update_task_policy(db, task_code, current_user.id, key_from_config(current_app.config), **changes)
            except PolicyError as exc:
                show_error(form, exc)
            else:
                flash(f"{policy.name}: policy saved. It applies to matching from now on.", "success")
                return redirect(url_for("vetting.task_types"))
    return render_template("vetting/edit_task_type.html", form=form, policy=policy)
