"""Demo profiles for the demo volunteer accounts: a believable mix of kinds, skills and availability."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.geography.models import Ward
from volunteers.models import (
    AvailabilitySlot,
    BlockedPeriod,
    BlockReason,
    ConflictCategory,
    ConflictDeclaration,
    EvidenceStatus,
    OccupationCategory,
    TaskPreference,
    Volunteer,
    VolunteerKind,
    VolunteerSkill,
    VolunteerStatus,
    WorkAdjustment,
)
from volunteers.skills import SKILLS, SKILLS_BY_CODE, PatrolStatus, SkillFamily, SkillLevel

# (family, occupations with their category, weight)
_PROFESSIONS = [
    (
        SkillFamily.CYBER,
        [
            ("Security analyst", OccupationCategory.OTHER),
            ("Cyber-security consultant", OccupationCategory.PRIVATE_SECURITY_CYBER),
            ("Software engineer", OccupationCategory.OTHER),
            ("Digital forensics investigator", OccupationCategory.PRIVATE_INVESTIGATION),
        ],
        40,
    ),
    (
        SkillFamily.HEALTH,
        [
            ("Mental-health nurse", OccupationCategory.NHS_AMBULANCE),
            ("Paramedic", OccupationCategory.NHS_AMBULANCE),
            ("GP", OccupationCategory.OTHER),
            ("Counsellor", OccupationCategory.OTHER),
        ],
        30,
    ),
    (
        SkillFamily.YOUTH,
        [
            ("Youth worker", OccupationCategory.YOUTH_SERVICES),
            ("Teacher", OccupationCategory.OTHER),
            ("Social worker", OccupationCategory.OTHER),
        ],
        30,
    ),
]
_EMPLOYERS = {
    SkillFamily.CYBER: ["Thames Cyber Ltd", "CityBank plc", "Northgate Digital", "Riverside Software"],
    SkillFamily.HEALTH: ["London Ambulance Service", "Camden and Islington NHS Trust", "Barts Health NHS Trust"],
    SkillFamily.YOUTH: ["Hackney Youth Service", "St Mary's Academy", "Lambeth Council"],
}
# What each demo job brings: the skills anyone in it holds (a nurse is a registered mental-health nurse),
# beside which a volunteer may have a few more of the same family or a language. Without this a nurse
# could list only "Cyber-crime victim support".
JOB_SKILLS: dict[str, tuple[str, ...]] = {
    "Security analyst": ("incident_response",),
    "Cyber-security consultant": ("cyber_victim_support", "incident_response"),
    "Software engineer": ("cyber_victim_support",),
    "Digital forensics investigator": ("digital_evidence_triage", "osint"),
    "Mental-health nurse": ("rmn", "mh_first_aid"),
    "Paramedic": ("paramedic", "mh_first_aid"),
    "GP": ("doctor",),
    "Counsellor": ("mh_first_aid",),
    "Youth worker": ("youth_worker", "safeguarding"),
    "Teacher": ("schools_liaison", "safeguarding"),
    "Social worker": ("safeguarding",),
}
# The named demo volunteer, the README's sign-in: a software engineer who helps victims of online crime, so the
# scam visits they are offered are work their job fits. Not a line of work that needs a conflict review.
_NAMED_JOB = ("Software engineer", OccupationCategory.OTHER, "Riverside Software", SkillFamily.CYBER)
_NAMED_SKILLS = {"cyber_victim_support": SkillLevel.EXPERT, "incident_response": SkillLevel.PRACTITIONER}
_NAMED_PREFERENCES = ("cyber_victim_visit", "business_cyber_visit")


class TaskNeeds(NamedTuple):
    """What a task type asks of a volunteer, as plain data (vetting's task policy, which this layer cannot
    import): each required skill as (any of these codes, at least this level), and whether only a warranted
    special constable may do it. The demo's preferred tasks are ones the volunteer could be offered."""

    skills: tuple[tuple[tuple[str, ...], SkillLevel], ...]
    warranted_only: bool


def _could_do(needs: TaskNeeds, held: Mapping[str, SkillLevel], special: bool) -> bool:
    if needs.warranted_only and not special:
        return False
    return all(any(code in held and held[code] >= level for code in codes) for codes, level in needs.skills)


_SKILLS_BY_FAMILY = {family: [s for s in SKILLS if s.family is family] for family in SkillFamily}
_LEVELS = [SkillLevel.AWARE, SkillLevel.PRACTITIONER, SkillLevel.EXPERT]
# Someone's own job's skills are held at practitioner level or better.
_JOB_LEVELS = [SkillLevel.PRACTITIONER, SkillLevel.PRACTITIONER, SkillLevel.EXPERT]


