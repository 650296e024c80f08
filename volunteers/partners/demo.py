"""Demo partners: three organisations, a partner reviewer for the cyber resilience centre, and volunteers who
name them with skills to vouch for (some already vouched for or declined, most waiting).

Runs after the profiles and the local team are loaded (it reads their skills) and draws nothing from the
shared random generator, so every other feature's demo data is the same with or without it.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.auth.models import Role, TotpAuthenticator, User
from core.db import utcnow
from volunteers.models import ConflictCategory, ConflictDeclaration, EvidenceStatus, Volunteer, VolunteerSkill
from volunteers.partners.models import (
    ClaimState,
    PartnerKind,
    PartnerOrganisation,
    PartnerRelation,
    PartnerReviewer,
    SkillClaim,
    VolunteerPartner,
)
from volunteers.skills import SKILLS_BY_CODE, SkillFamily

DEMO_REVIEWER = ("partner.reviewer", "Grace Adebayo")
PARTNERS = (
    (
        "London Cyber Resilience Centre",
        PartnerKind.CYBER_RESILIENCE_CENTRE,
        "Helps London's small businesses and charities protect themselves from cyber crime; vouches for its "
        "associates' and students' cyber skills.",
        SkillFamily.CYBER,
        8,
    ),
    (
        "Camden and Islington NHS Foundation Trust",
        PartnerKind.NHS_TRUST,
        "Mental-health trust: confirms its staff's mental-health skills.",
        SkillFamily.HEALTH,
        5,
    ),
    (
        "Hackney Youth Service",
        PartnerKind.YOUTH_SERVICE,
        "The borough's youth service: confirms its youth workers' skills.",
        SkillFamily.YOUTH,
        4,
    ),
)
DECLINE_REASON = "Not known to us in this role"


def load_partners(session: Session, rng: random.Random, today: dt.date) -> int:
    """Load the demo partners and the volunteers who name them. Returns how many volunteers name one."""
    del rng, today  # deterministic from the data already loaded; the shared generator is left alone
    now = utcnow()
    partners = []
    for name, kind, description, family, _ in PARTNERS:
        partner = PartnerOrganisation(name=name, name_key=name.lower(), kind=kind, description=description)
        session.add(partner)
        partners.append((partner, family))
    session.flush()

    coordinator = session.scalar(select(User).where(User.email == "coordinator@demo.example"))
    if coordinator is not None:  # the reviewer signs in as the coordinator does: password and the demo app
        local, full_name = DEMO_REVIEWER
        reviewer = User(
            email=f"{local}@demo.example",
            full_name=full_name,
            role=Role.PARTNER_REVIEWER,
            password_hash=coordinator.password_hash,
            created_at=now,
        )
        session.add(reviewer)
        session.flush()
        secret = session.scalar(select(TotpAuthenticator.secret).where(TotpAuthenticator.user_id == coordinator.id))
        if secret:
            session.add(TotpAuthenticator(user_id=reviewer.id, secret=secret, created_at=now))
        session.add(PartnerReviewer(user_id=reviewer.id, partner_id=partners[0][0].id, linked_by_id=coordinator.id))
        reviewer_id = reviewer.id
    else:
        reviewer_id = None

    # The named demo volunteer is left free of partners: the browser tests and the README walk add one.
    named = session.scalar(select(User.id).where(User.email == "volunteer@demo.example"))
    taken: set[int] = set()
    links = 0
    for (partner, family), (*_, how_many) in zip(partners, PARTNERS, strict=True):
        codes = [s.code for s in SKILLS_BY_CODE.values() if s.family is family]
        rows = session.execute(
            select(Volunteer.id, VolunteerSkill.id, VolunteerSkill.skill_code)
            .join(VolunteerSkill, VolunteerSkill.volunteer_id == Volunteer.id)
            .where(VolunteerSkill.skill_code.in_(codes), Volunteer.user_id != named)
            .order_by(Volunteer.id, VolunteerSkill.id)
        ).all()
        claims: dict[int, list[tuple[int, str]]] = {}
        for volunteer_id, skill_id, code in rows:
            if volunteer_id not in taken and (volunteer_id in claims or len(claims) < how_many):
                claims.setdefault(volunteer_id, []).append((skill_id, code))
        taken |= set(claims)
        for n, (volunteer_id, skills) in enumerate(claims.items()):
            link = VolunteerPartner(
                volunteer_id=volunteer_id,
                partner_id=partner.id,
                relation=PartnerRelation.WORKS_FOR if n % 2 == 0 else PartnerRelation.WORKS_WITH,
            )
            link.claims = [SkillClaim(skill_id=skill_id) for skill_id, _ in skills]
            session.add(link)
            links += 1
            # The cyber centre's reviewer has already answered for the first three: two vouched, one declined.
            if reviewer_id is None or partner is not partners[0][0] or n >= 3:
                continue
            for claim, (skill_id, code) in zip(link.claims, skills, strict=True):
                claim.decided_by_id, claim.decided_at = reviewer_id, now
                if n < 2:
                    claim.state = ClaimState.VOUCHED
                    if not SKILLS_BY_CODE[code].evidence_required:
                        session.execute(
                            update(VolunteerSkill)
                            .where(VolunteerSkill.id == skill_id)
                            .values(
                                evidence_status=EvidenceStatus.VERIFIED,
                                evidence_reviewed_by_id=reviewer_id,
                                evidence_reviewed_at=now,
                                vouched_by_partner_id=partner.id,
                            )
                        )
                else:
                    claim.state, claim.decline_reason = ClaimState.DECLINED, DECLINE_REASON
    # A conflict of interest naming a partner from the list: the trust's first volunteer is not sent to work
    # involving the trust (the matcher matches it by id).
    first_health = next(iter(_named_by(session, partners[1][0].id)), None)
    if first_health is not None:
        session.add(
            ConflictDeclaration(
                volunteer_id=first_health,
                category=ConflictCategory.EMPLOYER,
                organisation=partners[1][0].name,
                partner_id=partners[1][0].id,
            )
        )
    session.flush()
    return links


def _named_by(session: Session, partner_id: int) -> list[int]:
    return list(
        session.scalars(
            select(VolunteerPartner.volunteer_id)
            .where(VolunteerPartner.partner_id == partner_id)
            .order_by(VolunteerPartner.volunteer_id)
        )
    )
