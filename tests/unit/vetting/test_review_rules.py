"""The review rules in vetting/lifecycle.py, and which setting a broken task-policy rule is about."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from vetting.catalogue import TASK_POLICIES_BY_CODE, ForcePolicy
from vetting.lifecycle import (
    OUTCOMES_BY_KIND,
    ClearanceEvent,
    ClearanceState,
    Outcome,
    ReviewKind,
    TransitionRecord,
    appeal_open_until,
)
from vetting.policy_text import PolicyTextError, edited_policy
from volunteers.skills import PatrolStatus

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def decided(event: ClearanceEvent, to_state: ClearanceState) -> TransitionRecord:
    return TransitionRecord(ClearanceState.IN_PROGRESS, to_state, event, "officer-b", T0, "recorded")


def test_each_kind_of_review_offers_its_own_outcomes():
    assert set(OUTCOMES_BY_KIND) == set(ReviewKind)
    assert OUTCOMES_BY_KIND[ReviewKind.APPEAL] == {Outcome.UPHOLD, Outcome.OVERTURN}
    assert OUTCOMES_BY_KIND[ReviewKind.TRIGGERED] == {Outcome.NO_CHANGE}
    assert Outcome.NO_CHANGE not in OUTCOMES_BY_KIND[ReviewKind.NEW_APPLICATION]
    assert "grant" in OUTCOMES_BY_KIND[ReviewKind("renewal")]  # the form's plain string values match


def test_a_refusal_may_be_appealed_until_the_window_closes():
    refusal = decided(ClearanceEvent.REFUSE, ClearanceState.REFUSED)
    last_day = date(2025, 6, 16)
    assert appeal_open_until(refusal, date(2025, 6, 2)) == last_day
    assert appeal_open_until(refusal, last_day) == last_day
    assert appeal_open_until(refusal, last_day + timedelta(days=1)) is None
    assert appeal_open_until(refusal, last_day, ForcePolicy(appeal_window_days=7)) is None


@pytest.mark.parametrize(
    "decision",
    [
        None,
        decided(ClearanceEvent.WITHDRAW_NOT_NEEDED, ClearanceState.WITHDRAWN),
        decided(ClearanceEvent.DECISION_UPHELD, ClearanceState.REFUSED),
    ],
)
def test_only_refusals_and_adverse_withdrawals_may_be_appealed(decision):
    assert appeal_open_until(decision, date(2025, 6, 3)) is None


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"clearance_groups": ()}, "clearance_groups"),
        (
            {"unsupervised_allowed": False, "unsupervised_clearance_groups": (("DBS_ENH_CHILD",),)},
            "unsupervised_clearance_groups",
        ),
        ({"warranted_only": False, "minimum_patrol_status": PatrolStatus.DIRECTED}, "minimum_patrol_status"),
        ({"default_team_size": 0}, "default_team_size"),
    ],
)
def test_a_broken_policy_rule_names_the_setting_it_is_about(changes, setting):
    base = TASK_POLICIES_BY_CODE["cyber_victim_visit"]
    with pytest.raises(PolicyTextError) as caught:
        edited_policy(base, **changes)
    assert caught.value.setting == setting
