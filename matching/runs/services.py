"""Matching runs: from the stored requests and volunteers to offers, saved all-or-nothing.

A run is queued (a ``MatchRun`` row), then executed — inline for a ward or one request, by the
background worker (``matching.tasks``) for a BCU or all London. Executing it:

1. loads the requests in scope that still have free places, a London week at a time (weekly
   hours are a weekly limit), and the volunteers who could reach them (``matching.facts``);
2. runs the funnel of hard rules for every request (``matching.funnel.funnels``);
3. builds the solver instance and solves it (``matching.planning``, ``matching.solver.plan``);
4. saves everything in **one** transaction: the offers, what the run found for each request
   (its funnel and what would fill it), the requests' statuses and the run's figures. A failure
   anywhere rolls all of it back, and the run is marked failed in a transaction of its own.

Progress (stage and share done) is written in short transactions of its own so any web process can
show it. Offers go out by email after the commit: an email that fails does not undo an offer, which
the volunteer also sees on their home page.

Concurrency: two runs may overlap in time. The save takes a lock (an advisory lock on PostgreSQL,
the write lock on SQLite), re-reads each request's free places, and books through
``matching.offers.services.book_offers``, which the database guards against double booking. If another run
booked one of the same volunteers meanwhile, the run starts again from fresh data (once).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from core.auth.models import User
from core.db import among, utcnow
from core.field_errors import FieldError
from core.geography.models import Bcu, Borough, Ward
from core.timeutil import format_date, london_to_utc, london_today, to_london
from core.wording import plural
from matching.domain import RequestFacts, VolunteerCandidate
from matching.facts import MATCHABLE_STATUSES, load_requests, load_volunteers, london_week, ring_fenced_wards
from matching.funnel import FunnelResult, explain, funnels
from matching.models import (
    ACTIVE_OFFER_STATUSES,
    MatchRun,
    Offer,
    RunRequest,
    RunScope,
    RunStatus,
    SupportRequest,
)
from matching.notifications.events import requests_not_filled
from matching.offers.services import Booking, DoubleBooking, book_offers, expire_due, refresh_status, respond_by
from matching.planning import PRIORITY_WEIGHTS, build_instance, proposals
from matching.solver.instance import Instance
from matching.solver.local_first import elsewhere
from matching.solver.plan import solve
from volunteers.models import Volunteer
from volunteers.skills import SKILLS_BY_CODE

log = logging.getLogger("sng.matching")

# pg_advisory_xact_lock key for saving runs ("SNGM" in ASCII): one save at a time, whichever process.
RUN_SAVE_LOCK_ID = 0x534E474D
MAX_DAYS = 31
# Volunteers this close to a request are read even beyond their own travel limit, so the funnel can
# say "the nearest eligible volunteer is 9 km away with a 5 km limit"; the travel rule still drops them.
EXPLAIN_REACH_KM = 15.0
PRIORITY_NAMES = {weight: name for name, weight in PRIORITY_WEIGHTS.items()}
SendOffer = Callable[[Session, list[int]], None]
KeepInstance = Callable[[int, Instance], None]


class RunError(FieldError):
    """A run that cannot be queued as asked; ``field`` names the form field it concerns."""


class _Stale(Exception):
    """Another run booked one of this plan's volunteers first: the plan must be made again."""


@dataclass(frozen=True)
class RunSettings:
    time_limit: float = 14.0  # seconds of CP-SAT search per week of requests
    offer_hours: int = 48  # how long a volunteer has to answer
    ranking_penalty_days: int = 90  # how long a recent concern lowers a volunteer's score (issue #20)


def settings_from_config(config) -> RunSettings:
    return RunSettings(
        time_limit=float(config["MATCH_TIME_LIMIT_SECONDS"]),
        offer_hours=int(config["MATCH_OFFER_HOURS"]),
        ranking_penalty_days=int(config.get("RANKING_PENALTY_DAYS", 90)),
    )


# ---- Queueing -----------------------------------------------------------------------------------


