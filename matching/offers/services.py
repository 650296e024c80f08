"""Offers: booking a volunteer onto a request, their answer, expiry, withdrawal, and what each user sees.

Booking safety is the database's job. On PostgreSQL the exclusion constraint of migration 0009
refuses two active offers of one volunteer whose times overlap, from any process; on SQLite
(one writer at a time) ``book_offers`` takes the write lock first and then checks, so the check
and the insert cannot interleave with another booking. Either way a clash is ``DoubleBooking``.

Answers are conditional updates (``… WHERE status = 'offered'``): a volunteer who accepts in two
tabs, or answers as the offer expires, changes it once. An accept checks again, in the same transaction,
that the volunteer is still eligible for the request on its dates (``eligibility.ineligible``, the
matcher's own rules): an offer made before a suspension or a lapse is never booked.

These functions flush but never commit: the caller's service owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core.auth.models import User
from core.auth.services import record_event
from core.db import among
from core.field_errors import FieldError
from core.timeutil import format_datetime
from matching.hours.services import booked_ahead_minutes, commitment_of, served_this_month
from matching.models import (
    ACTIVE_OFFER_STATUSES,
    VOLUNTEER_WITHDREW,
    Offer,
    OfferStatus,
    RequestStatus,
    RunRequest,
    SupportRequest,
)
from matching.notifications.events import offer_accepted, offer_declined, sergeants_to_tell
from matching.notifications.models import NotificationKind
from matching.notifications.services import record
from matching.offers.details import slot_text
from matching.offers.eligibility import WITHDRAWN_PREFIX, ineligible
from vetting.policy import current_task_policies
from volunteers.models import Volunteer

# The PostgreSQL error a violated exclusion constraint raises.
_EXCLUSION_VIOLATION = "23P01"


class OfferError(Exception):
    """An answer or a booking that cannot be made; the message is for the user."""


class DoubleBooking(OfferError):
    def __init__(self) -> None:
        super().__init__("This volunteer is already booked at an overlapping time.")


class NoLongerOpen(OfferError):
    """The volunteer can no longer take this place (their eligibility ended): never says why."""

    def __init__(self, offer: Offer, *, withdrawn_now: bool = False) -> None:
        super().__init__("This offer is no longer open to you.")
        self.offer = offer
        # True when this answer found it and withdrew the offer: the caller then tells the sergeant and
        # offers the place again (an offer withdrawn earlier was followed up by whatever withdrew it).
        self.withdrawn_now = withdrawn_now


class OfferNotFound(Exception):
    """No such offer, or not this volunteer's."""


@dataclass(frozen=True)
class Booking:
    """One place to book: who, on what, when, and why (the explanation the sergeant reads)."""

    request_id: int
    volunteer_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    load_minutes: int
    explanation: str
    respond_by: dt.datetime


def respond_by(now: dt.datetime, starts_at: dt.datetime, hours: int) -> dt.datetime:
    """The answer deadline: ``hours`` from now, but an hour before the task at the latest, and never
    less than 15 minutes from now (an urgent request an hour away still gets a real chance)."""
    deadline = min(now + dt.timedelta(hours=hours), starts_at - dt.timedelta(hours=1))
    return min(max(deadline, now + dt.timedelta(minutes=15)), starts_at)


