"""A year of demo history (issue #21): what a force's dashboards and API read, at any scale.

``flask demo load --scale N --history-days D`` adds, after the usual demo: requests over every ward for the
past D days and the next four weeks (about 30,000 a year at 50,000 volunteers, in proportion to N), weekly BCU
matching runs with their figures and local-first abstraction, offers in every state (about 3.3 a request),
deployments for the accepted offers whose time has passed (mostly attended, some not, the latest still
waiting), each run's findings per request (the funnel, as ``matching.runs.services`` writes it, that reaches
nought at the rule that stopped a request left unfilled), joiners spread over the years, pauses and leavers,
vetting decisions week by week and an open queue of various ages.

Why not the ORM one row at a time: 50,000 volunteers and a year must load on PostgreSQL in minutes, so the
rows are made as dicts and inserted with Core ``insert()`` in batches (RETURNING the ids where later rows need
them). Every constraint holds as the services would keep it: no volunteer has two active offers whose times
overlap (PostgreSQL's exclusion constraint would refuse them), nobody is offered the same request twice, no
offer or deployment for someone paused, left or not yet joined, an offer still waiting only where its answer
is not yet due, a deployment only for an accepted offer that has ended. Deterministic for a seed and a day.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from bisect import bisect_left, insort
from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from core.auth.models import Role, User, sergeant_wards
from core.db import utcnow
from core.geography.models import Borough, Ward
from core.timeutil import london_to_utc, to_london
from matching.demo import _WEIGHTS, _request
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.funnel import _stage_labels
from matching.models import (
    ACTIVE_OFFER_STATUSES,
    VOLUNTEER_WITHDREW,
    MatchRun,
    Offer,
    OfferStatus,
    RequestAudience,
    RequestSkill,
    RequestStatus,
    RunRequest,
    RunScope,
    RunStatus,
    SupportRequest,
)
from vetting.lifecycle import ClearanceState, Outcome, ReviewKind
from vetting.models import Clearance, ReviewStatus, VettingReview
from volunteers.models import Volunteer, VolunteerPause, VolunteerStatus
from volunteers.panels.models import WardPanelMembership

# A year's requests per volunteer: ~30,000 at 50,000 volunteers.
REQUESTS_PER_VOLUNTEER_YEAR = 0.6
FUTURE_DAYS = 28
# A year's vetting decisions per volunteer (new applications, renewals, triggered reviews).
DECISIONS_PER_VOLUNTEER_YEAR = 0.2
BATCH = 5000
_HOUR = dt.timedelta(hours=1)
_DAY = dt.timedelta(days=1)

# Why a place went unfilled: the rule at which a request's funnel reached nought, and how often.
_STOPS = {"skills": 22, "cleared": 18, "status": 5, "free": 27, "travel": 14, "hours": 9, "conflicts": 5}
_SUGGESTIONS = {
    "skills": "Nobody nearby has the skills this task needs: recruit or train for them.",
    "cleared": "Those with the skills are not cleared for this task on the day: renewals are due.",
    "status": "Those cleared cannot do this kind of task: only special constables may.",
    "free": "Everyone suitable is busy or away at this time: another time may be filled.",
    "travel": "The nearest eligible volunteer lives beyond their travel limit.",
    "hours": "Everyone suitable has reached their weekly hours.",
    "conflicts": "Everyone suitable has a conflict of interest with the organisation.",
}
_PULL_OUT_REASONS = ("work shift changed", "family commitment", "unwell")
_CANCEL_REASONS = ("The visit is no longer needed.", "The event was called off.", "Dealt with by the ward team.")


@dataclass
class _Person:
    """A volunteer as the generator sees them: when they may be offered anything, and when they are busy."""

    id: int
    borough_id: int | None
    joined: dt.datetime
    left: dt.datetime | None = None
    away: list[tuple[dt.date, dt.date]] = field(default_factory=list)  # paused London days, inclusive
    busy: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)  # active offers, sorted

    def can_take(self, start: dt.datetime, end: dt.datetime, offered_at: dt.datetime) -> bool:
        if offered_at < self.joined or (self.left is not None and start >= self.left):
            return False
        day = to_london(start).date()
        if any(first <= day <= last for first, last in self.away):
            return False
        at = bisect_left(self.busy, (start, start))
        # Only the neighbours can overlap: the list is sorted and never holds two that overlap.
        return all(not (s < end and start < e) for s, e in self.busy[max(0, at - 1) : at + 1])

    def book(self, start: dt.datetime, end: dt.datetime) -> None:
        insort(self.busy, (start, end))


def load_history(session: Session, rng: random.Random, today: dt.date, days: int) -> str:
    """Add ``days`` of history before ``today`` and four weeks of requests after it (in the load's
    transaction, after every other demo loader). Returns a line for the log."""
    if days <= 0:
        return "No history requested."
    own = random.Random(f"history-{rng.random()}-{days}")
    now = utcnow()
    first_day = today - dt.timedelta(days=days)
    people = _people(session, own, now, first_day, today)
    for volunteer_id, starts_at, ends_at in session.execute(
        select(Offer.volunteer_id, Offer.starts_at, Offer.ends_at).where(Offer.status.in_(ACTIVE_OFFER_STATUSES))
    ):
        if volunteer_id in people:
            people[volunteer_id].book(starts_at, ends_at)  # the other loaders' offers hold their time too
    wards = session.execute(
        select(Ward.id, Ward.borough_id, Borough.bcu_id).join(Borough, Borough.id == Ward.borough_id).order_by(Ward.id)
    ).all()
    if not wards or not people:
        return "No wards or volunteers: no history added."
    sergeants = _sergeants(session, wards)
    volunteers = len(people)
    count = round(volunteers * REQUESTS_PER_VOLUNTEER_YEAR * (days + FUTURE_DAYS) / 365)
    requests = _requests(session, own, wards, sergeants, first_day, today + dt.timedelta(days=FUTURE_DAYS), count, now)
    runs = _runs(session, own, requests, wards, now)
    pools: dict[int | None, list[_Person]] = defaultdict(list)
    for person in people.values():
        pools[person.borough_id].append(person)
    everyone = list(people.values())
    offers, findings = _offers(own, requests, runs, pools, everyone, now)
    offer_ids = _insert(session, Offer, [o for o, _ in offers], returning=True)
    deployments = _deployments(own, offers, offer_ids, sergeants, now)
    _insert(session, Deployment, deployments)
    _insert(session, RunRequest, findings)
    _set_statuses(session, requests, offers, deployments, now)
    _run_figures(session, runs)
    decisions = _vetting_history(session, own, people, first_day, now)
    return (
        f"History of {days} days: {len(requests)} requests, {len(runs)} matching runs, {len(offers)} offers, "
        f"{len(deployments)} deployments, {len(findings)} run findings, {decisions} vetting decisions."
    )


# ---- People: joined, paused and left -------------------------------------------------------------


def _people(
    session: Session, rng: random.Random, now: dt.datetime, first_day: dt.date, today: dt.date
) -> dict[int, _Person]:
    """Spread the volunteers' joining over the last four years (a third within the history), make some leave
    and some step back for a while; the demo's named volunteers, panel members and anyone the other loaders
    already booked stay as they are (active, joined before the history)."""
    rows = session.execute(
        select(Volunteer.id, Volunteer.status, Ward.borough_id)
        .outerjoin(Ward, Ward.id == Volunteer.home_ward_id)
        .order_by(Volunteer.id)
    ).all()
    keep = set(session.scalars(select(Offer.volunteer_id).distinct()))
    keep |= set(session.scalars(select(WardPanelMembership.volunteer_id).distinct()))
    keep |= set(
        session.scalars(
            select(Volunteer.id).join(User, User.id == Volunteer.user_id).where(User.email.like("volunteer@%"))
        )
    )
    start = london_to_utc(first_day, dt.time(9))
    span = (now - start).total_seconds()
    people: dict[int, _Person] = {}
    joined_rows, left_rows, pauses = [], [], []
    for volunteer_id, status, borough_id in rows:
        if status is VolunteerStatus.APPLIED:
            continue  # their application is still with vetting (_vetting_history dates it)
        if volunteer_id in keep or rng.random() < 0.65:
            joined = start - dt.timedelta(days=rng.randint(30, 3 * 365))
        else:
            joined = start + dt.timedelta(seconds=rng.uniform(0, span * 0.9))
        person = _Person(volunteer_id, borough_id, joined)
        joined_rows.append({"vid": volunteer_id, "joined": joined})
        if status is not VolunteerStatus.ACTIVE or volunteer_id in keep:
            if status is VolunteerStatus.ACTIVE:
                people[volunteer_id] = person
            continue
        roll = rng.random()
        if roll < 0.07:
            # Left at some point of the history, after joining (their clearances end as no longer needed).
            left = person.joined + dt.timedelta(seconds=rng.uniform(0, (now - person.joined).total_seconds()))
            person.left = max(left, start)
            left_rows.append({"vid": volunteer_id, "left": person.left})
        elif roll < 0.13:
            # A pause of two to ten weeks, over by now or not (a dated pause is not a status: still active).
            joined_day = to_london(max(person.joined, start)).date()
            if (today - joined_day).days > 20:
                first = joined_day + dt.timedelta(days=rng.randint(7, (today - joined_day).days))
                last = first + dt.timedelta(weeks=rng.randint(2, 10))
                person.away.append((first, last))
                created = london_to_utc(first, dt.time(8)) - 3 * _DAY
                pauses.append(
                    {
                        "volunteer_id": volunteer_id,
                        "first_day": first,
                        "last_day": last,
                        "reason": rng.choice(("Exams", "A new job", "Caring for a relative", "")),
                        "created_at": min(created, now),
                        "ended_at": None,
                    }
                )
        people[volunteer_id] = person
    statement = (
        update(Volunteer.__table__)
        .where(Volunteer.__table__.c.id == bindparam("vid"))
        .values(created_at=bindparam("joined"))
        .execution_options(synchronize_session=False)
    )
    for chunk in _chunks(joined_rows):
        session.connection().execute(statement, chunk)
    if left_rows:
        leaving = (
            update(Volunteer.__table__)
            .where(Volunteer.__table__.c.id == bindparam("vid"))
            .values(status=VolunteerStatus.LEFT, left_at=bindparam("left"))
        )
        for chunk in _chunks(left_rows):
            session.connection().execute(leaving, chunk)
        gone = [row["vid"] for row in left_rows]
        for chunk in _chunks(gone):
            # As vetting does when someone leaves: nothing adverse, the clearance is no longer needed.
            session.execute(
                update(Clearance)
                .where(Clearance.volunteer_id.in_(chunk))
                .values(state=ClearanceState.NO_LONGER_NEEDED)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(VettingReview)
                .where(VettingReview.volunteer_id.in_(chunk), VettingReview.status == ReviewStatus.OPEN)
                .values(status=ReviewStatus.CLOSED, closed_at=now)
                .execution_options(synchronize_session=False)
            )
    _insert(session, VolunteerPause, pauses)
    return people


# ---- Requests and the weekly runs -------------------------------------------------------------------


def _sergeants(session: Session, wards) -> dict[int, list[int]]:
    """Each ward's sergeants; a ward without one borrows a sergeant of its BCU (or any)."""
    by_ward: dict[int, list[int]] = defaultdict(list)
    for user_id, ward_id in session.execute(
        select(sergeant_wards.c.user_id, sergeant_wards.c.ward_id)
        .join(User, User.id == sergeant_wards.c.user_id)
        .where(User.role == Role.SERGEANT)
        .order_by(sergeant_wards.c.user_id)
    ):
        by_ward[ward_id].append(user_id)
    by_bcu: dict[int, list[int]] = defaultdict(list)
    for ward_id, _, bcu_id in wards:
        by_bcu[bcu_id] += by_ward.get(ward_id, [])
    anyone = [u for users in by_ward.values() for u in users] or list(
        session.scalars(select(User.id).where(User.role == Role.COORDINATOR).limit(1))
    )
    return {ward_id: by_ward.get(ward_id) or by_bcu.get(bcu_id) or anyone for ward_id, _, bcu_id in wards}


