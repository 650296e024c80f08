"""Coordinators' use cases over every volunteer: find, look at, verify evidence, specials' details, CSV.

One commit per use case; domain exceptions for the views to turn into messages. Nothing vetting-specific
is imported (volunteers must not import vetting): the two vetting questions the directory asks come
in as functions that create_app wires up.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from core.auth.credentials import queue_invitations
from core.auth.models import Role, User
from core.auth.passwords import unusable_password_hash
from core.auth.services import log_event, record_event
from core.db import utcnow
from core.field_errors import FieldError
from core.geography.models import Borough, Ward
from core.pagination import Page
from core.seams import Affected, seams
from core.timeutil import format_date, london_today
from core.wording import agree, plural
from volunteers.directory import csv_io
from volunteers.models import (
    AvailabilitySlot,
    BlockedPeriod,
    BlockReason,
    ConflictCategory,
    ConflictDeclaration,
    EvidenceStatus,
    OccupationCategory,
    TaskPreference,
    Volunteer,
    VolunteerKind,
    VolunteerPause,
    VolunteerSkill,
    VolunteerStatus,
    WorkAdjustment,
)
from volunteers.services import EditConflict, ProfileError, _save
from volunteers.skills import SKILLS, PatrolStatus, SkillFamily, SkillLevel

PER_PAGE = 50
MAX_ERRORS_SHOWN = 200
_BATCH = 1000

# Wired in by create_app from vetting.queries (volunteers must not import vetting).
ExpiringIds = Callable[[int], Select]  # days → a select of volunteer ids whose clearance expires within them
OpenReview = Callable[[Session, int], bool]  # (session, volunteer id) → is a vetting review open?


class NotFound(Exception):
    """No such volunteer, or no such skill of that volunteer."""


class EvidenceError(FieldError):
    """Evidence could not be verified or rejected; ``field`` names the form field it concerns, if any."""


class ImportRefused(Exception):
    """Nothing was imported. ``errors`` lists every row problem found (sorted by row)."""

    def __init__(self, summary: str, errors: list[csv_io.RowError] | None = None):
        super().__init__(summary)
        self.summary = summary
        self.errors = errors or []

    @property
    def shown(self) -> list[csv_io.RowError]:
        return self.errors[:MAX_ERRORS_SHOWN]


# ---------------------------------------------------------------------------------------------
# The directory
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    """What the coordinator asked for; ``None`` (or "") means no filter on that."""

    text: str = ""  # name or email address contains
    skill: str | None = None
    family: SkillFamily | None = None
    bcu_id: int | None = None
    borough_id: int | None = None
    ward_id: int | None = None
    status: VolunteerStatus | None = None
    kind: VolunteerKind | None = None
    expiring_within_days: int | None = None


def _conditions(filters: DirectoryFilters, expiring_ids: ExpiringIds | None) -> list:
    conditions: list = []
    if filters.text:
        conditions.append(
            or_(
                User.full_name.icontains(filters.text, autoescape=True),
                User.email.icontains(filters.text, autoescape=True),
            )
        )
    if filters.skill:
        conditions.append(
            Volunteer.id.in_(select(VolunteerSkill.volunteer_id).where(VolunteerSkill.skill_code == filters.skill))
        )
    if filters.family:
        codes = [s.code for s in SKILLS if s.family is filters.family]
        conditions.append(
            Volunteer.id.in_(select(VolunteerSkill.volunteer_id).where(VolunteerSkill.skill_code.in_(codes)))
        )
    # Places combine like every other filter: a borough outside the chosen BCU matches nobody.
    if filters.ward_id:
        conditions.append(Volunteer.home_ward_id == filters.ward_id)
    if filters.borough_id:
        conditions.append(Volunteer.home_ward_id.in_(select(Ward.id).where(Ward.borough_id == filters.borough_id)))
    if filters.bcu_id:
        conditions.append(
            Volunteer.home_ward_id.in_(
                select(Ward.id).join(Borough, Borough.id == Ward.borough_id).where(Borough.bcu_id == filters.bcu_id)
            )
        )
    if filters.status is VolunteerStatus.PAUSED:
        # Paused by a coordinator (a status), or by their own choice today (dates, volunteers.stepping_back).
        today = london_today()
        paused_today = select(VolunteerPause.volunteer_id).where(
            VolunteerPause.ended_at.is_(None),
            VolunteerPause.first_day <= today,
            or_(VolunteerPause.last_day.is_(None), VolunteerPause.last_day >= today),
        )
        conditions.append(
            or_(
                Volunteer.status == VolunteerStatus.PAUSED,
                and_(Volunteer.status == VolunteerStatus.ACTIVE, Volunteer.id.in_(paused_today)),
            )
        )
    elif filters.status:
        conditions.append(Volunteer.status == filters.status)
    if filters.kind:
        conditions.append(Volunteer.kind == filters.kind)
    if filters.expiring_within_days is not None and expiring_ids is not None:
        conditions.append(Volunteer.id.in_(expiring_ids(filters.expiring_within_days)))
    return conditions


def search_volunteers(
    session: Session, filters: DirectoryFilters, raw_page: str | None, expiring_ids: ExpiringIds | None = None
) -> Page:
    """One page (50) of volunteers matching ``filters``, by name, with the total: four queries in all.

    The ordering (users.full_name, users.id) is indexed, so the page costs the same at 50,000.
    Each volunteer comes with their account, home ward and borough and skills loaded: no query per row.
    """
    conditions = _conditions(filters, expiring_ids)
    query = (
        select(Volunteer)
        .join(Volunteer.user)
        .where(*conditions)
        .options(
            contains_eager(Volunteer.user),
            selectinload(Volunteer.home_ward).joinedload(Ward.borough),
            selectinload(Volunteer.skills),
        )
        .order_by(User.full_name, User.id)
    )
    count = select(func.count(Volunteer.id)).where(*conditions)
    if filters.text:
        count = count.join(Volunteer.user)
    return Page.of(session, query, count, raw_page, per_page=PER_PAGE)


# ---------------------------------------------------------------------------------------------
# One volunteer
# ---------------------------------------------------------------------------------------------


@dataclass
class VolunteerProfile:
    """Everything a coordinator sees about one volunteer. No vetting detail: only whether a review is open."""

    volunteer: Volunteer
    conflicts: list[ConflictDeclaration]
    slots: list[AvailabilitySlot]
    blocked_periods: list[BlockedPeriod]
    review_open: bool
    reviewers: dict[int, str] = field(default_factory=dict)  # user id → name, for evidence decisions

    @property
    def pending_evidence(self) -> int:
        return sum(1 for s in self.volunteer.skills if s.evidence_status is EvidenceStatus.PENDING)


def get_volunteer(session: Session, volunteer_id: int) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound()
    return volunteer


def volunteer_profile(session: Session, volunteer_id: int, has_open_review: OpenReview) -> VolunteerProfile:
    """The coordinator's view of one volunteer; raises NotFound for an unknown id."""
    volunteer = session.scalar(
        select(Volunteer)
        .where(Volunteer.id == volunteer_id)
        .options(
            joinedload(Volunteer.user),
            joinedload(Volunteer.home_ward).joinedload(Ward.borough),
            selectinload(Volunteer.skills),
            selectinload(Volunteer.preferences),
        )
    )
    if volunteer is None:
        raise NotFound()
    reviewer_ids = {s.evidence_reviewed_by_id for s in volunteer.skills if s.evidence_reviewed_by_id}
    reviewers = (
        dict(session.execute(select(User.id, User.full_name).where(User.id.in_(reviewer_ids))).all())
        if reviewer_ids
        else {}
    )
    return VolunteerProfile(
        volunteer=volunteer,
        conflicts=list(
            session.scalars(
                select(ConflictDeclaration)
                .where(ConflictDeclaration.volunteer_id == volunteer_id)
                .options(joinedload(ConflictDeclaration.ward).joinedload(Ward.borough))
                .order_by(ConflictDeclaration.declared_at, ConflictDeclaration.id)
            )
        ),
        slots=list(
            session.scalars(
                select(AvailabilitySlot)
                .where(AvailabilitySlot.volunteer_id == volunteer_id)
                .order_by(AvailabilitySlot.weekday, AvailabilitySlot.start_minute)
            )
        ),
        blocked_periods=list(
            session.scalars(
                select(BlockedPeriod)
                .where(BlockedPeriod.volunteer_id == volunteer_id)
                .order_by(BlockedPeriod.first_day)
            )
        ),
        review_open=has_open_review(session, volunteer_id),
        reviewers=reviewers,
    )


