"""Demo clearances and queue items (some long valid, some expiring soon, some lapsed), and conflict reviews."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.auth.models import Role, User
from core.db import utcnow
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, DEFAULT_POLICY
from vetting.conflict_rules import HEALTH, Outcome, join_lines
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ConflictReview, ConflictReviewFinding, ReviewKind, VettingReview
from vetting.renewals import add_months, expiry_date
from volunteers.models import (
    CONFLICT_REVIEW_OCCUPATIONS,
    Volunteer,
    VolunteerKind,
    VolunteerSkill,
    VolunteerStatus,
    conflict_review_lines,
)
from volunteers.skills import SKILLS_BY_CODE, SkillFamily


def load_clearances(session: Session, rng: random.Random, today: dt.date) -> int:
    """Clearances for active volunteers, and the reviews a real queue would hold today."""
    volunteers = session.execute(select(Volunteer.id, Volunteer.kind, Volunteer.status).order_by(Volunteer.id)).all()
    families: dict[int, set[SkillFamily]] = {}
    for volunteer_id, code in session.execute(select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_code)):
        families.setdefault(volunteer_id, set()).add(SKILLS_BY_CODE[code].family)
    clearances, reviews = [], []
    for volunteer_id, kind, status in volunteers:
        if status is VolunteerStatus.APPLIED:
            reviews.append(
                dict(
                    volunteer_id=volunteer_id,
                    kind=ReviewKind.NEW_APPLICATION,
                    due_on=today + dt.timedelta(days=rng.randint(-5, 28)),
                )
            )
            continue
        codes = (
            ["RV"]
            if kind is VolunteerKind.SPECIAL
            else [rng.choices(["NPPV2F", "NPPV2A", "NPPV3"], weights=[60, 25, 15])[0]]
        )
        if SkillFamily.YOUTH in families.get(volunteer_id, ()):
            codes.append("DBS_ENH_CHILD")
        if SkillFamily.HEALTH in families.get(volunteer_id, ()) and rng.random() < 0.6:
            codes.append("DBS_ENH_ADULT")
        if SkillFamily.CYBER in families.get(volunteer_id, ()) and rng.random() < 0.1:
            codes.append("CTC")
        for code in codes:
            months = DEFAULT_POLICY.validity_months(CLEARANCE_TYPES_BY_CODE[code])
            # Granted at a random point in the validity period, plus a few that ran out recently.
            granted = add_months(today, -rng.randint(0, months + 2))
            expires = expiry_date(granted, months)
            state = ClearanceState.GRANTED if expires >= today else ClearanceState.LAPSED
            if state is ClearanceState.GRANTED and (expires - today).days <= 90:
                state = ClearanceState.RENEWAL_DUE
            clearances.append(
                dict(
                    volunteer_id=volunteer_id,
                    type_code=code,
                    state=state,
                    valid_from=granted,
                    expires_on=expires,
                    restricted_from="",
                )
            )
    for start in range(0, len(clearances), 5000):
        session.execute(insert(Clearance), clearances[start : start + 5000])
    due = session.execute(
        select(Clearance.id, Clearance.volunteer_id, Clearance.expires_on).where(
            Clearance.state == ClearanceState.RENEWAL_DUE
        )
    ).all()
    reviews += [dict(volunteer_id=v, kind=ReviewKind.RENEWAL, clearance_id=c, due_on=e) for c, v, e in due]
    if reviews:
        session.execute(insert(VettingReview), reviews)
    return len(clearances)


def load_conflict_reviews(session: Session, rng: random.Random, today: dt.date) -> int:
    """Conflict reviews for most active volunteers whose line of work needs one: most found no conflict, one in
    eight a conflict with their own employer, and one in six has none recorded yet (so the demo shows the
    warning and the matcher leaving them out). Chosen by id, not by ``rng``: the later loaders draw the same
    numbers whether or not this one runs."""
    recorder = session.scalar(select(User.id).where(User.role == Role.COORDINATOR).order_by(User.id).limit(1))
    if recorder is None:
        return 0
    rows = session.execute(
        select(Volunteer.id, Volunteer.occupation_category, Volunteer.military_reservist, Volunteer.employer)
        .where(Volunteer.status == VolunteerStatus.ACTIVE)
        .where(
            (Volunteer.occupation_category.in_(sorted(CONFLICT_REVIEW_OCCUPATIONS)))
            | Volunteer.military_reservist.is_(True)
        )
        .order_by(Volunteer.id)
    ).all()
    reviews = []
    for volunteer_id, category, reservist, employer in rows:
        if volunteer_id % 6 == 0:
            continue
        lines = conflict_review_lines(category, reservist)
        conflict = volunteer_id % 8 == 1 and bool(employer)
        review = ConflictReview(
            volunteer_id=volunteer_id,
            outcome=Outcome.CONFLICTS if conflict else Outcome.NO_CONFLICT,
            lines_of_work=join_lines(lines),
            employer=employer,
            employer_permission=True if HEALTH in lines else None,
            notes="Checked their employer and its clients against the force's current work."
            + (" Not to be sent to their employer." if conflict else " No conflict found."),
            recorded_by_id=recorder,
            recorded_at=utcnow() - dt.timedelta(days=volunteer_id % 300 + 1),
        )
        if conflict:
            review.findings = [ConflictReviewFinding(organisation=employer)]
        reviews.append(review)
    session.add_all(reviews)
    session.flush()
    return len(reviews)
