"""The coverage dashboard: places asked, offered, booked, served and unfilled, by priority, week by week.

``weekly_coverage`` is the one reading of the figures: this page shows it and the API's ``/api/v1/coverage``
serves it. It sums the summary ``coverage_days`` (one row per ward, London day and priority, worked out every
five minutes by ``summaries.refresh``) in the database, grouped by week and priority, so a year of London's
requests costs a few hundred grouped rows and no join with the offers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.charts import Chart, Page, Section, Series, Table
from core.db import utcnow
from core.timeutil import format_date
from core.wording import plural
from matching.insight import summaries
from matching.insight.buckets import bucket_index
from matching.insight.models import CoverageDay
from matching.insight.registry import Dashboard, register
from matching.insight.rules import freshness, percent, weeks
from matching.insight.scope import Scope
from matching.models import PRIORITY_LABELS, Priority, SupportRequest

# Most pressing first, as the matcher covers them.
PRIORITIES = (Priority.URGENT, Priority.PRIORITY, Priority.ROUTINE)

DEFINITIONS = (
    "Asked: the places (people needed) of the requests whose window starts in the period, in the area. "
    "Cancelled requests are left out of every figure but Cancelled.",
    "Offered: places for which at least one volunteer was offered, whatever they answered "
    "(a request of 3 people offered to 2 different volunteers counts 2).",
    "Booked: places a volunteer has accepted and still holds, including bookings already done.",
    "Served: bookings whose attendance a sergeant has confirmed.",
    "Unfilled: places not booked on requests whose time has come. Places not yet booked on requests still "
    "to come are Still open, not unfilled: they may yet be filled.",
    "Cancelled: the places of requests the sergeant cancelled.",
    "A week runs from Monday to Sunday, London time. The first and last weeks of the period may be part weeks.",
)


@dataclass(frozen=True)
class CoverageRow:
    """One week and priority's figures (places, not requests). Stable: the API serves these fields.

    ``week_start`` is the Monday (London) of the week; the week's part outside the scope's period never counts.
    ``asked = booked + unfilled + still_open`` always; ``offered`` is at least ``booked``; ``served`` at most
    ``booked``. ``cancelled`` counts the places of cancelled requests, which no other figure includes.
    """

    week_start: dt.date
    priority: Priority
    asked: int
    offered: int
    booked: int
    served: int
    unfilled: int
    still_open: int
    cancelled: int


def weekly_coverage(db: Session, scope: Scope, now: dt.datetime | None = None) -> list[CoverageRow]:
    """Every week of ``scope``'s period × every priority (zeros included), oldest week first, urgent first.

    A request counts in the week its window starts, if that is in the period and its ward is in the scope.
    The figures are the summaries' (``summaries.ensure``: worked out every five minutes, at once if never or
    long ago), whose moment divides unfilled places (time has come) from still open ones; a period outside the
    days they cover (the API may ask for an older one) is read live, as of ``now`` (default: the app's clock).
    """
    now = now or utcnow()
    period = weeks(scope.first_day, scope.last_day)
    if not period:
        return []
    fresh = summaries.ensure(db, now)
    if not fresh.covers(scope.first_day, scope.last_day):
        return live_weekly_coverage(db, scope, now)
    conditions = [CoverageDay.day >= scope.first_day, CoverageDay.day <= scope.last_day]
    if scope.ward_ids is not None:
        conditions.append(CoverageDay.ward_id.in_(sorted(scope.ward_ids) or [-1]))
    names = ("asked", "offered", "booked", "served", "unfilled", "still_open", "cancelled")
    # The week index is worked out in a subquery and grouped on outside (see ``buckets``).
    inner = (
        select(
            bucket_index(CoverageDay.day, [week.monday + dt.timedelta(days=7) for week in period]).label("week"),
            CoverageDay.priority.label("priority"),
            *(getattr(CoverageDay, name).label(name) for name in names),
        )
        .where(*conditions)
        .subquery()
    )
    rows = db.execute(
        select(inner.c.week, inner.c.priority, *(func.sum(inner.c[name]) for name in names)).group_by(
            inner.c.week, inner.c.priority
        )
    ).all()
    return _rows(period, rows)


def live_weekly_coverage(db: Session, scope: Scope, now: dt.datetime) -> list[CoverageRow]:
    """``weekly_coverage`` read from the requests, offers and deployments themselves, as of ``now``: for a
    period the summaries do not cover. One query, grouped by week and priority."""
    period = weeks(scope.first_day, scope.last_day)
    if not period:
        return []
    conditions = [SupportRequest.window_start >= scope.starts_at, SupportRequest.window_start < scope.ends_at]
    if scope.ward_ids is not None:
        conditions.append(SupportRequest.ward_id.in_(sorted(scope.ward_ids) or [-1]))
    figures, joins = summaries.request_figures(conditions, now)
    names = ("asked", "offered", "booked", "served", "unfilled", "still_open", "cancelled")
    inner = (
        summaries.request_joins(
            select(
                bucket_index(SupportRequest.window_start, [week.ends_at for week in period]).label("week"),
                SupportRequest.priority.label("priority"),
                *(column.label(name) for column, name in zip(figures, names, strict=True)),
            ),
            joins,
        )
        .where(*conditions)
        .subquery()
    )
    rows = db.execute(
        select(inner.c.week, inner.c.priority, *(func.sum(inner.c[name]) for name in names)).group_by(
            inner.c.week, inner.c.priority
        )
    ).all()
    return _rows(period, rows)


def _rows(period: list, rows) -> list[CoverageRow]:
    found = {(int(row[0]), Priority(row[1])): tuple(int(v or 0) for v in row[2:]) for row in rows}
    return [
        CoverageRow(week.monday, priority, *found.get((index, priority), (0,) * 7))
        for index, week in enumerate(period)
        for priority in PRIORITIES
    ]


# ---- The page ------------------------------------------------------------------------------------

_HEADERS = ("Asked", "Offered", "Booked", "Served", "Unfilled", "Still open", "Cancelled")
_NUMERIC = frozenset(range(1, len(_HEADERS) + 1))


def _figures(rows: list[CoverageRow]) -> tuple[int, ...]:
    return tuple(
        sum(getattr(r, name) for r in rows)
        for name in ("asked", "offered", "booked", "served", "unfilled", "still_open", "cancelled")
    )


def summary(rows: list[CoverageRow]) -> str:
    """The sentence a reader takes from the figures: "Of 412 places asked, 371 were booked (90%); 18 urgent
    places went unfilled." """
    asked, _offered, booked, _served, unfilled, still_open, _cancelled = _figures(rows)
    if asked == 0:
        return "No places were asked for in this period."
    booked_words = f"{booked:,} {'was' if booked == 1 else 'were'} booked ({percent(booked, asked)}%)"
    words = f"Of {plural(asked, 'place')} asked, {booked_words}"
    urgent = sum(r.unfilled for r in rows if r.priority is Priority.URGENT)
    if unfilled:
        words += f"; {plural(unfilled, 'place')} went unfilled"
        words += f", {urgent:,} of them urgent" if urgent else ", none of them urgent"
    else:
        words += "; none went unfilled"
    if still_open:
        words += f"; {plural(still_open, 'place')} still to come {'is' if still_open == 1 else 'are'} open"
    return words + "."


def build(db: Session, scope: Scope, now: dt.datetime) -> Page:
    fresh = summaries.ensure(db, now)
    rows = weekly_coverage(db, scope, now)
    by_week: dict[dt.date, list[CoverageRow]] = {}
    for row in rows:
        by_week.setdefault(row.week_start, []).append(row)
    # The charts stack booked, still open and unfilled (which add up to asked), unfilled last: the figure to act
    # on, drawn in the palette's red and named in the legend and the table.
    weekly = Table(
        id="coverage-by-week",
        caption="Places by week (all priorities)",
        headers=("Week beginning", *_HEADERS),
        rows=tuple((format_date(monday), *_figures(week_rows)) for monday, week_rows in by_week.items()),
        numeric=_NUMERIC,
    )
    unfilled_by_week = {monday: sum(r.unfilled for r in week_rows) for monday, week_rows in by_week.items()}
    worst = max(unfilled_by_week, key=lambda monday: (unfilled_by_week[monday], monday), default=None)
    weekly_chart = Chart(
        title="Places booked, still open and unfilled, week by week",
        summary=(
            f"The most places went unfilled in the week beginning {format_date(worst)}: {unfilled_by_week[worst]:,}."
            if worst is not None and unfilled_by_week[worst]
            else "No places went unfilled in this period."
        ),
        labels=tuple(f"{monday.day} {monday:%b}" for monday in by_week),
        series=tuple(
            Series(name, tuple(_figures(week_rows)[column] for week_rows in by_week.values()))
            for name, column in (("Booked", 2), ("Still open", 5), ("Unfilled", 4))
        ),
        kind="stacked",
        y_title="Places",
    )
    by_priority_rows = [(PRIORITY_LABELS[p], *_figures([r for r in rows if r.priority is p])) for p in PRIORITIES]
    by_priority = Table(
        id="coverage-by-priority",
        caption="Places by priority, the whole period",
        headers=("Priority", *_HEADERS),
        rows=(*by_priority_rows, ("All priorities", *_figures(rows))),
        numeric=_NUMERIC,
    )
    urgent_unfilled = by_priority_rows[0][5]
    priority_chart = Chart(
        title="Places booked, still open and unfilled, by priority",
        summary=(
            f"{plural(urgent_unfilled, 'urgent place')} went unfilled."
            if urgent_unfilled
            else "No urgent place went unfilled."
        ),
        labels=tuple(row[0] for row in by_priority_rows),
        series=tuple(
            Series(name, tuple(row[column] for row in by_priority_rows))
            for name, column in (("Booked", 3), ("Still open", 6), ("Unfilled", 5))
        ),
        kind="stacked",
        y_title="Places",
    )
    return Page(
        title="Coverage",
        freshness=fresh.words() if fresh.covers(scope.first_day, scope.last_day) else freshness(now),
        sections=(
            Section(
                id="by-week",
                heading="Week by week",
                paragraphs=(summary(rows),),
                chart=weekly_chart,
                tables=(weekly,),
            ),
            Section(
                id="by-priority",
                heading="By priority",
                chart=priority_chart,
                tables=(by_priority,),
            ),
            Section(id="definitions", heading="What the figures mean", bullets=DEFINITIONS),
        ),
    )


register(
    Dashboard(
        slug="coverage",
        title="Coverage",
        description="Places asked, offered, booked, served and unfilled, by priority, week by week.",
        build=build,
    )
)
