"""The batch funnel gives exactly what the one-request funnel gives, request by request; and a volunteer
excluded from a request (declined it, let it expire, already on it) is not in its pool at all."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import funnel as funnel_module
from matching.domain import (
    Conflict,
    DateException,
    RequestFacts,
    VolunteerCandidate,
    WeeklySlot,
    angles,
    distance_km,
    distances_km,
)
from matching.funnel import LONDON, funnel, funnels
from matching.solver import forked
from tests.unit.matching.test_funnel import UTC, WARD, person, request, volunteer
from vetting.catalogue import TASK_POLICIES, PatrolStatus, SkillRequirement
from vetting.lifecycle import ClearanceState
from vetting.rules import Adjustment, ClearanceFact, DateRange, PersonFacts, PersonKind, SkillFact
from volunteers.skills import SkillLevel

# The requests fall on the day before, the day itself and the day after one of these: an ordinary
# Thursday, and the Sundays the clocks go back and forward (London wall clock against UTC).
DAYS = (dt.date(2026, 12, 3), dt.date(2026, 10, 25), dt.date(2026, 3, 29))
OTHER_WARD = (51.5465, -0.1058)  # Islington
WARDS = (WARD, OTHER_WARD)
CLEARANCES = ("NPPV1", "NPPV2A", "NPPV2F", "NPPV3", "RV", "MV", "CTC", "SC", "DBS_ENH_CHILD")
# The skills the task types ask for, and a few that requests add.
SKILL_CODES = sorted(
    {code for task in TASK_POLICIES for req in task.required_skills for code in req.alternatives}
    | {"safeguarding", "lang_pl", "first_aid"}
)
# A few homes shared by several volunteers, so that equal distances (and ties for the nearest) occur.
HOMES = [
    (WARD[0] + 0.009 * north, WARD[1] + 0.014 * east) for north, east in ((0, 0), (1, 0), (3, 2), (-6, 1), (9, -9))
]


class _RandomWeek:
    """Random facts around one day, with the awkward cases common: dates that change a verdict mid-run,
    bookings a journey's length from a request, shared homes, limits met exactly, repeated ids."""

    def __init__(self, seed: int, days: tuple[dt.date, ...] = DAYS, hours: tuple[int, ...] = (1, 9, 13, 18)) -> None:
        self.rng = random.Random(seed)
        self.day = self.rng.choice(days)
        self.hours = hours
        # A few task types a week, so that several requests share one and the batch's reuse is tested.
        self.tasks = self.rng.sample(TASK_POLICIES, self.rng.randint(1, 3))

    def date(self) -> dt.date:
        """Mostly near the requests' days, so clearances, evidence and mobilisations start or end among them."""
        rng = self.rng
        roll = rng.random()
        return self.day + dt.timedelta(
            days=rng.randint(-1, 1) if roll < 0.5 else rng.randint(-3, 3) if roll < 0.7 else rng.randint(-400, 400)
        )

    def range(self) -> DateRange:
        first = self.date()
        return DateRange(first, first + dt.timedelta(days=self.rng.randint(0, 4)))

    def moment(self) -> dt.datetime:
        """Often at a few busy hours, so that bookings and requests meet (or miss by a journey's length);
        stored times are UTC, but London times (and wall-clock arithmetic with them) must work too."""
        rng = self.rng
        day = self.day + dt.timedelta(days=rng.randint(-1, 1))
        hour = rng.choice(self.hours) if rng.random() < 0.6 else rng.randint(0, 23)
        at = dt.time(hour, rng.choice((0, 30)))
        roll = rng.random()
        if roll < 0.2:
            return dt.datetime.combine(day, at, tzinfo=LONDON)
        moment = dt.datetime.combine(day, at, tzinfo=UTC)
        return moment.astimezone(LONDON) if roll < 0.4 else moment

    def person(self) -> PersonFacts:
        rng = self.rng
        special = rng.random() < 0.4
        warranted = special and rng.random() < 0.8
        clearances = []
        if rng.random() < 0.6:  # vetted long ago, at a level most tasks accept
            clearances.append(
                ClearanceFact(
                    rng.choice(("NPPV3", "RV", "MV")),
                    ClearanceState.GRANTED,
                    self.day - dt.timedelta(days=300),
                    self.day + dt.timedelta(days=300),
                )
            )
        for _ in range(rng.randint(0, 3)):
            valid_from = self.date() if rng.random() < 0.3 else self.day - dt.timedelta(days=400)
            expires_on = max(valid_from, self.date() if rng.random() < 0.4 else self.day + dt.timedelta(days=400))
            state = ClearanceState.GRANTED if rng.random() < 0.6 else rng.choice(list(ClearanceState))
            restricted = frozenset(rng.sample([t.code for t in TASK_POLICIES], rng.choice((0, 0, 0, 0, 1))))
            clearances.append(ClearanceFact(rng.choice(CLEARANCES), state, valid_from, expires_on, restricted))
        codes = set(rng.sample(SKILL_CODES, rng.randint(0, 3)))
        for task in rng.sample(TASK_POLICIES, rng.choice((0, 1, 2, 2))):  # trained for a task type or two
            codes |= {rng.choice(req.alternatives) for req in task.required_skills}
        skills = []
        for code in sorted(codes):
            required = rng.random() < 0.3
            level = rng.choice((SkillLevel.AWARE, SkillLevel.PRACTITIONER, SkillLevel.EXPERT, SkillLevel.EXPERT))
            skills.append(
                SkillFact(
                    code,
                    level,
                    evidence_required=required,
                    evidence_verified=required and rng.random() < 0.7,
                    evidence_expires_on=self.date() if rng.random() < 0.5 else None,
                )
            )
        return PersonFacts(
            kind=PersonKind.SPECIAL if special else PersonKind.PSV,
            warranted=warranted,
            patrol_status=rng.choice(list(PatrolStatus)) if warranted and rng.random() < 0.8 else None,
            adjustments=frozenset(rng.sample(list(Adjustment), rng.choice((0, 0, 0, 1)))),
            clearances=tuple(clearances),
            skills=tuple(skills),
            mobilised=(self.range(),) if rng.random() < 0.1 else (),
        )

    def volunteer(self, vid: int) -> VolunteerCandidate:
        rng = self.rng
        home = None if rng.random() < 0.08 else rng.choice(HOMES)
        limit = rng.choice((0.0, 1.0, 2.0, 5.0, 10.0, 30.0))
        if home is not None and rng.random() < 0.15:
            limit = distance_km(home, rng.choice(WARDS))  # exactly at the limit for one of the wards
        weekdays = [(self.day + dt.timedelta(days=offset)).weekday() for offset in (-1, 0, 1)]
        slots = tuple(
            WeeklySlot(rng.choice(weekdays), start, min(24 * 60, start + rng.choice((60, 180, 600, 1440))))
            for start in (rng.randrange(0, 20 * 60, 30) for _ in range(rng.randint(0, 4)))
        )
        if rng.random() < 0.4:  # free all day on the requests' days, so that plenty reach the later rules
            slots += tuple(WeeklySlot(weekday, 0, 24 * 60) for weekday in weekdays)
        exceptions = []
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            on = self.day + dt.timedelta(days=rng.randint(-1, 1))
            if rng.random() < 0.5:
                exceptions.append(DateException(on, False))
            else:
                start = rng.randrange(0, 20 * 60, 30)
                exceptions.append(DateException(on, True, start, start + rng.choice((120, 360, 600))))
        busy = []
        for _ in range(rng.choice((0, 1, 2))):
            start = self.moment() + dt.timedelta(minutes=rng.choice((-150, -120, -90, -60, -45, 0, 60, 120, 130)))
            busy.append((start, start + dt.timedelta(minutes=rng.choice((30, 60, 120)))))
        conflicts = [
            Conflict(rng.choice(("Thames Cyber", "", "St Mary's")), rng.choice((None, 7, 8)))
            for _ in range(rng.choice((0, 0, 0, 1)))
        ]
        return VolunteerCandidate(
            id=vid,
            person=self.person(),
            home=home,
            travel_limit_km=limit,
            weekly_cap_minutes=rng.choice((60, 240, 600, 2400)),
            weekly_slots=slots,
            exceptions=tuple(exceptions),
            blocked=(self.range(),) if rng.random() < 0.1 else (),
            busy=tuple(busy),
            booked_minutes_in_week=rng.choice((0, 0, 60, 300)),
            conflicts=tuple(conflicts),
            served_wards=frozenset(rng.sample((7, 8), rng.randint(0, 1))),
            preferred_task_types=frozenset(rng.sample([t.code for t in TASK_POLICIES], rng.randint(0, 2))),
        )

    def request(self, rid: int, volunteer_ids: list[int]) -> RequestFacts:
        rng = self.rng
        start = self.moment()
        remote = rng.random() < 0.15
        extra = ()
        if rng.random() < 0.2:
            extra = (
                SkillRequirement((rng.choice(("safeguarding", "lang_pl", "first_aid")),), rng.choice(list(SkillLevel))),
            )
        excluded = rng.sample(volunteer_ids, min(len(volunteer_ids), rng.choice((0, 0, 1, 3))))
        return RequestFacts(
            id=rid,
            task=rng.choice(self.tasks),
            start=start,
            end=start + dt.timedelta(minutes=rng.choice((30, 60, 120, 150, 300))),
            ward_id=rng.choice((7, 8)),
            location=None if remote or rng.random() < 0.05 else rng.choice(WARDS),
            remote=remote,
            people_needed=rng.choice((1, 1, 2, 3, 6)),
            warranted_only=rng.random() < 0.15,
            extra_skills=extra,
            organisation=rng.choice(("", "", "Thames Cyber Ltd", "St Mary's School")),
            preferred_volunteer_id=rng.choice((None, *volunteer_ids[:3])),
            supervised=rng.random() < 0.5,
            excluded_volunteers=frozenset(excluded),
        )


