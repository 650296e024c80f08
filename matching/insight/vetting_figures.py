"""The vetting dashboard: what is about to lapse, how long the queue is, what was decided, what is overdue.

Coordinators and sergeants see this page, and vetting detail is for vetting officers only: so every figure
here is a count, and nothing that names a person, or says why a review was opened or what its notes or
reasons were, is ever read. Counted by the volunteer's home ward, in SQL, fetched grouped.

- *Expiring*: clearances in a state that counts for deployment (``vetting.lifecycle.ACTIVE_STATES``:
  granted, granted with restrictions, renewal due) whose last valid day falls from today to the end of the
  eleventh month after this one, by London month and clearance type. From today, whatever the period: it is
  what is coming.
- *The queue*: open reviews now, by kind and by age (since they were opened).
- *Decisions*: reviews closed in the period, by week (Monday to Sunday, London time) and outcome.
- *Overdue*: open reviews past their due date (the vetting queue's own meaning: ``vetting.queries``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.charts import Chart, Page, Section, Series, Table, chart_from_table
from core.timeutil import london_to_utc, london_today
from core.wording import agree, plural
from matching.insight import rules
from matching.insight.buckets import bucket_index
from matching.insight.registry import Dashboard, register
from matching.insight.scope import Scope
from vetting.catalogue import CLEARANCE_TYPES, CLEARANCE_TYPES_BY_CODE
from vetting.lifecycle import ACTIVE_STATES, REVIEW_KIND_LABELS, ReviewKind
from vetting.models import OUTCOME_LABELS, Clearance, ReviewStatus, VettingReview
from volunteers.models import Volunteer

EXPIRY_MONTHS = 12
# The queue's age bands: (label, from days, up to days (exclusive) or None).
AGE_BANDS = (
    ("Under 2 weeks", 0, 14),
    ("2 to 4 weeks", 14, 28),
    ("4 to 8 weeks", 28, 56),
    ("Over 8 weeks", 56, None),
)
# Overdue by more than this is shown on its own: a review a month late is a clearance running past its check.
LONG_OVERDUE_DAYS = 28


def _month_after(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


def _in_area(query, scope: Scope):
    if scope.ward_ids is not None:
        query = query.where(Volunteer.home_ward_id.in_(scope.ward_ids))
    return query


def _type_name(code: str) -> str:
    kind = CLEARANCE_TYPES_BY_CODE.get(code)
    return f"{kind.name} ({code})" if kind else code


# ---- Expiring ----------------------------------------------------------------------------------------------


def expiry_months(today: dt.date) -> list[dt.date]:
    """The first days of this month and the 11 after it."""
    months = [today.replace(day=1)]
    while len(months) < EXPIRY_MONTHS:
        months.append(_month_after(months[-1]))
    return months


def expiring_table(db: Session, scope: Scope, today: dt.date) -> Table:
    """Clearances counting for deployment whose last valid day is in each of the next 12 London months, a row
    per clearance type (the months are the columns: twelve short numbers read better than a dozen long names)."""
    months = expiry_months(today)
    query = _in_area(
        select(Clearance.type_code, Clearance.expires_on, func.count())
        .join(Volunteer, Volunteer.id == Clearance.volunteer_id)
        .where(
            Clearance.state.in_(ACTIVE_STATES),
            Clearance.expires_on >= today,
            Clearance.expires_on < _month_after(months[-1]),
        )
        .group_by(Clearance.type_code, Clearance.expires_on),
        scope,
    )
    counts: dict[tuple[str, dt.date], int] = defaultdict(int)
    for code, expires_on, count in db.execute(query):
        # ``expires_on`` is a London date (the last valid day): its month is the month it lapses in.
        counts[(code, expires_on.replace(day=1))] += count
    present = {code for code, _month in counts}
    codes = [t.code for t in CLEARANCE_TYPES if t.code in present] + sorted(present - {t.code for t in CLEARANCE_TYPES})
    rows = []
    for code in codes:
        cells = [counts.get((code, month), 0) for month in months]
        rows.append((_type_name(code), *cells, sum(cells)))
    if rows:
        rows.append(("All types", *(sum(row[index] for row in rows) for index in range(1, len(months) + 2))))
    return Table(
        id="expiring",
        caption="Clearances expiring, by type and month",
        headers=("Clearance type", *(f"{month:%b %Y}" for month in months), "All 12 months"),
        rows=tuple(rows),
        numeric=frozenset(range(1, len(months) + 2)),
        empty_text="No clearance in this area expires in the next 12 months.",
    )


def expiring_chart(table: Table, months: list[dt.date]) -> Chart:
    """The table's types stacked month by month (a table with clearances in it: its last row is the total)."""
    type_rows = table.rows[:-1]
    totals = table.rows[-1][1:-1]
    busiest = max(range(len(months)), key=lambda index: (totals[index], -index))
    summary = (
        f"{plural(table.rows[-1][-1], 'clearance')} {agree(table.rows[-1][-1], 'expires', 'expire')} in the "
        f"next 12 months; the most in {months[busiest]:%B %Y} ({totals[busiest]})."
    )
    return Chart(
        title="Clearances expiring each month, by type",
        summary=summary,
        labels=tuple(table.headers[1:-1]),
        # The legend names each type by its code; the table beside the chart spells out its name.
        series=tuple(Series(str(row[0]).rsplit("(", 1)[-1].rstrip(")"), tuple(row[1:-1])) for row in type_rows),
        kind="stacked",
        y_title="Clearances",
    )


