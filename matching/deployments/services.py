"""After a booked deployment: the sergeant confirms what happened (attendance, hours served, feedback), the
volunteer logs their hours and answers a short debrief, coordinators follow up welfare requests, and the
sergeant is chased once about a deployment nobody confirmed. One commit per use case, audited.

Who may confirm: a sergeant of the request's ward (not only the one who raised it: a colleague covers
leave) or any coordinator. Anyone else's deployment is "not found", so its existence is not given away.
The sergeant's feedback and the volunteer's welfare answers are for coordinators only: nothing here
shows them to anyone else, and the views never pass them to a sergeant's or volunteer's page.

A deployment has one row (``Deployment``, unique per offer). Two confirmations racing, or a confirmation
racing the volunteer's log, are settled by that key and by conditional updates (``… WHERE outcome IN
('awaiting', 'logged')``): the second is told plainly that it was already recorded, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core.audit.services import record as audit
from core.auth.models import Role, User, sergeant_wards
from core.field_errors import FieldError
from core.timeutil import to_london
from matching.deployments.models import (
    NOTE_MAX,
    OUTCOME_LABELS,
    SERVED_MINUTES_MAX,
    Deployment,
    DeploymentOutcome,
)
from matching.models import (
    Offer,
    OfferStatus,
    RequestStatus,
    SupportRequest,
    clock_text,
    duration_text,
    format_window,
)
from matching.notifications import services as notifications
from matching.notifications.models import NotificationKind
from volunteers.models import Volunteer

# Ids are 32-bit integers in the database; a larger number in a URL is simply not found.
_MAX_ID = 2**31 - 1
# Not yet confirmed by a sergeant or coordinator.
OPEN_OUTCOMES = (DeploymentOutcome.AWAITING, DeploymentOutcome.LOGGED)
CONFIRMED_OUTCOMES = (DeploymentOutcome.ATTENDED, DeploymentOutcome.DID_NOT_ATTEND)
# The raising sergeant is emailed about a deployment still unconfirmed this long after it ended (issue #20)…
CHASE_AFTER = dt.timedelta(days=3)
# … unless it ended longer ago than this: when the feature first runs, years of old bookings are not chased.
CHASE_WITHIN = dt.timedelta(days=30)
# The volunteer is asked how it went for this long after a deployment (their home page).
DEBRIEF_WITHIN = dt.timedelta(days=30)
# A coordinator's list of open welfare requests shows at most this many (the oldest first: they waited longest).
WELFARE_LIST_MAX = 200


class DeploymentError(FieldError):
    """Something about a deployment's record was refused; ``field`` names the form field it concerns."""


class NotFound(Exception):
    """No such booking, or not one this user may see."""


@dataclass(frozen=True)
class Confirmation:
    """What the sergeant (or a coordinator) records about a deployment."""

    attended: bool
    served_minutes: int | None  # required when attended; ignored otherwise
    no_notice: bool = False  # did not attend and did not tell the team beforehand
    helpful: bool | None = None
    would_ask_again: bool | None = None
    coordinator_note: str = ""


@dataclass(frozen=True)
class Debrief:
    """The volunteer's answers after a deployment."""

    note: str
    affected: bool
    contact_wanted: bool


@dataclass(frozen=True)
class Pending:
    """A deployment whose time has passed and that nobody has confirmed yet."""

    offer: Offer
    deployment: Deployment | None

    @property
    def logged_minutes(self) -> int | None:
        return self.deployment.logged_minutes if self.deployment else None


# ---- Who may see what --------------------------------------------------------------------------


def _own_wards(user_id: int) -> Select:
    return select(sergeant_wards.c.ward_id).where(sergeant_wards.c.user_id == user_id)


