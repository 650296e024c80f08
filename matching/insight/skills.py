"""The skills dashboard: volunteers holding each skill, by level, against the places that asked for it.

Counted in SQL and fetched grouped (a row per skill and level, a row per task type, a row per task type and
extra skill), so the page costs the same for 500 volunteers as for 50,000.

Who counts as holding a skill: volunteers whose status is *active* (applicants, paused volunteers and leavers
are not matched, so they fill no place), living in a ward of the area, whose evidence for the skill is not
waiting or refused (the matcher does not use those either). The places: each request of the area whose
window starts in the period, not cancelled, counted ``people_needed`` times under every skill its task type
requires and every extra skill the sergeant added. A task type that takes any of several skills (a mental
health first aider, a mental health nurse, a paramedic or a doctor) counts its places under each of them, so
places are not added up across skills.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.charts import Chart, Page, Section, Series, Table
from core.wording import agree, plural
from matching.insight import rules
from matching.insight.registry import Dashboard, register
from matching.insight.scope import Scope
from matching.models import RequestSkill, RequestStatus, SupportRequest
from vetting.catalogue import SKILLS_BY_CODE
from vetting.policy import current_task_policies
from volunteers.models import EvidenceStatus, Volunteer, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

# Only active volunteers fill places: applicants are not matched yet, paused ones have stepped back.
COUNTED_STATUSES = (VolunteerStatus.ACTIVE,)
# A skill whose evidence is waiting for a coordinator, or was refused, is not one the matcher relies on.
COUNTED_EVIDENCE = (EvidenceStatus.NOT_NEEDED, EvidenceStatus.VERIFIED)
# The chart draws the skills most short; the table has every skill held or asked for.
CHART_SKILLS = 15
NO_VOLUNTEERS = "No volunteers"
HEADERS = ("Skill", "Aware", "Practitioner", "Expert", "Volunteers", "Places asking for it", "Places per volunteer")


def skill_name(code: str) -> str:
    skill = SKILLS_BY_CODE.get(code)
    return skill.name if skill else code.replace("_", " ").capitalize()


def holders(db: Session, scope: Scope) -> dict[str, dict[SkillLevel, int]]:
    """Skill code → level → how many counted volunteers of the area hold it at that level."""
    query = (
        select(VolunteerSkill.skill_code, VolunteerSkill.level, func.count())
        .join(Volunteer, Volunteer.id == VolunteerSkill.volunteer_id)
        .where(Volunteer.status.in_(COUNTED_STATUSES), VolunteerSkill.evidence_status.in_(COUNTED_EVIDENCE))
        .group_by(VolunteerSkill.skill_code, VolunteerSkill.level)
    )
    if scope.ward_ids is not None:
        query = query.where(Volunteer.home_ward_id.in_(scope.ward_ids))
    found: dict[str, dict[SkillLevel, int]] = defaultdict(lambda: dict.fromkeys(SkillLevel, 0))
    for code, level, count in db.execute(query):
        found[code][SkillLevel(level)] += count
    return found


def places_asking(db: Session, scope: Scope) -> dict[str, int]:
    """Skill code → places of the area's requests in the period that asked for it (see the module's note)."""
    in_scope = [
        SupportRequest.window_start >= scope.starts_at,
        SupportRequest.window_start < scope.ends_at,
        SupportRequest.status != RequestStatus.CANCELLED,
    ]
    if scope.ward_ids is not None:
        in_scope.append(SupportRequest.ward_id.in_(scope.ward_ids))
    policies = current_task_policies(db)

    def required(task_code: str) -> frozenset[str]:
        policy = policies.get(task_code)
        if policy is None:
            return frozenset()
        return frozenset(code for need in policy.required_skills for code in need.alternatives)

    places: dict[str, int] = defaultdict(int)
    by_task = select(SupportRequest.task_type_code, func.sum(SupportRequest.people_needed)).where(*in_scope)
    for task_code, count in db.execute(by_task.group_by(SupportRequest.task_type_code)):
        for code in required(task_code):
            places[code] += int(count)
    extras = (
        select(SupportRequest.task_type_code, RequestSkill.skill_code, func.sum(SupportRequest.people_needed))
        .join(RequestSkill, RequestSkill.request_id == SupportRequest.id)
        .where(*in_scope)
        .group_by(SupportRequest.task_type_code, RequestSkill.skill_code)
    )
    for task_code, code, count in db.execute(extras):
        # An extra skill the task type already requires is the same place asking once, not twice.
        if code not in required(task_code):
            places[code] += int(count)
    return places


def per_volunteer(places: int, volunteers: int) -> float | str:
    """Places asked per volunteer holding the skill, to one decimal place; words when nobody holds it."""
    if volunteers == 0:
        return NO_VOLUNTEERS if places else 0
    return round(places / volunteers, 1)


def _shortage_key(row: tuple) -> tuple:
    places, volunteers = row[5], row[4]
    # Nobody holding a skill that was asked for is the sharpest shortage; then the most places per volunteer.
    return (0 if (places and not volunteers) else 1, -(places / volunteers if volunteers else places), -places, row[0])


def skills_table(db: Session, scope: Scope) -> Table:
    held = holders(db, scope)
    places = places_asking(db, scope)
    rows = []
    for code in set(held) | set(places):
        levels = held.get(code, dict.fromkeys(SkillLevel, 0))
        total = sum(levels.values())
        asked = places.get(code, 0)
        rows.append(
            (
                skill_name(code),
                levels[SkillLevel.AWARE],
                levels[SkillLevel.PRACTITIONER],
                levels[SkillLevel.EXPERT],
                total,
                asked,
                per_volunteer(asked, total),
            )
        )
    rows.sort(key=_shortage_key)
    return Table(
        id="skills",
        caption=f"Volunteers by skill and level, against the places that asked for it ({scope.period_label.lower()})",
        headers=(
            "Skill",
            "Aware",
            "Practitioner",
            "Expert",
            "Volunteers",
            "Places asking for it",
            "Places per volunteer",
        ),
        rows=tuple(rows),
        numeric=frozenset(range(1, 7)),
        empty_text="No volunteer in this area holds a skill, and no request asked for one.",
    )


def summary(table: Table) -> str:
    short = [row for row in table.rows if row[5]]
    if not short:
        return "No request in this period asked for a skill."
    named = []
    for row in short[:3]:
        held = "nobody holds it" if not row[4] else f"{plural(row[4], 'volunteer')} {agree(row[4], 'holds', 'hold')} it"
        named.append(f"{row[0]} ({plural(row[5], 'place')}; {held})")
    return "The skills most short: " + "; ".join(named) + "."


def build(db: Session, scope: Scope, now: dt.datetime) -> Page:
    table = skills_table(db, scope)
    drawn = table.rows[:CHART_SKILLS]
    chart = Chart(
        title="Volunteers and places asking, by skill",
        summary=summary(table)
        + (
            f" The {len(drawn)} skills most short are drawn; every skill is in the table."
            if len(table.rows) > len(drawn)
            else ""
        ),
        labels=tuple(str(row[0]) for row in drawn),
        series=(
            Series("Volunteers holding it", tuple(row[4] for row in drawn)),
            Series("Places asking for it", tuple(row[5] for row in drawn)),
        ),
        kind="hbar",
    )
    section = Section(
        id="skills-against-places",
        heading="Skills against the places that asked for them",
        paragraphs=(
            "Volunteers counted are those active now whose home ward is in the area; a skill waiting for its "
            "evidence to be checked, or whose evidence was refused, is not counted.",
            "Places are those of requests starting in the period, not cancelled. A task type that takes any of "
            "several skills counts its places under each of them, so places are not added up across skills.",
        ),
        chart=chart if table.rows else None,
        tables=(table,),
    )
    return Page(
        title="Skills",
        freshness=rules.freshness(now) + ". Volunteers are counted as they are now.",
        sections=(section,),
    )


register(
    Dashboard(
        slug="skills",
        title="Skills",
        description="Volunteers per skill and level against the places that asked for it.",
        build=build,
    )
)
