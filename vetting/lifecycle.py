"""A clearance's life as a pure state machine.

Every change of state goes through ``apply`` (or ``propose`` + ``confirm`` for the two decisions
that need a second vetting officer) and comes back as a ``TransitionRecord`` for the append-only
audit trail. Nothing here reads a clock or a database: the caller passes the time, the actor and,
where the answer depends on history, the record that brought the clearance into its current state.

Design choices a successor would otherwise re-open:

* **Appeal outcomes are events, not states.** ``decision_upheld`` returns the clearance to the state
  that was appealed (refused or withdrawn) and ``decision_overturned`` moves it to granted. Keeping
  them as events means "refused" always means refused, whether or not it was appealed, and the
  appeal itself lives in the audit trail. The names say *decision* upheld because "appeal upheld"
  means the opposite (the appellant won) in ordinary English legal usage.
* **An upheld decision is final** because the appeal check looks at the record that produced the
  current state: a refusal made by ``decision_upheld`` is not appealable again.
* **Renewal is a new clearance.** ``renew`` ends the old record as ``renewed`` when the new,
  separately vetted record is granted; the link between the two belongs to the ORM.
* **Suspension does not count for deployment.** ``ACTIVE_STATES`` excludes ``suspended``: adverse
  information is pending review, and nobody is deployed on a clearance under review.
* **Two officers for refusal, adverse withdrawal and an overturned appeal.** ``apply`` refuses those
  events outright; ``propose`` records the first officer's decision and ``confirm`` by a different
  officer applies it. Ending a clearance because it is no longer needed (the volunteer left) is
  administrative: one officer, its own final state ``no_longer_needed``, and no appeal (there is
  nothing adverse to appeal against).
* **An appeal is withdrawn, not decided, when the appellant leaves.** ``appeal_withdrawn`` returns
  the clearance to the decision appealed against, which then stands and cannot be appealed again.

The reviews that drive the machine have their rules here too: which outcomes each kind of review
allows (``OUTCOMES_BY_KIND``), until when a decision may be appealed (``appeal_open_until``), who may
decide an appeal (``check_appeal_decider``) and the dates a grant may take (``grant_window``,
``check_grant_dates``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from core.timeutil import format_date
from vetting.catalogue import DEFAULT_POLICY, ForcePolicy

__all__ = [
    "ACTIVE_STATES",
    "APPEALABLE_EVENTS",
    "FINAL_STATES",
    "GRANTING_KINDS",
    "GRANT_DAYS_AHEAD",
    "OUTCOMES_BY_KIND",
    "REASON_REQUIRED",
    "REVIEW_KIND_LABELS",
    "TRANSITIONS",
    "TWO_OFFICER_EVENTS",
    "ClearanceEvent",
    "ClearanceState",
    "GrantDateError",
    "GrantWindow",
    "Outcome",
    "PendingDecision",
    "ReviewKind",
    "SecondOfficerRequired",
    "TransitionError",
    "TransitionRecord",
    "allowed_events",
    "appeal_deadline",
    "appeal_open_until",
    "apply",
    "check_appeal_decider",
    "check_grant_dates",
    "confirm",
    "grant_window",
    "propose",
    "propose_refusal",
    "propose_withdrawal",
]


class ClearanceState(enum.StrEnum):
    APPLIED = "applied"
    IN_PROGRESS = "in_progress"
    GRANTED = "granted"
    GRANTED_WITH_RESTRICTIONS = "granted_with_restrictions"
    REFUSED = "refused"
    DISCONTINUED = "discontinued"
    RENEWAL_DUE = "renewal_due"
    RENEWED = "renewed"
    LAPSED = "lapsed"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    APPEALED = "appealed"
    NO_LONGER_NEEDED = "no_longer_needed"  # ended because the person left: nothing adverse


class ClearanceEvent(enum.StrEnum):
    START = "start"
    GRANT = "grant"
    GRANT_WITH_RESTRICTIONS = "grant_with_restrictions"
    REFUSE = "refuse"
    DISCONTINUE = "discontinue"
    MARK_RENEWAL_DUE = "mark_renewal_due"
    RENEW = "renew"
    LAPSE = "lapse"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    WITHDRAW = "withdraw"
    WITHDRAW_NOT_NEEDED = "withdraw_not_needed"
    APPEAL = "appeal"
    DECISION_UPHELD = "decision_upheld"
    DECISION_OVERTURNED = "decision_overturned"
    APPEAL_WITHDRAWN = "appeal_withdrawn"  # the appellant left before the appeal was decided


S = ClearanceState
E = ClearanceEvent

#: States in which a clearance counts for deployment (subject to its dates and restrictions).
ACTIVE_STATES: frozenset[ClearanceState] = frozenset({S.GRANTED, S.GRANTED_WITH_RESTRICTIONS, S.RENEWAL_DUE})

#: States nothing leaves. Refused and withdrawn are not here: they may still be appealed.
FINAL_STATES: frozenset[ClearanceState] = frozenset({S.DISCONTINUED, S.RENEWED, S.LAPSED, S.NO_LONGER_NEEDED})

#: Decisions that take effect only when a second, different vetting officer confirms them. An
#: overturned appeal grants a clearance that two officers refused or withdrew, so it needs two as well.
TWO_OFFICER_EVENTS: frozenset[ClearanceEvent] = frozenset({E.REFUSE, E.WITHDRAW, E.DECISION_OVERTURNED})

#: Decisions the person may appeal (within the force's appeal window).
APPEALABLE_EVENTS: frozenset[ClearanceEvent] = frozenset({E.REFUSE, E.WITHDRAW})

#: Events that must carry a reason. Restrictions and reinstatement are included because a later
#: reviewer needs to know what was restricted, or why the adverse information was set aside.
REASON_REQUIRED: frozenset[ClearanceEvent] = frozenset(
    {
        E.REFUSE,
        E.WITHDRAW,
        E.WITHDRAW_NOT_NEEDED,
        E.DISCONTINUE,
        E.SUSPEND,
        E.REINSTATE,
        E.GRANT_WITH_RESTRICTIONS,
        E.DECISION_UPHELD,
        E.DECISION_OVERTURNED,
        E.APPEAL_WITHDRAWN,
    }
)


class ReviewKind(enum.StrEnum):
    NEW_APPLICATION = "new_application"
    RENEWAL = "renewal"
    TRIGGERED = "triggered"  # change of circumstances or adverse information
    APPEAL = "appeal"
    INTEGRITY = "integrity"  # the annual integrity review (aftercare), opened by the sweep


REVIEW_KIND_LABELS: Mapping[ReviewKind, str] = MappingProxyType(
    {
        ReviewKind.NEW_APPLICATION: "New application",
        ReviewKind.RENEWAL: "Renewal",
        ReviewKind.TRIGGERED: "Triggered review",
        ReviewKind.APPEAL: "Appeal",
        ReviewKind.INTEGRITY: "Annual integrity review",
    }
)


class Outcome(enum.StrEnum):
    """A vetting officer's decision on a review."""

    GRANT = "grant"
    GRANT_WITH_RESTRICTIONS = "grant_with_restrictions"
    REFUSE = "refuse"
    DISCONTINUE = "discontinue"
    NO_CHANGE = "no_change"  # a triggered or integrity review that finds nothing to act on
    LET_LAPSE = "let_lapse"  # renewals: not renewed, for a reason; the clearance runs to its end date
    UPHOLD = "uphold"  # appeals: the refusal or withdrawal stands (final)
    OVERTURN = "overturn"  # appeals: the clearance is granted (once a second officer confirms)


