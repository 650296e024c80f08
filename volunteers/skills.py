"""The skills catalogue and the ordered levels a volunteer's profile uses. Pure data.

Vetting's task policies and the matcher refer to these codes; they live here because a skill is
part of the volunteer's profile, and the dependency direction is matching → vetting → volunteers.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["SKILLS", "SKILLS_BY_CODE", "PatrolStatus", "Skill", "SkillFamily", "SkillLevel"]


# ---------------------------------------------------------------------------------------------
# Ordered string enums
# ---------------------------------------------------------------------------------------------


_RANKS: dict[type, dict[object, int]] = {}


class _OrderedStrEnum(enum.StrEnum):
    """A string enum whose comparisons follow declaration order, not the alphabet.

    The ORM stores the string value, but ``"expert" < "practitioner"`` alphabetically, so a
    plain ``StrEnum`` would compare levels wrongly and silently. Comparing with a plain string
    converts it first (so an unknown string raises ``ValueError`` rather than compare wrongly).
    """

    @property
    def rank(self) -> int:
        """Position in declaration order, starting at 0."""
        # Looked up, not searched for: the matcher compares levels millions of times in a city run.
        ranks = _RANKS.get(type(self))
        if ranks is None:
            ranks = _RANKS[type(self)] = {member: position for position, member in enumerate(type(self))}
        return ranks[self]

    def _compare(self, other: object, op: Callable[[int, int], bool]) -> bool:
        # Members are strings too, so this covers both; a different enum's value fails to convert.
        if not isinstance(other, str):
            return NotImplemented
        return op(self.rank, type(self)(other).rank)

    def __lt__(self, other: object) -> bool:
        return self._compare(other, operator.lt)

    def __le__(self, other: object) -> bool:
        return self._compare(other, operator.le)

    def __gt__(self, other: object) -> bool:
        return self._compare(other, operator.gt)

    def __ge__(self, other: object) -> bool:
        return self._compare(other, operator.ge)


class SkillLevel(_OrderedStrEnum):
    """How well someone holds a skill. Ordered: aware < practitioner < expert."""

    AWARE = "aware"
    PRACTITIONER = "practitioner"
    EXPERT = "expert"


class PatrolStatus(_OrderedStrEnum):
    """A special constable's patrol status. Ordered: accompanied < directed < qualified.

    Accompanied: patrols with a regular or qualified officer. Directed: independent patrol, still
    supervised and tasked. Qualified: fully independent. PSVs have no patrol status (``None``).
    """

    ACCOMPANIED = "accompanied"
    DIRECTED = "directed"
    QUALIFIED = "qualified"


class SkillFamily(enum.StrEnum):
    CYBER = "cyber"
    HEALTH = "health"
    YOUTH = "youth"
    LANGUAGE = "language"
    OTHER = "other"


@dataclass(frozen=True)
class Skill:
    """A skill a volunteer may hold. Professional skills need evidence a coordinator verifies."""

    code: str
    name: str
    family: SkillFamily
    evidence_required: bool = False
    # The professional body whose register the evidence is checked against, e.g. "NMC".
    evidence_body: str | None = None

    def __post_init__(self) -> None:
        if self.evidence_body is not None and not self.evidence_required:
            raise ValueError(f"{self.code}: an evidence body implies evidence is required")


def _language(code: str, name: str) -> Skill:
    return Skill(f"lang_{code}", name, SkillFamily.LANGUAGE)


SKILLS: tuple[Skill, ...] = (
    # Cyber. No single register exists; competence is judged by the panel, so no evidence flag.
    Skill("cyber_victim_support", "Cyber-crime victim support", SkillFamily.CYBER),
    Skill("digital_evidence_triage", "Digital evidence triage", SkillFamily.CYBER),
    Skill("osint", "Open-source intelligence (OSINT)", SkillFamily.CYBER),
    Skill("incident_response", "Cyber incident response", SkillFamily.CYBER),
    # Health. Registered professions are checked against their regulator's register.
    Skill("mh_first_aid", "Mental-health first aid", SkillFamily.HEALTH),
    Skill("rmn", "Registered mental-health nurse", SkillFamily.HEALTH, True, "NMC"),
    Skill("paramedic", "Paramedic", SkillFamily.HEALTH, True, "HCPC"),
    Skill("doctor", "Doctor", SkillFamily.HEALTH, True, "GMC"),
    # Youth.
    Skill("youth_worker", "Qualified youth worker", SkillFamily.YOUTH, True, "JNC/NYA"),
    Skill("schools_liaison", "Schools liaison", SkillFamily.YOUTH),
    Skill("safeguarding", "Safeguarding", SkillFamily.YOUTH),
    # Languages: BSL plus the spoken languages most often needed in London (2021 census main
    # languages other than English).
    Skill("bsl", "British Sign Language", SkillFamily.LANGUAGE),
    _language("pl", "Polish"),
    _language("ro", "Romanian"),
    _language("es", "Spanish"),
    _language("pt", "Portuguese"),
    _language("bn", "Bengali"),
    _language("ur", "Urdu"),
    _language("pa", "Punjabi"),
    _language("gu", "Gujarati"),
    _language("ar", "Arabic"),
    _language("tr", "Turkish"),
    _language("so", "Somali"),
    _language("ta", "Tamil"),
    # Other.
    Skill("military_reservist", "Military reservist", SkillFamily.OTHER),
    Skill("first_aid", "First aid", SkillFamily.OTHER),
)

SKILLS_BY_CODE: Mapping[str, Skill] = MappingProxyType({s.code: s for s in SKILLS})
