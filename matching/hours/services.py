"""Hours use cases: a special logs duty hours; a sergeant of their home ward or a coordinator approves or
rejects them; each volunteer's year (deployments and duty, totals, milestones); the coordinators' table of
specials' hours against their commitment. One commit per use case; refusals are ``HoursError``.

Served time is what counts towards hours: deployments the sergeant confirmed ATTENDED (their
``served_minutes``) and APPROVED duty hours. Bookings, hours waiting for approval and rejected hours are
shown but never counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, joinedload

from core.auth.models import Role, User, sergeant_wards
from core.field_errors import FieldError
from core.geography.models import Bcu, Borough, Ward
from core.timeutil import NonexistentLocalTime, london_to_utc, london_today, to_london
from matching.deployments.models import OUTCOME_LABELS, Deployment, DeploymentOutcome
from matching.hours import rules
from matching.hours.models import DAY_MINUTES, NOTE_MAX, REASON_MAX, DutyHours, DutyKind, DutyState
from matching.models import Offer, OfferStatus, SupportRequest
from vetting.catalogue import DEFAULT_POLICY
from volunteers.models import Volunteer, VolunteerKind, VolunteerStatus

# Ids are 32-bit integers in the database; a larger number in a URL is simply not found.
_MAX_ID = 2**31 - 1
# How far back a special may log duty themselves. Older hours are a matter for their coordinator: the
# approver could no longer check them against the duty sheets.
LOG_WINDOW_DAYS = 92
# Who can still log duty: someone who has left, or whose application is still with vetting, has none.
_ON_DUTY = (VolunteerStatus.ACTIVE, VolunteerStatus.PAUSED)
# The coordinators' table: how many months, this one included.
TABLE_MONTHS = 6
# Past deployments shown on the volunteer's year, newest first.
PAST_SHOWN = 50


class HoursError(FieldError):
    """Logging or deciding duty hours was refused; ``field`` names the form field it concerns, if any."""


class NotFound(Exception):
    """No such entry or volunteer, or not one this user may see."""


@dataclass(frozen=True)
class DutyDetails:
    """What a special enters: the London date, the kind of duty, and either clock times or a length."""

    on_date: dt.date
    kind: DutyKind
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None
    minutes: int | None = None
    note: str = ""


# ---- Logging -------------------------------------------------------------------------------------


def _length(details: DutyDetails, now: dt.datetime) -> tuple[int, int | None, int | None]:
    """(minutes, start minute, end minute) of the duty, or HoursError by the field that is wrong."""
    if details.start is not None and details.end is not None:
        if details.minutes is not None:
            raise HoursError("Enter either the start and end times or the number of hours, not both", "hours")
        if details.start == (24, 0):
            raise HoursError("Enter a start time before midnight, like 23:30", "start_time")
        start_minute = details.start[0] * 60 + details.start[1]
        end_minute = details.end[0] * 60 + details.end[1]
        # An end at or before the start is the next morning: a night patrol, 10pm until 3am.
        overnight = end_minute <= start_minute and details.end != (24, 0)
        try:
            starts = london_to_utc(details.on_date, dt.time(*details.start))
        except NonexistentLocalTime as exc:
            raise HoursError(str(exc), "start_time") from None
        end_day = details.on_date + dt.timedelta(days=1 if overnight or details.end == (24, 0) else 0)
        try:
            ends = london_to_utc(end_day, dt.time(0, 0) if details.end == (24, 0) else dt.time(*details.end))
        except NonexistentLocalTime as exc:
            raise HoursError(str(exc), "end_time") from None
        if ends > now:
            raise HoursError("The duty must have ended: log it once it is over", "end_time")
        # Real minutes, so a night patrol across a clock change counts the hour gained or lost.
        return int((ends - starts).total_seconds() // 60), start_minute, min(end_minute, DAY_MINUTES)
    if details.start is not None:
        raise HoursError("Enter the time the duty ended", "end_time")
    if details.end is not None:
        raise HoursError("Enter the time the duty started", "start_time")
    if details.minutes is None:
        raise HoursError("Enter the start and end times, or the number of hours", "hours")
    return details.minutes, None, None


def log_duty(session: Session, volunteer: Volunteer, details: DutyDetails, now: dt.datetime) -> DutyHours:
    """A special constable logs a stretch of their own duty; it waits for approval. Commits."""
    if volunteer.kind is not VolunteerKind.SPECIAL:
        raise HoursError("Only special constables log their own duty hours")
    if volunteer.status not in _ON_DUTY:
        raise HoursError("You can log duty hours only while you are volunteering")
    today = london_today(now)
    if details.on_date > today:
        raise HoursError("The date of the duty must be today or in the past", "on_date")
    if details.on_date < today - dt.timedelta(days=LOG_WINDOW_DAYS):
        raise HoursError(
            f"You can log duty from the last {LOG_WINDOW_DAYS} days only. For older duty, ask your coordinator",
            "on_date",
        )
    minutes, start_minute, end_minute = _length(details, now)
    field = "hours" if details.minutes is not None else "end_time"
    if minutes <= 0:
        raise HoursError("Enter a length of duty of at least 1 minute", field)
    if minutes > DAY_MINUTES:
        raise HoursError("A stretch of duty can be at most 24 hours", field)
    note = details.note.strip()
    if len(note) > NOTE_MAX:
        raise HoursError(f"The note must be {NOTE_MAX} characters or fewer", "note")
    # One entry at a time per person: two tabs sending at once could otherwise both pass the daily limit.
    session.execute(select(Volunteer.id).where(Volunteer.id == volunteer.id).with_for_update())
    already = session.scalar(
        select(func.coalesce(func.sum(DutyHours.minutes), 0)).where(
            DutyHours.volunteer_id == volunteer.id,
            DutyHours.on_date == details.on_date,
            DutyHours.state != DutyState.REJECTED,
        )
    )
    if already + minutes > DAY_MINUTES:
        raise HoursError(
            f"You have already logged {rules.hours_text(already)} on this date. "
            "Duty logged for one day can be at most 24 hours",
            field,
        )
    entry = DutyHours(
        volunteer_id=volunteer.id,
        on_date=details.on_date,
        kind=details.kind,
        start_minute=start_minute,
        end_minute=end_minute,
        minutes=minutes,
        note=note,
        state=DutyState.PENDING,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.commit()
    return entry


def own_entries(session: Session, volunteer_id: int, limit: int = 100) -> list[DutyHours]:
    """A special's duty entries, newest duty first."""
    return list(
        session.scalars(
            select(DutyHours)
            .where(DutyHours.volunteer_id == volunteer_id)
            .order_by(DutyHours.on_date.desc(), DutyHours.id.desc())
            .limit(limit)
        )
    )


