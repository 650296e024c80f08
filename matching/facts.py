"""Stored records → the matcher's pure facts (matching.domain). The one place that maps ORM → matcher.

``load_requests`` reads the open support requests in a scope, ``load_volunteers`` every active
volunteer with what the hard rules and the goals need, and ``facts_for_match`` does both for a
set of requests. Everything after this module (the funnel, the explanations, the solver
instance) works on the frozen facts alone.

Scale: the volunteer loader reads a fixed number of statements whatever the number of
volunteers (one per table, plain columns, grouped in Python), so 50,000 volunteers cost eight
queries, not 400,000 ORM loads. A volunteer's PersonFacts still come from
``vetting.facts.person_facts``, fed light records with the attributes it reads.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import NamedTuple

from sqlalchemy import Date, Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from core.auth.models import User
from core.geography.models import Ward
from core.timeutil import london_to_utc, to_london
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.deployments.ranking import DEFAULT_PENALTY_DAYS, concern_counts
from matching.domain import Conflict, DateException, RequestFacts, VolunteerCandidate, WeeklySlot, distance_km
from matching.models import (
    ACTIVE_OFFER_STATUSES,
    REQUEST_CHANGED,
    Offer,
    OfferStatus,
    RequestSkill,
    RequestStatus,
    SupportRequest,
)
from matching.planning import PRIORITY_WEIGHTS
from vetting.catalogue import SkillRequirement
from vetting.conflict_reviews import standings as conflict_standings
from vetting.facts import person_facts
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from vetting.policy import current_task_policies
from vetting.rules import DateRange
from volunteers.models import (
    AvailabilityException,
    AvailabilitySlot,
    BlockedPeriod,
    BlockReason,
    ConflictDeclaration,
    TaskPreference,
    Volunteer,
    VolunteerPause,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.panels.models import PanelState, SpecialistGroup, SpecialistGroupMembership, WardPanelMembership
from volunteers.skills import SKILLS_BY_CODE, SkillFamily, SkillLevel

__all__ = ["facts_for_match", "load_requests", "load_volunteers", "london_week", "ring_fenced_wards"]

log = logging.getLogger(__name__)

# Requests the matcher may still fill places on.
MATCHABLE_STATUSES = (RequestStatus.OPEN, RequestStatus.MATCHED, RequestStatus.PART_FILLED)

# Kilometres per degree, rounded so that a box drawn with them is never smaller than the circle
# it stands for: a degree of latitude is at least 110.5 km, and the longitude figure is scaled by
# the cosine of the latitude (and a 1% margin for the curvature the flat box ignores).
_KM_PER_DEGREE_LAT = 110.0
_KM_PER_DEGREE_LON_AT_EQUATOR = 111.195
# Grid cells of the requested-ward index, in degrees (about 5.5 km square in London).
_CELL_LAT, _CELL_LON = 0.05, 0.08


# ---- Support requests ---------------------------------------------------------------------------


def load_requests(
    session: Session,
    request_ids: Sequence[int] | None = None,
    *,
    scope_ward_ids: Iterable[int] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[RequestFacts]:
    """The requests in scope that still have free places, as the matcher's facts, by id.

    Scope: ``request_ids`` (those of them still wanted), ``scope_ward_ids`` (the requests of these
    wards), and ``start``/``end`` (windows starting in ``[start, end)``); each narrows the others.
    Cancelled and completed requests, and those whose every place is offered or accepted, are
    never returned.

    Each request becomes one deployment:

    - ``task`` is the task type's policy in force now (coordinators' edits applied), not the
      seeded default. A request whose task type no longer exists is skipped (and logged).
    - ``start``/``end`` are the window's start and start + duration: the first slot in the window.
      Choosing a later slot inside a wider window (when the first one finds nobody) is future work.
    - ``location`` is the ward's centre, or None for remote work; ``ward_id`` is always the
      request's ward (ward conflicts of interest apply to remote work too).
    - ``people_needed`` is the places still free: those asked for less the active offers (offered
      or accepted). Accepted work is never moved, and an outstanding offer stands until it is
      answered or expires, so a run only ever fills free places.
    - ``excluded_volunteers``: everyone who already had an offer for this request (declined, let it
      expire, was withdrawn, or holds a place on it now) is never offered it again; except those whose
      offer the sergeant's change to the request withdrew (``REQUEST_CHANGED``), who may fit it as changed.
    - ``priority`` is the solver's weight for the request's priority (urgent 9, priority 3, routine 1).
    - ``extra_skills``: each of the request's own skills is one requirement. A language is needed
      at "aware" level or above, because getting by in someone's language beats an interpreter
      arranged next week; any other skill (safeguarding, first aid, …) at "practitioner" or above,
      the level the task policies ask for by default.
    - ``supervised``: the request names a supervising officer from its ward's team, who will be there, so
      those cleared for the task only with a supervising officer may take it; without one the stricter
      clearance rule applies (``vetting.rules.check_eligibility``).
    - ``remote``: the request is marked remote and its task type can still be done remotely. A request raised
      remote for a type a coordinator has since made in-person-only is matched as in person, at its ward (the
      request page says so): the policy in force decides, as for every other rule.
    - ``all_or_nothing``: the sergeant's answer, or forced by the task type's team rule when two volunteers
      are needed (two adults, and no supervising officer on a two-adults-or-officer task), so one is never
      booked without the other. Such a request asking for a single volunteer is skipped (and logged): its
      page asks the sergeant to name an officer or ask for two.
    """
    if request_ids is not None and not request_ids:
        return []
    conditions = [SupportRequest.status.in_(MATCHABLE_STATUSES)]
    if request_ids is not None:
        conditions.append(SupportRequest.id.in_(sorted(set(request_ids))))
    if scope_ward_ids is not None:
        conditions.append(SupportRequest.ward_id.in_(sorted(set(scope_ward_ids))))
    if start is not None:
        conditions.append(SupportRequest.window_start >= start)
    if end is not None:
        conditions.append(SupportRequest.window_start < end)

    rows = session.execute(
        select(
            SupportRequest.id,
            SupportRequest.task_type_code,
            SupportRequest.window_start,
            SupportRequest.duration_minutes,
            SupportRequest.ward_id,
            SupportRequest.remote,
            SupportRequest.people_needed,
            SupportRequest.all_or_nothing,
            SupportRequest.priority,
            SupportRequest.warranted_only,
            SupportRequest.organisation,
            SupportRequest.partner_id,
            SupportRequest.preferred_volunteer_id,
            SupportRequest.audience,
            SupportRequest.specialist_group_id,
            Ward.name.label("ward_name"),
            SupportRequest.supervising_officer_id,
            Ward.latitude,
            Ward.longitude,
        )
        .join(Ward, Ward.id == SupportRequest.ward_id)
        .where(*conditions)
        .order_by(SupportRequest.id)
    ).all()
    if not rows:
        return []
    skills: dict[int, list[str]] = defaultdict(list)
    in_scope = select(SupportRequest.id).where(*conditions)
    taken: dict[int, int] = defaultdict(int)
    excluded: dict[int, set[int]] = defaultdict(set)
    for request_id, volunteer_id, status, closed_reason in session.execute(
        select(Offer.request_id, Offer.volunteer_id, Offer.status, Offer.closed_reason).where(
            Offer.request_id.in_(in_scope)
        )
    ):
        if closed_reason != REQUEST_CHANGED:  # withdrawn by the sergeant's change: they may fit the new details
            excluded[request_id].add(volunteer_id)
        if status in ACTIVE_OFFER_STATUSES:
            taken[request_id] += 1
    for request_id, code in session.execute(
        select(RequestSkill.request_id, RequestSkill.skill_code)
        .where(RequestSkill.request_id.in_(in_scope))
        .order_by(RequestSkill.request_id, RequestSkill.skill_code)
    ):
        skills[request_id].append(code)
    policies = current_task_policies(session)
    groups = _group_members(session, {row.specialist_group_id for row in rows if row.specialist_group_id})

    facts = []
    for row in rows:
        free_places = row.people_needed - taken[row.id]
        if free_places <= 0:
            continue
        task = policies.get(row.task_type_code)
        if task is None:
            log.warning("support request %s has an unknown task type %r: not matched", row.id, row.task_type_code)
            continue
        supervised = row.supervising_officer_id is not None
        two_adults = task.team_rule.needs_two_volunteers(supervised)
        if two_adults and row.people_needed < 2:
            log.warning("support request %s needs two adults but asks for one volunteer: not matched", row.id)
            continue
        remote = row.remote and task.remote_possible
        facts.append(
            RequestFacts(
                id=row.id,
                task=task,
                start=row.window_start,
                end=row.window_start + dt.timedelta(minutes=row.duration_minutes),
                ward_id=row.ward_id,
                location=None if remote else (row.latitude, row.longitude),
                remote=remote,
                people_needed=free_places,
                all_or_nothing=row.all_or_nothing or two_adults,
                priority=PRIORITY_WEIGHTS[row.priority.value],
                warranted_only=row.warranted_only,
                extra_skills=tuple(skill_requirement(code) for code in skills.get(row.id, ())),
                organisation=row.organisation or "",
                partner_id=row.partner_id,
                preferred_volunteer_id=row.preferred_volunteer_id,
                supervised=supervised,
                excluded_volunteers=frozenset(excluded.get(row.id, ())),
                ward_name=row.ward_name,
                panel_first=row.specialist_group_id is None,
                group_name=groups[row.specialist_group_id][0] if row.specialist_group_id else "",
                group_members=groups[row.specialist_group_id][1] if row.specialist_group_id else None,
            )
        )
    return facts


def _group_members(session: Session, group_ids: set[int]) -> dict[int, tuple[str, frozenset[int]]]:
    """Each specialist group's name and current members (``state == member``), for the requests aimed at it."""
    if not group_ids:
        return {}
    found = {
        group_id: (name, set())
        for group_id, name in session.execute(
            select(SpecialistGroup.id, SpecialistGroup.name).where(SpecialistGroup.id.in_(sorted(group_ids)))
        )
    }
    for group_id, volunteer_id in session.execute(
        select(SpecialistGroupMembership.group_id, SpecialistGroupMembership.volunteer_id).where(
            SpecialistGroupMembership.group_id.in_(sorted(group_ids)),
            SpecialistGroupMembership.state == PanelState.MEMBER,
        )
    ):
        found[group_id][1].add(volunteer_id)
    return {group_id: (name, frozenset(members)) for group_id, (name, members) in found.items()}