@dataclass
class _Request:
    id: int
    ward_id: int
    borough_id: int
    bcu_id: int
    start: dt.datetime
    end: dt.datetime  # the booked slot: the window's start for the task's duration
    people: int
    priority: str
    remote: bool
    created_at: dt.datetime
    cancelled: bool
    monday: dt.date
    run_id: int | None = None


def _requests(session, rng, wards, sergeants, first_day, last_day, count, now) -> list[_Request]:
    """``count`` requests over every ward, a day each between ``first_day`` and ``last_day`` (more in some
    wards than others, fewer at weekends), inserted in batches."""
    codes = list(_WEIGHTS)
    weights = [_WEIGHTS[c] for c in codes]
    ward_weights = [rng.uniform(0.3, 1.7) for _ in wards]
    span = (last_day - first_day).days
    rows, skills, meta = [], [], []
    for _ in range(count):
        ward_id, borough_id, bcu_id = rng.choices(wards, weights=ward_weights)[0]
        day = first_day + dt.timedelta(days=rng.randint(1, span))
        if day.weekday() >= 5 and rng.random() < 0.4:
            day -= dt.timedelta(days=day.weekday() - 4)  # moved to the Friday
        made = _request(rng, day - _DAY, rng.choice(sergeants[ward_id]), ward_id, rng.choices(codes, weights)[0], 1)
        start = made.window_start
        # Raised before the Friday run of the week before (at most ten days before its day).
        created = min(start - dt.timedelta(days=rng.randint(10, 21), hours=rng.randint(0, 8)), now)
        cancelled = rng.random() < 0.04
        row = {c.key: getattr(made, c.key) for c in SupportRequest.__table__.columns if c.key != "id"}
        row.update(
            audience=RequestAudience.WARD_PANEL_FIRST,
            contact_phone="",
            created_at=created,
            updated_at=created,
            version=1,
            status=RequestStatus.CANCELLED if cancelled else RequestStatus.OPEN,
            cancelled_at=max(min(start - _DAY, now), created) if cancelled else None,
            cancel_reason=rng.choice(_CANCEL_REASONS) if cancelled else None,
        )
        rows.append(row)
        skills.append([s.skill_code for s in made.skills])
        local_day = to_london(start).date()
        meta.append(
            (
                ward_id,
                borough_id,
                bcu_id,
                start,
                start + dt.timedelta(minutes=made.duration_minutes),
                made.people_needed,
                str(made.priority),
                bool(made.remote),
                row["created_at"],
                cancelled,
                local_day - dt.timedelta(days=local_day.weekday()),
            )
        )
    ids = _insert(session, SupportRequest, rows, returning=True)
    _insert(
        session,
        RequestSkill,
        [{"request_id": i, "skill_code": c} for i, codes_ in zip(ids, skills, strict=True) for c in codes_],
    )
    return [_Request(i, *m) for i, m in zip(ids, meta, strict=True)]


