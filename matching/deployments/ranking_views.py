"""Coordinators: the volunteers the matcher currently ranks lower after a deployment, and clearing that.

Thin: form → service → redirect or page. Coordinators only: sergeants never learn that someone is ranked
lower (their offers' explanations never say), and volunteers are not shown the sergeant's feedback.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core.audit.services import key_from_config
from core.auth.models import Role
from core.db import get_session, utcnow
from core.forms import show_error
from core.hardening import database_id
from core.permissions import allow
from matching.deployments import ranking
from matching.deployments.models import Deployment
from matching.deployments.ranking_forms import ClearForm
from volunteers.models import Volunteer

bp = Blueprint("ranking", __name__, url_prefix="/ranking")


def _days() -> int:
    return int(current_app.config.get("RANKING_PENALTY_DAYS", ranking.DEFAULT_PENALTY_DAYS))


def _volunteer_filter() -> Volunteer | None:
    """The volunteer named by ?volunteer= (from the coordinator's page about them); anything else is a 404."""
    if "volunteer" not in request.args:
        return None
    volunteer_id = request.args.get("volunteer", type=database_id)
    found = None if volunteer_id is None else get_session().get(Volunteer, volunteer_id)
    if found is None:
        abort(404)
    return found


@bp.route("")
@allow(Role.COORDINATOR)
def index():
    volunteer = _volunteer_filter()
    concerns = ranking.current_concerns(
        get_session(), utcnow(), _days(), volunteer_id=volunteer.id if volunteer else None
    )
    return render_template("deployments/ranking.html", concerns=concerns, volunteer=volunteer, days=_days())


@bp.route("/<int:deployment_id>/clear", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def clear(deployment_id: int):
    db = get_session()
    now = utcnow()
    concern = next((c for c in ranking.current_concerns(db, now, _days()) if c.deployment_id == deployment_id), None)
    if concern is None:
        if db.get(Deployment, deployment_id) is None:
            abort(404)
        # An old link (cleared since, or run its course): say so on the list rather than a dead end.
        flash("That deployment does not lower the volunteer's ranking now: it was cleared or has run its course.")
        return redirect(url_for("ranking.index"))
    form = ClearForm()
    if form.validate_on_submit():
        try:
            ranking.clear(
                db,
                deployment_id=deployment_id,
                actor=current_user,
                reason=form.reason.data or "",
                key=key_from_config(current_app.config),
                now=now,
                days=_days(),
            )
        except ranking.RankingError as exc:
            if not show_error(form, exc):
                return redirect(url_for("ranking.index"))
        else:
            flash(f"{concern.volunteer_name} is no longer ranked lower for {concern.request_title}.", "success")
            return redirect(url_for("ranking.index"))
    return render_template("deployments/ranking_clear.html", form=form, concern=concern, days=_days())


def home(user) -> dict:
    """The coordinator's home page: how many volunteers the matcher ranks lower now."""
    counts = ranking.concern_counts(get_session(), select(Volunteer.id), utcnow(), _days())
    return {"ranked_lower": len(counts)}