def _take_write_lock(session: Session) -> None:
    """SQLite: take the database's write lock now (a write that changes nothing keeps it until commit)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE offers SET id = id WHERE 0 = 1"))


def _overlapping(session: Session, bookings: Sequence[Booking]) -> bool:
    """Whether any booking overlaps another of the same volunteer, here or already in the database."""
    by_volunteer: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for b in bookings:
        by_volunteer.setdefault(b.volunteer_id, []).append((b.starts_at, b.ends_at))
    earliest = min(b.starts_at for b in bookings)
    latest = max(b.ends_at for b in bookings)
    ids = sorted(by_volunteer)
    for chunk in range(0, len(ids), 500):
        rows = session.execute(
            select(Offer.volunteer_id, Offer.starts_at, Offer.ends_at).where(
                Offer.volunteer_id.in_(ids[chunk : chunk + 500]),
                Offer.status.in_(ACTIVE_OFFER_STATUSES),
                Offer.ends_at > earliest,
                Offer.starts_at < latest,
            )
        )
        for volunteer_id, start, end in rows:
            by_volunteer[volunteer_id].append((start, end))
    for ranges in by_volunteer.values():
        ranges.sort()
        if any(later[0] < earlier[1] for earlier, later in zip(ranges, ranges[1:], strict=False)):
            return True
    return False


def book_offers(session: Session, bookings: Sequence[Booking], *, run_id: int | None, now: dt.datetime) -> list[int]:
    """Insert the offers (not committed) and return their ids, in the bookings' order. Raises DoubleBooking
    if a volunteer would be in two places at once; the caller rolls back, so nothing of the batch is kept."""
    if not bookings:
        return []
    if session.get_bind().dialect.name != "postgresql":
        _take_write_lock(session)
        if _overlapping(session, bookings):
            raise DoubleBooking()
    rows = [
        dict(
            request_id=b.request_id,
            volunteer_id=b.volunteer_id,
            run_id=run_id,
            status=OfferStatus.OFFERED,
            starts_at=b.starts_at,
            ends_at=b.ends_at,
            load_minutes=b.load_minutes,
            explanation=b.explanation[:300],
            offered_at=now,
            respond_by=b.respond_by,
        )
        for b in bookings
    ]
    session.flush()  # anything pending goes first, as a flush of the new offers would have sent it
    if session.get_bind().dialect.name == "postgresql" and len(bookings) >= COPY_FROM:
        return _copy_offers(session, rows)
    try:
        # One multi-row INSERT … RETURNING id per thousand offers (a London week books ~25,000), in the
        # bookings' order. Only the ids come back: ORM objects for all of them cost a second and were unused.
        ids = list(
            session.scalars(
                Offer.__table__.insert().returning(Offer.__table__.c.id, sort_by_parameter_order=True), rows
            )
        )
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == _EXCLUSION_VIOLATION:
            raise DoubleBooking() from exc
        raise
    return ids


# From this many offers at once (a BCU's or London's run), PostgreSQL gets them by COPY: a London week
# books ~25,000, which multi-row INSERT ... RETURNING took ~2 s to send; COPY takes a fraction of that.
COPY_FROM = 500
_OFFER_COLUMNS = (
    "id",
    "request_id",
    "volunteer_id",
    "run_id",
    "status",
    "starts_at",
    "ends_at",
    "load_minutes",
    "explanation",
    "offered_at",
    "respond_by",
)


def _copy_offers(session: Session, rows: list[dict]) -> list[int]:
    """Insert the offers by COPY in the session's transaction, with ids drawn from the table's own
    sequence first (so they come back in the bookings' order). The exclusion constraint checks every
    row as an INSERT would: a double booking is refused the same way."""
    ids = sorted(
        session.scalars(
            text("SELECT nextval(pg_get_serial_sequence('offers', 'id')) FROM generate_series(1, :n)"), {"n": len(rows)}
        )
    )
    connection = session.connection().connection.driver_connection
    try:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {Offer.__tablename__} ({', '.join(_OFFER_COLUMNS)}) FROM STDIN") as copy,
        ):
            for offer_id, row in zip(ids, rows, strict=True):
                copy.write_row(
                    (
                        offer_id,
                        row["request_id"],
                        row["volunteer_id"],
                        row["run_id"],
                        row["status"].value,
                        row["starts_at"],
                        row["ends_at"],
                        row["load_minutes"],
                        row["explanation"],
                        row["offered_at"],
                        row["respond_by"],
                    )
                )
    except Exception as exc:  # the driver's own error: COPY bypasses SQLAlchemy's wrapping
        if getattr(exc, "sqlstate", None) == _EXCLUSION_VIOLATION:
            raise DoubleBooking() from exc
        raise
    return ids


# ---- Request status from its offers -------------------------------------------------------------


def refresh_status(session: Session, request_ids: Iterable[int]) -> None:
    """Set each live request's status from its active offers (see ``RequestStatus``)."""
    ids = sorted(set(request_ids))
    if not ids:
        return
    counts: dict[int, dict[OfferStatus, int]] = {}
    changes: dict[RequestStatus, list[int]] = {}
    for some in among(session, Offer.request_id, ids):
        for request_id, status, count in session.execute(
            select(Offer.request_id, Offer.status, func.count())
            .where(some, Offer.status.in_(ACTIVE_OFFER_STATUSES))
            .group_by(Offer.request_id, Offer.status)
        ):
            counts.setdefault(request_id, {})[status] = count
    for some in among(session, SupportRequest.id, ids):
        for request_id, current, people_needed in session.execute(
            select(SupportRequest.id, SupportRequest.status, SupportRequest.people_needed).where(some)
        ):
            if current in (RequestStatus.CANCELLED, RequestStatus.COMPLETED):
                continue  # not live (SupportRequest.is_live)
            accepted = counts.get(request_id, {}).get(OfferStatus.ACCEPTED, 0)
            offered = counts.get(request_id, {}).get(OfferStatus.OFFERED, 0)
            if accepted >= people_needed:
                status = RequestStatus.FILLED
            elif accepted:
                status = RequestStatus.PART_FILLED
            elif offered:
                status = RequestStatus.MATCHED
            else:
                status = RequestStatus.OPEN
            if current is not status:
                changes.setdefault(status, []).append(request_id)
    # One UPDATE per new status (on SQLite, per few hundred requests), not one per request; requests
    # already in the session get the new status too (synchronize_session: "fetch", as an id = ANY(array)
    # cannot be evaluated in Python), and updated_at moves as on any update.
    for status, changed in changes.items():
        for some in among(session, SupportRequest.id, changed):
            session.execute(
                update(SupportRequest).where(some).values(status=status).execution_options(synchronize_session="fetch")
            )
    session.flush()


# ---- The volunteer's answer ---------------------------------------------------------------------


def own_offer(session: Session, user_id: int, offer_id: int) -> Offer:
    offer = session.scalar(
        select(Offer)
        .join(Volunteer, Volunteer.id == Offer.volunteer_id)
        .where(Offer.id == offer_id, Volunteer.user_id == user_id)
        .options(joinedload(Offer.request).joinedload(SupportRequest.ward))
    )
    if offer is None:
        raise OfferNotFound()
    return offer


def answer(session: Session, user_id: int, offer_id: int, *, accept: bool, now: dt.datetime) -> Offer:
    """Accept or decline one's own offer while it is waiting and its deadline has not passed (commits).

    An accept re-checks the volunteer's eligibility for the request on its dates once the offer is claimed
    (so a suspension committing at the same moment either sees the booking and withdraws it, or is seen
    here). If they no longer qualify, the offer is closed as WITHDRAWN instead, that is committed, and
    ``NoLongerOpen`` is raised: the caller tells the sergeant and offers the place again.
    """
    offer = own_offer(session, user_id, offer_id)
    if offer.status is OfferStatus.WITHDRAWN:
        raise NoLongerOpen(offer)
    if offer.status is not OfferStatus.OFFERED:
        raise OfferError(
            "You have already answered this offer, or it has closed." if offer.answered_at else "This offer has closed."
        )
    if offer.respond_by <= now:
        raise OfferError("The time to answer this offer has passed, so the place has gone to someone else.")
    changed = session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status == OfferStatus.OFFERED)
        .values(status=OfferStatus.ACCEPTED if accept else OfferStatus.DECLINED, answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        session.refresh(offer)
        if offer.status is OfferStatus.WITHDRAWN:
            raise NoLongerOpen(offer)
        raise OfferError("You have already answered this offer, or it has closed.")
    session.refresh(offer)
    if accept:
        failing, _ = ineligible(
            session, [offer], select(Offer.id).where(Offer.id == offer.id), current_task_policies(session)
        )
        if failing:
            close_offers(session, [offer], OfferStatus.WITHDRAWN, WITHDRAWN_PREFIX + ", ".join(failing[offer.id]), now)
            session.commit()
            raise NoLongerOpen(offer, withdrawn_now=True)
    refresh_status(session, [offer.request_id])
    if accept:
        # The sergeant hears who accepted and the volunteer gets a confirmation, once this commits. A decline is
        # told after its re-match (``notify_declined``), so the sergeant also reads who was asked next.
        offer_accepted(session, offer)
    session.commit()
    return offer


# ---- The volunteer pulls out of a booking --------------------------------------------------------

# The reason is kept in the offer's ``closed_reason`` after VOLUNTEER_WITHDREW (120 characters in all).
WITHDRAW_REASON_MAX = 100


class WithdrawalError(FieldError):
    """A pull-out refused: by the reason field, or (no field) about the booking itself."""


def withdrawal_deadline(offer: Offer, notice_hours: int) -> dt.datetime:
    """The last moment the volunteer may pull out on the site: ``notice_hours`` before the deployment."""
    return offer.starts_at - dt.timedelta(hours=notice_hours)


def may_pull_out(offer: Offer, notice_hours: int, now: dt.datetime) -> bool:
    """A booking (accepted) whose notice period has not begun."""
    return offer.status is OfferStatus.ACCEPTED and now < withdrawal_deadline(offer, notice_hours)


def pull_out(
    session: Session, user_id: int, offer_id: int, *, reason: str, notice_hours: int, now: dt.datetime
) -> Offer:
    """The volunteer withdraws from their own booking, in good time, with a reason the sergeant reads (commits).

    Refused inside the notice period (the page gives them the team's contact instead: a booking that near
    needs a conversation, not an email). The offer is closed WITHDRAWN with ``closed_reason`` starting
    VOLUNTEER_WITHDREW, by a conditional update, so two tabs withdraw it once; the request's status follows
    and the raising sergeant is told, in this transaction. No deployment record is made: pulling out with
    notice is not a no-show and never lowers the volunteer's ranking. The caller offers the place again once
    this has committed (``matching.runs.services.rematch``); the volunteer who withdrew is never offered this
    request again (``matching.facts.load_requests`` excludes everyone offered it before).
    """
    offer = own_offer(session, user_id, offer_id)
    reason = " ".join((reason or "").split())
    if offer.status is not OfferStatus.ACCEPTED or offer.ends_at <= now:
        raise WithdrawalError("You are not booked for this, so there is nothing to withdraw from.")
    if not may_pull_out(offer, notice_hours, now):
        raise WithdrawalError(
            "It is too late to withdraw on this site: the deployment is less than "
            f"{notice_hours} hours away. Contact the team instead (below)."
        )
    if not reason:
        raise WithdrawalError("Enter why you cannot go", field="reason")
    if len(reason) > WITHDRAW_REASON_MAX:
        raise WithdrawalError(f"The reason must be {WITHDRAW_REASON_MAX} characters or fewer", field="reason")
    changed = session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status == OfferStatus.ACCEPTED)
        .values(status=OfferStatus.WITHDRAWN, closed_reason=VOLUNTEER_WITHDREW + reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        raise WithdrawalError("This booking has already been withdrawn or has closed.")
    session.refresh(offer)
    refresh_status(session, [offer.request_id])
    request, volunteer = offer.request, offer.volunteer
    for sergeant in sergeants_to_tell(session, request):
        record(
            session,
            user=sergeant,
            kind=NotificationKind.OFFER_WITHDRAWN,
            subject=f"Volunteer withdrew: {request.title}",
            body=(
                f"Dear {sergeant.full_name},\n\n{volunteer.user.full_name} has withdrawn from this request "
                f"(on {format_datetime(now)}):\n\n  {request.title}\n  {slot_text(request, offer.starts_at)}\n\n"
                f"Their reason: {reason}\n\nThe place is being offered to someone else now: the request's page "
                "shows who.\n"
            ),
            request_id=request.id,
            offer_id=offer.id,
        )
    record_event(
        session,
        "offer_withdrawn_by_volunteer",
        user_id,
        f"offer {offer.id}, request {offer.request_id}, volunteer {offer.volunteer_id}",
    )
    session.commit()
    return offer


def notify_declined(session: Session, offer_id: int, run_id: int | None) -> None:
    """After a decline's re-match (run ``run_id``, None if none could run): tell the sergeants who declined and
    whom that run offered the place to, or that nobody else could be found (commits)."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.status is not OfferStatus.DECLINED:
        return
    offered_next = (
        list(
            session.scalars(
                select(Offer)
                .where(Offer.run_id == run_id, Offer.request_id == offer.request_id)
                .order_by(Offer.id)
                .options(joinedload(Offer.volunteer).joinedload(Volunteer.user))
            )
        )
        if run_id is not None
        else []
    )
    offer_declined(session, offer, offered_next)
    session.commit()


def expire_due(session: Session, now: dt.datetime) -> list[int]:
    """Close offers nobody answered in time; returns the requests that have a place free again (commits)."""
    rows = session.execute(
        select(Offer.id, Offer.request_id).where(Offer.status == OfferStatus.OFFERED, Offer.respond_by <= now)
    ).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    for chunk in range(0, len(ids), 500):
        session.execute(
            update(Offer)
            .where(Offer.id.in_(ids[chunk : chunk + 500]), Offer.status == OfferStatus.OFFERED)
            .values(status=OfferStatus.EXPIRED, closed_reason="no answer in time")
            .execution_options(synchronize_session=False)
        )
    request_ids = sorted({r.request_id for r in rows})
    refresh_status(session, request_ids)
    session.commit()
    return request_ids


def close_offers(
    session: Session, offers: Iterable[Offer], status: OfferStatus, reason: str, now: dt.datetime
) -> list[int]:
    """Withdraw or cancel active offers (flushed, not committed); returns their request ids."""
    request_ids = set()
    for offer in offers:
        if offer.is_active:
            offer.status = status
            offer.closed_reason = reason[:120]
            offer.answered_at = offer.answered_at or now
            request_ids.add(offer.request_id)
    session.flush()
    refresh_status(session, request_ids)
    return sorted(request_ids)


# ---- What each user sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerWork:
    waiting: list[Offer]
    upcoming: list[Offer]
    month_minutes: int  # served this London month (attended deployments, approved duty hours)
    commitment_minutes: int | None
    booked_ahead_minutes: int = 0  # accepted bookings still to come this London month


def volunteer_work(session: Session, volunteer: Volunteer, now: dt.datetime) -> VolunteerWork:
    """The volunteer's offers waiting for an answer, upcoming deployments, and this London month's hours."""
    options = joinedload(Offer.request).joinedload(SupportRequest.ward)
    waiting = list(
        session.scalars(
            select(Offer)
            .where(Offer.volunteer_id == volunteer.id, Offer.status == OfferStatus.OFFERED, Offer.respond_by > now)
            .order_by(Offer.respond_by, Offer.id)
            .options(options)
        )
    )
    upcoming = list(
        session.scalars(
            select(Offer)
            .where(Offer.volunteer_id == volunteer.id, Offer.status == OfferStatus.ACCEPTED, Offer.ends_at > now)
            .order_by(Offer.starts_at, Offer.id)
            .options(options)
        )
    )
    # Hours served (confirmed attendance, approved duty hours), not bookings: a booking may yet be withdrawn
    # or missed. What is booked for the rest of the month is shown apart (matching/hours).
    return VolunteerWork(
        waiting,
        upcoming,
        served_this_month(session, volunteer.id, now),
        commitment_of(volunteer)[0],
        booked_ahead_minutes(session, volunteer.id, now),
    )


def offers_for_request(session: Session, request_id: int) -> list[Offer]:
    """Every offer made for a request, newest first, with the volunteer's name and contact loaded."""
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.request_id == request_id)
            .order_by(Offer.offered_at.desc(), Offer.id.desc())
            .options(joinedload(Offer.volunteer).joinedload(Volunteer.user))
        )
    )


def latest_findings(session: Session, request_id: int) -> RunRequest | None:
    """What the most recent run that looked at this request found (its funnel and suggestion)."""
    return session.scalar(
        select(RunRequest).where(RunRequest.request_id == request_id).order_by(RunRequest.run_id.desc()).limit(1)
    )


def served_ward_volunteers(session: Session, ward_ids: Sequence[int]) -> list[Volunteer]:
    """Volunteers these wards have worked with, by name (for continuity): anyone who accepted work there, done or
    still to come. Only work already done was counted once, so on a new deployment, where every booking is still
    ahead, the sergeant was never asked; a volunteer booked for next week has met the ward's team just the same."""
    if not ward_ids:
        return []
    ids = (
        select(Offer.volunteer_id)
        .join(SupportRequest, SupportRequest.id == Offer.request_id)
        .where(SupportRequest.ward_id.in_(list(ward_ids)), Offer.status == OfferStatus.ACCEPTED)
    )
    return list(
        session.scalars(
            select(Volunteer)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(ids))
            .order_by(User.full_name)
            .options(joinedload(Volunteer.user))
        )
    )
