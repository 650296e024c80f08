"""The pure arithmetic of hours served (matching/hours/rules.py), checked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from matching.hours.rules import (
    Rag,
    Served,
    add_months,
    by_month,
    full_years,
    hours_text,
    last_months,
    milestones,
    parse_hours,
    percent_of,
    rag,
    totals,
)

D = dt.date


def test_totals_count_this_month_this_year_and_ever_and_nothing_after_today():
    served = [
        Served(D(2025, 12, 31), 60),  # last year
        Served(D(2026, 1, 15), 120),  # this year, not this month
        Served(D(2026, 3, 1), 30),  # this month, first day
        Served(D(2026, 3, 10), 45),  # today
        Served(D(2026, 3, 11), 600),  # tomorrow: not served yet
    ]
    result = totals(served, D(2026, 3, 10))
    assert (result.month_minutes, result.year_minutes, result.all_minutes) == (75, 195, 255)


def test_months_roll_over_the_year():
    assert add_months(D(2026, 1, 1), -1) == D(2025, 12, 1)
    assert add_months(D(2026, 11, 1), 2) == D(2027, 1, 1)
    assert last_months(D(2026, 2, 17), 3) == [D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1)]


def test_by_month_leaves_out_other_months():
    months = [D(2026, 1, 1), D(2026, 2, 1)]
    served = [Served(D(2026, 1, 31), 60), Served(D(2026, 2, 1), 30), Served(D(2026, 3, 1), 999)]
    assert by_month(served, months) == {D(2026, 1, 1): 60, D(2026, 2, 1): 30}


@pytest.mark.parametrize(
    ("since", "today", "years"),
    [
        (D(2020, 6, 15), D(2021, 6, 14), 0),
        (D(2020, 6, 15), D(2021, 6, 15), 1),
        (D(2016, 2, 29), D(2021, 2, 27), 4),
        (D(2016, 2, 29), D(2021, 2, 28), 5),  # no 29 February: the 28th is the anniversary
        (D(2026, 5, 1), D(2026, 1, 1), 0),  # joined after "today": never negative
    ],
)
def test_full_years(since, today, years):
    assert full_years(since, today) == years


def test_milestones_reached_and_next():
    found = milestones(100 * 60, D(2020, 6, 15), D(2026, 3, 1))
    assert found.hours_reached == (50, 100)
    assert (found.next_hours, found.minutes_to_next_hours) == (250, 150 * 60)
    assert found.years == 5
    assert found.years_reached == (1, 5)
    assert (found.next_years, found.next_years_on) == (10, D(2030, 6, 15))
    assert found.reached


def test_no_milestone_yet_and_all_of_them():
    new = milestones(49 * 60 + 59, D(2026, 1, 1), D(2026, 3, 1))
    assert (new.hours_reached, new.years_reached, new.reached) == ((), (), False)
    assert (new.next_hours, new.minutes_to_next_hours, new.next_years) == (50, 1, 1)
    veteran = milestones(600 * 60, D(2010, 1, 1), D(2026, 3, 1))
    assert veteran.hours_reached == (50, 100, 250, 500) and veteran.next_hours is None
    assert veteran.years_reached == (1, 5, 10) and veteran.next_years is None and veteran.next_years_on is None


@pytest.mark.parametrize(
    ("served", "commitment", "expected"),
    [
        (960, 960, Rag.GREEN),
        (959, 960, Rag.AMBER),  # 99.9%: not met
        (480, 960, Rag.AMBER),
        (479, 960, Rag.RED),
        (0, 960, Rag.RED),
        (2000, 960, Rag.GREEN),
        (100, None, None),
        (100, 0, None),
    ],
)
def test_rag_against_the_commitment(served, commitment, expected):
    assert rag(served, commitment, green_percent=100, amber_percent=50) is expected


def test_rag_thresholds_are_configurable():
    assert rag(864, 960, green_percent=90, amber_percent=75) is Rag.GREEN  # exactly 90%
    assert rag(720, 960, green_percent=90, amber_percent=75) is Rag.AMBER
    assert percent_of(959, 960) == 99


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("4", 240),
        ("4.5", 270),
        ("0.25", 15),
        ("4:30", 270),
        ("4h 30m", 270),
        ("4 hours 30 minutes", 270),
        ("45 minutes", 45),
        (" 2 HOURS ", 120),
        ("", None),
        ("four", None),
        ("4:75", None),
        ("-3", None),
        ("1e3", None),
        ("123", None),
    ],
)
def test_parse_hours(text, minutes):
    assert parse_hours(text) == minutes


def test_hours_text():
    assert [hours_text(m) for m in (0, 1, 45, 60, 150, 61, 60_000)] == [
        "0 hours",
        "1 minute",
        "45 minutes",
        "1 hour",
        "2 hours 30 minutes",
        "1 hour 1 minute",
        "1,000 hours",
    ]
