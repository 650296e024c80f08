"""Eligibility on the dates of a deployment, at the edges, with every reason and sergeant-safe words."""

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vetting.catalogue import (
    CLEARANCE_TYPES_BY_CODE,
    TASK_POLICIES,
    TASK_POLICIES_BY_CODE,
    PatrolStatus,
    SkillLevel,
    SkillRequirement,
    TaskPolicy,
)
from vetting.lifecycle import ACTIVE_STATES, ClearanceState
from vetting.rules import (
    Adjustment,
    ClearanceFact,
    DateRange,
    DeploymentWindow,
    Eligibility,
    PersonFacts,
    PersonKind,
    Reason,
    SkillFact,
    check_eligibility,
    explain_clearances,
)
from vetting.rules import (
    ReasonCode as R,
)

LONDON = ZoneInfo("Europe/London")
CYBER_VISIT = TASK_POLICIES_BY_CODE["cyber_victim_visit"]
ESCORT = TASK_POLICIES_BY_CODE["mental_health_escort"]
YOUTH = TASK_POLICIES_BY_CODE["youth_schools_liaison"]
TRIAGE = TASK_POLICIES_BY_CODE["digital_evidence_triage"]
CT = TASK_POLICIES_BY_CODE["ct_digital_support"]
CLEARANCE_CODE = re.compile(r"\b(" + "|".join(CLEARANCE_TYPES_BY_CODE) + r")\b")


# --- factories -------------------------------------------------------------------------------


def clearance(
    code="NPPV2A",
    *,
    state=ClearanceState.GRANTED,
    valid_from=date(2024, 1, 1),
    expires_on=date(2026, 12, 31),
    restricted_from=(),
):
    return ClearanceFact(code, state, valid_from, expires_on, frozenset(restricted_from))


def skill(code="cyber_victim_support", level=SkillLevel.PRACTITIONER, **evidence):
    return SkillFact(code, level, **evidence)


def make_psv(**overrides) -> PersonFacts:
    """A PSV cleared and skilled for cyber-crime victim visits; override what a test is about."""
    facts = {
        "kind": PersonKind.PSV,
        "warranted": False,
        "clearances": (clearance(),),
        "skills": (skill(),),
    }
    return PersonFacts(**(facts | overrides))


def make_special(**overrides) -> PersonFacts:
    """A qualified special with RV and mental-health first aid: eligible for an escort."""
    facts = {
        "kind": PersonKind.SPECIAL,
        "warranted": True,
        "patrol_status": PatrolStatus.QUALIFIED,
        "clearances": (clearance("RV", expires_on=date(2030, 1, 1)),),
        "skills": (skill("mh_first_aid"),),
    }
    return PersonFacts(**(facts | overrides))


