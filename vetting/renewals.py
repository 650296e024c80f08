"""The daily vetting sweep's decisions, as a pure function of today's date and the clearances.

``plan_sweep`` says what should happen today; the service carries the plan out (lapse through
``lifecycle.apply``, open reviews, send reminders, record what was sent) in one transaction.
``apply_plan`` is the reference for those effects on the snapshots: the tests use it to prove the
sweep is idempotent, and the service must persist the same facts.

Idempotent by construction: every planned action changes the fact that triggered it (the state, the
review flag or the reminders recorded as sent), so a second sweep on the same day plans nothing,
and a sweep that crashes half-way can simply be run again.

Reminders. Each threshold in ``ForcePolicy.reminder_days`` (90, 30, 7) is "crossed" once the days
left until expiry are at or below it. A sweep sends at most one reminder per clearance: the one for
the most urgent threshold crossed (the smallest), and records every crossed threshold as covered.
So a sweep that missed days (an outage, a clearance imported late) sends one timely reminder
instead of three stale ones at once, and never goes back to a less urgent one.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vetting.catalogue import DEFAULT_POLICY, ForcePolicy
from vetting.lifecycle import ACTIVE_STATES, ClearanceState

__all__ = [
    "LAPSABLE_STATES",
    "SWEEP_ACTOR_ID",
    "ClearanceSnapshot",
    "Reminder",
    "SweepPlan",
    "add_months",
    "apply_plan",
    "expiry_date",
    "local_today",
    "plan_sweep",
    "renewal_date",
]

#: The actor recorded in the audit trail for transitions the sweep makes.
SWEEP_ACTOR_ID = "system:vetting-sweep"

#: States from which an expired clearance lapses. Suspended ones too: expiry does not wait for the
#: review, and a lapsed clearance cannot be reinstated by mistake later.
LAPSABLE_STATES: frozenset[ClearanceState] = ACTIVE_STATES | {ClearanceState.SUSPENDED}

# Only these are moved to renewal_due; renewal_due itself is already there.
_GRANTED_STATES = frozenset({ClearanceState.GRANTED, ClearanceState.GRANTED_WITH_RESTRICTIONS})


@dataclass(frozen=True)
class ClearanceSnapshot:
    """What the sweep needs to know about one clearance.

    ``expires_on`` is the last valid day (inclusive). ``reminders_sent`` holds the thresholds
    (day counts) already sent or covered for this term. ``renewal_review_opened`` is True once a
    renewal review has been opened for this term, whether it is still open or has since closed:
    one review per term, so a review closed without a renewal is not reopened every morning.
    """

    clearance_id: int
    person_id: int
    type_code: str
    state: ClearanceState
    expires_on: date
    reminders_sent: frozenset[int] = frozenset()
    renewal_review_opened: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ClearanceState(self.state))
        object.__setattr__(self, "reminders_sent", frozenset(self.reminders_sent))


@dataclass(frozen=True)
class Reminder:
    """One reminder to send. ``threshold_days`` names it; ``covers`` is what to record as sent."""

    clearance_id: int
    person_id: int
    type_code: str
    expires_on: date
    days_left: int
    threshold_days: int
    covers: frozenset[int]


@dataclass(frozen=True)
class SweepPlan:
    """Today's actions, each tuple ordered most urgent first (earliest expiry, then id)."""

    today: date
    lapse: tuple[int, ...] = ()
    mark_renewal_due: tuple[int, ...] = ()
    open_reviews: tuple[int, ...] = ()
    reminders: tuple[Reminder, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.lapse or self.mark_renewal_due or self.open_reviews or self.reminders)


def local_today(now: datetime, policy: ForcePolicy = DEFAULT_POLICY) -> date:
    """The force's local date at ``now`` (aware): the sweep's idea of "today"."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(ZoneInfo(policy.timezone)).date()


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the end of a shorter month.

    31 January + 1 month is 28 (or 29) February; 29 February + 12 months is 28 February. Clamping
    rather than rolling into the next month keeps a clearance's term never longer than its validity.
    """
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def renewal_date(granted_on: date, validity_months: int) -> date:
    """The date a clearance granted on ``granted_on`` falls due: ``validity_months`` later.

    This is the first day it is no longer valid; ``expiry_date`` gives the last day it is.
    """
    if validity_months <= 0:
        raise ValueError("validity must be a positive number of months")
    return add_months(granted_on, validity_months)


