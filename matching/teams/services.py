"""Ward-team use cases: list, add, change, mark as left, remove. One commit per use case, audited.

A sergeant keeps the teams of their own wards; a coordinator any ward's. Anyone else's ward or member is "not
found", so its existence is not given away. A member named as the supervising officer of a request still to come
cannot leave the team (the request would silently lose its supervisor, and with it the volunteers cleared only
with one), and a member named on any request is never deleted (the request's record still names them): they
are marked as having left instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from core.audit.services import record as audit
from core.auth.models import Role, User, sergeant_wards
from core.field_errors import FieldError
from core.geography.models import Ward
from matching.models import RequestStatus, SupportRequest
from matching.teams.models import EMAIL_MAX, NAME_MAX, PHONE_MAX, TeamRole, WardTeamMember

# Ids are 32-bit integers in the database; a larger number in a URL is simply not found.
_MAX_ID = 2**31 - 1
# Requests still to happen or happening: a supervisor named on one of them is needed there.
_LIVE = (RequestStatus.OPEN, RequestStatus.MATCHED, RequestStatus.PART_FILLED, RequestStatus.FILLED)
# Something@something.something, no spaces: the form's own check is stricter; this one guards other callers.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+() -]*$")


class TeamError(FieldError):
    """A change to a ward team was refused; ``field`` names the form field it concerns, if any."""


class NotFound(Exception):
    """No such ward or member, or not one this user keeps."""


@dataclass(frozen=True)
class MemberDetails:
    """What a sergeant enters about a PCSO or ward officer."""

    name: str
    role: TeamRole
    email: str
    phone: str = ""
    active: bool = True


# ---- Whose teams ---------------------------------------------------------------------------------


def _own_wards(user_id: int) -> Select:
    return select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == user_id)


def kept_wards(session: Session, user: User) -> list[Ward]:
    """The wards whose teams ``user`` keeps, by name: a sergeant's own (a coordinator's is every ward)."""
    query = select(Ward).options(joinedload(Ward.borough)).order_by(Ward.name, Ward.id)
    if user.role is not Role.COORDINATOR:
        query = query.where(Ward.id.in_(_own_wards(user.id)))
    return list(session.scalars(query))


def ward_for(session: Session, user: User, ward_id: int) -> Ward:
    """A ward whose team ``user`` keeps, or NotFound."""
    if not 0 < ward_id <= _MAX_ID:
        raise NotFound()
    query = select(Ward).where(Ward.id == ward_id).options(joinedload(Ward.borough))
    if user.role is not Role.COORDINATOR:
        query = query.where(Ward.id.in_(_own_wards(user.id)))
    ward = session.scalar(query)
    if ward is None:
        raise NotFound()
    return ward


def members(session: Session, ward_ids: list[int]) -> dict[int, list[WardTeamMember]]:
    """Every member of these wards' teams by ward: those on the team first, then those who left, by name."""
    found: dict[int, list[WardTeamMember]] = {ward_id: [] for ward_id in ward_ids}
    for member in session.scalars(
        select(WardTeamMember)
        .where(WardTeamMember.ward_id.in_(ward_ids))
        .options(joinedload(WardTeamMember.user))
        .order_by(WardTeamMember.active.desc(), func.lower(WardTeamMember.name), WardTeamMember.id)
    ):
        found[member.ward_id].append(member)
    return found


def member_for(session: Session, user: User, member_id: int) -> WardTeamMember:
    """A member of a team ``user`` keeps, or NotFound."""
    if not 0 < member_id <= _MAX_ID:
        raise NotFound()
    query = (
        select(WardTeamMember)
        .where(WardTeamMember.id == member_id)
        .options(joinedload(WardTeamMember.ward).joinedload(Ward.borough))
    )
    if user.role is not Role.COORDINATOR:
        query = query.where(WardTeamMember.ward_id.in_(_own_wards(user.id)))
    member = session.scalar(query)
    if member is None:
        raise NotFound()
    return member


def supervisors(session: Session, ward_ids: list[int]) -> list[WardTeamMember]:
    """The members still on these wards' teams, who may be named as a request's supervising officer."""
    return list(
        session.scalars(
            select(WardTeamMember)
            .where(WardTeamMember.ward_id.in_(ward_ids), WardTeamMember.active.is_(True))
            .options(joinedload(WardTeamMember.ward))
            .order_by(func.lower(WardTeamMember.name), WardTeamMember.id)
        )
    )


def can_supervise(session: Session, member_id: int, ward_id: int) -> bool:
    """Whether the member is on the team of ``ward_id`` now (a request names a supervisor of its own ward)."""
    return (
        session.scalar(
            select(WardTeamMember.id).where(
                WardTeamMember.id == member_id, WardTeamMember.ward_id == ward_id, WardTeamMember.active.is_(True)
            )
        )
        is not None
    )


