"""The vetting officers' queue and review pages. Vetting detail is shown to vetting officers only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import get_session
from core.forms import BaseForm
from core.permissions import allow
from core.timeutil import london_today
from vetting import decisions
from vetting.catalogue import CLEARANCE_TYPES, CLEARANCE_TYPES_BY_CODE, TASK_POLICIES_BY_CODE
from vetting.forms import DecisionForm, ValidityForm
from vetting.models import Clearance, ClearanceTransition, ReviewKind, ReviewStatus, VettingReview
from vetting.policy import PolicyError, current_policy, set_validity
from volunteers.models import Volunteer

bp = Blueprint("vetting", __name__, url_prefix="/vetting")

# Triggered reviews first (adverse information may mean someone should stop now), then appeals,
# then renewals and new applications; within each, the earliest due first.
_KIND_ORDER = case({ReviewKind.TRIGGERED: 0, ReviewKind.APPEAL: 1, ReviewKind.RENEWAL: 2,
                    ReviewKind.NEW_APPLICATION: 3}, value=VettingReview.kind)


@bp.route("/queue")
@allow(Role.VETTING_OFFICER)
def queue():
    reviews = list(get_session().scalars(
        select(VettingReview).where(VettingReview.status == ReviewStatus.OPEN)
        .options(selectinload(VettingReview.volunteer).selectinload(Volunteer.user),
                 selectinload(VettingReview.pending))
        .order_by(_KIND_ORDER, VettingReview.due_on, VettingReview.id).limit(500)))
    return render_template("vetting/queue.html", reviews=reviews, today=london_today())


@bp.route("/reviews/<int:review_id>", methods=["GET", "POST"])
@allow(Role.VETTING_OFFICER)
def review(review_id: int):
    db = get_session()
    item = db.get(VettingReview, review_id)
    if item is None:
        abort(404)
    key = key_from_config(current_app.config)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decisions.decide(db, review_id, current_user.id, decisions.Decision(
                outcome=decisions.Outcome(form.outcome.data), reason=form.reason.data,
                type_code=form.type_code.data or None, valid_from=form.valid_from.data,
                expires_on=form.expires_on.data, restrictions=frozenset(form.restrictions.data or ())), key,
                current_policy(db, current_app.config))
        except decisions.DecisionError as exc:
            target = getattr(form, exc.field, None) if exc.field else None
            if target is not None:
                target.errors.append(exc.message)
            else:
                flash(exc.message, "error")
                return redirect(url_for("vetting.review", review_id=review_id))
        else:
            flash("Decision recorded." if db.get(VettingReview, review_id).status is ReviewStatus.CLOSED else
                  "Refusal entered. It takes effect when a second vetting officer confirms it.", "success")
            return redirect(url_for("vetting.review", review_id=review_id))
    if not form.is_submitted():
        decisions.record_view(db, item, current_user.id, key)
    clearances = list(db.scalars(select(Clearance).where(Clearance.volunteer_id == item.volunteer_id)
                                 .order_by(Clearance.created_at)))
    history = list(db.scalars(select(ClearanceTransition).where(
        ClearanceTransition.clearance_id.in_([c.id for c in clearances])).order_by(ClearanceTransition.at)))
    return render_template("vetting/review.html", review=item, form=form, clearances=clearances, history=history,
                           types=CLEARANCE_TYPES_BY_CODE, tasks=TASK_POLICIES_BY_CODE, confirm_form=BaseForm())


@bp.route("/reviews/<int:review_id>/confirm", methods=["POST"])
@allow(Role.VETTING_OFFICER)
def confirm(review_id: int):
    try:
        decisions.confirm_pending(get_session(), review_id, current_user.id, key_from_config(current_app.config))
    except decisions.DecisionError as exc:
        flash(exc.message, "error")
    else:
        flash("Refusal confirmed: it has taken effect.", "success")
    return redirect(url_for("vetting.review", review_id=review_id))


@bp.route("/clearance-types")
@allow(Role.COORDINATOR)
def clearance_types():
    policy = current_policy(get_session(), current_app.config)
    return render_template("vetting/clearance_types.html", types=CLEARANCE_TYPES,
                           months={t.code: policy.validity_months(t) for t in CLEARANCE_TYPES})


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
            form.validity_months.errors.append(exc.message)
        else:
            flash(f"{clearance_type.name}: clearances granted from now on are valid for "
                  f"{form.validity_months.data} months.", "success")
            return redirect(url_for("vetting.clearance_types"))
    return render_template("vetting/edit_clearance_type.html", form=form, clearance_type=clearance_type)
