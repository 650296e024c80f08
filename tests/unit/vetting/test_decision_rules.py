"""Pure rules behind decisions a vetting manager would sign: a grant's dates, who may decide an appeal,
an overturn needing two officers, the annual integrity review's timing, and the outcome letters."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from vetting.aftercare import INTEGRITY_LEAD_DAYS, IntegrityDue, IntegritySnapshot, plan_integrity_reviews
from vetting.catalogue import ForcePolicy
from vetting.lifecycle import (
    ClearanceEvent,
    ClearanceState,
    GrantDateError,
    SecondOfficerRequired,
    TransitionError,
    TransitionRecord,
    apply,
    check_appeal_decider,
    check_grant_dates,
    confirm,
    grant_window,
    propose,
)
from vetting.outcome_letters import Letter, LetterFacts, compose

TODAY = date(2026, 12, 7)
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _check(valid_from, expires_on=None, opened_on=TODAY - timedelta(days=5), late=14, current_ends_on=None):
    window = grant_window(opened_on, TODAY, late_recording_days=late, current_ends_on=current_ends_on)
    standard = valid_from.replace(year=valid_from.year + 3) - timedelta(days=1)
    return check_grant_dates(
        valid_from, expires_on, window, today=TODAY, standard_expiry=standard, type_name="NPPV", validity_months=36
    )


# ---- Dates ---------------------------------------------------------------------------------------


def test_a_grant_starts_no_earlier_than_its_review_opened():
    assert _check(TODAY - timedelta(days=5)) == date(2029, 12, 1)
    with pytest.raises(GrantDateError, match="after 2 December 2026, the day the review was opened") as caught:
        _check(TODAY - timedelta(days=6))
    assert caught.value.which == "valid_from"
    with pytest.raises(GrantDateError):
        _check(date(1900, 1, 1))


def test_a_late_recorded_grant_goes_back_at_most_the_configured_days():
    opened_long_ago = TODAY - timedelta(days=90)
    assert _check(TODAY - timedelta(days=14), opened_on=opened_long_ago)
    with pytest.raises(GrantDateError, match="at most 14 days late"):
        _check(TODAY - timedelta(days=15), opened_on=opened_long_ago)
    assert _check(TODAY - timedelta(days=15), opened_on=opened_long_ago, late=30)
    with pytest.raises(GrantDateError, match="at most 1 day late"):
        _check(TODAY - timedelta(days=2), opened_on=opened_long_ago, late=1)
    with pytest.raises(ValueError):
        grant_window(TODAY, TODAY, late_recording_days=-1)


def test_a_grant_is_at_most_thirty_days_ahead_or_continues_a_renewed_term():
    assert _check(TODAY + timedelta(days=30))
    with pytest.raises(GrantDateError, match="before 6 January 2027, 30 days from today"):
        _check(TODAY + timedelta(days=31))
    ends = TODAY + timedelta(days=80)
    assert _check(ends + timedelta(days=1), current_ends_on=ends)
    with pytest.raises(GrantDateError, match="the day after the current clearance ends"):
        _check(ends + timedelta(days=2), current_ends_on=ends)
    # A term ending sooner than 30 days does not shorten the usual limit.
    assert _check(TODAY + timedelta(days=30), current_ends_on=TODAY + timedelta(days=3))


def test_the_end_date_may_be_shortened_never_extended_nor_already_past():
    start = TODAY - timedelta(days=3)
    assert _check(start) == date(2029, 12, 3)
    assert _check(start, TODAY + timedelta(days=100)) == TODAY + timedelta(days=100)
    for end, message in (
        (date(2029, 12, 4), "before 3 December 2029: the standard period for NPPV is 36 months"),
        (date(9999, 1, 1), "the standard period"),
        (start - timedelta(days=1), "after the date it takes effect"),
        (TODAY - timedelta(days=1), "today or in the future"),
    ):
        with pytest.raises(GrantDateError, match=message) as caught:
            _check(start, end)
        assert caught.value.which == "expires_on"


# ---- Appeals -------------------------------------------------------------------------------------


def _withdrawal() -> TransitionRecord:
    pending = propose(ClearanceState.GRANTED, ClearanceEvent.WITHDRAW, actor_id="7", at=T0, reason="adverse")
    return confirm(pending, ClearanceState.GRANTED, actor_id="8", at=T0)


def test_only_an_officer_who_took_no_part_decides_an_appeal():
    decision = _withdrawal()
    for involved in ("7", "8"):
        with pytest.raises(SecondOfficerRequired, match="took part in the decision under appeal"):
            check_appeal_decider(decision, involved)
    check_appeal_decider(decision, "9")


def test_an_overturn_needs_a_second_officer_an_uphold_does_not():
    appeal = apply(
        ClearanceState.WITHDRAWN,
        ClearanceEvent.APPEAL,
        actor_id="v",
        at=T0 + timedelta(days=1),
        reason="not me",
        previous=_withdrawal(),
    )
    later = T0 + timedelta(days=3)
    with pytest.raises(SecondOfficerRequired):
        apply(
            ClearanceState.APPEALED,
            ClearanceEvent.DECISION_OVERTURNED,
            actor_id="9",
            at=later,
            reason="r",
            previous=appeal,
        )
    pending = propose(
        ClearanceState.APPEALED, ClearanceEvent.DECISION_OVERTURNED, actor_id="9", at=later, reason="r", previous=appeal
    )
    with pytest.raises(SecondOfficerRequired):
        confirm(pending, ClearanceState.APPEALED, actor_id="9", at=later, previous=appeal)
    done = confirm(pending, ClearanceState.APPEALED, actor_id="10", at=later, previous=appeal)
    assert (done.to_state, done.proposed_by) == (ClearanceState.GRANTED, "9")
    upheld = apply(
        ClearanceState.APPEALED, ClearanceEvent.DECISION_UPHELD, actor_id="9", at=later, reason="r", previous=appeal
    )
    assert upheld.to_state is ClearanceState.WITHDRAWN


def test_an_appeal_withdrawn_leaves_the_decision_standing_and_not_appealable_again():
    appeal = apply(
        ClearanceState.WITHDRAWN,
        ClearanceEvent.APPEAL,
        actor_id="v",
        at=T0 + timedelta(days=1),
        reason="not me",
        previous=_withdrawal(),
    )
    withdrawn = apply(
        ClearanceState.APPEALED,
        ClearanceEvent.APPEAL_WITHDRAWN,
        actor_id="system",
        at=T0 + timedelta(days=2),
        reason="left",
        previous=appeal,
    )
    assert withdrawn.to_state is ClearanceState.WITHDRAWN
    with pytest.raises(TransitionError, match="cannot be appealed"):
        apply(
            ClearanceState.WITHDRAWN,
            ClearanceEvent.APPEAL,
            actor_id="v",
            at=T0 + timedelta(days=3),
            reason="again",
            previous=withdrawn,
        )


# ---- The annual integrity review -----------------------------------------------------------------


def test_the_integrity_review_opens_four_weeks_before_a_year_since_vetting_last_looked():
    due_on = TODAY + timedelta(days=INTEGRITY_LEAD_DAYS)
    people = [
        IntegritySnapshot(1, newest_grant_on=date(2025, 1, 4)),  # anniversary 4 January 2026 ≤ 4 January: due
        IntegritySnapshot(2, newest_grant_on=date(2025, 1, 5)),  # a day later: not yet
        IntegritySnapshot(3, newest_grant_on=date(2020, 1, 1), last_review_on=date(2025, 12, 20)),
        IntegritySnapshot(4, newest_grant_on=date(2020, 1, 1), last_review_on=date(2024, 12, 20)),
        IntegritySnapshot(5, newest_grant_on=date(2020, 1, 1), review_open=True),
    ]
    assert plan_integrity_reviews(people, TODAY.replace(year=2025, month=12, day=7)) == (
        IntegrityDue(1, date(2026, 1, 4)),
        IntegrityDue(4, date(2026, 1, 4)),
    )
    assert plan_integrity_reviews([IntegritySnapshot(6, date(2026, 1, 10))], TODAY) == ()
    six_monthly = ForcePolicy(integrity_review_months=6)
    assert plan_integrity_reviews([IntegritySnapshot(6, date(2026, 6, 1))], TODAY, six_monthly) == (
        IntegrityDue(6, due_on),
    )


# ---- The letters ---------------------------------------------------------------------------------


def test_the_letters_say_what_the_outcome_means_and_how_to_appeal_and_carry_no_reasons():
    assert "reason" not in {f.name for f in dataclasses.fields(LetterFacts)}
    facts = LetterFacts(
        name="Ada Lovelace",
        clearance="NPPV level 2 (full)",
        valid_from=date(2026, 12, 7),
        expires_on=date(2029, 12, 6),
        restricted_tasks=("Youth and schools liaison", "Mental-health escort"),
        appeal_until=date(2026, 12, 21),
    )
    subjects = {}
    for letter in Letter:
        subject, body = compose(letter, facts)
        subjects[letter] = subject
        assert body.startswith("Dear Ada Lovelace,\n\n") and "NPPV level 2 (full)" in body
        assert ("appeal until 21 December 2026" in body) == (
            letter in (Letter.REFUSED, Letter.RENEWAL_REFUSED, Letter.WITHDRAWN)
        )
    assert len(set(subjects.values())) >= len(Letter) - 1  # not renewed and renewal refused share a subject
    _, restricted = compose(Letter.GRANTED_WITH_RESTRICTIONS, facts)
    assert "except: youth and schools liaison and mental-health escort." in restricted
    _, granted = compose(Letter.GRANTED, facts)
    assert "valid from 7 December 2026 until 6 December 2029" in granted
    no_appeal = dataclasses.replace(facts, appeal_until=None)
    assert "appeal" not in compose(Letter.WITHDRAWN, no_appeal)[1].lower()
