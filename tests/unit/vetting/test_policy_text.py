import pytest

from vetting.catalogue import TASK_POLICIES, TASK_POLICIES_BY_CODE
from vetting.policy_text import (
    PolicyTextError,
    edited_policy,
    format_groups,
    format_skills,
    parse_groups,
    parse_skills,
    policy_from_json,
    policy_to_json,
)


@pytest.mark.parametrize("policy", TASK_POLICIES, ids=lambda p: p.code)
def test_every_seeded_policy_round_trips_through_text_and_json(policy):
    assert parse_groups(format_groups(policy.clearance_groups)) == policy.clearance_groups
    assert parse_skills(format_skills(policy.required_skills)) == policy.required_skills
    assert policy_from_json(policy, policy_to_json(policy)) == policy


def test_parse_errors_name_the_line():
    with pytest.raises(PolicyTextError, match="Line 2: NPPV9 is not a clearance type"):
        parse_groups("NPPV2F | RV\nNPPV9")
    with pytest.raises(PolicyTextError, match="Line 1: knitting is not a skill code"):
        parse_skills("knitting : expert")
    with pytest.raises(PolicyTextError, match="Line 1: the level must be"):
        parse_skills("osint : guru")


def test_case_and_spacing_are_forgiven():
    assert parse_groups(" nppv2f|rv \n\n") == (("NPPV2F", "RV"),)
    assert parse_skills("OSINT:Expert")[0].minimum_level.value == "expert"


def test_edits_that_break_the_policy_rules_are_refused():
    base = TASK_POLICIES_BY_CODE["cyber_victim_visit"]
    with pytest.raises(PolicyTextError, match="at least one non-empty clearance group"):
        edited_policy(base, clearance_groups=())
    with pytest.raises(PolicyTextError, match="Team size must be at least 1"):
        edited_policy(base, default_team_size=0)