def _visible_bookings(user: User, *, booked_only: bool = True) -> Select:
    """Accepted offers ``user`` may confirm (or any offer, ``booked_only=False``): a coordinator any, a sergeant
    their wards'."""
    query = (
        select(Offer)
        .join(SupportRequest, SupportRequest.id == Offer.request_id)
        .where(Offer.status == OfferStatus.ACCEPTED if booked_only else true())
        .options(
            joinedload(Offer.request).joinedload(SupportRequest.ward),
            joinedload(Offer.volunteer).joinedload(Volunteer.user),
        )
    )
    if user.role is not Role.COORDINATOR:
        query = query.where(SupportRequest.ward_id.in_(_own_wards(user.id)))
    return query


def booking_for_confirmer(session: Session, user: User, offer_id: int, *, booked_only: bool = True) -> Offer:
    """An accepted booking ``user`` may confirm (a sergeant of its ward, or a coordinator), or NotFound; with
    ``booked_only=False`` any offer of theirs to see (the view says plainly that it is not a booking)."""
    if user.role not in (Role.SERGEANT, Role.COORDINATOR) or not 0 < offer_id <= _MAX_ID:
        raise NotFound()
    offer = session.scalar(_visible_bookings(user, booked_only=booked_only).where(Offer.id == offer_id))
    if offer is None:
        raise NotFound()
    return offer


def own_booking(session: Session, user_id: int, offer_id: int, *, booked_only: bool = True) -> Offer:
    """The volunteer's own accepted booking (or, ``booked_only=False``, any offer of theirs), or NotFound."""
    if not 0 < offer_id <= _MAX_ID:
        raise NotFound()
    offer = session.scalar(
        select(Offer)
        .join(Volunteer, Volunteer.id == Offer.volunteer_id)
        .where(
            Offer.id == offer_id,
            Volunteer.user_id == user_id,
            Offer.status == OfferStatus.ACCEPTED if booked_only else true(),
        )
        .options(joinedload(Offer.request).joinedload(SupportRequest.ward))
    )
    if offer is None:
        raise NotFound()
    return offer


def deployment_of(session: Session, offer_id: int) -> Deployment | None:
    return session.scalar(select(Deployment).where(Deployment.offer_id == offer_id))


def for_request(session: Session, request_id: int) -> dict[int, Deployment]:
    """The request's deployment records by offer id (the request page's "What happened")."""
    return {d.offer_id: d for d in session.scalars(select(Deployment).where(Deployment.request_id == request_id))}


def awaiting_confirmation(session: Session, user: User, now: dt.datetime, limit: int = 100) -> list[Pending]:
    """Bookings in ``user``'s wards (a coordinator: everywhere) whose time has passed and that nobody has
    confirmed, the oldest first: the sergeant's "Confirm what happened" list."""
    unconfirmed = select(Deployment.offer_id).where(Deployment.outcome.in_(CONFIRMED_OUTCOMES))
    offers = list(
        session.scalars(
            _visible_bookings(user)
            .where(
                Offer.ends_at <= now,
                Offer.id.not_in(unconfirmed),
                SupportRequest.status != RequestStatus.CANCELLED,
            )
            .order_by(Offer.ends_at, Offer.id)
            .limit(limit)
        ).unique()
    )
    rows = {
        d.offer_id: d
        for d in session.scalars(select(Deployment).where(Deployment.offer_id.in_([o.id for o in offers])))
    }
    return [Pending(offer, rows.get(offer.id)) for offer in offers]


def count_awaiting(session: Session, user: User, now: dt.datetime) -> int:
    unconfirmed = select(Deployment.offer_id).where(Deployment.outcome.in_(CONFIRMED_OUTCOMES))
    query = (
        select(func.count(Offer.id))
        .join(SupportRequest, SupportRequest.id == Offer.request_id)
        .where(
            Offer.status == OfferStatus.ACCEPTED,
            Offer.ends_at <= now,
            Offer.id.not_in(unconfirmed),
            SupportRequest.status != RequestStatus.CANCELLED,
        )
    )
    if user.role is not Role.COORDINATOR:
        query = query.where(SupportRequest.ward_id.in_(_own_wards(user.id)))
    return session.scalar(query) or 0


