"""Ward panels and specialist groups: one transaction per use case, each change audited.

Who may do what is decided here, not only by the routes' roles: a sergeant manages the panels of their own
wards only (anyone else's is "not found", as if it did not exist), a coordinator any ward's; a group is
managed by its lead (a volunteer's account) or a coordinator. A volunteer answers only their own invitations.
Nothing here reads or shows vetting: the pages list name, skills and contact details, never clearances.

Every change of state is a conditional update from the state the person saw (``_move``): of two people
answering the same invitation or ask at once, the second is told it has already been answered.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import case, exists, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from core.audit.services import record as audit
from core.auth.models import Role, User, sergeant_wards
from core.db import utcnow
from core.field_errors import FieldError
from core.geography.models import Borough, Ward
from volunteers.models import EvidenceStatus, Volunteer, VolunteerSkill, VolunteerStatus
from volunteers.panels.models import (
    GROUP_DESCRIPTION_MAX,
    GROUP_NAME_MAX,
    PENDING_STATES,
    PanelState,
    SpecialistGroup,
    SpecialistGroupMembership,
    SpecialistKind,
    WardPanelMembership,
)
from volunteers.skills import SKILLS_BY_CODE

SEARCH_MAX = 100  # the longest search text read
SEARCH_LIMIT = 25  # candidates shown at once: enough to choose from, short enough to read

Membership = WardPanelMembership | SpecialistGroupMembership


class NotFound(Exception):
    """No such ward, group or membership, or not one this person may see."""


class PanelError(FieldError):
    """A panel or group change refused; ``field`` names the form field it concerns, if any."""


# ---- Who may manage what -------------------------------------------------------------------------


def managed_ward(session: Session, user: User, ward_id: int) -> Ward:
    """The ward whose panel ``user`` manages: any for a coordinator, their own for a sergeant. NotFound otherwise."""
    ward = session.get(Ward, ward_id)
    if ward is None:
        raise NotFound()
    if user.role is Role.COORDINATOR:
        return ward
    if user.role is Role.SERGEANT and session.scalar(
        select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == user.id, sergeant_wards.c.ward_id == ward_id)
    ):
        return ward
    raise NotFound()


def get_group(session: Session, group_id: int) -> SpecialistGroup:
    group = session.get(SpecialistGroup, group_id)
    if group is None:
        raise NotFound()
    return group


def can_manage_group(user: User, group: SpecialistGroup) -> bool:
    return user.role is Role.COORDINATOR or (group.lead_user_id is not None and group.lead_user_id == user.id)


def managed_group(session: Session, user: User, group_id: int) -> SpecialistGroup:
    """The group ``user`` leads (or any, for a coordinator); NotFound otherwise."""
    group = get_group(session, group_id)
    if not can_manage_group(user, group):
        raise NotFound()
    return group


def own_volunteer(session: Session, user: User) -> Volunteer:
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
    if volunteer is None:
        raise NotFound()
    return volunteer


# ---- Reading ------------------------------------------------------------------------------------


@dataclass
class Roster:
    """A panel's or group's people, by where they stand (the members by name)."""

    members: list[Membership] = field(default_factory=list)
    invited: list[Membership] = field(default_factory=list)
    asked: list[Membership] = field(default_factory=list)


def _roster(session: Session, model: type[Membership], parent_column, parent_id: int) -> Roster:
    rows = session.scalars(
        select(model)
        .join(Volunteer, Volunteer.id == model.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .where(
            parent_column == parent_id,
            model.state.in_([PanelState.MEMBER, *PENDING_STATES]),
            # People who have left are nobody's panel any more; their rows stay for the record.
            Volunteer.status.not_in([VolunteerStatus.LEFT, VolunteerStatus.NOT_ACCEPTED]),
        )
        .options(selectinload(model.volunteer).selectinload(Volunteer.skills))
        .order_by(User.full_name, User.id)
    )
    roster = Roster()
    for row in rows:
        {PanelState.MEMBER: roster.members, PanelState.INVITED: roster.invited, PanelState.ASKED: roster.asked}[
            row.state
        ].append(row)
    return roster


def ward_roster(session: Session, ward: Ward) -> Roster:
    return _roster(session, WardPanelMembership, WardPanelMembership.ward_id, ward.id)


def group_roster(session: Session, group: SpecialistGroup) -> Roster:
    return _roster(session, SpecialistGroupMembership, SpecialistGroupMembership.group_id, group.id)


def sergeant_panels(session: Session, user: User) -> list[tuple[Ward, int, int]]:
    """The sergeant's wards, each with its number of members and of asks waiting for an answer."""
    wards = list(user.wards)
    counts = _counts(session, [w.id for w in wards])
    return [(w, *counts.get(w.id, (0, 0))) for w in wards]


