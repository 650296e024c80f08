"""Recording a DBS Update Service status check on a certificate already recorded. One commit, audited.

A check that finds no new information is a re-check (vetting/dbs.py): the clearance then counts until the day
before the next one is due, never less than it did. A check that finds new information means a new DBS check
is needed: a renewal review for the clearance goes into the queue, due today, and the clearance is left as it
is (an officer may suspend it from that review). Vetting officers only; nothing here reaches the volunteer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.field_errors import FieldError
from core.timeutil import format_date
from vetting import dbs as dbs_rules
from vetting.catalogue import DEFAULT_POLICY, ForcePolicy
from vetting.lifecycle import ACTIVE_STATES
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview


class StatusCheckError(FieldError):
    """A status check was refused; ``field`` names the form field it concerns, if any."""


@dataclass(frozen=True)
class StatusCheckResult:
    clearance: Clearance
    extended_from: dt.date | None  # the end date before a check that moved it later
    review: VettingReview | None  # the renewal review opened (or already open) for new information


def status_check_clearance(session: Session, clearance_id: int) -> Clearance:
    """A DBS clearance whose status can be checked, or StatusCheckError (no field: the page says it)."""
    clearance = session.get(Clearance, clearance_id)
    if clearance is None or not dbs_rules.is_dbs(clearance.type_code):
        raise StatusCheckError("No such DBS clearance")
    return clearance


def open_renewal_review(session: Session, clearance_id: int) -> VettingReview | None:
    return session.scalar(
        select(VettingReview).where(
            VettingReview.clearance_id == clearance_id,
            VettingReview.kind == ReviewKind.RENEWAL,
            VettingReview.status == ReviewStatus.OPEN,
        )
    )


def record_status_check(
    session: Session,
    clearance_id: int,
    officer_id: int,
    subscription_id: str | None,
    checked_on: dt.date | None,
    current: bool,
    key: bytes,
    today: dt.date,
    policy: ForcePolicy = DEFAULT_POLICY,
) -> StatusCheckResult:
    """Record an Update Service status check on a DBS clearance in force whose certificate is recorded."""
    clearance = session.scalar(select(Clearance).where(Clearance.id == clearance_id).with_for_update())
    if clearance is None or not dbs_rules.is_dbs(clearance.type_code):
        raise StatusCheckError("No such DBS clearance")
    if clearance.state not in ACTIVE_STATES:
        raise StatusCheckError("Only a DBS clearance in force can have its status checked")
    if clearance.dbs_issued_on is None or clearance.dbs_certificate_number is None:
        raise StatusCheckError(
            "This clearance has no certificate recorded: record the certificate when it is next renewed"
        )
    try:
        subscription, day = dbs_rules.check_status_check(
            subscription_id, checked_on, clearance.dbs_issued_on, clearance.dbs_status_checked_on, today
        )
    except dbs_rules.DbsError as exc:
        raise StatusCheckError(str(exc), field=exc.field) from None
    due_review = open_renewal_review(session, clearance.id)
    if current and due_review is not None:
        raise StatusCheckError(
            "This clearance's renewal review is open: record the status check there, by renewing the clearance "
            "with the check's date"
        )
    clearance.dbs_update_service_id = subscription
    extended_from = None
    if current:
        clearance.dbs_status_checked_on = day
        latest = dbs_rules.latest_expiry(
            dbs_rules.DbsDetails(clearance.dbs_certificate_number, clearance.dbs_issued_on, subscription, day), policy
        )
        # A check never shortens a term (an officer who set a shorter one may still act on the clearance).
        if clearance.expires_on is None or latest > clearance.expires_on:
            extended_from, clearance.expires_on = clearance.expires_on, latest
    else:
        note = f"Update Service status check on {format_date(day)} found new information: a new DBS check is needed."
        if due_review is None:
            due_review = VettingReview(
                volunteer_id=clearance.volunteer_id,
                kind=ReviewKind.RENEWAL,
                clearance_id=clearance.id,
                due_on=today,
                notes=note,
            )
            session.add(due_review)
            session.flush()
        else:
            due_review.notes = (due_review.notes + "\n" if due_review.notes else "") + note
    audit(
        session,
        actor_id=officer_id,
        action="dbs.status_checked",
        subject_type="clearance",
        subject_id=clearance.id,
        detail={
            "volunteer": clearance.volunteer_id,
            "checked_on": day.isoformat(),
            "result": "current" if current else "new_information",
            "expires_from": extended_from.isoformat() if extended_from else None,
            "expires_to": clearance.expires_on.isoformat() if extended_from else None,
            "review": due_review.id if due_review is not None and not current else None,
        },
        key=key,
    )
    session.commit()
    return StatusCheckResult(clearance, extended_from, None if current else due_review)
