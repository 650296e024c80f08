"""Deployments across midnight (issue #19, item 13): free only if the evening's and the next morning's
availability both cover them, in the one-request funnel and the batch alike, in London wall-clock time."""

from __future__ import annotations

import datetime as dt

import pytest

from matching.domain import DateException
from matching.funnel import funnel, funnels, is_free
from tests.unit.matching.test_funnel import request, volunteer
from vetting.rules import DateRange

UTC = dt.UTC
# Thursday 3 December 2026 (GMT: London = UTC), 10pm to Friday 1am.
NIGHT_START = dt.datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
NIGHT_END = dt.datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
THURSDAY, FRIDAY = 3, 4
EVENING = (THURSDAY, 20 * 60, 24 * 60)
SMALL_HOURS = (FRIDAY, 0, 3 * 60)


def _night(**overrides):
    return request(start=NIGHT_START, end=NIGHT_END, **overrides)


@pytest.mark.parametrize(
    ("slots", "extra", "free"),
    [
        ((EVENING, SMALL_HOURS), {}, True),
        ((EVENING,), {}, False),  # nothing after midnight
        ((SMALL_HOURS,), {}, False),  # nothing before it
        (((THURSDAY, 23 * 60, 24 * 60), SMALL_HOURS), {}, False),  # from 11pm only
        ((EVENING, (FRIDAY, 0, 30)), {}, False),  # until 12:30am only
        ((EVENING, SMALL_HOURS), {"blocked": (DateRange(dt.date(2026, 12, 4), dt.date(2026, 12, 4)),)}, False),
        ((EVENING, SMALL_HOURS), {"exceptions": (DateException(dt.date(2026, 12, 4), False),)}, False),
        (
            (EVENING,),
            {"exceptions": (DateException(dt.date(2026, 12, 4), True, 0, 120),)},
            True,  # a dated exception covers the small hours instead of a weekly slot
        ),
        (
            (EVENING, SMALL_HOURS),
            {"busy": ((dt.datetime(2026, 12, 4, 0, 30, tzinfo=UTC), dt.datetime(2026, 12, 4, 2, 0, tzinfo=UTC)),)},
            False,
        ),
    ],
)
def test_free_across_midnight_needs_both_days_covered(slots, extra, free):
    candidate = volunteer(1, slots=slots, **extra)
    assert is_free(candidate, NIGHT_START, NIGHT_END) is free
    one = funnel(_night(), [candidate])
    assert (one.candidate_count == 1) is free
    assert funnels([_night()], [candidate]) == {1: one}


def test_the_funnel_names_the_night_hours():
    result = funnel(_night(), [volunteer(1, slots=(EVENING, SMALL_HOURS))])
    assert ("free 10pm to 1am", 1) in [(s.label, s.remaining) for s in result.stages]


def test_across_midnight_in_summer_time_the_wall_clock_counts():
    # Thursday 2 July 2026 10pm BST = 21:00 UTC, to Friday 1am BST.
    start = dt.datetime(2026, 7, 2, 21, 0, tzinfo=UTC)
    end = dt.datetime(2026, 7, 3, 0, 0, tzinfo=UTC)
    assert is_free(volunteer(1, slots=(EVENING, SMALL_HOURS)), start, end)
    assert not is_free(volunteer(1, slots=((THURSDAY, 20 * 60, 23 * 60), SMALL_HOURS)), start, end)
