"""The clearance state machine: exactly the allowed transitions succeed, with their guards."""

from datetime import UTC, datetime, timedelta, timezone
from itertools import product

import pytest

from vetting.catalogue import DEFAULT_POLICY, ForcePolicy
from vetting.lifecycle import (
    ACTIVE_STATES,
    REASON_REQUIRED,
    TRANSITIONS,
    TWO_OFFICER_EVENTS,
    SecondOfficerRequired,
    TransitionError,
    TransitionRecord,
    allowed_events,
    appeal_deadline,
    apply,
    confirm,
    propose,
    propose_refusal,
    propose_withdrawal,
)
from vetting.lifecycle import (
    ClearanceEvent as E,
)
from vetting.lifecycle import (
    ClearanceState as S,
)

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
ACTIVE = (S.GRANTED, S.GRANTED_WITH_RESTRICTIONS, S.RENEWAL_DUE)

# Written out by hand from the brief rather than derived from TRANSITIONS, so a mistake in the
# module's table shows up here. "HISTORY" targets depend on the previous record.
HISTORY = "depends on the previous record"
EXPECTED: dict[tuple[S, E], object] = {
    (S.APPLIED, E.START): S.IN_PROGRESS,
    (S.APPLIED, E.DISCONTINUE): S.DISCONTINUED,
    (S.IN_PROGRESS, E.GRANT): S.GRANTED,
    (S.IN_PROGRESS, E.GRANT_WITH_RESTRICTIONS): S.GRANTED_WITH_RESTRICTIONS,
    (S.IN_PROGRESS, E.REFUSE): S.REFUSED,
    (S.IN_PROGRESS, E.DISCONTINUE): S.DISCONTINUED,
    (S.GRANTED, E.MARK_RENEWAL_DUE): S.RENEWAL_DUE,
    (S.GRANTED_WITH_RESTRICTIONS, E.MARK_RENEWAL_DUE): S.RENEWAL_DUE,
    (S.RENEWAL_DUE, E.RENEW): S.RENEWED,
    **{(state, E.LAPSE): S.LAPSED for state in (*ACTIVE, S.SUSPENDED)},
    **{(state, E.SUSPEND): S.SUSPENDED for state in ACTIVE},
    **{(state, E.WITHDRAW): S.WITHDRAWN for state in (*ACTIVE, S.SUSPENDED)},
    # Issue 17: a clearance no longer needed (the volunteer left) ends in its own state, not "withdrawn".
    **{(state, E.WITHDRAW_NOT_NEEDED): S.NO_LONGER_NEEDED for state in (*ACTIVE, S.SUSPENDED)},
    (S.SUSPENDED, E.REINSTATE): HISTORY,
    (S.REFUSED, E.APPEAL): S.APPEALED,
    (S.WITHDRAWN, E.APPEAL): S.APPEALED,
    (S.APPEALED, E.DECISION_UPHELD): HISTORY,
    (S.APPEALED, E.DECISION_OVERTURNED): S.GRANTED,
    (S.APPEALED, E.APPEAL_WITHDRAWN): HISTORY,
}


def record(from_state, to_state, event, at=T0, actor_id="officer-a", reason="recorded"):
    return TransitionRecord(from_state, to_state, event, actor_id, at, reason)


def default_previous(state: S, event: E) -> TransitionRecord | None:
    """A plausible record that brought the clearance into ``state``, for events that need one."""
    if event is E.REINSTATE:
        return record(S.GRANTED, S.SUSPENDED, E.SUSPEND, at=T0 - timedelta(days=3))
    if event is E.APPEAL:
        decision = E.REFUSE if state is S.REFUSED else E.WITHDRAW
        before = S.IN_PROGRESS if state is S.REFUSED else S.GRANTED
        return record(before, state, decision, at=T0 - timedelta(days=1))
    if event in (E.DECISION_UPHELD, E.APPEAL_WITHDRAWN):
        return record(S.REFUSED, S.APPEALED, E.APPEAL, at=T0 - timedelta(days=1))
    return None


def run(state, event, *, at=T0, reason="because", previous=None, policy=DEFAULT_POLICY):
    """Make the transition the way a service would: two officers where the rules need them."""
    if event in TWO_OFFICER_EVENTS:
        pending = propose(state, event, actor_id="officer-a", at=at, reason=reason, previous=previous, policy=policy)
        return confirm(pending, state, actor_id="officer-b", at=at, previous=previous, policy=policy)
    return apply(state, event, actor_id="officer-a", at=at, reason=reason, previous=previous, policy=policy)


def test_the_table_is_the_one_in_the_brief():
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize(("state", "event"), list(product(S, E)), ids=lambda v: str(v))
def test_exactly_the_allowed_transitions_succeed(state, event):
    if (state, event) in EXPECTED:
        result = run(state, event, previous=default_previous(state, event))
        expected = EXPECTED[(state, event)]
        if expected is HISTORY:
            expected = {E.REINSTATE: S.GRANTED, E.DECISION_UPHELD: S.REFUSED, E.APPEAL_WITHDRAWN: S.REFUSED}[event]
        assert (result.from_state, result.to_state, result.event) == (state, expected, event)
        assert result.at == T0 and result.at.tzinfo is UTC
    else:
        with pytest.raises(TransitionError) as excinfo:
            run(state, event)
        assert str(state) in str(excinfo.value)