def _counts(session: Session, ward_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not ward_ids:
        return {}
    members = func.sum(case((WardPanelMembership.state == PanelState.MEMBER, 1), else_=0))
    asks = func.sum(case((WardPanelMembership.state == PanelState.ASKED, 1), else_=0))
    rows = session.execute(
        select(WardPanelMembership.ward_id, members, asks)
        .join(Volunteer, Volunteer.id == WardPanelMembership.volunteer_id)
        .where(
            WardPanelMembership.ward_id.in_(ward_ids),
            Volunteer.status.not_in([VolunteerStatus.LEFT, VolunteerStatus.NOT_ACCEPTED]),
        )
        .group_by(WardPanelMembership.ward_id)
    )
    return {ward_id: (int(m or 0), int(a or 0)) for ward_id, m, a in rows}


@dataclass(frozen=True)
class WardOverview:
    ward: Ward
    members: int
    asks: int


def wards_overview(session: Session, borough_id: int | None) -> list[WardOverview]:
    """The coordinator's overview: every ward of a borough, or (no borough) every ward with a panel or a ring-fence."""
    query = select(Ward).join(Borough, Borough.id == Ward.borough_id).options(selectinload(Ward.borough))
    if borough_id is not None:
        query = query.where(Ward.borough_id == borough_id)
    else:
        has_panel = exists().where(
            WardPanelMembership.ward_id == Ward.id,
            WardPanelMembership.state.in_([PanelState.MEMBER, PanelState.ASKED]),
        )
        query = query.where(or_(Ward.ring_fenced.is_(True), has_panel))
    wards = list(session.scalars(query.order_by(Borough.name, Ward.name)))
    counts = _counts(session, [w.id for w in wards])
    return [WardOverview(w, *counts.get(w.id, (0, 0))) for w in wards]


def find_candidates(session: Session, ward: Ward, text: str, skill_code: str) -> list[Volunteer]:
    """Active volunteers to invite to ``ward``'s panel, by name or skill: those living in the ward first, then
    the ward's borough, then the rest by name. Anyone already on the panel or waiting for an answer is left out.
    """
    text = " ".join(text.split())[:SEARCH_MAX]
    if not text and not skill_code:
        return []
    taken = select(WardPanelMembership.volunteer_id).where(
        WardPanelMembership.ward_id == ward.id,
        WardPanelMembership.state.in_([PanelState.MEMBER, *PENDING_STATES]),
    )
    query = (
        select(Volunteer)
        .join(User, User.id == Volunteer.user_id)
        .outerjoin(Ward, Ward.id == Volunteer.home_ward_id)
        .where(Volunteer.status == VolunteerStatus.ACTIVE, Volunteer.id.not_in(taken), User.is_disabled.is_(False))
    )
    if text:
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(User.full_name).like(f"%{escaped}%", escape="\\"))
    if skill_code:
        query = query.where(
            exists().where(VolunteerSkill.volunteer_id == Volunteer.id, VolunteerSkill.skill_code == skill_code)
        )
    nearness = case((Volunteer.home_ward_id == ward.id, 0), (Ward.borough_id == ward.borough_id, 1), else_=2)
    return list(
        session.scalars(
            query.options(selectinload(Volunteer.skills), selectinload(Volunteer.home_ward))
            .order_by(nearness, User.full_name, Volunteer.id)
            .limit(SEARCH_LIMIT)
        )
    )


@dataclass
class VolunteerPanels:
    """A volunteer's own panels and groups, by where they stand."""

    invitations: list[WardPanelMembership]
    wards: list[WardPanelMembership]  # member, or asked
    groups: list[SpecialistGroupMembership]  # member, or asked


