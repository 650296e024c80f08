"""The funnel, the suggestion for an unfilled request, and the explanation of a choice."""

from __future__ import annotations

import datetime as dt

from matching.domain import Conflict, RequestFacts, VolunteerCandidate, WeeklySlot, distance_km, travel_minutes
from matching.funnel import explain, funnel, funnel_sentence, is_free
from vetting.catalogue import TASK_POLICIES_BY_CODE
from vetting.lifecycle import ClearanceState
from vetting.rules import ClearanceFact, DateRange, PersonFacts, PersonKind, SkillFact
from volunteers.skills import SkillLevel

UTC = dt.UTC
DAY = dt.date(2026, 12, 3)  # a Thursday, GMT
WARD = (51.5290, -0.1255)  # Camden


def person(skills=("cyber_victim_support",), clearance="NPPV2F", expires=dt.date(2027, 6, 1)):
    return PersonFacts(
        kind=PersonKind.PSV,
        warranted=False,
        clearances=(ClearanceFact(clearance, ClearanceState.GRANTED, dt.date(2024, 1, 1), expires),)
        if clearance
        else (),
        skills=tuple(SkillFact(code, SkillLevel.EXPERT) for code in skills),
    )


def volunteer(vid, km_north=1.0, facts=None, slots=((3, 9 * 60, 18 * 60),), limit=5, **kwargs):
    # ~0.009 degrees of latitude per km
    home = (WARD[0] + km_north * 0.009, WARD[1])
    return VolunteerCandidate(
        id=vid,
        person=facts or person(),
        home=home,
        travel_limit_km=limit,
        weekly_cap_minutes=kwargs.pop("cap", 8 * 60),
        weekly_slots=tuple(WeeklySlot(*s) for s in slots),
        **kwargs,
    )


def request(**overrides):
    values = dict(
        id=1,
        task=TASK_POLICIES_BY_CODE["cyber_victim_visit"],
        start=dt.datetime(2026, 12, 3, 14, 0, tzinfo=UTC),
        end=dt.datetime(2026, 12, 3, 16, 0, tzinfo=UTC),
        ward_id=7,
        location=WARD,
    )
    values.update(overrides)
    return RequestFacts(**values)


def test_the_funnel_counts_who_drops_out_at_each_rule_and_suggests_what_would_fill_it():
    volunteers = [
        volunteer(1, facts=person(skills=())),  # no skill
        volunteer(2, facts=person(clearance=None)),  # not cleared
        volunteer(3, facts=person(expires=dt.date(2026, 12, 2))),  # expired the day before
        volunteer(4, slots=((3, 9 * 60, 12 * 60),)),  # not free in the afternoon
        volunteer(5, km_north=9.0, limit=5),  # too far
        volunteer(6, km_north=12.0, limit=5),  # further still
    ]
    result = funnel(request(), volunteers)
    assert [(s.key, s.remaining) for s in result.stages] == [
        ("all", 6),
        ("skills", 5),
        ("cleared", 3),
        ("status", 3),
        ("free", 2),
        ("travel", 0),
        ("hours", 0),
        ("conflicts", 0),
    ]
    assert funnel_sentence(result.stages).startswith(
        "5 have the skills → 3 cleared for this task on 3 December 2026 → 3 can do this kind of task → "
        "2 free 2pm to 4pm → 0 within their travel limit"
    )
    assert result.suggestion.startswith("The nearest eligible volunteer is 9.0 km away with a 5 km limit")
    assert result.candidates == ()


def test_candidates_carry_what_the_goals_need_and_the_explanation_reads_well():
    req = request(preferred_volunteer_id=2)
    near = volunteer(
        1, km_north=2.0, served_wards=frozenset({7}), preferred_task_types=frozenset({"cyber_victim_visit"})
    )
    asked = volunteer(2, km_north=1.0)
    result = funnel(req, [near, asked])
    assert result.suggestion is None
    by_id = {c.volunteer_id: c for c in result.candidates}
    assert by_id[1].served_ward and by_id[1].preferred_task and not by_id[1].requested
    assert by_id[2].requested and by_id[1].skill_level == 2
    assert by_id[1].load_minutes == 120 + 2 * travel_minutes(distance_km(near.home, WARD))
    names = {"cyber_victim_support": "Cyber-crime victim support"}
    assert explain(by_id[1], req, names, near) == (
        "Cyber-crime victim support, expert; 2.0 km away; has served this ward before; asked for this kind of task"
    )
    assert (
        explain(by_id[2], req, names, asked)
        == "Cyber-crime victim support, expert; 1.0 km away; the volunteer you asked for"
    )


