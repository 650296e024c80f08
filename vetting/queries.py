"""Read-only vetting questions: those other features may ask, and the vetting officers' queue.

create_app hands the first two to the coordinators' volunteer directory (volunteers must not import
vetting): they answer "whose clearance runs out soon?" and "is a review open?" and nothing more.

``review_queue`` and ``queue_page`` order the open reviews by urgency and risk (``queue_order``), narrowed
by a vetting officer's ``QueueFilters``. What a person is deployed on comes from matching, which vetting
must not import: create_app hands in the lookup (the ``upcoming_deployments`` hook), and without it the
queue is ordered as if nobody were deployed.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from core.auth.models import User
from core.pagination import Page
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

# Reviews due within this many days (or overdue) are urgent; it is also how far ahead deployments count.
URGENT_DAYS = 28
PER_PAGE = 50
# Among reviews otherwise equal, adverse information first, then appeals (someone is waiting on a
# decision that went against them), then renewals and new applications. Kinds added later sort last.
KIND_RANK = {ReviewKind.TRIGGERED: 0, ReviewKind.APPEAL: 1, ReviewKind.RENEWAL: 2, ReviewKind.NEW_APPLICATION: 3}


class QueueGroup(enum.IntEnum):
    """The queue's groups, in the order the queue page states them.

    Overdue first: a late review is a clearance running past its check, or a person waiting past
    the force's promise. Then triggered reviews: adverse information may mean someone should stop
    now, whenever the review is due. Then whatever is due within ``URGENT_DAYS``, then the rest.
    """

    OVERDUE = 0
    TRIGGERED = 1
    DUE_SOON = 2
    LATER = 3


def queue_group(kind: ReviewKind, due_on: dt.date, today: dt.date) -> QueueGroup:
    if due_on < today:
        return QueueGroup.OVERDUE
    if kind is ReviewKind.TRIGGERED:
        return QueueGroup.TRIGGERED
    if due_on <= today + dt.timedelta(days=URGENT_DAYS):
        return QueueGroup.DUE_SOON
    return QueueGroup.LATER


def queue_order(kind: ReviewKind, due_on: dt.date, review_id: int, deployed: bool, today: dt.date) -> tuple:
    """The sort key of one open review: its group; within the first three groups people deployed in
    the next ``URGENT_DAYS`` first (they are the risk if the review finds something, or if it is late
    and their clearance lapses); then the earliest due; then ``KIND_RANK``; then the oldest review.

    A deployment does not lift a review due later than that: it cannot end before the review is due.
    """
    group = queue_group(kind, due_on, today)
    return (
        group,
        group is not QueueGroup.LATER and not deployed,
        due_on,
        KIND_RANK.get(kind, len(KIND_RANK)),
        review_id,
    )


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
    group: QueueGroup = QueueGroup.LATER


@dataclass(frozen=True)
class QueueFilters:
    """What a vetting officer narrowed the queue to. The defaults show every open review."""

    text: str = ""  # part of the person's name or email address
    kind: ReviewKind | None = None
    overdue_only: bool = False
    due_within_days: int | None = None  # due on or before today + this (overdue ones included)
    deployed_only: bool = False  # people deployed in the next URGENT_DAYS

    @property
    def in_use(self) -> bool:
        return self != QueueFilters()


def _ordered(
    session: Session, today: dt.date, now: dt.datetime, deployments: DeploymentLookup | None, filters: QueueFilters
) -> tuple[list, dict[int, Deployments]]:
    """The matching open reviews as light rows in queue order, and the deployments of their people.

    Everything but the deployments is filtered in the database; the order needs the deployments,
    which only matching knows, so the (small) rows are sorted here.
    """
    query = select(VettingReview.id, VettingReview.kind, VettingReview.due_on, VettingReview.volunteer_id).where(
        VettingReview.status == ReviewStatus.OPEN
    )
    if filters.text:
        query = (
            query.join(Volunteer, Volunteer.id == VettingReview.volunteer_id)
            .join(User, User.id == Volunteer.user_id)
            .where(
                or_(
                    User.full_name.icontains(filters.text, autoescape=True),
                    User.email.icontains(filters.text, autoescape=True),
                )
            )
        )
    if filters.kind is not None:
        query = query.where(VettingReview.kind == filters.kind)
    if filters.overdue_only:
        query = query.where(VettingReview.due_on < today)
    if filters.due_within_days is not None:
        query = query.where(VettingReview.due_on <= today + dt.timedelta(days=filters.due_within_days))
    rows = session.execute(query).all()
    if not rows:
        return [], {}
    found = deployments(session, {r.volunteer_id for r in rows}, now) if deployments else {}
    deployed = {
        volunteer_id: Deployments(count, first, tuple(names)) for volunteer_id, (count, first, names) in found.items()
    }
    if filters.deployed_only:
        rows = [r for r in rows if r.volunteer_id in deployed]
    rows.sort(key=lambda r: queue_order(r.kind, r.due_on, r.id, r.volunteer_id in deployed, today))
    return rows, deployed


def _items(session: Session, rows: Sequence, deployed: Mapping[int, Deployments], today: dt.date) -> list[QueueItem]:
    reviews = {
        review.id: review
        for review in session.scalars(
            select(VettingReview)
            .where(VettingReview.id.in_([r.id for r in rows]))
            .options(
                selectinload(VettingReview.volunteer).selectinload(Volunteer.user),
                selectinload(VettingReview.pending),
                selectinload(VettingReview.circumstance_report),
            )
        )
    }
    return [QueueItem(reviews[r.id], deployed.get(r.volunteer_id), queue_group(r.kind, r.due_on, today)) for r in rows]


def review_queue(
    session: Session,
    today: dt.date,
    now: dt.datetime,
    deployments: DeploymentLookup | None,
    filters: QueueFilters = QueueFilters(),
    limit: int | None = None,
) -> list[QueueItem]:
    """The open reviews matching ``filters`` in the order a vetting officer should take them (``queue_order``)."""
    rows, deployed = _ordered(session, today, now, deployments, filters)
    return _items(session, rows[:limit], deployed, today)


def queue_page(
    session: Session,
    today: dt.date,
    now: dt.datetime,
    deployments: DeploymentLookup | None,
    filters: QueueFilters,
    raw_page: str | None,
    per_page: int = PER_PAGE,
) -> Page:
    """One page of ``review_queue``; a missing, malformed or out-of-range page number shows the nearest page."""
    rows, deployed = _ordered(session, today, now, deployments, filters)
    pages = max(1, math.ceil(len(rows) / per_page))
    number = int(raw_page) if raw_page and raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 10 else 1
    number = min(max(number, 1), pages)
    chosen = rows[(number - 1) * per_page : number * per_page]
    return Page(items=_items(session, chosen, deployed, today), number=number, per_page=per_page, total=len(rows))
