"""Volunteer use cases: apply, keep the profile current, declare. One commit per use case."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.auth import throttling
from core.auth.models import Role, ThrottleCounter, User
from core.auth.passwords import hash_password, password_problem
from core.auth.services import normalise_email, record_event
from core.auth.throttle import Delay, address_key
from core.db import UTCDateTime, utcnow
from core.field_errors import FieldError
from core.geography.models import Ward
from core.mail import MailError
from core.seams import seams
from volunteers import emails
from volunteers.availability import WEEKDAYS, Window, clock, local_time_problem, overlaps
from volunteers.models import (
    AvailabilityException,
    AvailabilitySlot,
    BlockedPeriod,
    BlockReason,
    CircumstanceCategory,
    CircumstanceReport,
    ConflictCategory,
    ConflictDeclaration,
    EvidenceStatus,
    OccupationCategory,
    PendingApplication,
    TaskPreference,
    Volunteer,
    VolunteerKind,
    VolunteerSkill,
    WorkAdjustment,
)
from volunteers.partners.models import PartnerOrganisation
from volunteers.phone import InvalidPhone, uk_phone
from volunteers.skills import SKILLS_BY_CODE, SkillLevel

log = logging.getLogger(__name__)

# Force policy: specials commit at least 16 hours a month.
DEFAULT_SPECIAL_MONTHLY_MINUTES = 16 * 60


class ProfileError(FieldError):
    """A profile change was refused; ``field`` names the form field it concerns, if any."""


class EditConflict(ProfileError):
    """Someone else saved the same record since this form was opened."""

    def __init__(self) -> None:
        super().__init__(
            "Your profile was changed somewhere else while you were editing. "
            "Check the details below and make your change again."
        )


def volunteer_for_user(session: Session, user_id: int) -> Volunteer | None:
    return session.scalar(select(Volunteer).where(Volunteer.user_id == user_id))


@dataclass(frozen=True)
class ApplyPolicy:
    """How applications are confirmed and throttled (config APPLY_*)."""

    confirm_for: dt.timedelta
    per_address: Delay
    per_email: Delay
    service_name: str

    @classmethod
    def from_config(cls, config: dict) -> ApplyPolicy:
        longest = dt.timedelta(minutes=config["APPLY_LONGEST_DELAY_MINUTES"])
        return cls(
            confirm_for=dt.timedelta(hours=config["APPLY_CONFIRM_HOURS"]),
            per_address=Delay(config["APPLY_FREE_PER_ADDRESS"], dt.timedelta(minutes=1), longest),
            per_email=Delay(config["APPLY_FREE_PER_EMAIL"], dt.timedelta(minutes=1), longest),
            service_name=config["SERVICE_NAME"],
        )


class ApplicationThrottled(ProfileError):
    """Too many applications from one client address: the form is shown again, nothing typed lost."""


class ApplicationLinkError(ProfileError):
    """A confirmation link that cannot be used (unknown, expired, used, or its address taken since)."""


LINK_DEAD = "This link has expired or has already been used"

# (to, subject, body): core.mail.send_mail with the app's settings, passed in by the view.
Sender = Callable[[str, str, str], object]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def apply(
    session: Session,
    *,
    full_name: str,
    email: str,
    phone: str,
    kind: VolunteerKind,
    password: str,
    address: str | None,
    policy: ApplyPolicy,
    send: Sender,
    confirm_link: Callable[[str], str],
    sign_in_link: str,
    now: dt.datetime | None = None,
) -> None:
    """Take an application: keep it aside and email a confirmation link to the address given.

    The reply is the same whether or not the address has an account ("check your email"): when it has,
    no application is kept and its owner is told instead that someone tried to register with it. An
    application reaches an account and the vetting queue only through ``confirm_application``.
    Throttled per client ``address`` (refused with ApplicationThrottled) and per email address (beyond
    a few emails an hour to one address, nothing more is sent or kept, and the reply is unchanged).
    """
    now = now or utcnow()
    email = normalise_email(email)
    phone = _checked_phone(phone)
    problem = password_problem(password)
    if problem:
        raise ProfileError(problem, field="password")
    wait = _claim_or_wait(session, f"apply-address:{address_key(address)}", policy.per_address, now)
    if wait is not None:
        record_event(session, "application_throttled", None, "client address waiting", address=address)
        session.commit()
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        raise ApplicationThrottled(
            "There have been too many applications from your internet connection. "
            f"Try again in {minutes} minute{'' if minutes == 1 else 's'}."
        )
    # Hashed on every path, so the reply takes as long whether or not the address is known.
    password_hash = hash_password(password)
    session.execute(delete(PendingApplication).where(PendingApplication.expires_at <= now))
    if throttling.claim(session, f"apply-email:{throttling.digest(email)}", policy.per_email, now) is None:
        record_event(session, "application_email_throttled", None, "email address waiting: nothing sent")
        session.commit()
        return
    owner_id = session.scalar(select(User.id).where(User.email == email))
    if owner_id is not None:
        record_event(session, "application_for_existing_account", owner_id, "its owner was told by email")
        session.commit()
        _send(send, email, emails.KNOWN_ADDRESS_SUBJECT, emails.known_address(policy.service_name, sign_in_link))
        return
    token = secrets.token_urlsafe(32)
    pending = PendingApplication(
        token_hash=_token_hash(token),
        email=email,
        full_name=full_name.strip(),
        phone=phone,
        kind=kind,
        password_hash=password_hash,
        created_at=now,
        expires_at=now + policy.confirm_for,
    )
    session.add(pending)
    session.flush()
    record_event(session, "application_pending", None, f"pending application {pending.id} kind={kind.value}")
    session.commit()
    hours = int(policy.confirm_for.total_seconds() // 3600)
    _send(
        send, email, emails.CONFIRM_SUBJECT, emails.confirm_application(policy.service_name, confirm_link(token), hours)
    )


def prune_expired_applications(session: Session, now: dt.datetime) -> str | None:
    """After the daily vetting sweep: delete applications whose link has expired (their personal data is
    kept no longer than the link lives, even when nobody applies for a while) and idle throttle counters.
    Its own transaction; returns a line for the sweep's log, or None when there was nothing to delete."""
    deleted = session.execute(delete(PendingApplication).where(PendingApplication.expires_at <= now)).rowcount
    throttling.prune(session, now)
    session.commit()
    if not deleted:
        return None
    return f"{deleted} unconfirmed application{'' if deleted == 1 else 's'} deleted (link expired)."