def _runs(session, rng, requests: list[_Request], wards, now) -> dict[int, dict]:
    """One BCU run a week per BCU, started on the Friday before the week: the offers of the week's requests
    are its offers. Weeks whose run is still to come have none (their requests are open)."""
    by_key: dict[tuple[int, dt.date], list[_Request]] = defaultdict(list)
    for item in requests:
        by_key[(item.bcu_id, item.monday)].append(item)
    wards_by_bcu: dict[int, list[int]] = defaultdict(list)
    for ward_id, _, bcu_id in wards:
        wards_by_bcu[bcu_id].append(ward_id)
    rows, keys = [], []
    for bcu_id, monday in sorted(by_key):
        started = london_to_utc(monday - dt.timedelta(days=3), dt.time(rng.randint(8, 11), rng.randint(0, 59)))
        if started > now:
            continue
        items = by_key[(bcu_id, monday)]
        total = round(rng.uniform(4, 40), 2)
        rows.append(
            {
                "scope": RunScope.BCU,
                "bcu_id": bcu_id,
                "first_day": monday,
                "last_day": monday + dt.timedelta(days=6),
                "trigger": "web",
                "status": RunStatus.SUCCEEDED,
                "stage": "Finished",
                "percent": 100,
                "created_at": started,
                "started_at": started,
                "heartbeat_at": started + dt.timedelta(seconds=total),
                "finished_at": started + dt.timedelta(seconds=total),
                "requests_count": len(items),
                "total_seconds": total,
                "solve_seconds": round(total * 0.6, 2),
                "optimal": rng.random() < 0.8,
                "abstraction": json.dumps(
                    {
                        str(ward): {
                            "hours_elsewhere": round(rng.randint(2, 40) * 1.5, 2),
                            "members_elsewhere": rng.randint(1, 6),
                            "places_unfilled": rng.choice((0, 0, 1, 2, 3)),
                        }
                        for ward in sorted(rng.sample(wards_by_bcu[bcu_id], k=min(3, len(wards_by_bcu[bcu_id]))))
                    }
                ),
            }
        )
        keys.append((bcu_id, monday))
    ids = _insert(session, MatchRun, rows, returning=True)
    runs = {}
    for run_id, key, row in zip(ids, keys, rows, strict=True):
        for item in by_key[key]:
            item.run_id = run_id
        runs[run_id] = {
            "row": row,
            "figures": {"urgent": [0, 0], "priority": [0, 0], "routine": [0, 0], "volunteers": set()},
        }
    return runs