def volunteer_panels(session: Session, volunteer: Volunteer) -> VolunteerPanels:
    wards = list(
        session.scalars(
            select(WardPanelMembership)
            .join(Ward, Ward.id == WardPanelMembership.ward_id)
            .where(
                WardPanelMembership.volunteer_id == volunteer.id,
                WardPanelMembership.state.in_([PanelState.MEMBER, *PENDING_STATES]),
            )
            .options(selectinload(WardPanelMembership.ward).selectinload(Ward.borough))
            .order_by(Ward.name)
        )
    )
    groups = list(
        session.scalars(
            select(SpecialistGroupMembership)
            .join(SpecialistGroup, SpecialistGroup.id == SpecialistGroupMembership.group_id)
            .where(
                SpecialistGroupMembership.volunteer_id == volunteer.id,
                SpecialistGroupMembership.state.in_([PanelState.MEMBER, PanelState.ASKED]),
            )
            .options(selectinload(SpecialistGroupMembership.group))
            .order_by(SpecialistGroup.name)
        )
    )
    return VolunteerPanels(
        invitations=[m for m in wards if m.state is PanelState.INVITED],
        wards=[m for m in wards if m.state is not PanelState.INVITED],
        groups=groups,
    )


def pending_invitations(session: Session, volunteer_id: int) -> int:
    """How many panel invitations wait for the volunteer's answer (their home page says so)."""
    return session.scalar(
        select(func.count(WardPanelMembership.id)).where(
            WardPanelMembership.volunteer_id == volunteer_id, WardPanelMembership.state == PanelState.INVITED
        )
    )


def list_groups(session: Session) -> list[SpecialistGroup]:
    return list(
        session.scalars(
            select(SpecialistGroup).options(selectinload(SpecialistGroup.lead)).order_by(SpecialistGroup.name)
        )
    )


def group_member_counts(session: Session) -> Counter:
    return Counter(
        dict(
            session.execute(
                select(SpecialistGroupMembership.group_id, func.count(SpecialistGroupMembership.id))
                .join(Volunteer, Volunteer.id == SpecialistGroupMembership.volunteer_id)
                .where(
                    SpecialistGroupMembership.state == PanelState.MEMBER,
                    Volunteer.status.not_in([VolunteerStatus.LEFT, VolunteerStatus.NOT_ACCEPTED]),
                )
                .group_by(SpecialistGroupMembership.group_id)
            ).all()
        )
    )


def group_membership_of(
    session: Session, group: SpecialistGroup, volunteer_id: int
) -> SpecialistGroupMembership | None:
    return session.scalar(
        select(SpecialistGroupMembership).where(
            SpecialistGroupMembership.group_id == group.id, SpecialistGroupMembership.volunteer_id == volunteer_id
        )
    )


def vouchable(group: SpecialistGroup, skill: VolunteerSkill) -> bool:
    """Whether a group's lead may vouch for this skill: of the group's field, not yet verified, and not one a
    professional register decides (those a coordinator checks against the register)."""
    known = SKILLS_BY_CODE.get(skill.skill_code)
    return (
        known is not None
        and known.family is group.skill_family
        and not known.evidence_required
        and skill.evidence_status is not EvidenceStatus.VERIFIED
    )


# ---- Changing -----------------------------------------------------------------------------------