#: The decisions each kind of review allows. A triggered or integrity review only closes with no
#: change: acting on the clearance it is about (suspend, reinstate, withdraw) is a separate step, not
#: its outcome. A renewal is about the clearance that is due and nothing else: renewed (with or
#: without restrictions), refused, or let lapse with a reason; "no change" would leave it to lapse
#: with nobody having decided that.
OUTCOMES_BY_KIND: Mapping[ReviewKind, frozenset[Outcome]] = MappingProxyType(
    {
        ReviewKind.NEW_APPLICATION: frozenset(
            {Outcome.GRANT, Outcome.GRANT_WITH_RESTRICTIONS, Outcome.REFUSE, Outcome.DISCONTINUE}
        ),
        ReviewKind.RENEWAL: frozenset(
            {Outcome.GRANT, Outcome.GRANT_WITH_RESTRICTIONS, Outcome.REFUSE, Outcome.LET_LAPSE}
        ),
        ReviewKind.TRIGGERED: frozenset({Outcome.NO_CHANGE}),
        ReviewKind.INTEGRITY: frozenset({Outcome.NO_CHANGE}),
        ReviewKind.APPEAL: frozenset({Outcome.UPHOLD, Outcome.OVERTURN}),
    }
)

#: The reviews whose decision sets a clearance's dates and restrictions (the others show no such fields).
GRANTING_KINDS: frozenset[ReviewKind] = frozenset({ReviewKind.NEW_APPLICATION, ReviewKind.RENEWAL})