def random_week(seed: int, **around: tuple) -> tuple[list[RequestFacts], list[VolunteerCandidate]]:
    """A small random population (sometimes none) and a few requests over three days."""
    draw = _RandomWeek(seed, **around)
    rng = draw.rng
    ids = [rng.randint(1, 40) if rng.random() < 0.1 else 100 + i for i in range(rng.choice((0, 1, *range(10, 50))))]
    volunteers = [draw.volunteer(vid) for vid in ids]
    request_ids = [rng.randint(1, 3) if rng.random() < 0.1 else 500 + j for j in range(rng.randint(1, 10))]
    requests = [draw.request(rid, ids or [1]) for rid in request_ids]
    return requests, volunteers


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_funnels_is_exactly_the_funnel_of_each_request(seed: int) -> None:
    requests, volunteers = random_week(seed)
    one_by_one = {r.id: funnel(r, volunteers) for r in requests}
    together = funnels(requests, volunteers)
    assert list(together) == list(one_by_one)
    for rid, expected in one_by_one.items():
        assert together[rid] == expected, rid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_bookings_across_the_clock_change_count_as_in_funnel(seed: int) -> None:
    """In the small hours the clocks change, London times added to and compared with each other work by
    the wall clock: the batch must not take a shortcut through UTC there."""
    requests, volunteers = random_week(seed, days=DAYS[1:], hours=(0, 1, 2))
    assert funnels(requests, volunteers) == {r.id: funnel(r, volunteers) for r in requests}


