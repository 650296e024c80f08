"""The people dashboard: who joined, paused and left; specials' hours against their commitment; abstraction.

Counted by the volunteer's home ward (the panel's ward for abstraction), in SQL, fetched grouped: a row of
sums for the months of the period, a row of red / amber / green counts for six months of specials.

- *Joined*: volunteers whose profile was made in the month (they applied), less those whose application did
  not go ahead. *Paused*: pauses (a volunteer stepping back) starting in the month. *Left*: volunteers who
  left in the month. A coordinator setting someone's status to paused leaves no date, so it is not counted.
- *Specials*: the red / amber / green of ``matching.hours`` (its rules and the force's SPECIALS_GREEN_PERCENT
  and SPECIALS_AMBER_PERCENT), counted for the active and paused specials as the commitment table lists them,
  in each of this month and the five before it that they had joined by.
- *Abstraction*: the local-first figures each successful run saved (``MatchRun.abstraction``, see
  docs/matching.md, "Local first"), added up over the runs made in the period, for the area's wards.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, case, false, func, literal, or_, select
from sqlalchemy.orm import Session

from core.charts import Chart, Page, Section, Series, Table, Tag, chart_from_table
from core.geography.models import Borough, Ward
from core.timeutil import london_to_utc, london_today
from core.wording import plural
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.hours import rules
from matching.hours.models import DutyHours, DutyState
from matching.hours.services import TABLE_MONTHS, commitment_of
from matching.insight import rules as insight_rules
from matching.insight.registry import Dashboard, register
from matching.insight.scope import Scope
from matching.models import MatchRun, Offer, RunStatus
from volunteers.models import Volunteer, VolunteerKind, VolunteerPause, VolunteerStatus
from volunteers.panels.models import PanelState, WardPanelMembership

# The specials the commitment table lists (``matching.hours.services``): on the books, stepped back or not.
ON_DUTY = (VolunteerStatus.ACTIVE, VolunteerStatus.PAUSED)
RAG_COLOURS = {rules.Rag.GREEN: "green", rules.Rag.AMBER: "yellow", rules.Rag.RED: "red"}
RAG_ORDER = (rules.Rag.GREEN, rules.Rag.AMBER, rules.Rag.RED)
CHART_WARDS = 15
# A threshold no month's minutes reach.
NEVER = 2**31 - 1


def _midnight(day: dt.date) -> dt.datetime:
    return london_to_utc(day, dt.time(0, 0))


def _in_area(query, scope: Scope):
    if scope.ward_ids is not None:
        query = query.where(Volunteer.home_ward_id.in_(scope.ward_ids))
    return query


def _between(column, start, end):
    return func.sum(case((and_(column >= start, column < end), 1), else_=0))


# ---- Joined, paused, left ----------------------------------------------------------------------------------


class MonthSpan(NamedTuple):
    first: dt.date  # the month's first day
    start: dt.date  # the days counted: the month cut to the period
    end: dt.date  # exclusive


def period_months(scope: Scope) -> list[MonthSpan]:
    """The London months the period touches, oldest first, each cut to the period."""
    spans = []
    first = scope.first_day.replace(day=1)
    while first <= scope.last_day:
        following = rules.add_months(first, 1)
        spans.append(MonthSpan(first, max(first, scope.first_day), min(following, scope.last_day + dt.timedelta(1))))
        first = following
    return spans


def movement_table(db: Session, scope: Scope) -> Table:
    months = period_months(scope)
    joined = _in_area(
        select(*(_between(Volunteer.created_at, _midnight(m.start), _midnight(m.end)) for m in months)).where(
            Volunteer.created_at >= scope.starts_at,
            Volunteer.created_at < scope.ends_at,
            Volunteer.status != VolunteerStatus.NOT_ACCEPTED,
        ),
        scope,
    )
    paused = _in_area(
        select(*(_between(VolunteerPause.first_day, m.start, m.end) for m in months))
        .join(Volunteer, Volunteer.id == VolunteerPause.volunteer_id)
        .where(VolunteerPause.first_day >= scope.first_day, VolunteerPause.first_day <= scope.last_day),
        scope,
    )
    left = _in_area(
        select(*(_between(Volunteer.left_at, _midnight(m.start), _midnight(m.end)) for m in months)).where(
            Volunteer.status == VolunteerStatus.LEFT,
            Volunteer.left_at >= scope.starts_at,
            Volunteer.left_at < scope.ends_at,
        ),
        scope,
    )
    counts = [[int(value or 0) for value in db.execute(query).one()] for query in (joined, paused, left)]
    rows = []
    for index, month in enumerate(months):
        partial = month.start != month.first or month.end != rules.add_months(month.first, 1)
        rows.append((f"{month.first:%B %Y}" + (" (part)" if partial else ""), *(column[index] for column in counts)))
    return Table(
        id="joined-paused-left",
        caption="Volunteers who joined, paused and left, by month",
        headers=("Month", "Joined", "Paused", "Left"),
        rows=tuple(rows),
        numeric=frozenset({1, 2, 3}),
    )


def movement_summary(table: Table) -> str:
    joined, paused, left = (sum(row[index] for row in table.rows) for index in (1, 2, 3))
    if not (joined or paused or left):
        return "Nobody joined, paused or left in this period."
    return f"{plural(joined, 'volunteer')} joined, {paused} paused and {left} left in the period."


# ---- Specials against their commitment ---------------------------------------------------------------------


class _Profile(NamedTuple):
    """What ``commitment_of`` reads of a volunteer, without loading the whole row."""

    kind: VolunteerKind
    monthly_commitment_minutes: int | None


def least_minutes(commitment: int, reached: frozenset[rules.Rag], green_percent: int, amber_percent: int) -> int:
    """The fewest minutes served that ``rules.rag`` puts in one of ``reached`` for this commitment.

    ``rules.rag`` stays the one definition of red / amber / green: it only ever rises with the minutes served,
    so the counting in SQL compares each special's minutes with the thresholds found here from it, rather than
    writing the percentages out a second time.
    """
    low, high = 0, commitment * (max(green_percent, amber_percent, 0) + 100) // 100 + 1
    if rules.rag(high, commitment, green_percent, amber_percent) not in reached:
        return NEVER
    while low < high:
        middle = (low + high) // 2
        if rules.rag(middle, commitment, green_percent, amber_percent) in reached:
            high = middle
        else:
            low = middle + 1
    return low


def specials_counts(
    db: Session, scope: Scope, now: dt.datetime, green_percent: int, amber_percent: int
) -> tuple[list[dt.date], dict[tuple[dt.date, rules.Rag], int]]:
    """(months oldest first, (month, red/amber/green) → how many specials), for the area's specials.

    Flask-free: the thresholds are passed in. Counted in one statement that returns one row, whatever the number
    of specials: their time served summed per London month (an attended deployment by the London month it
    started, approved duty hours by their date, as ``matching.hours.services.served_by_volunteer`` counts it),
    each month compared with the thresholds ``rules.rag`` gives for their commitment (``least_minutes``).
    """
    months = rules.last_months(london_today(now), TABLE_MONTHS)
    bounds = [(month, rules.add_months(month, 1)) for month in months]
    moments = [(_midnight(first), _midnight(following)) for first, following in bounds]
    specials = (Volunteer.kind == VolunteerKind.SPECIAL, Volunteer.status.in_(ON_DUTY))
    # Only the area's specials' time is summed: a sergeant's page reads their wards' rows, not London's.
    area_specials = _in_area(select(Volunteer.id).where(*specials), scope)
    deployed = (
        select(
            Deployment.volunteer_id.label("volunteer_id"),
            *(
                func.sum(
                    case((and_(Offer.starts_at >= start, Offer.starts_at < end), Deployment.served_minutes), else_=0)
                ).label(f"m{index}")
                for index, (start, end) in enumerate(moments)
            ),
        )
        .join(Offer, Offer.id == Deployment.offer_id)
        .where(
            Deployment.volunteer_id.in_(area_specials),
            Deployment.outcome == DeploymentOutcome.ATTENDED,
            Deployment.served_minutes.is_not(None),
            Offer.starts_at >= moments[0][0],
            Offer.starts_at < moments[-1][1],
        )
        .group_by(Deployment.volunteer_id)
        .subquery()
    )
    duty = (
        select(
            DutyHours.volunteer_id.label("volunteer_id"),
            *(
                func.sum(
                    case((and_(DutyHours.on_date >= first, DutyHours.on_date < following), DutyHours.minutes), else_=0)
                ).label(f"m{index}")
                for index, (first, following) in enumerate(bounds)
            ),
        )
        .where(
            DutyHours.volunteer_id.in_(area_specials),
            DutyHours.state == DutyState.APPROVED,
            DutyHours.on_date >= bounds[0][0],
            DutyHours.on_date < bounds[-1][1],
        )
        .group_by(DutyHours.volunteer_id)
        .subquery()
    )
    # Each commitment recorded among the area's specials (a handful of values), as ``commitment_of`` reads it.
    recorded = db.scalars(_in_area(select(Volunteer.monthly_commitment_minutes).where(*specials).distinct(), scope))
    commitments = {
        value: commitment_of(_Profile(VolunteerKind.SPECIAL, value))[0]  # type: ignore[arg-type]
        for value in recorded
    }
    commitments = {value: minutes for value, minutes in commitments.items() if minutes and minutes > 0}
    if not commitments:
        return months, {}

    def threshold(reached: frozenset[rules.Rag]):
        by_value = {
            value: least_minutes(minutes, reached, green_percent, amber_percent)
            for value, minutes in commitments.items()
        }
        default = by_value.pop(None, NEVER)
        if not by_value:  # every special on the force's default commitment: one threshold for all
            return literal(default)
        return case(
            *((Volunteer.monthly_commitment_minutes == value, minutes) for value, minutes in by_value.items()),
            else_=default,
        )

    green_from = threshold(frozenset({rules.Rag.GREEN}))
    amber_from = threshold(frozenset({rules.Rag.GREEN, rules.Rag.AMBER}))
    columns = []
    for index, (_start, end) in enumerate(moments):
        served = func.coalesce(getattr(deployed.c, f"m{index}"), 0) + func.coalesce(getattr(duty.c, f"m{index}"), 0)
        joined = Volunteer.created_at < end  # counted from the month they joined in
        columns += [
            func.sum(case((and_(joined, served >= green_from), 1), else_=0)),
            func.sum(case((and_(joined, served < green_from, served >= amber_from), 1), else_=0)),
            func.sum(case((and_(joined, served < green_from, served < amber_from), 1), else_=0)),
        ]
    query = _in_area(
        select(*columns)
        .select_from(Volunteer)
        .outerjoin(deployed, deployed.c.volunteer_id == Volunteer.id)
        .outerjoin(duty, duty.c.volunteer_id == Volunteer.id)
        .where(
            *specials,
            or_(
                *(Volunteer.monthly_commitment_minutes == value for value in commitments if value is not None),
                Volunteer.monthly_commitment_minutes.is_(None) if None in commitments else false(),
            ),
        ),
        scope,
    )
    figures = [int(value or 0) for value in db.execute(query).one()]
    counts = {}
    for index, month in enumerate(months):
        for position, rag in enumerate(RAG_ORDER):
            counts[(month, rag)] = figures[index * len(RAG_ORDER) + position]
    return months, counts


def _month_label(month: dt.date, this_month: dt.date) -> str:
    return f"{month:%B %Y}" + (" (so far)" if month == this_month else "")


def specials_table(months: list[dt.date], counts: dict[tuple[dt.date, rules.Rag], int]) -> Table:
    this_month = months[-1]
    rows = [
        (Tag(rules.RAG_LABELS[rag], RAG_COLOURS[rag]), *(counts.get((month, rag), 0) for month in months))
        for rag in RAG_ORDER
    ]
    rows.append(("All specials", *(sum(counts.get((month, rag), 0) for rag in RAG_ORDER) for month in months)))
    return Table(
        id="specials-commitment",
        caption="Special constables by hours served against their monthly commitment",
        headers=("Hours served", *(_month_label(month, this_month) for month in months)),
        rows=tuple(rows),
        numeric=frozenset(range(1, len(months) + 1)),
        empty_text="No special constable in this area.",
    )


def specials_summary(table: Table, months: list[dt.date]) -> str:
    # The last whole month: this one is still running, so most specials are still short of it.
    index = len(months) - 1
    everyone = table.rows[-1][index]
    if everyone:
        met, well_below = table.rows[0][index], table.rows[2][index]
        return (
            f"In {months[-2]:%B %Y}, {met} of {plural(everyone, 'special')} met their commitment "
            f"and {well_below} served well below it."
        )
    # Nobody was a special here last month: say how this month is going instead.
    everyone = table.rows[-1][-1]
    if not everyone:
        return "No special constable in this area."
    return f"This month so far, {table.rows[0][-1]} of {plural(everyone, 'special')} have met their commitment."


# ---- Abstraction -------------------------------------------------------------------------------------------


def abstraction_table(db: Session, scope: Scope) -> Table:
    """Per ward of the area that has a panel or whose panel worked elsewhere: the runs' figures added up."""
    runs = select(MatchRun.abstraction).where(
        MatchRun.status == RunStatus.SUCCEEDED,
        MatchRun.created_at >= scope.starts_at,
        MatchRun.created_at < scope.ends_at,
        MatchRun.abstraction.is_not(None),
        MatchRun.abstraction != "{}",
    )
    runs_away: dict[int, int] = defaultdict(int)
    hours: dict[int, float] = defaultdict(float)
    unfilled: dict[int, int] = defaultdict(int)
    for (text,) in db.execute(runs):
        for ward, figures in json.loads(text).items():
            ward_id = int(ward)
            if scope.covers_ward(ward_id):
                runs_away[ward_id] += 1
                hours[ward_id] += figures["hours_elsewhere"]
                unfilled[ward_id] += figures["places_unfilled"]
    panels = select(WardPanelMembership.ward_id).distinct().where(WardPanelMembership.state == PanelState.MEMBER)
    if scope.ward_ids is not None:
        panels = panels.where(WardPanelMembership.ward_id.in_(scope.ward_ids))
    ward_ids = set(db.scalars(panels)) | set(runs_away)
    wards = db.execute(
        select(Ward.id, Ward.name, Borough.name)
        .join(Borough, Borough.id == Ward.borough_id)
        .where(Ward.id.in_(sorted(ward_ids) or [-1]))
    ).all()
    rows = sorted(
        (
            (
                f"{name} ({borough})",
                runs_away.get(ward_id, 0),
                round(hours.get(ward_id, 0.0), 2),
                unfilled.get(ward_id, 0),
            )
            for ward_id, name, borough in wards
        ),
        key=lambda row: (-row[2], -row[3], row[0]),
    )
    return Table(
        id="abstraction",
        caption="Ward panels working in other wards, by ward",
        headers=(
            "Ward",
            "Runs that sent its panel elsewhere",
            "Panel hours given to other wards",
            "Local places unfilled meanwhile",
        ),
        rows=tuple(rows),
        numeric=frozenset({1, 2, 3}),
        empty_text="No ward in this area has a panel, and no run sent a panel member to another ward.",
    )


