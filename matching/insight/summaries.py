"""Working out the coverage and "why unfilled" summaries ahead (issue #21), so the pages only sum them.

``refresh`` replaces ``coverage_days``, ``unfilled_places`` and ``unfilled_skills`` (matching/insight/models.py)
in one transaction, for the London days from ``HORIZON_DAYS`` before today to ``AHEAD_DAYS`` after it: every
period the dashboards' filter offers (52 weeks, 12 calendar months) and the API's coverage asks of the recent
past and the requests ahead. The Huey task ``matching.tasks.refresh_dashboards`` calls it every five minutes.
``ensure`` is what a page calls: the latest refresh, or one worked out at once if there is none (a fresh
install, or ``flask demo load`` and ``make run`` before the worker's first tick) or it is older than
``STALE_AFTER`` (no worker running), so figures are never older than that.

Two refreshes never interleave: each holds a lock to its commit (PostgreSQL's transaction advisory lock, as the
matcher's save does, which needs no row to exist first; SQLite's write lock), and one that finds, once it holds
the lock, that another has just refreshed, keeps that one.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Date, and_, case, delete, distinct, func, insert, literal, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.geography.models import Ward
from core.timeutil import london_to_utc, london_today, to_london
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.insight.models import SKILLS_MAX, CoverageDay, InsightRefresh, UnfilledPlaceRow, UnfilledSkill
from matching.insight.rules import stopping_rule, time_band, worked_out
from matching.models import Offer, OfferStatus, RequestSkill, RequestStatus, RunRequest, SupportRequest
from vetting.catalogue import SKILLS_BY_CODE
from vetting.policy import current_task_policies

COVERAGE, UNFILLED = "coverage_days", "unfilled_places"
EVERY_MINUTES = 5  # the Huey task's period: the freshness line says it
HORIZON_DAYS = 400  # back from today: more than 52 weeks and 12 calendar months
AHEAD_DAYS = 400  # forward: requests are raised weeks ahead, not years
STALE_AFTER = dt.timedelta(minutes=30)  # with no worker, a page refreshes once figures are this old
# pg_advisory_xact_lock key for refreshing ("SNGI" in ASCII): one refresh at a time, whichever process.
REFRESH_LOCK_ID = 0x534E4749


@dataclass(frozen=True)
class Freshness:
    """When the summaries were worked out, the London days they cover (both inclusive), and how long it took."""

    refreshed_at: dt.datetime
    covers_from: dt.date
    covers_to: dt.date
    seconds: float

    def covers(self, first_day: dt.date, last_day: dt.date) -> bool:
        return self.covers_from <= first_day and last_day <= self.covers_to

    def words(self) -> str:
        """ "Figures as of 9:10pm on 7 December 2026, worked out every 5 minutes" (London time)."""
        return worked_out(self.refreshed_at, EVERY_MINUTES)


def current(db: Session) -> Freshness | None:
    """The latest refresh of both summaries (the older of the two), or None if either was never worked out."""
    rows = db.execute(
        select(
            InsightRefresh.refreshed_at, InsightRefresh.covers_from, InsightRefresh.covers_to, InsightRefresh.seconds
        )
        .where(InsightRefresh.name.in_((COVERAGE, UNFILLED)))
        .order_by(InsightRefresh.refreshed_at)
    ).all()
    if len(rows) < 2:
        return None
    return Freshness(*rows[0])


def ensure(db: Session, now: dt.datetime) -> Freshness:
    """The summaries' freshness, refreshing them first if never worked out or older than ``STALE_AFTER``.

    Call it before anything else in the session's transaction: a refresh ends that transaction.
    """
    fresh = current(db)
    if fresh is not None and now - fresh.refreshed_at < STALE_AFTER:
        return fresh
    return refresh(db, now, unless_newer_than=STALE_AFTER)


def refresh(db: Session, now: dt.datetime, unless_newer_than: dt.timedelta | None = None) -> Freshness:
    """Work out both summaries again as of ``now`` and commit: one transaction, under the refresh lock.

    With ``unless_newer_than``, a refresh another process committed that recently (seen once the lock is held)
    is kept instead, so twenty pages opened at once on stale figures refresh them once, not twenty times.
    """
    started = time.perf_counter()
    db.rollback()  # a read transaction begun before the lock would not see the other refresh's commit (SQLite)
    _lock(db)
    if unless_newer_than is not None:
        fresh = current(db)
        if fresh is not None and now - fresh.refreshed_at < unless_newer_than:
            db.rollback()
            return fresh
    today = london_today(now)
    first_day, last_day = today - dt.timedelta(days=HORIZON_DAYS), today + dt.timedelta(days=AHEAD_DAYS)
    starts_at, ends_at = _midnight(first_day), _midnight(last_day + dt.timedelta(days=1))
    db.execute(delete(CoverageDay))
    db.execute(delete(UnfilledSkill))
    db.execute(delete(UnfilledPlaceRow))
    _insert_coverage(db, first_day, last_day, now)
    _insert_unfilled(db, starts_at, min(ends_at, now))
    seconds = round(time.perf_counter() - started, 3)
    for name in (COVERAGE, UNFILLED):
        db.merge(
            InsightRefresh(name=name, refreshed_at=now, covers_from=first_day, covers_to=last_day, seconds=seconds)
        )
    db.commit()
    return Freshness(now, first_day, last_day, seconds)


def _lock(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": REFRESH_LOCK_ID})
    else:
        db.execute(text("UPDATE insight_refreshes SET name = name WHERE 0 = 1"))  # SQLite's write lock, to commit


def _midnight(day: dt.date) -> dt.datetime:
    return london_to_utc(day, dt.time(0, 0))


# ---- Coverage ------------------------------------------------------------------------------------


def _least(a, b):
    # LEAST is not in SQLite; a CASE is the same on both databases.
    return case((a < b, a), else_=b)


def request_figures(conditions: list, now: dt.datetime) -> tuple[list[ColumnElement], tuple]:
    """Each request's places (asked, offered, booked, served, unfilled, still open, cancelled) as columns of a
    SELECT from ``support_requests`` limited by ``conditions`` (which must hold in every subquery too).

    Per request: the distinct volunteers ever offered it, and the offers accepted (one live offer per volunteer
    and request, so these are people), and the bookings confirmed attended (a deployment belongs to one offer,
    still accepted). Each is grouped before it is joined, so no row counts twice; the caller joins them with
    ``request_joins`` (the second item returned). ``now`` divides unfilled places (time has come) from still open ones.
    """
    offers, served = _per_request(conditions)
    needed = SupportRequest.people_needed
    booked = _least(needed, func.coalesce(offers.c.accepted, 0))
    live = SupportRequest.status != RequestStatus.CANCELLED
    past = SupportRequest.window_start < now
    return [
        case((live, needed), else_=0),
        case((live, _least(needed, func.coalesce(offers.c.offered, 0))), else_=0),
        case((live, booked), else_=0),
        case((live, _least(needed, func.coalesce(served.c.served, 0))), else_=0),
        case((and_(live, past), needed - booked), else_=0),
        case((and_(live, ~past), needed - booked), else_=0),
        case((live, 0), else_=needed),
    ], (offers, served)


def _per_request(conditions: list):
    # Each aggregate joins the requests for the filter itself (not a CTE: PostgreSQL then misjudges the rows by
    # thousands of times and compiles the query with JIT, seconds lost).
    offers = (
        select(
            Offer.request_id.label("request_id"),
            func.count(distinct(Offer.volunteer_id)).label("offered"),
            func.count(case((Offer.status == OfferStatus.ACCEPTED, 1))).label("accepted"),
        )
        .join(SupportRequest, SupportRequest.id == Offer.request_id)
        .where(*conditions)
        .group_by(Offer.request_id)
        .subquery()
    )
    served = (
        select(Deployment.request_id.label("request_id"), func.count().label("served"))
        .join(Offer, Offer.id == Deployment.offer_id)
        .join(SupportRequest, SupportRequest.id == Deployment.request_id)
        .where(*conditions, Deployment.outcome == DeploymentOutcome.ATTENDED, Offer.status == OfferStatus.ACCEPTED)
        .group_by(Deployment.request_id)
        .subquery()
    )
    return offers, served


def request_joins(query, joins):
    offers, served = joins
    return query.outerjoin(offers, offers.c.request_id == SupportRequest.id).outerjoin(
        served, served.c.request_id == SupportRequest.id
    )


def london_day(column: ColumnElement, first_day: dt.date, last_day: dt.date) -> ColumnElement:
    """The London day (a date) of a UTC moment known to be within [first_day, last_day], in SQL on both databases.

    London midnights are not a fixed UTC offset apart, so each day is told by its edges, worked out here, in a
    CASE that halves the days at each level (about log2(days) comparisons a row; see ``buckets``).
    """
    days = [first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    ends = [_midnight(day + dt.timedelta(days=1)) for day in days]

    def pick(lo: int, hi: int) -> ColumnElement:
        if hi - lo == 1:
            return literal(days[lo], Date)
        middle = (lo + hi) // 2
        return case((column < ends[middle - 1], pick(lo, middle)), else_=pick(middle, hi))

    return pick(0, len(days))


def _insert_coverage(db: Session, first_day: dt.date, last_day: dt.date, now: dt.datetime) -> None:
    """INSERT … SELECT: each request's figures (a subquery), grouped by ward, London day and priority."""
    conditions = [
        SupportRequest.window_start >= _midnight(first_day),
        SupportRequest.window_start < _midnight(last_day + dt.timedelta(days=1)),
    ]
    figures, joins = request_figures(conditions, now)
    names = ("asked", "offered", "booked", "served", "unfilled", "still_open", "cancelled")
    per_request = request_joins(
        select(
            SupportRequest.ward_id.label("ward_id"),
            london_day(SupportRequest.window_start, first_day, last_day).label("day"),
            SupportRequest.priority.label("priority"),
            *(column.label(name) for column, name in zip(figures, names, strict=True)),
        ),
        joins,
    ).where(*conditions)
    inner = per_request.subquery()
    # Grouped outside the subquery: PostgreSQL will not group by an expression holding bound parameters.
    grouped = select(
        inner.c.ward_id, inner.c.day, inner.c.priority, *(func.sum(inner.c[name]) for name in names)
    ).group_by(inner.c.ward_id, inner.c.day, inner.c.priority)
    db.execute(insert(CoverageDay).from_select(["ward_id", "day", "priority", *names], grouped))