class _FromHistory(enum.Enum):
    """Targets that depend on the record that brought the clearance into its current state."""

    STATE_BEFORE_SUSPENSION = "state_before_suspension"
    STATE_BEFORE_APPEAL = "state_before_appeal"


Target = ClearanceState | _FromHistory


def _build_transitions() -> Mapping[tuple[ClearanceState, ClearanceEvent], Target]:
    table: dict[tuple[ClearanceState, ClearanceEvent], Target] = {
        (S.APPLIED, E.START): S.IN_PROGRESS,
        # The applicant may pull out before the vetting unit starts work, as well as during it.
        (S.APPLIED, E.DISCONTINUE): S.DISCONTINUED,
        (S.IN_PROGRESS, E.GRANT): S.GRANTED,
        (S.IN_PROGRESS, E.GRANT_WITH_RESTRICTIONS): S.GRANTED_WITH_RESTRICTIONS,
        (S.IN_PROGRESS, E.REFUSE): S.REFUSED,
        (S.IN_PROGRESS, E.DISCONTINUE): S.DISCONTINUED,
        (S.RENEWAL_DUE, E.RENEW): S.RENEWED,
        (S.SUSPENDED, E.REINSTATE): _FromHistory.STATE_BEFORE_SUSPENSION,
        (S.SUSPENDED, E.WITHDRAW): S.WITHDRAWN,
        # Expiry does not wait for a review to finish.
        (S.SUSPENDED, E.LAPSE): S.LAPSED,
        (S.REFUSED, E.APPEAL): S.APPEALED,
        (S.WITHDRAWN, E.APPEAL): S.APPEALED,
        (S.APPEALED, E.DECISION_UPHELD): _FromHistory.STATE_BEFORE_APPEAL,
        (S.APPEALED, E.DECISION_OVERTURNED): S.GRANTED,
        (S.APPEALED, E.APPEAL_WITHDRAWN): _FromHistory.STATE_BEFORE_APPEAL,
        (S.SUSPENDED, E.WITHDRAW_NOT_NEEDED): S.NO_LONGER_NEEDED,
    }
    for active in ACTIVE_STATES:
        table[(active, E.LAPSE)] = S.LAPSED
        table[(active, E.SUSPEND)] = S.SUSPENDED
        table[(active, E.WITHDRAW)] = S.WITHDRAWN
        table[(active, E.WITHDRAW_NOT_NEEDED)] = S.NO_LONGER_NEEDED
    for granted in (S.GRANTED, S.GRANTED_WITH_RESTRICTIONS):
        table[(granted, E.MARK_RENEWAL_DUE)] = S.RENEWAL_DUE
    return MappingProxyType(table)


#: Every allowed (state, event) pair. Guards (reasons, second officer, appeal window) come on top.
TRANSITIONS: Mapping[tuple[ClearanceState, ClearanceEvent], Target] = _build_transitions()


class TransitionError(Exception):
    """A transition that is not allowed, or not allowed with these facts. The message says why."""


class SecondOfficerRequired(TransitionError):
    """A refusal or withdrawal applied without, or confirmed by the same, vetting officer."""


@dataclass(frozen=True)
class TransitionRecord:
    """One audit-trail entry. ``at`` is aware UTC; ``proposed_by`` is set for two-officer decisions."""

    from_state: ClearanceState
    to_state: ClearanceState
    event: ClearanceEvent
    actor_id: str
    at: datetime
    reason: str | None
    proposed_by: str | None = None

    def __post_init__(self) -> None:
        # The ORM hands back plain strings; normalise so identity comparisons on enums hold.
        object.__setattr__(self, "from_state", ClearanceState(self.from_state))
        object.__setattr__(self, "to_state", ClearanceState(self.to_state))
        object.__setattr__(self, "event", ClearanceEvent(self.event))
        object.__setattr__(self, "at", _as_utc(self.at, "at"))