def _move(
    session: Session, membership: Membership, from_states: Iterable[PanelState], to: PanelState, actor_id: int, now
) -> None:
    """Change the membership's state if it is still one of ``from_states``; otherwise roll back and refuse."""
    model = type(membership)
    result = session.execute(
        update(model)
        .where(model.id == membership.id, model.state.in_(list(from_states)))
        .values(state=to, decided_at=now, decided_by_id=actor_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise PanelError("This has already been answered or changed by someone else. Check the page again.")
    session.expire(membership)


def _audit(session: Session, key: bytes, actor_id: int, action: str, volunteer_id: int, detail: dict, now) -> None:
    audit(
        session,
        actor_id=actor_id,
        action=action,
        subject_type="volunteer",
        subject_id=volunteer_id,
        detail=detail,
        key=key,
        at=now,
    )


def _ward_detail(ward: Ward) -> dict:
    return {"ward": ward.code, "ward_name": ward.name}


def _group_detail(group: SpecialistGroup) -> dict:
    return {"group": group.id, "group_name": group.name}


def _active_volunteer(session: Session, volunteer_id: int) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound()
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise PanelError(f"{volunteer.user.full_name} is not an active volunteer at the moment, so cannot be invited.")
    return volunteer


def invite(
    session: Session, ward: Ward, volunteer_id: int, actor: User, key: bytes, now: dt.datetime | None = None
) -> str:
    """Invite an active volunteer to ``ward``'s panel (the caller has checked the actor manages it). Someone who
    had asked to join becomes a member at once. Returns what happened, in words."""
    now = now or utcnow()
    volunteer = _active_volunteer(session, volunteer_id)
    name = volunteer.user.full_name
    membership = session.scalar(
        select(WardPanelMembership).where(
            WardPanelMembership.ward_id == ward.id, WardPanelMembership.volunteer_id == volunteer.id
        )
    )
    if membership is not None and membership.state is PanelState.MEMBER:
        raise PanelError(f"{name} is already on the {ward.name} panel.")
    if membership is not None and membership.state is PanelState.INVITED:
        raise PanelError(f"{name} has already been invited to the {ward.name} panel.")
    if membership is not None and membership.state is PanelState.ASKED:
        _move(session, membership, [PanelState.ASKED], PanelState.MEMBER, actor.id, now)
        _audit(session, key, actor.id, "panel.ask_accepted", volunteer.id, _ward_detail(ward), now)
        session.commit()
        return f"{name} had asked to join: they are now on the {ward.name} panel."
    if membership is None:
        session.add(
            WardPanelMembership(ward_id=ward.id, volunteer_id=volunteer.id, state=PanelState.INVITED, created_at=now)
        )
    else:
        _move(session, membership, [PanelState.DECLINED, PanelState.REMOVED], PanelState.INVITED, actor.id, now)
        membership.created_at = now
    session.flush()
    _audit(session, key, actor.id, "panel.invited", volunteer.id, _ward_detail(ward), now)
    session.commit()
    return f"{name} has been invited to the {ward.name} panel. They will see the invitation when they sign in."


def _ward_membership(session: Session, ward: Ward, membership_id: int) -> WardPanelMembership:
    membership = session.get(WardPanelMembership, membership_id)
    if membership is None or membership.ward_id != ward.id:
        raise NotFound()
    return membership


def decide_ask(
    session: Session, ward: Ward, membership_id: int, accept: bool, actor: User, key: bytes, now=None
) -> WardPanelMembership:
    """The sergeant (or a coordinator) accepts or declines a volunteer's ask to join ``ward``'s panel."""
    now = now or utcnow()
    membership = _ward_membership(session, ward, membership_id)
    to = PanelState.MEMBER if accept else PanelState.DECLINED
    _move(session, membership, [PanelState.ASKED], to, actor.id, now)
    action = "panel.ask_accepted" if accept else "panel.ask_declined"
    _audit(session, key, actor.id, action, membership.volunteer_id, _ward_detail(ward), now)
    session.commit()
    return membership


def remove_from_panel(
    session: Session, ward: Ward, membership_id: int, actor: User, key: bytes, now=None
) -> WardPanelMembership:
    """Take a member off ``ward``'s panel, or withdraw an invitation not yet answered."""
    now = now or utcnow()
    membership = _ward_membership(session, ward, membership_id)
    was = membership.state
    _move(session, membership, [PanelState.MEMBER, PanelState.INVITED], PanelState.REMOVED, actor.id, now)
    action = "panel.removed" if was is PanelState.MEMBER else "panel.invitation_withdrawn"
    _audit(session, key, actor.id, action, membership.volunteer_id, _ward_detail(ward), now)
    session.commit()
    return membership


def ward_membership(session: Session, ward: Ward, membership_id: int) -> WardPanelMembership:
    return _ward_membership(session, ward, membership_id)


def own_ward_membership(session: Session, volunteer: Volunteer, membership_id: int) -> WardPanelMembership:
    """One of the volunteer's own panel memberships; anyone else's is NotFound."""
    membership = session.get(WardPanelMembership, membership_id)
    if membership is None or membership.volunteer_id != volunteer.id:
        raise NotFound()
    return membership


def answer_invitation(
    session: Session, volunteer: Volunteer, membership_id: int, accept: bool, key: bytes, now=None
) -> WardPanelMembership:
    """The volunteer accepts or declines an invitation to a ward's panel."""
    now = now or utcnow()
    membership = own_ward_membership(session, volunteer, membership_id)
    _move(
        session,
        membership,
        [PanelState.INVITED],
        PanelState.MEMBER if accept else PanelState.DECLINED,
        volunteer.user_id,
        now,
    )
    action = "panel.invitation_accepted" if accept else "panel.invitation_declined"
    _audit(session, key, volunteer.user_id, action, volunteer.id, _ward_detail(membership.ward), now)
    session.commit()
    return membership


def ask_to_join(session: Session, volunteer: Volunteer, ward_id: int | None, key: bytes, now=None) -> str:
    """The volunteer asks to join a ward's panel. An invitation waiting for them is accepted instead."""
    now = now or utcnow()
    ward = session.get(Ward, ward_id) if ward_id is not None else None
    if ward is None:
        raise PanelError("Choose the ward whose panel you would like to join", "ward")
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise PanelError("You can ask to join a panel while you are an active volunteer.", "ward")
    membership = session.scalar(
        select(WardPanelMembership).where(
            WardPanelMembership.ward_id == ward.id, WardPanelMembership.volunteer_id == volunteer.id
        )
    )
    if membership is not None and membership.state is PanelState.MEMBER:
        raise PanelError(f"You are already on the {ward.name} panel", "ward")
    if membership is not None and membership.state is PanelState.ASKED:
        raise PanelError(f"You have already asked to join the {ward.name} panel: the sergeant will answer", "ward")
    if membership is not None and membership.state is PanelState.INVITED:
        _move(session, membership, [PanelState.INVITED], PanelState.MEMBER, volunteer.user_id, now)
        _audit(session, key, volunteer.user_id, "panel.invitation_accepted", volunteer.id, _ward_detail(ward), now)
        session.commit()
        return f"You had been invited already: you are now on the {ward.name} panel."
    if membership is None:
        session.add(
            WardPanelMembership(ward_id=ward.id, volunteer_id=volunteer.id, state=PanelState.ASKED, created_at=now)
        )
    else:
        _move(session, membership, [PanelState.DECLINED, PanelState.REMOVED], PanelState.ASKED, volunteer.user_id, now)
        membership.created_at = now
    session.flush()
    _audit(session, key, volunteer.user_id, "panel.asked", volunteer.id, _ward_detail(ward), now)
    session.commit()
    return f"You have asked to join the {ward.name} panel. The ward's sergeant will answer."


def leave_panel(
    session: Session, volunteer: Volunteer, membership_id: int, key: bytes, now=None
) -> WardPanelMembership:
    """The volunteer leaves a panel, or takes back an ask not yet answered."""
    now = now or utcnow()
    membership = own_ward_membership(session, volunteer, membership_id)
    was = membership.state
    _move(session, membership, [PanelState.MEMBER, PanelState.ASKED], PanelState.REMOVED, volunteer.user_id, now)
    action = "panel.left" if was is PanelState.MEMBER else "panel.ask_withdrawn"
    _audit(session, key, volunteer.user_id, action, volunteer.id, _ward_detail(membership.ward), now)
    session.commit()
    return membership


def set_ring_fenced(session: Session, ward: Ward, ring_fenced: bool, actor: User, key: bytes, now=None) -> bool:
    """A coordinator ring-fences a ward (its panel leaves it only for urgent requests elsewhere) or lifts it.
    Returns whether anything changed."""
    now = now or utcnow()
    if ward.ring_fenced == ring_fenced:
        return False
    ward.ring_fenced = ring_fenced
    audit(
        session,
        actor_id=actor.id,
        action="ward.ring_fenced" if ring_fenced else "ward.ring_fence_lifted",
        subject_type="ward",
        subject_id=ward.id,
        detail=_ward_detail(ward),
        key=key,
        at=now,
    )
    session.commit()
    return True


# ---- Specialist groups --------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupDetails:
    name: str
    kind: str
    description: str
    lead_email: str


def _lead(session: Session, email: str) -> User | None:
    """The lead named by email address: an active volunteer's account, or None if the box is empty."""
    email = email.strip().lower()
    if not email:
        return None
    user = session.scalar(select(User).where(User.email == email))
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user.id)) if user is not None else None
    if user is None or volunteer is None or user.is_disabled:
        raise PanelError(
            "Enter the email address of a volunteer's account: no volunteer has this address", "lead_email"
        )
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise PanelError(f"{user.full_name} is not an active volunteer, so cannot lead a group", "lead_email")
    return user


