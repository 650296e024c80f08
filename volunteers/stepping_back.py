"""Stepping back: a volunteer pauses their volunteering for a while, resumes it, or leaves, from their own account.

A pause is dates, not a status (``models.VolunteerPause``): the matcher treats its days as days off, and the
offers waiting for an answer on those days are withdrawn in the pause's transaction (``seams().eligibility_changed``;
the sergeants are told and the places offered again once it commits). Bookings the volunteer has accepted on
those days are never dropped silently: the pause is refused until they have withdrawn from each (in good time,
on the offer's page) or agreed it with the team, so a sergeant always hears it from them.

Leaving is the coordinator's "record that they have left" (``directory.services.record_status_change``), done
by the volunteer: every future offer and booking withdrawn, clearances ended as no longer needed, the
coordinators told; and the account is closed, signing them out everywhere. The retention rules then apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.auth.models import UserSession
from core.auth.services import record_event
from core.field_errors import FieldError
from core.seams import Affected, seams
from core.timeutil import to_london
from volunteers.directory.services import record_status_change
from volunteers.models import LEAVE_REASON_MAX, PAUSE_REASON_MAX, Volunteer, VolunteerPause, VolunteerStatus

# A pause with a last day is at most this long; longer, or not knowing when, is "until I resume".
PAUSE_MAX_DAYS = 730


class SteppingBackError(FieldError):
    """A pause, resume or leave refused: by the field it names, or about the whole request."""


class BookingsInTheWay(SteppingBackError):
    """Accepted bookings fall in the pause: the volunteer withdraws from them first (or agrees it with the team)."""

    def __init__(self, bookings: Sequence[Any]):
        count = len(bookings)
        super().__init__(
            f"You are booked on {'a day' if count == 1 else f'{count} days'} you want to pause. Withdraw from "
            f"{'that booking' if count == 1 else 'those bookings'} first (below), then pause.",
        )
        self.bookings = list(bookings)


def current_pause(session: Session, volunteer: Volunteer, today: dt.date) -> VolunteerPause | None:
    """The volunteer's pause in force or still to come (not ended, not over), or None."""
    return session.scalar(
        select(VolunteerPause)
        .where(
            VolunteerPause.volunteer_id == volunteer.id,
            VolunteerPause.ended_at.is_(None),
            or_(VolunteerPause.last_day.is_(None), VolunteerPause.last_day >= today),
        )
        .order_by(VolunteerPause.first_day, VolunteerPause.id)
        .limit(1)
    )


def bookings_between(
    session: Session, volunteer: Volunteer, first_day: dt.date, last_day: dt.date | None, now: dt.datetime
) -> list[Any]:
    """The volunteer's accepted bookings still to come that touch London days ``[first_day, last_day]`` (no last
    day: from ``first_day`` on), soonest first. Offers, read through the seam (volunteers cannot import matching)."""
    work = seams().volunteer_work(session, volunteer, now)

    def touches(offer) -> bool:
        start = to_london(offer.starts_at).date()
        end = to_london(offer.ends_at - dt.timedelta(microseconds=1)).date()
        return first_day <= end and (last_day is None or start <= last_day)

    return [offer for offer in work.upcoming if touches(offer)]


def pause(
    session: Session,
    volunteer: Volunteer,
    *,
    first_day: dt.date,
    last_day: dt.date | None,
    reason: str,
    today: dt.date,
    now: dt.datetime,
) -> VolunteerPause:
    """Pause from ``first_day`` to ``last_day`` (None: until they resume), with an optional reason (commits).

    Refused for dates in the past or reversed, a dated pause longer than PAUSE_MAX_DAYS, while another pause is
    in force or to come, and (``BookingsInTheWay``) while an accepted booking falls in it. Offers waiting for an
    answer in it are withdrawn in this transaction.
    """
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise SteppingBackError("Only an active volunteer can pause: the volunteering team can tell you more.")
    reason = " ".join((reason or "").split())
    if first_day < today:
        raise SteppingBackError("The first day must be today or in the future", field="first_day")
    if last_day is not None and last_day < first_day:
        raise SteppingBackError("The last day must be the same as or after the first day", field="last_day")
    if last_day is not None and (last_day - first_day).days >= PAUSE_MAX_DAYS:
        raise SteppingBackError(
            "A pause with a last day can be at most 2 years. Leave the last day empty to pause until you resume",
            field="last_day",
        )
    if len(reason) > PAUSE_REASON_MAX:
        raise SteppingBackError(f"The reason must be {PAUSE_REASON_MAX} characters or fewer", field="reason")
    if current_pause(session, volunteer, today) is not None:
        raise SteppingBackError("You have already paused. Resume first if you want to change the dates.")
    booked = bookings_between(session, volunteer, first_day, last_day, now)
    if booked:
        raise BookingsInTheWay(booked)
    row = VolunteerPause(volunteer_id=volunteer.id, first_day=first_day, last_day=last_day, reason=reason)
    session.add(row)
    session.flush()
    # The offers waiting for their answer on those days can no longer be taken (eligibility.PAUSED).
    for hook in seams().eligibility_changed:
        hook(session, Affected(volunteer_ids=frozenset({volunteer.id})), now)
    record_event(
        session,
        "volunteer_paused",
        volunteer.user_id,
        f"volunteer {volunteer.id}: pause {row.id} from {first_day.isoformat()} to "
        f"{last_day.isoformat() if last_day else 'resumed'}",
    )
    session.commit()
    return row


def resume(session: Session, volunteer: Volunteer, *, today: dt.date, now: dt.datetime) -> VolunteerPause:
    """End the volunteer's pause now (or call off one still to come); matched again from the next run (commits)."""
    row = current_pause(session, volunteer, today)
    if row is None:
        raise SteppingBackError("Your volunteering is not paused.")
    changed = session.execute(
        update(VolunteerPause)
        .where(VolunteerPause.id == row.id, VolunteerPause.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        raise SteppingBackError("Your volunteering is not paused.")
    record_event(session, "volunteer_resumed", volunteer.user_id, f"volunteer {volunteer.id}: pause {row.id} ended")
    session.commit()
    session.refresh(row)
    return row


def leave(session: Session, volunteer: Volunteer, *, reason: str, now: dt.datetime) -> Volunteer:
    """The volunteer leaves (commits): as a coordinator's "record that they have left" (offers and bookings
    withdrawn, the sergeants told, clearances ended as no longer needed), with the coordinators told, any pause
    ended, and the account closed with every session signed out. Final: someone who comes back applies again."""
    if volunteer.status not in (VolunteerStatus.ACTIVE, VolunteerStatus.PAUSED):
        raise SteppingBackError("Your volunteering has already ended, or your application is still with vetting.")
    reason = " ".join((reason or "").split())
    if len(reason) > LEAVE_REASON_MAX:
        raise SteppingBackError(f"The reason must be {LEAVE_REASON_MAX} characters or fewer", field="reason")
    # Withdrawn first, while the account is open: the volunteer reads "your volunteering has ended", not that
    # their account was closed.
    record_status_change(
        session, volunteer, VolunteerStatus.LEFT, f"by the volunteer: {reason}", volunteer.user_id, now
    )
    session.execute(
        update(VolunteerPause)
        .where(VolunteerPause.volunteer_id == volunteer.id, VolunteerPause.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    volunteer.user.is_disabled = True
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == volunteer.user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason="volunteer_left")
    )
    record_event(session, "account_disabled", volunteer.user_id, f"account {volunteer.user_id}: the volunteer left")
    session.commit()
    return volunteer
