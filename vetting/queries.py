"""Read-only vetting questions other features may ask, without seeing any vetting detail.

create_app hands these to the coordinators' volunteer directory (volunteers must not import vetting):
they answer "whose clearance runs out soon?" and "is a review open?" and nothing more.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from core.timeutil import london_today
from vetting.lifecycle import ACTIVE_STATES
from vetting.models import Clearance, ReviewStatus, VettingReview


def expiring_volunteer_ids(within_days: int, today: dt.date | None = None) -> Select:
    """Volunteer ids holding a clearance that counts today and whose last valid day is within ``within_days``.

    Days are London days. A clearance already past its date is not "expiring": the renewal sweep
    lapses it. Use the result as a subquery: ``Volunteer.id.in_(expiring_volunteer_ids(90))``.
    """
    today = today or london_today()
    return select(Clearance.volunteer_id).where(
        Clearance.state.in_(ACTIVE_STATES),
        Clearance.expires_on >= today,
        Clearance.expires_on <= today + dt.timedelta(days=within_days),
    )


def has_open_review(session: Session, volunteer_id: int) -> bool:
    """Whether any vetting review of the volunteer is open (its kind, notes and reasons stay in vetting)."""
    return bool(session.scalar(select(exists().where(
        VettingReview.volunteer_id == volunteer_id, VettingReview.status == ReviewStatus.OPEN))))