def _check_group(session: Session, details: GroupDetails, group_id: int | None) -> tuple[str, SpecialistKind, str]:
    name = " ".join(details.name.split())
    if not name:
        raise PanelError("Enter the group's name", "name")
    if len(name) > GROUP_NAME_MAX:
        raise PanelError(f"The name must be {GROUP_NAME_MAX} characters or fewer", "name")
    same = session.scalar(select(SpecialistGroup.id).where(func.lower(SpecialistGroup.name) == name.lower()))
    if same is not None and same != group_id:
        raise PanelError("There is already a group with this name", "name")
    try:
        kind = SpecialistKind(details.kind)
    except ValueError:
        raise PanelError("Choose the group's field from the list", "kind") from None
    description = details.description.strip()
    if len(description) > GROUP_DESCRIPTION_MAX:
        raise PanelError(f"The description must be {GROUP_DESCRIPTION_MAX} characters or fewer", "description")
    return name, kind, description


def _make_lead_a_member(session: Session, group: SpecialistGroup, lead: User, actor: User, key: bytes, now) -> None:
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == lead.id))
    membership = group_membership_of(session, group, volunteer.id)
    if membership is None:
        session.add(
            SpecialistGroupMembership(
                group_id=group.id,
                volunteer_id=volunteer.id,
                state=PanelState.MEMBER,
                created_at=now,
                decided_at=now,
                decided_by_id=actor.id,
            )
        )
    elif membership.state is not PanelState.MEMBER:
        membership.state, membership.decided_at, membership.decided_by_id = PanelState.MEMBER, now, actor.id
    else:
        return
    _audit(session, key, actor.id, "group.member_added_as_lead", volunteer.id, _group_detail(group), now)


