"""Tables and charts for the dashboards (issue #21): a table is the data, a chart is drawn from it.

Pure: no Flask, no ORM. A chart is rendered on the server as SVG by pygal with its JavaScript switched off
(docs/decisions/0009-server-side-svg-charts.md) and shown as an ``<img>`` whose ``alt`` is the chart's text
summary, with the table it was drawn from beside it: colour is never the only cue, and a screen reader
reads the summary and the table rather than a picture.

The page's Content-Security-Policy allows no inline styles, and pygal's SVG carries its own ``<style>``: as
an image (a ``data:`` URI) the SVG is a document of its own, so its styles apply to it and nothing else,
and it can run no script whatever it holds.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pygal
from pygal.style import Style

Value = int | float | str | None


@dataclass(frozen=True)
class Tag:
    """A cell shown as a coloured tag whose words carry the meaning (Met / Below / Well below)."""

    text: str
    colour: str  # "green", "yellow", "red", "grey", "blue"

    def __str__(self) -> str:
        return self.text


Cell = Value | Tag


@dataclass(frozen=True)
class Table:
    """One table of a dashboard: shown on the page and downloaded as CSV with the same rows.

    ``id`` names it in the page (``<table id>``) and in its CSV address, so it is unique on its page
    and made of lower-case letters, digits and hyphens. The first column heads each row.
    """

    id: str
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    # Columns (by index) holding numbers: right-aligned on the page, as GOV.UK tables do.
    numeric: frozenset[int] = frozenset()
    empty_text: str = "Nothing in this period."

    def csv_text(self) -> str:
        return table_csv(self)


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | int | None, ...]


@dataclass(frozen=True)
class Chart:
    """A chart drawn from a table's columns.

    ``kind``: "bar" (series side by side), "stacked" (series stacked), "hbar" (horizontal bars, for long
    labels such as skills) or "line". ``summary`` is the sentence a sighted reader would take from the
    picture ("Most places were filled; 12 urgent places went unfilled, 5 of them in the week of 2 November").
    """

    title: str
    summary: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    kind: str = "bar"
    y_title: str = ""
    # The SVG as drawn before, when the chart is read back from a kept page (page_from_json): drawing it again
    # costs 50-150 ms a chart. Not part of the chart's identity.
    svg: str | None = field(default=None, compare=False, hash=False, repr=False)

    def data_uri(self) -> str:
        return svg_data_uri(self)

    @property
    def alt(self) -> str:
        """The image's text alternative: what the chart is and what it shows, in words."""
        return f"{self.title}. {self.summary}"


@dataclass(frozen=True)
class Section:
    """A part of a dashboard page: a heading, what it shows in words, a chart, its table, more tables."""

    id: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    # Sentences shown as a list (the recruitment targets: "Camden: 6 more … would have filled 11 places").
    bullets: tuple[str, ...] = ()
    chart: Chart | None = None
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Page:
    """A dashboard as shown: its sections, and how fresh its figures are (said on the page)."""

    title: str
    freshness: str
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def table(self, table_id: str) -> Table | None:
        for section in self.sections:
            for table in section.tables:
                if table.id == table_id:
                    return table
        return None


# Colours from the GOV.UK palette, each with at least 3:1 contrast against white (WCAG 1.4.11).
PALETTE = ("#1d70b8", "#f47738", "#d4351c", "#00703c", "#4c2c92", "#505a5f", "#912b88", "#85994b")

_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    opacity="1",
    opacity_hover="1",
    transition="none",
    colors=PALETTE,
    font_family="arial, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=16,
    title_font_size=19,
    value_font_size=14,
    tooltip_font_size=14,
)

_KINDS = {"bar": pygal.Bar, "stacked": pygal.StackedBar, "hbar": pygal.HorizontalBar, "line": pygal.Line}


def render_svg(chart: Chart) -> str:
    """The chart as an SVG document (memoised: a chart is a pure function of its data)."""
    return chart.svg if chart.svg is not None else _render(chart)


@lru_cache(maxsize=256)
def _render(chart: Chart) -> str:
    try:
        kind = _KINDS[chart.kind]
    except KeyError:
        raise ValueError(f"unknown chart kind {chart.kind!r}") from None
    many = len(chart.labels) > 14
    # Labels are slanted when the longest (about 8 px a character at 14 px) is wider than its share of the
    # chart's width: upright, it would run into its neighbours.
    crowded = many or max((len(label) for label in chart.labels), default=0) * 8 > 880 / max(1, len(chart.labels)) - 8
    # pygal leaves room for one row of the legend below the chart; a second row needs the space added.
    legend_rows = -(-len(chart.series) // 4) if len(chart.series) > 1 else 0
    drawing = kind(
        js=[],  # no script, and nothing fetched from outside the app
        style=_STYLE,
        width=960,
        height=max(420, 28 * len(chart.labels) + 160) if chart.kind == "hbar" else 440,
        disable_xml_declaration=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(4, max(1, len(chart.series))),
        show_legend=len(chart.series) > 1,
        truncate_label=-1,
        truncate_legend=-1,
        x_label_rotation=60 if crowded and chart.kind != "hbar" else 0,
        show_minor_x_labels=not many,
        margin_bottom=10 + 26 * max(0, legend_rows - 1),
        x_labels_major_every=4 if many else None,
        y_title=chart.y_title or None,
        y_labels=_whole_number_ticks(chart),
        print_values=False,
        include_x_axis=True,
        min_scale=2,
        max_scale=8,
        no_data_text="No data",
        tooltip_fancy_mode=False,
    )
    drawing.add_xml_filter(_without_script_or_comments)
    drawing.title = chart.title
    # pygal draws a horizontal chart's first label at the bottom: reversed, it reads top down, as its table does.
    order = slice(None, None, -1) if chart.kind == "hbar" else slice(None)
    drawing.x_labels = list(chart.labels)[order]
    for series in chart.series:
        drawing.add(series.name, list(series.values)[order])
    return drawing.render(is_unicode=True)


# Steps for a count's axis: at most eight ticks, each a number people count in.
_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000)


