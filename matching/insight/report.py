"""The monthly BCU report: one printed page per BCU with the month's headline figures (issue #21).

Composed from the dashboards' own builders, never a second set of queries: each dashboard is built once per BCU
for the month, and the report keeps the sections it names in ``PICKS`` (by section id), shortened for print.
A printed report therefore always agrees with the dashboards and their CSV downloads for the same month and
BCU. Charts are left out (a page of A4 holds the figures, not the pictures); each chart's one-sentence summary
is kept as the section's headline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields import SelectChoice

from core.auth.models import Role, User
from core.charts import Cell, Page, Section, Table
from core.forms import BaseForm, ChoiceSelectField, FilterSelectField, GovSelect
from core.geography.models import Bcu, Borough, Ward
from core.timeutil import london_today
from core.wording import plural
from matching.insight import page_cache
from matching.insight.registry import DASHBOARDS
from matching.insight.rules import percent
from matching.insight.scope import MONTHS_OFFERED, Scope, months_back, period_days

Shape = Callable[[Section, Page, Scope], Section]


@dataclass(frozen=True)
class Pick:
    """A section of a dashboard that the report shows, and how it is cut down to fit the printed page."""

    slug: str
    section_id: str
    heading: str  # the report's own heading: the dashboards' headings speak of "the period"
    shape: Shape | None = None


def _column(table: Table, header: str) -> int | None:
    return table.headers.index(header) if header in table.headers else None


def _coverage(section: Section, page: Page, _scope: Scope) -> Section:
    """The whole month's sentence first, then by priority: asked, booked (with its share), served, unfilled."""
    lead = next((s.paragraphs[0] for s in page.sections if s.id == "by-week" and s.paragraphs), None)
    paragraphs = tuple(p for p in (lead, section.chart.summary if section.chart else None) if p)
    tables = []
    for table in section.tables:
        columns = [_column(table, h) for h in ("Asked", "Booked", "Served", "Unfilled", "Still open")]
        if None in columns:
            tables.append(table)
            continue
        asked, booked, served, unfilled, still_open = columns
        rows = tuple(
            (
                row[0],
                row[asked],
                row[booked],
                _share(row[booked], row[asked]),
                row[served],
                row[unfilled],
                row[still_open],
            )
            for row in table.rows
        )
        tables.append(
            replace(
                table,
                headers=("Priority", "Asked", "Booked", "Booked (% of asked)", "Served", "Unfilled", "Still open"),
                rows=rows,
                numeric=frozenset(range(1, 7)),
            )
        )
    return replace(section, paragraphs=paragraphs, tables=tuple(tables))


def _share(part: Cell, whole: Cell) -> str | None:
    if not isinstance(part, int) or not isinstance(whole, int):
        return None
    share = percent(part, whole)
    return None if share is None else f"{share}%"


def _expiring(section: Section, _page: Page, _scope: Scope) -> Section:
    """The next three months of the dashboard's twelve (its first three month columns), with their total."""
    tables = tuple(_next_three_months(table) for table in section.tables)
    total = sum(row[-1] for table in tables for row in table.rows[-1:])
    words = (
        f"{plural(total, 'clearance')} in this area {'expires' if total == 1 else 'expire'} in the next 3 months, "
        "from today: each needs its renewal started in time."
        if total
        else "No clearance in this area expires in the next 3 months, from today."
    )
    return replace(section, paragraphs=(words,), tables=tables)


def _next_three_months(table: Table) -> Table:
    """A row per clearance type with something expiring in the first three months, then all types. On A4 the
    dashboard's twelve month columns would squeeze each to a word's width."""
    rows = []
    for row in table.rows:
        months = tuple(cell if isinstance(cell, int) else 0 for cell in row[1:4])
        rows.append((row[0], *months, sum(months)))
    kept = [row for row in rows[:-1] if row[-1]]
    return replace(
        table,
        caption="Clearances expiring in the next 3 months, by type",
        headers=(*table.headers[:4], "All 3 months"),
        rows=tuple([*kept, rows[-1]] if kept else []),
        numeric=frozenset(range(1, 5)),
        empty_text="No clearance in this area expires in the next 3 months.",
    )


