"""Task-type policy as text a coordinator can edit, and back. Pure: no Flask, no ORM.

Clearances: one requirement per line; alternatives on a line separated by "|".
    NPPV2F | NPPV3 | RV
    DBS_ENH_CHILD
Skills: one per line, alternatives separated by "|", then ":" and the minimum level.
    rmn | paramedic | mh_first_aid : practitioner
"""

from __future__ import annotations

import json
from dataclasses import replace

from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, InvalidTaskPolicy, SkillRequirement, TaskPolicy
from volunteers.skills import SKILLS_BY_CODE, PatrolStatus, SkillLevel


class PolicyTextError(ValueError):
    """The text does not describe a valid requirement; the message says which line and why.

    ``setting`` names the TaskPolicy attribute at fault when an edit breaks a rule of the policy.
    """

    def __init__(self, message: str, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


def format_groups(groups: tuple[tuple[str, ...], ...]) -> str:
    return "\n".join(" | ".join(group) for group in groups)


def format_skills(skills: tuple[SkillRequirement, ...]) -> str:
    return "\n".join(f"{' | '.join(s.alternatives)} : {s.minimum_level.value}" for s in skills)


def parse_groups(text: str) -> tuple[tuple[str, ...], ...]:
    groups = []
    for number, line in enumerate(_lines(text), start=1):
        codes = tuple(code.strip().upper() for code in line.split("|") if code.strip())
        unknown = [code for code in codes if code not in CLEARANCE_TYPES_BY_CODE]
        if unknown:
            raise PolicyTextError(
                f"Line {number}: {', '.join(unknown)} is not a clearance type "
                f"(known: {', '.join(sorted(CLEARANCE_TYPES_BY_CODE))})"
            )
        groups.append(codes)
    return tuple(groups)


def parse_skills(text: str) -> tuple[SkillRequirement, ...]:
    requirements = []
    for number, line in enumerate(_lines(text), start=1):
        names, _, level = line.partition(":")
        codes = tuple(code.strip().lower() for code in names.split("|") if code.strip())
        unknown = [code for code in codes if code not in SKILLS_BY_CODE]
        if not codes or unknown:
            raise PolicyTextError(f"Line {number}: {', '.join(unknown) or 'no skill'} is not a skill code")
        try:
            minimum = SkillLevel((level or "practitioner").strip().lower())
        except ValueError:
            raise PolicyTextError(f"Line {number}: the level must be aware, practitioner or expert") from None
        requirements.append(SkillRequirement(alternatives=codes, minimum_level=minimum))
    return tuple(requirements)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def edited_policy(base: TaskPolicy, **changes) -> TaskPolicy:
    """The policy with ``changes``; raises PolicyTextError with the rule broken (e.g. no clearance)."""
    try:
        return replace(base, **changes)
    except ValueError as exc:
        message = str(exc).split(": ", 1)[-1]
        setting = exc.setting if isinstance(exc, InvalidTaskPolicy) else None
        raise PolicyTextError(message[0].upper() + message[1:], setting) from None


def policy_to_json(policy: TaskPolicy) -> str:
    data = {
        "clearance_groups": [list(g) for g in policy.clearance_groups],
        "unsupervised_clearance_groups": [list(g) for g in policy.unsupervised_clearance_groups],
        "required_skills": [
            {"alternatives": list(s.alternatives), "minimum_level": s.minimum_level.value}
            for s in policy.required_skills
        ],
        "warranted_only": policy.warranted_only,
        "minimum_patrol_status": policy.minimum_patrol_status.value if policy.minimum_patrol_status else None,
        "unsupervised_allowed": policy.unsupervised_allowed,
        "default_team_size": policy.default_team_size,
        "all_or_nothing": policy.all_or_nothing,
        "remote_possible": policy.remote_possible,
        "street_duty": policy.street_duty,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def policy_from_json(base: TaskPolicy, text: str) -> TaskPolicy:
    data = json.loads(text)
    return replace(
        base,
        clearance_groups=tuple(tuple(g) for g in data["clearance_groups"]),
        unsupervised_clearance_groups=tuple(tuple(g) for g in data["unsupervised_clearance_groups"]),
        required_skills=tuple(
            SkillRequirement(tuple(s["alternatives"]), SkillLevel(s["minimum_level"])) for s in data["required_skills"]
        ),
        warranted_only=data["warranted_only"],
        minimum_patrol_status=PatrolStatus(data["minimum_patrol_status"]) if data["minimum_patrol_status"] else None,
        unsupervised_allowed=data["unsupervised_allowed"],
        default_team_size=data["default_team_size"],
        all_or_nothing=data["all_or_nothing"],
        remote_possible=data["remote_possible"],
        street_duty=data["street_duty"],
    )
