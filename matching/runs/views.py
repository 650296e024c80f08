"""Coordinators' matching runs: start one (a ward, a BCU or all London over some days), follow its
progress, and read the history with each run's figures. Thin: form → service → redirect or page.

A ward's run is done while the coordinator waits (a second or two); a BCU's or London's goes to the
background worker, and its page shows the stage and share done until it finishes — it carries on if
the browser is closed.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms.fields import SelectChoice

from core.auth.models import Role
from core.db import get_session
from core.forms import show_error
from core.geography.models import Bcu, Borough, Ward
from core.pagination import Page
from core.permissions import allow
from core.timeutil import london_today
from matching.models import MatchRun, RunRequest, RunScope, SupportRequest
from matching.runs.forms import RunAgainForm, RunForm
from matching.runs.services import (
    STALE_CHECK_EVERY,
    STOPPED_MESSAGE,
    RunError,
    abstraction_by_ward,
    abstraction_summary,
    by_priority,
    can_run_again,
    days_text,
    describe_scope,
    gap_text,
    panel_elsewhere,
    queue_run,
    run_again,
    stale_after_from_config,
    steps_text,
)

bp = Blueprint("runs", __name__, url_prefix="/matching/runs")
_MAX_ID = 2**31 - 1


def _prepare(form: RunForm) -> None:
    db = get_session()
    form.ward.choices = [SelectChoice("", "Choose a ward")] + [
        SelectChoice(str(w.id), w.label)
        for w in db.scalars(
            select(Ward).join(Borough).options(joinedload(Ward.borough)).order_by(Borough.name, Ward.name)
        )
    ]
    form.bcu.choices = [SelectChoice("", "Choose a BCU")] + [
        SelectChoice(str(b.id), b.name) for b in db.scalars(select(Bcu).order_by(Bcu.name))
    ]


@bp.route("", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def index():
    from matching.tasks import run_match, run_now

    db = get_session()
    form = RunForm()
    _prepare(form)
    if request.method == "GET":
        form.first_day.data = london_today()
    if form.validate_on_submit():
        scope = RunScope(form.scope.data)
        try:
            run = queue_run(
                db,
                scope=scope,
                first_day=form.first_day.data,
                last_day=form.last_day.data,
                today=london_today(),
                trigger="web",
                requested_by_id=current_user.id,
                ward_id=int(form.ward.data) if scope is RunScope.WARD else None,
                bcu_id=int(form.bcu.data) if scope is RunScope.BCU else None,
            )
        except RunError as exc:
            show_error(form, exc)
        else:
            if scope is RunScope.WARD:
                run_now(current_app, run.id)
            else:
                run_match(run.id)  # to the worker; the run's page follows it
            return redirect(url_for("runs.show", run_id=run.id))
    query = (
        select(MatchRun)
        .options(
            joinedload(MatchRun.ward).joinedload(Ward.borough),
            joinedload(MatchRun.bcu),
            joinedload(MatchRun.requested_by),
        )
        .order_by(MatchRun.id.desc())
    )
    page = Page.of(db, query, select(func.count(MatchRun.id)), request.args.get("page"), per_page=25)
    return render_template("runs/runs.html", form=form, page=page, **_helpers())


def _helpers() -> dict:
    return {
        "describe_scope": describe_scope,
        "days_text": days_text,
        "gap_text": gap_text,
        "by_priority": by_priority,
        "steps_text": steps_text,
        "abstraction_summary": abstraction_summary,
    }


@bp.route("/<int:run_id>")
@allow(Role.COORDINATOR)
def show(run_id: int):
    db = get_session()
    run = db.get(MatchRun, run_id) if run_id <= _MAX_ID else None
    if run is None:
        abort(404)
    unfilled = []
    if run.is_finished:
        unfilled = db.execute(
            select(RunRequest, SupportRequest)
            .join(SupportRequest, SupportRequest.id == RunRequest.request_id)
            .where(RunRequest.run_id == run.id, RunRequest.places_offered < RunRequest.places_needed)
            .options(joinedload(SupportRequest.ward).joinedload(Ward.borough))
            .order_by(SupportRequest.priority.desc(), SupportRequest.window_start)
            .limit(50)
        ).all()
    abstraction = abstraction_by_ward(db, run) if run.is_finished else []
    away = panel_elsewhere(db, [finding for finding, _ in unfilled])
    # A stopped worker is noticed by the run's silence, then by the next five-minute check: at most this long.
    reported_within = stale_after_from_config(current_app.config) + STALE_CHECK_EVERY
    return render_template(
        "runs/run.html",
        run=run,
        unfilled=unfilled,
        abstraction=abstraction,
        away=away,
        again=RunAgainForm() if can_run_again(run, london_today()) else None,
        stopped=run.error == STOPPED_MESSAGE,
        stopped_within=round(reported_within.total_seconds() / 60),
        **_helpers(),
    )


@bp.route("/<int:run_id>/again", methods=["POST"])
@allow(Role.COORDINATOR)
def again(run_id: int):
    """Run a failed run again: a new run of the same ward, BCU or all London, over the days still to come."""
    from matching.tasks import run_match, run_now

    if not RunAgainForm().validate_on_submit():
        abort(400)
    db = get_session()
    if run_id > _MAX_ID or db.get(MatchRun, run_id) is None:
        abort(404)
    try:
        run = run_again(db, run_id, today=london_today(), requested_by_id=current_user.id)
    except RunError as exc:
        flash(exc.message, "error")
        return redirect(url_for("runs.show", run_id=run_id))
    if run.scope is RunScope.WARD:
        run_now(current_app, run.id)
    else:
        run_match(run.id)  # to the worker, as when it was first started
    return redirect(url_for("runs.show", run_id=run.id))