def _whole_number_ticks(chart: Chart) -> list[int] | None:
    """The value axis of a chart of counts (places, volunteers): whole numbers from 0, never "0.4 places".
    None (pygal's own scale) when a value is a fraction, negative or too large for our steps."""
    values = [value for series in chart.series for value in series.values if value is not None]
    if any(not isinstance(value, int) or value < 0 for value in values):
        return None
    if chart.kind == "stacked":
        top = max((sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.labels))), default=0)
    else:
        top = max(values, default=0)
    top = max(top, 1)
    step = next((step for step in _STEPS if top <= 8 * step), None)
    if step is None:
        return None
    return list(range(0, -(-top // step) * step + 1, step))  # up to the first step at or above the top


# Dropped from pygal's SVG: its configuration as an inline script (written even with ``js=[]``), and each
# value's tooltip text (``desc``), which only its script shows — 40% of a weekly chart's bytes; the table
# beside the chart has every figure.
_DROPPED = frozenset({"script", "desc"})


def _without_script_or_comments(root):
    """pygal writes an inline ``<script>``, tooltips for it and comments naming its web site: an ``<img>`` would
    neither run nor show them, and the picture we serve holds none of them."""
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag.rsplit("}", 1)[-1] in _DROPPED:
                parent.remove(child)
    return root


def svg_data_uri(chart: Chart) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(render_svg(chart).encode()).decode("ascii")


def chart_from_table(
    table: Table,
    title: str,
    summary: str,
    columns: Sequence[int],
    kind: str = "bar",
    y_title: str = "",
) -> Chart:
    """A chart of some of ``table``'s numeric columns against its first column (the labels)."""
    labels = tuple(str(row[0]) for row in table.rows)
    series = tuple(Series(table.headers[index], tuple(_number(row[index]) for row in table.rows)) for index in columns)
    return Chart(title=title, summary=summary, labels=labels, series=series, kind=kind, y_title=y_title)


def _number(value: Cell) -> float | int | None:
    if isinstance(value, int | float):
        return value
    return None


def table_csv(table: Table) -> str:
    """The table's rows as CSV, headers first, cells as shown (a tag by its words).

    A cell that a spreadsheet would read as a formula (= + - @ at its start) is prefixed with an apostrophe:
    names and notes come from people, and a CSV opened in Excel must not run them.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return out.getvalue()


def _csv_cell(cell: Cell) -> Value:
    if cell is None:
        return ""
    if isinstance(cell, Tag):
        cell = cell.text
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


# ---- A page as JSON (matching/insight/page_cache.py keeps pages worked out for a few minutes) ------------------


def page_to_json(page: Page) -> str:
    """The page as JSON: plain data, read back by ``page_from_json`` (never pickle: the database is not code)."""
    return json.dumps(
        {
            "title": page.title,
            "freshness": page.freshness,
            "sections": [
                {
                    "id": s.id,
                    "heading": s.heading,
                    "paragraphs": list(s.paragraphs),
                    "bullets": list(s.bullets),
                    "chart": None
                    if s.chart is None
                    else {
                        "title": s.chart.title,
                        "summary": s.chart.summary,
                        "labels": list(s.chart.labels),
                        "series": [[series.name, list(series.values)] for series in s.chart.series],
                        "kind": s.chart.kind,
                        "y_title": s.chart.y_title,
                        "svg": render_svg(s.chart),
                    },
                    "tables": [
                        {
                            "id": t.id,
                            "caption": t.caption,
                            "headers": list(t.headers),
                            "rows": [[_cell_to_json(cell) for cell in row] for row in t.rows],
                            "numeric": sorted(t.numeric),
                            "empty_text": t.empty_text,
                        }
                        for t in s.tables
                    ],
                }
                for s in page.sections
            ],
        },
        separators=(",", ":"),
    )


def page_from_json(text: str) -> Page:
    data = json.loads(text)
    return Page(
        title=data["title"],
        freshness=data["freshness"],
        sections=tuple(
            Section(
                id=s["id"],
                heading=s["heading"],
                paragraphs=tuple(s["paragraphs"]),
                bullets=tuple(s["bullets"]),
                chart=None
                if s["chart"] is None
                else Chart(
                    title=s["chart"]["title"],
                    summary=s["chart"]["summary"],
                    labels=tuple(s["chart"]["labels"]),
                    series=tuple(Series(name, tuple(values)) for name, values in s["chart"]["series"]),
                    kind=s["chart"]["kind"],
                    y_title=s["chart"]["y_title"],
                    svg=s["chart"].get("svg"),
                ),
                tables=tuple(
                    Table(
                        id=t["id"],
                        caption=t["caption"],
                        headers=tuple(t["headers"]),
                        rows=tuple(tuple(_cell_from_json(cell) for cell in row) for row in t["rows"]),
                        numeric=frozenset(t["numeric"]),
                        empty_text=t["empty_text"],
                    )
                    for t in s["tables"]
                ),
            )
            for s in data["sections"]
        ),
    )


def _cell_to_json(cell: Cell) -> object:
    # A tag as a one-key object; every other cell is a JSON scalar already.
    return {"tag": cell.text, "colour": cell.colour} if isinstance(cell, Tag) else cell


def _cell_from_json(value: object) -> Cell:
    return Tag(value["tag"], value["colour"]) if isinstance(value, dict) else value  # type: ignore[return-value]