def expiry_date(granted_on: date, validity_months: int) -> date:
    """The last day (inclusive) a clearance granted on ``granted_on`` is valid: ``expires_on``."""
    return renewal_date(granted_on, validity_months) - timedelta(days=1)


def plan_sweep(snapshots: Iterable[ClearanceSnapshot], today: date, policy: ForcePolicy = DEFAULT_POLICY) -> SweepPlan:
    """Decide today's lapses, renewal-due marks, renewal reviews and reminders. Pure and idempotent.

    * lapse: an active or suspended clearance whose ``expires_on`` is before today;
    * mark renewal due: a granted clearance expiring within ``renewal_review_lead_days``;
    * open review: an active clearance expiring within the lead with no review opened this term;
    * reminders: see the module docstring (at most one per clearance per sweep).
    """
    snapshots = sorted(snapshots, key=lambda s: (s.expires_on, s.clearance_id))
    ids = [s.clearance_id for s in snapshots]
    if len(set(ids)) != len(ids):
        raise ValueError("each clearance must appear once in a sweep")

    lapse: list[int] = []
    renewal_due: list[int] = []
    reviews: list[int] = []
    reminders: list[Reminder] = []
    for snap in snapshots:
        days_left = (snap.expires_on - today).days
        if days_left < 0:
            if snap.state in LAPSABLE_STATES:
                lapse.append(snap.clearance_id)
            continue  # nothing else is due for an expired clearance
        if snap.state not in ACTIVE_STATES:
            continue
        if days_left <= policy.renewal_review_lead_days:
            if snap.state in _GRANTED_STATES:
                renewal_due.append(snap.clearance_id)
            if not snap.renewal_review_opened:
                reviews.append(snap.clearance_id)
        reminder = _reminder(snap, days_left, policy)
        if reminder:
            reminders.append(reminder)
    return SweepPlan(
        today=today,
        lapse=tuple(lapse),
        mark_renewal_due=tuple(renewal_due),
        open_reviews=tuple(reviews),
        reminders=tuple(reminders),
    )


def apply_plan(plan: SweepPlan, snapshots: Iterable[ClearanceSnapshot]) -> tuple[ClearanceSnapshot, ...]:
    """The snapshots as they are after the service has carried out ``plan``.

    This is the contract for the service: lapsed → state ``lapsed``; marked → ``renewal_due``;
    review opened → ``renewal_review_opened``; reminder sent → its ``covers`` added to
    ``reminders_sent``.
    """
    lapse, due, reviews = set(plan.lapse), set(plan.mark_renewal_due), set(plan.open_reviews)
    covers = {reminder.clearance_id: reminder.covers for reminder in plan.reminders}
    result = []
    for snap in snapshots:
        cid = snap.clearance_id
        if cid in lapse:
            snap = replace(snap, state=ClearanceState.LAPSED)
        if cid in due:
            snap = replace(snap, state=ClearanceState.RENEWAL_DUE)
        if cid in reviews:
            snap = replace(snap, renewal_review_opened=True)
        if cid in covers:
            snap = replace(snap, reminders_sent=snap.reminders_sent | covers[cid])
        result.append(snap)
    return tuple(result)


def _reminder(snap: ClearanceSnapshot, days_left: int, policy: ForcePolicy) -> Reminder | None:
    crossed = frozenset(t for t in policy.reminder_days if days_left <= t)
    if not crossed:
        return None
    most_urgent = min(crossed)
    # If the most urgent crossed reminder has gone, anything less urgent is stale: send nothing.
    if most_urgent in snap.reminders_sent:
        return None
    return Reminder(
        clearance_id=snap.clearance_id,
        person_id=snap.person_id,
        type_code=snap.type_code,
        expires_on=snap.expires_on,
        days_left=days_left,
        threshold_days=most_urgent,
        covers=crossed,
    )
