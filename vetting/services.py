"""Vetting use cases. The hooks volunteers call through core.seams add to the caller's transaction only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.timeutil import london_today
from vetting import conflict_reviews, notices
from vetting.decisions import (
    DEFAULT_SETTINGS,
    DecisionError,
    Settings,
    close_review,
    previous_record,
    step_clearance,
)
from vetting.facts import person_facts
from vetting.lifecycle import ACTIVE_STATES, ClearanceEvent, ClearanceState, appeal_open_until
from vetting.models import (
    INFORMATION_SOURCE_LABELS,
    Clearance,
    InformationSource,
    PendingDecision,
    ReviewKind,
    ReviewStatus,
    ReviewTrigger,
    VettingReview,
)
from vetting.outcome_letters import Letter
from vetting.policy import current_policy, current_task_policies
from vetting.rules import explain_clearances
from volunteers.models import CircumstanceReport, Volunteer, VolunteerStatus

# How soon a new application or a change of circumstances should be looked at (force policy).
NEW_APPLICATION_DAYS = 28
TRIGGERED_REVIEW_DAYS = 14
SUMMARY_MAX = 4000


def open_application_review(session: Session, volunteer: Volunteer) -> None:
    """A new application waits in the vetting queue (seams.application_submitted)."""
    session.add(
        VettingReview(
            volunteer_id=volunteer.id,
            kind=ReviewKind.NEW_APPLICATION,
            due_on=london_today() + dt.timedelta(days=NEW_APPLICATION_DAYS),
        )
    )


def _triggered_review(session: Session, volunteer_id: int, **first) -> tuple[VettingReview, bool]:
    """The person's open triggered review, or a new one (``first`` are its columns); and whether it is new.

    One open triggered review per person: a second change, or more information, is more for the same
    officers to weigh, not a second queue item saying the same. A new trigger never makes it due later.
    """
    due = london_today() + dt.timedelta(days=TRIGGERED_REVIEW_DAYS)
    review = session.scalar(
        select(VettingReview)
        .where(
            VettingReview.volunteer_id == volunteer_id,
            VettingReview.kind == ReviewKind.TRIGGERED,
            VettingReview.status == ReviewStatus.OPEN,
        )
        .order_by(VettingReview.id)
        .limit(1)
        .with_for_update()
    )
    if review is not None:
        review.due_on = min(review.due_on, due)
        return review, False
    review = VettingReview(volunteer_id=volunteer_id, kind=ReviewKind.TRIGGERED, due_on=due, **first)
    session.add(review)
    session.flush()
    return review, True


def open_triggered_review(session: Session, report: CircumstanceReport) -> None:
    """A change of circumstances opens a triggered review, or joins the open one (seams.circumstances_reported)."""
    review, _ = _triggered_review(session, report.volunteer_id, circumstance_report_id=report.id)
    session.add(ReviewTrigger(review_id=review.id, circumstance_report_id=report.id))


def record_information(
    session: Session,
    volunteer_id: int,
    officer_id: int,
    source: InformationSource,
    summary: str,
    suspend: bool,
    key: bytes,
    settings: Settings = DEFAULT_SETTINGS,
) -> VettingReview:
    """A vetting officer records information about a person from outside (not their own report):
    it opens a triggered review or joins the open one, and may suspend every clearance they hold in
    force until the review is decided. The person is told of a suspension, never of the information."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise DecisionError("No such volunteer")
    summary = summary.strip()
    if not summary:
        raise DecisionError("Enter a summary of the information", field="summary")
    if len(summary) > SUMMARY_MAX:
        raise DecisionError("The summary must be 4,000 characters or fewer", field="summary")
    review, opened = _triggered_review(session, volunteer_id)
    session.add(ReviewTrigger(review_id=review.id, source=source, summary=summary, recorded_by_id=officer_id))
    audit(
        session,
        actor_id=officer_id,
        action="review.information_recorded",
        subject_type="vetting_review",
        subject_id=review.id,
        detail={"volunteer": volunteer_id, "source": source.value, "opened": opened, "suspend": suspend},
        key=key,
    )
    if suspend:
        reason = f"Suspended pending review of information from {INFORMATION_SOURCE_LABELS[source]}"
        held = session.scalars(
            select(Clearance)
            .where(Clearance.volunteer_id == volunteer_id, Clearance.state.in_(ACTIVE_STATES))
            .order_by(Clearance.id)
        )
        for clearance in list(held):
            step_clearance(session, clearance, ClearanceEvent.SUSPEND, officer_id, key, reason)
            notices.tell(session, Letter.SUSPENDED, clearance)
    session.commit()
    notices.deliver_queued(session, settings.postbox)
    return review