# ---- Offers, findings and deployments ---------------------------------------------------------------


def _offers(rng, requests: list[_Request], runs, pools, everyone, now):
    """Each request's offers: per place, some declined, expired or pulled out of, then (mostly) one accepted
    — fewer in the boroughs and at the times that are short. Returns [(offer row, request)] and the findings."""
    short = {borough: rng.uniform(0.7, 1.0) for borough in pools}
    offers: list[tuple[dict, _Request]] = []
    findings: list[dict] = []
    for item in sorted(requests, key=lambda r: r.start):
        if item.run_id is None:
            continue
        run = runs[item.run_id]["row"]
        offered_at = run["finished_at"]
        local = pools.get(item.borough_id) or everyone
        evening = to_london(item.start).hour >= 17
        chance = short.get(item.borough_id, 0.85) * (0.85 if evening else 1.0)
        chance *= {"urgent": 1.1, "priority": 1.0, "routine": 0.9}[item.priority]
        asked: set[int] = set()
        first = len(offers)
        for _place in range(item.people):
            for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3))):
                person = _pick(rng, local, everyone, item, asked, offered_at)
                if person is None:
                    break
                offers.append((_closed_offer(rng, item, person, offered_at, now), item))
            if item.cancelled:
                continue
            fills = rng.random() < chance
            person = _pick(rng, local, everyone, item, asked, offered_at) if fills else None
            if person is None:
                continue
            respond_by = min(offered_at + 48 * _HOUR, item.start)
            if respond_by > now and rng.random() < 0.4:
                status, answered = OfferStatus.OFFERED, None  # still waiting for an answer, not yet due
            else:
                status = OfferStatus.ACCEPTED
                answered = min(offered_at + dt.timedelta(hours=rng.uniform(1, 40)), respond_by, now)
            person.book(item.start, item.end)
            offers.append((_offer(item, person, status, offered_at, respond_by, answered), item))
        if item.cancelled:
            for row, _ in offers[first:]:
                if row["status"] is OfferStatus.DECLINED and rng.random() < 0.5:
                    continue  # answered before the request was cancelled
                row["status"], row["closed_reason"] = OfferStatus.CANCELLED, "request cancelled"
            continue
        placed = sum(1 for row, _ in offers[first:] if row["status"] in ACTIVE_OFFER_STATUSES)
        figures = runs[item.run_id]["figures"]
        figures[item.priority][0] += placed
        figures[item.priority][1] += item.people
        figures["volunteers"] |= {
            row["volunteer_id"] for row, _ in offers[first:] if row["status"] in ACTIVE_OFFER_STATUSES
        }
        findings.append(_finding(rng, item, placed))
    return offers, findings


