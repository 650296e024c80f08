"""The daily sweep: lapses, renewal reviews and reminders, idempotent and never spamming."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vetting.catalogue import ForcePolicy
from vetting.lifecycle import ClearanceState as S
from vetting.renewals import (
    ClearanceSnapshot,
    SweepPlan,
    add_months,
    apply_plan,
    expiry_date,
    local_today,
    plan_sweep,
    renewal_date,
)

EXPIRY = date(2026, 6, 30)


def snap(clearance_id=1, *, state=S.GRANTED, expires_on=EXPIRY, sent=(), review=False, person_id=10):
    return ClearanceSnapshot(clearance_id, person_id, "NPPV2A", state, expires_on, frozenset(sent), review)


def days_before(n: int) -> date:
    return EXPIRY - timedelta(days=n)


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("granted_on", "months", "due"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year month end
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # leap day, clamped in a common year
        (date(2024, 2, 29), 48, date(2028, 2, 29)),  # and kept in the next leap year
        (date(2025, 11, 15), 2, date(2026, 1, 15)),  # across a year end
        (date(2025, 3, 5), 120, date(2035, 3, 5)),  # RV: ten years
    ],
)
def test_renewal_date(granted_on, months, due):
    assert renewal_date(granted_on, months) == due
    assert expiry_date(granted_on, months) == due - timedelta(days=1)


def test_renewal_date_needs_a_positive_validity():
    with pytest.raises(ValueError):
        renewal_date(date(2025, 1, 1), 0)


@settings(max_examples=300, deadline=None, database=None)
@given(st.dates(date(1990, 1, 1), date(2090, 12, 31)), st.integers(1, 240))
def test_add_months_lands_in_the_right_month_and_never_overshoots(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day
    assert result.day == day.day or (result + timedelta(days=1)).day == 1  # clamped to month end only


def test_local_today_uses_london_time():
    assert local_today(datetime(2025, 7, 1, 23, 30, tzinfo=UTC)) == date(2025, 7, 2)  # BST
    assert local_today(datetime(2025, 12, 1, 23, 30, tzinfo=UTC)) == date(2025, 12, 1)  # GMT
    with pytest.raises(ValueError):
        local_today(datetime(2025, 7, 1, 12))


# --- what one sweep decides ------------------------------------------------------------------


def test_lapse_the_day_after_the_last_valid_day():
    assert plan_sweep([snap()], EXPIRY + timedelta(days=1)).lapse == (1,)
    on_the_day = plan_sweep([snap()], EXPIRY)
    assert on_the_day.lapse == ()
    assert [r.threshold_days for r in on_the_day.reminders] == [7]


def test_suspended_clearances_lapse_too_but_ended_ones_are_left_alone():
    today = EXPIRY + timedelta(days=3)
    plan = plan_sweep(
        [
            snap(1, state=S.SUSPENDED),
            snap(2, state=S.REFUSED),
            snap(3, state=S.RENEWED),
            snap(4, state=S.LAPSED),
            snap(5, state=S.RENEWAL_DUE),
        ],
        today,
    )
    assert plan == SweepPlan(today=today, lapse=(1, 5))


def test_renewal_review_opens_at_the_lead_and_not_before():
    assert plan_sweep([snap()], days_before(91)).is_empty
    plan = plan_sweep([snap()], days_before(90))
    assert (plan.mark_renewal_due, plan.open_reviews) == ((1,), (1,))
    assert [r.threshold_days for r in plan.reminders] == [90]


def test_review_opened_once_per_term_and_state_still_marked():
    plan = plan_sweep([snap(review=True)], days_before(60))
    assert plan.open_reviews == () and plan.mark_renewal_due == (1,)
    imported = plan_sweep([snap(state=S.RENEWAL_DUE, sent={90})], days_before(60))
    assert imported.open_reviews == (1,) and imported.mark_renewal_due == ()


def test_suspended_clearances_get_no_reminders_or_reviews():
    assert plan_sweep([snap(state=S.SUSPENDED)], days_before(7)).is_empty


def test_plan_is_ordered_most_urgent_first_and_rejects_duplicates():
    plan = plan_sweep([snap(1, expires_on=EXPIRY), snap(2, expires_on=EXPIRY - timedelta(days=20))], days_before(30))
    assert [r.clearance_id for r in plan.reminders] == [2, 1]
    with pytest.raises(ValueError):
        plan_sweep([snap(1), snap(1)], days_before(30))


# --- idempotency and reminders over time ------------------------------------------------------


def test_plan_apply_plan_again_the_same_day_is_empty():
    snapshots = [
        snap(1, expires_on=date(2026, 1, 1)),  # expired: lapses
        snap(2, expires_on=date(2026, 3, 20)),  # inside the lead: review, due, reminder
        snap(3, expires_on=date(2026, 2, 10), state=S.RENEWAL_DUE, review=True, sent={90}),
        snap(4, expires_on=date(2030, 1, 1)),  # far off: nothing
    ]
    today = date(2026, 1, 15)
    plan = plan_sweep(snapshots, today)
    assert plan.lapse == (1,) and plan.open_reviews == (2,) and plan.mark_renewal_due == (2,)
    assert {(r.clearance_id, r.threshold_days) for r in plan.reminders} == {(3, 30), (2, 90)}
    after = apply_plan(plan, snapshots)
    assert plan_sweep(after, today).is_empty


def test_reminders_are_sent_once_each_across_consecutive_days():
    snapshots = [snap()]
    sent, lapsed_on, reviews_on = [], [], []
    day = days_before(120)
    while day <= EXPIRY + timedelta(days=3):
        plan = plan_sweep(snapshots, day)
        sent += [(r.threshold_days, (EXPIRY - day).days) for r in plan.reminders]
        lapsed_on += [day] * len(plan.lapse)
        reviews_on += [day] * len(plan.open_reviews)
        snapshots = list(apply_plan(plan, snapshots))
        assert plan_sweep(snapshots, day).is_empty  # a second run that day does nothing
        day += timedelta(days=1)
    assert sent == [(90, 90), (30, 30), (7, 7)]
    assert lapsed_on == [EXPIRY + timedelta(days=1)]
    assert reviews_on == [days_before(90)]
    assert snapshots[0].state is S.LAPSED


def test_missed_days_send_only_the_most_urgent_reminder():
    snapshots = [snap()]
    assert plan_sweep(snapshots, days_before(100)).is_empty
    # The sweep did not run for 95 days; the 90 and 30 day reminders were never sent.
    plan = plan_sweep(snapshots, days_before(5))
    assert len(plan.reminders) == 1
    reminder = plan.reminders[0]
    assert (reminder.threshold_days, reminder.days_left, reminder.covers) == (7, 5, frozenset({90, 30, 7}))
    snapshots = apply_plan(plan, snapshots)
    assert plan_sweep(snapshots, days_before(4)).is_empty


def test_stale_less_urgent_reminders_are_never_sent_after_a_more_urgent_one():
    # E.g. the force added a 60-day reminder after the 30-day one had gone.
    policy = ForcePolicy(reminder_days=(90, 60, 30, 7))
    assert plan_sweep([snap(sent={90, 30}, review=True, state=S.RENEWAL_DUE)], days_before(20), policy).is_empty


def test_reminder_days_and_lead_are_force_policy():
    policy = ForcePolicy(reminder_days=(60, 14), renewal_review_lead_days=30)
    assert [r.threshold_days for r in plan_sweep([snap()], days_before(60), policy).reminders] == [60]
    assert plan_sweep([snap()], days_before(60), policy).open_reviews == ()
    assert plan_sweep([snap()], days_before(30), policy).open_reviews == (1,)


snapshots_strategy = st.lists(
    st.builds(
        snap,
        clearance_id=st.integers(1, 10_000),
        state=st.sampled_from(list(S)),
        expires_on=st.dates(date(2025, 9, 1), date(2026, 12, 31)),
        sent=st.frozensets(st.sampled_from([90, 30, 7])),
        review=st.booleans(),
    ),
    max_size=30,
    unique_by=lambda s: s.clearance_id,
)


@settings(max_examples=300, deadline=None, database=None)
@given(snapshots_strategy, st.dates(date(2025, 10, 1), date(2026, 12, 31)))
def test_sweeping_twice_the_same_day_is_always_a_no_op(snapshots, today):
    plan = plan_sweep(snapshots, today)
    assert plan_sweep(apply_plan(plan, snapshots), today).is_empty
    assert len({r.clearance_id for r in plan.reminders}) == len(plan.reminders)  # one each at most
