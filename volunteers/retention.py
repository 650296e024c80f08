"""Data retention: erase the personal data of people who stopped volunteering, once the force's retention
period (``DATA_RETENTION_MONTHS_AFTER_LEAVING``) has passed since they left or their application ended.

Run by the daily vetting sweep (``flask vetting sweep``, through ``seams().after_vetting_sweep``), so cron
needs nothing more. What is erased and what is kept, and why, is in docs/data-protection.md; in short:

* erased — how to reach them and sign in as them (email address, telephone, password, sessions, links,
  authenticator), and everything about them as a volunteer (home ward, travel and hours, work, warrant
  number, skills and registration numbers, availability, task preferences, conflicts of interest);
* kept — their name and the vetting record (clearances, decisions and their history, reviews, the
  changes of circumstances they reported), which the vetting function keeps under its own rules and the
  audit log's chain must not lose; and the record of the work they were offered and did, which belongs
  to the requests it served.

The volunteer's row stays, emptied, so those records still say whose they are.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.auth.models import AccountToken, RecoveryCode, TotpAuthenticator, User, UserSession
from core.auth.passwords import unusable_password_hash
from volunteers.models import (
    ENDED_STATUSES,
    AvailabilityException,
    AvailabilitySlot,
    BlockedPeriod,
    ConflictDeclaration,
    OccupationCategory,
    TaskPreference,
    Volunteer,
    VolunteerSkill,
    WorkAdjustment,
)
from volunteers.panels.models import SpecialistGroup, SpecialistGroupMembership, WardPanelMembership
from volunteers.partners.models import SkillClaim, VolunteerPartner

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be a real address


def retention_cutoff(now: dt.datetime, months: int) -> dt.datetime:
    """The moment ``months`` calendar months before ``now`` (the 31st becomes the month's last day)."""
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    day = min(now.day, (next_month - dt.timedelta(days=1)).day)
    return now.replace(year=year, month=month, day=day)


def due_for_erasure(session: Session, now: dt.datetime, months: int) -> list[Volunteer]:
    """People who left (or whose application ended) more than ``months`` ago and are not erased yet."""
    return list(
        session.scalars(
            select(Volunteer)
            .where(
                Volunteer.status.in_(ENDED_STATUSES),
                Volunteer.left_at.is_not(None),
                Volunteer.left_at <= retention_cutoff(now, months),
                Volunteer.erased_at.is_(None),
            )
            .order_by(Volunteer.id)
        )
    )


def erase_departed(session: Session, now: dt.datetime, months: int, key: bytes) -> str:
    """Erase the personal data of everyone due (``due_for_erasure``), each entry audited; one commit.

    Running it again the same day does nothing: each person erased is marked ``erased_at``.
    """
    erased = due_for_erasure(session, now, months)
    for volunteer in erased:
        _erase(session, volunteer, now)
        audit(
            session,
            actor_id=None,
            action="personal_data_erased",
            subject_type="volunteer",
            subject_id=volunteer.id,
            detail={"left_on": volunteer.left_at.date().isoformat(), "retention_months": months},
            key=key,
            at=now,
        )
    session.commit()
    whose = "former volunteer's" if len(erased) == 1 else "former volunteers'"
    return f"Data retention: {len(erased)} {whose} personal data erased ({months} months after leaving)."


def _erase(session: Session, volunteer: Volunteer, now: dt.datetime) -> None:
    user = session.get(User, volunteer.user_id)
    # Nobody can sign in as them, or be written to at their address, again.
    user.email = f"erased-{user.id}@{ERASED_DOMAIN}"
    user.password_hash = unusable_password_hash()
    user.is_disabled = True
    user.last_sign_in_at = None
    for model in (UserSession, AccountToken, TotpAuthenticator, RecoveryCode):
        session.execute(delete(model).where(model.user_id == user.id))
    # Everything about them as a volunteer: first what partners were asked to vouch for (it points at their
    # skills and partner links), then the panels and groups they sat on, so no sergeant's list still names them.
    links = select(VolunteerPartner.id).where(VolunteerPartner.volunteer_id == volunteer.id)
    session.execute(delete(SkillClaim).where(SkillClaim.link_id.in_(links)))
    session.execute(update(SpecialistGroup).where(SpecialistGroup.lead_user_id == user.id).values(lead_user_id=None))
    for model in (
        VolunteerPartner,
        WardPanelMembership,
        SpecialistGroupMembership,
        VolunteerSkill,
        TaskPreference,
        AvailabilitySlot,
        AvailabilityException,
        BlockedPeriod,
        ConflictDeclaration,
    ):
        session.execute(delete(model).where(model.volunteer_id == volunteer.id))
    session.expire(volunteer, ["skills", "preferences"])
    volunteer.phone = ""
    volunteer.home_ward_id = None
    volunteer.occupation = ""
    volunteer.employer = ""
    volunteer.occupation_category = OccupationCategory.OTHER
    volunteer.adjustment = WorkAdjustment.NONE
    volunteer.military_reservist = False
    volunteer.warrant_number = None
    volunteer.patrol_status = None
    volunteer.monthly_commitment_minutes = None
    volunteer.erased_at = now