def load_volunteer_profiles(
    session: Session, rng: random.Random, today: dt.date, task_types: Mapping[str, TaskNeeds]
) -> int:
    """Give every volunteer account without a profile a believable one: the skills of their job (``JOB_SKILLS``)
    and perhaps a few more, and preferred tasks among those their skills and kind allow. Returns how many."""
    users = list(session.scalars(select(User.id).where(User.role == Role.VOLUNTEER).order_by(User.id)))
    ward_ids = list(session.scalars(select(Ward.id).order_by(Ward.id)))
    volunteers, families = [], {}
    for index, user_id in enumerate(users):
        family = rng.choices([p[0] for p in _PROFESSIONS], weights=[p[2] for p in _PROFESSIONS])[0]
        occupation, category = rng.choice(next(p[1] for p in _PROFESSIONS if p[0] is family))
        special = rng.random() < 0.4
        if index == 0:
            occupation, category, _, family = _NAMED_JOB
        # The named demo volunteer (first account) is an active PSV, so the README's sign-in shows a full profile.
        status = VolunteerStatus.ACTIVE if index == 0 or rng.random() > 0.08 else VolunteerStatus.APPLIED
        volunteers.append(
            dict(
                user_id=user_id,
                kind=VolunteerKind.PSV if index == 0 else (VolunteerKind.SPECIAL if special else VolunteerKind.PSV),
                status=status,
                # Ofcom's drama range (07700 900000-900999), which the UK phone rule accepts; the same draw as
                # before, so the rest of the demo is unchanged.
                phone=f"07700 900{rng.randint(0, 99999) % 1000:03d}",
                home_ward_id=rng.choice(ward_ids),
                travel_limit_km=rng.choice([2, 3, 5, 5, 8, 10, 15]),
                weekly_hours_cap_minutes=60 * rng.choice([4, 6, 8, 12, 16]),
                adjustment=rng.choices(list(WorkAdjustment), weights=[92, 5, 3])[0],
                occupation=occupation,
                occupation_category=category,
                employer=rng.choice(_EMPLOYERS[family]) if index else _NAMED_JOB[2],
                military_reservist=rng.random() < 0.04,
                warrant_number=f"SC{rng.randint(10000, 99999)}" if special and index else None,
                patrol_status=rng.choice(list(PatrolStatus)) if special and index else None,
                monthly_commitment_minutes=960 if special and index else None,
                version=1,
            )
        )
        families[user_id] = family
    if not volunteers:
        return 0
    session.execute(insert(Volunteer), volunteers)
    ids = dict(session.execute(select(Volunteer.user_id, Volunteer.id)).all())

    skills, slots, preferences, conflicts, blocks = [], [], [], [], []
    for row in volunteers:
        volunteer_id, family = ids[row["user_id"]], families[row["user_id"]]
        named = row["user_id"] == volunteers[0]["user_id"]
        job = JOB_SKILLS[row["occupation"]]
        others = [s for s in _SKILLS_BY_FAMILY[family] if s.code not in job]
        chosen = [SKILLS_BY_CODE[code] for code in job] + rng.sample(others, k=min(len(others), rng.randint(0, 2)))
        if rng.random() < 0.25:
            chosen.append(rng.choice(_SKILLS_BY_FAMILY[SkillFamily.LANGUAGE]))
        if named:
            chosen = [SKILLS_BY_CODE[code] for code in _NAMED_SKILLS]
        held: dict[str, SkillLevel] = {}
        for skill in chosen:
            evidence = EvidenceStatus.NOT_NEEDED
            expires = None
            if skill.evidence_required:
                evidence = rng.choices(
                    [EvidenceStatus.VERIFIED, EvidenceStatus.PENDING, EvidenceStatus.REJECTED], weights=[85, 12, 3]
                )[0]
                # A few registrations have lapsed: that evidence no longer counts for matching.
                expires = today + dt.timedelta(days=rng.randint(-60, 900))
            level = rng.choice(_JOB_LEVELS if skill.code in job else _LEVELS)
            if named:
                level = _NAMED_SKILLS[skill.code]
            held[skill.code] = level
            skills.append(
                dict(
                    volunteer_id=volunteer_id,
                    skill_code=skill.code,
                    level=level,
                    evidence_body=skill.evidence_body,
                    registration_number=(
                        f"{skill.evidence_body[:3]}{rng.randint(100000, 999999)}" if skill.evidence_body else None
                    ),
                    evidence_expires_on=expires,
                    evidence_status=evidence,
                    evidence_rejection_reason="Not found on the register"
                    if evidence is EvidenceStatus.REJECTED
                    else None,
                )
            )
        for weekday in rng.sample(range(7), k=rng.randint(1, 4)):
            start = rng.choice([8, 9, 10, 13, 17, 18]) * 60
            slots.append(
                dict(
                    volunteer_id=volunteer_id,
                    weekday=weekday,
                    start_minute=start,
                    end_minute=min(start + rng.choice([3, 4, 6]) * 60, 1440),
                )
            )
        special = row["kind"] is VolunteerKind.SPECIAL
        possible = [code for code, needs in task_types.items() if _could_do(needs, held, special)]
        wanted = rng.sample(possible, k=min(len(possible), rng.randint(0, 3)))
        if named:
            wanted = [code for code in _NAMED_PREFERENCES if code in possible]
        for code in wanted:
            preferences.append(dict(volunteer_id=volunteer_id, task_type_code=code))
        if rng.random() < 0.12:
            conflicts.append(
                dict(
                    volunteer_id=volunteer_id,
                    category=ConflictCategory.EMPLOYER,
                    organisation=row["employer"],
                    ward_id=None,
                )
            )
        if row["military_reservist"] and rng.random() < 0.5:
            first = today + dt.timedelta(days=rng.randint(0, 60))
            blocks.append(
                dict(
                    volunteer_id=volunteer_id,
                    first_day=first,
                    last_day=first + dt.timedelta(days=14),
                    reason=BlockReason.MOBILISATION,
                )
            )
    for model, rows in [
        (VolunteerSkill, skills),
        (AvailabilitySlot, slots),
        (TaskPreference, preferences),
        (ConflictDeclaration, conflicts),
        (BlockedPeriod, blocks),
    ]:
        for start in range(0, len(rows), 5000):
            session.execute(insert(model), rows[start : start + 5000])
    return len(volunteers)
