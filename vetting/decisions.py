"""Vetting officers' decisions on reviews. One transaction per decision, audited in the HMAC chain.

The pure state machine (vetting/lifecycle.py) decides what is allowed; this module stores the
result, the transition history, the audit entries and the email telling the person, together or
not at all. The email goes once the decision is committed (vetting/notices.py).

What each kind of review may decide (``lifecycle.OUTCOMES_BY_KIND``):

* a new application: grant (no restrictions), grant with at least one restriction, refuse (a second
  officer confirms), discontinue;
* a renewal, always about the clearance that is due: renew it (with or without restrictions),
  refuse to renew it (confirmed by a second officer; the current term runs to its end), or let it
  lapse with a reason;
* a triggered or annual integrity review: no change; acting on a clearance (suspend, reinstate,
  propose withdrawal) is a separate step from the same page;
* an appeal, by an officer who took no part in the decision appealed against: uphold it (final), or
  overturn it (takes effect when a second such officer confirms).
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
from core.seams import Affected, seams
from core.timeutil import format_date, london_today, to_london
from vetting import dbs as dbs_rules
from vetting import lifecycle, notices
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, DEFAULT_POLICY, ForcePolicy
from vetting.lifecycle import ACTIVE_STATES, OUTCOMES_BY_KIND, ClearanceEvent, ClearanceState, Outcome
from vetting.models import Clearance, ClearanceTransition, PendingDecision, ReviewKind, ReviewStatus, VettingReview
from vetting.outcome_letters import Letter
from vetting.policy import current_task_policies
from vetting.renewals import SWEEP_ACTOR_ID, expiry_date
from volunteers.models import Volunteer, VolunteerStatus

#: How many days back a grant may be dated when a decision is recorded late (VETTING_LATE_RECORDING_DAYS).
LATE_RECORDING_DAYS = 14


class ClearanceAction(enum.StrEnum):
    """What a vetting officer may do to an existing clearance from a review (adverse information)."""

    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    WITHDRAW = "withdraw"  # proposed; a second officer confirms


class DecisionError(FieldError):
    """A decision, clearance action or appeal was refused; ``field`` names the form field it concerns, if any."""


class DecisionProblems(DecisionError):
    """A decision refused for several reasons at once (``problems``, each by its field): the officer sees
    every one on the first try rather than one per try."""

    def __init__(self, problems: list[DecisionError]):
        super().__init__(problems[0].message, problems[0].field)
        self.problems = problems


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    type_code: str | None = None
    valid_from: dt.date | None = None
    expires_on: dt.date | None = None
    restrictions: frozenset[str] = frozenset()
    # A DBS check's certificate and Update Service subscription, as typed (checked by vetting/dbs.py).
    dbs: dbs_rules.DbsDetails = dbs_rules.DbsDetails()


@dataclass(frozen=True)
class Settings:
    """The force's settings a decision depends on, and how its email leaves (None: the sweep sends it)."""

    policy: ForcePolicy = DEFAULT_POLICY
    late_recording_days: int = LATE_RECORDING_DAYS
    postbox: notices.Postbox | None = None


DEFAULT_SETTINGS = Settings()


def default_expiry(type_code: str, valid_from: dt.date, policy: ForcePolicy = DEFAULT_POLICY) -> dt.date:
    """The last valid day of a clearance granted on ``valid_from``, from the type's validity period."""
    return expiry_date(valid_from, policy.validity_months(CLEARANCE_TYPES_BY_CODE[type_code]))


# ---- Storing ------------------------------------------------------------------------------------


def _locked_review(session: Session, review_id: int) -> VettingReview:
    # FOR UPDATE on PostgreSQL: two officers deciding the same review at once are serialised.
    review = session.scalar(select(VettingReview).where(VettingReview.id == review_id).with_for_update())
    if review is None:
        raise DecisionError("No such review")
    if review.status is ReviewStatus.CLOSED:
        raise DecisionError("This review has already been decided")
    return review


def _record(last: ClearanceTransition) -> lifecycle.TransitionRecord:
    return lifecycle.TransitionRecord(
        from_state=last.from_state,
        to_state=last.to_state,
        event=last.event,
        actor_id=str(last.actor_id) if last.actor_id else SWEEP_ACTOR_ID,
        at=last.at,
        reason=last.reason,
        proposed_by=str(last.proposed_by_id) if last.proposed_by_id else None,
    )