def abstraction_summary(table: Table) -> str:
    away = [row for row in table.rows if row[2]]
    if not away:
        return "No run in this period sent a ward's panel members to another ward."
    top = away[0]
    total = round(sum(row[2] for row in away), 2)
    return (
        f"Panels gave {total:g} hours to other wards from {plural(len(away), 'ward')}; the most from "
        f"{top[0]} ({top[2]:g} hours, with {plural(top[3], 'local place')} unfilled meanwhile)."
    )


def abstraction_chart(table: Table) -> Chart | None:
    """The wards whose panels worked elsewhere (the most hours first, at most ``CHART_WARDS``); the table lists
    every ward with a panel."""
    away = tuple(row for row in table.rows if row[1])[:CHART_WARDS]
    if not away:
        return None
    summary = abstraction_summary(table)
    if len(away) < len([row for row in table.rows if row[1]]):
        summary += f" The {len(away)} wards with the most hours are drawn; every ward is in the table."
    return Chart(
        title="Panel hours given to other wards, by ward",
        summary=summary,
        labels=tuple(str(row[0]) for row in away),
        series=(
            Series("Panel hours given to other wards", tuple(row[2] for row in away)),
            Series("Local places unfilled meanwhile", tuple(row[3] for row in away)),
        ),
        kind="hbar",
    )