# ---- Checks shared by the use cases ----------------------------------------------------------------


def _not_before_the_end(offer: Offer, now: dt.datetime, who: str) -> None:
    if offer.ends_at > now:
        end = to_london(offer.ends_at)
        raise DeploymentError(
            f"{who} can record what happened once the deployment has ended, at {clock_text(offer.ends_at)} on "
            f"{end:%A} {end.day} {end:%B %Y}"
        )


def _check_minutes(minutes: int | None, field: str) -> int:
    if minutes is None:
        raise DeploymentError("Enter the hours served, like 2.5 or 2h 30m", field=field)
    if not 0 <= minutes <= SERVED_MINUTES_MAX:
        raise DeploymentError("Hours served must be between 0 and 24", field=field)
    return minutes


def _check_note(text: str, field: str) -> str:
    text = (text or "").strip()
    if len(text) > NOTE_MAX:
        raise DeploymentError(f"The note must be {NOTE_MAX:,} characters or fewer", field=field)
    return text


def _already(deployment: Deployment) -> DeploymentError:
    who = deployment.confirmed_by.full_name if deployment.confirmed_by else "someone else"
    when = f" on {to_london(deployment.confirmed_at):%-d %B %Y}" if deployment.confirmed_at else ""
    return DeploymentError(
        f"What happened was already recorded by {who}{when}: "
        f"{OUTCOME_LABELS[deployment.outcome].lower()}. Ask a coordinator if it needs correcting."
    )


def _record(session: Session, actor_id: int, action: str, deployment: Deployment, key: bytes, **detail) -> None:
    audit(
        session,
        actor_id=actor_id,
        action=f"deployment.{action}",
        subject_type="deployment",
        subject_id=deployment.id,
        detail={
            "offer_id": deployment.offer_id,
            "request_id": deployment.request_id,
            "volunteer_id": deployment.volunteer_id,
            **detail,
        },
        key=key,
    )


def _new_row(offer: Offer, now: dt.datetime) -> Deployment:
    return Deployment(
        offer_id=offer.id,
        request_id=offer.request_id,
        volunteer_id=offer.volunteer_id,
        outcome=DeploymentOutcome.AWAITING,
        created_at=now,
        updated_at=now,
    )