@dataclass(frozen=True)
class PendingDecision:
    """A refusal or withdrawal proposed by one officer, waiting for a second to confirm it."""

    from_state: ClearanceState
    event: ClearanceEvent
    proposed_by: str
    proposed_at: datetime
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "from_state", ClearanceState(self.from_state))
        object.__setattr__(self, "event", ClearanceEvent(self.event))
        object.__setattr__(self, "proposed_at", _as_utc(self.proposed_at, "proposed_at"))


def allowed_events(state: ClearanceState) -> frozenset[ClearanceEvent]:
    """Events the table allows from ``state`` (guards such as the appeal window still apply)."""
    state = ClearanceState(state)
    return frozenset(event for (from_state, event) in TRANSITIONS if from_state is state)


def appeal_deadline(decision: TransitionRecord, policy: ForcePolicy = DEFAULT_POLICY) -> date:
    """The last local date on which the decision in ``decision`` may be appealed."""
    return _local_date(decision.at, policy) + timedelta(days=policy.appeal_window_days)


def appeal_open_until(
    decision: TransitionRecord | None, today: date, policy: ForcePolicy = DEFAULT_POLICY
) -> date | None:
    """The last local date on which ``decision`` may still be appealed, or None if it cannot be.

    ``decision`` is the record that brought the clearance into its current state. Only refusals and
    adverse withdrawals (``APPEALABLE_EVENTS``) can be appealed, and only until the window closes.
    """
    if decision is None or decision.event not in APPEALABLE_EVENTS:
        return None
    deadline = appeal_deadline(decision, policy)
    return deadline if deadline >= today else None


def check_appeal_decider(decision: TransitionRecord, actor_id: str) -> None:
    """Raise ``SecondOfficerRequired`` unless ``actor_id`` took no part in ``decision``.

    ``decision`` is the refusal or withdrawal under appeal. Neither the officer who entered it
    (``proposed_by``) nor the one who confirmed it (``actor_id``) may decide the appeal or confirm
    its outcome: an appeal is a fresh look, not the same officers marking their own work.
    """
    if actor_id in {decision.actor_id, decision.proposed_by}:
        raise SecondOfficerRequired(
            "You took part in the decision under appeal: a different vetting officer must decide the appeal"
        )


# ---- The dates a grant may take ----------------------------------------------------------------

#: How far ahead a grant may be dated: a decision is about the person as they are now, and one dated
#: months ahead would clear them on facts that may have changed by then.
GRANT_DAYS_AHEAD = 30


class GrantDateError(ValueError):
    """A grant's dates break a rule. ``which`` is ``"valid_from"`` or ``"expires_on"``."""

    def __init__(self, message: str, which: str):
        super().__init__(message)
        self.which = which


@dataclass(frozen=True)
class GrantWindow:
    """The first and last days a grant may take effect, each with the words that say why."""

    earliest: date
    earliest_why: str
    latest: date
    latest_why: str


def grant_window(
    opened_on: date, today: date, *, late_recording_days: int, current_ends_on: date | None = None
) -> GrantWindow:
    """When a grant decided today on a review opened on ``opened_on`` may take effect.

    Never before the review was opened: the checks it rests on were not done. A decision recorded
    late (made on paper, entered after a few days) may be dated back ``late_recording_days``, but no
    further, so nothing is backdated into a term that has already run. At most ``GRANT_DAYS_AHEAD``
    days ahead; a renewal (``current_ends_on``: the last day of the term being renewed) may also start
    on the day after the current term ends, so renewing early loses nobody a day.
    """
    if late_recording_days < 0:
        raise ValueError("late_recording_days must not be negative")
    back = today - timedelta(days=late_recording_days)
    if opened_on >= back:
        earliest, earliest_why = opened_on, ", the day the review was opened"
    else:
        day_s = "day" if late_recording_days == 1 else "days"
        earliest, earliest_why = back, f": a decision may be recorded at most {late_recording_days} {day_s} late"
    latest, latest_why = today + timedelta(days=GRANT_DAYS_AHEAD), f", {GRANT_DAYS_AHEAD} days from today"
    if current_ends_on is not None and current_ends_on + timedelta(days=1) > latest:
        latest, latest_why = current_ends_on + timedelta(days=1), ", the day after the current clearance ends"
    return GrantWindow(earliest, earliest_why, latest, latest_why)