def queue_run(
    session: Session,
    *,
    scope: RunScope,
    first_day: dt.date,
    last_day: dt.date,
    today: dt.date,
    trigger: str,
    requested_by_id: int | None = None,
    ward_id: int | None = None,
    bcu_id: int | None = None,
    request_id: int | None = None,
) -> MatchRun:
    """Check and record a run to be done (commits). Raises RunError."""
    if first_day < today:
        raise RunError("The first day must be today or later: the matcher only fills places still to come", "first_day")
    if last_day < first_day:
        raise RunError("The last day must be the same as or after the first day", "last_day")
    if (last_day - first_day).days >= MAX_DAYS:
        raise RunError(f"Match at most {MAX_DAYS} days at a time", "last_day")
    if scope is RunScope.WARD and (ward_id is None or session.get(Ward, ward_id) is None):
        raise RunError("Choose a ward", "ward")
    if scope is RunScope.BCU and (bcu_id is None or session.get(Bcu, bcu_id) is None):
        raise RunError("Choose a BCU", "bcu")
    if scope is RunScope.REQUEST and (request_id is None or session.get(SupportRequest, request_id) is None):
        raise RunError("No such request")
    run = MatchRun(
        scope=scope,
        first_day=first_day,
        last_day=last_day,
        trigger=trigger,
        requested_by_id=requested_by_id,
        ward_id=ward_id if scope is RunScope.WARD else None,
        bcu_id=bcu_id if scope is RunScope.BCU else None,
        request_id=request_id if scope is RunScope.REQUEST else None,
    )
    session.add(run)
    session.commit()
    return run


def can_run_again(run: MatchRun, today: dt.date) -> bool:
    """A failed ward, BCU or London run whose last day has not passed. (A one-request re-match is
    started again from the request's own page.)"""
    return run.status is RunStatus.FAILED and run.scope is not RunScope.REQUEST and run.last_day >= today


def run_again(session: Session, run_id: int, *, today: dt.date, requested_by_id: int | None) -> MatchRun:
    """Queue a new run like a failed one (commits): the same ward, BCU or all London, over the days of it
    still to come. Nothing of the failed run was saved, so this one starts from the data as it is now.
    Raises RunError."""
    failed = session.get(MatchRun, run_id)
    if failed is None or failed.status is not RunStatus.FAILED:
        raise RunError("Only a run that failed can be run again")
    if failed.scope is RunScope.REQUEST:
        raise RunError("A re-match of one request is started again from the request's page")
    if failed.last_day < today:
        raise RunError("The days of this run have passed: start a new run for the days to come")
    return queue_run(
        session,
        scope=failed.scope,
        first_day=max(failed.first_day, today),
        last_day=failed.last_day,
        today=today,
        trigger="again",
        requested_by_id=requested_by_id,
        ward_id=failed.ward_id,
        bcu_id=failed.bcu_id,
    )


def describe_scope(run: MatchRun) -> str:
    """'Ward: Camden Town (Camden)', 'BCU: Central North', 'All London', 'Request 12'."""
    if run.scope is RunScope.WARD and run.ward is not None:
        return f"{run.ward.label}"
    if run.scope is RunScope.BCU and run.bcu is not None:
        return f"{run.bcu.name} BCU"
    if run.scope is RunScope.REQUEST:
        return f"One request (re-match after {run.trigger})"
    return "All London"


def days_text(run: MatchRun) -> str:
    if run.first_day == run.last_day:
        return format_date(run.first_day)
    return f"{format_date(run.first_day)} to {format_date(run.last_day)}"


# ---- Executing ----------------------------------------------------------------------------------


@dataclass
class _Week:
    requests: list[RequestFacts]
    volunteers: dict[int, VolunteerCandidate]
    funnels: dict[int, FunnelResult]
    chosen: list[tuple[int, int]]  # (request id, volunteer id)
    plan: object
    # Request id → [(volunteer id, request id elsewhere, reason)]: its ward's panel members who could have
    # taken it but were given another ward's request (local_first.elsewhere).
    elsewhere: dict[int, list[tuple[int, int, str]]]


