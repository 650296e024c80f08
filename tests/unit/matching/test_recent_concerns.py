"""Recent concerns (issue #20): a volunteer who missed a deployment without notice, or whose sergeant would not
ask for them again, ranks lower for a while: a score term, never a rule, and never named to the sergeant."""

from __future__ import annotations

import datetime as dt

from matching.domain import RequestFacts, VolunteerCandidate
from matching.funnel import Candidate, FunnelResult, explain
from matching.planning import CONCERN_PENALTY, PANEL_BONUS, build_instance, pair_score, proposals
from matching.solver.plan import solve
from vetting.catalogue import TASK_POLICIES_BY_CODE
from vetting.rules import PersonFacts, PersonKind

START = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
TASK = TASK_POLICIES_BY_CODE["cyber_victim_visit"]


def _request(rid: int = 1, **changes) -> RequestFacts:
    return RequestFacts(
        id=rid,
        task=TASK,
        start=START,
        end=START + dt.timedelta(hours=2),
        ward_id=7,
        location=(51.5, -0.1),
        ward_name="Bankside",
        **changes,
    )


def _candidate(volunteer_id: int, *, served_ward: bool = False) -> Candidate:
    return Candidate(
        volunteer_id=volunteer_id,
        km=2.0,
        load_minutes=150,
        skill_level=1,
        served_ward=served_ward,
        preferred_task=False,
        requested=False,
    )


def _plan(candidates, concerns, panel_wards=None):
    request = _request()
    funnels = {request.id: FunnelResult(stages=(), suggestion=None, candidates=tuple(candidates))}
    ids = [c.volunteer_id for c in candidates]
    instance = build_instance(
        [request],
        funnels,
        capacity_minutes=dict.fromkeys(ids, 600),
        booked_minutes={},
        travel_limits=dict.fromkeys(ids, 10.0),
        panel_wards=panel_wards,
        concerns=concerns,
    )
    return instance, proposals(solve(instance, time_limit=5))


def test_a_volunteer_with_a_recent_concern_loses_to_an_otherwise_equal_one():
    # The concerned volunteer has the lower id, which is what breaks a true tie: so only the score decides.
    for concerned, other in ((3, 4), (4, 3)):
        _, chosen = _plan([_candidate(3), _candidate(4)], {concerned: 1})
        assert chosen == [(1, other)]


def test_without_concerns_the_tie_goes_as_before():
    instance, _ = _plan([_candidate(3), _candidate(4)], {})
    assert len({p.score_milli for p in instance.pairs}) == 1


def test_a_volunteer_with_concerns_is_still_offered_when_nobody_else_can_go():
    _, chosen = _plan([_candidate(3)], {3: 5})
    assert chosen == [(1, 3)]


def test_one_concern_outweighs_having_served_the_ward_before_only_to_a_tie_and_two_beyond_it():
    base = dict(booked_minutes=0, limit_km=10.0, previous=False)
    plain = pair_score(_candidate(3), **base)
    served = pair_score(_candidate(3, served_ward=True), **base)
    assert served - pair_score(_candidate(3, served_ward=True), **base, concerns=1) == CONCERN_PENALTY
    assert pair_score(_candidate(3, served_ward=True), **base, concerns=2) < plain < served
    # At most two count: the penalty never reaches the panel bonus, so local first still holds.
    assert pair_score(_candidate(3), **base, concerns=9) == pair_score(_candidate(3), **base, concerns=2)
    assert 2 * CONCERN_PENALTY < PANEL_BONUS


def test_a_panel_member_with_concerns_still_comes_before_someone_from_elsewhere():
    _, chosen = _plan([_candidate(3), _candidate(4)], {3: 4}, panel_wards={3: frozenset({7})})
    assert chosen == [(1, 3)]


def test_the_explanation_the_sergeant_reads_is_the_same_with_or_without_concerns():
    person = PersonFacts(kind=PersonKind.PSV, warranted=False)
    volunteer = VolunteerCandidate(id=3, person=person, home=(51.5, -0.1), travel_limit_km=10, weekly_cap_minutes=600)
    worried = VolunteerCandidate(
        id=3, person=person, home=(51.5, -0.1), travel_limit_km=10, weekly_cap_minutes=600, recent_concerns=2
    )
    request = _request()
    candidate = _candidate(3, served_ward=True)
    assert explain(candidate, request, {}, worried) == explain(candidate, request, {}, volunteer)
