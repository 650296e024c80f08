"""core/charts.py: what a dashboard's chart and table carry to the page and to a spreadsheet (issue #21)."""

from __future__ import annotations

import base64
import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest

from core.charts import Chart, Page, Section, Series, Table, Tag, chart_from_table, render_svg, table_csv

SVG_NS = "http://www.w3.org/2000/svg"
WEEKS = tuple(f"w/c {day} Jan" for day in range(1, 53))


def _stacked_year() -> Chart:
    return Chart(
        title="Places by week",
        summary="Most places were booked; 3 went unfilled.",
        labels=WEEKS,
        series=(
            Series("Booked", tuple(range(52))),
            Series("Offered, not booked", tuple(52 - n for n in range(52))),
            Series("Unfilled", tuple(n % 3 for n in range(52))),
        ),
        kind="stacked",
        y_title="Places",
    )


@pytest.mark.parametrize("kind", ["bar", "stacked", "hbar", "line"])
def test_the_svg_runs_no_script_and_fetches_nothing(kind):
    chart = Chart("Skills", "First aid is short.", ("First aid", "Languages"), (Series("Holders", (3, 5)),), kind)
    svg = render_svg(chart)
    root = ET.fromstring(svg)  # noqa: S314 - our own drawing; well-formed XML, as a browser needs it
    assert root.tag == f"{{{SVG_NS}}}svg"
    # pygal writes its configuration as an inline <script> even with its JavaScript off: an <img> would not
    # run it, but the picture should hold no script at all, and no address a reader's browser could fetch.
    assert "<script" not in svg.lower()
    assert not root.findall(f".//{{{SVG_NS}}}script")
    assert "<!--" not in svg
    addresses = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", svg))
    assert addresses == {"http://www.w3.org/2000/svg"}, addresses
    assert "xlink:href" not in svg and "@import" not in svg and "url(" not in svg.replace("url(#", "")


def test_the_picture_names_itself_and_holds_every_label():
    svg = render_svg(_stacked_year())
    root = ET.fromstring(svg)  # noqa: S314 - our own drawing
    assert root.find(f"{{{SVG_NS}}}title").text == "Places by week"
    for name in ("Booked", "Offered, not booked", "Unfilled"):
        assert name in svg  # the legend: each series named in words, not by its colour alone


def test_the_data_uri_is_the_svg_in_base64():
    chart = _stacked_year()
    uri = chart.data_uri()
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == render_svg(chart)


def test_the_alt_text_is_the_title_and_the_summary():
    chart = _stacked_year()
    assert chart.alt == "Places by week. Most places were booked; 3 went unfilled."


def test_a_chart_is_drawn_once_for_the_same_figures():
    first = render_svg(_stacked_year())
    # A new Chart with equal figures is the same key: the memo returns the same drawing, not a new one.
    assert render_svg(_stacked_year()) is first


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown chart kind 'pie'"):
        render_svg(Chart("T", "S", ("a",), (Series("x", (1,)),), kind="pie"))


def test_a_chart_from_a_table_takes_its_numeric_columns_against_its_first():
    table = Table(
        id="by-priority",
        caption="Places by priority",
        headers=("Priority", "Asked", "Booked", "Share booked"),
        rows=(("Urgent", 10, 8, "80%"), ("Routine", 4, None, "0%")),
        numeric=frozenset({1, 2}),
    )
    chart = chart_from_table(table, "Places by priority", "Urgent places were mostly booked.", (1, 2), "bar")
    assert chart.labels == ("Urgent", "Routine")
    assert chart.series == (Series("Asked", (10, 4)), Series("Booked", (8, None)))
    assert chart.kind == "bar"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_defuses_what_a_spreadsheet_would_run_as_a_formula():
    table = Table(
        id="people",
        caption="People",
        headers=("Ward", "Note", "Count"),
        rows=(
            ('=HYPERLINK("http://x")', "+44 20 7946 0000", 3),
            ("@SUM(A1)", "-2", -2),
            ("\tTabbed", "Plain words", 0),
            ("Camden", None, 1.5),
        ),
    )
    assert _rows(table.csv_text()) == [
        ["Ward", "Note", "Count"],
        ['\'=HYPERLINK("http://x")', "'+44 20 7946 0000", "3"],
        ["'@SUM(A1)", "'-2", "-2"],
        ["'\tTabbed", "Plain words", "0"],
        ["Camden", "", "1.5"],
    ]
    # A number is a number: only text from people is defused, so a negative figure still adds up.
    assert table_csv(table).splitlines()[2].endswith(",-2")


