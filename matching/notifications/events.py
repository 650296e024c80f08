"""What sergeants and volunteers are told when an offer is answered or withdrawn, a run leaves places
empty, or a booking is tomorrow: the words, and who hears them.

Each function records notifications in the caller's transaction (``services.record``); nothing is sent
from here. Links are not in the bodies: delivery adds them (``delivery.footer``), from the request or
offer each notification names, so these functions need no configuration and run inside any service.

Who hears about a request: the sergeant who raised it, while that account is an active sergeant;
otherwise (moved on, or the account closed) every active sergeant of the request's ward.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core.auth.models import Role, User, sergeant_wards
from core.timeutil import format_date, format_datetime, london_to_utc, london_today, to_london
from core.wording import plural
from matching.models import MatchRun, Offer, OfferStatus, RunRequest, SupportRequest
from matching.notifications.models import Notification, NotificationKind
from matching.notifications.services import Pending, record, record_many
from matching.offers.details import arrival_text, contact_text, slot_text
from vetting.policy import current_task_policies
from volunteers.models import Volunteer

# Runs whose empty places nobody is told about by a NOT_FILLED: a re-match after a decline (the decline's
# own message says who was offered next, or that nobody could be found) and the demo's load.
QUIET_TRIGGERS = frozenset({"decline", "demo"})


def sergeants_to_tell(session: Session, request: SupportRequest) -> list[User]:
    """The raising sergeant while theirs is an active sergeant's account; otherwise the ward's active sergeants."""
    raiser = request.created_by
    if raiser is not None and raiser.role is Role.SERGEANT and not raiser.is_disabled:
        return [raiser]
    return list(
        session.scalars(
            select(User)
            .join(sergeant_wards, sergeant_wards.c.user_id == User.id)
            .where(
                sergeant_wards.c.ward_id == request.ward_id,
                User.role == Role.SERGEANT,
                User.is_disabled.is_(False),
            )
            .order_by(User.id)
        )
    )


def _task_name(session: Session, request: SupportRequest) -> str:
    policy = current_task_policies(session).get(request.task_type_code)
    return policy.name if policy else request.task_type_code


def _places_text(session: Session, request: SupportRequest) -> str:
    accepted = session.scalar(
        select(func.count()).where(Offer.request_id == request.id, Offer.status == OfferStatus.ACCEPTED)
    )
    if accepted >= request.people_needed:
        return "Every place on the request is now filled." if request.people_needed > 1 else "The request is filled."
    return f"{accepted} of {request.people_needed} places are filled so far."


def offer_accepted(session: Session, offer: Offer) -> None:
    """A volunteer accepted: their sergeants hear who, and the volunteer gets a booking confirmation (delivery
    attaches the booking's calendar file)."""
    request, volunteer = offer.request, offer.volunteer.user
    for sergeant in sergeants_to_tell(session, request):
        record(
            session,
            user=sergeant,
            kind=NotificationKind.OFFER_ACCEPTED,
            subject=f"Accepted: {request.title}",
            body=(
                f"Dear {sergeant.full_name},\n\n{volunteer.full_name} has accepted this request:\n\n"
                f"  {request.title}\n  {slot_text(request, offer.starts_at)}\n\n"
                f"{_places_text(session, request)}\n"
            ),
            request_id=request.id,
            offer_id=offer.id,
        )
    task = _task_name(session, request)
    where = "remote work" if request.remote else request.ward.label
    record(
        session,
        user=volunteer,
        kind=NotificationKind.BOOKING_CONFIRMED,
        subject=f"You are booked: {task}, {slot_text(request, offer.starts_at)}",
        body=(
            f"Dear {volunteer.full_name},\n\nThank you: you are booked for this.\n\n"
            f"  {task}: {request.title}\n"
            f"  When: {slot_text(request, offer.starts_at)}\n"
            f"  {arrival_text(request, offer.starts_at)}\n"
            f"  Where: {where}\n"
            f"  Questions: {contact_text(request)} (the ward's Safer Neighbourhood Team)\n\n"
            f"The attached calendar file adds it to your calendar. We will remind you the day before.\n"
        ),
        request_id=request.id,
        offer_id=offer.id,
    )


def offer_declined(session: Session, offer: Offer, offered_next: Sequence[Offer]) -> None:
    """A volunteer declined and the place was offered again (``offered_next``: the re-match's offers, maybe
    none): their sergeants hear who declined and who was asked next, or that nobody else could be found."""
    request = offer.request
    if offered_next:
        names = ", ".join(o.volunteer.user.full_name for o in offered_next)
        deadline = format_datetime(min(o.respond_by for o in offered_next))
        then = f"The place has been offered to {names}, who has until {deadline} to answer."
    else:
        then = (
            "Nobody else could be found for the place: the request's page says why and what would fill it, "
            "and the next matching run tries again."
        )
    for sergeant in sergeants_to_tell(session, request):
        record(
            session,
            user=sergeant,
            kind=NotificationKind.OFFER_DECLINED,
            subject=f"Declined: {request.title}",
            body=(
                f"Dear {sergeant.full_name},\n\n{offer.volunteer.user.full_name} has declined this request:\n\n"
                f"  {request.title}\n  {slot_text(request, offer.starts_at)}\n\n{then}\n"
            ),
            request_id=request.id,
            offer_id=offer.id,
        )


def offers_unavailable(session: Session, offer_ids: Iterable[int], *, reoffered: bool = False) -> int:
    """Volunteers no longer available for their offers or bookings (their eligibility ended): their sergeants
    hear that and never why. ``reoffered``: the place is being offered to someone else now, not at the next
    matching run. Returns how many notifications were recorded."""
    next_step = (
        "The place is being offered to someone else now: the request's page shows who."
        if reoffered
        else "The place is open again and the next matching run will offer it to someone else."
    )
    count = 0
    for offer in _offers(session, offer_ids):
        request = offer.request
        for sergeant in sergeants_to_tell(session, request):
            record(
                session,
                user=sergeant,
                kind=NotificationKind.OFFER_WITHDRAWN,
                subject=f"Volunteer no longer available: {request.title}",
                body=(
                    f"Dear {sergeant.full_name},\n\n{offer.volunteer.user.full_name} is no longer available for "
                    f"this request:\n\n  {request.title}\n  {request.window_text}\n\n"
                    f"{next_step}\n"
                ),
                request_id=request.id,
                offer_id=offer.id,
            )
            count += 1
    return count


def _offers(session: Session, offer_ids: Iterable[int]) -> list[Offer]:
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.id.in_(sorted(set(offer_ids))))
            .order_by(Offer.id)
            .options(
                joinedload(Offer.request).joinedload(SupportRequest.created_by),
                joinedload(Offer.volunteer).joinedload(Volunteer.user),
            )
        )
    )


