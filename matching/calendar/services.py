"""Calendar feeds: making, replacing and turning off a person's private link, and what their feed holds.

A volunteer's feed holds their bookings; a sergeant's, their wards' requests that have gone out to
volunteers, with who is coming. The link is the only key (calendar apps cannot sign in), so:

* the token is 256 random bits, of which only the SHA-256 is stored; it is shown once, when made, and
  a person who lost it makes a new one (which ends the old);
* an unknown, replaced or turned-off token, an account disabled, a volunteer who left, or someone no
  longer a sergeant all get the same bare 404;
* the feed says no more than the person could see signed in: a sergeant's holds volunteers' names
  and never anything of their vetting.

Calendar apps poll (Google every few hours, Apple as often as every five minutes), so a fetch is one
indexed look-up and two small queries, and writes ``last_used_at`` at most once an hour.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core.auth.models import Role, User, sergeant_wards
from core.auth.services import record_event
from core.db import utcnow
from core.field_errors import FieldError
from core.geography.models import Ward
from core.wording import plural
from matching.calendar.ics import CalendarEvent, calendar_bytes, offer_uid, request_uid
from matching.calendar.models import CalendarFeed
from matching.models import VOLUNTEER_WITHDREW, Offer, OfferStatus, RequestStatus, SupportRequest
from matching.notifications.models import Notification, NotificationKind
from matching.offers.details import arrival_text, contact_text, slot_text
from vetting.policy import current_task_policies
from volunteers.models import ENDED_STATUSES, Volunteer

FEED_ROLES = frozenset({Role.VOLUNTEER, Role.SERGEANT})
# How far back a feed reaches: the last few weeks, so a calendar keeps recent history, and cancellations
# stay in long enough for every app to have refreshed and dropped them.
PAST = dt.timedelta(weeks=4)
# A feed is a calendar, not an archive: the nearest this many events (far more than anyone has).
MAX_EVENTS = 500
# How stale ``last_used_at`` may be: "used today" is all a person needs to know, and a write on every
# poll would be a write every few minutes per subscriber.
FETCH_RECORDED_EVERY = dt.timedelta(hours=1)
# token_urlsafe(32): 43 characters of A–Z a–z 0–9 - _. Anything else is not worth a database look-up.
_TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class CalendarError(FieldError):
    """A refusal to make a link, said by the field or as a flash message."""


@dataclass(frozen=True)
class NewLink:
    """A link just made: ``token`` exists only here and in the page that shows it once."""

    token: str
    feed: CalendarFeed
    replaced: bool


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live_feed(session: Session, user_id: int) -> CalendarFeed | None:
    """The person's working link, if they have one."""
    return session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
    )


def create_link(session: Session, user: User, now: dt.datetime | None = None) -> NewLink:
    """Make a new link for ``user``, ending the one they had (its address stops working at once). Audited."""
    if user.role not in FEED_ROLES:
        raise CalendarError("Only volunteers and sergeants have a calendar link")
    now = now or utcnow()
    for attempt in (1, 2):
        replaced = _revoke(session, user.id, now)
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        feed = CalendarFeed(user_id=user.id, token_hash=token_hash(token), created_at=now)
        session.add(feed)
        try:
            session.flush()
        except IntegrityError:
            # Another tab made one at the same moment: end that one too, once.
            session.rollback()
            if attempt == 2:
                raise CalendarError("Your calendar link was changed in another window. Try again") from None
            continue
        event = "calendar_feed_replaced" if replaced else "calendar_feed_created"
        record_event(session, event, user.id, f"feed {feed.id}")
        session.commit()
        return NewLink(token=token, feed=feed, replaced=replaced)
    raise AssertionError("unreachable")


def turn_off(session: Session, user: User, now: dt.datetime | None = None) -> bool:
    """End ``user``'s link; False when they had none. Audited."""
    now = now or utcnow()
    feed = live_feed(session, user.id)
    if feed is None:
        return False
    _revoke(session, user.id, now)
    record_event(session, "calendar_feed_turned_off", user.id, f"feed {feed.id}")
    session.commit()
    return True


def _revoke(session: Session, user_id: int, now: dt.datetime) -> bool:
    result = session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return bool(result.rowcount)