def test_allowed_events_lists_the_table():
    assert allowed_events(S.APPLIED) == {E.START, E.DISCONTINUE}
    assert allowed_events(S.LAPSED) == frozenset()
    assert allowed_events(S.RENEWED) == frozenset()


def test_suspended_does_not_count_for_deployment():
    assert S.SUSPENDED not in ACTIVE_STATES
    assert set(ACTIVE) == ACTIVE_STATES


@pytest.mark.parametrize("before", ACTIVE)
def test_reinstate_returns_to_the_state_before_suspension(before):
    suspended = run(before, E.SUSPEND, reason="adverse information received")
    reinstated = run(S.SUSPENDED, E.REINSTATE, at=T0 + timedelta(days=10), reason="cleared", previous=suspended)
    assert reinstated.to_state is before


def test_reinstate_needs_the_suspension_record():
    with pytest.raises(TransitionError, match="suspension record"):
        run(S.SUSPENDED, E.REINSTATE, reason="cleared")
    wrong = record(S.RENEWAL_DUE, S.SUSPENDED, E.LAPSE)  # not a suspension
    with pytest.raises(TransitionError, match="suspension record"):
        run(S.SUSPENDED, E.REINSTATE, reason="cleared", previous=wrong)


def test_previous_record_must_match_the_current_state():
    with pytest.raises(TransitionError, match="ends in"):
        run(S.GRANTED, E.SUSPEND, previous=record(S.IN_PROGRESS, S.REFUSED, E.REFUSE))
    with pytest.raises(TransitionError, match="before"):
        run(
            S.GRANTED,
            E.SUSPEND,
            previous=record(S.IN_PROGRESS, S.GRANTED, E.GRANT, at=T0 + timedelta(hours=1)),
        )


@pytest.mark.parametrize("event", sorted(REASON_REQUIRED))
def test_reasons_are_required(event):
    state = next(s for (s, e) in EXPECTED if e is event)
    for blank in (None, "", "   "):
        with pytest.raises(TransitionError, match="reason"):
            run(state, event, reason=blank, previous=default_previous(state, event))


def test_reason_optional_for_routine_events_and_trimmed():
    assert run(S.APPLIED, E.START, reason=None).reason is None
    assert run(S.IN_PROGRESS, E.DISCONTINUE, reason="  left the force  ").reason == "left the force"


def test_naive_datetimes_are_rejected_and_aware_ones_stored_in_utc():
    with pytest.raises(ValueError):
        apply(S.APPLIED, E.START, actor_id="a", at=datetime(2025, 6, 2, 10, 0))
    bst = timezone(timedelta(hours=1))
    result = apply(S.APPLIED, E.START, actor_id="a", at=datetime(2025, 6, 2, 11, 0, tzinfo=bst))
    assert result.at == T0 and result.at.tzinfo is UTC


def test_plain_strings_from_the_database_are_accepted():
    result = apply("granted", "suspend", actor_id="a", at=T0, reason="adverse")
    assert result.to_state is S.SUSPENDED
    assert record("granted", "suspended", "suspend").from_state is S.GRANTED


def test_actor_is_required():
    with pytest.raises(TransitionError, match="id of the person"):
        apply(S.APPLIED, E.START, actor_id=" ", at=T0)


# --- appeals ---------------------------------------------------------------------------------


def refusal_on(day: datetime) -> TransitionRecord:
    pending = propose_refusal(S.IN_PROGRESS, actor_id="officer-a", at=day, reason="undisclosed convictions")
    return confirm(pending, S.IN_PROGRESS, actor_id="officer-b", at=day)


def test_appeal_on_day_14_is_in_time_and_day_15_is_not():
    decision = refusal_on(T0)
    assert appeal_deadline(decision) == (T0 + timedelta(days=14)).date()
    appealed = run(S.REFUSED, E.APPEAL, at=T0 + timedelta(days=14, hours=8), previous=decision)
    assert appealed.to_state is S.APPEALED
    with pytest.raises(TransitionError, match="appeal window of 14 days closed"):
        run(S.REFUSED, E.APPEAL, at=T0 + timedelta(days=15), previous=decision)


def test_appeal_window_is_force_policy():
    decision = refusal_on(T0)
    four_weeks = ForcePolicy(appeal_window_days=28)
    assert run(S.REFUSED, E.APPEAL, at=T0 + timedelta(days=28), previous=decision, policy=four_weeks)
    with pytest.raises(TransitionError):
        run(S.REFUSED, E.APPEAL, at=T0 + timedelta(days=29), previous=decision, policy=four_weeks)
    one_week = ForcePolicy(appeal_window_days=7)
    with pytest.raises(TransitionError, match="7 days"):
        run(S.REFUSED, E.APPEAL, at=T0 + timedelta(days=8), previous=decision, policy=one_week)


