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
from core.field_errors import FieldError
from vetting import lifecycle
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, DEFAULT_POLICY, TASK_POLICIES_BY_CODE, ForcePolicy
from vetting.lifecycle import ClearanceEvent, ClearanceState, Outcome
from vetting.models import Clearance, ClearanceTransition, PendingDecision, ReviewKind, ReviewStatus, VettingReview
from vetting.renewals import SWEEP_ACTOR_ID, expiry_date
from volunteers.models import Volunteer, VolunteerStatus


class ClearanceAction(enum.StrEnum):
    """What a vetting officer may do to an existing clearance from a review (adverse information)."""

    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    WITHDRAW = "withdraw"  # proposed; a second officer confirms


class DecisionError(FieldError):
    """A decision, clearance action or appeal was refused; ``field`` names the form field it concerns, if any."""


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


def previous_record(session: Session, clearance: Clearance) -> lifecycle.TransitionRecord | None:
    """The transition that brought the clearance into its state (reinstating and appeals need it)."""
    last = session.scalar(
        select(ClearanceTransition)
        .where(ClearanceTransition.clearance_id == clearance.id)
        .order_by(ClearanceTransition.at.desc(), ClearanceTransition.id.desc())
        .limit(1)
    )
    if last is None:
        return None
    return lifecycle.TransitionRecord(
        from_state=last.from_state,
        to_state=last.to_state,
        event=last.event,
        actor_id=str(last.actor_id) if last.actor_id else SWEEP_ACTOR_ID,
        at=last.at,
        reason=last.reason,
        proposed_by=str(last.proposed_by_id) if last.proposed_by_id else None,
    )


def _step(
    session: Session,
    clearance: Clearance,
    event: ClearanceEvent,
    officer_id: int,
    key: bytes,
    reason: str | None,
    proposed_by: int | None = None,
    policy: ForcePolicy = DEFAULT_POLICY,
) -> None:
    try:
        record = lifecycle.apply(
            clearance.state,
            event,
            actor_id=str(officer_id),
            at=utcnow(),
            reason=reason,
            previous=previous_record(session, clearance),
            policy=policy,
        )
    except lifecycle.TransitionError as exc:
        raise DecisionError(f"That cannot be done to this clearance now: {exc}") from None
    _store(session, clearance, record, officer_id, key, proposed_by)


def _store(
    session: Session,
    clearance: Clearance,
    record: lifecycle.TransitionRecord,
    officer_id: int,
    key: bytes,
    proposed_by: int | None = None,
) -> None:
    session.add(
        ClearanceTransition(
            clearance_id=clearance.id,
            from_state=record.from_state,
            to_state=record.to_state,
            event=record.event.value,
            actor_id=officer_id,
            proposed_by_id=proposed_by,
            at=record.at,
            reason=record.reason,
        )
    )
    clearance.state = record.to_state
    audit(
        session,
        actor_id=officer_id,
        action=f"clearance.{record.event.value}",
        subject_type="clearance",
        subject_id=clearance.id,
        detail={
            "from": record.from_state.value,
            "to": record.to_state.value,
            "volunteer": clearance.volunteer_id,
            "type": clearance.type_code,
            "proposed_by": proposed_by,
        },
        key=key,
    )


def _close(session: Session, review: VettingReview, officer_id: int, outcome: str, key: bytes) -> None:
    review.status, review.closed_at = ReviewStatus.CLOSED, utcnow()
    review.closed_by_id, review.outcome = officer_id, outcome
    audit(
        session,
        actor_id=officer_id,
        action="review.closed",
        subject_type="vetting_review",
        subject_id=review.id,
        detail={"outcome": outcome, "volunteer": review.volunteer_id, "kind": review.kind.value},
        key=key,
    )


