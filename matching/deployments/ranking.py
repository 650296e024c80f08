"""The matcher's lower ranking after a deployment that went badly (issue #20): who it applies to, and a
coordinator clearing it.

A deployment is a *concern* when the volunteer did not attend and gave no notice, or when the sergeant's
feedback says they would not ask for them again. For ``RANKING_PENALTY_DAYS`` after the deployment's end,
unless a coordinator has cleared it, each concern lowers the volunteer's score in the matcher
(``matching.planning.CONCERN_PENALTY``): a score, never a rule, so they are still offered a place nobody else
can take. Sergeants never see it (the explanation of an offer never names it); coordinators see the list here
and can clear a concern, audited, when it was unfair or has been talked through.

``concern_counts`` is what the matcher reads (``matching.facts.load_volunteers``); the rest serves the
coordinators' page (``matching/deployments/ranking_views.py``). One commit per use case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from core.audit.services import record as audit
from core.auth.models import User
from core.db import utcnow
from core.field_errors import FieldError
from core.geography.models import Ward
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.models import Offer, SupportRequest
from volunteers.models import Volunteer

DEFAULT_PENALTY_DAYS = 90
REASON_MAX = 500

NO_SHOW = "Did not attend and gave no notice"
NOT_AGAIN = "The sergeant would not ask for them again"


class RankingError(FieldError):
    """A concern that cannot be cleared (already cleared, no longer counting, or not a concern at all)."""


def is_concern() -> ColumnElement[bool]:
    """The deployments that lower a volunteer's ranking, whatever their date or clearance."""
    return or_(
        and_(Deployment.outcome == DeploymentOutcome.DID_NOT_ATTEND, Deployment.no_notice.is_(True)),
        Deployment.would_ask_again.is_(False),
    )


def _counting(now: dt.datetime, days: int) -> ColumnElement[bool]:
    """Concerns still counting at ``now``: not cleared, and the deployment ended within the last ``days``."""
    return and_(
        is_concern(),
        Deployment.ranking_cleared_at.is_(None),
        Offer.ends_at > now - dt.timedelta(days=days),
        Offer.ends_at <= now,
    )


def concern_counts(
    session: Session, volunteers: Select, now: dt.datetime | None = None, days: int = DEFAULT_PENALTY_DAYS
) -> dict[int, int]:
    """Each of ``volunteers`` (a subquery of volunteer ids) with concerns counting at ``now``: how many."""
    now = now or utcnow()
    rows = session.execute(
        select(Deployment.volunteer_id, func.count(Deployment.id))
        .join(Offer, Offer.id == Deployment.offer_id)
        .where(Deployment.volunteer_id.in_(volunteers), _counting(now, days))
        .group_by(Deployment.volunteer_id)
    )
    return {volunteer_id: count for volunteer_id, count in rows}


@dataclass(frozen=True)
class Concern:
    """One deployment lowering a volunteer's ranking, as a coordinator sees it."""

    deployment_id: int
    volunteer_id: int
    volunteer_name: str
    request_id: int
    request_title: str
    ward_name: str
    starts_at: dt.datetime
    counts_until: dt.datetime
    reasons: tuple[str, ...]
    coordinator_note: str
    recorded_by: str


def current_concerns(
    session: Session,
    now: dt.datetime | None = None,
    days: int = DEFAULT_PENALTY_DAYS,
    volunteer_id: int | None = None,
) -> list[Concern]:
    """Every concern counting at ``now`` (or one volunteer's), most recent deployment first."""
    now = now or utcnow()
    person = aliased(User)
    recorder = aliased(User)
    query = (
        select(Deployment, Offer.starts_at, Offer.ends_at, person.full_name, SupportRequest.title, Ward.name)
        .join(Offer, Offer.id == Deployment.offer_id)
        .join(Volunteer, Volunteer.id == Deployment.volunteer_id)
        .join(person, person.id == Volunteer.user_id)
        .join(SupportRequest, SupportRequest.id == Deployment.request_id)
        .join(Ward, Ward.id == SupportRequest.ward_id)
        .where(_counting(now, days))
        .order_by(Offer.ends_at.desc(), Deployment.id.desc())
    )
    if volunteer_id is not None:
        query = query.where(Deployment.volunteer_id == volunteer_id)
    rows = session.execute(query).all()
    # Who recorded it: the sergeant's feedback, else whoever confirmed the attendance.
    recorder_ids = {r[0].feedback_by_id or r[0].confirmed_by_id for r in rows} - {None}
    names = (
        dict(session.execute(select(recorder.id, recorder.full_name).where(recorder.id.in_(recorder_ids))).all())
        if recorder_ids
        else {}
    )
    concerns = []
    for deployment, starts_at, ends_at, volunteer_name, title, ward_name in rows:
        reasons = []
        if deployment.outcome is DeploymentOutcome.DID_NOT_ATTEND and deployment.no_notice:
            reasons.append(NO_SHOW)
        if deployment.would_ask_again is False:
            reasons.append(NOT_AGAIN)
        concerns.append(
            Concern(
                deployment_id=deployment.id,
                volunteer_id=deployment.volunteer_id,
                volunteer_name=volunteer_name,
                request_id=deployment.request_id,
                request_title=title,
                ward_name=ward_name,
                starts_at=starts_at,
                counts_until=ends_at + dt.timedelta(days=days),
                reasons=tuple(reasons),
                coordinator_note=deployment.coordinator_note,
                recorded_by=names.get(deployment.feedback_by_id or deployment.confirmed_by_id, ""),
            )
        )
    return concerns


def clear(
    session: Session,
    *,
    deployment_id: int,
    actor: User,
    reason: str,
    key: bytes,
    now: dt.datetime | None = None,
    days: int = DEFAULT_PENALTY_DAYS,
) -> Concern:
    """A coordinator clears one concern: the matcher ranks the volunteer as if it had not happened. Audited,
    with the optional reason; the feedback itself is kept. Commits. Raises RankingError."""
    now = now or utcnow()
    found = [c for c in current_concerns(session, now, days) if c.deployment_id == deployment_id]
    if not found:
        raise RankingError("This no longer lowers the volunteer's ranking: it was cleared or has run its course")
    # Conditional, so two coordinators clearing at once record one clearance.
    cleared = session.execute(
        update(Deployment)
        .where(Deployment.id == deployment_id, Deployment.ranking_cleared_at.is_(None))
        .values(ranking_cleared_at=now, ranking_cleared_by_id=actor.id)
    ).rowcount
    if not cleared:
        session.rollback()
        raise RankingError("Another coordinator has just cleared this")
    concern = found[0]
    audit(
        session,
        actor_id=actor.id,
        action="deployment.ranking_cleared",
        subject_type="volunteer",
        subject_id=concern.volunteer_id,
        detail={"deployment_id": deployment_id, "reasons": list(concern.reasons), "reason": reason.strip()},
        key=key,
        at=now,
    )
    session.commit()
    return concern