# ---- The queue ---------------------------------------------------------------------------------------------


def _kind_label(kind: ReviewKind | str) -> str:
    return REVIEW_KIND_LABELS.get(ReviewKind(kind), str(kind))


def queue_table(db: Session, scope: Scope, now: dt.datetime) -> Table:
    """Open reviews now, by kind and by how long ago they were opened."""
    # One column per age band, summed by kind. A band holds the reviews opened after its far edge and no later
    # than its near one; the newest band has no near edge (a review stamped a moment ahead is still new).
    columns = []
    for _label, start, upto in AGE_BANDS:
        conditions = []
        if start:
            conditions.append(VettingReview.opened_at <= now - dt.timedelta(days=start))
        if upto is not None:
            conditions.append(VettingReview.opened_at > now - dt.timedelta(days=upto))
        columns.append(func.sum(case((and_(*conditions), 1), else_=0)))
    query = _in_area(
        select(VettingReview.kind, *columns)
        .join(Volunteer, Volunteer.id == VettingReview.volunteer_id)
        .where(VettingReview.status == ReviewStatus.OPEN)
        .group_by(VettingReview.kind),
        scope,
    )
    counts: dict[tuple[ReviewKind, int], int] = defaultdict(int)
    for kind, *bands in db.execute(query):
        for index, value in enumerate(bands):
            counts[(ReviewKind(kind), index)] += int(value or 0)
    rows = []
    for kind in ReviewKind:
        cells = [counts.get((kind, index), 0) for index in range(len(AGE_BANDS))]
        rows.append((_kind_label(kind), *cells, sum(cells)))
    totals = [sum(row[index] for row in rows) for index in range(1, len(AGE_BANDS) + 2)]
    rows.append(("All reviews", *totals))
    return Table(
        id="queue",
        caption="Open reviews now, by kind and age",
        headers=("Kind of review", *(label for label, _s, _u in AGE_BANDS), "All ages"),
        rows=tuple(rows),
        numeric=frozenset(range(1, len(AGE_BANDS) + 2)),
    )


def queue_summary(table: Table) -> str:
    total_row = table.rows[-1]
    total = total_row[-1]
    if not total:
        return "No review is open in this area."
    oldest = total_row[len(AGE_BANDS)]
    return (
        f"{plural(total, 'review')} open; {oldest} of them opened more than 8 weeks ago."
        if oldest
        else f"{plural(total, 'review')} open, none of them opened more than 8 weeks ago."
    )


# ---- Decisions ---------------------------------------------------------------------------------------------


def week_buckets(scope: Scope) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """(Monday, start, end) of each London week the period touches, the first and last cut to the period."""
    monday = scope.first_day - dt.timedelta(days=scope.first_day.weekday())
    buckets = []
    while monday <= scope.last_day:
        start = max(london_to_utc(monday, dt.time(0, 0)), scope.starts_at)
        end = min(london_to_utc(monday + dt.timedelta(days=7), dt.time(0, 0)), scope.ends_at)
        buckets.append((monday, start, end))
        monday += dt.timedelta(days=7)
    return buckets


def _outcome_label(outcome: str | None) -> str:
    if not outcome:
        return "Closed"
    return OUTCOME_LABELS.get(outcome, outcome.replace("_", " ").capitalize())


def decisions_table(db: Session, scope: Scope) -> Table:
    """Reviews closed in each week of the period, by outcome: one grouped row per outcome."""
    buckets = week_buckets(scope)
    closed = _in_area(
        select(
            VettingReview.outcome.label("outcome"),
            bucket_index(VettingReview.closed_at, [end for _monday, _start, end in buckets]).label("week"),
        )
        .join(Volunteer, Volunteer.id == VettingReview.volunteer_id)
        .where(
            VettingReview.status == ReviewStatus.CLOSED,
            VettingReview.closed_at >= scope.starts_at,
            VettingReview.closed_at < scope.ends_at,
        ),
        scope,
    ).subquery()
    query = select(closed.c.outcome, closed.c.week, func.count()).group_by(closed.c.outcome, closed.c.week)
    by_label: dict[str, list[int]] = {}
    for outcome, week, count in db.execute(query):
        by_label.setdefault(_outcome_label(outcome), [0] * len(buckets))[int(week)] += count
    order = {label: index for index, label in enumerate(OUTCOME_LABELS.values())}
    labels = sorted(by_label, key=lambda label: (order.get(label, len(order)), label))
    rows = []
    for index, (monday, _start, _end) in enumerate(buckets):
        cells = [by_label[label][index] for label in labels]
        rows.append((f"{monday.day} {monday:%B %Y}", *cells, sum(cells)))
    return Table(
        id="decisions",
        caption="Reviews decided each week, by outcome (weeks starting on the Monday shown)",
        headers=("Week starting", *labels, "All decisions"),
        rows=tuple(rows),
        numeric=frozenset(range(1, len(labels) + 2)),
    )