def london(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def shift(day: date, start_hour=10, hours=4) -> DeploymentWindow:
    start = london(day.year, day.month, day.day, start_hour)
    return DeploymentWindow(start, start + timedelta(hours=hours))


DEC_3 = date(2025, 12, 3)
# 3 December 20:00 to 4 December 02:00: a night shift touching two dates.
OVERNIGHT = DeploymentWindow(london(2025, 12, 3, 20), london(2025, 12, 4, 2))


def codes(result: Eligibility) -> list[R]:
    return [reason.code for reason in result.reasons]


# --- clearance dates -------------------------------------------------------------------------


def test_eligible_when_everything_is_in_place():
    result = check_eligibility(make_psv(), CYBER_VISIT, shift(DEC_3))
    assert result == Eligibility(True, ())


def test_clearance_expiring_the_day_before_the_deployment():
    person = make_psv(clearances=(clearance(expires_on=date(2025, 12, 2)),))
    result = check_eligibility(person, CYBER_VISIT, shift(DEC_3))
    assert codes(result) == [R.NO_CLEARANCE]
    assert result.reasons[0].text == "No clearance for this task on 3 December 2025."


def test_clearance_expiring_on_the_day_is_still_valid_that_day():
    person = make_psv(clearances=(clearance(expires_on=DEC_3),))
    assert check_eligibility(person, CYBER_VISIT, shift(DEC_3)).eligible


def test_clearance_expiring_during_a_two_day_deployment():
    person = make_psv(clearances=(clearance(expires_on=DEC_3),))
    result = check_eligibility(person, CYBER_VISIT, OVERNIGHT)
    assert codes(result) == [R.NO_CLEARANCE]
    assert "4 December 2025" in result.reasons[0].text


def test_clearance_expiring_after_the_deployment():
    person = make_psv(clearances=(clearance(expires_on=date(2025, 12, 4)),))
    assert check_eligibility(person, CYBER_VISIT, OVERNIGHT).eligible


def test_clearance_not_yet_valid_when_the_deployment_starts():
    late = make_psv(clearances=(clearance(valid_from=date(2025, 12, 4)),))
    result = check_eligibility(late, CYBER_VISIT, OVERNIGHT)
    assert codes(result) == [R.NO_CLEARANCE]
    assert "3 December 2025" in result.reasons[0].text
    on_time = make_psv(clearances=(clearance(valid_from=DEC_3),))
    assert check_eligibility(on_time, CYBER_VISIT, OVERNIGHT).eligible


def test_renewed_clearance_taking_over_from_the_old_one_covers_the_deployment():
    old = clearance(state=ClearanceState.RENEWAL_DUE, expires_on=DEC_3)
    new = clearance("NPPV2F", valid_from=date(2025, 12, 4), expires_on=date(2028, 12, 3))
    assert check_eligibility(make_psv(clearances=(old, new)), CYBER_VISIT, OVERNIGHT).eligible
    gap = clearance("NPPV2F", valid_from=date(2025, 12, 5), expires_on=date(2028, 12, 3))
    result = check_eligibility(make_psv(clearances=(old, gap)), CYBER_VISIT, OVERNIGHT)
    assert "4 December 2025" in result.reasons[0].text


@pytest.mark.parametrize("state", list(ClearanceState))
def test_only_active_states_count(state):
    person = make_psv(clearances=(clearance(state=state),))
    assert check_eligibility(person, CYBER_VISIT, shift(DEC_3)).eligible == (state in ACTIVE_STATES)


def test_suspended_clearance_does_not_count_and_the_sergeant_is_not_told_why():
    person = make_psv(clearances=(clearance(state=ClearanceState.SUSPENDED),))
    result = check_eligibility(person, CYBER_VISIT, shift(DEC_3))
    assert codes(result) == [R.NO_CLEARANCE]
    assert "suspend" not in result.reasons[0].text.lower()
    assert "suspended" in result.reasons[0].detail


@pytest.mark.parametrize("code", ["NPPV2A", "NPPV2F", "NPPV3", "RV", "MV"])
def test_any_one_alternative_is_enough(code):
    assert check_eligibility(make_psv(clearances=(clearance(code),)), CYBER_VISIT, shift(DEC_3)).eligible


def test_lower_or_other_regime_clearances_do_not_substitute():
    for code in ("NPPV1", "SC", "DBS_ENH_CHILD"):
        result = check_eligibility(make_psv(clearances=(clearance(code),)), CYBER_VISIT, shift(DEC_3))
        assert codes(result) == [R.NO_CLEARANCE], code


def test_every_group_must_be_met():
    osint = (skill("osint"),)
    ctc_only = make_psv(clearances=(clearance("CTC"),), skills=osint)
    assert codes(check_eligibility(ctc_only, CT, shift(DEC_3))) == [R.NO_CLEARANCE]
    nothing = make_psv(clearances=(), skills=osint)
    assert codes(check_eligibility(nothing, CT, shift(DEC_3))) == [R.NO_CLEARANCE, R.NO_CLEARANCE]
    for pair in (("CTC", "NPPV3"), ("SC", "MV"), ("DV", "NPPV3")):
        both = make_psv(clearances=tuple(clearance(code) for code in pair), skills=osint)
        assert check_eligibility(both, CT, shift(DEC_3)).eligible, pair


def test_restriction_that_excludes_this_task():
    restricted = clearance(state=ClearanceState.GRANTED_WITH_RESTRICTIONS, restricted_from={CYBER_VISIT.code})
    result = check_eligibility(make_psv(clearances=(restricted,)), CYBER_VISIT, shift(DEC_3))
    assert codes(result) == [R.NO_CLEARANCE]
    assert "restrict" not in result.reasons[0].text.lower()
    assert "restricted from this task" in result.reasons[0].detail
    other = clearance(state=ClearanceState.GRANTED_WITH_RESTRICTIONS, restricted_from={"youth_schools_liaison"})
    assert check_eligibility(make_psv(clearances=(other,)), CYBER_VISIT, shift(DEC_3)).eligible


def test_unsupervised_work_needs_the_barred_list_check():
    youth_worker = skill("youth_worker", evidence_required=True, evidence_verified=True)
    person = make_psv(skills=(youth_worker, skill("safeguarding", SkillLevel.AWARE)))
    alone = check_eligibility(person, YOUTH, shift(DEC_3))
    assert codes(alone) == [R.NO_UNSUPERVISED_CLEARANCE]
    assert "supervising officer" in alone.reasons[0].text
    assert check_eligibility(person, YOUTH, shift(DEC_3), supervised=True).eligible
    with_dbs = replace(person, clearances=(*person.clearances, clearance("DBS_ENH_CHILD")))
    assert check_eligibility(with_dbs, YOUTH, shift(DEC_3)).eligible


# --- skills and evidence ---------------------------------------------------------------------


def rmn(**evidence):
    return skill("rmn", **({"evidence_required": True} | evidence))


def test_unverified_evidence():
    person = make_special(skills=(rmn(evidence_verified=False),))
    result = check_eligibility(person, ESCORT, shift(DEC_3))
    assert codes(result) == [R.EVIDENCE_UNVERIFIED]
    assert "Registered mental-health nurse" in result.reasons[0].text


def test_evidence_expiring_before_the_end_of_the_deployment():
    expires_first_night = rmn(evidence_verified=True, evidence_expires_on=DEC_3)
    result = check_eligibility(make_special(skills=(expires_first_night,)), ESCORT, OVERNIGHT)
    assert codes(result) == [R.EVIDENCE_EXPIRED]
    assert "3 December 2025" in result.reasons[0].text
    lasts = rmn(evidence_verified=True, evidence_expires_on=date(2025, 12, 4))
    assert check_eligibility(make_special(skills=(lasts,)), ESCORT, OVERNIGHT).eligible
    no_expiry_recorded = rmn(evidence_verified=True)
    assert check_eligibility(make_special(skills=(no_expiry_recorded,)), ESCORT, OVERNIGHT).eligible


def test_another_alternative_makes_up_for_bad_evidence():
    person = make_special(skills=(rmn(evidence_verified=False), skill("mh_first_aid")))
    assert check_eligibility(person, ESCORT, shift(DEC_3)).eligible


def test_skill_level_and_missing_skill():
    low = make_psv(skills=(skill(level=SkillLevel.AWARE),))
    result = check_eligibility(low, CYBER_VISIT, shift(DEC_3))
    assert codes(result) == [R.SKILL_LEVEL_TOO_LOW]
    assert "aware" in result.reasons[0].text and "practitioner" in result.reasons[0].text
    expert = make_psv(skills=(skill(level=SkillLevel.EXPERT),))
    assert check_eligibility(expert, CYBER_VISIT, shift(DEC_3)).eligible
    none = make_psv(skills=())
    assert codes(check_eligibility(none, CYBER_VISIT, shift(DEC_3))) == [R.SKILL_MISSING]


def test_extra_skills_from_the_request():
    polish = SkillRequirement(("lang_pl",), SkillLevel.PRACTITIONER)
    result = check_eligibility(make_psv(), CYBER_VISIT, shift(DEC_3), extra_skills=[polish])
    assert codes(result) == [R.SKILL_MISSING] and "Polish" in result.reasons[0].text
    speaker = make_psv(skills=(skill(), skill("lang_pl", SkillLevel.EXPERT)))
    assert check_eligibility(speaker, CYBER_VISIT, shift(DEC_3), extra_skills=[polish]).eligible


# --- warrant, patrol status, adjustments, mobilisation ----------------------------------------


def test_warranted_only_task_for_a_psv():
    psv = make_psv(clearances=(clearance("RV"),), skills=(skill("mh_first_aid"),))
    assert codes(check_eligibility(psv, ESCORT, shift(DEC_3))) == [R.NOT_WARRANTED]
    unattested = make_special(warranted=False)
    assert codes(check_eligibility(unattested, ESCORT, shift(DEC_3))) == [R.NOT_WARRANTED]


@pytest.mark.parametrize(
    ("status", "eligible"),
    [
        (None, False),
        (PatrolStatus.ACCOMPANIED, False),
        (PatrolStatus.DIRECTED, True),
        (PatrolStatus.QUALIFIED, True),
    ],
)
def test_minimum_patrol_status(status, eligible):
    result = check_eligibility(make_special(patrol_status=status), ESCORT, shift(DEC_3))
    assert result.eligible == eligible
    if not eligible:
        assert codes(result) == [R.PATROL_STATUS_TOO_LOW]


def test_patrol_status_ignored_where_the_task_sets_none():
    accompanied = make_special(patrol_status=PatrolStatus.ACCOMPANIED, skills=(skill(),))
    assert check_eligibility(accompanied, CYBER_VISIT, shift(DEC_3)).eligible


def test_desk_only_adjustment():
    desk = make_psv(
        adjustments=frozenset({Adjustment.DESK_ONLY}),
        clearances=(clearance("NPPV3"),),
        skills=(skill("digital_evidence_triage"),),
    )
    assert check_eligibility(desk, TRIAGE, shift(DEC_3)).eligible
    street = check_eligibility(replace(desk, skills=(skill(),)), CYBER_VISIT, shift(DEC_3))
    assert codes(street) == [R.DESK_ONLY]
    assert "desk" in street.reasons[0].text.lower()  # says what they can do, never why


def test_remote_only_adjustment():
    remote = make_psv(
        adjustments=frozenset({Adjustment.REMOTE_ONLY}),
        clearances=(clearance("NPPV3"), clearance("CTC")),
        skills=(skill("digital_evidence_triage"),),
    )
    assert check_eligibility(remote, TRIAGE, shift(DEC_3)).eligible
    assert codes(check_eligibility(remote, CT, shift(DEC_3))) == [R.REMOTE_ONLY]


def test_mobilised_reservist():
    mobilised = make_psv(mobilised=(DateRange(date(2025, 12, 4), date(2026, 3, 31)),))
    result = check_eligibility(mobilised, CYBER_VISIT, OVERNIGHT)
    assert codes(result) == [R.MOBILISED]
    assert "4 December 2025" in result.reasons[0].text
    assert check_eligibility(mobilised, CYBER_VISIT, shift(DEC_3)).eligible  # mobilised only from the next day


def test_all_reasons_are_returned_not_just_the_first():
    nobody = PersonFacts(
        kind=PersonKind.PSV,
        warranted=False,
        adjustments=frozenset({Adjustment.DESK_ONLY}),
        mobilised=(DateRange(DEC_3, DEC_3),),
    )
    result = check_eligibility(nobody, ESCORT, shift(DEC_3))
    assert codes(result) == [R.NOT_WARRANTED, R.DESK_ONLY, R.MOBILISED, R.NO_CLEARANCE, R.SKILL_MISSING]


def test_sergeant_text_never_names_a_clearance():
    everyone_fails = make_psv(
        clearances=(
            clearance("NPPV1", state=ClearanceState.SUSPENDED),
            clearance(
                "RV",
                state=ClearanceState.GRANTED_WITH_RESTRICTIONS,
                restricted_from={t.code for t in TASK_POLICIES},
            ),
        ),
        skills=(),
    )
    for task in TASK_POLICIES:
        for reason in check_eligibility(everyone_fails, task, OVERNIGHT).reasons:
            assert not CLEARANCE_CODE.search(reason.text), reason
            assert not re.search(r"refus|withdraw|suspend|restrict|apprais", reason.text, re.I), reason


# --- local dates -----------------------------------------------------------------------------


def test_deployment_across_the_october_clock_change():
    # 25 Oct 2025 23:30 BST to 26 Oct 01:30 GMT (clocks go back at 02:00 BST on 26 Oct).
    window = DeploymentWindow(datetime(2025, 10, 25, 22, 30, tzinfo=UTC), datetime(2025, 10, 26, 1, 30, tzinfo=UTC))
    assert window.local_dates() == (date(2025, 10, 25), date(2025, 10, 26))
    person = make_psv(clearances=(clearance(expires_on=date(2025, 10, 25)),))
    result = check_eligibility(person, CYBER_VISIT, window)
    assert "26 October 2025" in result.reasons[0].text


def test_early_hours_in_summer_belong_to_the_london_date_not_the_utc_one():
    # 23:30 UTC on 25 Oct is 00:30 BST on the 26th: a clearance starting on the 26th covers it.
    window = DeploymentWindow(datetime(2025, 10, 25, 23, 30, tzinfo=UTC), datetime(2025, 10, 26, 2, 0, tzinfo=UTC))
    assert window.local_dates() == (date(2025, 10, 26), date(2025, 10, 26))
    person = make_psv(clearances=(clearance(valid_from=date(2025, 10, 26)),))
    assert check_eligibility(person, CYBER_VISIT, window).eligible


def test_deployment_across_the_march_clock_change():
    # 28 Mar 2026 23:30 GMT to 29 Mar 02:30 BST (clocks go forward at 01:00 GMT on 29 Mar).
    window = DeploymentWindow(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert window.local_dates() == (date(2026, 3, 28), date(2026, 3, 29))
    person = make_psv(clearances=(clearance(expires_on=date(2026, 3, 28)),))
    assert codes(check_eligibility(person, CYBER_VISIT, window)) == [R.NO_CLEARANCE]


def test_a_shift_ending_at_local_midnight_does_not_touch_the_next_day():
    summer = DeploymentWindow(london(2025, 7, 1, 18), london(2025, 7, 2, 0))
    assert summer.local_dates() == (date(2025, 7, 1), date(2025, 7, 1))
    person = make_psv(clearances=(clearance(expires_on=date(2025, 7, 1)),))
    assert check_eligibility(person, CYBER_VISIT, summer).eligible


def test_windows_must_be_aware_and_forwards():
    with pytest.raises(ValueError):
        DeploymentWindow(datetime(2025, 1, 1, 9), datetime(2025, 1, 1, 10))
    with pytest.raises(ValueError):
        DeploymentWindow(london(2025, 1, 1, 10), london(2025, 1, 1, 10))


def test_facts_reject_impossible_combinations():
    with pytest.raises(ValueError):
        PersonFacts(kind=PersonKind.PSV, warranted=True)
    with pytest.raises(ValueError):
        clearance(valid_from=date(2025, 1, 2), expires_on=date(2025, 1, 1))
    with pytest.raises(ValueError):
        Eligibility(True, (Reason(R.NO_CLEARANCE, "x"),))


# --- the volunteer's own view ----------------------------------------------------------------


def test_explain_clearances_for_the_volunteer():
    person = make_psv(
        clearances=(
            clearance("NPPV2A", expires_on=date(2027, 3, 14)),
            clearance("DBS_ENH_CHILD", expires_on=date(2028, 1, 9)),
        )
    )
    text = explain_clearances(person, [CYBER_VISIT, YOUTH, TRIAGE], date(2025, 12, 1))
    assert text == "Cleared for cyber-crime victim visits and youth and schools liaison; renewal due March 2027."


def test_explain_clearances_supervised_only_and_pending():
    person = make_psv(clearances=(clearance(), clearance("NPPV3", state=ClearanceState.IN_PROGRESS)))
    text = explain_clearances(person, [YOUTH, TRIAGE], date(2025, 12, 1))
    assert text.startswith("Cleared for youth and schools liaison (with a supervising officer); renewal due")
    assert text.endswith("Your vetting application is in progress.")
    assert explain_clearances(make_psv(clearances=()), TASK_POLICIES, date(2025, 12, 1)) == (
        "Not yet cleared for any task."
    )


# --- property --------------------------------------------------------------------------------

PROPERTY_TASK = TaskPolicy("t", "Task", "tasks", clearance_groups=(("NPPV2A",),))


@settings(max_examples=400, deadline=None, database=None)
@given(
    start=st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(1, 4 * 24 * 60),
    valid_from=st.dates(date(2023, 12, 20), date(2028, 1, 10)),
    days_valid=st.integers(0, 20),
    state=st.sampled_from(list(ClearanceState)),
    restricted=st.booleans(),
)
def test_eligibility_is_exactly_validity_on_every_local_date(start, minutes, valid_from, days_valid, state, restricted):
    expires_on = valid_from + timedelta(days=days_valid)
    window = DeploymentWindow(start, start + timedelta(minutes=minutes))
    fact = clearance(
        state=state, valid_from=valid_from, expires_on=expires_on, restricted_from={"t"} if restricted else ()
    )
    person = PersonFacts(kind=PersonKind.PSV, warranted=False, clearances=(fact,))

    first = start.astimezone(LONDON).date()
    last = (window.end - timedelta(microseconds=1)).astimezone(LONDON).date()
    expected = valid_from <= first and last <= expires_on and state in ACTIVE_STATES and not restricted
    result = check_eligibility(person, PROPERTY_TASK, window)
    assert result.eligible == expected
    assert result.eligible == (not result.reasons)