def previous_record(session: Session, clearance: Clearance) -> lifecycle.TransitionRecord | None:
    """The transition that brought the clearance into its state (reinstating and appeals need it)."""
    last = session.scalar(
        select(ClearanceTransition)
        .where(ClearanceTransition.clearance_id == clearance.id)
        .order_by(ClearanceTransition.at.desc(), ClearanceTransition.id.desc())
        .limit(1)
    )
    return None if last is None else _record(last)


def appealed_decision(session: Session, clearance: Clearance) -> lifecycle.TransitionRecord | None:
    """The refusal or withdrawal an appealed clearance's appeal is against (the step before the appeal)."""
    steps = list(
        session.scalars(
            select(ClearanceTransition)
            .where(ClearanceTransition.clearance_id == clearance.id)
            .order_by(ClearanceTransition.at.desc(), ClearanceTransition.id.desc())
            .limit(2)
        )
    )
    if len(steps) < 2 or steps[0].event != ClearanceEvent.APPEAL.value:
        return None
    return _record(steps[1])


def step_clearance(
    session: Session,
    clearance: Clearance,
    event: ClearanceEvent,
    officer_id: int | None,
    key: bytes,
    reason: str | None,
    policy: ForcePolicy = DEFAULT_POLICY,
) -> lifecycle.TransitionRecord:
    """Apply one single-officer event to a clearance and store it (``_store``), in the caller's transaction."""
    try:
        record = lifecycle.apply(
            clearance.state,
            event,
            actor_id=str(officer_id) if officer_id else "system",
            at=utcnow(),
            reason=reason,
            previous=previous_record(session, clearance),
            policy=policy,
        )
    except lifecycle.TransitionError as exc:
        raise DecisionError(f"That cannot be done to this clearance now: {exc}") from None
    _store(session, clearance, record, officer_id, key)
    return record