def _pick(rng, local, everyone, item: _Request, asked: set[int], offered_at) -> _Person | None:
    """Someone who may be offered this request: mostly from its borough, free at its time."""
    for attempt in range(8):
        pool = local if attempt < 6 else everyone
        person = pool[rng.randrange(len(pool))]
        if person.id not in asked and person.can_take(item.start, item.end, offered_at):
            asked.add(person.id)
            return person
    return None


def _offer(item: _Request, person: _Person, status, offered_at, respond_by, answered) -> dict:
    return {
        "request_id": item.id,
        "volunteer_id": person.id,
        "run_id": item.run_id,
        "status": status,
        "starts_at": item.start,
        "ends_at": item.end,
        "load_minutes": int((item.end - item.start).total_seconds() // 60) + (0 if item.remote else 40),
        "explanation": "Has the skills, is cleared and free, and lives nearby.",
        "offered_at": offered_at,
        "respond_by": respond_by,
        "answered_at": answered,
        "closed_reason": None,
    }


def _closed_offer(rng, item: _Request, person: _Person, offered_at, now) -> dict:
    """An offer that did not become a booking: declined, not answered in time, or pulled out of."""
    respond_by = min(offered_at + 48 * _HOUR, item.start)
    roll = rng.random()
    if roll < 0.6 or respond_by > now:
        answered = min(offered_at + dt.timedelta(hours=rng.uniform(1, 30)), respond_by, now)
        return _offer(item, person, OfferStatus.DECLINED, offered_at, respond_by, answered)
    if roll < 0.85:
        row = _offer(item, person, OfferStatus.EXPIRED, offered_at, respond_by, None)
        row["closed_reason"] = "no answer in time"
        return row
    answered = min(offered_at + dt.timedelta(hours=rng.uniform(1, 20)), respond_by, now)
    row = _offer(item, person, OfferStatus.WITHDRAWN, offered_at, respond_by, answered)
    row["closed_reason"] = VOLUNTEER_WITHDREW + rng.choice(_PULL_OUT_REASONS)
    return row


def _finding(rng, item: _Request, placed: int) -> dict:
    """The run's finding for the request, as ``matching.runs.services`` writes it: the funnel's counts
    after each rule (labels from ``matching.funnel``), reaching nought at the rule that stopped it when the
    run left places free, and a suggestion then."""
    facts = SimpleNamespace(start=item.start, end=item.end, remote=item.remote)
    stages = _stage_labels(facts)  # type: ignore[arg-type]  # only its time and remoteness are read
    remaining = rng.randint(300, 1500)
    stop = None
    keys = [key for key, _ in stages]
    if placed < item.people:
        stop = rng.choices(keys, weights=[_STOPS[k] for k in keys])[0]
    funnel = [["volunteers", remaining]]
    for key, label in stages:
        if stop is not None and key == stop:
            remaining = placed
        elif stop is not None and keys.index(key) > keys.index(stop):
            remaining = min(remaining, placed)
        else:
            remaining = max(item.people + rng.randint(0, 4), int(remaining * rng.uniform(0.35, 0.9)))
        funnel.append([label, remaining])
    return {
        "run_id": item.run_id,
        "request_id": item.id,
        "places_needed": item.people,
        "places_offered": placed,
        "funnel": json.dumps(funnel),
        "suggestion": _SUGGESTIONS[stop] if stop else None,
        "panel_elsewhere": None,
    }


def _deployments(rng, offers, offer_ids, sergeants, now) -> list[dict]:
    """A deployment for each accepted offer that has ended: confirmed attended (most) or not, and the last
    fortnight's partly still waiting for the sergeant or logged by the volunteer."""
    rows = []
    for (row, item), offer_id in zip(offers, offer_ids, strict=True):
        if row["status"] is not OfferStatus.ACCEPTED or item.end > now:
            continue
        minutes = int((item.end - item.start).total_seconds() // 60)
        recent = now - item.end < dt.timedelta(days=14)
        roll = rng.random()
        base = {
            "offer_id": offer_id,
            "request_id": item.id,
            "volunteer_id": row["volunteer_id"],
            "created_at": item.end,
            "updated_at": item.end,
            "served_minutes": None,
            "no_notice": False,
            "confirmed_by_id": None,
            "confirmed_at": None,
            "logged_minutes": None,
            "logged_at": None,
            "helpful": None,
            "would_ask_again": None,
        }
        confirmed_at = min(item.end + dt.timedelta(hours=rng.uniform(2, 72)), now)
        sergeant = rng.choice(sergeants[item.ward_id])
        if recent and roll < 0.35:
            base["outcome"] = DeploymentOutcome.AWAITING
        elif recent and roll < 0.5:
            base.update(outcome=DeploymentOutcome.LOGGED, logged_minutes=minutes, logged_at=confirmed_at)
        elif roll < 0.95:
            served = max(15, minutes + rng.choice((0, 0, 0, 15, -15, 30)))
            base.update(
                outcome=DeploymentOutcome.ATTENDED,
                served_minutes=served,
                confirmed_by_id=sergeant,
                confirmed_at=confirmed_at,
                helpful=rng.random() < 0.9,
                would_ask_again=rng.random() < 0.92,
            )
        else:
            base.update(
                outcome=DeploymentOutcome.DID_NOT_ATTEND,
                served_minutes=0,
                no_notice=rng.random() < 0.5,
                confirmed_by_id=sergeant,
                confirmed_at=confirmed_at,
            )
        rows.append(base)
    return rows


def _set_statuses(session, requests, offers, deployments, now) -> None:
    """Each request's status as ``refresh_status`` and ``complete_if_done`` would leave it (one executemany)."""
    accepted: dict[int, int] = defaultdict(int)
    waiting: dict[int, int] = defaultdict(int)
    for row, item in offers:
        if row["status"] is OfferStatus.ACCEPTED:
            accepted[item.id] += 1
        elif row["status"] is OfferStatus.OFFERED:
            waiting[item.id] += 1
    unconfirmed = {
        d["request_id"] for d in deployments if d["outcome"] in (DeploymentOutcome.AWAITING, DeploymentOutcome.LOGGED)
    }
    deployed: dict[int, int] = defaultdict(int)
    for d in deployments:
        deployed[d["request_id"]] += 1
    changes = []
    for item in requests:
        if item.cancelled:
            continue
        got = accepted[item.id]
        if got and item.end <= now and deployed[item.id] == got and item.id not in unconfirmed:
            status = RequestStatus.COMPLETED
        elif got >= item.people:
            status = RequestStatus.FILLED
        elif got:
            status = RequestStatus.PART_FILLED
        elif waiting[item.id]:
            status = RequestStatus.MATCHED
        else:
            continue
        changes.append({"rid": item.id, "new_status": status})
    table = SupportRequest.__table__
    statement = update(table).where(table.c.id == bindparam("rid")).values(status=bindparam("new_status"))
    for chunk in _chunks(changes):
        session.connection().execute(statement, chunk)


def _run_figures(session, runs) -> None:
    """Each run's figures as ``_save`` writes them: places needed and offered, by priority, volunteers."""
    rows = []
    for run_id, run in runs.items():
        figures = run["figures"]
        by_priority = {p: figures[p] for p in ("urgent", "priority", "routine")}
        needed = sum(n for _, n in by_priority.values())
        offered = sum(f for f, _ in by_priority.values())
        rows.append(
            {
                "rid": run_id,
                "needed": needed,
                "offered": offered,
                "people": len(figures["volunteers"]),
                "priorities": json.dumps(by_priority),
            }
        )
    table = MatchRun.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("rid"))
        .values(
            places_needed=bindparam("needed"),
            places_offered=bindparam("offered"),
            coverage=bindparam("offered"),
            volunteers_count=bindparam("people"),
            by_priority=bindparam("priorities"),
        )
    )
    for chunk in _chunks(rows):
        session.connection().execute(statement, chunk)