def save_group(
    session: Session, details: GroupDetails, actor: User, key: bytes, group_id: int | None = None, now=None
) -> SpecialistGroup:
    """A coordinator creates a specialist group, or changes one (``group_id``). The lead becomes a member."""
    now = now or utcnow()
    name, kind, description = _check_group(session, details, group_id)
    lead = _lead(session, details.lead_email)
    if group_id is None:
        group = SpecialistGroup(name=name, kind=kind, description=description, created_at=now)
        session.add(group)
        action = "group.created"
    else:
        group = get_group(session, group_id)
        group.name, group.kind, group.description = name, kind, description
        action = "group.changed"
    group.lead_user_id = lead.id if lead else None
    session.flush()
    if lead is not None:
        _make_lead_a_member(session, group, lead, actor, key, now)
    audit(
        session,
        actor_id=actor.id,
        action=action,
        subject_type="specialist_group",
        subject_id=group.id,
        detail={"name": name, "kind": kind.value, "lead_user": group.lead_user_id},
        key=key,
        at=now,
    )
    session.commit()
    return group


def ask_to_join_group(session: Session, group: SpecialistGroup, volunteer: Volunteer, key: bytes, now=None) -> str:
    now = now or utcnow()
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise PanelError("You can ask to join a group while you are an active volunteer.")
    membership = group_membership_of(session, group, volunteer.id)
    if membership is not None and membership.state is PanelState.MEMBER:
        raise PanelError(f"You are already in {group.name}.")
    if membership is not None and membership.state is PanelState.ASKED:
        raise PanelError(f"You have already asked to join {group.name}: its lead will answer.")
    if membership is None:
        session.add(
            SpecialistGroupMembership(
                group_id=group.id, volunteer_id=volunteer.id, state=PanelState.ASKED, created_at=now
            )
        )
    else:
        froms = [PanelState.DECLINED, PanelState.REMOVED, PanelState.INVITED]
        _move(session, membership, froms, PanelState.ASKED, volunteer.user_id, now)
        membership.created_at = now
    session.flush()
    _audit(session, key, volunteer.user_id, "group.asked", volunteer.id, _group_detail(group), now)
    session.commit()
    return f"You have asked to join {group.name}. Its lead or a coordinator will answer."


def _group_membership(session: Session, group: SpecialistGroup, membership_id: int) -> SpecialistGroupMembership:
    membership = session.get(SpecialistGroupMembership, membership_id)
    if membership is None or membership.group_id != group.id:
        raise NotFound()
    return membership