def _store(
    session: Session,
    clearance: Clearance,
    record: lifecycle.TransitionRecord,
    officer_id: int | None,
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
    # Every stored step may end or narrow what the person may do (suspended, withdrawn, refused, restricted):
    # their offers and bookings are checked again in this same transaction.
    for hook in seams().eligibility_changed:
        hook(session, Affected(volunteer_ids=frozenset({clearance.volunteer_id})), record.at)


def close_review(session: Session, review: VettingReview, officer_id: int | None, outcome: str, key: bytes) -> None:
    """Close ``review`` with ``outcome`` (audited), in the caller's transaction."""
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


def _propose(
    session: Session,
    review: VettingReview,
    clearance: Clearance,
    event: ClearanceEvent,
    officer_id: int,
    reason: str,
    key: bytes,
    policy: ForcePolicy,
) -> None:
    """The first officer's refusal, withdrawal or overturn: waiting for a second officer to confirm it."""
    try:
        pending = lifecycle.propose(
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
    noun = proposal_noun(event.value)
    audit(
        session,
        actor_id=officer_id,
        action=f"clearance.{noun}_proposed",
        subject_type="clearance",
        subject_id=clearance.id,
        detail={"volunteer": review.volunteer_id, "review": review.id},
        key=key,
    )


def _commit(session: Session, settings: Settings) -> None:
    """Commit the use case, then send the emails it saved."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DecisionError("Another officer decided this review at the same moment. Reload the page.") from None
    notices.deliver_queued(session, settings.postbox)


def _set_status(volunteer: Volunteer, to: VolunteerStatus, *, when: frozenset[VolunteerStatus]) -> None:
    # The volunteer's status follows the outcome of their application (and of an appeal against it).
    if volunteer.status in when:
        volunteer.status = to


# ---- Deciding a review --------------------------------------------------------------------------


def decide(
    session: Session,
    review_id: int,
    officer_id: int,
    decision: Decision,
    key: bytes,
    settings: Settings = DEFAULT_SETTINGS,
) -> VettingReview:
    """Record a vetting officer's decision on an open review.

    Granting (with or without restrictions), discontinuing, letting a renewal lapse, closing a
    triggered or integrity review and upholding an appeal take effect at once. A refusal, or an
    overturned appeal, is only proposed: it takes effect when a different officer confirms it.
    """
    review = _locked_review(session, review_id)
    if review.pending is not None:
        raise DecisionError("A decision is waiting for a second officer: confirm it or ask them to")
    found = problems(session, review, decision, settings)
    if found:
        raise DecisionProblems(found)
    if review.kind is ReviewKind.APPEAL:
        _decide_appeal(session, review, officer_id, decision, key, settings)
    elif review.kind is ReviewKind.RENEWAL:
        _decide_renewal(session, review, officer_id, decision, key, settings)
    elif review.kind is ReviewKind.NEW_APPLICATION:
        _decide_application(session, review, officer_id, decision, key, settings)
    else:  # triggered or integrity: nothing to act on (actions on clearances are separate steps)
        review.notes = (review.notes + "\n" if review.notes else "") + decision.reason.strip()
        close_review(session, review, officer_id, Outcome.NO_CHANGE.value, key)
    _commit(session, settings)
    return review


def problems(
    session: Session, review: VettingReview, decision: Decision, settings: Settings = DEFAULT_SETTINGS
) -> list[DecisionError]:
    """Every refusal of ``decision`` on ``review`` that its fields show, at most one per field (writes nothing).

    ``decide`` refuses a decision with any of them; the review page also asks for them when the form itself
    found a problem, so that a grant with no clearance and no reason names both at once.
    """
    found: list[DecisionError] = []

    def check(step):
        try:
            return step()
        except DecisionError as exc:
            found.append(exc)
            return None

    if not decision.reason.strip():
        found.append(DecisionError("Enter the reason for the decision", field="reason"))
    if decision.outcome not in OUTCOMES_BY_KIND[review.kind]:
        found.append(DecisionError("Choose one of the decisions this review offers", field="outcome"))
        return found
    granting = decision.outcome in (Outcome.GRANT, Outcome.GRANT_WITH_RESTRICTIONS)
    current_ends_on = None
    if review.kind is ReviewKind.NEW_APPLICATION:
        type_code = decision.type_code if decision.type_code in CLEARANCE_TYPES_BY_CODE else None
        if type_code is None:
            found.append(DecisionError("Choose the clearance this decision is about", field="type_code"))
    elif review.kind is ReviewKind.RENEWAL:
        current = check(lambda: _clearance_due(session, review))
        if current is None:
            return found
        type_code = current.type_code
        if decision.outcome is not Outcome.LET_LAPSE:
            check(lambda: _renewable(current))
        current_ends_on = current.expires_on if current.state in ACTIVE_STATES else None
    else:
        return found  # triggered, integrity and appeal reviews take a reason only
    check(lambda: _check_restrictions(session, decision))
    if decision.outcome is Outcome.LET_LAPSE:
        return found
    dbs = None
    if type_code is not None:
        dbs_found = (
            dbs_rules.details_problems(decision.dbs, london_today())
            if dbs_rules.is_dbs(type_code) and (granting or decision.dbs.given)
            else []
        )
        found.extend(DecisionError(str(exc), field=exc.field) for exc in dbs_found)
        if not dbs_found:
            dbs = check(lambda: _dbs_details(decision, type_code, granting))
    if granting:
        if decision.valid_from is None:
            found.append(DecisionError("Enter the date the clearance takes effect", field="valid_from"))
        elif type_code is not None:
            check(lambda: _grant_dates(review, decision, type_code, settings, current_ends_on, dbs))
    return found


def _renewable(current: Clearance) -> None:
    """A renewal renews a clearance in force or one that has lapsed; a suspended one is settled first."""
    if current.state is ClearanceState.SUSPENDED:
        raise DecisionError(
            "This clearance is suspended: reinstate it, or propose its withdrawal, before deciding its renewal",
            field="outcome",
        )
    if current.state not in ACTIVE_STATES | {ClearanceState.LAPSED}:
        raise DecisionError(
            f"This clearance is {current.state.value.replace('_', ' ')}, so it cannot be renewed: let it lapse "
            "to close the review",
            field="outcome",
        )


def _check_restrictions(session: Session, decision: Decision) -> None:
    if decision.restrictions and decision.outcome is not Outcome.GRANT_WITH_RESTRICTIONS:
        if decision.outcome is Outcome.GRANT:
            message = "A plain grant has no restrictions: untick them, or choose Grant with restrictions"
        else:
            message = "Restrictions belong to a grant with restrictions: untick them"
        raise DecisionError(message, field="restrictions")
    if decision.restrictions - set(current_task_policies(session)):
        raise DecisionError("Choose restrictions from the list", field="restrictions")
    if decision.outcome is Outcome.GRANT_WITH_RESTRICTIONS and not decision.restrictions:
        raise DecisionError("Choose at least one task the clearance may not be used for", field="restrictions")


def _dbs_details(decision: Decision, type_code: str, granting: bool) -> dbs_rules.DbsDetails | None:
    """The DBS certificate the decision records, checked by its fields: required to grant a DBS check, and
    only for one (nothing typed is dropped without a word)."""
    if not dbs_rules.is_dbs(type_code):
        if decision.dbs.given:
            name = CLEARANCE_TYPES_BY_CODE[type_code].name
            field = next(
                field_name
                for field_name, value in (
                    ("dbs_certificate_number", decision.dbs.certificate_number),
                    ("dbs_issued_on", decision.dbs.issued_on),
                    ("dbs_update_service_id", decision.dbs.subscription_id),
                    ("dbs_status_checked_on", decision.dbs.status_checked_on),
                )
                if value
            )
            raise DecisionError(f"Leave the DBS details empty: {name} is not a DBS check", field=field)
        return None
    if not granting and not decision.dbs.given:
        return None
    try:
        return dbs_rules.check_details(decision.dbs, london_today())
    except dbs_rules.DbsError as exc:
        raise DecisionError(str(exc), field=exc.field) from None


def _set_dbs(clearance: Clearance, details: dbs_rules.DbsDetails | None) -> None:
    if details is not None:
        clearance.dbs_certificate_number = details.certificate_number
        clearance.dbs_issued_on = details.issued_on
        clearance.dbs_update_service_id = details.subscription_id
        clearance.dbs_status_checked_on = details.status_checked_on


def _grant_dates(
    review: VettingReview,
    decision: Decision,
    type_code: str,
    settings: Settings,
    current_ends_on: dt.date | None = None,
    dbs: dbs_rules.DbsDetails | None = None,
) -> tuple[dt.date, dt.date]:
    """The checked (valid from, expires on) of a grant: see ``lifecycle.check_grant_dates``. A DBS check's
    term ends, at the latest, the day before its certificate is due a re-check (vetting/dbs.py)."""
    if decision.valid_from is None:
        raise DecisionError("Enter the date the clearance takes effect", field="valid_from")
    today = london_today()
    window = lifecycle.grant_window(
        to_london(review.opened_at).date(),
        today,
        late_recording_days=settings.late_recording_days,
        current_ends_on=current_ends_on,
    )
    clearance_type = CLEARANCE_TYPES_BY_CODE[type_code]
    months = settings.policy.validity_months(clearance_type)
    standard_expiry = expiry_date(decision.valid_from, months)
    if dbs is not None:
        standard_expiry = _dbs_expiry(dbs, decision, settings, today, window)
    try:
        expires_on = lifecycle.check_grant_dates(
            decision.valid_from,
            decision.expires_on,
            window,
            today=today,
            standard_expiry=standard_expiry,
            type_name=clearance_type.name,
            validity_months=months,
        )
    except lifecycle.GrantDateError as exc:
        raise DecisionError(str(exc), field=exc.which) from None
    return decision.valid_from, expires_on


def _dbs_expiry(
    dbs: dbs_rules.DbsDetails, decision: Decision, settings: Settings, today: dt.date, window: lifecycle.GrantWindow
) -> dt.date:
    """The last day a grant resting on this certificate may run: refused by the certificate's own field when
    it is due a re-check before the grant could count, and by the end date when that is asked to run past it."""
    latest = dbs_rules.latest_expiry(dbs, settings.policy)
    if decision.valid_from is not None and window.earliest <= decision.valid_from <= window.latest:
        if latest < max(decision.valid_from, today):
            field = "dbs_status_checked_on" if dbs.status_checked_on else "dbs_issued_on"
            due = latest + dt.timedelta(days=1)
            raise DecisionError(
                f"This certificate {'was' if due <= today else 'is'} due a re-check on {format_date(due)}: record an "
                f"Update Service status check from the last {settings.policy.dbs_update_check_months} months, or "
                "ask for a new certificate",
                field=field,
            )
        if decision.expires_on is not None and decision.expires_on > latest:
            raise DecisionError(
                f"The end date must be the same as or before {format_date(latest)}: the certificate is due a "
                "re-check the day after",
                field="expires_on",
            )
    return latest


def _new_clearance(session: Session, review: VettingReview, type_code: str, officer_id: int, key: bytes) -> Clearance:
    clearance = Clearance(volunteer_id=review.volunteer_id, type_code=type_code, state=ClearanceState.APPLIED)
    session.add(clearance)
    session.flush()
    step_clearance(session, clearance, ClearanceEvent.START, officer_id, key, None)
    return clearance


def _grant(
    session: Session,
    clearance: Clearance,
    decision: Decision,
    dates: tuple[dt.date, dt.date],
    officer_id: int,
    key: bytes,
) -> None:
    clearance.valid_from, clearance.expires_on = dates
    clearance.restricted_from = ",".join(sorted(decision.restrictions))
    event = ClearanceEvent.GRANT if decision.outcome is Outcome.GRANT else ClearanceEvent.GRANT_WITH_RESTRICTIONS
    step_clearance(session, clearance, event, officer_id, key, decision.reason.strip())


def _decide_application(
    session: Session, review: VettingReview, officer_id: int, decision: Decision, key: bytes, settings: Settings
) -> None:
    if decision.type_code not in CLEARANCE_TYPES_BY_CODE:
        raise DecisionError("Choose the clearance this decision is about", field="type_code")
    _check_restrictions(session, decision)
    granting = decision.outcome in (Outcome.GRANT, Outcome.GRANT_WITH_RESTRICTIONS)
    dbs = _dbs_details(decision, decision.type_code, granting)
    dates = _grant_dates(review, decision, decision.type_code, settings, dbs=dbs) if granting else None
    clearance = _new_clearance(session, review, decision.type_code, officer_id, key)
    _set_dbs(clearance, dbs)
    reason = decision.reason.strip()
    if decision.outcome is Outcome.REFUSE:
        _propose(session, review, clearance, ClearanceEvent.REFUSE, officer_id, reason, key, settings.policy)
    elif decision.outcome is Outcome.DISCONTINUE:
        step_clearance(session, clearance, ClearanceEvent.DISCONTINUE, officer_id, key, reason)
        close_review(session, review, officer_id, Outcome.DISCONTINUE.value, key)
        _set_status(review.volunteer, VolunteerStatus.NOT_ACCEPTED, when=frozenset({VolunteerStatus.APPLIED}))
        notices.tell(session, Letter.DISCONTINUED, clearance)
    else:
        _grant(session, clearance, decision, dates, officer_id, key)
        close_review(session, review, officer_id, decision.outcome.value, key)
        _set_status(
            review.volunteer,
            VolunteerStatus.ACTIVE,
            when=frozenset({VolunteerStatus.APPLIED, VolunteerStatus.NOT_ACCEPTED}),
        )
        letter = Letter.GRANTED if decision.outcome is Outcome.GRANT else Letter.GRANTED_WITH_RESTRICTIONS
        notices.tell(session, letter, clearance)


def _clearance_due(session: Session, review: VettingReview) -> Clearance:
    current = session.get(Clearance, review.clearance_id) if review.clearance_id else None
    if current is None:
        raise DecisionError("This renewal review is not linked to a clearance: close it from the audit trail")
    return current


def _decide_renewal(
    session: Session, review: VettingReview, officer_id: int, decision: Decision, key: bytes, settings: Settings
) -> None:
    # Always about the clearance that is due: a type posted with the form is not this review's to choose.
    current = _clearance_due(session, review)
    reason = decision.reason.strip()
    if decision.outcome is Outcome.LET_LAPSE:
        _check_restrictions(session, decision)
        review.notes = (review.notes + "\n" if review.notes else "") + reason
        close_review(session, review, officer_id, Outcome.LET_LAPSE.value, key)
        if current.state in ACTIVE_STATES:
            notices.tell(session, Letter.NOT_RENEWED, current)
        return
    _renewable(current)
    _check_restrictions(session, decision)
    granting = decision.outcome in (Outcome.GRANT, Outcome.GRANT_WITH_RESTRICTIONS)
    running = current.state in ACTIVE_STATES
    dbs = _dbs_details(decision, current.type_code, granting)
    dates = (
        _grant_dates(review, decision, current.type_code, settings, current.expires_on if running else None, dbs)
        if granting
        else None
    )
    renewal = _new_clearance(session, review, current.type_code, officer_id, key)
    renewal.renews_id = current.id
    _set_dbs(renewal, dbs)
    if decision.outcome is Outcome.REFUSE:
        _propose(session, review, renewal, ClearanceEvent.REFUSE, officer_id, reason, key, settings.policy)
        return
    _grant(session, renewal, decision, dates, officer_id, key)
    _supersede(session, current, officer_id, key, reason)
    close_review(session, review, officer_id, decision.outcome.value, key)
    notices.tell(session, Letter.RENEWED if not decision.restrictions else Letter.GRANTED_WITH_RESTRICTIONS, renewal)


def _supersede(session: Session, current: Clearance, officer_id: int, key: bytes, reason: str) -> None:
    """The renewed record continues the current one, which ends as renewed (not lapsed). A clearance that
    has already lapsed stays lapsed: the new one stands on its own."""
    if current.state not in ACTIVE_STATES:
        return
    if current.state is not ClearanceState.RENEWAL_DUE:
        step_clearance(session, current, ClearanceEvent.MARK_RENEWAL_DUE, officer_id, key, "Renewal decided")
    step_clearance(session, current, ClearanceEvent.RENEW, officer_id, key, reason)


# ---- Appeals ------------------------------------------------------------------------------------


def _appeal_clearance(session: Session, review: VettingReview, officer_id: int) -> Clearance:
    clearance = session.get(Clearance, review.clearance_id) if review.clearance_id else None
    if clearance is None or clearance.state is not ClearanceState.APPEALED:
        raise DecisionError("The clearance this appeal is about is no longer under appeal")
    decision = appealed_decision(session, clearance)
    if decision is None:
        raise DecisionError("The decision under appeal cannot be found in the clearance's history")
    try:
        lifecycle.check_appeal_decider(decision, str(officer_id))
    except lifecycle.SecondOfficerRequired as exc:
        raise DecisionError(str(exc)) from None
    return clearance


def _decide_appeal(
    session: Session, review: VettingReview, officer_id: int, decision: Decision, key: bytes, settings: Settings
) -> None:
    clearance = _appeal_clearance(session, review, officer_id)
    reason = decision.reason.strip()
    if decision.outcome is Outcome.OVERTURN:
        _propose(
            session, review, clearance, ClearanceEvent.DECISION_OVERTURNED, officer_id, reason, key, settings.policy
        )
        return
    step_clearance(session, clearance, ClearanceEvent.DECISION_UPHELD, officer_id, key, reason, settings.policy)
    close_review(session, review, officer_id, Outcome.UPHOLD.value, key)
    notices.tell(session, Letter.APPEAL_UPHELD, clearance)


def took_part_in_appealed_decision(session: Session, review: VettingReview, officer_id: int) -> bool:
    """Whether ``officer_id`` entered or confirmed the decision ``review`` (an appeal) is against."""
    if review.kind is not ReviewKind.APPEAL or review.clearance_id is None:
        return False
    clearance = session.get(Clearance, review.clearance_id)
    decision = appealed_decision(session, clearance) if clearance else None
    return decision is not None and str(officer_id) in {decision.actor_id, decision.proposed_by}


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


# ---- Acting on a clearance, and the second officer ----------------------------------------------


def act_on_clearance(
    session: Session,
    review_id: int,
    clearance_id: int,
    action: ClearanceAction,
    officer_id: int,
    reason: str,
    key: bytes,
    settings: Settings = DEFAULT_SETTINGS,
) -> Clearance:
    """Suspend (pending review), reinstate, or propose withdrawing a clearance, from an open review."""
    review = _locked_review(session, review_id)
    clearance = session.get(Clearance, clearance_id)
    if clearance is None or clearance.volunteer_id != review.volunteer_id:
        raise DecisionError("No such clearance for this volunteer")
    if not reason.strip():
        raise DecisionError("Enter the reason", field="reason")
    if review.pending is not None:
        raise DecisionError("A decision is already waiting for a second officer on this review")
    if action is ClearanceAction.WITHDRAW:
        _propose(session, review, clearance, ClearanceEvent.WITHDRAW, officer_id, reason.strip(), key, settings.policy)
    elif action is ClearanceAction.SUSPEND:
        step_clearance(session, clearance, ClearanceEvent.SUSPEND, officer_id, key, reason.strip())
        notices.tell(session, Letter.SUSPENDED, clearance)
    else:
        step_clearance(session, clearance, ClearanceEvent.REINSTATE, officer_id, key, reason.strip())
        notices.tell(session, Letter.REINSTATED, clearance)
    _commit(session, settings)
    return clearance


_PROPOSALS = {
    ClearanceEvent.REFUSE.value: "refusal",
    ClearanceEvent.WITHDRAW.value: "withdrawal",
    ClearanceEvent.DECISION_OVERTURNED.value: "overturn",
}


def proposal_noun(event: str) -> str:
    """What a decision waiting for a second officer is called: "refusal", "withdrawal" or "overturn"."""
    return _PROPOSALS.get(event, "decision")


def confirm_pending(
    session: Session, review_id: int, officer_id: int, key: bytes, settings: Settings = DEFAULT_SETTINGS
) -> VettingReview:
    """A second vetting officer confirms a proposed refusal, withdrawal or overturn; only then does it
    take effect. An overturn's confirming officer must also have taken no part in the decision appealed."""
    review = _locked_review(session, review_id)
    pending = review.pending
    if pending is None:
        raise DecisionError("There is no decision waiting for confirmation")
    noun = proposal_noun(pending.event)
    clearance = pending.clearance
    if pending.event == ClearanceEvent.DECISION_OVERTURNED.value and officer_id != pending.proposed_by_id:
        _appeal_clearance(session, review, officer_id)
    proposal = lifecycle.PendingDecision(
        from_state=clearance.state,
        event=pending.event,
        proposed_by=str(pending.proposed_by_id),
        proposed_at=pending.proposed_at,
        reason=pending.reason,
    )
    try:
        record = lifecycle.confirm(
            proposal,
            clearance.state,
            actor_id=str(officer_id),
            at=utcnow(),
            previous=previous_record(session, clearance),
            policy=settings.policy,
        )
    except lifecycle.SecondOfficerRequired:
        raise DecisionError(f"You entered this {noun}, so a different vetting officer must confirm it") from None
    except lifecycle.TransitionError as exc:
        raise DecisionError(str(exc)) from None
    _store(session, clearance, record, officer_id, key, proposed_by=pending.proposed_by_id)
    session.delete(pending)
    appeal_until = lifecycle.appeal_deadline(record, settings.policy)
    if record.event is ClearanceEvent.REFUSE:
        close_review(session, review, officer_id, "refused", key)
        if review.kind is ReviewKind.RENEWAL:
            current = session.get(Clearance, clearance.renews_id) if clearance.renews_id else None
            notices.tell(
                session,
                Letter.RENEWAL_REFUSED,
                clearance,
                appeal_until=appeal_until,
                expires_on=current.expires_on if current else None,
            )
        else:
            _set_status(review.volunteer, VolunteerStatus.NOT_ACCEPTED, when=frozenset({VolunteerStatus.APPLIED}))
            notices.tell(session, Letter.REFUSED, clearance, appeal_until=appeal_until)
    elif record.event is ClearanceEvent.WITHDRAW:
        # A withdrawal ends a triggered or integrity review. A renewal (or an appeal) is about one clearance:
        # withdrawing another from its page leaves it open, or the clearance due would lapse undecided.
        if review.kind in (ReviewKind.TRIGGERED, ReviewKind.INTEGRITY) or review.clearance_id == clearance.id:
            close_review(session, review, officer_id, "withdrawn", key)
        notices.tell(session, Letter.WITHDRAWN, clearance, appeal_until=appeal_until)
    else:
        _overturned(session, review, clearance, officer_id, key, settings)
    _commit(session, settings)
    return review


def _overturned(
    session: Session, review: VettingReview, clearance: Clearance, officer_id: int, key: bytes, settings: Settings
) -> None:
    """The appeal succeeded: a refused clearance starts today, for the type's standard period; a
    withdrawn one keeps its dates. A refused renewal, now granted, ends the term it renews."""
    if clearance.valid_from is None:
        clearance.valid_from = london_today()
        clearance.expires_on = default_expiry(clearance.type_code, clearance.valid_from, settings.policy)
    current = session.get(Clearance, clearance.renews_id) if clearance.renews_id else None
    if current is not None:
        _supersede(session, current, officer_id, key, "Refusal to renew overturned on appeal")
    close_review(session, review, officer_id, "overturned", key)
    _set_status(review.volunteer, VolunteerStatus.ACTIVE, when=frozenset({VolunteerStatus.NOT_ACCEPTED}))
    notices.tell(session, Letter.APPEAL_OVERTURNED, clearance)


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
