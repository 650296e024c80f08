"""The conflict review page: vetting officers reach it from a person's vetting record and their reviews,
coordinators from the volunteer's page in the directory. Neither sergeants nor volunteers may open it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields import SelectChoice

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import get_session
from core.forms import show_error
from core.permissions import allow
from vetting import conflict_reviews
from vetting.conflict_review_forms import ConflictReviewForm
from vetting.conflict_rules import HEALTH, Finding, line_words, split_lines
from vetting.policy import current_task_policies

bp = Blueprint("conflict_reviews", __name__, url_prefix="/vetting")


@bp.route("/people/<int:volunteer_id>/conflict-review", methods=["GET", "POST"])
@allow(Role.VETTING_OFFICER, Role.COORDINATOR)
def record(volunteer_id: int):
    db = get_session()
    key = key_from_config(current_app.config)
    opening = request.method == "GET"  # logged once, when opened: a form sent back with errors is the same reading
    try:
        page = conflict_reviews.open_page(
            db, volunteer_id, viewer_id=current_user.id if opening else None, key=key if opening else None
        )
    except conflict_reviews.VolunteerNotFound:
        abort(404)
    policies = current_task_policies(db)
    form = ConflictReviewForm()
    form.task_types.choices = [SelectChoice(code, policy.name) for code, policy in policies.items()]
    if HEALTH not in page.volunteer.conflict_review_lines:
        del form["employer_permission"]
    if request.method == "GET" and page.latest is not None:
        _prefill(form, page.latest)
    if form.validate_on_submit():
        try:
            conflict_reviews.record_review(
                db,
                volunteer_id,
                current_user.id,
                conflict_reviews.ReviewEntry(
                    findings=frozenset(form.findings.data or ()),
                    organisations=form.organisations.data or "",
                    wards=form.wards.data or "",
                    task_types=frozenset(form.task_types.data or ()),
                    employer_permission=bool(form.employer_permission.data) if "employer_permission" in form else False,
                    notes=form.notes.data or "",
                ),
                key,
            )
        except conflict_reviews.ConflictReviewError as exc:
            db.rollback()
            if not show_error(form, exc):
                return redirect(url_for("conflict_reviews.record", volunteer_id=volunteer_id))
        else:
            flash(
                f"Conflict review recorded for {page.volunteer.user.full_name}. It applies to matching from now on.",
                "success",
            )
            return redirect(url_for("conflict_reviews.record", volunteer_id=volunteer_id))
    return render_template(
        "vetting/conflict_review.html",
        page=page,
        form=form,
        tasks=policies,
        reviewed_for=_reviewed_for,
        back=(
            url_for("directory.volunteer", volunteer_id=volunteer_id)
            if current_user.role is Role.COORDINATOR
            else url_for("vetting.person", volunteer_id=volunteer_id)
        ),
    )


def _reviewed_for(review) -> str:
    """What a review was recorded for, in words: the lines of work, the employer, and any permission seen."""
    words = "; ".join(line_words(split_lines(review.lines_of_work))) or "No line of work needing a review"
    if review.employer:
        words += f"; employer {review.employer}"
    if review.employer_permission:
        words += "; the employer gave permission"
    return words


def _prefill(form: ConflictReviewForm, latest) -> None:
    """The form as the latest review left things, so recording a new one changes only what has changed (its
    reasons, and any permission, are given anew)."""
    found = {Finding.CONFLICTS.value} if any(f.task_type_code is None for f in latest.findings) else set()
    if any(f.task_type_code is not None for f in latest.findings):
        found.add(Finding.NOT_SUITABLE.value)
    form.findings.data = sorted(found) or [conflict_reviews.NO_CONFLICT]
    form.organisations.data = "\n".join(f.organisation for f in latest.findings if f.organisation)
    form.wards.data = "\n".join(f.ward.label for f in latest.findings if f.ward is not None)
    form.task_types.data = [f.task_type_code for f in latest.findings if f.task_type_code]
