"""Supervision and remote-only work in the pure rules and the funnel (issue #23): a remote-only volunteer takes
only requests marked remote; a supervised request admits those cleared only with a supervising officer."""

from __future__ import annotations

import datetime as dt

from matching.domain import RequestFacts, VolunteerCandidate, WeeklySlot
from matching.funnel import funnel, funnels
from vetting.catalogue import TASK_POLICIES_BY_CODE
from vetting.lifecycle import ClearanceState
from vetting.rules import (
    Adjustment,
    ClearanceFact,
    DeploymentWindow,
    PersonFacts,
    PersonKind,
    ReasonCode,
    SkillFact,
    check_eligibility,
)
from volunteers.skills import SkillLevel

UTC = dt.UTC
WARD = (51.5290, -0.1255)
TRIAGE = TASK_POLICIES_BY_CODE["digital_evidence_triage"]
YOUTH = TASK_POLICIES_BY_CODE["youth_schools_liaison"]
WINDOW = DeploymentWindow(dt.datetime(2026, 12, 3, 14, 0, tzinfo=UTC), dt.datetime(2026, 12, 3, 16, 0, tzinfo=UTC))


def _clearance(code: str) -> ClearanceFact:
    return ClearanceFact(code, ClearanceState.GRANTED, dt.date(2024, 1, 1), dt.date(2027, 6, 1))


def _person(clearances=("NPPV3",), skills=("digital_evidence_triage",), adjustments=()) -> PersonFacts:
    return PersonFacts(
        kind=PersonKind.PSV,
        warranted=False,
        adjustments=frozenset(adjustments),
        clearances=tuple(_clearance(code) for code in clearances),
        skills=tuple(SkillFact(code, SkillLevel.EXPERT) for code in skills),
    )


def _volunteer(vid: int, facts: PersonFacts) -> VolunteerCandidate:
    return VolunteerCandidate(
        id=vid,
        person=facts,
        home=(WARD[0] + 0.009, WARD[1]),
        travel_limit_km=5,
        weekly_cap_minutes=8 * 60,
        weekly_slots=(WeeklySlot(3, 9 * 60, 18 * 60),),
    )


def _request(rid: int = 1, task=TRIAGE, remote: bool = False, supervised: bool = False) -> RequestFacts:
    return RequestFacts(
        id=rid,
        task=task,
        start=WINDOW.start,
        end=WINDOW.end,
        ward_id=7,
        location=None if remote else WARD,
        remote=remote,
        supervised=supervised,
    )


REMOTE_ONLY = _person(adjustments=(Adjustment.REMOTE_ONLY,))
YOUTH_SKILLS = ("youth_worker", "safeguarding")
SUPERVISED_ONLY = _person(clearances=("NPPV2A",), skills=YOUTH_SKILLS)  # no children's barred-list check
BARRED_LIST = _person(clearances=("NPPV2A", "DBS_ENH_CHILD"), skills=YOUTH_SKILLS)


def test_the_rule_asks_whether_the_request_is_remote_not_whether_the_task_could_be():
    on_site = check_eligibility(REMOTE_ONLY, TRIAGE, WINDOW, remote=False)
    assert on_site.codes == {ReasonCode.REMOTE_ONLY}
    assert "in person" in on_site.reasons[0].text
    assert check_eligibility(REMOTE_ONLY, TRIAGE, WINDOW, remote=True).eligible
    # Without a request (what the volunteer's clearances let them do), the task type's own answer stands.
    assert check_eligibility(REMOTE_ONLY, TRIAGE, WINDOW).eligible


def test_a_remote_only_volunteer_is_never_a_candidate_for_on_site_work():
    people = [_volunteer(1, REMOTE_ONLY), _volunteer(2, _person())]
    on_site, remote = _request(1, remote=False), _request(2, remote=True)
    assert [c.volunteer_id for c in funnel(on_site, people).candidates] == [2]
    assert [c.volunteer_id for c in funnel(remote, people).candidates] == [1, 2]
    # The batch funnels agree with the plain one, request by request.
    batch = funnels([on_site, remote], people)
    assert [c.volunteer_id for c in batch[1].candidates] == [2]
    assert [c.volunteer_id for c in batch[2].candidates] == [1, 2]


def test_a_supervised_request_admits_the_supervised_only_clearance_and_an_unsupervised_one_does_not():
    people = [_volunteer(1, SUPERVISED_ONLY), _volunteer(2, BARRED_LIST)]
    unsupervised, supervised = _request(1, YOUTH), _request(2, YOUTH, supervised=True)
    for results in (
        {r.id: funnel(r, people) for r in (unsupervised, supervised)},
        funnels([unsupervised, supervised], people),
    ):
        assert [c.volunteer_id for c in results[1].candidates] == [2]
        assert [c.volunteer_id for c in results[2].candidates] == [1, 2]