def upcoming_supervised(session: Session, member_id: int, now: dt.datetime) -> list[SupportRequest]:
    """The requests still to come (or under way) that name the member as their supervising officer."""
    return list(
        session.scalars(
            select(SupportRequest)
            .where(
                SupportRequest.supervising_officer_id == member_id,
                SupportRequest.status.in_(_LIVE),
                SupportRequest.window_end > now,
            )
            .order_by(SupportRequest.window_start, SupportRequest.id)
        )
    )


# ---- Add, change, remove -------------------------------------------------------------------------


def _tidy(details: MemberDetails) -> MemberDetails:
    name = " ".join(details.name.split())
    email = details.email.strip()
    phone = " ".join(details.phone.split())
    if not name:
        raise TeamError("Enter their name", field="name")
    if len(name) > NAME_MAX:
        raise TeamError(f"Name must be {NAME_MAX} characters or fewer", field="name")
    if not isinstance(details.role, TeamRole):
        raise TeamError("Choose whether they are a PCSO or a ward officer", field="role")
    if not email:
        raise TeamError("Enter their work email address", field="email")
    if len(email) > EMAIL_MAX:
        raise TeamError(f"Email address must be {EMAIL_MAX} characters or fewer", field="email")
    if not _EMAIL.match(email):
        raise TeamError("Enter an email address in the correct format, like name@met.police.uk", field="email")
    if len(phone) > PHONE_MAX:
        raise TeamError(f"Phone number must be {PHONE_MAX} characters or fewer", field="phone")
    if not _PHONE.match(phone) or (phone and sum(c.isdigit() for c in phone) < 6):
        raise TeamError("Enter a phone number, like 020 7230 1212 or 07700 900 982", field="phone")
    return MemberDetails(name=name, role=details.role, email=email, phone=phone, active=details.active)


def _account_for(session: Session, email: str) -> int | None:
    """The enabled staff account with this email, if any: a PCSO or officer who signs in is linked to it.
    Never a volunteer's account (a volunteer is not the ward's officer on this service)."""
    return session.scalar(
        select(User.id).where(
            func.lower(User.email) == email.lower(), User.role != Role.VOLUNTEER, User.is_disabled.is_(False)
        )
    )


def _record(session: Session, actor: User, action: str, member: WardTeamMember, key: bytes, **detail) -> None:
    audit(
        session,
        actor_id=actor.id,
        action=f"ward_team.{action}",
        subject_type="ward_team_member",
        subject_id=member.id,
        detail={"ward_id": member.ward_id, "name": member.name, "role": member.role.value, **detail},
        key=key,
    )


def add_member(
    session: Session, user: User, ward_id: int, details: MemberDetails, key: bytes, now: dt.datetime
) -> WardTeamMember:
    """Add a PCSO or ward officer to a ward's team (on the team from now); audited."""
    ward = ward_for(session, user, ward_id)
    tidy = _tidy(details)
    member = WardTeamMember(
        ward_id=ward.id,
        name=tidy.name,
        role=tidy.role,
        email=tidy.email,
        phone=tidy.phone,
        active=True,
        user_id=_account_for(session, tidy.email),
        created_at=now,
        updated_at=now,
    )
    session.add(member)
    session.flush()
    _record(session, user, "member_added", member, key)
    session.commit()
    return member


def update_member(
    session: Session, user: User, member_id: int, details: MemberDetails, key: bytes, now: dt.datetime
) -> WardTeamMember:
    """Change a member's details, or mark them as having left the team (or back on it); audited.

    Leaving is refused while they are the supervising officer of a request still to come."""
    member = member_for(session, user, member_id)
    tidy = _tidy(details)
    if member.active and not tidy.active:
        named = upcoming_supervised(session, member.id, now)
        if named:
            titles = ", ".join(f"'{r.title}'" for r in named[:3]) + (" and others" if len(named) > 3 else "")
            raise TeamError(
                f"{member.name} is the supervising officer of {len(named)} request"
                f"{'s' if len(named) != 1 else ''} still to come ({titles}): name someone else on "
                f"{'them' if len(named) != 1 else 'it'} first",
                field="active",
            )
    before = {"name": member.name, "role": member.role.value, "active": member.active}
    member.name, member.role, member.email, member.phone = tidy.name, tidy.role, tidy.email, tidy.phone
    member.active = tidy.active
    member.user_id = _account_for(session, tidy.email)
    member.updated_at = now
    _record(session, user, "member_changed", member, key, before=before, active=member.active)
    session.commit()
    return member


def remove_member(session: Session, user: User, member_id: int, key: bytes) -> WardTeamMember:
    """Remove someone added by mistake; audited. A member named on any request is kept (its record names
    them): they can be marked as having left instead."""
    member = member_for(session, user, member_id)
    named = session.scalar(
        select(func.count(SupportRequest.id)).where(SupportRequest.supervising_officer_id == member.id)
    )
    if named:
        raise TeamError(
            f"{member.name} is named as the supervising officer on {named} request{'s' if named != 1 else ''}, "
            "so they stay on record: change them and choose that they have left the team instead"
        )
    _record(session, user, "member_removed", member, key)
    session.delete(member)
    session.commit()
    return member