def ring_fenced_wards(session: Session) -> frozenset[int]:
    """The wards a coordinator ring-fenced: their panels leave them only for urgent requests elsewhere."""
    return frozenset(session.scalars(select(Ward.id).where(Ward.ring_fenced.is_(True))))


def skill_requirement(code: str) -> SkillRequirement:
    skill = SKILLS_BY_CODE.get(code)
    language = skill is not None and skill.family is SkillFamily.LANGUAGE
    return SkillRequirement((code,), SkillLevel.AWARE if language else SkillLevel.PRACTITIONER)


# ---- Volunteers ---------------------------------------------------------------------------------


class _Profile(NamedTuple):
    """The attributes of a Volunteer that ``person_facts`` reads, without loading the ORM object."""

    kind: object
    warrant_number: str | None
    patrol_status: object
    adjustment: object
    skills: list


class _ClearanceRecord(NamedTuple):
    """The attributes of a Clearance that ``person_facts`` reads."""

    id: int
    renews_id: int | None
    type_code: str
    state: object
    valid_from: dt.date | None
    expires_on: dt.date | None
    restricted_from: str
    restrictions = Clearance.restrictions  # the model's own reading of the deny-list


def load_volunteers(
    session: Session,
    *,
    week_start: dt.datetime,
    week_end: dt.datetime,
    ward_ids: Iterable[int] | None = None,
    max_km: float | None = None,
    min_reach_km: float = 0.0,
    now: dt.datetime | None = None,
    concern_days: int = DEFAULT_PENALTY_DAYS,
) -> list[VolunteerCandidate]:
    """Every active volunteer as a matching candidate for deployments in ``[week_start, week_end)``, by id.

    Only ``active`` volunteers whose account is enabled: applicants, paused volunteers, leavers and anyone
    whose account a coordinator disabled are never matched (nor counted in the funnel). Each
    carries PersonFacts (from ``vetting.facts.person_facts``: kind, warrant, patrol status,
    adjustments, skills with their evidence, clearances, mobilisations, and where they stand on the conflict
    review their line of work may need), the home ward's centre
    (None without a home ward: such a volunteer can only take remote work), the travel limit and
    weekly cap, the weekly slots, and the dated exceptions, blocked periods (and pauses) and clearances that
    overlap the week (a deployment starting in the week may end on the day after it, so that day
    counts too). Declared conflicts, those a conflict review found, and preferred task types are included.

    From the offers: ``busy`` holds every active (offered or accepted) deployment that touches the
    week, ``booked_minutes_in_week`` their weekly load (task plus travel) for those starting in the
    week, and ``served_wards`` the wards of requests the volunteer accepted before the week. From the
    deployments: ``recent_concerns``, those counting at ``now`` against their ranking (``concern_days``,
    matching/deployments/ranking.py).

    Pre-filter (optional): with ``ward_ids`` (the wards of the in-person requests being matched),
    volunteers whose home is further than their own travel limit from every one of those wards
    are left out, as the funnel's travel rule would drop them anyway; ``max_km`` caps everyone's
    reach further. ``min_reach_km`` keeps everyone within that distance whatever their own limit,
    so the funnel can count those dropped by the travel rule and name the nearest of them ("the
    nearest eligible volunteer is 9 km away with a 5 km limit"). Do not pass ``ward_ids`` when a
    remote request is being matched: distance does
    not count for it. The filter is a bounding box in SQL and the funnel's own distance in Python.

    Cost: fourteen statements (fifteen with ``ward_ids``) whatever the number of volunteers; the panels
    (``panel_wards``, current members only) are one of them.
    """
    if week_start.tzinfo is None or week_end.tzinfo is None:
        raise ValueError("week_start and week_end must be timezone-aware")
    if week_end <= week_start:
        raise ValueError("week_end must be after week_start")
    if max_km is not None and ward_ids is None:
        raise ValueError("max_km limits the distance to requested wards: pass ward_ids too")
    first_day = to_london(week_start).date()
    last_day = to_london(week_end - dt.timedelta(microseconds=1)).date() + dt.timedelta(days=1)

    # The chosen volunteers' ids, as a subquery every other statement filters on (never correlated with
    # the statement it sits in, which may itself read the volunteers table).
    chosen = (
        select(Volunteer.id)
        .join(User, User.id == Volunteer.user_id)
        .where(Volunteer.status == VolunteerStatus.ACTIVE, User.is_disabled.is_(False))
        .correlate(None)
    )
    index = None
    if ward_ids is not None:
        centres = [
            (lat, lon)
            for lat, lon in session.execute(
                select(Ward.latitude, Ward.longitude).where(Ward.id.in_(sorted(set(ward_ids))))
            )
        ]
        if not centres:
            return []
        index = _WardIndex(centres)
        chosen = _within_box(chosen, centres, max_km, min_reach_km)

    with _collector_paused():
        candidates = _candidates(
            session, chosen, index, max_km, min_reach_km, first_day, last_day, week_start, week_end
        )
        concerns = concern_counts(session, chosen, now, concern_days) if candidates else {}
        if not concerns:
            return candidates
        return [replace(c, recent_concerns=concerns[c.id]) if c.id in concerns else c for c in candidates]


