"""The seeded catalogue: references resolve, policy values are parameters, levels order properly."""

import pytest

from vetting.catalogue import (
    CLEARANCE_TYPES,
    CLEARANCE_TYPES_BY_CODE,
    DEFAULT_POLICY,
    SKILLS_BY_CODE,
    TASK_POLICIES,
    TASK_POLICIES_BY_CODE,
    ForcePolicy,
    PatrolStatus,
    Regime,
    SkillLevel,
    SkillRequirement,
    TaskPolicy,
)


def test_codes_are_unique():
    assert len(CLEARANCE_TYPES_BY_CODE) == len(CLEARANCE_TYPES)
    assert len(TASK_POLICIES_BY_CODE) == len(TASK_POLICIES)


def test_every_task_names_known_clearances_and_skills():
    for task in TASK_POLICIES:
        assert task.all_clearance_codes <= CLEARANCE_TYPES_BY_CODE.keys(), task.code
        for requirement in task.required_skills:
            assert set(requirement.alternatives) <= SKILLS_BY_CODE.keys(), task.code


@pytest.mark.parametrize(
    ("code", "months"),
    [("RV", 120), ("MV", 84), ("NPPV2A", 36), ("NPPV2F", 36), ("NPPV3", 60), ("SC", 120), ("DV", 84)],
)
def test_default_validity_matches_the_brief(code, months):
    assert DEFAULT_POLICY.validity_months(CLEARANCE_TYPES_BY_CODE[code]) == months


def test_dbs_validity_is_the_forces_recheck_interval():
    dbs = CLEARANCE_TYPES_BY_CODE["DBS_ENH_CHILD"]
    assert dbs.regime is Regime.DBS
    assert DEFAULT_POLICY.validity_months(dbs) == 36
    assert ForcePolicy(dbs_recheck_months=12).validity_months(dbs) == 12


def test_validity_overrides_win():
    policy = ForcePolicy(validity_overrides=(("SC", 60), ("DBS_ENH_CHILD", 24)))
    assert policy.validity_months(CLEARANCE_TYPES_BY_CODE["SC"]) == 60
    assert policy.validity_months(CLEARANCE_TYPES_BY_CODE["DBS_ENH_CHILD"]) == 24
    assert policy.validity_months(CLEARANCE_TYPES_BY_CODE["RV"]) == 120


def test_force_policy_defaults():
    assert DEFAULT_POLICY.reminder_days == (90, 30, 7)
    assert DEFAULT_POLICY.renewal_review_lead_days == 90
    assert DEFAULT_POLICY.appeal_window_days == 14
    assert DEFAULT_POLICY.special_monthly_commitment_minutes == 960
    assert DEFAULT_POLICY.dbs_recheck_months == 36
    assert DEFAULT_POLICY.integrity_review_months == 12


def test_force_policy_rejects_nonsense_and_orders_reminders():
    assert ForcePolicy(reminder_days=(7, 90, 30)).reminder_days == (90, 30, 7)
    for bad in (
        {"reminder_days": ()},
        {"reminder_days": (30, 30)},
        {"reminder_days": (0,)},
        {"appeal_window_days": 0},
        {"validity_overrides": (("SC", 0),)},
    ):
        with pytest.raises(ValueError):
            ForcePolicy(**bad)


def test_skill_levels_compare_by_order_not_alphabet():
    # Alphabetically "expert" < "practitioner"; the enum must not fall into that trap.
    assert SkillLevel.AWARE < SkillLevel.PRACTITIONER < SkillLevel.EXPERT
    assert SkillLevel.EXPERT >= "practitioner"
    assert SkillLevel.EXPERT == "expert"
    assert sorted([SkillLevel.EXPERT, SkillLevel.AWARE, SkillLevel.PRACTITIONER]) == list(SkillLevel)
    assert PatrolStatus.ACCOMPANIED < PatrolStatus.DIRECTED < PatrolStatus.QUALIFIED
    with pytest.raises(ValueError):
        SkillLevel.EXPERT < "guru"  # noqa: B015 - the comparison itself must fail


def test_professional_skills_need_evidence():
    for code, body in [("rmn", "NMC"), ("paramedic", "HCPC"), ("doctor", "GMC"), ("youth_worker", "JNC/NYA")]:
        assert SKILLS_BY_CODE[code].evidence_required
        assert SKILLS_BY_CODE[code].evidence_body == body
    assert not SKILLS_BY_CODE["mh_first_aid"].evidence_required
    assert SKILLS_BY_CODE["bsl"].name == "British Sign Language"


def test_seeded_policies_say_what_the_brief_says():
    escort = TASK_POLICIES_BY_CODE["mental_health_escort"]
    assert escort.default_team_size == 2 and escort.all_or_nothing and escort.warranted_only
    youth = TASK_POLICIES_BY_CODE["youth_schools_liaison"]
    # Regulated activity with children: the children's barred list, alone or with the adults' on one certificate.
    assert youth.unsupervised_allowed and youth.unsupervised_clearance_groups == (("DBS_ENH_CHILD", "DBS_ENH_BOTH"),)
    triage = TASK_POLICIES_BY_CODE["digital_evidence_triage"]
    assert triage.remote_possible and not triage.street_duty
    ct = TASK_POLICIES_BY_CODE["ct_digital_support"]
    assert ("CTC", "SC", "DV") in ct.clearance_groups
    assert any("NPPV3" in group for group in ct.clearance_groups)


def test_task_policy_invariants():
    with pytest.raises(ValueError):
        TaskPolicy("t", "T", "ts", clearance_groups=())
    with pytest.raises(ValueError):
        TaskPolicy("t", "T", "ts", clearance_groups=(("RV",),), minimum_patrol_status=PatrolStatus.DIRECTED)
    with pytest.raises(ValueError):
        TaskPolicy("t", "T", "ts", clearance_groups=(("RV",),), unsupervised_clearance_groups=(("DBS_ENH_CHILD",),))
    with pytest.raises(ValueError):
        SkillRequirement(())
