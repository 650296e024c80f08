"""The coverage and "why unfilled" dashboards' arithmetic: London weeks, time bands, peak overlap, stop rules."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from matching import funnel
from matching.insight.rules import (
    StopRule,
    Target,
    TimeBand,
    UnfilledPlace,
    freshness,
    peak_overlap,
    percent,
    stage_rule,
    stopping_rule,
    targets,
    time_band,
    week_start,
    weeks,
    worked_out,
)

UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_week_start_is_the_monday():
    assert week_start(dt.date(2026, 12, 7)) == dt.date(2026, 12, 7)  # a Monday
    assert week_start(dt.date(2026, 12, 13)) == dt.date(2026, 12, 7)  # the Sunday after
    assert week_start(dt.date(2026, 12, 6)) == dt.date(2026, 11, 30)


def test_weeks_across_the_clocks_going_back():
    # The clocks go back at 2am BST on Sunday 25 October 2026: the week of 19 October is 169 hours long.
    found = weeks(dt.date(2026, 10, 19), dt.date(2026, 11, 1))
    assert [w.monday for w in found] == [dt.date(2026, 10, 19), dt.date(2026, 10, 26)]
    assert found[0].starts_at == utc(2026, 10, 18, 23)  # midnight BST
    assert found[0].ends_at == found[1].starts_at == utc(2026, 10, 26, 0)  # midnight GMT
    assert found[0].ends_at - found[0].starts_at == dt.timedelta(hours=169)
    # Half past midnight on the Monday, London time, is that Monday's week in summer and in winter.
    summer = utc(2026, 10, 18, 23, 30)  # 00:30 BST on Monday 19 October
    winter = utc(2026, 10, 26, 0, 30)  # 00:30 GMT on Monday 26 October
    assert found[0].starts_at <= summer < found[0].ends_at
    assert found[1].starts_at <= winter < found[1].ends_at
    # 11:30pm on Sunday 25 October (GMT) is still the week of 19 October.
    assert found[0].starts_at <= utc(2026, 10, 25, 23, 30) < found[0].ends_at


def test_weeks_across_the_clocks_going_forward():
    # The clocks go forward at 1am GMT on Sunday 29 March 2026: that week is 167 hours long.
    found = weeks(dt.date(2026, 3, 23), dt.date(2026, 3, 29))
    assert len(found) == 1
    assert found[0].ends_at - found[0].starts_at == dt.timedelta(hours=167)


def test_part_weeks_at_the_period_edges():
    # Tuesday 8 September to Monday 21 September 2026: three weeks, the first and last cut at the edges.
    found = weeks(dt.date(2026, 9, 8), dt.date(2026, 9, 21))
    assert [w.monday for w in found] == [dt.date(2026, 9, 7), dt.date(2026, 9, 14), dt.date(2026, 9, 21)]
    assert found[0].starts_at == utc(2026, 9, 7, 23)  # midnight BST starting Tuesday 8 September
    assert found[-1].ends_at == utc(2026, 9, 21, 23)  # midnight BST ending Monday 21 September
    assert weeks(dt.date(2026, 9, 8), dt.date(2026, 9, 7)) == []


@pytest.mark.parametrize(
    ("moment", "band"),
    [
        # Winter (GMT = UTC). Monday 7 December 2026.
        (utc(2026, 12, 7, 7, 59), TimeBand.NIGHT),
        (utc(2026, 12, 7, 8, 0), TimeBand.WEEKDAY_DAYTIME),
        (utc(2026, 12, 7, 17, 59), TimeBand.WEEKDAY_DAYTIME),
        (utc(2026, 12, 7, 18, 0), TimeBand.WEEKDAY_EVENING),
        (utc(2026, 12, 7, 22, 59), TimeBand.WEEKDAY_EVENING),
        (utc(2026, 12, 7, 23, 0), TimeBand.NIGHT),
        (utc(2026, 12, 11, 23, 0), TimeBand.NIGHT),  # Friday 11pm: night, not the weekend
        (utc(2026, 12, 12, 8, 0), TimeBand.WEEKEND_DAYTIME),  # Saturday
        (utc(2026, 12, 13, 18, 0), TimeBand.WEEKEND_EVENING),  # Sunday
        (utc(2026, 12, 14, 0, 0), TimeBand.NIGHT),  # Monday midnight
        # Summer (BST = UTC+1): read on the London clock.
        (utc(2026, 7, 6, 17, 0), TimeBand.WEEKDAY_EVENING),  # 6pm BST
        (utc(2026, 7, 6, 16, 59), TimeBand.WEEKDAY_DAYTIME),  # 5:59pm BST
        (utc(2026, 7, 6, 7, 0), TimeBand.WEEKDAY_DAYTIME),  # 8am BST
        (utc(2026, 7, 6, 22, 0), TimeBand.NIGHT),  # 11pm BST
        (utc(2026, 7, 4, 23, 30), TimeBand.NIGHT),  # 00:30 BST on Sunday
    ],
)
def test_time_bands_at_their_edges(moment, band):
    assert time_band(moment) is band


def test_peak_overlap():
    nine, ten, eleven, twelve = (utc(2026, 12, 7, h) for h in (9, 10, 11, 12))
    assert peak_overlap([]) == 0
    assert peak_overlap([(nine, eleven, 2), (ten, twelve, 1)]) == 3  # 10 to 11: all three
    # One ending as the next starts: one person can do both.
    assert peak_overlap([(nine, ten, 1), (ten, eleven, 1), (eleven, twelve, 1)]) == 1
    assert peak_overlap([(nine, twelve, 1), (ten, eleven, 2), (nine, ten, 1)]) == 3
    assert peak_overlap([(nine, ten, 0)]) == 0


def test_percent_rounds_halves_up():
    assert percent(371, 412) == 90
    assert percent(1, 8) == 13  # 12.5
    assert percent(0, 5) == 0
    assert percent(3, 0) is None


def test_every_funnel_stage_label_maps_to_its_rule():
    # The stored funnel keeps only the labels, so the labels the matcher writes must all be readable here.
    for remote in (False, True):
        request = SimpleNamespace(start=utc(2026, 12, 3, 14), end=utc(2026, 12, 3, 16), remote=remote)
        for key, label in funnel._stage_labels(request):
            assert stage_rule(label) is StopRule(key), label
    assert stage_rule("volunteers") is None
    assert stage_rule("something new") is StopRule.UNKNOWN


def test_stopping_rule():
    stages = [
        ["volunteers", 40],
        ["have the skills", 12],
        ["cleared for this task on 3 December 2026", 9],
        ["can do this kind of task", 9],
        ["free 6pm to 9pm", 0],
        ["within their travel limit", 0],
        ["within their weekly hours", 0],
        ["with no conflict of interest", 0],
    ]
    assert stopping_rule(stages, 2) is StopRule.FREE  # where the count first reached 0
    # Never reached 0 and too few left: the biggest drop (40 → 12 at the skills).
    never = [["volunteers", 40], ["have the skills", 12], ["free 6pm to 9pm", 1], ["with no conflict of interest", 1]]
    assert stopping_rule(never, 2) is StopRule.SKILLS
    # Enough passed every rule: not the rules.
    assert stopping_rule(never, 1) is StopRule.ENOUGH
    assert stopping_rule([["volunteers", 0], ["have the skills", 0]], 1) is StopRule.NOBODY
    assert stopping_rule([["volunteers", 1], ["have the skills", 1]], 2) is StopRule.NOBODY
    assert stopping_rule(None, 1) is StopRule.NO_RUN
    assert stopping_rule([], 1) is StopRule.NO_RUN


def test_targets_and_their_sentences():
    evening = [utc(2026, 12, 7, 18), utc(2026, 12, 8, 19), utc(2026, 12, 8, 19, 30)]
    places = [
        UnfilledPlace("Camden", "Mental-health first aid", TimeBand.WEEKDAY_EVENING, s, s + dt.timedelta(hours=2), 2)
        for s in evening
    ] + [UnfilledPlace("Islington", None, TimeBand.NIGHT, utc(2026, 12, 9, 23), utc(2026, 12, 10, 1), 1)]
    found = targets(places)
    assert found == [
        # 6 places; at most 4 at once (the two on 8 December overlap).
        Target("Camden", "Mental-health first aid", TimeBand.WEEKDAY_EVENING, 4, 6),
        Target("Islington", None, TimeBand.NIGHT, 1, 1),
    ]
    assert found[0].sentence() == (
        "Camden: 4 more volunteers with Mental-health first aid free on weekday evenings would have filled 6 places"
    )
    assert found[1].sentence() == "Islington: 1 more volunteer free at night would have filled 1 place"
    assert len(targets(places * 1, limit=1)) == 1


def test_freshness_in_london_time():
    assert freshness(utc(2026, 12, 7, 21, 14)) == "Live figures, as of 9:14pm on 7 December 2026"
    assert freshness(utc(2026, 7, 1, 11, 0)) == "Live figures, as of midday on 1 July 2026"


def test_worked_out_says_when_in_london_time_and_how_often():
    assert (
        worked_out(utc(2026, 12, 7, 21, 10), 5) == "Figures as of 9:10pm on 7 December 2026, worked out every 5 minutes"
    )
    # British Summer Time: 11:00 UTC is midday in London.
    assert worked_out(utc(2026, 7, 1, 11, 0), 5) == "Figures as of midday on 1 July 2026, worked out every 5 minutes"