def feed_owner(session: Session, token: str, now: dt.datetime | None = None) -> User | None:
    """Whose live link ``token`` is, if it still works; records the use (at most hourly).

    None for anything that must be a 404: an ill-formed, unknown or ended token; a disabled account;
    someone whose role no longer has a feed; a volunteer who has left.
    """
    if not _TOKEN_SHAPE.match(token):
        return None
    now = now or utcnow()
    feed = session.scalar(
        select(CalendarFeed)
        .options(joinedload(CalendarFeed.user))
        .where(CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None))
    )
    if feed is None:
        return None
    user = feed.user
    if user.is_disabled or user.role not in FEED_ROLES:
        return None
    if user.role is Role.VOLUNTEER:
        status = session.scalar(select(Volunteer.status).where(Volunteer.user_id == user.id))
        if status is None or status in ENDED_STATUSES:
            return None
    if feed.last_used_at is None or feed.last_used_at < now - FETCH_RECORDED_EVERY:
        # Conditional, so two apps polling at once write once; a lost race writes nothing.
        session.execute(
            update(CalendarFeed)
            .where(
                CalendarFeed.id == feed.id,
                or_(CalendarFeed.last_used_at.is_(None), CalendarFeed.last_used_at < now - FETCH_RECORDED_EVERY),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return user


# ---- What a feed holds --------------------------------------------------------------------------


def feed_bytes(session: Session, user: User, *, public_url: str, service: str, now: dt.datetime | None = None) -> bytes:
    """The .ics file for ``user``'s feed, as it is now."""
    now = now or utcnow()
    if user.role is Role.SERGEANT:
        events = sergeant_events(session, user, public_url=public_url, now=now)
        name = f"{service}: your wards' requests"
    else:
        events = volunteer_events(session, user, public_url=public_url, now=now)
        name = f"{service}: your bookings"
    return calendar_bytes(events, name=name, service=service, stamped_at=now)


def booking_event(
    session: Session,
    offer: Offer,
    *,
    public_url: str,
    cancelled: bool = False,
    task_names: dict[str, str] | None = None,
) -> CalendarEvent:
    """A volunteer's booking as their calendar shows it: the same in their feed and in the confirmation
    email's attachment, so a calendar that has both keeps one copy. (``task_names``: the task types in
    force, when the caller has them already.)"""
    request = offer.request
    names = task_names if task_names is not None else _task_names(session)
    task = names.get(request.task_type_code, request.task_type_code)
    where = "Remote work" if request.remote else request.ward.label
    lines = [
        f"{task}: {request.title}",
        slot_text(request, offer.starts_at),
        arrival_text(request, offer.starts_at),
        f"Questions: {contact_text(request)} (the ward's Safer Neighbourhood Team)",
        f"The booking: {public_url.rstrip('/')}/offers/{offer.id}",
    ]
    if cancelled:
        lines.insert(0, "This booking is cancelled: you are no longer expected.")
    summary = f"{task}: {request.title}"
    return CalendarEvent(
        uid=offer_uid(offer.id, public_url),
        starts_at=offer.starts_at,
        ends_at=offer.ends_at,
        summary=f"Cancelled: {summary}" if cancelled else summary,
        description="\n".join(lines),
        location=where,
        cancelled=cancelled,
        # The request's version rises with each change to it; a cancellation is one more.
        sequence=request.version + (1 if cancelled else 0),
    )


def volunteer_events(session: Session, user: User, *, public_url: str, now: dt.datetime) -> list[CalendarEvent]:
    """The volunteer's bookings from the last few weeks on, and the ones ended in that time as CANCELLED.

    An offer closed before it was ever accepted was never in anyone's calendar, so it is left out; one
    the volunteer had accepted (they pulled out, were no longer eligible, or the request was cancelled
    or changed) is shown cancelled, for apps that keep events a feed stops listing.
    """
    volunteer_id = session.scalar(select(Volunteer.id).where(Volunteer.user_id == user.id))
    if volunteer_id is None:
        return []
    closed = (OfferStatus.WITHDRAWN, OfferStatus.CANCELLED)
    offers = list(
        session.scalars(
            select(Offer)
            .options(
                joinedload(Offer.request).joinedload(SupportRequest.ward).joinedload(Ward.borough),
                joinedload(Offer.request).joinedload(SupportRequest.created_by),
            )
            .where(
                Offer.volunteer_id == volunteer_id,
                Offer.ends_at >= now - PAST,
                Offer.status.in_((OfferStatus.ACCEPTED, *closed)),
            )
            .order_by(Offer.starts_at, Offer.id)
            .limit(MAX_EVENTS)
        )
    )
    were_booked = _were_booked(session, [o for o in offers if o.status in closed])
    names = _task_names(session)
    return [
        booking_event(session, offer, public_url=public_url, cancelled=offer.status in closed, task_names=names)
        for offer in offers
        if offer.status is OfferStatus.ACCEPTED or offer.id in were_booked
    ]


def _were_booked(session: Session, offers: list[Offer]) -> set[int]:
    """Of these closed offers, the ones that had been accepted: the volunteer pulled out of it, or a booking
    confirmation was recorded for it (in the transaction that accepted it)."""
    booked = {o.id for o in offers if (o.closed_reason or "").startswith(VOLUNTEER_WITHDREW)}
    rest = [o.id for o in offers if o.id not in booked]
    if rest:
        booked |= set(
            session.scalars(
                select(Notification.offer_id).where(
                    Notification.offer_id.in_(rest), Notification.kind == NotificationKind.BOOKING_CONFIRMED
                )
            )
        )
    return booked


def sergeant_events(session: Session, user: User, *, public_url: str, now: dt.datetime) -> list[CalendarEvent]:
    """The requests of the sergeant's wards (as they are now) that have gone out to volunteers, from the last
    few weeks on: each at its booked slot, with who is coming and how many places are still open."""
    wards = select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == user.id)
    requests = list(
        session.scalars(
            select(SupportRequest)
            .options(joinedload(SupportRequest.ward).joinedload(Ward.borough))
            .where(
                SupportRequest.ward_id.in_(wards),
                SupportRequest.window_end >= now - PAST,
                exists().where(Offer.request_id == SupportRequest.id),
            )
            .order_by(SupportRequest.window_start, SupportRequest.id)
            .limit(MAX_EVENTS)
        )
    )
    coming: dict[int, list[str]] = {r.id: [] for r in requests}
    waiting: dict[int, int] = dict.fromkeys(coming, 0)
    if requests:
        rows = session.execute(
            select(Offer.request_id, Offer.status, User.full_name)
            .join(Volunteer, Volunteer.id == Offer.volunteer_id)
            .join(User, User.id == Volunteer.user_id)
            .where(Offer.request_id.in_(list(coming)), Offer.status.in_((OfferStatus.ACCEPTED, OfferStatus.OFFERED)))
            .order_by(User.full_name, Offer.id)
        )
        for request_id, status, name in rows:
            if status is OfferStatus.ACCEPTED:
                coming[request_id].append(name)
            else:
                waiting[request_id] += 1
    return [_request_event(r, coming[r.id], waiting[r.id], public_url) for r in requests]


def _request_event(request: SupportRequest, coming: list[str], waiting: int, public_url: str) -> CalendarEvent:
    cancelled = request.status is RequestStatus.CANCELLED
    booked = len(coming)
    open_places = max(request.people_needed - booked, 0)
    lines = [request.title, slot_text(request)]
    if cancelled:
        lines.insert(0, "This request is cancelled.")
    else:
        lines.append("Coming: " + (", ".join(coming) if coming else "nobody yet"))
        if open_places:
            lines.append(f"Still open: {plural(open_places, 'place')}")
        if waiting:
            lines.append(f"Waiting for an answer: {plural(waiting, 'volunteer')}")
    lines.append(f"The request: {public_url.rstrip('/')}/requests/{request.id}")
    summary = f"{request.title} ({booked} of {request.people_needed} booked)"
    return CalendarEvent(
        uid=request_uid(request.id, public_url),
        starts_at=request.window_start,
        ends_at=request.deployment_end,
        summary=f"Cancelled: {request.title}" if cancelled else summary,
        description="\n".join(lines),
        location="Remote work" if request.remote else request.ward.label,
        cancelled=cancelled,
        sequence=request.version,
    )


def _task_names(session: Session) -> dict[str, str]:
    return {code: policy.name for code, policy in current_task_policies(session).items()}
