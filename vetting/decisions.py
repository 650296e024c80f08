"""Vetting officers' decisions on reviews. One transaction per decision, audited in the HMAC chain.

The pure state machine (vetting/lifecycle.py) decides what is allowed; this module stores the
result, the transition history and the audit entries together, or nothing at all.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.db import utcnow
from vetting import lifecycle
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, DEFAULT_POLICY, TASK_POLICIES_BY_CODE, ForcePolicy
from vetting.lifecycle import ClearanceEvent, ClearanceState
from vetting.models import Clearance, ClearanceTransition, PendingDecision, ReviewKind, ReviewStatus, VettingReview
from vetting.renewals import expiry_date
from volunteers.models import VolunteerStatus


class Outcome(enum.StrEnum):
    GRANT = "grant"
    GRANT_WITH_RESTRICTIONS = "grant_with_restrictions"
    REFUSE = "refuse"
    DISCONTINUE = "discontinue"
    NO_CHANGE = "no_change"  # a triggered or renewal review that finds nothing to act on


class DecisionError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    type_code: str | None = None
    valid_from: dt.date | None = None
    expires_on: dt.date | None = None
    restrictions: frozenset[str] = frozenset()


def default_expiry(type_code: str, valid_from: dt.date, policy: ForcePolicy = DEFAULT_POLICY) -> dt.date:
    """The last valid day of a clearance granted on ``valid_from``, from the type's validity period."""
    return expiry_date(valid_from, policy.validity_months(CLEARANCE_TYPES_BY_CODE[type_code]))


def _locked_review(session: Session, review_id: int) -> VettingReview:
    # FOR UPDATE on PostgreSQL: two officers deciding the same review at once are serialised.
    review = session.scalar(select(VettingReview).where(VettingReview.id == review_id).with_for_update())
    if review is None:
        raise DecisionError("No such review")
    if review.status is ReviewStatus.CLOSED:
        raise DecisionError("This review has already been decided")
    return review


def _step(session: Session, clearance: Clearance, event: ClearanceEvent, officer_id: int, key: bytes,
          reason: str | None, proposed_by: int | None = None) -> None:
    record = lifecycle.apply(clearance.state, event, actor_id=str(officer_id), at=utcnow(), reason=reason)
    _store(session, clearance, record, officer_id, key, proposed_by)


def _store(session: Session, clearance: Clearance, record: lifecycle.TransitionRecord, officer_id: int, key: bytes,
           proposed_by: int | None = None) -> None:
    session.add(ClearanceTransition(
        clearance_id=clearance.id, from_state=record.from_state, to_state=record.to_state, event=record.event.value,
        actor_id=officer_id, proposed_by_id=proposed_by, at=record.at, reason=record.reason))
    clearance.state = record.to_state
    audit(session, actor_id=officer_id, action=f"clearance.{record.event.value}", subject_type="clearance",
          subject_id=clearance.id, detail={"from": record.from_state.value, "to": record.to_state.value,
                                           "volunteer": clearance.volunteer_id, "type": clearance.type_code,
                                           "proposed_by": proposed_by}, key=key)


def _close(session: Session, review: VettingReview, officer_id: int, outcome: str, key: bytes) -> None:
    review.status, review.closed_at = ReviewStatus.CLOSED, utcnow()
    review.closed_by_id, review.outcome = officer_id, outcome
    audit(session, actor_id=officer_id, action="review.closed", subject_type="vetting_review", subject_id=review.id,
          detail={"outcome": outcome, "volunteer": review.volunteer_id, "kind": review.kind.value}, key=key)