def test_the_random_weeks_reach_every_rule_and_suggestion() -> None:
    """The property above is only as good as its cases: check they drop people at every rule and
    give every kind of suggestion."""
    phrases = (
        "has the skills",
        "not cleared",
        "cannot do this kind",
        "not free",
        "km away",
        "weekly hours",
        "conflict of interest",
    )
    dropped_at: set[str] = set()
    suggested: set[str] = set()
    candidates = 0
    for seed in range(150):
        requests, volunteers = random_week(seed)
        for result in funnels(requests, volunteers).values():
            dropped_at |= {
                s.key
                for s, before in zip(result.stages[1:], result.stages, strict=False)
                if s.remaining < before.remaining
            }
            suggested |= {phrase for phrase in phrases if phrase in (result.suggestion or "")}
            candidates += len(result.candidates)
    assert dropped_at == {"skills", "cleared", "status", "free", "travel", "hours", "conflicts"}
    assert suggested == set(phrases)
    assert candidates > 100


def test_progress_is_reported_as_the_requests_are_done() -> None:
    requests = [request(id=i) for i in range(1, 121)]
    calls: list[tuple[int, int]] = []
    funnels(requests, [volunteer(1)], progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (120, 120)
    assert all(total == 120 for _, total in calls) and [d for d, _ in calls] == sorted({d for d, _ in calls})
    assert 20 <= len(calls) <= 60
    assert funnels([], [volunteer(1)], progress=lambda done, total: calls.append((done, total))) == {}


def test_excluded_volunteers_are_not_in_the_pool_at_all() -> None:
    volunteers = [
        volunteer(1),
        volunteer(2, km_north=2.0),  # declined this request earlier
        volunteer(3, facts=person(skills=())),  # let an offer expire, and lacks the skill anyway
        volunteer(4, km_north=3.0),
    ]
    req = request(excluded_volunteers=frozenset({2, 3, 99}))  # 99: not a current volunteer
    for result in (funnel(req, volunteers), funnels([req], volunteers)[req.id]):
        assert [(s.key, s.remaining) for s in result.stages] == [
            ("all", 2),
            ("skills", 2),
            ("cleared", 2),
            ("status", 2),
            ("free", 2),
            ("travel", 2),
            ("hours", 2),
            ("conflicts", 2),
        ]
        assert [c.volunteer_id for c in result.candidates] == [1, 4]
    # Everyone excluded: nobody is left to offer it to, and no rule is blamed.
    everyone = dataclasses.replace(req, excluded_volunteers=frozenset({1, 2, 3, 4}))
    result = funnels([everyone], volunteers)[everyone.id]
    assert result == funnel(everyone, volunteers)
    assert [s.remaining for s in result.stages] == [0] * 8
    assert result.suggestion == "Nobody passes every rule"


def test_a_volunteer_with_no_home_ward_fails_the_travel_rule_for_in_person_work() -> None:
    """No home ward: the distance is unknown (infinite), so no journey buffer, and never within reach."""
    homeless = dataclasses.replace(volunteer(1), home=None)
    booked = dataclasses.replace(
        homeless,
        id=2,
        busy=((dt.datetime(2026, 12, 3, 16, 30, tzinfo=UTC), dt.datetime(2026, 12, 3, 17, 0, tzinfo=UTC)),),
    )
    req = request()
    result = funnel(req, [homeless, booked])  # this used to raise OverflowError (the journey to nowhere)
    assert funnels([req], [homeless, booked])[req.id] == result
    assert dict((s.key, s.remaining) for s in result.stages) == {
        "all": 2,
        "skills": 2,
        "cleared": 2,
        "status": 2,
        "free": 2,
        "travel": 0,
        "hours": 0,
        "conflicts": 0,
    }
    assert result.suggestion.startswith("2 eligible volunteers have no home ward on their profile")
    remote = request(remote=True, location=None)
    assert [c.volunteer_id for c in funnels([remote], [homeless])[remote.id].candidates] == [1]


def test_a_booking_across_the_clock_change_is_compared_by_the_wall_clock_as_in_funnel() -> None:
    """London times add by the wall clock: 1:30am BST plus a 31-minute journey is 2:01am GMT, an hour
    and a half later, not half an hour. The batch must not shortcut that through UTC."""
    sunday = dt.date(2026, 10, 25)  # the clocks go back at 2am BST
    start = dt.datetime(2026, 10, 25, 1, 0, tzinfo=LONDON)  # 00:00 UTC
    end = dt.datetime(2026, 10, 25, 1, 30, tzinfo=LONDON)  # 00:30 UTC
    booked = volunteer(
        1,
        km_north=5.0,
        limit=10,
        slots=((sunday.weekday(), 0, 180),),
        busy=((dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),),
    )
    req = request(start=start, end=end)
    result = funnel(req, [booked])
    assert dict((s.key, s.remaining) for s in result.stages)["free"] == 0
    assert funnels([req], [booked])[req.id] == result


def _split_weeks() -> list[int]:
    """Seeds of random weeks whose requests fall into two halves (more than one vetting class)."""
    return [seed for seed in range(60) if all(funnel_module._halves(random_week(seed)[0]))]


@pytest.mark.parametrize("seed", _split_weeks()[:10])
def test_funnels_shared_with_a_forked_process_are_the_same(seed: int, monkeypatch) -> None:
    monkeypatch.setattr(funnel_module, "PARALLEL_REQUESTS", 1)
    requests, volunteers = random_week(seed)
    together = funnels(requests, volunteers)
    one_by_one = {r.id: funnel(r, volunteers) for r in requests}
    assert list(together) == list(one_by_one) and together == one_by_one


def test_when_the_forked_process_fails_or_cannot_start_its_requests_are_done_here(monkeypatch) -> None:
    seed = _split_weeks()[0]
    requests, volunteers = random_week(seed)
    expected = {r.id: funnel(r, volunteers) for r in requests}
    monkeypatch.setattr(funnel_module, "PARALLEL_REQUESTS", 1)

    def fails(work, send, nice):
        send.close()
        raise SystemExit(3)

    monkeypatch.setattr(forked, "_send", fails)  # the child's side only: this process does the work
    assert funnels(requests, volunteers) == expected
    monkeypatch.setattr(forked.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert funnels(requests, volunteers) == expected


@pytest.mark.parametrize("seed", range(5))
def test_one_candidate_read_from_the_columns_is_the_candidate_object(seed: int) -> None:
    requests, volunteers = random_week(seed)
    for result in funnels(requests, volunteers).values():
        objects = {c.volunteer_id: c for c in result.candidates}
        fresh = funnel_module.FunnelResult(result.stages, columns=result.columns, suggestion=result.suggestion)
        for volunteer_id, candidate in objects.items():
            assert fresh.candidate(volunteer_id) == candidate
            assert type(fresh.candidate(volunteer_id).km) is float
        with pytest.raises(KeyError):
            fresh.candidate(-1)


def test_distances_from_many_points_are_the_same_floats_as_one_at_a_time() -> None:
    rng = random.Random(3)
    points = [(rng.uniform(51.28, 51.70), rng.uniform(-0.51, 0.34)) for _ in range(300)]
    points += [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(300)] + [(51.5, -0.1), (51.5, -0.1)]
    for b in points[::25]:
        assert distances_km(angles(points), b) == [distance_km(a, b) for a in points]


# ---- Requests aimed at a specialist group (issue #23) --------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_a_specialist_group_request_admits_its_members_only_in_funnels_as_in_funnel(seed: int) -> None:
    requests, volunteers = random_week(seed)
    rng = random.Random(seed)
    ids = sorted({v.id for v in volunteers}) + [9999]  # 9999: a member who is not a current volunteer
    requests = [
        dataclasses.replace(r, group_members=frozenset(rng.sample(ids, rng.randint(0, len(ids)))), group_name="Cyber")
        if rng.random() < 0.6
        else r
        for r in requests
    ]
    together = funnels(requests, volunteers)
    last = {r.id: r for r in requests}  # a repeated id is funnelled as its last request, as in funnels
    for rid, r in last.items():
        assert together[rid] == funnel(r, volunteers), rid
        if r.group_members is not None:
            assert {c.volunteer_id for c in together[rid].candidates} <= r.group_members


def test_only_the_groups_current_members_are_counted_at_all() -> None:
    volunteers = [volunteer(1), volunteer(2, km_north=2.0), volunteer(3, km_north=3.0)]
    req = request(group_members=frozenset({2, 3}), excluded_volunteers=frozenset({3}), group_name="Cyber")
    for result in (funnel(req, volunteers), funnels([req], volunteers)[req.id]):
        assert result.stages[0].remaining == 1  # 1 is not in the group, 3 was offered it before
        assert [c.volunteer_id for c in result.candidates] == [2]