def check_grant_dates(
    valid_from: date,
    expires_on: date | None,
    window: GrantWindow,
    *,
    today: date,
    standard_expiry: date,
    type_name: str,
    validity_months: int,
) -> date:
    """The last valid day of a grant taking effect on ``valid_from``, or raise ``GrantDateError``.

    ``standard_expiry`` is the end of the clearance type's validity counted from ``valid_from``: the
    default, and the latest an officer may set. An earlier end (a shorter grant, e.g. until a
    conviction is spent) is allowed, but not one already past: that grant would clear nobody.
    """
    if valid_from < window.earliest:
        raise GrantDateError(
            f"The date it takes effect must be the same as or after {format_date(window.earliest)}"
            f"{window.earliest_why}",
            "valid_from",
        )
    if valid_from > window.latest:
        raise GrantDateError(
            f"The date it takes effect must be the same as or before {format_date(window.latest)}{window.latest_why}",
            "valid_from",
        )
    if expires_on is None:
        return standard_expiry
    if expires_on < valid_from:
        raise GrantDateError("The end date must be after the date it takes effect", "expires_on")
    if expires_on < today:
        raise GrantDateError("The end date must be today or in the future", "expires_on")
    if expires_on > standard_expiry:
        raise GrantDateError(
            f"The end date must be the same as or before {format_date(standard_expiry)}: "
            f"the standard period for {type_name} is {validity_months} months",
            "expires_on",
        )
    return expires_on


def apply(
    state: ClearanceState,
    event: ClearanceEvent,
    *,
    actor_id: str,
    at: datetime,
    reason: str | None = None,
    previous: TransitionRecord | None = None,
    policy: ForcePolicy = DEFAULT_POLICY,
) -> TransitionRecord:
    """Apply ``event`` to a clearance in ``state`` and return the audit record, or raise TransitionError.

    ``previous`` is the record that brought the clearance into ``state``. It is needed for
    ``reinstate`` (back to the state before suspension), ``appeal`` (the decision's date and kind)
    and ``decision_upheld`` (back to refused or withdrawn); elsewhere it is optional but checked.

    Refusal and adverse withdrawal raise ``SecondOfficerRequired``: use ``propose`` and ``confirm``.
    """
    if event in TWO_OFFICER_EVENTS:
        raise SecondOfficerRequired(
            f"'{event}' takes effect only when a second vetting officer confirms it: "
            "use propose() and then confirm() by a different officer"
        )
    return _apply(state, event, actor_id=actor_id, at=at, reason=reason, previous=previous, policy=policy)


def propose(
    state: ClearanceState,
    event: ClearanceEvent,
    *,
    actor_id: str,
    at: datetime,
    reason: str,
    previous: TransitionRecord | None = None,
    policy: ForcePolicy = DEFAULT_POLICY,
) -> PendingDecision:
    """Record the first officer's refusal or withdrawal. Checks it could be applied now."""
    if event not in TWO_OFFICER_EVENTS:
        raise TransitionError(f"'{event}' needs no second officer: apply it directly")
    # A dry run, so a proposal that could never be confirmed is rejected at once.
    _apply(state, event, actor_id=actor_id, at=at, reason=reason, previous=previous, policy=policy)
    return PendingDecision(from_state=state, event=event, proposed_by=actor_id, proposed_at=at, reason=reason)


def propose_refusal(
    state: ClearanceState, *, actor_id: str, at: datetime, reason: str, policy: ForcePolicy = DEFAULT_POLICY
) -> PendingDecision:
    """Propose refusing an application in progress; a different officer must confirm."""
    return propose(state, E.REFUSE, actor_id=actor_id, at=at, reason=reason, policy=policy)


def propose_withdrawal(
    state: ClearanceState,
    *,
    actor_id: str,
    at: datetime,
    reason: str,
    previous: TransitionRecord | None = None,
    policy: ForcePolicy = DEFAULT_POLICY,
) -> PendingDecision:
    """Propose withdrawing a clearance for adverse reasons; a different officer must confirm."""
    return propose(state, E.WITHDRAW, actor_id=actor_id, at=at, reason=reason, previous=previous, policy=policy)


