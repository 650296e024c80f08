"""Demo ward teams: a PCSO and a dedicated ward officer for every ward a demo sergeant keeps, a youth request of
the demo sergeant supervised by their PCSO, and one volunteer near the demo sergeant cleared for youth work only
with a supervising officer (no children's barred-list check), so the demo shows supervision changing who can go.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import Role, User, sergeant_wards
from matching.models import SupportRequest
from matching.teams.models import TeamRole, WardTeamMember
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from volunteers.models import AvailabilitySlot, Volunteer, VolunteerKind, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

_FIRST = ["Sam", "Dev", "Aisha", "Tom", "Grace", "Kwame", "Joanna", "Rui", "Nadia", "Callum", "Priya", "Ola"]
_LAST = ["Okafor", "Patel", "Begum", "Wright", "Murphy", "Mensah", "Nowak", "Silva", "Hussain", "Reid", "Shah"]
# The volunteer cleared for youth work only with a supervising officer, by name so the README's walk can say who.
SUPERVISED_ONLY_NAME = "Hana Whitfield"
SUPERVISED_ONLY_EMAIL = "hana.whitfield@demo.example"


def load_ward_teams(session: Session, rng: random.Random, today: dt.date) -> int:
    """A PCSO and a ward officer for each demo sergeant's ward; then the demo sergeant's supervised youth request
    and the supervised-only volunteer. Returns how many team members."""
    ward_ids = sorted(
        set(
            session.scalars(
                select(sergeant_wards.c.ward_id)
                .join(User, User.id == sergeant_wards.c.user_id)
                .where(User.role == Role.SERGEANT)
            )
        )
    )
    members = []
    for ward_id in ward_ids:
        for role, title in ((TeamRole.PCSO, "PCSO"), (TeamRole.WARD_OFFICER, "PC")):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            members.append(
                WardTeamMember(
                    ward_id=ward_id,
                    name=f"{title} {first} {last}",
                    role=role,
                    email=f"{first}.{last}.{ward_id}@met.demo.example".lower(),
                    phone=f"020 7230 {rng.randint(1000, 9999)}",
                )
            )
    session.add_all(members)
    session.flush()
    _supervised_youth_request(session)
    _supervised_only_volunteer(session, today)
    return len(members)


def _demo_sergeant_wards(session: Session) -> list[int]:
    tom = session.scalar(select(User.id).where(User.email == "sergeant@demo.example"))
    if tom is None:
        return []
    return list(
        session.scalars(
            select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == tom).order_by(sergeant_wards.c.ward_id)
        )
    )


def _supervised_youth_request(session: Session) -> None:
    """The demo sergeant's first youth request goes with their ward's PCSO: one volunteer is then enough."""
    ward_ids = _demo_sergeant_wards(session)
    item = session.scalar(
        select(SupportRequest)
        .where(SupportRequest.ward_id.in_(ward_ids), SupportRequest.task_type_code == "youth_schools_liaison")
        .order_by(SupportRequest.window_start, SupportRequest.id)
        .limit(1)
    )
    if item is None:
        return
    pcso = session.scalar(
        select(WardTeamMember.id).where(WardTeamMember.ward_id == item.ward_id, WardTeamMember.role == TeamRole.PCSO)
    )
    item.supervising_officer_id, item.people_needed, item.all_or_nothing = pcso, 1, False


def _supervised_only_volunteer(session: Session, today: dt.date) -> None:
    """A police support volunteer of their own (the demo's password): a schools liaison who signs British Sign
    Language, living in the demo sergeant's first ward, free most days, with NPPV level 2 (abbreviated) and no
    children's barred-list check, so youth work only with a supervising officer."""
    ward_ids = _demo_sergeant_wards(session)
    password_hash = session.scalar(select(User.password_hash).where(User.email == "volunteer@demo.example"))
    if not ward_ids or password_hash is None:
        return
    user = User(
        email=SUPERVISED_ONLY_EMAIL, full_name=SUPERVISED_ONLY_NAME, role=Role.VOLUNTEER, password_hash=password_hash
    )
    session.add(user)
    session.flush()
    volunteer = Volunteer(
        user_id=user.id,
        kind=VolunteerKind.PSV,
        status=VolunteerStatus.ACTIVE,
        phone="07700 900 417",
        home_ward_id=ward_ids[0],
        travel_limit_km=10,
        weekly_hours_cap_minutes=16 * 60,
        occupation="Teacher",  # of deaf children: her BSL is beside her job's skills
    )
    session.add(volunteer)
    session.flush()
    session.add_all(
        VolunteerSkill(volunteer_id=volunteer.id, skill_code=code, level=level)
        for code, level in (
            ("schools_liaison", SkillLevel.EXPERT),
            ("safeguarding", SkillLevel.PRACTITIONER),
            ("bsl", SkillLevel.PRACTITIONER),
        )
    )
    valid_from = today - dt.timedelta(days=200)
    session.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code="NPPV2A",
            state=ClearanceState.GRANTED,
            valid_from=valid_from,
            expires_on=valid_from + dt.timedelta(days=3 * 365),
        )
    )
    session.add_all(
        AvailabilitySlot(volunteer_id=volunteer.id, weekday=day, start_minute=8 * 60, end_minute=22 * 60)
        for day in range(7)
    )
    session.flush()