# ---- Approving -----------------------------------------------------------------------------------


def _decidable(user: User) -> Select:
    """The volunteers whose hours ``user`` decides: a sergeant's home-ward specials, or everyone for a
    coordinator. Anyone else: no one."""
    query = select(Volunteer.id).where(Volunteer.kind == VolunteerKind.SPECIAL)
    if user.role is Role.COORDINATOR:
        return query
    if user.role is Role.SERGEANT:
        return query.where(
            Volunteer.home_ward_id.in_(select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == user.id))
        )
    return query.where(Volunteer.id.is_(None))


def _with_people():
    return joinedload(DutyHours.volunteer).options(
        joinedload(Volunteer.user), joinedload(Volunteer.home_ward).joinedload(Ward.borough)
    )


def waiting(session: Session, user: User, limit: int = 200) -> list[DutyHours]:
    """Duty hours waiting for ``user``'s decision, the oldest logged first."""
    return list(
        session.scalars(
            select(DutyHours)
            .where(DutyHours.state == DutyState.PENDING, DutyHours.volunteer_id.in_(_decidable(user)))
            .order_by(DutyHours.created_at, DutyHours.id)
            .options(_with_people())
            .limit(limit)
        )
    )


def recently_decided(session: Session, user: User, limit: int = 20) -> list[DutyHours]:
    """The latest decisions on the hours ``user`` decides (by anyone), newest first."""
    return list(
        session.scalars(
            select(DutyHours)
            .where(DutyHours.state != DutyState.PENDING, DutyHours.volunteer_id.in_(_decidable(user)))
            .order_by(DutyHours.decided_at.desc(), DutyHours.id.desc())
            .options(_with_people(), joinedload(DutyHours.decided_by))
            .limit(limit)
        )
    )