def _candidates(
    session: Session,
    chosen: Select,
    index: _WardIndex | None,
    max_km: float | None,
    min_reach_km: float,
    first_day: dt.date,
    last_day: dt.date,
    week_start: dt.datetime,
    week_end: dt.datetime,
) -> list[VolunteerCandidate]:
    # Plain Core execution on the session's connection (same transaction): the rows are columns, so the
    # ORM's result machinery would only add time.
    connection = session.connection()
    rows = connection.execute(
        select(
            Volunteer.id,
            Volunteer.kind,
            Volunteer.warrant_number,
            Volunteer.patrol_status,
            Volunteer.adjustment,
            Volunteer.travel_limit_km,
            Volunteer.weekly_hours_cap_minutes,
            Ward.latitude,
            Ward.longitude,
        )
        .outerjoin(Ward, Ward.id == Volunteer.home_ward_id)
        .where(Volunteer.id.in_(chosen))
        .order_by(Volunteer.id)
    ).all()
    if not rows:
        return []

    def grouped(query: Select) -> dict[int, list]:
        """The rows of ``query`` (volunteer id first) by volunteer, for the chosen volunteers only."""
        out: dict[int, list] = defaultdict(list)
        for row in connection.execute(query):
            out[row[0]].append(row)
        return out

    skills = grouped(
        select(
            VolunteerSkill.volunteer_id,
            VolunteerSkill.skill_code,
            VolunteerSkill.level,
            VolunteerSkill.evidence_status,
            VolunteerSkill.evidence_expires_on,
        )
        .where(VolunteerSkill.volunteer_id.in_(chosen))
        .order_by(VolunteerSkill.volunteer_id, VolunteerSkill.skill_code)
    )
    # Only records that could cover a day of the week (history and undated applications never do), and the
    # renewals of those renewed early: whether a renewal is in force decides if the old term still counts.
    in_week = and_(Clearance.valid_from <= last_day, Clearance.expires_on >= first_day)
    renewed_in_week = select(Clearance.id).where(
        Clearance.volunteer_id.in_(chosen), Clearance.state == ClearanceState.RENEWED, in_week
    )
    clearances = grouped(
        select(
            Clearance.volunteer_id,
            Clearance.id,
            Clearance.renews_id,
            Clearance.type_code,
            Clearance.state,
            Clearance.valid_from,
            Clearance.expires_on,
            Clearance.restricted_from,
        )
        .where(Clearance.volunteer_id.in_(chosen), or_(in_week, Clearance.renews_id.in_(renewed_in_week)))
        .order_by(Clearance.volunteer_id, Clearance.id)
    )
    # A pause (the volunteer stepped back for these days) is a day off like any blocked day: one rule, read in
    # the same statement. Until they resume is, for this week, to the end of it; an ended pause no longer counts.
    days_off = union_all(
        select(BlockedPeriod.volunteer_id, BlockedPeriod.first_day, BlockedPeriod.last_day, BlockedPeriod.reason).where(
            BlockedPeriod.volunteer_id.in_(chosen),
            BlockedPeriod.first_day <= last_day,
            BlockedPeriod.last_day >= first_day,
        ),
        select(
            VolunteerPause.volunteer_id,
            VolunteerPause.first_day,
            func.coalesce(VolunteerPause.last_day, literal(last_day, Date)),
            literal(BlockReason.OTHER.value),
        ).where(
            VolunteerPause.volunteer_id.in_(chosen),
            VolunteerPause.ended_at.is_(None),
            VolunteerPause.first_day <= last_day,
            or_(VolunteerPause.last_day.is_(None), VolunteerPause.last_day >= first_day),
        ),
    ).subquery()
    blocks = grouped(select(days_off).order_by(days_off.c.volunteer_id, days_off.c.first_day, days_off.c.last_day))
    exceptions = grouped(
        select(
            AvailabilityException.volunteer_id,
            AvailabilityException.on_date,
            AvailabilityException.available,
            AvailabilityException.start_minute,
            AvailabilityException.end_minute,
        )
        .where(
            AvailabilityException.volunteer_id.in_(chosen),
            AvailabilityException.on_date >= first_day,
            AvailabilityException.on_date <= last_day,
        )
        .order_by(AvailabilityException.volunteer_id, AvailabilityException.on_date, AvailabilityException.id)
    )
    slots = grouped(
        select(
            AvailabilitySlot.volunteer_id,
            AvailabilitySlot.weekday,
            AvailabilitySlot.start_minute,
            AvailabilitySlot.end_minute,
        )
        .where(AvailabilitySlot.volunteer_id.in_(chosen))
        .order_by(AvailabilitySlot.volunteer_id, AvailabilitySlot.weekday, AvailabilitySlot.start_minute)
    )
    conflicts = grouped(
        select(
            ConflictDeclaration.volunteer_id,
            ConflictDeclaration.organisation,
            ConflictDeclaration.ward_id,
            ConflictDeclaration.partner_id,
        )
        .where(ConflictDeclaration.volunteer_id.in_(chosen))
        .order_by(ConflictDeclaration.volunteer_id, ConflictDeclaration.id)
    )
    preferences = grouped(
        select(TaskPreference.volunteer_id, TaskPreference.task_type_code).where(
            TaskPreference.volunteer_id.in_(chosen)
        )
    )
    reviewed = conflict_standings(session, chosen)
    panels = grouped(
        select(WardPanelMembership.volunteer_id, WardPanelMembership.ward_id).where(
            WardPanelMembership.volunteer_id.in_(chosen), WardPanelMembership.state == PanelState.MEMBER
        )
    )

    # Offers: a day either side of the week, so a deployment across midnight is seen by both weeks.
    active = grouped(
        select(Offer.volunteer_id, Offer.starts_at, Offer.ends_at, Offer.load_minutes)
        .where(
            Offer.volunteer_id.in_(chosen),
            Offer.status.in_(ACTIVE_OFFER_STATUSES),
            Offer.ends_at > week_start - dt.timedelta(days=1),
            Offer.starts_at < week_end + dt.timedelta(days=1),
        )
        .order_by(Offer.volunteer_id, Offer.starts_at)
    )
    # A booking they did not attend (issue #20) is no continuity with the ward.
    served = grouped(
        select(Offer.volunteer_id, SupportRequest.ward_id)
        .join(SupportRequest, SupportRequest.id == Offer.request_id)
        .outerjoin(Deployment, Deployment.offer_id == Offer.id)
        .where(
            Offer.volunteer_id.in_(chosen),
            Offer.status == OfferStatus.ACCEPTED,
            Offer.ends_at <= week_start,
            or_(Deployment.id.is_(None), Deployment.outcome != DeploymentOutcome.DID_NOT_ATTEND),
        )
        .distinct()
    )

    # Most volunteers share a few weekly patterns: one frozen WeeklySlot per distinct slot.
    slot_facts: dict[tuple, WeeklySlot] = {}
    shared_facts: dict = {}  # equal skill and clearance facts as one object each (see person_facts)
    candidates = []
    for row in rows:
        home = None if row.latitude is None else (row.latitude, row.longitude)
        if index is not None:
            reach = max(row.travel_limit_km, min_reach_km)
            reach = reach if max_km is None else min(reach, max_km)
            if home is None or not index.any_within(home, reach):
                continue
        profile = _Profile(row.kind, row.warrant_number, row.patrol_status, row.adjustment, skills.get(row.id, []))
        blocked = blocks.get(row.id, [])
        standing = reviewed.get(row.id)
        candidates.append(
            VolunteerCandidate(
                id=row.id,
                # Duck-typed records: person_facts reads attributes only, so it stays the one mapping to rules.
                person=person_facts(
                    profile,
                    [_ClearanceRecord(*c[1:]) for c in clearances.get(row.id, ())],
                    blocked,
                    conflict_review=standing,
                    shared=shared_facts,
                ),
                home=home,
                travel_limit_km=float(row.travel_limit_km),
                weekly_cap_minutes=row.weekly_hours_cap_minutes,
                weekly_slots=tuple(
                    slot_facts.get(s[1:]) or slot_facts.setdefault(s[1:], WeeklySlot(*s[1:]))
                    for s in slots.get(row.id, ())
                ),
                exceptions=tuple(
                    DateException(e.on_date, e.available, e.start_minute, e.end_minute)
                    for e in exceptions.get(row.id, ())
                ),
                # Every blocked day, mobilisation included: a mobilised reservist is also not free.
                blocked=tuple(DateRange(b.first_day, b.last_day) for b in blocked),
                # Declared by the volunteer, then found by a conflict review: one rule applies to both.
                conflicts=tuple(Conflict(c.organisation, c.ward_id, c.partner_id) for c in conflicts.get(row.id, ()))
                + (tuple(Conflict(c.organisation, c.ward_id) for c in standing.conflicts) if standing else ()),
                preferred_task_types=frozenset(p.task_type_code for p in preferences.get(row.id, ())),
                busy=tuple((o.starts_at, o.ends_at) for o in active.get(row.id, ())),
                booked_minutes_in_week=sum(
                    o.load_minutes for o in active.get(row.id, ()) if week_start <= o.starts_at < week_end
                ),
                served_wards=frozenset(w.ward_id for w in served.get(row.id, ())),
                panel_wards=frozenset(m.ward_id for m in panels.get(row.id, ())),
            )
        )
    return candidates


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building the facts.

    50,000 volunteers make about a million small objects, none of them in reference cycles; each
    allocation burst would otherwise set off full collections that free nothing and walk every
    object built so far, which more than doubles the loader's time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _within_box(
    chosen: Select, centres: list[tuple[float, float]], max_km: float | None, min_reach_km: float = 0.0
) -> Select:
    """Narrow ``chosen`` to volunteers whose home lies in the box around the requested wards, widened
    by their own travel limit (and by ``max_km``). Coarse but never too tight; exact distances follow."""
    lats = [lat for lat, _ in centres]
    lons = [lon for _, lon in centres]
    # The box's longitude span must hold at the box's most poleward edge (200 km, the largest travel
    # limit, is under 2 degrees of latitude).
    cos_edge = math.cos(math.radians(min(89.0, max(abs(lat) for lat in lats) + 2.0)))
    per_km_lat = 1 / _KM_PER_DEGREE_LAT
    per_km_lon = 1.01 / (_KM_PER_DEGREE_LON_AT_EQUATOR * cos_edge)
    reach = case((Volunteer.travel_limit_km < min_reach_km, min_reach_km), else_=Volunteer.travel_limit_km)
    chosen = chosen.join(Ward, Ward.id == Volunteer.home_ward_id).where(
        Ward.latitude >= min(lats) - reach * per_km_lat,
        Ward.latitude <= max(lats) + reach * per_km_lat,
        Ward.longitude >= min(lons) - reach * per_km_lon,
        Ward.longitude <= max(lons) + reach * per_km_lon,
    )
    if max_km is not None:
        chosen = chosen.where(
            Ward.latitude >= min(lats) - max_km * per_km_lat,
            Ward.latitude <= max(lats) + max_km * per_km_lat,
            Ward.longitude >= min(lons) - max_km * per_km_lon,
            Ward.longitude <= max(lons) + max_km * per_km_lon,
        )
    return chosen