class _Progress:
    """Writes the run's stage and share done in a transaction of its own (at most every ½ s per stage)."""

    def __init__(self, make_session: Callable[[], Session], run_id: int):
        self.make_session, self.run_id = make_session, run_id
        self.last: tuple[str, float] = ("", 0.0)

    def __call__(self, stage: str, percent: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and stage == self.last[0] and now - self.last[1] < 0.5:
            return
        self.last = (stage, now)
        with self.make_session() as session:
            session.execute(
                MatchRun.__table__.update()
                .where(MatchRun.id == self.run_id)
                .values(stage=stage[:80], percent=max(0, min(100, int(percent))), heartbeat_at=utcnow())
            )
            session.commit()


class _Laps:
    """Seconds spent on each step of a run (saved with the run and logged): where a slow run's time went."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.last = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] += now - self.last
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.seconds.items())


def execute_run(
    make_session: Callable[[], Session],
    run_id: int,
    settings: RunSettings,
    send_offers: SendOffer | None = None,
    now: dt.datetime | None = None,
    keep_instance: KeepInstance | None = None,
) -> MatchRun:
    """Do a queued run; returns it finished (succeeded or failed). Never raises for a failed run.
    ``keep_instance(week number, instance)`` is given each week's solver instance (to save it for a
    benchmark or a bug report: ``flask match run --write-instance``)."""
    progress = _Progress(make_session, run_id)
    with make_session() as session:
        run = session.get(MatchRun, run_id)
        if run is None or run.status is not RunStatus.QUEUED:
            return run  # done already, or being done by another worker
        claimed = session.execute(
            MatchRun.__table__.update()
            .where(MatchRun.id == run_id, MatchRun.status == RunStatus.QUEUED)
            .values(
                status=RunStatus.RUNNING,
                started_at=now or utcnow(),
                heartbeat_at=utcnow(),
                stage="Starting",
                percent=0,
            )
        ).rowcount
        session.commit()
        if claimed != 1:
            return session.get(MatchRun, run_id)
    started = time.perf_counter()
    offered: list[int] = []
    try:
        for attempt in (1, 2):
            with make_session() as session:
                try:
                    offered = _attempt(session, run_id, settings, progress, now or utcnow(), started, keep_instance)
                    break
                except _Stale:
                    session.rollback()
                    if attempt == 2:
                        raise RuntimeError("other runs kept booking the same volunteers: run it again") from None
                    log.info("run %s: another run booked the same volunteers first; planning again", run_id)
    except Exception as exc:  # a failed run is recorded, never half-saved
        log.exception("matching run %s failed", run_id)
        message = str(exc) if isinstance(exc, RuntimeError) else f"The run stopped with an error ({type(exc).__name__})"
        with make_session() as session:
            session.execute(
                MatchRun.__table__.update()
                .where(MatchRun.id == run_id)
                .values(
                    status=RunStatus.FAILED,
                    error=message[:500],
                    finished_at=utcnow(),
                    total_seconds=round(time.perf_counter() - started, 3),
                )
            )
            session.commit()
    if offered and send_offers is not None:
        with make_session() as session:
            send_offers(session, offered)
    with make_session() as session:
        return session.get(MatchRun, run_id)


def _scope_wards(session: Session, run: MatchRun) -> list[int] | None:
    if run.scope is RunScope.WARD:
        return [run.ward_id]
    if run.scope is RunScope.BCU:
        return list(
            session.scalars(
                select(Ward.id).join(Borough, Borough.id == Ward.borough_id).where(Borough.bcu_id == run.bcu_id)
            )
        )
    return None


def _attempt(
    session: Session,
    run_id: int,
    settings: RunSettings,
    progress: _Progress,
    now: dt.datetime,
    started: float,
    keep_instance: KeepInstance | None,
) -> list[int]:
    # A London week builds millions of small objects (candidates, pairs, clashes) and no reference
    # cycles worth collecting: the cyclic collector's full passes over them cost about a third of the
    # funnel's time and free nothing, so it waits until the run is saved (or has failed).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _attempt_uncollected(session, run_id, settings, progress, now, started, keep_instance)
    finally:
        if enabled:
            gc.enable()


def _attempt_uncollected(
    session: Session,
    run_id: int,
    settings: RunSettings,
    progress: _Progress,
    now: dt.datetime,
    started: float,
    keep_instance: KeepInstance | None,
) -> list[int]:
    run = session.get(MatchRun, run_id)
    laps = _Laps()
    progress("Reading the requests", 2, force=True)
    start = max(now, london_to_utc(run.first_day, dt.time(0, 0)))
    end = london_to_utc(run.last_day + dt.timedelta(days=1), dt.time(0, 0))
    requests = load_requests(
        session,
        [run.request_id] if run.request_id else None,
        scope_ward_ids=_scope_wards(session, run),
        start=start,
        end=end,
    )
    by_week: dict[dt.datetime, list[RequestFacts]] = defaultdict(list)
    for request in requests:
        by_week[london_week(request.start)[0]].append(request)
    laps("requests")

    weeks: list[_Week] = []
    proposed: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    fenced = ring_fenced_wards(session)
    solve_seconds = 0.0
    share = 88 / max(1, len(by_week))  # of the progress bar, per week
    for n, (week_start, week_requests) in enumerate(sorted(by_week.items())):
        base = 2 + n * share
        label = f" (week {n + 1} of {len(by_week)})" if len(by_week) > 1 else ""
        progress(f"Reading the volunteers{label}", base, force=True)
        remote = any(r.remote for r in week_requests)
        loaded = load_volunteers(
            session,
            week_start=week_start,
            week_end=week_start + dt.timedelta(days=7),
            ward_ids=None if remote else {r.ward_id for r in week_requests},
            min_reach_km=EXPLAIN_REACH_KM,
            now=now,
            concern_days=settings.ranking_penalty_days,
        )
        # Earlier weeks' proposals of this run keep a deployment across Sunday midnight from clashing.
        volunteers = [replace(v, busy=v.busy + tuple(proposed[v.id])) if v.id in proposed else v for v in loaded]
        laps("volunteers")
        progress(f"Checking the rules{label}", base + 0.1 * share, force=True)
        found = funnels(
            week_requests,
            volunteers,
            progress=lambda done, total, b=base, lab=label: progress(
                f"Checking the rules{lab}", b + share * (0.1 + 0.5 * done / max(1, total))
            ),
        )
        laps("rules")
        by_id = {v.id: v for v in volunteers}
        instance = build_instance(
            week_requests,
            found,
            capacity_minutes={v.id: v.weekly_cap_minutes - v.booked_minutes_in_week for v in volunteers},
            booked_minutes={v.id: v.booked_minutes_in_week for v in volunteers},
            travel_limits={v.id: v.travel_limit_km for v in volunteers},
            panel_wards={v.id: v.panel_wards for v in volunteers if v.panel_wards},
            ring_fenced=fenced,
            concerns={v.id: v.recent_concerns for v in volunteers if v.recent_concerns},
        )
        laps("instance")
        if keep_instance is not None:
            keep_instance(n + 1, instance)
            laps.last = time.perf_counter()  # writing it out is not the run's own time
        progress(f"Finding the best plan{label}", base + 0.6 * share, force=True)
        plan = solve(instance, time_limit=settings.time_limit)
        solve_seconds += plan.seconds
        laps("solve")
        chosen = proposals(plan)
        starts = {r.id: (r.start, r.end) for r in week_requests}
        for request_id, volunteer_id in chosen:
            proposed[volunteer_id].append(starts[request_id])
        away: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        for item in elsewhere(instance, [(a.volunteer, a.request) for a in plan.assignments]):
            away[int(item.request[1:])].append((int(item.volunteer[1:]), int(item.outside[1:]), item.reason))
        weeks.append(_Week(week_requests, by_id, found, chosen, plan, away))

    progress("Saving the offers", 92, force=True)
    session.rollback()  # end the reading transaction: the save is one transaction of its own
    return _save(session, run_id, weeks, settings, now, started, solve_seconds, laps)


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": RUN_SAVE_LOCK_ID})
    else:
        session.execute(text("UPDATE match_runs SET id = id WHERE 0 = 1"))  # SQLite's write lock, held to commit


def _save(
    session: Session,
    run_id: int,
    weeks: list[_Week],
    settings: RunSettings,
    now: dt.datetime,
    started: float,
    solve_seconds: float,
    laps: _Laps,
) -> list[int]:
    _lock(session)
    all_ids = [r.id for w in weeks for r in w.requests]
    taken: dict[int, int] = {}
    needed_now: dict[int, int] = {}
    for some in among(session, Offer.request_id, all_ids):
        taken.update(
            session.execute(
                select(Offer.request_id, func.count())
                .where(some, Offer.status.in_(ACTIVE_OFFER_STATUSES))
                .group_by(Offer.request_id)
            ).all()
        )
    for some in among(session, SupportRequest.id, all_ids):
        needed_now.update(
            session.execute(
                select(SupportRequest.id, SupportRequest.people_needed).where(
                    some, SupportRequest.status.in_(MATCHABLE_STATUSES)
                )
            ).all()
        )
    skill_names = {code: skill.name for code, skill in SKILLS_BY_CODE.items()}
    bookings: list[Booking] = []
    findings: list[dict] = []
    filled = {name: 0 for name in PRIORITY_WEIGHTS}
    wanted = {name: 0 for name in PRIORITY_WEIGHTS}
    coverage = coverage_bound = 0
    score = score_bound = 0.0
    optimal = True
    abstraction = _Abstraction()
    for week in weeks:
        abstraction.add(week)
        chosen_by_request: dict[int, list[int]] = defaultdict(list)
        for request_id, volunteer_id in week.chosen:
            chosen_by_request[request_id].append(volunteer_id)
        for request in week.requests:
            free = needed_now.get(request.id, 0) - taken.get(request.id, 0)
            if free != request.people_needed:
                raise _Stale()  # someone answered or another run offered places since we read them
            funnel = week.funnels[request.id]
            picked = chosen_by_request.get(request.id, [])
            for volunteer_id in picked:
                candidate = funnel.candidate(volunteer_id)
                bookings.append(
                    Booking(
                        request_id=request.id,
                        volunteer_id=volunteer_id,
                        starts_at=request.start,
                        ends_at=request.end,
                        load_minutes=candidate.load_minutes,
                        explanation=explain(candidate, request, skill_names, week.volunteers[volunteer_id]),
                        respond_by=respond_by(now, request.start, settings.offer_hours),
                    )
                )
            name = PRIORITY_NAMES.get(request.priority, "routine")
            wanted[name] += request.people_needed
            filled[name] += len(picked)
            findings.append(
                dict(
                    run_id=run_id,
                    request_id=request.id,
                    places_needed=request.people_needed,
                    places_offered=len(picked),
                    funnel=json.dumps([[s.label, s.remaining] for s in funnel.stages]),
                    suggestion=(funnel.suggestion or _shortfall(request, funnel, len(picked)))[:400]
                    if len(picked) < request.people_needed
                    else None,
                    panel_elsewhere=json.dumps(week.elsewhere[request.id]) if week.elsewhere.get(request.id) else None,
                )
            )
        coverage += week.plan.coverage
        coverage_bound += week.plan.bound_coverage
        score += week.plan.score
        score_bound += week.plan.bound_score
        optimal = optimal and week.plan.optimal
    try:
        offer_ids = book_offers(session, bookings, run_id=run_id, now=now)
    except DoubleBooking:
        raise _Stale() from None
    _insert_findings(session, findings)
    refresh_status(session, all_ids)
    run = session.get(MatchRun, run_id)
    if run.status is not RunStatus.RUNNING:  # given up as stopped meanwhile (give_up_stale): keep its word
        raise RuntimeError(STOPPED_MESSAGE)
    run.status = RunStatus.SUCCEEDED
    run.stage, run.percent = "Finished", 100
    run.finished_at = utcnow()
    run.requests_count = len(all_ids)
    run.volunteers_count = len({b.volunteer_id for b in bookings})
    run.places_needed = sum(wanted.values())
    run.places_offered = len(bookings)
    run.coverage, run.coverage_bound = coverage, coverage_bound
    run.score, run.score_bound = round(score, 3), round(score_bound, 3)
    run.optimal = optimal
    run.solve_seconds = round(solve_seconds, 3)
    run.total_seconds = round(time.perf_counter() - started, 3)
    run.by_priority = json.dumps({name: [filled[name], wanted[name]] for name in ("urgent", "priority", "routine")})
    run.abstraction = json.dumps(abstraction.figures())
    # Each request left with places free: its sergeants are told, with this commit (matching/notifications).
    requests_not_filled(session, run)
    laps("save")  # the commit itself is quick: everything was sent before it
    run.step_seconds = json.dumps({step: round(seconds, 2) for step, seconds in laps.seconds.items()})
    session.commit()
    log.info(
        "matching run %s: %d requests, %d of %d places offered in %.2f s (%s)",
        run_id,
        len(all_ids),
        len(bookings),
        run.places_needed,
        run.total_seconds,
        laps,
    )
    return offer_ids


_FINDING_COLUMNS = (
    "run_id",
    "request_id",
    "places_needed",
    "places_offered",
    "funnel",
    "suggestion",
    "panel_elsewhere",
)


class _Abstraction:
    """A run's abstraction per ward (issue #23; defined in docs/matching.md, "Local first"):

    - ``hours_elsewhere``: the sum of the durations (the task's hours, not the travel) of the run's offers to
      the ward's current panel members for requests outside all of that member's panel wards (a member of
      two panels counts for both);
    - ``members_elsewhere``: how many of its panel members those offers went to;
    - ``places_unfilled``: the places the run left free on the ward's own requests in a London week in which
      the run sent at least one of its panel members to another ward. The times need not overlap: the
      weekly hours make a week's deployments compete for the same person.

    Only wards whose panel worked elsewhere are listed."""

    def __init__(self) -> None:
        self.minutes: dict[int, int] = defaultdict(int)
        self.members: dict[int, set[int]] = defaultdict(set)
        self.unfilled: dict[int, int] = defaultdict(int)

    def add(self, week: _Week) -> None:
        requests = {r.id: r for r in week.requests}
        away: set[int] = set()
        taken: dict[int, int] = defaultdict(int)
        for request_id, volunteer_id in week.chosen:
            request, panels = requests[request_id], week.volunteers[volunteer_id].panel_wards
            taken[request_id] += 1
            if panels and request.ward_id not in panels:
                for ward in panels:
                    self.minutes[ward] += request.minutes
                    self.members[ward].add(volunteer_id)
                    away.add(ward)
        for request in week.requests:
            if request.ward_id in away and taken[request.id] < request.people_needed:
                self.unfilled[request.ward_id] += request.people_needed - taken[request.id]

    def figures(self) -> dict[str, dict[str, float | int]]:
        return {
            str(ward): {
                "hours_elsewhere": round(self.minutes[ward] / 60, 2),
                "members_elsewhere": len(self.members[ward]),
                "places_unfilled": self.unfilled.get(ward, 0),
            }
            for ward in sorted(self.minutes)
        }


def _insert_findings(session: Session, findings: list[dict]) -> None:
    """Insert what the run found for each request, in the run's transaction: with COPY on PostgreSQL
    (a London week has 20,000 rows; COPY takes a fraction of a second, multi-row INSERTs seconds),
    otherwise with multi-row INSERTs."""
    if not findings:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(RunRequest), findings)
        return
    connection = session.connection().connection.driver_connection  # the run's own transaction
    columns = ", ".join(_FINDING_COLUMNS)
    with connection.cursor() as cursor, cursor.copy(f"COPY {RunRequest.__tablename__} ({columns}) FROM STDIN") as copy:
        for row in findings:
            copy.write_row(tuple(row[name] for name in _FINDING_COLUMNS))


def _shortfall(request: RequestFacts, funnel: FunnelResult, picked: int) -> str:
    """Why a request has candidates but fewer places offered than it needs: the plan gave them elsewhere."""
    if request.all_or_nothing and picked == 0 and funnel.candidate_count >= request.people_needed:
        return (
            "Enough volunteers pass every rule, but not all of them together at once: the team is "
            "everyone or nobody, so no one was offered it"
        )
    return (
        "Volunteers who could do it were needed more by higher-priority or better-matched requests at "
        "the same time: a different time, or a lower priority elsewhere, may fill it"
    )


# ---- Runs whose worker stopped ------------------------------------------------------------------

# A running run writes its progress at every step (at least every few seconds of a London week's rules,
# and between the plan's weeks); one silent this long had its worker stop (a restart, a crash, a killed
# machine) and will never finish. Nothing of it was saved: each run saves all-or-nothing.
STALE_AFTER = dt.timedelta(minutes=15)  # the default of RUN_STALE_AFTER_SECONDS
# How often the worker looks for stopped runs (tasks.expire_offers): a stopped run is reported within
# its stale time plus this.
STALE_CHECK_EVERY = dt.timedelta(minutes=5)
STOPPED_MESSAGE = "The worker stopped before this run finished"


def stale_after_from_config(config) -> dt.timedelta:
    return dt.timedelta(seconds=int(config.get("RUN_STALE_AFTER_SECONDS", STALE_AFTER.total_seconds())))


def give_up_stale(session: Session, now: dt.datetime, stale_after: dt.timedelta = STALE_AFTER) -> int:
    """Mark runs that have shown no progress for ``stale_after`` as failed (commits). Returns how many."""
    cutoff = now - stale_after
    given_up = session.execute(
        MatchRun.__table__.update()
        .where(
            MatchRun.status == RunStatus.RUNNING,
            func.coalesce(MatchRun.heartbeat_at, MatchRun.started_at) < cutoff,
        )
        .values(status=RunStatus.FAILED, error=STOPPED_MESSAGE, finished_at=now)
    ).rowcount
    session.commit()
    if given_up:
        log.warning("%d matching run(s) showed no progress for %s: marked failed", given_up, stale_after)
    return given_up


# ---- Re-matching one request --------------------------------------------------------------------


def rematch(
    make_session: Callable[[], Session],
    request_id: int,
    settings: RunSettings,
    trigger: str,
    send_offers: SendOffer | None = None,
    now: dt.datetime | None = None,
) -> MatchRun | None:
    """Offer a reopened place to someone else at once (after a decline or an expired offer)."""
    now = now or utcnow()
    with make_session() as session:
        item = session.get(SupportRequest, request_id)
        if item is None or not item.is_live or item.window_start <= now:
            return None
        day = to_london(item.window_start).date()
        run = queue_run(
            session,
            scope=RunScope.REQUEST,
            first_day=max(day, london_today(now)),
            last_day=day,
            today=london_today(now),
            trigger=trigger,
            request_id=request_id,
        )
    return execute_run(make_session, run.id, settings, send_offers, now)


def by_priority(run: MatchRun) -> list[tuple[str, int, int]]:
    """[("Urgent", filled, needed), …] for the run's page."""
    if not run.by_priority:
        return []
    data = json.loads(run.by_priority)
    return [(name.capitalize(), *data[name]) for name in ("urgent", "priority", "routine") if name in data]


def _hours(hours: float) -> str:
    """'1 hour', '7.5 hours'."""
    return plural(int(hours) if float(hours).is_integer() else hours, "hour")


def abstraction_summary(run: MatchRun) -> str:
    """'Panels elsewhere: 7.5 hours from 2 wards, 1 local place unfilled' for the run history; '' when none."""
    if not run.abstraction:
        return ""
    figures = json.loads(run.abstraction).values()
    if not figures:
        return "No panel worked outside its wards"
    hours = round(sum(f["hours_elsewhere"] for f in figures), 2)
    unfilled = sum(f["places_unfilled"] for f in figures)
    return (
        f"Panels elsewhere: {_hours(hours)} from {plural(len(figures), 'ward')}, "
        f"{plural(unfilled, 'local place')} unfilled meanwhile"
    )


def abstraction_by_ward(session: Session, run: MatchRun) -> list[tuple[Ward, str]]:
    """The run's abstraction figures in words, with their wards, the most hours first (the run's page)."""
    if not run.abstraction:
        return []
    figures = {int(ward): f for ward, f in json.loads(run.abstraction).items()}
    wards = {w.id: w for w in session.scalars(select(Ward).where(Ward.id.in_(sorted(figures))))}
    rows = sorted(
        ((wards[ward], f) for ward, f in figures.items() if ward in wards),
        key=lambda row: (-row[1]["hours_elsewhere"], row[0].name),
    )
    return [
        (
            ward,
            f"{_hours(f['hours_elsewhere'])} given to other wards by "
            f"{plural(f['members_elsewhere'], 'panel member')}; "
            f"{plural(f['places_unfilled'], 'local place')} unfilled meanwhile",
        )
        for ward, f in rows
    ]


REASONS = {
    "higher": "that request has a higher priority",
    "team": "this request needs its whole team at once, and one person moving could not start it",
    "busy": "they could not have done this as well as their other work (the times clash, or their weekly hours)",
}


@dataclass(frozen=True)
class PanelAway:
    """A panel member who could have taken a short local request but was given another ward's, and why."""

    volunteer_name: str
    elsewhere: SupportRequest
    reason: str


def panel_elsewhere(session: Session, findings: list[RunRequest]) -> dict[int, list[PanelAway]]:
    """For each finding whose ward's panel members were given other wards' requests, who and where (by request id)."""
    rows = {f.request_id: json.loads(f.panel_elsewhere) for f in findings if f.panel_elsewhere}
    if not rows:
        return {}
    volunteer_ids = sorted({v for items in rows.values() for v, _, _ in items})
    request_ids = sorted({r for items in rows.values() for _, r, _ in items})
    names = dict(
        session.execute(
            select(Volunteer.id, User.full_name)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(volunteer_ids))
        ).all()
    )
    requests = {r.id: r for r in session.scalars(select(SupportRequest).where(SupportRequest.id.in_(request_ids)))}
    return {
        request_id: [
            PanelAway(names.get(v, "A volunteer who has since left"), requests[r], REASONS.get(reason, reason))
            for v, r, reason in items
            if r in requests
        ]
        for request_id, items in rows.items()
    }