def entry_for(session: Session, user: User, entry_id: int) -> DutyHours:
    """An entry ``user`` may decide, or NotFound (another ward's special's hours are not found)."""
    if not 0 < entry_id <= _MAX_ID:
        raise NotFound()
    entry = session.scalar(
        select(DutyHours)
        .where(DutyHours.id == entry_id, DutyHours.volunteer_id.in_(_decidable(user)))
        .options(_with_people())
    )
    if entry is None:
        raise NotFound()
    return entry


def _decide(session: Session, user: User, entry_id: int, state: DutyState, reason: str, now: dt.datetime) -> None:
    entry = entry_for(session, user, entry_id)
    # A conditional update: two approvers deciding at once, only the first counts.
    done = session.execute(
        update(DutyHours)
        .where(DutyHours.id == entry.id, DutyHours.state == DutyState.PENDING)
        .values(state=state, decided_by_id=user.id, decided_at=now, rejection_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        session.rollback()
        raise HoursError("These hours have already been approved or rejected")
    session.commit()


def approve(session: Session, user: User, entry_id: int, now: dt.datetime) -> None:
    """Approve a special's duty hours: they count as served from now. Commits."""
    _decide(session, user, entry_id, DutyState.APPROVED, "", now)


def reject(session: Session, user: User, entry_id: int, reason: str, now: dt.datetime) -> None:
    """Reject a special's duty hours with a reason they are shown. Commits."""
    reason = reason.strip()
    if not reason:
        raise HoursError("Enter the reason, so the special knows what to correct", "reason")
    if len(reason) > REASON_MAX:
        raise HoursError(f"The reason must be {REASON_MAX} characters or fewer", "reason")
    _decide(session, user, entry_id, DutyState.REJECTED, reason, now)


# ---- What counts as served -----------------------------------------------------------------------


def served_by_volunteer(
    session: Session, volunteer_ids: Select | list[int], since: dt.date | None = None
) -> dict[int, list[rules.Served]]:
    """Each volunteer's served time on London dates (from ``since``, if given): attended deployments, by
    the London date they started, and approved duty hours."""
    found: dict[int, list[rules.Served]] = defaultdict(list)
    deployments = (
        select(Deployment.volunteer_id, Offer.starts_at, Deployment.served_minutes)
        .join(Offer, Offer.id == Deployment.offer_id)
        .where(
            Deployment.volunteer_id.in_(volunteer_ids),
            Deployment.outcome == DeploymentOutcome.ATTENDED,
            Deployment.served_minutes.is_not(None),
        )
    )
    duty = select(DutyHours.volunteer_id, DutyHours.on_date, DutyHours.minutes).where(
        DutyHours.volunteer_id.in_(volunteer_ids), DutyHours.state == DutyState.APPROVED
    )
    if since is not None:
        # A day early in UTC: the London date decides, below.
        deployments = deployments.where(Offer.starts_at >= london_to_utc(since, dt.time(0, 0)) - dt.timedelta(days=1))
        duty = duty.where(DutyHours.on_date >= since)
    for volunteer_id, starts_at, minutes in session.execute(deployments):
        on = to_london(starts_at).date()
        if since is None or on >= since:
            found[volunteer_id].append(rules.Served(on, minutes))
    for volunteer_id, on_date, minutes in session.execute(duty):
        found[volunteer_id].append(rules.Served(on_date, minutes))
    return found


def commitment_of(volunteer: Volunteer) -> tuple[int | None, bool]:
    """(monthly commitment in minutes, whether it is the force's default): a special with none recorded is
    held to the force's minimum; a police support volunteer has none."""
    if volunteer.monthly_commitment_minutes:
        return volunteer.monthly_commitment_minutes, False
    if volunteer.kind is VolunteerKind.SPECIAL:
        return DEFAULT_POLICY.special_monthly_commitment_minutes, True
    return None, False


@dataclass(frozen=True)
class PastDeployment:
    offer: Offer
    outcome: DeploymentOutcome
    served_minutes: int | None  # counted only when ATTENDED

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]

    @property
    def counted(self) -> bool:
        return self.outcome is DeploymentOutcome.ATTENDED and self.served_minutes is not None


@dataclass(frozen=True)
class VolunteerYear:
    """A volunteer's hours as they and their coordinator see them."""

    volunteer: Volunteer
    today: dt.date
    totals: rules.Totals
    commitment_minutes: int | None
    commitment_is_default: bool
    milestones: rules.Milestones
    joined_on: dt.date  # when their record was created: the date long service counts from
    past: list[PastDeployment]
    duty: list[DutyHours]
    pending_minutes: int  # logged, not yet approved or confirmed
    booked_ahead_minutes: int  # accepted bookings still to come this London month

    @property
    def month_percent(self) -> int | None:
        if not self.commitment_minutes:
            return None
        return rules.percent_of(self.totals.month_minutes, self.commitment_minutes)

    @property
    def year_commitment_minutes(self) -> int | None:
        """The commitment for the months of this year so far, this one included."""
        return None if not self.commitment_minutes else self.commitment_minutes * self.today.month


def booked_ahead_minutes(session: Session, volunteer_id: int, now: dt.datetime) -> int:
    """Accepted bookings of this London month still to come (not yet served, so never counted as served)."""
    today = london_today(now)
    month_end = london_to_utc(rules.add_months(rules.first_of_month(today), 1), dt.time(0, 0))
    total = 0
    for starts_at, ends_at in session.execute(
        select(Offer.starts_at, Offer.ends_at).where(
            Offer.volunteer_id == volunteer_id,
            Offer.status == OfferStatus.ACCEPTED,
            Offer.starts_at >= now,
            Offer.starts_at < month_end,
        )
    ):
        total += int((ends_at - starts_at).total_seconds() // 60)
    return total


def served_this_month(session: Session, volunteer_id: int, now: dt.datetime) -> int:
    """Minutes served this London month: attended deployments and approved duty hours."""
    today = london_today(now)
    served = served_by_volunteer(session, [volunteer_id], rules.first_of_month(today))
    return rules.totals(served.get(volunteer_id, []), today).month_minutes


def volunteer_year(session: Session, volunteer: Volunteer, now: dt.datetime) -> VolunteerYear:
    """Past deployments, duty hours, this month's and this year's hours against the commitment, and
    long-service milestones."""
    today = london_today(now)
    served = served_by_volunteer(session, [volunteer.id]).get(volunteer.id, [])
    totals = rules.totals(served, today)
    joined_on = to_london(volunteer.created_at).date()
    rows = session.execute(
        select(Offer, Deployment)
        .outerjoin(Deployment, Deployment.offer_id == Offer.id)
        .where(Offer.volunteer_id == volunteer.id, Offer.status == OfferStatus.ACCEPTED, Offer.ends_at <= now)
        .order_by(Offer.starts_at.desc(), Offer.id.desc())
        .options(joinedload(Offer.request).joinedload(SupportRequest.ward))
        .limit(PAST_SHOWN)
    ).all()
    past = [
        PastDeployment(
            offer,
            deployment.outcome if deployment else DeploymentOutcome.AWAITING,
            deployment.served_minutes if deployment else None,
        )
        for offer, deployment in rows
    ]
    duty = own_entries(session, volunteer.id)
    pending = sum(e.minutes for e in duty if e.state is DutyState.PENDING)
    pending += session.scalar(
        select(func.coalesce(func.sum(Deployment.logged_minutes), 0)).where(
            Deployment.volunteer_id == volunteer.id, Deployment.outcome == DeploymentOutcome.LOGGED
        )
    )
    commitment, is_default = commitment_of(volunteer)
    return VolunteerYear(
        volunteer=volunteer,
        today=today,
        totals=totals,
        commitment_minutes=commitment,
        commitment_is_default=is_default,
        milestones=rules.milestones(totals.all_minutes, joined_on, today),
        joined_on=joined_on,
        past=past,
        duty=duty,
        pending_minutes=pending,
        booked_ahead_minutes=booked_ahead_minutes(session, volunteer.id, now),
    )


def volunteer_by_id(session: Session, volunteer_id: int) -> Volunteer:
    """Any volunteer, for a coordinator, or NotFound."""
    if not 0 < volunteer_id <= _MAX_ID:
        raise NotFound()
    volunteer = session.scalar(
        select(Volunteer).where(Volunteer.id == volunteer_id).options(joinedload(Volunteer.user))
    )
    if volunteer is None:
        raise NotFound()
    return volunteer


# ---- Specials against their commitment -----------------------------------------------------------


@dataclass(frozen=True)
class MonthCell:
    month: dt.date
    minutes: int
    percent: int
    rag: rules.Rag | None

    @property
    def rag_label(self) -> str:
        return rules.RAG_LABELS[self.rag] if self.rag else "No commitment"


@dataclass(frozen=True)
class SpecialRow:
    volunteer_id: int
    name: str
    warrant_number: str
    ward: str
    bcu: str
    paused: bool
    commitment_minutes: int
    commitment_is_default: bool
    months: list[MonthCell]


@dataclass(frozen=True)
class CommitmentTable:
    months: list[dt.date]  # oldest first; the last is this month, still running
    rows: list[SpecialRow]
    green_percent: int
    amber_percent: int


def bcus(session: Session) -> list[Bcu]:
    return list(session.scalars(select(Bcu).order_by(Bcu.name)))


def commitment_table(
    session: Session,
    now: dt.datetime,
    green_percent: int,
    amber_percent: int,
    bcu_id: int | None = None,
    months: int = TABLE_MONTHS,
) -> CommitmentTable:
    """Every active or paused special constable (of one BCU, by their home ward, if ``bcu_id``), by name, with
    the hours served in each of the last ``months`` months and its red / amber / green against their
    monthly commitment."""
    first_days = rules.last_months(london_today(now), months)
    specials = (
        select(Volunteer, User.full_name, Ward.name, Bcu.name)
        .join(User, User.id == Volunteer.user_id)
        .outerjoin(Ward, Ward.id == Volunteer.home_ward_id)
        .outerjoin(Borough, Borough.id == Ward.borough_id)
        .outerjoin(Bcu, Bcu.id == Borough.bcu_id)
        .where(Volunteer.kind == VolunteerKind.SPECIAL, Volunteer.status.in_(_ON_DUTY))
        .order_by(func.lower(User.full_name), Volunteer.id)
    )
    if bcu_id is not None:
        specials = specials.where(Borough.bcu_id == bcu_id)
    found = session.execute(specials).all()
    served = served_by_volunteer(session, [v.id for v, *_ in found], first_days[0]) if found else {}
    rows = []
    for volunteer, name, ward, bcu in found:
        commitment, is_default = commitment_of(volunteer)
        assert commitment is not None  # a special always has one (the force's minimum if none recorded)
        per_month = rules.by_month(served.get(volunteer.id, []), first_days)
        rows.append(
            SpecialRow(
                volunteer_id=volunteer.id,
                name=name,
                warrant_number=volunteer.warrant_number or "",
                ward=ward or "",
                bcu=bcu or "",
                paused=volunteer.status is VolunteerStatus.PAUSED,
                commitment_minutes=commitment,
                commitment_is_default=is_default,
                months=[
                    MonthCell(
                        month,
                        minutes,
                        rules.percent_of(minutes, commitment),
                        rules.rag(minutes, commitment, green_percent, amber_percent),
                    )
                    for month, minutes in per_month.items()
                ],
            )
        )
    return CommitmentTable(first_days, rows, green_percent, amber_percent)


def _hours_number(minutes: int) -> str:
    """Hours as a spreadsheet reads them: 2.5, 16."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def table_csv(table: CommitmentTable) -> str:
    """The same rows as CSV: one line per special, hours and status per month."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["name", "warrant_number", "home_ward", "bcu", "status", "monthly_commitment_hours"]
    for month in table.months:
        header += [f"{month:%Y-%m}_hours", f"{month:%Y-%m}_status"]
    writer.writerow(header)
    for row in table.rows:
        line = [
            row.name,
            row.warrant_number,
            row.ward,
            row.bcu,
            "paused" if row.paused else "active",
            _hours_number(row.commitment_minutes),
        ]
        for cell in row.months:
            line += [_hours_number(cell.minutes), cell.rag_label]
        writer.writerow([_safe_cell(value) for value in line])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """A spreadsheet runs a cell that starts with = + - @ as a formula: a name could be made to."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
