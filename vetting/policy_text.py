"""Task-type policy as text a coordinator can edit, and back. Pure: no Flask, no ORM.

Clearances: one requirement per line; alternatives on a line separated by "|".
    NPPV2F | NPPV3 | RV
    DBS_ENH_CHILD
Skills: one per line, alternatives separated by "|", then ":" and the minimum level.
    rmn | paramedic | mh_first_aid : practitioner
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace

from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, InvalidTaskPolicy, SkillRequirement, TaskPolicy, TeamRule
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


def _names(codes: tuple[str, ...], names: dict[str, str]) -> str:
    words = [names.get(code, code) for code in codes]
    return words[0] if len(words) == 1 else "One of: " + ", ".join(words[:-1]) + " or " + words[-1]


_LEVEL_WORDS = {
    SkillLevel.AWARE: "any level",
    SkillLevel.PRACTITIONER: "practitioner or expert",
    SkillLevel.EXPERT: "expert",
}


def describe_groups(groups: tuple[tuple[str, ...], ...]) -> list[str]:
    """Each clearance requirement in words, by name: "NPPV level 3", or "One of: A, B or C"."""
    names = {code: clearance_type.name for code, clearance_type in CLEARANCE_TYPES_BY_CODE.items()}
    return [_names(group, names) for group in groups]


def describe_skills(skills: tuple[SkillRequirement, ...]) -> list[str]:
    """Each skill requirement in words, by name: "Paramedic — practitioner or expert"."""
    names = {code: skill.name for code, skill in SKILLS_BY_CODE.items()}
    return [f"{_names(s.alternatives, names)} — {_LEVEL_WORDS[s.minimum_level]}" for s in skills]


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


def policy_to_json(policy: TaskPolicy, *, names: bool = False) -> str:
    """The policy's settings as canonical JSON. ``names``: with its name, activity phrase and description too,
    for a task type a coordinator added (a built-in type takes those from the catalogue)."""
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
        "team_rule": policy.team_rule.value,
    }
    if names:
        data |= {"name": policy.name, "activity": policy.activity, "description": policy.description}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def policy_from_json(base: TaskPolicy | None, text: str, code: str | None = None) -> TaskPolicy:
    """The policy stored as ``text``: ``base`` (a built-in type's catalogue entry) with the stored settings,
    or, with no base, a type a coordinator added, whose JSON carries its name (``code`` is its key)."""
    data = json.loads(text)
    if base is None:
        if code is None:
            raise ValueError("an added task type needs its code")
        base = TaskPolicy(
            code=code,
            name=data["name"],
            activity=data["activity"],
            description=data.get("description", ""),
            clearance_groups=tuple(tuple(g) for g in data["clearance_groups"]),
        )
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
        # Saved before task types had a team rule (issue #23): the catalogue's rule for a built-in type, else none.
        team_rule=TeamRule(data.get("team_rule", base.team_rule)),
    )


# Codes are made from the name once, when a coordinator adds a task type, and never change: requests,
# preferences and restrictions keep them. Short enough for a URL and for a list of restrictions.
CODE_MAX = 30


def code_from_name(name: str, taken: set[str] | frozenset[str]) -> str:
    """A new task type's code: its name in lower-case ASCII words joined by "_", numbered if already taken.

    "Fraud-prevention talk" → "fraud_prevention_talk"; a second one → "fraud_prevention_talk_2". A name with
    no Latin letters or digits becomes "task_type".
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")[:CODE_MAX].strip("_") or "task_type"
    code, number = slug, 2
    while code in taken:
        suffix = f"_{number}"
        code = slug[: CODE_MAX - len(suffix)].rstrip("_") + suffix
        number += 1
    return code
