"""Issue #19 item 3: a dated availability time must exist, once, in London (volunteers.availability)."""

from __future__ import annotations

import datetime as dt

from volunteers.availability import local_time_problem


def test_an_ordinary_time_has_no_problem():
    assert local_time_problem(dt.date(2027, 1, 15), 9 * 60) is None
    assert local_time_problem(dt.date(2027, 3, 28), 0) is None
    assert local_time_problem(dt.date(2027, 3, 28), 120) is None  # 2am BST exists
    assert local_time_problem(dt.date(2027, 10, 31), 120) is None  # 2am GMT happens once
    assert local_time_problem(dt.date(2027, 10, 30), 24 * 60) is None  # midnight at the end of the day


def test_the_spring_gap_uses_the_request_forms_words():
    assert local_time_problem(dt.date(2027, 3, 28), 90) == (
        "01:30 on 28 March 2027 does not exist in London: the clocks go forward an hour"
    )
    assert local_time_problem(dt.date(2027, 3, 28), 60) is not None


def test_the_repeated_autumn_hour_is_named():
    assert local_time_problem(dt.date(2027, 10, 31), 90) == (
        "1:30am happens twice on 31 October 2027, when the clocks go back an hour. Choose a time before 1am or from 2am"
    )
    assert local_time_problem(dt.date(2027, 10, 31), 60).startswith("1am happens twice")
    assert local_time_problem(dt.date(2027, 10, 31), 0) is None
