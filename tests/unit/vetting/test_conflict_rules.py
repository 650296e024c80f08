"""Conflict reviews as pure rules: who needs one, whether a recorded review still covers them, and its
outcome as a hard rule of eligibility and of the funnel, in words a sergeant may read."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from matching.domain import Conflict, RequestFacts, VolunteerCandidate, WeeklySlot, conflicted
from matching.funnel import CLEARANCE_CODES, SKILL_CODES, STATUS_CODES, funnel, funnels
from vetting.catalogue import TASK_POLICIES_BY_CODE
from vetting.conflict_rules import (
    RESERVIST,
    ConflictStanding,
    ConflictTerm,
    Finding,
    Outcome,
    RecordedReview,
    covers,
    join_lines,
    outcome_of,
    same_employer,
    split_entries,
    split_lines,
    standing,
)
from vetting.facts import person_facts
from vetting.lifecycle import ClearanceState
from vetting.rules import (
    ClearanceFact,
    DeploymentWindow,
    PersonFacts,
    PersonKind,
    ReasonCode,
    SkillFact,
    check_eligibility,
    explain_clearances,
)
from volunteers.models import VolunteerKind, WorkAdjustment
from volunteers.skills import SkillLevel

CYBER = "private_security_cyber"
HEALTH = "nhs_ambulance"
VISIT = TASK_POLICIES_BY_CODE["cyber_victim_visit"]
BUSINESS = TASK_POLICIES_BY_CODE["business_cyber_visit"]
UTC = dt.UTC
START = dt.datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
WINDOW = DeploymentWindow(START, START + dt.timedelta(hours=2))
# What a sergeant must never read about a conflict review.
DETAIL = ("conflict", "review", "line of work", "employer", "interest")


def _review(lines=(CYBER,), employer="Redline Security Ltd", conflicts=(), unsuitable=()) -> RecordedReview:
    return RecordedReview(frozenset(lines), employer, tuple(conflicts), frozenset(unsuitable))


def _cleared(**facts) -> PersonFacts:
    """A PSV cleared (NPPV2F) and skilled for cyber-crime victim visits and business cyber-attack visits."""
    return PersonFacts(
        kind=PersonKind.PSV,
        warranted=False,
        clearances=(ClearanceFact("NPPV2F", ClearanceState.GRANTED, dt.date(2024, 1, 1), dt.date(2028, 1, 1)),),
        skills=(
            SkillFact("cyber_victim_support", SkillLevel.EXPERT),
            SkillFact("incident_response", SkillLevel.EXPERT),
        ),
        **facts,
    )


# ---- Who needs one, and whether the review on record covers them -----------------------------------------


def test_nothing_applies_without_a_line_of_work_needing_a_review_or_a_review():
    assert standing(frozenset(), "Tesco", None) is None


def test_a_line_of_work_needing_a_review_with_none_recorded_is_pending():
    assert standing(frozenset({CYBER}), "Redline", None) == ConflictStanding(frozenset({CYBER}), pending=True)


def test_a_review_covers_the_lines_and_employer_it_was_recorded_for():
    review = _review()
    assert not standing(frozenset({CYBER}), "Redline Security Ltd", review).pending
    # The same employer as people retype it: case, spaces and a full stop do not make a new one.
    assert not standing(frozenset({CYBER}), "  redline  security ltd. ", review).pending
    assert same_employer("Redline Security Ltd", "REDLINE SECURITY LTD")


def test_a_new_employer_or_a_new_line_of_work_needs_a_new_review():
    review = _review()
    assert standing(frozenset({CYBER}), "Blue Team Consulting", review).pending
    assert standing(frozenset({CYBER, RESERVIST}), "Redline Security Ltd", review).pending
    assert standing(frozenset({HEALTH}), "Redline Security Ltd", review).pending


def test_a_reservists_civilian_employer_does_not_matter_to_their_reservist_line():
    review = _review(lines=(RESERVIST,), employer="Tesco")
    assert covers(review, frozenset({RESERVIST}), "Sainsbury's")
    assert not standing(frozenset({RESERVIST}), "Sainsbury's", review).pending


def test_fewer_lines_of_work_than_were_reviewed_stay_covered():
    review = _review(lines=(CYBER, RESERVIST))
    assert covers(review, frozenset({RESERVIST}), "Anyone")
    assert covers(review, frozenset({CYBER}), "Redline Security Ltd")


def test_the_latest_findings_stay_in_force_after_leaving_the_line_of_work():
    review = _review(conflicts=(ConflictTerm("Redline Security Ltd"),), unsuitable=("cyber_victim_visit",))
    after = standing(frozenset(), "A bakery", review)
    assert after is not None and not after.pending and after.reviewed
    assert after.unsuitable_for == {"cyber_victim_visit"}
    assert after.conflicts == (ConflictTerm("Redline Security Ltd"),)


def test_outcomes_and_the_stored_forms_of_lines_and_names():
    assert outcome_of([]) is Outcome.NO_CONFLICT
    assert outcome_of([Finding.CONFLICTS]) is Outcome.CONFLICTS
    assert outcome_of([Finding.NOT_SUITABLE]) is Outcome.NOT_SUITABLE
    assert outcome_of([Finding.NOT_SUITABLE, Finding.CONFLICTS]) is Outcome.CONFLICTS_AND_NOT_SUITABLE
    assert join_lines([RESERVIST, CYBER, CYBER]) == "military_reservist,private_security_cyber"
    assert split_lines("military_reservist,private_security_cyber") == {RESERVIST, CYBER}
    assert split_lines("") == frozenset()
    assert split_entries("  Acme  Ltd\n\nacme ltd.\r\nBeta plc \n") == ["Acme Ltd", "Beta plc"]


def test_a_conflict_names_an_organisation_or_a_ward():
    assert ConflictTerm("Acme").ward_id is None and ConflictTerm(ward_id=3).organisation == ""
    for wrong in (dict(), dict(organisation="  "), dict(organisation="Acme", ward_id=3)):
        with pytest.raises(ValueError):
            ConflictTerm(**wrong)


# ---- The hard rule --------------------------------------------------------------------------------------


def test_pending_keeps_them_from_every_task_in_words_without_the_detail():
    person = _cleared(conflict_review_pending=True)
    for task in (VISIT, BUSINESS):
        result = check_eligibility(person, task, WINDOW)
        assert [r.code for r in result.reasons] == [ReasonCode.CONFLICT_REVIEW_PENDING]
        (reason,) = result.reasons
        assert reason.text == "Needs a check before deployment."
        assert not any(word in reason.text.lower() for word in DETAIL)
        assert "conflict-of-interest review" in reason.detail
    assert check_eligibility(_cleared(), VISIT, WINDOW).eligible


def test_not_suitable_keeps_them_from_those_task_types_only():
    person = _cleared(unsuitable_for=frozenset({"cyber_victim_visit"}))
    visit = check_eligibility(person, VISIT, WINDOW)
    assert [r.code for r in visit.reasons] == [ReasonCode.NOT_SUITABLE_FOR_TASK]
    assert visit.reasons[0].text == "Not available for this kind of task."
    assert not any(word in visit.reasons[0].text.lower() for word in DETAIL)
    assert check_eligibility(person, BUSINESS, WINDOW).eligible


def test_the_volunteer_reads_that_a_check_is_needed_on_their_own_page():
    text = explain_clearances(_cleared(conflict_review_pending=True), [VISIT], dt.date(2026, 12, 1))
    assert "a check for conflicts of interest is needed before you are offered any task" in text
    assert "conflicts of interest" not in explain_clearances(_cleared(), [VISIT], dt.date(2026, 12, 1))


def test_every_reason_falls_at_one_of_the_funnels_vetting_stages():
    # A reason in none of them would let the person through the funnel as if it were not there.
    stages = (SKILL_CODES, CLEARANCE_CODES, STATUS_CODES)
    for code in ReasonCode:
        assert sum(code in stage for stage in stages) == 1, code


def _candidate(vid: int, facts: PersonFacts, conflicts=()) -> VolunteerCandidate:
    return VolunteerCandidate(
        id=vid,
        person=facts,
        home=(51.529, -0.1255),
        travel_limit_km=10,
        weekly_cap_minutes=8 * 60,
        weekly_slots=(WeeklySlot(3, 9 * 60, 18 * 60),),
        conflicts=tuple(conflicts),
    )


def _request(task=VISIT, organisation="", ward_id=7) -> RequestFacts:
    return RequestFacts(
        id=1,
        task=task,
        start=START,
        end=START + dt.timedelta(hours=2),
        ward_id=ward_id,
        location=(51.529, -0.1255),
        organisation=organisation,
    )


def test_the_funnel_drops_the_unreviewed_as_not_cleared_and_the_unsuitable_as_unable():
    people = [
        _candidate(1, _cleared()),
        _candidate(2, _cleared(conflict_review_pending=True)),
        _candidate(3, _cleared(unsuitable_for=frozenset({"cyber_victim_visit"}))),
        _candidate(4, _cleared(), conflicts=(Conflict("Redline Security"),)),
        _candidate(5, _cleared(), conflicts=(Conflict("", ward_id=7),)),
    ]
    request = _request(organisation="Redline Security Ltd (client site)")
    result = funnel(request, people)
    assert {c.volunteer_id for c in result.candidates} == {1}
    counts = {stage.key: stage.remaining for stage in result.stages}
    assert counts == {
        "all": 5,
        "skills": 5,
        "cleared": 4,
        "status": 3,
        "free": 3,
        "travel": 3,
        "hours": 3,
        "conflicts": 1,
    }
    assert funnels([request], people) == {1: result}  # the batch path says the same
    elsewhere = _request(task=BUSINESS, ward_id=8)
    assert {c.volunteer_id for c in funnel(elsewhere, people).candidates} == {1, 3, 4, 5}


def test_one_conflict_rule_for_declared_and_reviewed_conflicts():
    assert conflicted([Conflict("Acme")], "ACME Ltd", 1)
    assert conflicted([Conflict("Acme Holdings Group")], "Acme Holdings", 1)
    assert conflicted([Conflict("", ward_id=4)], "", 4)
    assert not conflicted([Conflict("Acme")], "", 1)
    assert not conflicted([Conflict("", ward_id=4)], "Acme", 5)


def test_person_facts_carries_the_standing():
    volunteer = SimpleNamespace(
        kind=VolunteerKind.PSV, warrant_number=None, patrol_status=None, adjustment=WorkAdjustment.NONE, skills=[]
    )
    assert not person_facts(volunteer, []).conflict_review_pending
    pending = person_facts(volunteer, [], conflict_review=ConflictStanding(frozenset({CYBER}), pending=True))
    assert pending.conflict_review_pending and pending.unsuitable_for == frozenset()
    found = person_facts(
        volunteer,
        [],
        conflict_review=ConflictStanding(frozenset(), pending=False, unsuitable_for=frozenset({"x"}), reviewed=True),
    )
    assert not found.conflict_review_pending and found.unsuitable_for == {"x"}


def test_the_suggestion_says_a_check_is_needed_without_saying_what():
    waiting = [
        _candidate(1, _cleared(conflict_review_pending=True)),
        _candidate(2, _cleared(conflict_review_pending=True)),
    ]
    request = _request()
    result = funnel(request, waiting)
    assert (
        result.suggestion
        == "2 with the skills need a check before deployment: the coordinator can say when it will be done"
    )
    assert funnels([request], waiting) == {1: result}

    expired = ClearanceFact("NPPV2F", ClearanceState.GRANTED, dt.date(2024, 1, 1), dt.date(2025, 1, 1))
    lapsed = PersonFacts(kind=PersonKind.PSV, warranted=False, clearances=(expired,), skills=_cleared().skills)
    mixed = [waiting[0], _candidate(3, lapsed)]
    result = funnel(request, mixed)
    assert result.suggestion == (
        "2 with the skills are not cleared for this task on that date (1 of them needs a check before deployment): "
        "the vetting team can say when clearances are due"
    )
    assert funnels([request], mixed) == {1: result}
    assert not any(word in result.suggestion.lower() for word in DETAIL)