# ---- The page ----------------------------------------------------------------------------------------------


def build_people(db: Session, scope: Scope, now: dt.datetime, green_percent: int, amber_percent: int) -> Page:
    """The page, with the force's red / amber / green thresholds passed in (Flask-free)."""
    movement = movement_table(db, scope)
    months, counts = specials_counts(db, scope, now, green_percent, amber_percent)
    specials = specials_table(months, counts)
    abstraction = abstraction_table(db, scope)
    sections = (
        Section(
            id="joined-paused-left",
            heading="Joined, paused and left",
            paragraphs=(
                "Joined: volunteers who applied in the month, less those whose application did not go ahead. "
                "Paused: volunteers who stepped back from that month (a pause a coordinator set without dates "
                "is not counted). Left: volunteers who left in the month. By their home ward.",
            ),
            chart=chart_from_table(
                movement,
                "Volunteers who joined, paused and left each month",
                movement_summary(movement),
                [1, 2, 3],
                kind="bar",
                y_title="Volunteers",
            ),
            tables=(movement,),
        ),
        Section(
            id="specials-commitment",
            heading="Special constables' hours against their commitment",
            paragraphs=(
                f"This month and the {TABLE_MONTHS - 1} before it, whatever the period. Met: at least "
                f"{green_percent}% of their monthly commitment served; below: at least {amber_percent}%; well "
                "below: less. Specials active or stepped back now, counted in the months after they joined. "
                "Served: attended deployments and approved duty hours.",
            ),
            chart=Chart(
                title="Specials by hours served against their commitment",
                summary=specials_summary(specials, months),
                labels=tuple(specials.headers[1:]),
                series=tuple(Series(str(row[0]), tuple(row[1:])) for row in specials.rows[: len(RAG_ORDER)]),
                kind="stacked",
                y_title="Specials",
            ),
            tables=(specials,),
        ),
        Section(
            id="abstraction",
            heading="Abstraction: ward panels working elsewhere",
            paragraphs=(
                "For each ward with a panel, from the matching runs made in the period: how many runs sent its "
                "panel members to requests outside their wards, the hours they were given there, and the places "
                "left unfilled on the ward's own requests in those weeks. A member of two panels counts for both.",
            ),
            chart=abstraction_chart(abstraction),
            tables=(abstraction,),
        ),
    )
    return Page(
        title="People",
        freshness=insight_rules.freshness(now) + ".",
        sections=sections,
    )


def build(db: Session, scope: Scope, now: dt.datetime) -> Page:
    config = current_app.config
    return build_people(db, scope, now, config["SPECIALS_GREEN_PERCENT"], config["SPECIALS_AMBER_PERCENT"])


register(
    Dashboard(
        slug="people",
        title="People",
        description="Volunteers joining, pausing and leaving; specials' hours against their commitment; abstraction.",
        build=build,
    )
)