def test_the_explanation_names_the_panel_or_the_specialist_group_first():
    names = {"cyber_victim_support": "Cyber-crime victim support"}
    member = volunteer(1, km_north=2.0, panel_wards=frozenset({7}))
    req = request(ward_name="Camden Town")
    (candidate,) = funnel(req, [member]).candidates
    assert explain(candidate, req, names, member) == (
        "On your Camden Town panel; cyber-crime victim support, expert; 2.0 km away"
    )
    other = volunteer(2, km_north=2.0, panel_wards=frozenset({8}))
    (candidate,) = funnel(req, [other]).candidates
    assert explain(candidate, req, names, other).startswith("Cyber-crime victim support, expert")
    grouped = request(ward_name="Camden Town", group_members=frozenset({2}), group_name="Cyber")
    (candidate,) = funnel(grouped, [other]).candidates
    assert explain(candidate, grouped, names, other).startswith("In the Cyber specialist group; cyber-crime")


def test_hours_cap_conflicts_and_bookings_are_hard_rules():
    req = request(organisation="Thames Cyber Ltd")
    busy = volunteer(
        1, busy=((dt.datetime(2026, 12, 3, 15, 0, tzinfo=UTC), dt.datetime(2026, 12, 3, 17, 0, tzinfo=UTC)),)
    )
    capped = volunteer(2, cap=150, booked_minutes_in_week=60)
    conflicted = volunteer(3, conflicts=(Conflict("thames cyber"),))
    ward_conflict = volunteer(4, conflicts=(Conflict("Home estate", ward_id=7),))
    fine = volunteer(5)
    result = funnel(req, [busy, capped, conflicted, ward_conflict, fine])
    assert [c.volunteer_id for c in result.candidates] == [5]
    assert dict((s.key, s.remaining) for s in result.stages)["free"] == 4


def test_remote_requests_ignore_distance():
    req = request(task=TASK_POLICIES_BY_CODE["cyber_victim_visit"], remote=True, location=None)
    far = volunteer(1, km_north=40, limit=2)
    result = funnel(req, [far])
    assert [s.key for s in result.stages] == ["all", "skills", "cleared", "status", "free", "hours", "conflicts"]
    assert result.candidates[0].km == 0 and result.candidates[0].load_minutes == 120


def test_is_free_uses_london_time_blocked_days_and_exceptions():
    summer = volunteer(1, slots=((2, 14 * 60, 17 * 60),))  # Wednesdays 2pm–5pm London
    start = dt.datetime(2026, 7, 1, 13, 0, tzinfo=UTC)  # 2pm BST
    assert is_free(summer, start, start + dt.timedelta(hours=2))
    assert not is_free(summer, start - dt.timedelta(hours=1), start + dt.timedelta(hours=1))  # 1pm BST
    blocked = volunteer(
        2, slots=((2, 14 * 60, 17 * 60),), blocked=(DateRange(dt.date(2026, 7, 1), dt.date(2026, 7, 14)),)
    )
    assert not is_free(blocked, start, start + dt.timedelta(hours=2))


def test_planning_fills_urgent_first_keeps_teams_whole_and_never_double_books():
    from matching.planning import build_instance, proposals
    from matching.solver.plan import solve

    visit = TASK_POLICIES_BY_CODE["cyber_victim_visit"]
    a = request(id=1, priority=1)  # routine, 14:00–16:00
    b = request(
        id=2,
        priority=9,
        start=dt.datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
        end=dt.datetime(2026, 12, 3, 17, 0, tzinfo=UTC),
    )  # urgent, overlaps a
    team = request(
        id=3,
        task=visit,
        people_needed=2,
        all_or_nothing=True,
        start=dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        end=dt.datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
    )
    only = volunteer(1, slots=((3, 8 * 60, 18 * 60),))
    funnels = {r.id: funnel(r, [only]) for r in (a, b, team)}
    instance = build_instance(
        [a, b, team], funnels, capacity_minutes={1: 8 * 60}, booked_minutes={}, travel_limits={1: 5}
    )
    assert ("r1", "r2") in instance.clashes
    plan = solve(instance, time_limit=5)
    assert proposals(plan) == [(2, 1)]  # the urgent one; the team of two cannot be half-filled