def _row_for(session: Session, offer: Offer, now: dt.datetime) -> Deployment:
    """The booking's record, created (flushed) if it has none. A concurrent creation by someone else makes
    the unique key refuse this one: the caller's transaction is then rolled back and they are told."""
    row = deployment_of(session, offer.id)
    if row is not None:
        return row
    row = _new_row(offer, now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        session.rollback()
        raise DeploymentError(
            "Someone recorded this deployment at the same moment: look at the page again to see what they recorded."
        ) from None
    return row


# ---- The sergeant confirms --------------------------------------------------------------------------


def confirm(
    session: Session, user: User, offer_id: int, confirmation: Confirmation, key: bytes, now: dt.datetime
) -> Deployment:
    """Record attendance and the hours served (approving or correcting what the volunteer logged), with the
    optional feedback for the coordinators; audited. Once every booking on the request is confirmed, the
    request is COMPLETED. Refused before the deployment's end, and if it was already confirmed."""
    offer = booking_for_confirmer(session, user, offer_id)
    _not_before_the_end(offer, now, "You")
    served = _check_minutes(confirmation.served_minutes, "served") if confirmation.attended else None
    note = _check_note(confirmation.coordinator_note, "coordinator_note")
    row = _row_for(session, offer, now)
    if row.outcome in CONFIRMED_OUTCOMES:
        raise _already(row)
    logged = row.logged_minutes if row.outcome is DeploymentOutcome.LOGGED else None
    feedback = confirmation.helpful is not None or confirmation.would_ask_again is not None or bool(note)
    values: dict = dict(
        outcome=DeploymentOutcome.ATTENDED if confirmation.attended else DeploymentOutcome.DID_NOT_ATTEND,
        served_minutes=served,
        no_notice=not confirmation.attended and confirmation.no_notice,
        confirmed_by_id=user.id,
        confirmed_at=now,
        updated_at=now,
    )
    if feedback:
        values |= dict(
            helpful=confirmation.helpful,
            would_ask_again=confirmation.would_ask_again,
            coordinator_note=note,
            feedback_by_id=user.id,
            feedback_at=now,
        )
    # Conditional: a confirmation that committed since this one read the row wins, and this one is told.
    changed = session.execute(
        update(Deployment)
        .where(Deployment.id == row.id, Deployment.outcome.in_(OPEN_OUTCOMES))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        raise _already(session.scalars(select(Deployment).where(Deployment.offer_id == offer.id)).one())
    session.refresh(row)
    if logged is not None and confirmation.attended and served != logged:
        _record(session, user.id, "hours_corrected", row, key, logged_minutes=logged, served_minutes=served)
    _record(
        session,
        user.id,
        "confirmed",
        row,
        key,
        outcome=row.outcome.value,
        served_minutes=served,
        no_notice=row.no_notice,
        approved_log=logged is not None and served == logged,
    )
    if feedback:
        # The note itself stays in the record for coordinators; the log says only that feedback was given.
        _record(
            session,
            user.id,
            "feedback_given",
            row,
            key,
            helpful=confirmation.helpful,
            would_ask_again=confirmation.would_ask_again,
            note_length=len(note),
        )
    complete_if_done(session, offer.request, now)
    session.commit()
    return row


def complete_if_done(session: Session, item: SupportRequest, now: dt.datetime) -> bool:
    """Mark the request COMPLETED once its time has passed and every booking on it is confirmed (flushed,
    not committed). A request nobody was booked on stays as it is: nothing happened to complete."""
    if not item.is_live:
        return False
    booked = session.execute(
        select(Offer.id, Offer.ends_at).where(Offer.request_id == item.id, Offer.status == OfferStatus.ACCEPTED)
    ).all()
    if not booked or any(ends_at > now for _, ends_at in booked):
        return False
    confirmed = session.scalar(
        select(func.count(Deployment.id)).where(
            Deployment.offer_id.in_([offer_id for offer_id, _ in booked]), Deployment.outcome.in_(CONFIRMED_OUTCOMES)
        )
    )
    if confirmed != len(booked):
        return False
    item.status = RequestStatus.COMPLETED
    session.flush()
    return True


# ---- The volunteer logs their hours and answers the debrief ------------------------------------------


def log_hours(
    session: Session, user_id: int, offer_id: int, minutes: int | None, key: bytes, now: dt.datetime
) -> Deployment:
    """The volunteer's own log of the hours they served, for the sergeant to approve or correct; audited.
    They may change it until a sergeant confirms."""
    offer = own_booking(session, user_id, offer_id)
    _not_before_the_end(offer, now, "You")
    minutes = _check_minutes(minutes, "hours")
    row = _row_for(session, offer, now)
    if row.outcome in CONFIRMED_OUTCOMES:
        raise DeploymentError(
            "Your sergeant has already confirmed this deployment"
            + (f": {duration_text(row.served_minutes)} served." if row.served_minutes is not None else ".")
        )
    changed = session.execute(
        update(Deployment)
        .where(Deployment.id == row.id, Deployment.outcome.in_(OPEN_OUTCOMES))
        .values(outcome=DeploymentOutcome.LOGGED, logged_minutes=minutes, logged_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        raise DeploymentError("Your sergeant confirmed this deployment just now: look at the page again.")
    session.refresh(row)
    _record(session, user_id, "hours_logged", row, key, logged_minutes=minutes)
    session.commit()
    return row


def may_debrief(offer: Offer, row: Deployment | None, now: dt.datetime) -> bool:
    """Whether the volunteer is asked how it went: after the deployment's end, unless the sergeant recorded that
    they did not attend, and only once."""
    if offer.ends_at > now:
        return False
    if row is None:
        return True
    return row.outcome is not DeploymentOutcome.DID_NOT_ATTEND and row.debriefed_at is None


def debrief(
    session: Session,
    user_id: int,
    offer_id: int,
    answers: Debrief,
    key: bytes,
    now: dt.datetime,
    welfare_link: str,
) -> Deployment:
    """Save the volunteer's debrief; answering yes to "would you like someone to contact you?" alerts every
    active coordinator at once (a WELFARE_ALERT notification each), once; audited."""
    offer = own_booking(session, user_id, offer_id)
    _not_before_the_end(offer, now, "You")
    note = _check_note(answers.note, "note")
    row = _row_for(session, offer, now)
    if row.outcome is DeploymentOutcome.DID_NOT_ATTEND:
        raise DeploymentError(
            "Your sergeant recorded that you did not attend this deployment, so there is nothing to debrief."
        )
    changed = session.execute(
        update(Deployment)
        .where(Deployment.id == row.id, Deployment.debriefed_at.is_(None))
        .values(
            debrief_note=note,
            welfare_affected=answers.affected,
            welfare_contact_wanted=answers.contact_wanted,
            debriefed_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        raise DeploymentError("You have already told us how this deployment went. Thank you.")
    session.refresh(row)
    _record(
        session,
        user_id,
        "debriefed",
        row,
        key,
        affected=answers.affected,
        contact_wanted=answers.contact_wanted,
    )
    if answers.contact_wanted:
        _alert_coordinators(session, row, offer, key, now, welfare_link)
    session.commit()
    return row


def _alert_coordinators(
    session: Session, row: Deployment, offer: Offer, key: bytes, now: dt.datetime, welfare_link: str
) -> None:
    """Tell every active coordinator that a volunteer asked to be contacted. The email names the volunteer and
    the deployment, never their answers: those are on the welfare list, behind the coordinator's sign-in."""
    coordinators = list(
        session.scalars(
            select(User).where(User.role == Role.COORDINATOR, User.is_disabled.is_(False)).order_by(User.id)
        )
    )
    name = offer.volunteer.user.full_name
    when = format_window(offer.starts_at, offer.ends_at)
    for coordinator in coordinators:
        notifications.record(
            session,
            user=coordinator,
            kind=NotificationKind.WELFARE_ALERT,
            subject=f"Welfare: {name} would like someone to contact them",
            body=(
                f"{name} answered the questions after their deployment ({offer.request.title}, {when}) and would "
                f"like someone to contact them about how it affected them.\n\n"
                f"Please get in touch soon, then mark it as contacted on the welfare list:\n{welfare_link}\n"
            ),
            request_id=offer.request_id,
            offer_id=offer.id,
        )
    session.execute(
        update(Deployment)
        .where(Deployment.id == row.id)
        .values(welfare_alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    _record(session, offer.volunteer.user_id, "welfare_alerted", row, key, coordinators=len(coordinators))


# ---- Coordinators: welfare requests and what sergeants said ----------------------------------------------


def welfare_requests(session: Session) -> list[Deployment]:
    """Volunteers who asked to be contacted and have not been yet, who asked first first."""
    return list(
        session.scalars(
            select(Deployment)
            .where(Deployment.welfare_contact_wanted.is_(True), Deployment.welfare_contacted_at.is_(None))
            .options(
                joinedload(Deployment.offer).joinedload(Offer.request).joinedload(SupportRequest.ward),
                joinedload(Deployment.volunteer).joinedload(Volunteer.user),
            )
            .order_by(Deployment.debriefed_at, Deployment.id)
            .limit(WELFARE_LIST_MAX)
        )
    )


def count_welfare_requests(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(Deployment.id)).where(
                Deployment.welfare_contact_wanted.is_(True), Deployment.welfare_contacted_at.is_(None)
            )
        )
        or 0
    )


def mark_contacted(session: Session, coordinator: User, deployment_id: int, key: bytes, now: dt.datetime) -> Deployment:
    """A coordinator has contacted the volunteer who asked; audited. Twice is refused plainly."""
    if coordinator.role is not Role.COORDINATOR or not 0 < deployment_id <= _MAX_ID:
        raise NotFound()
    row = session.scalar(
        select(Deployment)
        .where(Deployment.id == deployment_id, Deployment.welfare_contact_wanted.is_(True))
        .options(joinedload(Deployment.volunteer).joinedload(Volunteer.user))
    )
    if row is None:
        raise NotFound()
    changed = session.execute(
        update(Deployment)
        .where(Deployment.id == row.id, Deployment.welfare_contacted_at.is_(None))
        .values(welfare_contacted_by_id=coordinator.id, welfare_contacted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        raise DeploymentError(f"{row.volunteer.user.full_name} has already been marked as contacted.")
    session.refresh(row)
    _record(session, coordinator.id, "welfare_contacted", row, key)
    session.commit()
    return row


@dataclass(frozen=True)
class FeedbackRow:
    """One past deployment as a coordinator reads it on the volunteer's directory page."""

    deployment_id: int
    title: str
    ward: str
    when: str
    outcome: str
    hours: str
    no_notice: bool
    helpful: bool | None
    would_ask_again: bool | None
    note: str
    feedback_by: str
    welfare_affected: bool | None
    welfare_contact_wanted: bool | None
    welfare_contacted: bool
    debrief_note: str


def volunteer_record(session: Session, volunteer: Volunteer, limit: int = 50) -> list[FeedbackRow]:
    """The volunteer's recorded deployments, newest first, with the sergeants' feedback and the welfare answers:
    for coordinators only (the directory's volunteer page, through ``seams().deployment_record``)."""
    rows = session.scalars(
        select(Deployment)
        .where(Deployment.volunteer_id == volunteer.id)
        .options(joinedload(Deployment.offer).joinedload(Offer.request).joinedload(SupportRequest.ward))
        .order_by(Deployment.created_at.desc(), Deployment.id.desc())
        .limit(limit)
    )
    names = dict(
        session.execute(
            select(User.id, User.full_name).where(
                User.id.in_(
                    select(Deployment.feedback_by_id).where(
                        Deployment.volunteer_id == volunteer.id, Deployment.feedback_by_id.is_not(None)
                    )
                )
            )
        ).all()
    )
    found = []
    for row in rows:
        offer = row.offer
        served = row.served_minutes if row.served_minutes is not None else row.logged_minutes
        found.append(
            FeedbackRow(
                deployment_id=row.id,
                title=offer.request.title,
                ward=offer.request.ward.name,
                when=format_window(offer.starts_at, offer.ends_at),
                outcome=OUTCOME_LABELS[row.outcome],
                hours=duration_text(served) if served is not None else "",
                no_notice=row.no_notice,
                helpful=row.helpful,
                would_ask_again=row.would_ask_again,
                note=row.coordinator_note,
                feedback_by=names.get(row.feedback_by_id, "") if row.feedback_by_id else "",
                welfare_affected=row.welfare_affected,
                welfare_contact_wanted=row.welfare_contact_wanted,
                welfare_contacted=row.welfare_contacted_at is not None,
                debrief_note=row.debrief_note,
            )
        )
    return found


# ---- The volunteer's home page --------------------------------------------------------------------------


def to_debrief(session: Session, volunteer_id: int, now: dt.datetime) -> list[Offer]:
    """The volunteer's bookings of the last month that have ended and that they have not told us about yet."""
    answered = select(Deployment.offer_id).where(
        (Deployment.debriefed_at.is_not(None)) | (Deployment.outcome == DeploymentOutcome.DID_NOT_ATTEND)
    )
    return list(
        session.scalars(
            select(Offer)
            .where(
                Offer.volunteer_id == volunteer_id,
                Offer.status == OfferStatus.ACCEPTED,
                Offer.ends_at <= now,
                Offer.ends_at > now - DEBRIEF_WITHIN,
                Offer.id.not_in(answered),
            )
            .options(joinedload(Offer.request))
            .order_by(Offer.ends_at.desc(), Offer.id)
        )
    )


# ---- The chase -------------------------------------------------------------------------------------------


def chase_unconfirmed(session: Session, now: dt.datetime, link_for: Callable[[int], str]) -> int:
    """Email each raising sergeant once about their deployments still unconfirmed ``CHASE_AFTER`` after they
    ended (one email per sergeant per sweep, listing them; each deployment is chased once: ``chased_at``).
    Returns how many deployments were chased; commits. ``link_for(offer_id)`` is the confirmation page's URL."""
    confirmed_or_chased = select(Deployment.offer_id).where(
        (Deployment.outcome.in_(CONFIRMED_OUTCOMES)) | (Deployment.chased_at.is_not(None))
    )
    offers = list(
        session.scalars(
            select(Offer)
            .join(SupportRequest, SupportRequest.id == Offer.request_id)
            .where(
                Offer.status == OfferStatus.ACCEPTED,
                Offer.ends_at <= now - CHASE_AFTER,
                Offer.ends_at > now - CHASE_WITHIN,
                Offer.id.not_in(confirmed_or_chased),
                SupportRequest.status != RequestStatus.CANCELLED,
            )
            .options(
                joinedload(Offer.request).joinedload(SupportRequest.created_by),
                joinedload(Offer.volunteer).joinedload(Volunteer.user),
            )
            .order_by(Offer.ends_at, Offer.id)
        ).unique()
    )
    if not offers:
        return 0
    by_sergeant: dict[int, list[Offer]] = {}
    for offer in offers:
        row = deployment_of(session, offer.id)
        if row is None:
            row = _new_row(offer, now)
            session.add(row)
        row.chased_at = now
        by_sergeant.setdefault(offer.request.created_by_id, []).append(offer)
    try:
        session.flush()  # a second sweep running at once fails here on the unique key: it rolls back, sends nothing
    except IntegrityError:
        session.rollback()
        return 0
    for offers_of_one in by_sergeant.values():
        sergeant = offers_of_one[0].request.created_by
        if sergeant.is_disabled:
            continue  # chased_at is still set: their colleagues see these on their own lists
        _chase(session, sergeant, offers_of_one, link_for)
    session.commit()
    return len(offers)


def _chase(session: Session, sergeant: User, offers: list[Offer], link_for: Callable[[int], str]) -> None:
    lines = [
        f"- {o.volunteer.user.full_name}: {o.request.title}, {format_window(o.starts_at, o.ends_at)}\n"
        f"  {link_for(o.id)}"
        for o in offers
    ]
    many = len(offers) != 1
    notifications.record(
        session,
        user=sergeant,
        kind=NotificationKind.DEPLOYMENT_CHASE,
        subject=f"Please confirm what happened at {len(offers)} deployment{'s' if many else ''}"
        if many
        else f"Please confirm what happened: {offers[0].request.title}",
        body=(
            f"Nobody has yet confirmed whether {'these volunteers' if many else 'this volunteer'} attended, or the "
            "hours served. The hours count towards their commitment, and the "
            f"coordinators see them.\n\n" + "\n".join(lines) + "\n\nAny sergeant of the ward can confirm.\n"
        ),
        request_id=offers[0].request_id if not many else None,
        offer_id=offers[0].id if not many else None,
    )