class _WardIndex:
    """Requested ward centres in a grid of cells, so that "is any of them within reach of this home?"
    looks at the few cells around the home instead of at every ward (50,000 homes × 600 wards)."""

    def __init__(self, centres: Iterable[tuple[float, float]]):
        self.centres = list(dict.fromkeys(centres))
        self.cells: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
        for lat, lon in self.centres:
            self.cells[(math.floor(lat / _CELL_LAT), math.floor(lon / _CELL_LON))].append((lat, lon))

    def any_within(self, home: tuple[float, float], km: float) -> bool:
        """True if some centre is at most ``km`` from ``home`` by the funnel's own distance."""
        lat, lon = home
        dlat = km / _KM_PER_DEGREE_LAT
        cos_edge = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
        dlon = 1.01 * km / (_KM_PER_DEGREE_LON_AT_EQUATOR * cos_edge)
        rows = range(math.floor((lat - dlat) / _CELL_LAT), math.floor((lat + dlat) / _CELL_LAT) + 1)
        cols = range(math.floor((lon - dlon) / _CELL_LON), math.floor((lon + dlon) / _CELL_LON) + 1)
        if len(rows) * len(cols) > len(self.centres):
            nearby: Iterable[tuple[float, float]] = self.centres
        else:
            nearby = (centre for r in rows for c in cols for centre in self.cells.get((r, c), ()))
        return any(distance_km(home, centre) <= km for centre in nearby)