def end_vetting_on_leaving(session: Session, volunteer: Volunteer, actor_id: int | None, key: bytes) -> None:
    """A volunteer left (seams.volunteer_left): every clearance they hold ends as no longer needed, an
    application in progress is discontinued, and their open reviews close. In the caller's transaction.

    Nothing here is adverse, so nothing is appealable and nobody else is asked to confirm. A proposal
    waiting for a second officer is dropped (audited); an appeal not yet decided is withdrawn, and the
    decision it was against stands. No email: the leaving itself is what the volunteer is told about.
    """
    reason = "No longer needed: the volunteer left"
    reviews = list(
        session.scalars(
            select(VettingReview)
            .where(VettingReview.volunteer_id == volunteer.id, VettingReview.status == ReviewStatus.OPEN)
            .order_by(VettingReview.id)
        )
    )
    for pending in session.scalars(
        select(PendingDecision).where(PendingDecision.review_id.in_([r.id for r in reviews]))
    ).all():
        audit(
            session,
            actor_id=actor_id,
            action="clearance.proposal_dropped",
            subject_type="clearance",
            subject_id=pending.clearance_id,
            detail={"volunteer": volunteer.id, "review": pending.review_id, "event": pending.event},
            key=key,
        )
        session.delete(pending)
    session.flush()
    for review in reviews:
        if review.kind is ReviewKind.APPEAL and review.clearance_id:
            appealed = session.get(Clearance, review.clearance_id, populate_existing=True)
            if appealed is not None and appealed.state is ClearanceState.APPEALED:
                step_clearance(session, appealed, ClearanceEvent.APPEAL_WITHDRAWN, actor_id, key, reason)
        close_review(session, review, actor_id, "volunteer_left", key)
    ending = {
        **{state: ClearanceEvent.WITHDRAW_NOT_NEEDED for state in (*ACTIVE_STATES, ClearanceState.SUSPENDED)},
        ClearanceState.APPLIED: ClearanceEvent.DISCONTINUE,
        ClearanceState.IN_PROGRESS: ClearanceEvent.DISCONTINUE,
    }
    # Read afresh: the caller's session may hold these from before (its own transaction is what counts).
    held = session.scalars(
        select(Clearance)
        .where(Clearance.volunteer_id == volunteer.id, Clearance.state.in_(list(ending)))
        .execution_options(populate_existing=True)
    )
    for clearance in list(held):
        step_clearance(session, clearance, ending[clearance.state], actor_id, key, reason)


@dataclass(frozen=True)
class VolunteerVettingView:
    """What a volunteer may see of their own vetting: outcomes in plain words, never notes or reasons."""

    clearance_text: str
    application_open: bool
    reviewed_report_ids: frozenset[int]  # change-of-circumstances reports whose review is open
    # An application that did not succeed: "refused", "appealed" or "discontinued"; None otherwise.
    application_outcome: str | None = None
    appeal_until: dt.date | None = None


def volunteer_view(session: Session, volunteer: Volunteer) -> VolunteerVettingView:
    today = london_today()
    clearances = list(
        session.scalars(select(Clearance).where(Clearance.volunteer_id == volunteer.id).order_by(Clearance.id))
    )
    facts = person_facts(volunteer, clearances, conflict_review=conflict_reviews.standing_of(session, volunteer))
    text = explain_clearances(facts, current_task_policies(session).values(), today)
    open_reviews = list(
        session.scalars(
            select(VettingReview).where(
                VettingReview.volunteer_id == volunteer.id, VettingReview.status == ReviewStatus.OPEN
            )
        )
    )
    reported = {
        t.circumstance_report_id for r in open_reviews for t in r.triggers if t.circumstance_report_id is not None
    }
    outcome, appeal_until = None, None
    if volunteer.status is VolunteerStatus.NOT_ACCEPTED and clearances:
        # The application's clearance is their last one: a refused applicant holds no other.
        last = clearances[-1]
        outcome = {
            ClearanceState.REFUSED: "refused",
            ClearanceState.APPEALED: "appealed",
            ClearanceState.DISCONTINUED: "discontinued",
        }.get(last.state)
        if outcome == "refused":
            from flask import current_app  # the force's appeal window is configuration

            policy = current_policy(session, current_app.config)
            appeal_until = appeal_open_until(previous_record(session, last), today, policy)
    return VolunteerVettingView(
        clearance_text=text,
        application_open=any(r.kind is ReviewKind.NEW_APPLICATION for r in open_reviews),
        reviewed_report_ids=frozenset(reported),
        application_outcome=outcome,
        appeal_until=appeal_until,
    )


def vetting_officer_home(user) -> dict:
    """Figures for the vetting officer's home page (core's home view calls this)."""
    from core.db import get_session

    session = get_session()
    today = london_today()
    rows = session.execute(
        select(VettingReview.kind, VettingReview.due_on).where(VettingReview.status == ReviewStatus.OPEN)
    ).all()
    counts = {kind: sum(1 for k, _ in rows if k is kind) for kind in ReviewKind}
    return {
        "queue_counts": counts,
        "overdue": sum(1 for _, due in rows if due < today),
        "renewals_90": sum(1 for k, due in rows if k is ReviewKind.RENEWAL and due <= today + dt.timedelta(90)),
    }
