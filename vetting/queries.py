"""Read-only vetting questions: those other features may ask, and the vetting officers' queue.

create_app hands the first two to the coordinators' volunteer directory (volunteers must not import
vetting): they answer "whose clearance runs out soon?" and "is a review open?" and nothing more.

``review_queue`` orders the open reviews by urgency and risk. What a person is deployed on comes from
matching, which vetting must not import: create_app hands in the lookup (the ``upcoming_deployments``
hook), and without it the queue is ordered as if nobody were deployed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, selectinload

from core.timeutil import format_date, london_today
from vetting.lifecycle import ACTIVE_STATES
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview
from volunteers.models import Volunteer


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
    return bool(
        session.scalar(
            select(
                exists().where(VettingReview.volunteer_id == volunteer_id, VettingReview.status == ReviewStatus.OPEN)
            )
        )
    )


# ---- The vetting officers' queue ----------------------------------------------------------------

# (session, volunteer ids, now) → {volunteer id: (count, first start, [task type names])}.
DeploymentLookup = Callable[
    [Session, Collection[int], dt.datetime], Mapping[int, tuple[int, dt.datetime, Sequence[str]]]
]

# Triggered reviews first (adverse information may mean someone should stop now), then appeals,
# then renewals and new applications.
KIND_RANK = {ReviewKind.TRIGGERED: 0, ReviewKind.APPEAL: 1, ReviewKind.RENEWAL: 2, ReviewKind.NEW_APPLICATION: 3}
# Reviews due within this many days (or overdue) are urgent; it is also how far ahead deployments count.
URGENT_DAYS = 28
QUEUE_LIMIT = 500


@dataclass(frozen=True)
class Deployments:
    """What a person in the queue is deployed on soon (offers out or accepted): how many, when, what."""

    count: int
    first_start: dt.datetime
    task_names: tuple[str, ...]

    @property
    def text(self) -> str:
        """E.g. "2 upcoming, first on 3 December 2026 (mental-health escort)"."""
        tasks = ", ".join(name[:1].lower() + name[1:] for name in self.task_names)
        when = "first on" if self.count > 1 else "on"
        return f"{self.count} upcoming, {when} {format_date(self.first_start)} ({tasks})"


@dataclass(frozen=True)
class QueueItem:
    review: VettingReview
    deployments: Deployments | None


def review_queue(
    session: Session, today: dt.date, now: dt.datetime, deployments: DeploymentLookup | None, limit: int = QUEUE_LIMIT
) -> list[QueueItem]:
    """The open reviews in the order a vetting officer should take them, at most ``limit``.

    By kind first (``KIND_RANK``). Within a kind, reviews due in the next 28 days or overdue come
    before those due later; within each of those, people deployed in the next 28 days come first,
    as they are the risk if the review finds something (or if it is late and their clearance lapses);
    then the earliest due, then the oldest review.
    """
    rows = session.execute(
        select(VettingReview.id, VettingReview.kind, VettingReview.due_on, VettingReview.volunteer_id).where(
            VettingReview.status == ReviewStatus.OPEN
        )
    ).all()
    if not rows:
        return []
    found = deployments(session, {r.volunteer_id for r in rows}, now) if deployments else {}
    deployed = {
        volunteer_id: Deployments(count, first, tuple(names)) for volunteer_id, (count, first, names) in found.items()
    }
    urgent_until = today + dt.timedelta(days=URGENT_DAYS)
    chosen = sorted(
        rows, key=lambda r: (KIND_RANK[r.kind], r.due_on > urgent_until, r.volunteer_id not in deployed, r.due_on, r.id)
    )[:limit]
    reviews = {
        review.id: review
        for review in session.scalars(
            select(VettingReview)
            .where(VettingReview.id.in_([r.id for r in chosen]))
            .options(
                selectinload(VettingReview.volunteer).selectinload(Volunteer.user), selectinload(VettingReview.pending)
            )
        )
    }
    return [QueueItem(reviews[r.id], deployed.get(r.volunteer_id)) for r in chosen]
