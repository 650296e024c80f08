"""Task policy in words for the task-types page: names, never codes."""

from __future__ import annotations

from vetting.catalogue import SkillRequirement
from vetting.policy_text import describe_groups, describe_skills
from volunteers.skills import SkillLevel


def test_clearance_groups_read_as_names_one_or_several():
    assert describe_groups((("NPPV3",), ("CTC", "SC", "DV"))) == [
        "NPPV level 3",
        "One of: Counter-Terrorist Check, Security Check or Developed Vetting",
    ]
    assert describe_groups((("RV", "MV"),)) == ["One of: Recruitment Vetting or Management Vetting"]
    assert describe_groups(()) == []


def test_skill_requirements_read_as_names_with_the_level_in_words():
    assert describe_skills(
        (
            SkillRequirement(("paramedic", "rmn")),
            SkillRequirement(("safeguarding",), SkillLevel.AWARE),
            SkillRequirement(("osint",), SkillLevel.EXPERT),
        )
    ) == [
        "One of: Paramedic or Registered mental-health nurse — practitioner or expert",
        "Safeguarding — any level",
        "Open-source intelligence (OSINT) — expert",
    ]


def test_a_code_the_catalogue_no_longer_knows_still_reads():
    assert describe_groups((("RETIRED",),)) == ["RETIRED"]