def decide(
    session: Session,
    review_id: int,
    officer_id: int,
    decision: Decision,
    key: bytes,
    policy: ForcePolicy = DEFAULT_POLICY,
) -> VettingReview:
    """Record a vetting officer's decision on an open review.

    Granting (with or without restrictions) and discontinuing take effect at once. A refusal is only
    proposed: it takes effect when a different vetting officer confirms it (confirm_pending).
    """
    review = _locked_review(session, review_id)
    if review.pending is not None:
        raise DecisionError("A refusal is waiting for a second officer: confirm it or ask them to")
    if not decision.reason.strip():
        raise DecisionError("Enter the reason for the decision", field="reason")
    if review.kind is ReviewKind.APPEAL or decision.outcome in (Outcome.UPHOLD, Outcome.OVERTURN):
        return _decide_appeal(session, review, officer_id, decision, key, policy)
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
        pending = lifecycle.propose(
            clearance.state, ClearanceEvent.REFUSE, actor_id=str(officer_id), at=utcnow(), reason=reason
        )
        session.add(
            PendingDecision(
                review_id=review.id,
                clearance_id=clearance.id,
                event=pending.event.value,
                proposed_by_id=officer_id,
                proposed_at=pending.proposed_at,
                reason=reason,
            )
        )
        audit(
            session,
            actor_id=officer_id,
            action="clearance.refusal_proposed",
            subject_type="clearance",
            subject_id=clearance.id,
            detail={"volunteer": review.volunteer_id, "review": review.id},
            key=key,
        )
    elif decision.outcome is Outcome.DISCONTINUE:
        _step(session, clearance, ClearanceEvent.DISCONTINUE, officer_id, key, reason)
        _close(session, review, officer_id, Outcome.DISCONTINUE.value, key)
    else:
        clearance.valid_from = decision.valid_from
        clearance.expires_on = decision.expires_on or default_expiry(decision.type_code, decision.valid_from, policy)
        clearance.restricted_from = ",".join(sorted(decision.restrictions))
        event = ClearanceEvent.GRANT if decision.outcome is Outcome.GRANT else ClearanceEvent.GRANT_WITH_RESTRICTIONS
        _step(session, clearance, event, officer_id, key, reason)
        renewed = _renewed_clearance(session, review, decision.type_code)
        if renewed is not None:
            # Renewal: the new record continues the old one, which ends as renewed (not lapsed).
            clearance.renews_id = renewed.id
            if renewed.state in (ClearanceState.GRANTED, ClearanceState.GRANTED_WITH_RESTRICTIONS):
                _step(session, renewed, ClearanceEvent.MARK_RENEWAL_DUE, officer_id, key, "Renewal decided")
            _step(session, renewed, ClearanceEvent.RENEW, officer_id, key, reason)
        _close(session, review, officer_id, decision.outcome.value, key)
        if review.volunteer.status is VolunteerStatus.APPLIED:
            review.volunteer.status = VolunteerStatus.ACTIVE
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DecisionError("Another officer decided this review at the same moment. Reload the page.") from None
    return review


def _renewed_clearance(session: Session, review: VettingReview, type_code: str) -> Clearance | None:
    if review.kind is not ReviewKind.RENEWAL or review.clearance_id is None:
        return None
    old = session.get(Clearance, review.clearance_id)
    return old if old is not None and old.type_code == type_code else None


def _decide_appeal(
    session: Session, review: VettingReview, officer_id: int, decision: Decision, key: bytes, policy: ForcePolicy
) -> VettingReview:
    if review.kind is not ReviewKind.APPEAL or decision.outcome not in (Outcome.UPHOLD, Outcome.OVERTURN):
        raise DecisionError("An appeal is decided by upholding or overturning the decision", field="outcome")
    clearance = session.get(Clearance, review.clearance_id)
    event = ClearanceEvent.DECISION_UPHELD if decision.outcome is Outcome.UPHOLD else ClearanceEvent.DECISION_OVERTURNED
    _step(session, clearance, event, officer_id, key, decision.reason.strip(), policy=policy)
    if decision.outcome is Outcome.OVERTURN and clearance.valid_from is None:
        clearance.valid_from = decision.valid_from or utcnow().date()
        clearance.expires_on = decision.expires_on or default_expiry(clearance.type_code, clearance.valid_from, policy)
    _close(session, review, officer_id, decision.outcome.value, key)
    session.commit()
    return review


def act_on_clearance(
    session: Session,
    review_id: int,
    clearance_id: int,
    action: ClearanceAction,
    officer_id: int,
    reason: str,
    key: bytes,
) -> Clearance:
    """Suspend (pending review), reinstate, or propose withdrawing a clearance, from an open review."""
    review = _locked_review(session, review_id)
    clearance = session.get(Clearance, clearance_id)
    if clearance is None or clearance.volunteer_id != review.volunteer_id:
        raise DecisionError("No such clearance for this volunteer")
    if not reason.strip():
        raise DecisionError("Enter the reason", field="reason")
    if action is ClearanceAction.WITHDRAW:
        if review.pending is not None:
            raise DecisionError("A decision is already waiting for a second officer on this review")
        try:
            pending = lifecycle.propose(
                clearance.state,
                ClearanceEvent.WITHDRAW,
                actor_id=str(officer_id),
                at=utcnow(),
                reason=reason.strip(),
                previous=previous_record(session, clearance),
            )
        except lifecycle.TransitionError as exc:
            raise DecisionError(f"That cannot be done to this clearance now: {exc}") from None
        session.add(
            PendingDecision(
                review_id=review.id,
                clearance_id=clearance.id,
                event=pending.event.value,
                proposed_by_id=officer_id,
                proposed_at=pending.proposed_at,
                reason=reason.strip(),
            )
        )
        audit(
            session,
            actor_id=officer_id,
            action="clearance.withdrawal_proposed",
            subject_type="clearance",
            subject_id=clearance.id,
            detail={"volunteer": review.volunteer_id, "review": review.id},
            key=key,
        )
    else:
        event = ClearanceEvent.SUSPEND if action is ClearanceAction.SUSPEND else ClearanceEvent.REINSTATE
        _step(session, clearance, event, officer_id, key, reason.strip())
    session.commit()
    return clearance