# ---- Unfilled ------------------------------------------------------------------------------------


def _skill_name(code: str) -> str:
    skill = SKILLS_BY_CODE.get(code)
    return skill.name if skill else code


def _insert_unfilled(db: Session, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    places, skills = unfilled_rows(db, starts_at, ends_at)
    if places:
        db.execute(insert(UnfilledPlaceRow), places)
    if skills:
        db.execute(insert(UnfilledSkill), skills)


def unfilled_rows(db: Session, starts_at: dt.datetime, ends_at: dt.datetime) -> tuple[list[dict], list[dict]]:
    """The rows of ``unfilled_places`` and ``unfilled_skills``: one per request whose window started in
    [starts_at, ends_at), not cancelled, with places unfilled, and one per skill it asked for.

    Read in Python once per refresh (the funnel is JSON text, which the two databases read differently), so the
    pages never do: the rule that stopped it, its time band and skills in words are stored with it.
    """
    if ends_at <= starts_at:
        return [], []
    conditions = [
        SupportRequest.window_start >= starts_at,
        SupportRequest.window_start < ends_at,
        SupportRequest.status != RequestStatus.CANCELLED,
    ]
    # Per request: the offers accepted, and the latest run that covered it (run ids grow with time; only runs
    # that succeeded keep findings). Grouped once each and joined, rather than asked per request.
    booked = (
        select(Offer.request_id.label("request_id"), func.count().label("booked"))
        .join(SupportRequest, SupportRequest.id == Offer.request_id)
        .where(*conditions, Offer.status == OfferStatus.ACCEPTED)
        .group_by(Offer.request_id)
        .subquery()
    )
    latest = (
        select(RunRequest.request_id.label("request_id"), func.max(RunRequest.run_id).label("run_id"))
        .join(SupportRequest, SupportRequest.id == RunRequest.request_id)
        .where(*conditions)
        .group_by(RunRequest.request_id)
        .subquery()
    )
    taken = func.coalesce(booked.c.booked, 0)
    rows = db.execute(
        select(
            SupportRequest.id,
            SupportRequest.ward_id,
            Ward.borough_id,
            SupportRequest.priority,
            SupportRequest.task_type_code,
            SupportRequest.window_start,
            SupportRequest.duration_minutes,
            SupportRequest.people_needed,
            taken,
            RunRequest.funnel,
            RunRequest.places_needed,
        )
        .join(Ward, Ward.id == SupportRequest.ward_id)
        .outerjoin(booked, booked.c.request_id == SupportRequest.id)
        .outerjoin(latest, latest.c.request_id == SupportRequest.id)
        .outerjoin(RunRequest, and_(RunRequest.request_id == latest.c.request_id, RunRequest.run_id == latest.c.run_id))
        .where(*conditions, taken < SupportRequest.people_needed)
    ).all()
    if not rows:
        return [], []
    extra: dict[int, list[str]] = defaultdict(list)
    for request_id, code in db.execute(
        select(RequestSkill.request_id, RequestSkill.skill_code)
        .join(SupportRequest, SupportRequest.id == RequestSkill.request_id)
        .where(*conditions)
        .order_by(RequestSkill.request_id, RequestSkill.skill_code)
    ):
        extra[request_id].append(code)
    policies = current_task_policies(db)
    places, skills = [], []
    for request_id, ward_id, borough_id, priority, task, start, minutes, needed, taken, funnel, run_needed in rows:
        policy = policies.get(task)
        needs = (
            [" or ".join(_skill_name(c) for c in need.alternatives) for need in policy.required_skills]
            if policy
            else []
        )
        needs += [_skill_name(code) for code in extra[request_id] if _skill_name(code) not in needs]
        places.append(
            dict(
                request_id=request_id,
                ward_id=ward_id,
                borough_id=borough_id,
                day=to_london(start).date(),
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=minutes),
                priority=str(priority),
                task_type_code=task,
                stop_rule=str(stopping_rule(json.loads(funnel) if funnel else None, run_needed or needed)),
                time_band=str(time_band(start)),
                skills=" and ".join(needs)[:SKILLS_MAX],
                places=needed - min(needed, taken),
            )
        )
        skills.extend(dict(request_id=request_id, skill=need[:SKILLS_MAX]) for need in dict.fromkeys(needs))
    return places, skills
