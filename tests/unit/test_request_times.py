"""Reading and showing a support request's times: London wall clock in, UTC stored, London out."""

from __future__ import annotations

import datetime as dt

import pytest

from core.forms import clock_value, parse_clock, window_from_local
from core.timeutil import NonexistentLocalTime
from matching.models import duration_text, format_window


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:00", (14, 0)),
        ("14.00", (14, 0)),
        ("1400", (14, 0)),
        ("0930", (9, 30)),
        ("9", (9, 0)),
        ("9:30", (9, 30)),
        ("9am", (9, 0)),
        ("9:30am", (9, 30)),
        ("9.30 AM", (9, 30)),
        ("2pm", (14, 0)),
        ("2.15 p.m.", (14, 15)),
        ("12pm", (12, 0)),
        ("12am", (0, 0)),
        ("12:30am", (0, 30)),
        ("midday", (12, 0)),
        ("Noon", (12, 0)),
        ("midnight", (0, 0)),
        ("00:00", (0, 0)),
        ("24:00", (24, 0)),
        (" 23:45 ", (23, 45)),
    ],
)
def test_times_people_type_are_read(text, expected):
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "teatime",
        "25:00",
        "24:30",
        "9:60",
        "13pm",
        "0am",
        "9:5",
        "12345",
        "-1",
        "9:30:00",
        "1 4:00",
        "\x00",
    ],
)
def test_what_is_not_a_time_is_refused(text):
    assert parse_clock(text) is None


def test_a_july_afternoon_is_british_summer_time():
    start, end = window_from_local(dt.date(2026, 7, 14), (14, 0), (16, 30))
    assert start == dt.datetime(2026, 7, 14, 13, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 7, 14, 15, 30, tzinfo=dt.UTC)
    assert format_window(start, end) == "Tuesday 14 July 2026, 2pm to 4:30pm"


def test_a_january_morning_is_greenwich_mean_time():
    start, end = window_from_local(dt.date(2027, 1, 5), (9, 0), (12, 0))
    assert start == dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert format_window(start, end) == "Tuesday 5 January 2027, 9am to midday"


@pytest.mark.parametrize("end", [(0, 0), (24, 0)])
def test_an_end_at_midnight_is_the_end_of_the_day(end):
    start, finish = window_from_local(dt.date(2026, 12, 1), (22, 0), end)
    assert finish == dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC)
    assert format_window(start, finish) == "Tuesday 1 December 2026, 10pm to midnight"


def test_a_time_in_the_spring_forward_gap_is_refused_and_says_which():
    with pytest.raises(NonexistentLocalTime) as start:
        window_from_local(dt.date(2026, 3, 29), (1, 30), (3, 0))
    assert start.value.which == "start"
    assert str(start.value) == "01:30 on 29 March 2026 does not exist in London: the clocks go forward an hour"
    with pytest.raises(NonexistentLocalTime) as end:
        window_from_local(dt.date(2026, 3, 29), (0, 0), (1, 0))
    assert end.value.which == "end"


def test_a_window_across_the_gap_is_shorter_than_its_clock_faces():
    start, end = window_from_local(dt.date(2026, 3, 29), (0, 30), (3, 0))
    assert end - start == dt.timedelta(hours=1, minutes=30)


def test_a_window_into_the_next_day_says_so_and_one_over_several_days_names_both():
    start = dt.datetime(2026, 7, 14, 13, 0, tzinfo=dt.UTC)
    end = dt.datetime(2026, 7, 15, 8, 0, tzinfo=dt.UTC)
    assert format_window(start, end) == "Tuesday 14 July 2026, 2pm to 9am the next day"
    later = dt.datetime(2026, 7, 16, 8, 0, tzinfo=dt.UTC)
    assert format_window(start, later) == "Tuesday 14 July 2026, 2pm to Thursday 16 July 2026, 9am"


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (15, "15 minutes"),
        (60, "1 hour"),
        (61, "1 hour 1 minute"),
        (90, "1 hour 30 minutes"),
        (120, "2 hours"),
        (1, "1 minute"),
        (0, "0 minutes"),
    ],
)
def test_durations_read_as_words(minutes, text):
    assert duration_text(minutes) == text


def test_clock_value_is_what_the_edit_form_shows():
    assert clock_value(dt.time(9, 5)) == "09:05"
