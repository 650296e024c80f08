"""Demo panels and specialist groups: every ward with a sergeant gets a panel of a few of its own active
volunteers (people living there first, then elsewhere in the borough), one or two asks waiting for an answer,
and London-wide groups each led by a member. The named demo volunteer is left off the demo sergeant's panels,
so the README's walk (and the browser test) can invite her."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import User, sergeant_wards
from core.db import utcnow
from core.geography.models import Ward
from volunteers.models import Volunteer, VolunteerSkill, VolunteerStatus
from volunteers.panels.models import (
    KIND_SKILL_FAMILY,
    PanelState,
    SpecialistGroup,
    SpecialistGroupMembership,
    SpecialistKind,
    WardPanelMembership,
)
from volunteers.skills import SKILLS_BY_CODE

PANEL_SIZE = 4
NAMED_VOLUNTEER = "volunteer@demo.example"
GROUPS = (
    ("London cyber volunteers", SpecialistKind.CYBER, "Digital volunteers who help victims of fraud and online crime."),
    (
        "Mental-health support group",
        SpecialistKind.MENTAL_HEALTH,
        "First aiders and clinicians for mental-health calls.",
    ),
    ("Youth engagement group", SpecialistKind.YOUTH, "Youth workers and schools liaison volunteers."),
    ("Community languages group", SpecialistKind.LANGUAGES, "Interpreting and community languages, BSL included."),
)


def load_panels(session: Session, rng: random.Random, today: dt.date) -> int:
    """Fill the demo's panels and groups in the load's transaction. Returns how many memberships."""
    now = utcnow()
    named = session.scalar(
        select(Volunteer.id).join(User, User.id == Volunteer.user_id).where(User.email == NAMED_VOLUNTEER)
    )
    active = session.execute(
        select(Volunteer.id, Volunteer.home_ward_id, Ward.borough_id)
        .join(Ward, Ward.id == Volunteer.home_ward_id)
        .where(Volunteer.status == VolunteerStatus.ACTIVE)
        .order_by(Volunteer.id)
    ).all()
    by_ward: dict[int, list[int]] = {}
    by_borough: dict[int, list[int]] = {}
    for volunteer_id, ward_id, borough_id in active:
        if volunteer_id == named:
            continue
        by_ward.setdefault(ward_id, []).append(volunteer_id)
        by_borough.setdefault(borough_id, []).append(volunteer_id)
    wards = session.execute(
        select(Ward.id, Ward.borough_id)
        .where(Ward.id.in_(select(sergeant_wards.c.ward_id).distinct()))
        .order_by(Ward.id)
    ).all()
    rows = []
    for ward_id, borough_id in wards:
        local = by_ward.get(ward_id, [])
        nearby = [v for v in by_borough.get(borough_id, []) if v not in local]
        chosen = (local + rng.sample(nearby, k=min(len(nearby), PANEL_SIZE)))[: PANEL_SIZE + 1]
        for n, volunteer_id in enumerate(chosen):
            # The last of a full panel is still asking: the sergeant has something to answer.
            state = PanelState.ASKED if n == PANEL_SIZE else PanelState.MEMBER
            rows.append(
                WardPanelMembership(
                    ward_id=ward_id,
                    volunteer_id=volunteer_id,
                    state=state,
                    created_at=now - dt.timedelta(days=30 - n),
                    decided_at=None if state is PanelState.ASKED else now - dt.timedelta(days=29 - n),
                )
            )
    session.add_all(rows)
    return len(rows) + _groups(session, rng, now, named)


def _groups(session: Session, rng: random.Random, now: dt.datetime, named: int | None) -> int:
    skills = session.execute(
        select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_code, Volunteer.user_id)
        .join(Volunteer, Volunteer.id == VolunteerSkill.volunteer_id)
        .where(Volunteer.status == VolunteerStatus.ACTIVE)
        .order_by(VolunteerSkill.volunteer_id)
    ).all()
    count = 0
    for name, kind, description in GROUPS:
        family = KIND_SKILL_FAMILY[kind]
        people: dict[int, int] = {}
        for volunteer_id, code, user_id in skills:
            known = SKILLS_BY_CODE.get(code)
            if known is not None and known.family is family and volunteer_id != named:
                people[volunteer_id] = user_id
        members = list(people.items())[:8]
        lead_user = members[0][1] if members else None
        group = SpecialistGroup(name=name, kind=kind, description=description, lead_user_id=lead_user, created_at=now)
        session.add(group)
        session.flush()
        for n, (volunteer_id, _) in enumerate(members):
            state = PanelState.ASKED if n == len(members) - 1 and n > 1 else PanelState.MEMBER
            session.add(
                SpecialistGroupMembership(
                    group_id=group.id,
                    volunteer_id=volunteer_id,
                    state=state,
                    created_at=now - dt.timedelta(days=20),
                    decided_at=None if state is PanelState.ASKED else now - dt.timedelta(days=19),
                )
            )
            count += 1
    return count