# ---- Both, for one run of the matcher -----------------------------------------------------------


def london_week(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The London week (Monday 00:00 to the next Monday 00:00, as UTC) that ``moment`` falls in."""
    local = to_london(moment)
    monday = local.date() - dt.timedelta(days=local.weekday())
    return london_to_utc(monday, dt.time(0, 0)), london_to_utc(monday + dt.timedelta(days=7), dt.time(0, 0))


def facts_for_match(
    session: Session, request_ids: Sequence[int] | None
) -> tuple[list[RequestFacts], list[VolunteerCandidate]]:
    """The open requests among ``request_ids`` (every open request when None) and the volunteers who could
    take them: loaded for the London weeks the requests fall in, and narrowed to those within their travel
    limit of some requested ward unless a request is remote.

    Weekly hours are a per-week limit, so a run normally matches one week's requests; requests spanning
    several weeks load the volunteers' exceptions and blocked days for all of those weeks.
    """
    requests = load_requests(session, request_ids)
    if not requests:
        return [], []
    week_start = london_week(min(r.start for r in requests))[0]
    week_end = london_week(max(r.end for r in requests) - dt.timedelta(microseconds=1))[1]
    remote = any(r.remote for r in requests)
    volunteers = load_volunteers(
        session,
        week_start=week_start,
        week_end=week_end,
        ward_ids=None if remote else {r.ward_id for r in requests if r.ward_id is not None},
    )
    return requests, volunteers