def _claim_or_wait(session: Session, key: str, rule: Delay, now: dt.datetime) -> dt.timedelta | None:
    """Count one more against ``key``; or, while it is in its delay, how long is left (nothing counted)."""
    if throttling.claim(session, key, rule, now) is not None:
        return None
    until = session.scalar(select(ThrottleCounter.blocked_until).where(ThrottleCounter.key == key))
    return (until - now) if until is not None and until > now else rule.first


def _send(send: Sender, to: str, subject: str, body: str) -> None:
    # The application is kept (or the owner's warning was decided) whatever SMTP does: the reply must not
    # differ, and the person can apply again. The failure goes to the operators' log.
    try:
        send(to, subject, body)
    except MailError:
        log.exception("Could not send the application email (%s)", subject)


def pending_application(session: Session, token: str, now: dt.datetime | None = None) -> PendingApplication | None:
    """The application a confirmation link stands for, while the link is live."""
    now = now or utcnow()
    row = session.scalar(select(PendingApplication).where(PendingApplication.token_hash == _token_hash(token)))
    return row if row is not None and row.expires_at > now else None


def confirm_application(
    session: Session,
    token: str,
    *,
    monthly_minutes: int = DEFAULT_SPECIAL_MONTHLY_MINUTES,
    now: dt.datetime | None = None,
) -> Volunteer:
    """The applicant followed their link: make the account and the application; vetting opens a
    new-application review. The link works once; other applications waiting for the same address go.

    Until a clearance is granted the volunteer can edit their profile but is never matched.
    """
    now = now or utcnow()
    pending = pending_application(session, token, now)
    if pending is None:
        raise ApplicationLinkError(LINK_DEAD)
    email = pending.email
    others = delete(PendingApplication).where(PendingApplication.email == email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        session.execute(others)
        session.commit()
        raise ApplicationLinkError(
            "An account with this email address already exists. Sign in instead, using the help on the "
            "sign-in page if you cannot."
        )
    user = User(email=email, full_name=pending.full_name, role=Role.VOLUNTEER, password_hash=pending.password_hash)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # the same address confirmed at the same moment through another link
        session.rollback()
        raise ApplicationLinkError(LINK_DEAD) from None
    record_event(session, "account_created", user.id, f"account {user.id} role={Role.VOLUNTEER.value}, email confirmed")
    volunteer = Volunteer(
        user=user,
        kind=pending.kind,
        phone=pending.phone,
        monthly_commitment_minutes=monthly_minutes if pending.kind is VolunteerKind.SPECIAL else None,
    )
    session.add(volunteer)
    session.flush()
    for hook in seams().application_submitted:
        hook(session, volunteer)
    record_event(session, "volunteer_applied", user.id, f"volunteer {volunteer.id} kind={pending.kind.value}")
    session.execute(others)
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


def _checked_phone(phone: str) -> str:
    """A UK number in the national format, so every page and export shows numbers one way."""
    try:
        return uk_phone(phone)
    except InvalidPhone as exc:
        raise ProfileError(str(exc), field="phone") from None


def update_contact(session: Session, volunteer: Volunteer, *, phone: str, expected_version: int | None) -> Volunteer:
    volunteer.phone = _checked_phone(phone)
    return _save(session, volunteer, expected_version)


def set_home_ward(session: Session, volunteer: Volunteer, ward_id: int, expected_version: int | None) -> Volunteer:
    ward = session.get(Ward, ward_id)
    if ward is None:
        raise ProfileError("Choose your home ward from the list", field="ward")
    volunteer.home_ward_id = ward.id
    return _save(session, volunteer, expected_version)


def update_travel(
    session: Session, volunteer: Volunteer, *, travel_limit_km: int, weekly_hours: int, expected_version: int | None
) -> Volunteer:
    volunteer.travel_limit_km = travel_limit_km
    volunteer.weekly_hours_cap_minutes = weekly_hours * 60
    return _save(session, volunteer, expected_version)


def update_work(
    session: Session,
    volunteer: Volunteer,
    *,
    occupation: str,
    employer: str,
    category: OccupationCategory,
    adjustment: WorkAdjustment,
    military_reservist: bool,
    expected_version: int | None,
) -> Volunteer:
    volunteer.occupation = occupation.strip()
    volunteer.employer = employer.strip()
    volunteer.occupation_category = category
    volunteer.adjustment = adjustment
    volunteer.military_reservist = military_reservist
    return _save(session, volunteer, expected_version)


def set_preferences(
    session: Session,
    volunteer: Volunteer,
    task_type_codes: list[str],
    known_codes: set[str],
    expected_version: int | None,
) -> Volunteer:
    unknown = set(task_type_codes) - known_codes
    if unknown:
        raise ProfileError("Choose task types from the list", field="task_types")
    volunteer.preferences = [TaskPreference(task_type_code=code) for code in sorted(set(task_type_codes))]
    # Touch the row so the version check (and bump) covers the preference list too.
    volunteer.updated_at = utcnow()
    return _save(session, volunteer, expected_version)


# ---- Skills -------------------------------------------------------------------------------------


def add_skill(
    session: Session,
    volunteer: Volunteer,
    *,
    skill_code: str,
    level: SkillLevel,
    registration_number: str | None,
    evidence_expires_on: dt.date | None,
    today: dt.date,
) -> VolunteerSkill:
    """Add a skill. A registered profession needs its registration number and renewal date, and waits for a
    coordinator to check the register before it counts for matching."""
    skill = SKILLS_BY_CODE.get(skill_code)
    if skill is None:
        raise ProfileError("Choose a skill from the list", field="skill")
    if any(held.skill_code == skill_code for held in volunteer.skills):
        raise ProfileError(
            f"You already have {skill.name}. Change its level from your skills, or remove it to change its evidence",
            field="skill",
        )
    if skill.evidence_required:
        if not registration_number:
            raise ProfileError(f"Enter your {skill.evidence_body} registration number", field="registration_number")
        if evidence_expires_on is None:
            raise ProfileError("Enter the date your registration is due for renewal", field="evidence_expires_on")
        if evidence_expires_on < today:
            raise ProfileError(
                "The renewal date must be today or in the future: an expired registration cannot be used",
                field="evidence_expires_on",
            )
    held = VolunteerSkill(
        volunteer_id=volunteer.id,
        skill_code=skill_code,
        level=level,
        evidence_body=skill.evidence_body if skill.evidence_required else None,
        registration_number=registration_number.strip().upper() if skill.evidence_required else None,
        evidence_expires_on=evidence_expires_on if skill.evidence_required else None,
        evidence_status=EvidenceStatus.PENDING if skill.evidence_required else EvidenceStatus.NOT_NEEDED,
    )
    session.add(held)
    session.commit()
    return held


def change_skill_level(session: Session, volunteer: Volunteer, skill_id: int, level: SkillLevel) -> VolunteerSkill:
    """A new level for a skill held. Its evidence stands: a registration is checked against the register,
    which says nothing of the level."""
    held = own_item(session, volunteer, VolunteerSkill, skill_id)
    before = held.level
    held.level = level
    record_event(
        session,
        "volunteer_skill_level_changed",
        volunteer.user_id,
        f"volunteer {volunteer.id} skill {held.id} {before.value}->{level.value}",
    )
    session.commit()
    return held


# What a volunteer can remove and put back: the kind named in an undo token → its table.
REMOVABLE: dict[str, type] = {
    "skill": VolunteerSkill,
    "weekly_time": AvailabilitySlot,
    "date": AvailabilityException,
    "blocked_dates": BlockedPeriod,
    "conflict": ConflictDeclaration,
}


def own_item(session: Session, volunteer: Volunteer, model: type, item_id: int):
    """One of the volunteer's own rows; NotFound for anyone else's (so nobody learns another's ids)."""
    item = session.scalar(select(model).where(model.id == item_id, model.volunteer_id == volunteer.id))
    if item is None:
        raise NotFound()
    return item


def remove_owned(session: Session, volunteer: Volunteer, kind: str, item_id: int) -> dict:
    """Remove one of the volunteer's own rows (a skill, a time, a date, a declaration); return its columns,
    which ``restore_removed`` can put back. Others' rows: NotFound."""
    model = REMOVABLE[kind]
    item = own_item(session, volunteer, model, item_id)
    snapshot = {column.key: _plain(getattr(item, column.key)) for column in model.__table__.columns}
    session.delete(item)
    record_event(session, "volunteer_item_removed", volunteer.user_id, f"volunteer {volunteer.id} {kind} {item_id}")
    session.commit()
    return snapshot


def restore_removed(session: Session, volunteer: Volunteer, kind: str, snapshot: dict) -> None:
    """Put back what ``remove_owned`` removed (Undo), as it was, under its old id where that is still free.

    Refused with ProfileError when it is there already (the same undo twice) or would clash with what the
    volunteer has added since.
    """
    model = REMOVABLE[kind]
    if snapshot.get("volunteer_id") != volunteer.id:
        raise NotFound()
    values = {
        column.key: _typed(column, snapshot.get(column.key))
        for column in model.__table__.columns
        if column.key in snapshot
    }
    same = [
        getattr(model, key).is_(None) if value is None else getattr(model, key) == value
        for key, value in values.items()
        if key != "id"
    ]
    if session.scalar(select(model.id).where(*same).limit(1)) is not None:
        raise ProfileError("This has already been put back")
    if session.get(model, values["id"]) is not None:
        del values["id"]  # SQLite hands a deleted row's id to the next row added: take a new one
    row = model(**values)
    _refuse_a_clash(session, volunteer, row)
    session.add(row)
    record_event(
        session, "volunteer_item_restored", volunteer.user_id, f"volunteer {volunteer.id} {kind} {snapshot['id']}"
    )
    try:
        session.commit()
    except IntegrityError:  # put back a moment ago from another tab, or a row it referred to has gone
        session.rollback()
        raise ProfileError("This can no longer be put back. Add it again instead") from None


def _refuse_a_clash(session: Session, volunteer: Volunteer, row) -> None:
    if isinstance(row, VolunteerSkill):
        if session.scalar(
            select(VolunteerSkill.id).where(
                VolunteerSkill.volunteer_id == volunteer.id, VolunteerSkill.skill_code == row.skill_code
            )
        ):
            name = SKILLS_BY_CODE[row.skill_code].name if row.skill_code in SKILLS_BY_CODE else row.skill_code
            raise ProfileError(f"You have added {name} again since. Change its level instead")
    elif isinstance(row, AvailabilitySlot):
        mine = select(AvailabilitySlot).where(AvailabilitySlot.volunteer_id == volunteer.id)
        new = Window(row.weekday, row.start_minute, row.end_minute)
        for slot in session.scalars(mine):
            if overlaps(new, Window(slot.weekday, slot.start_minute, slot.end_minute)):
                raise ProfileError(
                    f"It overlaps {clock(slot.start_minute)} to {clock(slot.end_minute)} on "
                    f"{WEEKDAYS[slot.weekday]}, which you have added since"
                )
    elif isinstance(row, AvailabilityException):
        _refuse_a_second_entry(session, volunteer.id, row.on_date)


def _plain(value):
    """A column's value as JSON can carry it (the undo token is signed JSON)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _typed(column, value):
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return dt.datetime.fromisoformat(value)
    python_type = column.type.python_type
    if python_type is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
        return python_type(value)
    return value


class NotFound(Exception):
    """No such item belongs to this volunteer."""


# ---- Availability -------------------------------------------------------------------------------


def add_weekly_slot(session: Session, volunteer: Volunteer, *, weekday: int, start: int, end: int) -> AvailabilitySlot:
    new = Window(weekday, start, end)
    for slot in session.scalars(select(AvailabilitySlot).where(AvailabilitySlot.volunteer_id == volunteer.id)):
        if overlaps(new, Window(slot.weekday, slot.start_minute, slot.end_minute)):
            raise ProfileError(
                f"This overlaps {clock(slot.start_minute)} to {clock(slot.end_minute)} on "
                f"{WEEKDAYS[weekday]}, which you already have",
                field="start",
            )
    slot = AvailabilitySlot(volunteer_id=volunteer.id, weekday=weekday, start_minute=start, end_minute=end)
    session.add(slot)
    session.commit()
    return slot


def add_date_exception(
    session: Session,
    volunteer: Volunteer,
    *,
    on_date: dt.date,
    available: bool,
    start: int | None,
    end: int | None,
    today: dt.date,
) -> AvailabilityException:
    """A date that differs from the weekly pattern. One entry a date (the database holds to it too): "not
    available" and "available 9am to midday" on one day contradict each other, and the matcher would have
    to guess."""
    if on_date < today:
        raise ProfileError("The date must be today or in the future", field="on_date")
    if not available and (start is not None or end is not None):
        raise ProfileError("Times are only for a date you are available", field="start")
    if available:
        if start is None or end is None or end <= start:
            raise ProfileError("Choose the times you are available", field="end")
        for minute, field in ((start, "start"), (end, "end")):
            problem = local_time_problem(on_date, minute)
            if problem:
                raise ProfileError(problem, field=field)
    _refuse_a_second_entry(session, volunteer.id, on_date)
    row = AvailabilityException(
        volunteer_id=volunteer.id,
        on_date=on_date,
        available=available,
        start_minute=start if available else None,
        end_minute=end if available else None,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # the same date saved a moment ago from another tab
        session.rollback()
        _refuse_a_second_entry(session, volunteer.id, on_date)
        raise
    return row


def _refuse_a_second_entry(session: Session, volunteer_id: int, on_date: dt.date) -> None:
    held = session.scalar(
        select(AvailabilityException).where(
            AvailabilityException.volunteer_id == volunteer_id, AvailabilityException.on_date == on_date
        )
    )
    if held is not None:
        said = (
            f"available {clock(held.start_minute)} to {clock(held.end_minute)}" if held.available else "not available"
        )
        raise ProfileError(
            f"You already said you are {said} on {on_date.day} {on_date:%B %Y}. Remove that first to change it",
            field="on_date",
        )


def add_blocked_period(
    session: Session,
    volunteer: Volunteer,
    *,
    first_day: dt.date,
    last_day: dt.date,
    reason: BlockReason,
    today: dt.date,
) -> BlockedPeriod:
    if last_day < today:
        raise ProfileError("These dates are in the past", field="last_day")
    if (last_day - first_day).days > 730:
        raise ProfileError(
            "A blocked period can be at most 2 years. To step back for longer, pause your volunteering instead "
            "(the link above)",
            field="last_day",
        )
    row = BlockedPeriod(volunteer_id=volunteer.id, first_day=first_day, last_day=last_day, reason=reason)
    session.add(row)
    session.commit()
    return row


# ---- Declarations -------------------------------------------------------------------------------


def declare_conflict(
    session: Session,
    volunteer: Volunteer,
    *,
    category: ConflictCategory,
    organisation: str,
    ward_id: int | None,
    partner_id: int | None = None,
) -> ConflictDeclaration:
    """Declare a conflict of interest. A partner organisation chosen from the list is matched by id (its name
    is used when none is typed); otherwise the name typed is matched against requests' organisations."""
    if ward_id is not None and session.get(Ward, ward_id) is None:
        raise ProfileError("Choose a ward from the list", field="ward")
    partner = session.get(PartnerOrganisation, partner_id) if partner_id is not None else None
    if partner_id is not None and partner is None:
        raise ProfileError("Choose a partner organisation from the list", field="partner")
    organisation = " ".join(organisation.split()) or (partner.name if partner else "")
    if not organisation:
        raise ProfileError("Enter the name of the organisation, person or place", field="organisation")
    row = ConflictDeclaration(
        volunteer_id=volunteer.id, category=category, organisation=organisation, ward_id=ward_id, partner_id=partner_id
    )
    session.add(row)
    session.commit()
    return row


def report_circumstances(
    session: Session,
    volunteer: Volunteer,
    *,
    category: CircumstanceCategory,
    occurred_on: dt.date,
    details: str,
    today: dt.date,
) -> CircumstanceReport:
    """Record a change of circumstances; vetting opens a triggered review in the same transaction."""
    if occurred_on > today:
        raise ProfileError("The date must be today or in the past", field="occurred_on")
    report = CircumstanceReport(
        volunteer_id=volunteer.id, category=category, occurred_on=occurred_on, details=details.strip()
    )
    session.add(report)
    session.flush()
    for hook in seams().circumstances_reported:
        hook(session, report)
    record_event(session, "circumstances_reported", volunteer.user_id, f"volunteer {volunteer.id}")
    session.commit()
    return report