def requests_not_filled(session: Session, run: MatchRun) -> int:
    """After a run's plan is saved, in its transaction: one NOT_FILLED per request it left with places free,
    to that request's sergeants. Not to whoever started the run (they read the result on its page), and not
    for the runs in ``QUIET_TRIGGERS``. Returns how many were recorded."""
    if run.trigger in QUIET_TRIGGERS:
        return 0
    rows = session.execute(
        select(RunRequest, SupportRequest)
        .join(SupportRequest, SupportRequest.id == RunRequest.request_id)
        .where(RunRequest.run_id == run.id, RunRequest.places_offered < RunRequest.places_needed)
        .order_by(SupportRequest.window_start, SupportRequest.id)
        .options(joinedload(SupportRequest.created_by))
    ).all()
    pending: list[Pending] = []
    for finding, request in rows:
        free = finding.places_needed - finding.places_offered
        why = f"Why: {finding.suggestion.rstrip('.')}.\n\n" if finding.suggestion else ""
        for sergeant in sergeants_to_tell(session, request):
            if sergeant.id == run.requested_by_id:
                continue
            pending.append(
                Pending(
                    user=sergeant,
                    kind=NotificationKind.NOT_FILLED,
                    subject=f"Not filled: {request.title}",
                    body=(
                        f"Dear {sergeant.full_name},\n\nThe matching run on {format_date(run.created_at)} could "
                        f"not fill {plural(free, 'place')} on this request:\n\n"
                        f"  {request.title}\n  {request.window_text}\n\n{why}"
                        f"The request's page shows what would fill it, and the next matching run tries again.\n"
                    ),
                    request_id=request.id,
                )
            )
    record_many(session, pending)
    return len(pending)


def record_reminders(session: Session, now: dt.datetime, hour: int) -> int:
    """From ``hour`` (London) the day before: remind each volunteer of tomorrow's bookings, once per booking
    (the reminder's row, unique per offer, is the proof). Bookings made after that hour on the day before are
    not reminded (the confirmation has only just reached them). Commits; returns how many were recorded."""
    today = london_today(now)
    if to_london(now).hour < hour:
        return 0
    tomorrow = today + dt.timedelta(days=1)
    starts, ends = london_to_utc(tomorrow, dt.time(0)), london_to_utc(tomorrow + dt.timedelta(days=1), dt.time(0))
    reminded = exists().where(Notification.offer_id == Offer.id, Notification.kind == NotificationKind.REMINDER)
    offers = list(
        session.scalars(
            select(Offer)
            .join(Volunteer, Volunteer.id == Offer.volunteer_id)
            .join(User, User.id == Volunteer.user_id)
            .where(
                Offer.status == OfferStatus.ACCEPTED,
                Offer.starts_at >= starts,
                Offer.starts_at < ends,
                Offer.answered_at < london_to_utc(today, dt.time(hour)),
                User.is_disabled.is_(False),
                ~reminded,
            )
            .order_by(Offer.starts_at, Offer.id)
            .options(joinedload(Offer.request), joinedload(Offer.volunteer).joinedload(Volunteer.user))
        )
    )
    for offer in offers:
        request, user = offer.request, offer.volunteer.user
        where = "remote work" if request.remote else request.ward.label
        record(
            session,
            user=user,
            kind=NotificationKind.REMINDER,
            subject=f"Tomorrow: {request.title}, {slot_text(request, offer.starts_at)}",
            body=(
                f"Dear {user.full_name},\n\nA reminder that you are booked for this tomorrow:\n\n"
                f"  {_task_name(session, request)}: {request.title}\n"
                f"  When: {slot_text(request, offer.starts_at)}\n"
                f"  {arrival_text(request, offer.starts_at)}\n"
                f"  Where: {where}\n"
                f"  Questions: {contact_text(request)} (the ward's Safer Neighbourhood Team)\n\n"
                f"Thank you for giving your time.\n"
            ),
            request_id=request.id,
            offer_id=offer.id,
        )
    try:
        session.commit()
    except IntegrityError:  # another worker's periodic task reminded them first: theirs stands
        session.rollback()
        return 0
    return len(offers)