def lodge_appeal(
    session: Session,
    volunteer_id: int,
    clearance_id: int,
    grounds: str,
    policy: ForcePolicy,
    key: bytes,
    today: dt.date,
) -> VettingReview:
    """A volunteer appeals a refusal or withdrawal, within the force's appeal window."""
    clearance = session.scalar(
        select(Clearance).where(Clearance.id == clearance_id, Clearance.volunteer_id == volunteer_id).with_for_update()
    )
    if clearance is None:
        raise DecisionError("No such clearance")
    if not grounds.strip():
        raise DecisionError("Tell us why you are appealing", field="grounds")
    volunteer_user = session.scalar(select(Volunteer.user_id).where(Volunteer.id == volunteer_id))
    try:
        record = lifecycle.apply(
            clearance.state,
            ClearanceEvent.APPEAL,
            actor_id=f"volunteer:{volunteer_id}",
            at=utcnow(),
            reason=grounds.strip(),
            previous=previous_record(session, clearance),
            policy=policy,
        )
    except lifecycle.TransitionError as exc:
        raise DecisionError(f"This decision cannot be appealed: {exc}", field="grounds") from None
    session.add(
        ClearanceTransition(
            clearance_id=clearance.id,
            from_state=record.from_state,
            to_state=record.to_state,
            event=record.event.value,
            actor_id=volunteer_user,
            at=record.at,
            reason=record.reason,
        )
    )
    clearance.state = record.to_state
    review = VettingReview(
        volunteer_id=volunteer_id,
        kind=ReviewKind.APPEAL,
        clearance_id=clearance.id,
        due_on=today + dt.timedelta(days=28),
    )
    session.add(review)
    session.flush()
    audit(
        session,
        actor_id=volunteer_user,
        action="clearance.appeal",
        subject_type="clearance",
        subject_id=clearance.id,
        detail={"review": review.id},
        key=key,
    )
    session.commit()
    return review


def confirm_pending(session: Session, review_id: int, officer_id: int, key: bytes) -> VettingReview:
    """A second vetting officer confirms a proposed refusal; only then does it take effect."""
    review = _locked_review(session, review_id)
    pending = review.pending
    if pending is None:
        raise DecisionError("There is no decision waiting for confirmation")
    proposal = lifecycle.PendingDecision(
        from_state=pending.clearance.state,
        event=pending.event,
        proposed_by=str(pending.proposed_by_id),
        proposed_at=pending.proposed_at,
        reason=pending.reason,
    )
    try:
        record = lifecycle.confirm(
            proposal,
            pending.clearance.state,
            actor_id=str(officer_id),
            at=utcnow(),
            previous=previous_record(session, pending.clearance),
        )
    except lifecycle.SecondOfficerRequired:
        raise DecisionError("You entered this refusal, so a different vetting officer must confirm it") from None
    except lifecycle.TransitionError as exc:
        raise DecisionError(str(exc)) from None
    _store(session, pending.clearance, record, officer_id, key, proposed_by=pending.proposed_by_id)
    session.delete(pending)
    outcome = "refused" if pending.event == ClearanceEvent.REFUSE.value else "withdrawn"
    # A withdrawal decided within a triggered review ends the review; a refusal ends the application.
    _close(session, review, officer_id, outcome, key)
    session.commit()
    return review


def record_view(session: Session, review: VettingReview, officer_id: int, key: bytes) -> None:
    """Every view of a vetting record goes into the audit log."""
    audit(
        session,
        actor_id=officer_id,
        action="vetting_record.viewed",
        subject_type="volunteer",
        subject_id=review.volunteer_id,
        detail={"review": review.id},
        key=key,
    )
    session.commit()
