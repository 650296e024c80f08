"""The daily vetting sweep: carry out vetting/renewals.py's plan against the database.

Run it from cron (`flask vetting sweep`). Running it twice on the same day does nothing the second
time: every action changes the fact that triggered it, and reminders are recorded under a unique
(clearance, threshold) constraint before the message is handed to SMTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.auth.models import User
from core.db import utcnow
from core.mail import MailError
from core.timeutil import format_date
from vetting import lifecycle
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, ForcePolicy
from vetting.lifecycle import ClearanceEvent
from vetting.models import Clearance, ClearanceReminder, ClearanceTransition, ReviewKind, VettingReview
from vetting.renewals import LAPSABLE_STATES, SWEEP_ACTOR_ID, ClearanceSnapshot, Reminder, plan_sweep
from volunteers.models import Volunteer

SendMail = Callable[[str, str, str], object]  # (to, subject, body)


@dataclass
class SweepReport:
    lapsed: int = 0
    marked_renewal_due: int = 0
    reviews_opened: int = 0
    reminders_sent: int = 0
    reminder_failures: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"Vetting sweep: {self.lapsed} lapsed, {self.marked_renewal_due} marked renewal due, "
            f"{self.reviews_opened} renewal reviews opened, {self.reminders_sent} reminders sent"
        )
        if self.reminder_failures:
            text += f", {len(self.reminder_failures)} reminders not sent (will retry tomorrow)"
        return text + "."


def _snapshots(session: Session) -> list[ClearanceSnapshot]:
    rows = session.execute(
        select(Clearance.id, Clearance.volunteer_id, Clearance.type_code, Clearance.state, Clearance.expires_on).where(
            Clearance.state.in_(LAPSABLE_STATES), Clearance.expires_on.is_not(None)
        )
    ).all()
    sent: dict[int, set[int]] = {}
    for clearance_id, threshold in session.execute(
        select(ClearanceReminder.clearance_id, ClearanceReminder.threshold_days)
    ):
        sent.setdefault(clearance_id, set()).add(threshold)
    reviewed = set(
        session.scalars(
            select(VettingReview.clearance_id).where(
                VettingReview.kind == ReviewKind.RENEWAL, VettingReview.clearance_id.is_not(None)
            )
        )
    )
    return [
        ClearanceSnapshot(
            clearance_id=r.id,
            person_id=r.volunteer_id,
            type_code=r.type_code,
            state=r.state,
            expires_on=r.expires_on,
            reminders_sent=frozenset(sent.get(r.id, ())),
            renewal_review_opened=r.id in reviewed,
        )
        for r in rows
    ]


def _transition(session: Session, clearance: Clearance, event: ClearanceEvent, key: bytes) -> None:
    record = lifecycle.apply(
        clearance.state,
        event,
        actor_id=SWEEP_ACTOR_ID,
        at=utcnow(),
        reason="Reached its expiry date" if event is ClearanceEvent.LAPSE else "Due for renewal",
    )
    session.add(
        ClearanceTransition(
            clearance_id=clearance.id,
            from_state=record.from_state,
            to_state=record.to_state,
            event=record.event.value,
            actor_id=None,
            at=record.at,
            reason=record.reason,
        )
    )
    clearance.state = record.to_state
    audit(
        session,
        actor_id=None,
        action=f"clearance.{event.value}",
        subject_type="clearance",
        subject_id=clearance.id,
        detail={"by": SWEEP_ACTOR_ID, "to": record.to_state.value, "volunteer": clearance.volunteer_id},
        key=key,
    )


def run_sweep(session: Session, today: dt.date, policy: ForcePolicy, send_mail: SendMail, key: bytes) -> SweepReport:
    """Lapse what has expired, mark and review what is due, send the reminders that are due."""
    plan = plan_sweep(_snapshots(session), today, policy)
    report = SweepReport()
    clearances = {
        c.id: c
        for c in session.scalars(
            select(Clearance).where(
                Clearance.id.in_(set(plan.lapse) | set(plan.mark_renewal_due) | set(plan.open_reviews))
            )
        )
    }
    for clearance_id in plan.lapse:
        _transition(session, clearances[clearance_id], ClearanceEvent.LAPSE, key)
        report.lapsed += 1
    for clearance_id in plan.mark_renewal_due:
        _transition(session, clearances[clearance_id], ClearanceEvent.MARK_RENEWAL_DUE, key)
        report.marked_renewal_due += 1
    for clearance_id in plan.open_reviews:
        clearance = clearances[clearance_id]
        session.add(
            VettingReview(
                volunteer_id=clearance.volunteer_id,
                kind=ReviewKind.RENEWAL,
                clearance_id=clearance.id,
                due_on=clearance.expires_on,
            )
        )
        report.reviews_opened += 1
    # State changes are saved before any mail is sent: a mail failure never undoes a lapse.
    session.commit()

    for reminder in plan.reminders:
        if _send_reminder(session, reminder, send_mail):
            report.reminders_sent += 1
        else:
            report.reminder_failures.append(f"clearance {reminder.clearance_id}")
    return report


def _send_reminder(session: Session, reminder: Reminder, send_mail: SendMail) -> bool:
    """Record the reminder, hand it to SMTP, then commit: sent at most once, retried if SMTP fails."""
    email, name = session.execute(
        select(User.email, User.full_name)
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(Volunteer.id == reminder.person_id)
    ).one()
    recorded = set(
        session.scalars(
            select(ClearanceReminder.threshold_days).where(ClearanceReminder.clearance_id == reminder.clearance_id)
        )
    )
    session.add_all(
        ClearanceReminder(clearance_id=reminder.clearance_id, threshold_days=days)
        for days in reminder.covers - recorded
    )
    try:
        session.flush()  # the unique (clearance, threshold) check: another sweep got here first
    except IntegrityError:
        session.rollback()
        return False
    known = CLEARANCE_TYPES_BY_CODE.get(reminder.type_code)
    clearance_name = known.name if known else reminder.type_code
    try:
        send_mail(
            email,
            f"Your {clearance_name} clearance expires on {format_date(reminder.expires_on)}",
            _reminder_body(name, clearance_name, reminder),
        )
    except MailError:
        session.rollback()
        return False
    session.commit()
    return True


def _reminder_body(name: str, clearance_name: str, reminder: Reminder) -> str:
    return (
        f"Dear {name},\n\n"
        f"Your {clearance_name} clearance is valid until {format_date(reminder.expires_on)} "
        f"({reminder.days_left} day{'s' if reminder.days_left != 1 else ''} from today).\n\n"
        "The vetting team will contact you about renewing it. If anything about you has changed since your "
        "last vetting — a new job, address, partner or anything else — please report it now from your profile "
        "under 'Report a change of circumstances'.\n\n"
        "Once a clearance expires you will not be offered tasks that need it until it is renewed.\n\n"
        "SNT volunteer matching\n"
    )


def mail_sender(config: Mapping) -> SendMail:
    from core.mail import send_mail

    return lambda to, subject, body: send_mail(config, to, subject, body)