def decisions_summary(table: Table) -> str:
    total = sum(row[-1] for row in table.rows)
    if not total:
        return "No review in this area was decided in this period."
    weeks = len(table.rows)
    return f"{plural(total, 'review')} decided in {plural(weeks, 'week')}, about {round(total / weeks, 1)} a week."


# ---- Overdue -----------------------------------------------------------------------------------------------


def overdue_table(db: Session, scope: Scope, today: dt.date) -> Table:
    """Open reviews past their due date, by kind, and of them those overdue by more than four weeks."""
    long_overdue = today - dt.timedelta(days=LONG_OVERDUE_DAYS)
    query = _in_area(
        select(
            VettingReview.kind,
            func.count(),
            func.sum(case((VettingReview.due_on < long_overdue, 1), else_=0)),
        )
        .join(Volunteer, Volunteer.id == VettingReview.volunteer_id)
        .where(VettingReview.status == ReviewStatus.OPEN, VettingReview.due_on < today)
        .group_by(VettingReview.kind),
        scope,
    )
    counts = {ReviewKind(kind): (count, int(late or 0)) for kind, count, late in db.execute(query)}
    rows = [(_kind_label(kind), *counts.get(kind, (0, 0))) for kind in ReviewKind]
    rows.append(("All reviews", sum(row[1] for row in rows), sum(row[2] for row in rows)))
    return Table(
        id="overdue",
        caption="Open reviews past their due date, by kind",
        headers=("Kind of review", "Overdue", "Overdue by more than 4 weeks"),
        rows=tuple(rows),
        numeric=frozenset({1, 2}),
    )


# ---- The page ----------------------------------------------------------------------------------------------


def build(db: Session, scope: Scope, now: dt.datetime) -> Page:
    today = london_today(now)
    expiring = expiring_table(db, scope, today)
    queue = queue_table(db, scope, now)
    decisions = decisions_table(db, scope)
    overdue = overdue_table(db, scope, today)
    overdue_total, long_total = overdue.rows[-1][1], overdue.rows[-1][2]
    sections = (
        Section(
            id="expiring",
            heading="Clearances expiring in the next 12 months",
            paragraphs=(
                "Clearances that count for deployment now (granted, granted with restrictions, or renewal due), "
                "by the month of their last valid day, from today. A clearance renewed in time is replaced by "
                "its renewal and no longer counted here.",
            ),
            chart=expiring_chart(expiring, expiry_months(today)) if expiring.rows else None,
            tables=(expiring,),
        ),
        Section(
            id="queue",
            heading="The vetting queue now",
            paragraphs=("Reviews open now, by how long ago they were opened.",),
            chart=Chart(
                title="Open reviews by age",
                summary=queue_summary(queue),
                labels=tuple(str(row[0]) for row in queue.rows[:-1]),
                series=tuple(
                    Series(label, tuple(row[index + 1] for row in queue.rows[:-1]))
                    for index, (label, _s, _u) in enumerate(AGE_BANDS)
                ),
                kind="stacked",
                y_title="Reviews",
            ),
            tables=(queue,),
        ),
        Section(
            id="decisions",
            heading="Decisions each week",
            paragraphs=(f"Reviews closed in the period ({scope.period_label.lower()}), by their outcome.",),
            chart=chart_from_table(
                decisions,
                "Reviews decided each week",
                decisions_summary(decisions),
                list(range(1, len(decisions.headers) - 1)) or [len(decisions.headers) - 1],
                kind="stacked",
                y_title="Decisions",
            ),
            tables=(decisions,),
        ),
        Section(
            id="overdue",
            heading="Overdue reviews",
            paragraphs=(
                (
                    f"{plural(overdue_total, 'review')} open past their due date, {long_total} of them by more "
                    "than 4 weeks. An overdue renewal is a clearance running past its check; an overdue "
                    "application is a person waiting past the force's promise."
                )
                if overdue_total
                else "No open review in this area is past its due date.",
            ),
            tables=(overdue,),
        ),
    )
    return Page(
        title="Vetting",
        freshness=rules.freshness(now) + ". Counts only: vetting detail is for vetting officers.",
        sections=sections,
    )


register(
    Dashboard(
        slug="vetting",
        title="Vetting",
        description="Clearances expiring in the next 12 months, the vetting queue, decisions and overdue reviews.",
        build=build,
    )
)