def confirm(
    pending: PendingDecision,
    state: ClearanceState,
    *,
    actor_id: str,
    at: datetime,
    previous: TransitionRecord | None = None,
    policy: ForcePolicy = DEFAULT_POLICY,
) -> TransitionRecord:
    """Apply a pending decision as the second officer. ``state`` is the clearance's state now.

    Raises ``SecondOfficerRequired`` if the confirming officer proposed it, and ``TransitionError``
    if the clearance has changed state since the proposal (the decision was made on other facts).
    """
    state = ClearanceState(state)
    _require_actor(actor_id)
    if actor_id == pending.proposed_by:
        raise SecondOfficerRequired(
            f"officer {actor_id} proposed this {pending.event}; a different vetting officer must confirm it"
        )
    if state is not pending.from_state:
        raise TransitionError(
            f"the clearance was {pending.from_state} when the {pending.event} was proposed and is now "
            f"{state}: propose it again on the current facts"
        )
    if _as_utc(at, "at") < pending.proposed_at:
        raise TransitionError("a decision cannot be confirmed before it was proposed")
    record = _apply(
        state,
        pending.event,
        actor_id=actor_id,
        at=at,
        reason=pending.reason,
        previous=previous,
        policy=policy,
    )
    return replace(record, proposed_by=pending.proposed_by)


# ---------------------------------------------------------------------------------------------


def _apply(
    state: ClearanceState,
    event: ClearanceEvent,
    *,
    actor_id: str,
    at: datetime,
    reason: str | None,
    previous: TransitionRecord | None,
    policy: ForcePolicy,
) -> TransitionRecord:
    state, event = ClearanceState(state), ClearanceEvent(event)
    _require_actor(actor_id)
    at = _as_utc(at, "at")
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise TransitionError(f"cannot '{event}' a clearance that is {state}{_allowed_hint(state)}")
    if previous is not None:
        if previous.to_state is not state:
            raise TransitionError(f"the previous record ends in {previous.to_state}, but the clearance is {state}")
        if previous.at > at:
            raise TransitionError("a transition cannot be dated before the one it follows")
    if event in REASON_REQUIRED and not (reason and reason.strip()):
        raise TransitionError(f"'{event}' needs a reason for the audit trail")
    reason = reason.strip() if reason else None

    if event is E.APPEAL:
        _check_appeal(state, at, previous, policy)
    if isinstance(target, _FromHistory):
        target = _target_from_history(target, previous)
    return TransitionRecord(from_state=state, to_state=target, event=event, actor_id=actor_id, at=at, reason=reason)


def _check_appeal(state: ClearanceState, at: datetime, decision: TransitionRecord | None, policy: ForcePolicy) -> None:
    if decision is None:
        raise TransitionError(f"an appeal needs the record of the decision that made the clearance {state}")
    if decision.event is E.DECISION_UPHELD:
        raise TransitionError("this decision was upheld on appeal; the outcome is final")
    if decision.event not in APPEALABLE_EVENTS:
        raise TransitionError(
            f"a clearance that is {state} because of '{decision.event}' cannot be appealed "
            "(only refusals and adverse withdrawals can)"
        )
    deadline = appeal_deadline(decision, policy)
    if _local_date(at, policy) > deadline:
        raise TransitionError(f"the appeal window of {policy.appeal_window_days} days closed on {deadline:%d %B %Y}")


def _target_from_history(target: _FromHistory, previous: TransitionRecord | None) -> ClearanceState:
    if target is _FromHistory.STATE_BEFORE_SUSPENSION:
        if previous is None or previous.event is not E.SUSPEND:
            raise TransitionError("reinstating needs the suspension record, to know which state to return to")
        if previous.from_state not in ACTIVE_STATES:
            raise TransitionError(f"cannot reinstate to {previous.from_state}: it is not an active state")
        return previous.from_state
    if previous is None or previous.event is not E.APPEAL:
        raise TransitionError("deciding an appeal needs the appeal record, to know which decision stands")
    return previous.from_state


def _allowed_hint(state: ClearanceState) -> str:
    allowed = sorted(allowed_events(state))
    if not allowed:
        return f" ({state} is final)"
    return " (allowed: " + ", ".join(allowed) + ")"


def _require_actor(actor_id: str) -> None:
    if not isinstance(actor_id, str) or not actor_id.strip():
        raise TransitionError("every transition needs the id of the person making it")


def _as_utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def _local_date(moment: datetime, policy: ForcePolicy) -> date:
    # Appeal windows are counted in the days people live in, not UTC days.
    return moment.astimezone(ZoneInfo(policy.timezone)).date()