def _specials(section: Section, _page: Page, scope: Scope) -> Section:
    """The report's month only, of the dashboard's six (this month and the five before it, by column)."""
    tables = []
    words = f"The dashboard keeps specials' hours for the last six months only, not {scope.period_label}."
    for table in section.tables:
        column = next((i for i, h in enumerate(table.headers) if i and h.startswith(f"{scope.first_day:%B %Y}")), None)
        if column is None:
            tables.append(replace(table, headers=table.headers[:1], rows=()))
            continue
        rows = tuple((row[0], row[column]) for row in table.rows)
        tables.append(
            replace(table, headers=(table.headers[0], table.headers[column]), rows=rows, numeric=frozenset({1}))
        )
        counts = "; ".join(f"{label}: {n}" for label, n in rows[:-1])
        words = f"Of {plural(rows[-1][1], 'special')} in {table.headers[column]}, by hours served: {counts}."
    return replace(section, paragraphs=(words,), tables=tuple(tables))


@dataclass(frozen=True)
class BcuReport:
    """One BCU's page of the report."""

    bcu_id: int
    name: str
    scope: Scope
    freshness: tuple[str, ...]
    sections: tuple[Section, ...]


class ReportForm(BaseForm):
    """The report's choice of month and BCU (a GET form, so a report's address can be kept and shared)."""

    class Meta:
        csrf = False

    month = ChoiceSelectField(
        "Month", widget=GovSelect(), choices=[], invalid_message="Choose a month from the list", default=""
    )
    bcu = FilterSelectField("BCU", "All BCUs", "Choose a BCU from the list")


def _visible_bcus(db: Session, user: User) -> dict[int, tuple[str, frozenset[int]]]:
    """BCU id → (name, the ward ids in it the user may see): a sergeant's own wards only, by BCU name."""
    query = (
        select(Bcu.id, Bcu.name, Ward.id)
        .join(Borough, Borough.bcu_id == Bcu.id)
        .join(Ward, Ward.borough_id == Borough.id)
        .order_by(Bcu.name)
    )
    if user.role is Role.SERGEANT:
        query = query.where(Ward.id.in_([w.id for w in user.wards] or [-1]))
    found: dict[int, tuple[str, set[int]]] = {}
    for bcu_id, name, ward_id in db.execute(query):
        found.setdefault(bcu_id, (name, set()))[1].add(ward_id)
    return {bcu_id: (name, frozenset(wards)) for bcu_id, (name, wards) in found.items()}


def default_month(today: dt.date) -> dt.date:
    """The month a report is usually wanted for: the last whole one."""
    return months_back(today, 2)[1]


def read_form(db: Session, user: User, args, now: dt.datetime) -> tuple[ReportForm, dt.date | None, list[int]]:
    """The form bound to the query arguments, the month chosen (None if refused) and the BCUs to report on.

    Months offered are the dashboards' calendar months (this one so far, and the eleven before). With no BCU
    chosen, a coordinator gets every BCU and a sergeant every BCU holding one of their wards.
    """
    today = london_today(now)
    form = ReportForm(args)
    months = months_back(today, MONTHS_OFFERED)
    form.month.choices = [
        SelectChoice(f"{m:%Y-%m}", f"{m:%B %Y}" + (" (so far)" if m.month == today.month else "")) for m in months
    ]
    if not form.month.raw_data:
        form.month.data = f"{default_month(today):%Y-%m}"
    bcus = _visible_bcus(db, user)
    form.bcu.any_text = "All your BCUs" if user.role is Role.SERGEANT else "All BCUs"
    form.bcu.set_options([SelectChoice(str(bcu_id), f"{name} BCU") for bcu_id, (name, _w) in bcus.items()])
    form.validate()
    month = None
    if not form.month.errors:
        month = next(m for m in months if f"{m:%Y-%m}" == form.month.data)
    if form.bcu.errors:
        return form, month, []
    chosen = [int(form.bcu.data)] if form.bcu.data else list(bcus)
    return form, month, chosen


