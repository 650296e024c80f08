"""Partner organisations' use cases: coordinators keep the list, volunteers name theirs, reviewers vouch.

One commit per use case, each with its audit entry (``core.audit.services.record``, in the same
transaction). A reviewer's reach is their one organisation: every query for them starts from it, and a
claim, volunteer or link outside it is ``NotFound`` (a 404), never a hint that it exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from core.audit.services import record as audit
from core.auth.models import Role, User
from core.db import utcnow
from core.field_errors import FieldError
from core.timeutil import format_date
from volunteers.models import ENDED_STATUSES, EvidenceStatus, Volunteer, VolunteerSkill
from volunteers.partners.models import (
    PARTNER_DESCRIPTION_MAX,
    PARTNER_NAME_MAX,
    REASON_MAX,
    ClaimState,
    PartnerKind,
    PartnerOrganisation,
    PartnerRelation,
    PartnerReviewer,
    SkillClaim,
    VolunteerPartner,
)
from volunteers.skills import SKILLS_BY_CODE


class PartnerError(FieldError):
    """A partner use case was refused; ``field`` names the form field it concerns, if any."""


class NotFound(Exception):
    """No such record, or not one this person may see."""


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _skill_name(code: str) -> str:
    skill = SKILLS_BY_CODE.get(code)
    return skill.name if skill else code


# ---- The list coordinators keep ------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerRow:
    partner: PartnerOrganisation
    volunteers: int  # volunteers who name it
    pending: int  # claims waiting for its reviewer
    reviewers: list[str]  # its reviewers' names


def partner_choices(session: Session) -> list[tuple[int, str]]:
    """Every partner organisation as (id, name), by name: for the forms that let people choose one."""
    query = select(PartnerOrganisation.id, PartnerOrganisation.name).order_by(PartnerOrganisation.name_key)
    return [(row.id, row.name) for row in session.execute(query)]


def list_partners(session: Session) -> list[PartnerRow]:
    partners = list(session.scalars(select(PartnerOrganisation).order_by(PartnerOrganisation.name_key)))
    named = dict(
        session.execute(
            select(VolunteerPartner.partner_id, func.count(VolunteerPartner.id)).group_by(VolunteerPartner.partner_id)
        ).all()
    )
    pending = dict(
        session.execute(
            select(VolunteerPartner.partner_id, func.count(SkillClaim.id))
            .join(SkillClaim, SkillClaim.link_id == VolunteerPartner.id)
            .where(SkillClaim.state == ClaimState.PENDING)
            .group_by(VolunteerPartner.partner_id)
        ).all()
    )
    reviewers: dict[int, list[str]] = {}
    for partner_id, name in session.execute(
        select(PartnerReviewer.partner_id, User.full_name)
        .join(User, User.id == PartnerReviewer.user_id)
        .order_by(User.full_name)
    ):
        reviewers.setdefault(partner_id, []).append(name)
    return [PartnerRow(p, named.get(p.id, 0), pending.get(p.id, 0), reviewers.get(p.id, [])) for p in partners]


def get_partner(session: Session, partner_id: int) -> PartnerOrganisation:
    partner = session.get(PartnerOrganisation, partner_id)
    if partner is None:
        raise NotFound()
    return partner


def reviewers_of(session: Session, partner_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(PartnerReviewer, PartnerReviewer.user_id == User.id)
            .where(PartnerReviewer.partner_id == partner_id)
            .order_by(User.full_name)
        )
    )


def _checked_details(session: Session, name: str, description: str, partner_id: int | None) -> tuple[str, str, str]:
    name = _one_line(name)
    description = " ".join((description or "").split())
    if not name:
        raise PartnerError("Enter the organisation's name", field="name")
    if len(name) > PARTNER_NAME_MAX:
        raise PartnerError(f"Name must be {PARTNER_NAME_MAX} characters or fewer", field="name")
    if len(description) > PARTNER_DESCRIPTION_MAX:
        raise PartnerError(f"Description must be {PARTNER_DESCRIPTION_MAX} characters or fewer", field="description")
    key = name.lower()
    clash = session.scalar(select(PartnerOrganisation.id).where(PartnerOrganisation.name_key == key))
    if clash is not None and clash != partner_id:
        raise PartnerError("A partner organisation with this name already exists", field="name")
    return name, key, description


def create_partner(
    session: Session, *, name: str, kind: PartnerKind, description: str, actor_id: int, key: bytes
) -> PartnerOrganisation:
    """Add a partner organisation (name unique whatever the case)."""
    name, name_key, description = _checked_details(session, name, description, None)
    partner = PartnerOrganisation(name=name, name_key=name_key, kind=kind, description=description)
    session.add(partner)
    session.flush()
    audit(
        session,
        actor_id=actor_id,
        action="partner.added",
        subject_type="partner_organisation",
        subject_id=partner.id,
        detail={"name": name, "kind": kind.value},
        key=key,
    )
    session.commit()
    return partner


def update_partner(
    session: Session, partner_id: int, *, name: str, kind: PartnerKind, description: str, actor_id: int, key: bytes
) -> PartnerOrganisation:
    """Change a partner's name, kind or description; the audit entry keeps what it was."""
    partner = get_partner(session, partner_id)
    name, name_key, description = _checked_details(session, name, description, partner.id)
    before = {"name": partner.name, "kind": partner.kind.value, "description": partner.description}
    after = {"name": name, "kind": kind.value, "description": description}
    if before == after:
        return partner
    partner.name, partner.name_key, partner.kind, partner.description = name, name_key, kind, description
    audit(
        session,
        actor_id=actor_id,
        action="partner.changed",
        subject_type="partner_organisation",
        subject_id=partner.id,
        detail={"before": before, "after": after},
        key=key,
    )
    session.commit()
    return partner


