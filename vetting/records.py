"""A person's vetting record for vetting officers: finding the person, and every review, open or closed.

Opening a record is itself recorded in the audit log, as opening a review is (vetting data is read on
a need-to-know basis, and the log says who read whose). The search lists names only, no vetting detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from core.audit.services import record as audit
from core.auth.models import User
from core.pagination import Page
from vetting.models import Clearance, ReviewStatus, VettingReview
from volunteers.models import Volunteer

PER_PAGE = 25


class PersonNotFound(LookupError):
    pass


@dataclass(frozen=True)
class PersonHit:
    volunteer: Volunteer
    open_reviews: int
    reviews: int


def search_people(session: Session, text: str, raw_page: str | None) -> Page:
    """Volunteers whose name or email address contains ``text``, by name, a page at a time.

    Each item is a ``PersonHit`` (the volunteer with their account, and how many reviews they have,
    how many of them open): three queries a page, however many people match.
    """
    condition = or_(User.full_name.icontains(text, autoescape=True), User.email.icontains(text, autoescape=True))
    query = (
        select(Volunteer.id).join(User, User.id == Volunteer.user_id).where(condition).order_by(User.full_name, User.id)
    )
    count = select(func.count(Volunteer.id)).join(User, User.id == Volunteer.user_id).where(condition)
    page = Page.of(session, query, count, raw_page, per_page=PER_PAGE)
    ids = page.items
    people = {
        v.id: v
        for v in session.scalars(select(Volunteer).where(Volunteer.id.in_(ids)).options(joinedload(Volunteer.user)))
    }
    counts: dict[int, list[int]] = {i: [0, 0] for i in ids}
    for volunteer_id, status, number in session.execute(
        select(VettingReview.volunteer_id, VettingReview.status, func.count())
        .where(VettingReview.volunteer_id.in_(ids))
        .group_by(VettingReview.volunteer_id, VettingReview.status)
    ):
        counts[volunteer_id][1] += number
        if status is ReviewStatus.OPEN:
            counts[volunteer_id][0] += number
    page.items = [PersonHit(people[i], *counts[i]) for i in ids]
    return page


@dataclass
class PersonRecord:
    """One person's vetting record: their clearances and every review, newest first."""

    volunteer: Volunteer
    clearances: list[Clearance]
    reviews: list[VettingReview]
    officers: dict[int, str] = field(default_factory=dict)  # user id → name, for who closed a review

    @property
    def open_reviews(self) -> list[VettingReview]:
        return [r for r in self.reviews if r.status is ReviewStatus.OPEN]

    @property
    def closed_reviews(self) -> list[VettingReview]:
        return [r for r in self.reviews if r.status is not ReviewStatus.OPEN]


def open_person_record(session: Session, volunteer_id: int, officer_id: int, key: bytes) -> PersonRecord:
    """A vetting officer opens a person's vetting record: read it, and log that they did (one commit).

    Raises PersonNotFound for an unknown volunteer.
    """
    volunteer = session.scalar(
        select(Volunteer)
        .where(Volunteer.id == volunteer_id)
        .options(joinedload(Volunteer.user), joinedload(Volunteer.home_ward))
    )
    if volunteer is None:
        raise PersonNotFound(volunteer_id)
    clearances = list(
        session.scalars(
            select(Clearance)
            .where(Clearance.volunteer_id == volunteer_id)
            .order_by(Clearance.created_at.desc(), Clearance.id.desc())
        )
    )
    reviews = list(
        session.scalars(
            select(VettingReview)
            .where(VettingReview.volunteer_id == volunteer_id)
            .options(selectinload(VettingReview.pending), selectinload(VettingReview.circumstance_report))
            .order_by(VettingReview.opened_at.desc(), VettingReview.id.desc())
        )
    )
    closers = {r.closed_by_id for r in reviews if r.closed_by_id}
    officers = {
        user_id: name for user_id, name in session.execute(select(User.id, User.full_name).where(User.id.in_(closers)))
    }
    audit(
        session,
        actor_id=officer_id,
        action="vetting_record.viewed",
        subject_type="volunteer",
        subject_id=volunteer_id,
        detail={"page": "person"},
        key=key,
    )
    session.commit()
    return PersonRecord(volunteer, clearances, reviews, officers)