def build_report(
    db: Session, user: User, month: dt.date, bcu_ids: list[int], now: dt.datetime, keep_seconds: int = 0
) -> list[BcuReport]:
    """Each BCU's page for the month: every dashboard in ``PICKS`` built once for the BCU's (visible) wards
    (or taken from the pages kept for ``keep_seconds``, as the dashboards themselves are: page_cache)."""
    today = london_today(now)
    first_day, last_day, words = period_days(f"{month:%Y-%m}", today)
    bcus = _visible_bcus(db, user)
    slugs = list(dict.fromkeys(pick.slug for pick in PICKS))
    pages = []
    for bcu_id in bcu_ids:
        name, ward_ids = bcus[bcu_id]
        scope = Scope(
            first_day=first_day,
            last_day=last_day,
            ward_ids=ward_ids,
            area_label=("Your wards in " if user.role is Role.SERGEANT else "") + f"{name} BCU",
            period_label=words,
            bcu_id=bcu_id,
            period=f"{month:%Y-%m}",
        )
        built = {
            slug: page_cache.page(db, DASHBOARDS[slug], scope, now, keep_seconds)
            for slug in slugs
            if slug in DASHBOARDS
        }
        sections = []
        for pick in PICKS:
            page = built.get(pick.slug)
            found = next((s for s in page.sections if s.id == pick.section_id), None) if page else None
            if found is not None:
                shaped = pick.shape(found, page, scope) if pick.shape else found
                sections.append(_for_print(shaped, pick.heading, f"bcu-{bcu_id}-", pick.shape is not None))
        freshness = _freshness([page.freshness for page in built.values()])
        pages.append(BcuReport(bcu_id, name, scope, freshness, tuple(sections)))
    return pages


def _freshness(lines: list[str]) -> tuple[str, ...]:
    """One line for the live figures (the dashboards are built in this request, so they share a moment), and
    any other (figures from a summary table, say) as it is."""
    live = [line for line in lines if line.startswith("Live figures")]
    return tuple(dict.fromkeys([*live[:1], *(line for line in lines if not line.startswith("Live figures"))]))


def _targets(section: Section, _page: Page, scope: Scope) -> Section:
    """The five largest targets, in words: the dashboard's table has the same rows for whoever wants them all."""
    if section.bullets:
        return replace(section, paragraphs=(), bullets=section.bullets[:5], tables=())
    words = f"No places in this area were stopped by skills or availability in {scope.period_label}."
    return replace(section, paragraphs=(words,), bullets=(), tables=())


def _for_print(section: Section, heading: str, prefix: str, shaped: bool) -> Section:
    """The section as the report shows it: no chart (its summary kept in words), ids unique on the page."""
    paragraphs = section.paragraphs if shaped else ()
    if not shaped:
        paragraphs = (section.chart.summary,) if section.chart is not None else section.paragraphs[:1]
    return replace(
        section,
        id=prefix + section.id,
        heading=heading,
        paragraphs=paragraphs,
        chart=None,
        tables=tuple(replace(table, id=prefix + table.id) for table in section.tables),
    )


# What a BCU commander asks of a month, in the order the page answers it. The section ids are the dashboards'
# own (matching/insight/coverage.py, unfilled.py, vetting_figures.py, people.py); an integration test
# (tests/integration/test_dashboard_report.py) fails if one of them is renamed.
PICKS: tuple[Pick, ...] = (
    Pick("coverage", "by-priority", "Places asked, booked, served and unfilled, by priority", _coverage),
    Pick("unfilled", "targets", "Recruitment targets", _targets),
    Pick("vetting", "expiring", "Clearances expiring in the next 3 months", _expiring),
    Pick("people", "joined-paused-left", "Volunteers who joined, paused and left"),
    Pick("people", "specials-commitment", "Special constables' hours against their commitment", _specials),
)
