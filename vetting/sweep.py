"""The daily vetting sweep: carry out vetting/renewals.py's and vetting/aftercare.py's plans.

Run it from cron (`flask vetting sweep`). Running it twice on the same day does nothing the second
time: every action changes the fact that triggered it, and reminders are recorded under a unique
(clearance, threshold) constraint before the message is handed to SMTP. It lapses what expired (and
tells the holders), opens renewal reviews (ahead of expiry, and for a DBS certificate due a re-check:
vetting/dbs.py) and annual integrity reviews, sends reminders, and sends any outcome email SMTP refused
earlier (vetting/notices.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit.services import record as audit
from core.auth.models import User
from core.config import DEFAULT_SERVICE_NAME
from core.db import utcnow
from core.mail import MailError
from core.seams import Affected, seams
from core.timeutil import format_date, london_today
from vetting import lifecycle, notices
from vetting.aftercare import IntegritySnapshot, plan_integrity_reviews
from vetting.catalogue import CLEARANCE_TYPES_BY_CODE, ForcePolicy, Regime
from vetting.dbs import RecheckSnapshot, plan_rechecks
from vetting.lifecycle import ACTIVE_STATES, ClearanceEvent
from vetting.models import Clearance, ClearanceReminder, ClearanceTransition, ReviewKind, ReviewStatus, VettingReview
from vetting.outcome_letters import Letter
from vetting.renewals import LAPSABLE_STATES, SWEEP_ACTOR_ID, ClearanceSnapshot, Reminder, plan_sweep
from volunteers.models import Volunteer, VolunteerStatus

SendMail = Callable[[str, str, str], object]  # (to, subject, body)


@dataclass
class SweepReport:
    lapsed: int = 0
    marked_renewal_due: int = 0
    reviews_opened: int = 0
    reminders_sent: int = 0
    reminder_failures: list[str] = field(default_factory=list)
    integrity_reviews_opened: int = 0
    dbs_rechecks_opened: int = 0
    notices_sent: int = 0
    notice_failures: int = 0

    def __str__(self) -> str:
        text = (
            f"Vetting sweep: {self.lapsed} lapsed, {self.marked_renewal_due} marked renewal due, "
            f"{self.reviews_opened} renewal reviews opened, {self.reminders_sent} reminders sent, "
            f"{_count(self.integrity_reviews_opened, 'integrity review')} opened, "
            f"{_count(self.dbs_rechecks_opened, 'DBS re-check review')} opened, "
            f"{_count(self.notices_sent, 'outcome email')} sent"
        )
        if self.reminder_failures:
            text += f", {len(self.reminder_failures)} reminders not sent (will retry tomorrow)"
        if self.notice_failures:
            text += f", {_count(self.notice_failures, 'outcome email')} not sent (will retry tomorrow)"
        return text + "."

    @property
    def failed(self) -> bool:
        return bool(self.reminder_failures or self.notice_failures)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


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


def _integrity_snapshots(session: Session) -> list[IntegritySnapshot]:
    """Everyone volunteering (active or paused) who holds a clearance in force, with their last reviews."""
    newest = dict(
        session.execute(
            select(Clearance.volunteer_id, func.max(Clearance.valid_from))
            .join(Volunteer, Volunteer.id == Clearance.volunteer_id)
            .where(
                Clearance.state.in_(ACTIVE_STATES),
                Clearance.valid_from.is_not(None),
                Volunteer.status.in_([VolunteerStatus.ACTIVE, VolunteerStatus.PAUSED]),
            )
            .group_by(Clearance.volunteer_id)
        ).all()
    )
    last: dict[int, dt.date] = {}
    still_open: set[int] = set()
    for volunteer_id, opened_at, status in session.execute(
        select(VettingReview.volunteer_id, VettingReview.opened_at, VettingReview.status).where(
            VettingReview.kind == ReviewKind.INTEGRITY
        )
    ):
        day = london_today(opened_at)
        last[volunteer_id] = max(day, last.get(volunteer_id, day))
        if status is ReviewStatus.OPEN:
            still_open.add(volunteer_id)
    return [
        IntegritySnapshot(person_id=v, newest_grant_on=granted, last_review_on=last.get(v), review_open=v in still_open)
        for v, granted in newest.items()
    ]


def _recheck_snapshots(session: Session) -> list[RecheckSnapshot]:
    """Every DBS clearance in force whose certificate is recorded, and whether a renewal review has been opened
    for it since its last status check (read after this sweep's own lapses and reviews are flushed)."""
    dbs_codes = [code for code, t in CLEARANCE_TYPES_BY_CODE.items() if t.regime is Regime.DBS]
    rows = session.execute(
        select(Clearance.id, Clearance.dbs_issued_on, Clearance.dbs_status_checked_on).where(
            Clearance.state.in_(ACTIVE_STATES),
            Clearance.type_code.in_(dbs_codes),
            Clearance.dbs_issued_on.is_not(None),
        )
    ).all()
    if not rows:
        return []
    reviewed: dict[int, dt.date] = {}  # clearance → the London day its latest renewal review was opened
    in_dbs = select(Clearance.id).where(Clearance.type_code.in_(dbs_codes), Clearance.state.in_(ACTIVE_STATES))
    for clearance_id, opened_at in session.execute(
        select(VettingReview.clearance_id, VettingReview.opened_at).where(
            VettingReview.kind == ReviewKind.RENEWAL, VettingReview.clearance_id.in_(in_dbs)
        )
    ):
        day = london_today(opened_at)
        reviewed[clearance_id] = max(day, reviewed.get(clearance_id, day))
    return [
        RecheckSnapshot(
            clearance_id=r.id,
            issued_on=r.dbs_issued_on,
            status_checked_on=r.dbs_status_checked_on,
            reviewed_since_check=r.id in reviewed
            and (r.dbs_status_checked_on is None or reviewed[r.id] >= r.dbs_status_checked_on),
        )
        for r in rows
    ]


def run_sweep(
    session: Session,
    today: dt.date,
    policy: ForcePolicy,
    send_mail: SendMail,
    key: bytes,
    base_url: str = "",
    *,
    service: str = DEFAULT_SERVICE_NAME,
) -> SweepReport:
    """Lapse what has expired (telling the holders), mark and review what is due, open the annual integrity
    reviews, send the reminders that are due and the outcome emails SMTP refused before."""
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
        notices.tell(session, Letter.LAPSED, clearances[clearance_id])
        report.lapsed += 1
    if plan.lapse:
        # What a lapsed clearance covered is withdrawn with the lapse, in this transaction; the volunteers and
        # sergeants are told once it commits (the after_vetting_sweep hooks remain the safety net).
        lapsed = frozenset(clearances[clearance_id].volunteer_id for clearance_id in plan.lapse)
        for hook in seams().eligibility_changed:
            hook(session, Affected(volunteer_ids=lapsed), utcnow())
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
    for due in plan_integrity_reviews(_integrity_snapshots(session), today, policy):
        session.add(VettingReview(volunteer_id=due.person_id, kind=ReviewKind.INTEGRITY, due_on=due.due_on))
        report.integrity_reviews_opened += 1
    # A DBS certificate due a re-check (older than the force's interval, no recent Update Service status check)
    # is reviewed as a renewal, even where the clearance's own end date is further off (the force shortened
    # its interval since the grant, or a status check extended it).
    for clearance_id, due_on in plan_rechecks(_recheck_snapshots(session), today, policy):
        volunteer_id = session.scalar(select(Clearance.volunteer_id).where(Clearance.id == clearance_id))
        session.add(
            VettingReview(volunteer_id=volunteer_id, kind=ReviewKind.RENEWAL, clearance_id=clearance_id, due_on=due_on)
        )
        report.dbs_rechecks_opened += 1
    # State changes are saved before any mail is sent: a mail failure never undoes a lapse.
    session.commit()

    for reminder in plan.reminders:
        if _send_reminder(session, reminder, send_mail, service):
            report.reminders_sent += 1
        else:
            report.reminder_failures.append(f"clearance {reminder.clearance_id}")
    # Today's lapse emails, and any outcome email SMTP refused since the last sweep.
    report.notices_sent, report.notice_failures = notices.deliver_unsent(
        session, notices.Postbox(send_mail, base_url, service)
    )
    return report


def _send_reminder(session: Session, reminder: Reminder, send_mail: SendMail, service: str) -> bool:
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
            _reminder_body(name, clearance_name, reminder, service),
        )
    except MailError:
        session.rollback()
        return False
    session.commit()
    return True


def _reminder_body(name: str, clearance_name: str, reminder: Reminder, service: str) -> str:
    return (
        f"Dear {name},\n\n"
        f"Your {clearance_name} clearance is valid until {format_date(reminder.expires_on)} "
        f"({reminder.days_left} day{'s' if reminder.days_left != 1 else ''} from today).\n\n"
        "The vetting team will contact you about renewing it. If anything about you has changed since your "
        "last vetting — a new job, address, partner or anything else — please report it now from your profile "
        "under 'Report a change of circumstances'.\n\n"
        "Once a clearance expires you will not be offered tasks that need it until it is renewed.\n\n"
        f"{service}\n"
    )


def mail_sender(config: Mapping) -> SendMail:
    from core.mail import send_mail

    return lambda to, subject, body: send_mail(config, to, subject, body)