# ---------------------------------------------------------------------------------------------
# Evidence of professional skills
# ---------------------------------------------------------------------------------------------


def pending_evidence(session: Session, raw_page: str | None) -> Page:
    """Skills waiting for a coordinator to check the register, across all volunteers, oldest first.

    "Oldest" is the order the evidence was added (skill ids only grow); rows come with their volunteer
    and account loaded.
    """
    query = (
        select(VolunteerSkill)
        .where(VolunteerSkill.evidence_status == EvidenceStatus.PENDING)
        .options(joinedload(VolunteerSkill.volunteer).joinedload(Volunteer.user))
        .order_by(VolunteerSkill.id)
    )
    count = select(func.count(VolunteerSkill.id)).where(VolunteerSkill.evidence_status == EvidenceStatus.PENDING)
    return Page.of(session, query, count, raw_page, per_page=PER_PAGE)


def get_skill(session: Session, volunteer_id: int, skill_id: int) -> VolunteerSkill:
    skill = session.scalar(
        select(VolunteerSkill).where(VolunteerSkill.id == skill_id, VolunteerSkill.volunteer_id == volunteer_id)
    )
    if skill is None:
        raise NotFound()
    return skill


def _decide(
    session: Session, skill: VolunteerSkill, status: EvidenceStatus, reviewer_id: int, reason: str | None
) -> VolunteerSkill:
    # Only a still-pending row changes: of two coordinators deciding at once, the second is told.
    result = session.execute(
        update(VolunteerSkill)
        .where(VolunteerSkill.id == skill.id, VolunteerSkill.evidence_status == EvidenceStatus.PENDING)
        .values(
            evidence_status=status,
            evidence_reviewed_by_id=reviewer_id,
            evidence_reviewed_at=utcnow(),
            evidence_rejection_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise EvidenceError("This evidence has already been checked by someone else.")
    session.commit()
    session.refresh(skill)
    return skill


def _check_pending(skill: VolunteerSkill) -> None:
    if skill.evidence_status is not EvidenceStatus.PENDING:
        raise EvidenceError(f"This evidence has already been {skill.evidence_status.value}.")


def verify_evidence(
    session: Session, volunteer_id: int, skill_id: int, reviewer_id: int, today: dt.date | None = None
) -> VolunteerSkill:
    """Record that the coordinator found the registration on the professional body's register.

    Refused if the evidence has already expired: expired evidence cannot be verified.
    """
    skill = get_skill(session, volunteer_id, skill_id)
    _check_pending(skill)
    today = today or london_today()
    if skill.evidence_expires_on is not None and skill.evidence_expires_on < today:
        raise EvidenceError(
            f"Expired evidence cannot be verified: this registration ran out on "
            f"{format_date(skill.evidence_expires_on)}. Reject it, and ask the volunteer to "
            "add the renewed registration."
        )
    return _decide(session, skill, EvidenceStatus.VERIFIED, reviewer_id, None)


def reject_evidence(
    session: Session, volunteer_id: int, skill_id: int, reviewer_id: int, reason: str
) -> VolunteerSkill:
    """Record that the evidence did not check out, with the reason the volunteer will see."""
    skill = get_skill(session, volunteer_id, skill_id)
    _check_pending(skill)
    reason = " ".join(reason.split())
    if not reason:
        raise EvidenceError("Enter why the evidence is rejected", field="reason")
    if len(reason) > 300:
        raise EvidenceError("The reason must be 300 characters or fewer", field="reason")
    return _decide(session, skill, EvidenceStatus.REJECTED, reviewer_id, reason)


# ---------------------------------------------------------------------------------------------
# Specials' details
# ---------------------------------------------------------------------------------------------


# A coordinator may move a volunteer between these; applying and not being accepted are vetting's to decide.
SETTABLE_STATUSES = (VolunteerStatus.ACTIVE, VolunteerStatus.PAUSED, VolunteerStatus.LEFT)


def status_refusal(volunteer: Volunteer, status: VolunteerStatus) -> ProfileError | None:
    """Why ``volunteer`` cannot be given ``status`` now (by the status field), or None. Asked by the page with
    the form's own checks too, so that every problem shows at once."""
    if status not in SETTABLE_STATUSES:
        return ProfileError("Choose active, paused or left", field="status")
    if volunteer.status is VolunteerStatus.LEFT:
        return ProfileError("This volunteer has left: if they come back, they apply again", field="status")
    if volunteer.status not in SETTABLE_STATUSES:
        return ProfileError(
            "This volunteer's application is with vetting: their status follows its decision", field="status"
        )
    if status is volunteer.status:
        return ProfileError(f"This volunteer is already {status.value}", field="status")
    return None


def set_status(
    session: Session,
    volunteer: Volunteer,
    status: VolunteerStatus,
    reason: str,
    coordinator_id: int,
    *,
    expected_version: int | None,
    now: dt.datetime,
) -> Volunteer:
    """A coordinator records that a volunteer is active again, paused, or has left (commits).

    Pausing or leaving withdraws the future offers and bookings they no longer qualify for, in this
    transaction (``seams().eligibility_changed``; the sergeants are told once it commits). Leaving also ends
    their clearances as no longer needed (``seams().volunteer_left``). Leaving is final here: someone who
    comes back applies again, so that vetting starts afresh.
    """
    refusal = status_refusal(volunteer, status)
    if refusal is not None:
        raise refusal
    if expected_version is not None and expected_version != volunteer.version:
        session.rollback()
        raise EditConflict()
    record_status_change(session, volunteer, status, reason, coordinator_id, now)
    return _save(session, volunteer, None)


def record_status_change(
    session: Session, volunteer: Volunteer, status: VolunteerStatus, reason: str, actor_id: int, now: dt.datetime
) -> None:
    """Give ``volunteer`` ``status`` and everything that follows from it, in the caller's transaction (flushed,
    not committed): the coordinator's change above, and a volunteer leaving of their own accord
    (``volunteers.stepping_back.leave``), so both do exactly the same."""
    before = volunteer.status
    volunteer.status = status
    session.flush()
    if status is not VolunteerStatus.ACTIVE:
        for hook in seams().eligibility_changed:
            hook(session, Affected(volunteer_ids=frozenset({volunteer.id})), now)
    if status is VolunteerStatus.LEFT:
        for hook in seams().volunteer_left:
            hook(session, volunteer, actor_id)
    record_event(
        session,
        "volunteer_status_changed",
        actor_id,
        f"volunteer {volunteer.id}: {before.value} -> {status.value}; {reason.strip()[:200]}",
    )


def update_special_details(
    session: Session,
    volunteer: Volunteer,
    *,
    warrant_number: str | None,
    patrol_status: PatrolStatus,
    monthly_hours: int,
    expected_version: int | None,
) -> Volunteer:
    """A coordinator sets a special constable's warrant number, patrol status and monthly commitment.

    Saved with the same optimistic version check as the volunteer's own profile changes.
    """
    if volunteer.kind is not VolunteerKind.SPECIAL:
        raise ProfileError("Only special constables have a warrant number and patrol status")
    warrant = (warrant_number or "").strip().upper() or None
    if (
        warrant
        and warrant != volunteer.warrant_number
        and session.scalar(
            select(Volunteer.id).where(Volunteer.warrant_number == warrant, Volunteer.id != volunteer.id).limit(1)
        )
    ):
        raise ProfileError("Another special constable already has this warrant number", field="warrant_number")
    volunteer.warrant_number = warrant
    volunteer.patrol_status = patrol_status
    volunteer.monthly_commitment_minutes = monthly_hours * 60
    return _save(session, volunteer, expected_version)


# ---------------------------------------------------------------------------------------------
# CSV export and import
# ---------------------------------------------------------------------------------------------


def _grouped(rows: Iterable[tuple[int, object]]) -> dict[int, list]:
    out: dict[int, list] = defaultdict(list)
    for key, value in rows:
        out[key].append(value)
    return out


def export_records(
    session: Session,
    batch_size: int = _BATCH,
    filters: DirectoryFilters | None = None,
    expiring_ids: ExpiringIds | None = None,
) -> Iterator[csv_io.VolunteerRecord]:
    """Every volunteer (or those ``filters`` select, as the directory shows them) as a CSV record, by id, a
    batch at a time: six plain-row queries per batch.

    Plain rows, not ORM objects: building 50,000 volunteers' objects with their collections costs
    five times as long, and nothing here changes them.
    """
    # The same conditions as the directory's page: the file holds exactly the volunteers the coordinator saw.
    # (A batch's skills, slots … are read by id range; only the selected volunteers' are used.)
    conditions = _conditions(filters, expiring_ids) if filters is not None else []
    last_id = 0
    while True:
        batch = session.execute(
            select(
                Volunteer.id,
                User.email,
                User.full_name,
                Volunteer.kind,
                Volunteer.status,
                Volunteer.phone,
                Ward.code,
                Volunteer.travel_limit_km,
                Volunteer.weekly_hours_cap_minutes,
                Volunteer.adjustment,
                Volunteer.occupation,
                Volunteer.occupation_category,
                Volunteer.employer,
                Volunteer.military_reservist,
                Volunteer.warrant_number,
                Volunteer.patrol_status,
                Volunteer.monthly_commitment_minutes,
            )
            .join(User, User.id == Volunteer.user_id)
            .outerjoin(Ward, Ward.id == Volunteer.home_ward_id)
            .where(Volunteer.id > last_id, *conditions)
            .order_by(Volunteer.id)
            .limit(batch_size)
        ).all()
        if not batch:
            return
        first_id, last_id = batch[0][0], batch[-1][0]

        def in_batch(column, first=first_id, last=last_id):
            return column.between(first, last)

        skills = _grouped(
            (row[0], csv_io.SkillRecord(row[1], row[2].value, row[3].value, row[4], row[5], row[6]))
            for row in session.execute(
                select(
                    VolunteerSkill.volunteer_id,
                    VolunteerSkill.skill_code,
                    VolunteerSkill.level,
                    VolunteerSkill.evidence_status,
                    VolunteerSkill.evidence_body,
                    VolunteerSkill.registration_number,
                    VolunteerSkill.evidence_expires_on,
                )
                .where(in_batch(VolunteerSkill.volunteer_id))
                .order_by(VolunteerSkill.skill_code)
            )
        )
        preferences = _grouped(
            session.execute(
                select(TaskPreference.volunteer_id, TaskPreference.task_type_code)
                .where(in_batch(TaskPreference.volunteer_id))
                .order_by(TaskPreference.task_type_code)
            )
        )
        slots = _grouped(
            (row[0], csv_io.SlotRecord(row[1], row[2], row[3]))
            for row in session.execute(
                select(
                    AvailabilitySlot.volunteer_id,
                    AvailabilitySlot.weekday,
                    AvailabilitySlot.start_minute,
                    AvailabilitySlot.end_minute,
                )
                .where(in_batch(AvailabilitySlot.volunteer_id))
                .order_by(AvailabilitySlot.weekday, AvailabilitySlot.start_minute)
            )
        )
        conflicts = _grouped(
            (row[0], csv_io.ConflictRecord(row[1].value, row[2], row[3]))
            for row in session.execute(
                select(
                    ConflictDeclaration.volunteer_id,
                    ConflictDeclaration.category,
                    ConflictDeclaration.organisation,
                    Ward.code,
                )
                .outerjoin(Ward, Ward.id == ConflictDeclaration.ward_id)
                .where(in_batch(ConflictDeclaration.volunteer_id))
                .order_by(ConflictDeclaration.id)
            )
        )
        blocks = _grouped(
            (row[0], csv_io.BlockRecord(row[1], row[2], row[3].value))
            for row in session.execute(
                select(
                    BlockedPeriod.volunteer_id, BlockedPeriod.first_day, BlockedPeriod.last_day, BlockedPeriod.reason
                )
                .where(in_batch(BlockedPeriod.volunteer_id))
                .order_by(BlockedPeriod.first_day, BlockedPeriod.id)
            )
        )
        for (
            volunteer_id,
            email,
            full_name,
            kind,
            status,
            phone,
            ward_code,
            travel,
            weekly,
            adjustment,
            occupation,
            category,
            employer,
            reservist,
            warrant,
            patrol,
            monthly,
        ) in batch:
            yield csv_io.VolunteerRecord(
                email=email,
                full_name=full_name,
                kind=kind.value,
                status=status.value,
                phone=phone,
                home_ward_code=ward_code,
                travel_limit_km=travel,
                weekly_hours_cap_minutes=weekly,
                adjustment=adjustment.value,
                occupation=occupation,
                occupation_category=category.value,
                employer=employer,
                military_reservist=reservist,
                warrant_number=warrant,
                patrol_status=patrol.value if patrol else None,
                monthly_commitment_minutes=monthly,
                skills=tuple(skills.get(volunteer_id, ())),
                preferences=tuple(preferences.get(volunteer_id, ())),
                availability=tuple(slots.get(volunteer_id, ())),
                conflicts=tuple(conflicts.get(volunteer_id, ())),
                blocked_periods=tuple(blocks.get(volunteer_id, ())),
            )


def log_export(session: Session, actor_id: int, filters: DirectoryFilters | None = None) -> None:
    """Put the download of volunteers' details in the security log (its own transaction), with its filters."""
    used = {name: value for name, value in vars(filters or DirectoryFilters()).items() if value not in (None, "")}
    what = "volunteers matching " + ", ".join(f"{k}={getattr(v, 'value', v)}" for k, v in used.items()) if used else ""
    log_event(session, "volunteers_exported", actor_id, (what or "all volunteers")[:200] + " as CSV")


def vocabulary(session: Session, task_type_codes: Iterable[str]) -> csv_io.Vocabulary:
    """The values the CSV's coded columns may take: the model enums, known ward codes and task types."""
    return csv_io.Vocabulary(
        kinds=frozenset(k.value for k in VolunteerKind),
        statuses=frozenset(s.value for s in VolunteerStatus),
        adjustments=frozenset(a.value for a in WorkAdjustment),
        occupation_categories=frozenset(c.value for c in OccupationCategory),
        evidence_statuses=frozenset(e.value for e in EvidenceStatus),
        conflict_categories=frozenset(c.value for c in ConflictCategory),
        block_reasons=frozenset(r.value for r in BlockReason),
        ward_codes=frozenset(session.scalars(select(Ward.code))),
        task_type_codes=frozenset(task_type_codes),
        special_kind=VolunteerKind.SPECIAL.value,
    )


def _unusable_password_hash() -> str:
    # Not an Argon2 hash, so no password ever matches it until the person accepts their invitation.
    return unusable_password_hash()


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_volunteers(session: Session, text: str, task_type_codes: Iterable[str], actor_id: int | None = None) -> int:
    """Create volunteers (with accounts) from CSV text. All or nothing: returns how many were created,
    or raises ImportRefused listing every problem, and nothing is saved.

    Accounts get the volunteer role, no usable password and a queued invitation to choose one (mailed by
    core.auth.credentials.send_queued_invitations). Volunteers imported as "applied" get a
    new-application vetting review, as if they had applied here.
    """
    parsed = csv_io.read_volunteers(text, vocabulary(session, task_type_codes))
    errors = list(parsed.errors)
    by_email = {record.email: row for row, record in parsed.records}
    for chunk in _chunks(list(by_email), 500):
        for email in session.scalars(select(User.email).where(User.email.in_(chunk))):
            errors.append(csv_io.RowError(by_email[email], f"an account with email address {email} already exists"))
    if errors:
        errors.sort(key=lambda error: error.row)  # stable: within a row, in column order
        raise ImportRefused(
            f"Nothing was imported: {plural(len(errors), 'problem')} in the file "
            f"{agree(len(errors), 'needs', 'need')} fixing.",
            errors,
        )
    records = [record for _, record in parsed.records]
    try:
        count = _insert(session, records)
    except IntegrityError:
        session.rollback()
        raise ImportRefused(
            "Nothing was imported: the accounts changed while the file was being imported "
            "(an email address was taken meanwhile). Try again."
        ) from None
    record_event(session, "volunteers_imported", actor_id, f"{count} volunteer accounts created from CSV")
    session.commit()
    return count


def _insert(session: Session, records: list[csv_io.VolunteerRecord]) -> int:
    ward_ids = dict(session.execute(select(Ward.code, Ward.id)).all())
    password_hash = _unusable_password_hash()
    now = utcnow()
    volunteer_ids: list[int] = []
    for chunk in _chunks(records, _BATCH):
        # Core inserts on the tables (not ORM bulk inserts): three times faster at 50,000 rows.
        user_ids = list(
            session.scalars(
                insert(User.__table__).returning(User.__table__.c.id, sort_by_parameter_order=True),
                [
                    dict(
                        email=r.email,
                        full_name=r.full_name,
                        role=Role.VOLUNTEER,
                        password_hash=password_hash,
                        created_at=now,
                    )
                    for r in chunk
                ],
            )
        )
        # Nobody is given a password: each is emailed an invitation to choose their own (sent after the
        # commit by `flask accounts send-invitations` or the worker, so 50,000 emails never hold the import).
        queue_invitations(session, user_ids, now)
        volunteer_ids += session.scalars(
            insert(Volunteer.__table__).returning(Volunteer.__table__.c.id, sort_by_parameter_order=True),
            [
                dict(
                    user_id=user_id,
                    kind=VolunteerKind(r.kind),
                    status=VolunteerStatus(r.status),
                    phone=r.phone,
                    home_ward_id=ward_ids[r.home_ward_code] if r.home_ward_code else None,
                    travel_limit_km=r.travel_limit_km,
                    weekly_hours_cap_minutes=r.weekly_hours_cap_minutes,
                    adjustment=WorkAdjustment(r.adjustment),
                    occupation=r.occupation,
                    occupation_category=OccupationCategory(r.occupation_category),
                    employer=r.employer,
                    military_reservist=r.military_reservist,
                    warrant_number=r.warrant_number,
                    patrol_status=PatrolStatus(r.patrol_status) if r.patrol_status else None,
                    monthly_commitment_minutes=r.monthly_commitment_minutes,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
                for user_id, r in zip(user_ids, chunk, strict=True)
            ],
        )

    children: dict[type, list[dict]] = defaultdict(list)
    for volunteer_id, r in zip(volunteer_ids, records, strict=True):
        children[VolunteerSkill] += [
            dict(
                volunteer_id=volunteer_id,
                skill_code=s.code,
                level=SkillLevel(s.level),
                evidence_status=EvidenceStatus(s.evidence_status),
                evidence_body=s.evidence_body,
                registration_number=s.registration_number,
                evidence_expires_on=s.evidence_expires_on,
            )
            for s in r.skills
        ]
        children[TaskPreference] += [dict(volunteer_id=volunteer_id, task_type_code=code) for code in r.preferences]
        children[AvailabilitySlot] += [
            dict(volunteer_id=volunteer_id, weekday=s.weekday, start_minute=s.start_minute, end_minute=s.end_minute)
            for s in r.availability
        ]
        children[ConflictDeclaration] += [
            dict(
                volunteer_id=volunteer_id,
                category=ConflictCategory(c.category),
                organisation=c.organisation,
                ward_id=ward_ids[c.ward_code] if c.ward_code else None,
                declared_at=now,
            )
            for c in r.conflicts
        ]
        children[BlockedPeriod] += [
            dict(volunteer_id=volunteer_id, first_day=b.first_day, last_day=b.last_day, reason=BlockReason(b.reason))
            for b in r.blocked_periods
        ]
    for model, rows in children.items():
        for chunk in _chunks(rows, 5000):
            session.execute(insert(model.__table__), chunk)

    applied = [vid for vid, r in zip(volunteer_ids, records, strict=True) if r.status == VolunteerStatus.APPLIED]
    for chunk in _chunks(applied, 500):
        for volunteer in session.scalars(select(Volunteer).where(Volunteer.id.in_(chunk))):
            for hook in seams().application_submitted:
                hook(session, volunteer)
    return len(volunteer_ids)
