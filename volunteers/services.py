"""Volunteer use cases: apply, keep the profile current, declare. One commit per use case."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.auth.models import Role
from core.auth.services import AccountError, create_account, record_event
from core.db import utcnow
from core.geography.models import Ward
from volunteers import events
from volunteers.models import OccupationCategory, TaskPreference, Volunteer, VolunteerKind, WorkAdjustment

# Force policy: specials commit at least 16 hours a month.
DEFAULT_SPECIAL_MONTHLY_MINUTES = 16 * 60


class ProfileError(Exception):
    """A profile change was refused; ``field`` names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class EditConflict(ProfileError):
    """Someone else saved the same record since this form was opened."""

    def __init__(self) -> None:
        super().__init__("Your profile was changed somewhere else while you were editing. "
                         "Check the details below and make your change again.")


def volunteer_for_user(session: Session, user_id: int) -> Volunteer | None:
    return session.scalar(select(Volunteer).where(Volunteer.user_id == user_id))


def register(session: Session, *, full_name: str, email: str, phone: str, kind: VolunteerKind,
             password: str, monthly_minutes: int = DEFAULT_SPECIAL_MONTHLY_MINUTES) -> Volunteer:
    """Create the account and the application; vetting opens a new-application review.

    Until a clearance is granted the volunteer can edit their profile but is never matched.
    """
    try:
        user = create_account(session, email=email, full_name=full_name, role=Role.VOLUNTEER, password=password,
                              commit=False)
    except AccountError as exc:
        raise ProfileError(exc.message, field=exc.field) from exc
    volunteer = Volunteer(
        user=user, kind=kind, phone=phone.strip(),
        monthly_commitment_minutes=monthly_minutes if kind is VolunteerKind.SPECIAL else None,
    )
    session.add(volunteer)
    session.flush()
    events.application_submitted.send(volunteer, session=session)
    record_event(session, "volunteer_applied", user.id, f"volunteer {volunteer.id} kind={kind.value}")
    session.commit()
    return volunteer


def _save(session: Session, volunteer: Volunteer, expected_version: int | None) -> Volunteer:
    """Commit a profile change, refusing it if the record changed since the form was shown."""
    if expected_version is not None and expected_version != volunteer.version:
        session.rollback()
        raise EditConflict()
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise EditConflict() from None
    return volunteer


def update_contact(session: Session, volunteer: Volunteer, *, phone: str, expected_version: int | None) -> Volunteer:
    volunteer.phone = phone.strip()
    return _save(session, volunteer, expected_version)


def set_home_ward(session: Session, volunteer: Volunteer, ward_id: int, expected_version: int | None) -> Volunteer:
    ward = session.get(Ward, ward_id)
    if ward is None:
        raise ProfileError("Choose your home ward from the list", field="ward")
    volunteer.home_ward_id = ward.id
    return _save(session, volunteer, expected_version)


def update_travel(session: Session, volunteer: Volunteer, *, travel_limit_km: int, weekly_hours: int,
                  expected_version: int | None) -> Volunteer:
    volunteer.travel_limit_km = travel_limit_km
    volunteer.weekly_hours_cap_minutes = weekly_hours * 60
    return _save(session, volunteer, expected_version)


def update_work(session: Session, volunteer: Volunteer, *, occupation: str, employer: str,
                category: OccupationCategory, adjustment: WorkAdjustment, military_reservist: bool,
                expected_version: int | None) -> Volunteer:
    volunteer.occupation = occupation.strip()
    volunteer.employer = employer.strip()
    volunteer.occupation_category = category
    volunteer.adjustment = adjustment
    volunteer.military_reservist = military_reservist
    return _save(session, volunteer, expected_version)


def set_preferences(session: Session, volunteer: Volunteer, task_type_codes: list[str], known_codes: set[str],
                    expected_version: int | None) -> Volunteer:
    unknown = set(task_type_codes) - known_codes
    if unknown:
        raise ProfileError("Choose task types from the list", field="task_types")
    volunteer.preferences = [TaskPreference(task_type_code=code) for code in sorted(set(task_type_codes))]
    # Touch the row so the version check (and bump) covers the preference list too.
    volunteer.updated_at = utcnow()
    return _save(session, volunteer, expected_version)