def group_membership(session: Session, group: SpecialistGroup, membership_id: int) -> SpecialistGroupMembership:
    return _group_membership(session, group, membership_id)


def decide_group_ask(
    session: Session, group: SpecialistGroup, membership_id: int, accept: bool, actor: User, key: bytes, now=None
) -> SpecialistGroupMembership:
    """The group's lead or a coordinator accepts or declines an ask to join."""
    now = now or utcnow()
    membership = _group_membership(session, group, membership_id)
    _move(session, membership, [PanelState.ASKED], PanelState.MEMBER if accept else PanelState.DECLINED, actor.id, now)
    action = "group.ask_accepted" if accept else "group.ask_declined"
    _audit(session, key, actor.id, action, membership.volunteer_id, _group_detail(group), now)
    session.commit()
    return membership


def remove_from_group(
    session: Session, group: SpecialistGroup, membership_id: int, actor: User, key: bytes, now=None
) -> SpecialistGroupMembership:
    now = now or utcnow()
    membership = _group_membership(session, group, membership_id)
    if group.lead_user_id is not None and membership.volunteer.user_id == group.lead_user_id:
        raise PanelError("The lead cannot be taken out of their own group: a coordinator names another lead first.")
    _move(session, membership, [PanelState.MEMBER], PanelState.REMOVED, actor.id, now)
    _audit(session, key, actor.id, "group.removed", membership.volunteer_id, _group_detail(group), now)
    session.commit()
    return membership


def leave_group(session: Session, group: SpecialistGroup, volunteer: Volunteer, key: bytes, now=None) -> None:
    """The volunteer leaves the group, or takes back an ask not yet answered."""
    now = now or utcnow()
    membership = group_membership_of(session, group, volunteer.id)
    if membership is None:
        raise NotFound()
    if group.lead_user_id == volunteer.user_id and membership.state is PanelState.MEMBER:
        raise PanelError("You lead this group: ask a coordinator to name another lead before you leave it.")
    was = membership.state
    _move(session, membership, [PanelState.MEMBER, PanelState.ASKED], PanelState.REMOVED, volunteer.user_id, now)
    action = "group.left" if was is PanelState.MEMBER else "group.ask_withdrawn"
    _audit(session, key, volunteer.user_id, action, volunteer.id, _group_detail(group), now)
    session.commit()


def vouch(
    session: Session, group: SpecialistGroup, membership_id: int, skill_id: int, actor: User, key: bytes, now=None
) -> VolunteerSkill:
    """The group's lead (or a coordinator) vouches for a member's competence in a skill of the group's field.

    The skill's evidence becomes verified, by this person, as a coordinator's evidence check makes it: the
    matcher and the volunteer's profile read the same status. Audited with who vouched and as lead of which group.
    """
    now = now or utcnow()
    membership = _group_membership(session, group, membership_id)
    if membership.state is not PanelState.MEMBER:
        raise PanelError("Only a member's skills can be vouched for.")
    if membership.volunteer.user_id == actor.id:
        raise PanelError("You cannot vouch for your own skills: a coordinator checks them.")
    skill = session.get(VolunteerSkill, skill_id)
    if skill is None or skill.volunteer_id != membership.volunteer_id:
        raise NotFound()
    if not vouchable(group, skill):
        raise PanelError(
            "This skill cannot be vouched for here: it is already verified, outside the group's field, "
            "or checked against a professional register by a coordinator."
        )
    result = session.execute(
        update(VolunteerSkill)
        .where(VolunteerSkill.id == skill.id, VolunteerSkill.evidence_status != EvidenceStatus.VERIFIED)
        .values(
            evidence_status=EvidenceStatus.VERIFIED,
            evidence_reviewed_by_id=actor.id,
            evidence_reviewed_at=now,
            evidence_rejection_reason=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise PanelError("This skill has just been verified by someone else.")
    _audit(
        session,
        key,
        actor.id,
        "skill.vouched",
        membership.volunteer_id,
        {
            **_group_detail(group),
            "skill": skill.skill_code,
            "as": "lead" if group.lead_user_id == actor.id else "coordinator",
        },
        now,
    )
    session.commit()
    session.refresh(skill)
    return skill