STEP_NAMES = {
    "requests": "reading the requests",
    "volunteers": "reading the volunteers",
    "rules": "checking the rules",
    "instance": "shortlisting",
    "solve": "finding the plan",
    "save": "saving",
}


def steps_text(run: MatchRun) -> str:
    """'reading the requests 0.4 s, reading the volunteers 3.1 s, …' for the run's page."""
    if not run.step_seconds:
        return ""
    return ", ".join(
        f"{STEP_NAMES.get(step, step)} {seconds:.1f} s" for step, seconds in json.loads(run.step_seconds).items()
    )


def gap_text(run: MatchRun) -> str:
    """'Optimal', or the coverage and quality gaps to the proven bound."""
    if run.optimal:
        return "Optimal"
    if run.coverage_bound is None:
        return ""
    parts = []
    if run.coverage_bound:
        parts.append(f"coverage within {100 * (run.coverage_bound - run.coverage) / run.coverage_bound:.1f}%")
    if run.score_bound:
        parts.append(f"quality within {100 * abs(run.score_bound - run.score) / abs(run.score_bound):.1f}%")
    return "Best found in the time: " + " and ".join(parts) + " of the proven bound"


def expire_and_rematch(
    make_session: Callable[[], Session],
    settings: RunSettings,
    send_offers: SendOffer | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Close offers whose deadline passed and offer each reopened place to someone else.
    Returns (requests with an expired offer, places offered again)."""
    now = now or utcnow()
    with make_session() as session:
        reopened = expire_due(session, now)
    offered = 0
    for request_id in reopened:
        run = rematch(make_session, request_id, settings, "expiry", send_offers, now)
        offered += (run.places_offered or 0) if run is not None else 0
    return len(reopened), offered