def decide(session: Session, review_id: int, officer_id: int, decision: Decision, key: bytes,
           policy: ForcePolicy = DEFAULT_POLICY) -> VettingReview:
    """Record a vetting officer's decision on an open review.

    Granting (with or without restrictions) and discontinuing take effect at once. A refusal is only
    proposed: it takes effect when a different vetting officer confirms it (confirm_pending).
    """
    review = _locked_review(session, review_id)
    if review.pending is not None:
        raise DecisionError("A refusal is waiting for a second officer: confirm it or ask them to")
    if not decision.reason.strip():
        raise DecisionError("Enter the reason for the decision", field="reason")
    if decision.outcome is Outcome.NO_CHANGE:
        if review.kind is ReviewKind.NEW_APPLICATION:
            raise DecisionError("A new application needs a decision: grant, refuse or discontinue", field="outcome")
        review.notes = (review.notes + "\n" if review.notes else "") + decision.reason.strip()
        _close(session, review, officer_id, Outcome.NO_CHANGE.value, key)
        session.commit()
        return review

    if decision.type_code not in CLEARANCE_TYPES_BY_CODE:
        raise DecisionError("Choose the clearance this decision is about", field="type_code")
    granting = decision.outcome in (Outcome.GRANT, Outcome.GRANT_WITH_RESTRICTIONS)
    if granting:
        if decision.valid_from is None:
            raise DecisionError("Enter the date the clearance takes effect", field="valid_from")
        if decision.expires_on is not None and decision.expires_on < decision.valid_from:
            raise DecisionError("The end date must be after the date it takes effect", field="expires_on")
    unknown = decision.restrictions - set(TASK_POLICIES_BY_CODE)
    if unknown:
        raise DecisionError("Choose restrictions from the list", field="restrictions")
    if decision.outcome is Outcome.GRANT_WITH_RESTRICTIONS and not decision.restrictions:
        raise DecisionError("Choose at least one task the clearance may not be used for", field="restrictions")

    clearance = Clearance(volunteer_id=review.volunteer_id, type_code=decision.type_code, state=ClearanceState.APPLIED)
    session.add(clearance)
    session.flush()
    _step(session, clearance, ClearanceEvent.START, officer_id, key, None)
    reason = decision.reason.strip()
    if decision.outcome is Outcome.REFUSE:
        pending = lifecycle.propose(clearance.state, ClearanceEvent.REFUSE, actor_id=str(officer_id), at=utcnow(),
                                    reason=reason)
        session.add(PendingDecision(review_id=review.id, clearance_id=clearance.id, event=pending.event.value,
                                    proposed_by_id=officer_id, proposed_at=pending.proposed_at, reason=reason))
        audit(session, actor_id=officer_id, action="clearance.refusal_proposed", subject_type="clearance",
              subject_id=clearance.id, detail={"volunteer": review.volunteer_id, "review": review.id}, key=key)
    elif decision.outcome is Outcome.DISCONTINUE:
        _step(session, clearance, ClearanceEvent.DISCONTINUE, officer_id, key, reason)
        _close(session, review, officer_id, Outcome.DISCONTINUE.value, key)
    else:
        clearance.valid_from = decision.valid_from
        clearance.expires_on = decision.expires_on or default_expiry(decision.type_code, decision.valid_from, policy)
        clearance.restricted_from = ",".join(sorted(decision.restrictions))
        event = ClearanceEvent.GRANT if decision.outcome is Outcome.GRANT else ClearanceEvent.GRANT_WITH_RESTRICTIONS
        _step(session, clearance, event, officer_id, key, reason)
        _close(session, review, officer_id, decision.outcome.value, key)
        if review.volunteer.status is VolunteerStatus.APPLIED:
            review.volunteer.status = VolunteerStatus.ACTIVE
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DecisionError("Another officer decided this review at the same moment. Reload the page.") from None
    return review


def confirm_pending(session: Session, review_id: int, officer_id: int, key: bytes) -> VettingReview:
    """A second vetting officer confirms a proposed refusal; only then does it take effect."""
    review = _locked_review(session, review_id)
    pending = review.pending
    if pending is None:
        raise DecisionError("There is no decision waiting for confirmation")
    proposal = lifecycle.PendingDecision(from_state=pending.clearance.state, event=pending.event,
                                         proposed_by=str(pending.proposed_by_id), proposed_at=pending.proposed_at,
                                         reason=pending.reason)
    try:
        record = lifecycle.confirm(proposal, pending.clearance.state, actor_id=str(officer_id), at=utcnow())
    except lifecycle.SecondOfficerRequired:
        raise DecisionError("You entered this refusal, so a different vetting officer must confirm it") from None
    except lifecycle.TransitionError as exc:
        raise DecisionError(str(exc)) from None
    _store(session, pending.clearance, record, officer_id, key, proposed_by=pending.proposed_by_id)
    session.delete(pending)
    _close(session, review, officer_id, "refused", key)
    session.commit()
    return review


def record_view(session: Session, review: VettingReview, officer_id: int, key: bytes) -> None:
    """Every view of a vetting record goes into the audit log."""
    audit(session, actor_id=officer_id, action="vetting_record.viewed", subject_type="volunteer",
          subject_id=review.volunteer_id, detail={"review": review.id}, key=key)
    session.commit()