def get_reviewer_account(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.role is not Role.PARTNER_REVIEWER:
        raise NotFound()
    return user


def link_reviewer(session: Session, user_id: int, partner_id: int, actor_id: int, key: bytes) -> PartnerReviewer:
    """Make ``partner_id`` the one organisation the partner reviewer ``user_id`` reviews for."""
    user = get_reviewer_account(session, user_id)
    if session.get(PartnerOrganisation, partner_id) is None:
        raise PartnerError("Choose a partner organisation from the list", field="partner")
    link = session.get(PartnerReviewer, user.id)
    before = link.partner_id if link else None
    if link is None:
        link = PartnerReviewer(user_id=user.id, partner_id=partner_id, linked_by_id=actor_id)
        session.add(link)
    elif link.partner_id != partner_id:
        link.partner_id, link.linked_by_id, link.linked_at = partner_id, actor_id, utcnow()
    else:
        return link
    audit(
        session,
        actor_id=actor_id,
        action="partner_reviewer.linked",
        subject_type="user",
        subject_id=user.id,
        detail={"partner_id": partner_id, "was": before},
        key=key,
    )
    session.commit()
    return link


def reviewer_partner(session: Session, user_id: int) -> PartnerOrganisation | None:
    """The organisation a partner reviewer reviews for (None until a coordinator links them)."""
    return session.scalar(
        select(PartnerOrganisation)
        .join(PartnerReviewer, PartnerReviewer.partner_id == PartnerOrganisation.id)
        .where(PartnerReviewer.user_id == user_id)
    )


# ---- A volunteer's own organisations ----------------------------------------------------------------


def links_of(session: Session, volunteer_id: int) -> list[VolunteerPartner]:
    """The organisations a volunteer names, with each claim, its skill and who decided it."""
    return list(
        session.scalars(
            select(VolunteerPartner)
            .where(VolunteerPartner.volunteer_id == volunteer_id)
            .join(PartnerOrganisation, PartnerOrganisation.id == VolunteerPartner.partner_id)
            .options(
                joinedload(VolunteerPartner.partner),
                selectinload(VolunteerPartner.claims).joinedload(SkillClaim.skill),
                selectinload(VolunteerPartner.claims).joinedload(SkillClaim.decided_by),
            )
            .order_by(PartnerOrganisation.name_key)
        )
    )


def own_link(session: Session, volunteer: Volunteer, link_id: int) -> VolunteerPartner:
    link = session.get(VolunteerPartner, link_id)
    if link is None or link.volunteer_id != volunteer.id:
        raise NotFound()
    return link


def _own_skills(volunteer: Volunteer, skill_ids: Iterable[int]) -> list[VolunteerSkill]:
    held = {s.id: s for s in volunteer.skills}
    chosen = set(skill_ids)
    if not chosen <= set(held):  # a tampered form, or a skill removed in another tab
        raise PartnerError("Choose skills from your profile", field="skills")
    return [held[i] for i in sorted(chosen)]


def name_partner(
    session: Session,
    volunteer: Volunteer,
    *,
    partner_id: int,
    relation: PartnerRelation,
    skill_ids: Collection[int],
    key: bytes,
) -> VolunteerPartner:
    """The volunteer names an organisation they work for or with, and the skills it may vouch for."""
    partner = session.get(PartnerOrganisation, partner_id)
    if partner is None:
        raise PartnerError("Choose an organisation from the list", field="partner")
    if session.scalar(
        select(VolunteerPartner.id).where(
            VolunteerPartner.volunteer_id == volunteer.id, VolunteerPartner.partner_id == partner_id
        )
    ):
        raise PartnerError(f"You have already named {partner.name}", field="partner")
    skills = _own_skills(volunteer, skill_ids)
    link = VolunteerPartner(volunteer_id=volunteer.id, partner_id=partner.id, relation=relation)
    link.claims = [SkillClaim(skill_id=s.id) for s in skills]
    session.add(link)
    session.flush()
    audit(
        session,
        actor_id=volunteer.user_id,
        action="partner.named",
        subject_type="volunteer",
        subject_id=volunteer.id,
        detail={"partner_id": partner.id, "relation": relation.value, "skills": [s.skill_code for s in skills]},
        key=key,
    )
    session.commit()
    return link


def set_claims(session: Session, volunteer: Volunteer, link_id: int, skill_ids: Collection[int], key: bytes) -> None:
    """Ask the organisation to vouch for exactly these skills: new ones wait for its reviewer, unticked ones
    still waiting are withdrawn. Claims it has already decided stay as they are (its word was given)."""
    link = own_link(session, volunteer, link_id)
    wanted = {s.id for s in _own_skills(volunteer, skill_ids)}
    have = {c.skill_id: c for c in link.claims}
    added = sorted(wanted - set(have))
    withdrawn = [c for s, c in have.items() if s not in wanted and c.state is ClaimState.PENDING]
    if not added and not withdrawn:
        return
    for claim in withdrawn:
        link.claims.remove(claim)
    link.claims.extend(SkillClaim(skill_id=skill_id) for skill_id in added)
    codes = {s.id: s.skill_code for s in volunteer.skills}
    audit(
        session,
        actor_id=volunteer.user_id,
        action="partner.claims_changed",
        subject_type="volunteer",
        subject_id=volunteer.id,
        detail={
            "partner_id": link.partner_id,
            "asked": [codes[i] for i in added],
            "withdrawn": [codes.get(c.skill_id, str(c.skill_id)) for c in withdrawn],
        },
        key=key,
    )
    session.commit()


def remove_partner(session: Session, volunteer: Volunteer, link_id: int, key: bytes) -> PartnerOrganisation:
    """The volunteer no longer names the organisation: its reviewer stops seeing them. A skill it vouched for
    stays verified (the vouch was given, and the audit log keeps every decision)."""
    link = own_link(session, volunteer, link_id)
    partner = link.partner
    decided = {c.skill.skill_code: c.state.value for c in link.claims if c.state is not ClaimState.PENDING}
    session.delete(link)
    audit(
        session,
        actor_id=volunteer.user_id,
        action="partner.unnamed",
        subject_type="volunteer",
        subject_id=volunteer.id,
        detail={"partner_id": partner.id, "decided_claims": decided},
        key=key,
    )
    session.commit()
    return partner


# ---- What a partner reviewer sees and decides ---------------------------------------------------------


# A volunteer who has left, or whose application ended, is no longer the partner's business.
def _visible_links(partner_id: int):
    return (
        select(VolunteerPartner)
        .join(Volunteer, Volunteer.id == VolunteerPartner.volunteer_id)
        .where(VolunteerPartner.partner_id == partner_id, Volunteer.status.not_in(ENDED_STATUSES))
    )


def links_for_reviewer(session: Session, partner_id: int) -> list[VolunteerPartner]:
    """Every volunteer who names the partner, with the skills they ask it to vouch for: those with claims
    waiting first, then by name."""
    links = list(
        session.scalars(
            _visible_links(partner_id).options(
                joinedload(VolunteerPartner.volunteer).joinedload(Volunteer.user),
                selectinload(VolunteerPartner.claims).joinedload(SkillClaim.skill),
            )
        )
    )
    return sorted(
        links,
        key=lambda link: (
            not any(c.state is ClaimState.PENDING for c in link.claims),
            link.volunteer.user.full_name.lower(),
            link.id,
        ),
    )


def link_for_reviewer(session: Session, partner_id: int, volunteer_id: int) -> VolunteerPartner:
    link = session.scalar(
        _visible_links(partner_id)
        .where(VolunteerPartner.volunteer_id == volunteer_id)
        .options(
            joinedload(VolunteerPartner.volunteer).joinedload(Volunteer.user),
            selectinload(VolunteerPartner.claims).joinedload(SkillClaim.skill),
        )
    )
    if link is None:
        raise NotFound()
    return link


def claim_for_reviewer(session: Session, partner_id: int, claim_id: int) -> SkillClaim:
    claim = session.scalar(
        select(SkillClaim)
        .join(VolunteerPartner, VolunteerPartner.id == SkillClaim.link_id)
        .join(Volunteer, Volunteer.id == VolunteerPartner.volunteer_id)
        .where(
            SkillClaim.id == claim_id,
            VolunteerPartner.partner_id == partner_id,
            Volunteer.status.not_in(ENDED_STATUSES),
        )
        .options(joinedload(SkillClaim.skill), joinedload(SkillClaim.link))
    )
    if claim is None:
        raise NotFound()
    return claim


def pending_count(session: Session, partner_id: int) -> int:
    return session.scalar(
        select(func.count(SkillClaim.id))
        .join(VolunteerPartner, VolunteerPartner.id == SkillClaim.link_id)
        .join(Volunteer, Volunteer.id == VolunteerPartner.volunteer_id)
        .where(
            VolunteerPartner.partner_id == partner_id,
            SkillClaim.state == ClaimState.PENDING,
            Volunteer.status.not_in(ENDED_STATUSES),
        )
    )


def volunteer_count(session: Session, partner_id: int) -> int:
    """How many volunteers (still volunteering or applying) name the partner."""
    return session.scalar(select(func.count()).select_from(_visible_links(partner_id).subquery()))


def _settle(session: Session, claim: SkillClaim, state: ClaimState, reviewer_id: int, reason: str | None) -> None:
    # Only a claim still waiting changes: of two reviewers deciding at once, the second is told.
    done = session.execute(
        update(SkillClaim)
        .where(SkillClaim.id == claim.id, SkillClaim.state == ClaimState.PENDING)
        .values(state=state, decided_by_id=reviewer_id, decided_at=utcnow(), decline_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.rollback()
        raise PartnerError("This skill has already been decided by someone else.")


def _check_pending(claim: SkillClaim) -> None:
    if claim.state is not ClaimState.PENDING:
        raise PartnerError(f"This skill has already been {claim.state.value}.")


def vouch(session: Session, partner_id: int, claim_id: int, reviewer_id: int, key: bytes, today: dt.date) -> SkillClaim:
    """The partner vouches for the volunteer's skill: the skill's evidence becomes verified, by this reviewer
    for this partner (as a coordinator's register check does), and the matcher counts it.

    A registered profession (nurse, paramedic, doctor, youth worker) still needs the coordinator's check of
    the professional register: the law protects those titles, and no employer's word replaces the register.
    Its claim is recorded as vouched, which the coordinator sees beside the register check.
    """
    claim = claim_for_reviewer(session, partner_id, claim_id)
    _check_pending(claim)
    skill = claim.skill
    if skill.evidence_expires_on is not None and skill.evidence_expires_on < today:
        raise PartnerError(
            f"This registration ran out on {format_date(skill.evidence_expires_on)}, so it cannot be vouched for. "
            "Decline it, and the volunteer can add the renewed registration."
        )
    _settle(session, claim, ClaimState.VOUCHED, reviewer_id, None)
    register = SKILLS_BY_CODE.get(skill.skill_code)
    verifies = not (register and register.evidence_required)
    if verifies:
        session.execute(
            update(VolunteerSkill)
            .where(VolunteerSkill.id == skill.id)
            .values(
                evidence_status=EvidenceStatus.VERIFIED,
                evidence_reviewed_by_id=reviewer_id,
                evidence_reviewed_at=utcnow(),
                evidence_rejection_reason=None,
                vouched_by_partner_id=partner_id,
            )
            .execution_options(synchronize_session=False)
        )
    audit(
        session,
        actor_id=reviewer_id,
        action="skill_claim.vouched",
        subject_type="volunteer",
        subject_id=claim.link.volunteer_id,
        detail={
            "claim_id": claim.id,
            "partner_id": partner_id,
            "skill": skill.skill_code,
            "evidence_verified": verifies,
        },
        key=key,
    )
    session.commit()
    session.refresh(claim)
    return claim


def decline(session: Session, partner_id: int, claim_id: int, reviewer_id: int, reason: str, key: bytes) -> SkillClaim:
    """The partner will not vouch for the skill, and says why: recorded for the coordinators, who see it on
    the volunteer's page. The skill itself is unchanged: a decline is the partner's word, not a finding."""
    claim = claim_for_reviewer(session, partner_id, claim_id)
    _check_pending(claim)
    reason = _one_line(reason)
    if not reason:
        raise PartnerError("Enter why you cannot vouch for this skill", field="reason")
    if len(reason) > REASON_MAX:
        raise PartnerError(f"The reason must be {REASON_MAX} characters or fewer", field="reason")
    _settle(session, claim, ClaimState.DECLINED, reviewer_id, reason)
    audit(
        session,
        actor_id=reviewer_id,
        action="skill_claim.declined",
        subject_type="volunteer",
        subject_id=claim.link.volunteer_id,
        detail={"claim_id": claim.id, "partner_id": partner_id, "skill": claim.skill.skill_code, "reason": reason},
        key=key,
    )
    session.commit()
    session.refresh(claim)
    return claim


def skill_name(code: str) -> str:
    """A skill's name in the catalogue (its code if the catalogue no longer has it)."""
    return _skill_name(code)