def test_appeal_window_counts_london_days():
    # Refused at 23:30 UTC on 1 July is 00:30 on 2 July in London: day 14 is 16 July.
    decision = refusal_on(datetime(2025, 7, 1, 23, 30, tzinfo=UTC))
    assert appeal_deadline(decision).isoformat() == "2025-07-16"
    assert run(S.REFUSED, E.APPEAL, at=datetime(2025, 7, 16, 22, 0, tzinfo=UTC), previous=decision)
    with pytest.raises(TransitionError):
        run(S.REFUSED, E.APPEAL, at=datetime(2025, 7, 16, 23, 0, tzinfo=UTC), previous=decision)


def test_appeal_needs_the_decision_record():
    with pytest.raises(TransitionError, match="record of the decision"):
        run(S.REFUSED, E.APPEAL)


def test_upheld_decision_stands_and_is_final():
    decision = refusal_on(T0)
    appeal = run(S.REFUSED, E.APPEAL, at=T0 + timedelta(days=3), previous=decision)
    upheld = run(S.APPEALED, E.DECISION_UPHELD, at=T0 + timedelta(days=5), reason="panel agreed", previous=appeal)
    assert upheld.to_state is S.REFUSED
    with pytest.raises(TransitionError, match="final"):
        run(S.REFUSED, E.APPEAL, at=T0 + timedelta(days=6), previous=upheld)


def test_upheld_withdrawal_stays_withdrawn_and_overturned_is_granted():
    pending = propose_withdrawal(S.GRANTED, actor_id="officer-a", at=T0, reason="adverse intelligence")
    withdrawn = confirm(pending, S.GRANTED, actor_id="officer-b", at=T0)
    appeal = run(S.WITHDRAWN, E.APPEAL, at=T0 + timedelta(days=2), previous=withdrawn)
    upheld = run(S.APPEALED, E.DECISION_UPHELD, at=T0 + timedelta(days=9), reason="r", previous=appeal)
    overturned = run(S.APPEALED, E.DECISION_OVERTURNED, at=T0 + timedelta(days=9), reason="r", previous=appeal)
    assert (upheld.to_state, overturned.to_state) == (S.WITHDRAWN, S.GRANTED)


def test_no_longer_needed_withdrawal_is_not_appealable():
    ended = run(S.GRANTED, E.WITHDRAW_NOT_NEEDED, reason="left the volunteer programme")
    assert ended.to_state is S.NO_LONGER_NEEDED and ended.proposed_by is None
    with pytest.raises(TransitionError, match="no_longer_needed is final"):
        run(S.NO_LONGER_NEEDED, E.APPEAL, at=T0 + timedelta(days=1), previous=ended)


# --- second officer --------------------------------------------------------------------------


def test_refusal_cannot_be_applied_by_one_officer():
    with pytest.raises(SecondOfficerRequired):
        apply(S.IN_PROGRESS, E.REFUSE, actor_id="officer-a", at=T0, reason="r")
    with pytest.raises(SecondOfficerRequired):
        apply(S.GRANTED, E.WITHDRAW, actor_id="officer-a", at=T0, reason="r")


def test_same_officer_cannot_confirm_and_a_different_one_can():
    pending = propose_refusal(S.IN_PROGRESS, actor_id="officer-a", at=T0, reason="dishonest application")
    with pytest.raises(SecondOfficerRequired, match="different vetting officer"):
        confirm(pending, S.IN_PROGRESS, actor_id="officer-a", at=T0 + timedelta(hours=1))
    result = confirm(pending, S.IN_PROGRESS, actor_id="officer-b", at=T0 + timedelta(hours=1))
    assert (result.to_state, result.actor_id, result.proposed_by) == (S.REFUSED, "officer-b", "officer-a")
    assert result.reason == "dishonest application"


def test_confirmation_fails_if_the_clearance_changed_meanwhile():
    pending = propose_withdrawal(S.GRANTED, actor_id="officer-a", at=T0, reason="r")
    with pytest.raises(TransitionError, match="propose it again"):
        confirm(pending, S.LAPSED, actor_id="officer-b", at=T0 + timedelta(days=1))
    with pytest.raises(TransitionError, match="before it was proposed"):
        confirm(pending, S.GRANTED, actor_id="officer-b", at=T0 - timedelta(minutes=1))


def test_proposals_are_checked_when_made():
    with pytest.raises(TransitionError):
        propose_refusal(S.GRANTED, actor_id="officer-a", at=T0, reason="r")  # nothing to refuse
    with pytest.raises(TransitionError, match="reason"):
        propose_refusal(S.IN_PROGRESS, actor_id="officer-a", at=T0, reason=" ")
    with pytest.raises(TransitionError, match="no second officer"):
        propose(S.GRANTED, E.SUSPEND, actor_id="officer-a", at=T0, reason="r")