def test_csv_writes_a_tag_by_its_words():
    table = Table(
        id="specials",
        caption="Specials against their commitment",
        headers=("Month", "Met", "Standing"),
        rows=(("November 2026", 4, Tag("Well below", "red")), ("October 2026", 6, Tag("Met", "green"))),
    )
    assert _rows(table.csv_text())[1:] == [["November 2026", "4", "Well below"], ["October 2026", "6", "Met"]]
    assert "red" not in table.csv_text() and "green" not in table.csv_text()


def test_a_page_finds_its_tables_by_id():
    first = Table("a", "A", ("X",), ())
    second = Table("b", "B", ("X",), ())
    page = Page("T", "Live figures", (Section("one", "One", tables=(first,)), Section("two", "Two", tables=(second,))))
    assert page.table("b") is second
    assert page.table("c") is None


def _axis_labels(svg: str, axis: str) -> list[str]:
    root = ET.fromstring(svg)  # noqa: S314 - our own drawing
    for group in root.iter(f"{{{SVG_NS}}}g"):
        if group.get("class", "").split()[:2] == ["axis", axis]:
            return [text.text for text in group.iter(f"{{{SVG_NS}}}text")]
    return []


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        # Three places at most: a tick a place, never "0.4 places".
        ("bar", ((1, 3),), ["0", "1", "2", "3"]),
        # Stacked: the tallest stack is 2 + 7 = 9, so steps of 2 up to 10 (at most eight ticks).
        ("stacked", ((2, 1), (7, 0)), ["0", "2", "4", "6", "8", "10"]),
        # Nothing at all still draws an axis of whole numbers.
        ("bar", ((0, 0),), ["0", "1"]),
    ],
)
def test_a_count_is_drawn_against_whole_numbers(kind, values, expected):
    series = tuple(Series(f"s{i}", v) for i, v in enumerate(values))
    assert _axis_labels(render_svg(Chart("T", "S", ("a", "b"), series, kind)), "y") == expected


def test_fractions_keep_pygals_own_scale():
    labels = _axis_labels(render_svg(Chart("T", "S", ("a", "b"), (Series("Hours", (0.5, 1.5)),), "bar")), "y")
    assert any("." in label for label in labels)


def test_a_horizontal_chart_reads_top_down_as_its_table_does():
    chart = Chart("Skills", "S", ("First aid", "Languages", "Driving"), (Series("Holders", (3, 2, 1)),), "hbar")
    root = ET.fromstring(render_svg(chart))  # noqa: S314 - our own drawing
    labels = {}
    for group in root.iter(f"{{{SVG_NS}}}g"):
        if group.get("class", "").startswith("guides"):
            for text in group.iter(f"{{{SVG_NS}}}text"):
                if text.text in chart.labels:
                    labels[text.text] = float(text.get("y"))
    assert sorted(labels, key=labels.get) == ["First aid", "Languages", "Driving"]


def _slanted(chart: Chart) -> bool:
    root = ET.fromstring(render_svg(chart))  # noqa: S314 - our own drawing
    return any("rotate(" in (text.get("transform") or "") for text in root.iter(f"{{{SVG_NS}}}text"))


def test_labels_that_would_run_into_each_other_are_slanted():
    one = (Series("Decisions", tuple(range(14))),)
    weeks = tuple(f"{day} September 2026" for day in range(1, 15))
    assert _slanted(Chart("Reviews decided each week", "S", weeks, one))
    months = tuple(
        f"{month} 2027"
        for month in ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    )
    assert not _slanted(Chart("Clearances expiring", "S", months, (Series("RV", tuple(range(12))),)))
    # Few labels, but one long: "November 2026" ran into "December 2026 (part)" on the people page.
    people = ("June 2026 (part)", "July 2026", "August 2026", "September 2026", "October 2026", "November 2026")
    assert _slanted(Chart("Joined", "S", (*people, "December 2026 (part)"), (Series("Joined", tuple(range(7))),)))


def test_a_page_read_back_from_its_json_is_the_same_page():
    from core.charts import page_from_json, page_to_json

    table = Table(
        "t",
        "Caption",
        ("Week", "Places", "Share", "State"),
        (("2 Nov", 5, 0.5, Tag("Met", "green")), ("9 Nov", None, 1.25, "=text")),
        numeric=frozenset({1, 2}),
        empty_text="Nothing",
    )
    chart = Chart("Title", "Summary.", ("2 Nov", "9 Nov"), (Series("Places", (5, None)),), kind="stacked", y_title="n")
    page = Page("Page", "Live figures", (Section("s", "Heading", ("A paragraph.",), ("A bullet.",), chart, (table,)),))
    assert page_from_json(page_to_json(page)) == page