def _vetting_history(session, rng, people: dict[int, _Person], first_day: dt.date, now) -> int:
    """Decisions week by week over the history (closed reviews with their outcome) and an open queue of
    various ages: each open review dated back up to four months (an application with its volunteer)."""
    officers = list(session.scalars(select(User.id).where(User.role == Role.VETTING_OFFICER).order_by(User.id))) or [
        None
    ]
    start = london_to_utc(first_day, dt.time(9))
    span = (now - start).total_seconds()
    ids = list(people)
    count = round(len(ids) * DECISIONS_PER_VOLUNTEER_YEAR * max(1, (now - start).days) / 365)
    kinds = [
        (ReviewKind.NEW_APPLICATION, 45, [(Outcome.GRANT, 85), (Outcome.REFUSE, 8), (Outcome.DISCONTINUE, 7)]),
        (ReviewKind.RENEWAL, 40, [(Outcome.GRANT, 88), (Outcome.LET_LAPSE, 6), (Outcome.REFUSE, 6)]),
        (ReviewKind.TRIGGERED, 10, [(Outcome.NO_CHANGE, 1)]),
        (ReviewKind.INTEGRITY, 5, [(Outcome.NO_CHANGE, 1)]),
    ]
    rows = []
    for _ in range(count):
        kind, _, outcomes = rng.choices(kinds, weights=[k[1] for k in kinds])[0]
        closed = start + dt.timedelta(seconds=rng.uniform(0, span))
        opened = closed - dt.timedelta(days=rng.randint(2, 70), hours=rng.randint(0, 12))
        outcome = rng.choices([o for o, _ in outcomes], weights=[w for _, w in outcomes])[0]
        rows.append(
            {
                "volunteer_id": ids[rng.randrange(len(ids))],
                "kind": kind,
                "status": ReviewStatus.CLOSED,
                "opened_at": opened,
                "due_on": to_london(opened).date() + dt.timedelta(days=28),
                "closed_at": closed,
                "closed_by_id": rng.choice(officers),
                "outcome": str(outcome),
                "notes": "",
            }
        )
    _insert(session, VettingReview, rows)
    # The open queue: each review (and an applicant's account) dated back 0 to 120 days.
    queue = session.execute(
        select(VettingReview.id, VettingReview.volunteer_id, VettingReview.kind).where(
            VettingReview.status == ReviewStatus.OPEN
        )
    ).all()
    dated, applicants = [], []
    for review_id, volunteer_id, kind in queue:
        opened = now - dt.timedelta(
            days=rng.choice((1, 3, 6, 10, 16, 25, 35, 50, 70, 100, 120)), hours=rng.randint(0, 9)
        )
        dated.append({"rid": review_id, "opened": opened, "due": to_london(opened).date() + dt.timedelta(days=28)})
        if kind is ReviewKind.NEW_APPLICATION:
            applicants.append({"vid": volunteer_id, "joined": opened})
    table = VettingReview.__table__
    statement = update(table).where(table.c.id == bindparam("rid")).values(opened_at=bindparam("opened"))
    for chunk in _chunks(dated):
        session.connection().execute(statement, chunk)
    volunteers = Volunteer.__table__
    joined = update(volunteers).where(volunteers.c.id == bindparam("vid")).values(created_at=bindparam("joined"))
    for chunk in _chunks(applicants):
        session.connection().execute(joined, chunk)
    return len(rows)


# ---- Bulk writing ----------------------------------------------------------------------------------


def _chunks(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert(session: Session, model, rows: list[dict], returning: bool = False) -> list[int]:
    """Insert ``rows`` in batches with Core (every row the same keys); with ``returning``, their new ids in
    the rows' order."""
    table = model.__table__
    ids: list[int] = []
    for chunk in _chunks(rows):
        if returning:
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids += session.connection().execute(statement, chunk).scalars().all()
        else:
            session.connection().execute(insert(table), chunk)
    return ids
