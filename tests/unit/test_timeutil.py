import datetime as dt

import pytest

from core.timeutil import NonexistentLocalTime, format_date, format_datetime, london_to_utc, to_london


def test_winter_and_summer_offsets():
    assert london_to_utc(dt.date(2026, 1, 15), dt.time(14, 0)) == dt.datetime(2026, 1, 15, 14, 0, tzinfo=dt.UTC)
    assert london_to_utc(dt.date(2026, 7, 15), dt.time(14, 0)) == dt.datetime(2026, 7, 15, 13, 0, tzinfo=dt.UTC)


def test_time_in_the_spring_forward_gap_is_refused():
    # Clocks went forward at 01:00 GMT on 29 March 2026: 01:30 never happened.
    with pytest.raises(NonexistentLocalTime, match="clocks go forward"):
        london_to_utc(dt.date(2026, 3, 29), dt.time(1, 30))


def test_ambiguous_autumn_time_is_the_first_occurrence():
    # Clocks went back at 02:00 BST on 25 October 2026: 01:30 happened twice; we mean the BST one.
    assert london_to_utc(dt.date(2026, 10, 25), dt.time(1, 30)) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


def test_display_in_london_time():
    moment = dt.datetime(2026, 7, 1, 13, 15, tzinfo=dt.UTC)
    assert format_datetime(moment) == "1 July 2026 at 2:15pm"
    assert format_datetime(dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)) == "3 December 2026 at midday"
    assert format_datetime(dt.datetime(2026, 7, 1, 23, 0, tzinfo=dt.UTC)) == "2 July 2026 at midnight"
    assert format_date(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)) == "1 July 2026"
    assert to_london(moment).hour == 14


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        to_london(dt.datetime(2026, 1, 1, 12, 0))
