"""Journey: a coordinator reads every dashboard and prints the monthly BCU report; a sergeant sees only their wards
(issue #21) — in Chromium, with axe and 320 px checks on every page.

Each chart is an image whose text alternative is its title and summary, with its table of figures beside it; each
table downloads as CSV with the same rows; the printed report puts each BCU on a page of its own.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from matching.insight import views  # noqa: F401 - registers every dashboard
from matching.insight.registry import in_order
from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e


def _check_charts_and_tables(page: Page) -> int:
    """Every chart has a text alternative and its table beside it (in the same section), with rows; every table
    has an id its CSV link can name. Returns how many charts the page has."""
    charts = page.locator("main img.app-chart__image")
    for index in range(charts.count()):
        chart = charts.nth(index)
        alt = chart.get_attribute("alt") or ""
        assert len(alt) > 10 and alt.endswith((".", "!")), f"chart {index}: alt text {alt!r}"
        assert chart.get_attribute("src").startswith("data:image/svg+xml;base64,")
        section = chart.locator("xpath=ancestor::section[1]")
        table = section.locator("table.govuk-table").first
        expect(table).to_have_attribute("id", re.compile(r"^[a-z0-9-]+$"))
        assert table.locator("tbody tr").count() >= 1, f"chart {index}: its table has no rows"
    for table_id in page.locator("main table.govuk-table").evaluate_all("ts => ts.map(t => t.id)"):
        assert page.locator(f"table#{table_id}").count() == 1
    return charts.count()


def _csv_matches_table(page: Page, base: str) -> None:
    """The first table's CSV download: the same headers and the same rows as the table shown."""
    link = page.get_by_role("link", name=re.compile("^Download this table as a spreadsheet")).first
    href = link.get_attribute("href")
    table_id = href.split("?")[0].rsplit("/", 1)[1].removesuffix(".csv")
    response = page.request.get(base + href)
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text())))
    table = page.locator(f"table#{table_id}")
    headers = [" ".join(t.split()) for t in table.locator("thead th").all_inner_texts()]
    assert rows[0] == headers
    shown = table.locator("tbody tr")
    if shown.first.locator("td[colspan]").count():  # "Nothing in this period."
        assert rows[1:] == []
    else:
        assert len(rows) - 1 == shown.count()
        first = [" ".join(t.split()) for t in shown.first.locator("th, td").all_inner_texts()]
        assert rows[1][0] == first[0]


def test_a_coordinator_reads_every_dashboard_and_prints_the_report(live_server, new_page):
    base = live_server
    page = new_page()
    sign_in(page, base, "coordinator@demo.example")
    page.get_by_role("link", name="Dashboards").first.click()
    expect(page.locator("h1")).to_have_text("Dashboards")
    check_page(page)

    dashboards = in_order()
    assert [d.slug for d in dashboards] == ["coverage", "unfilled", "skills", "vetting", "people"]
    charts = 0
    for dashboard in dashboards:
        page.goto(base + "/dashboards/")
        page.get_by_role("link", name=dashboard.title, exact=True).click()
        expect(page.locator("h1")).to_have_text(dashboard.title)
        expect(page.locator(".app-freshness")).to_contain_text("as of")
        check_page(page)
        charts += _check_charts_and_tables(page)
        _csv_matches_table(page, base)
    # The demo's December gives each dashboard something to draw, whatever else is empty.
    assert charts >= 5

    # A BCU and a borough in it, chosen in the filter: the caption says the area, the figures follow it.
    page.goto(base + "/dashboards/coverage")
    bcu = page.locator("#bcu option").nth(1)
    bcu_name = bcu.inner_text()
    page.locator("#bcu").select_option(bcu.get_attribute("value"))
    page.locator("#period").select_option("4w")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".govuk-caption-l")).to_contain_text(bcu_name)
    expect(page.locator(".govuk-caption-l")).to_contain_text("the last 4 weeks")
    check_page(page)
    _csv_matches_table(page, base)

    # The monthly report, from the dashboards' index: this month so far, every BCU.
    page.goto(base + "/dashboards/")
    page.get_by_role("link", name="Open the monthly BCU report to print").click()
    expect(page.locator("h1")).to_have_text("Monthly BCU report")
    check_page(page)
    this_month = page.locator("#month option").first.get_attribute("value")
    page.locator("#month").select_option(this_month)
    page.get_by_role("button", name="Show report").click()
    bcus = page.locator(".app-report-bcu")
    expect(bcus).to_have_count(12)
    expect(page.locator(".govuk-inset-text")).to_contain_text("print command")
    check_page(page)
    for index in range(12):
        section = bcus.nth(index)
        expect(section.locator("h2")).to_contain_text(" BCU: ")
        expect(section.locator("table").first).to_be_visible()
    # Printed: no menus or form, and one side of A4 for each BCU.
    page.emulate_media(media="print")
    expect(page.locator(".app-dashboard-filter")).to_be_hidden()
    expect(page.locator(".govuk-service-navigation")).to_be_hidden()
    assert bcus.first.evaluate("el => getComputedStyle(el).breakAfter") == "page"
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 12
    page.emulate_media(media="screen")

    # Tampered filters: a period and a ward that are not offered, each named by its field, the page still
    # shows figures (for the default of each field) and still passes axe.
    page.goto(base + "/dashboards/skills?period=99w&ward=999999")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose a period from the list")
    expect(page.locator("#period-error")).to_contain_text("Choose a period from the list")
    expect(page.locator("#ward-error")).to_contain_text("Choose a ward from the list")
    check_page(page)
    page.goto(base + "/dashboards/report?month=2019-01&bcu=999")
    expect(page.locator("#month-error")).to_contain_text("Choose a month from the list")
    expect(page.locator("#bcu-error")).to_contain_text("Choose a BCU from the list")
    expect(page.locator(".app-report-bcu")).to_have_count(0)
    check_page(page)


def test_a_sergeant_sees_only_their_wards(live_server, new_page):
    base = live_server
    coordinator = new_page()
    sign_in(coordinator, base, "coordinator@demo.example")
    coordinator.goto(base + "/dashboards/coverage")
    # A coordinator's ward select offers a BCU's wards once the BCU is chosen (London's 600 at once are no way to
    # find one): every ward is the union over the BCUs.
    bcus = set(coordinator.locator("#bcu option").evaluate_all("os => os.map(o => o.value)")) - {""}
    assert bcus
    every_ward: set[str] = set()
    for bcu in sorted(bcus):
        coordinator.goto(base + f"/dashboards/coverage?bcu={bcu}")
        every_ward |= set(coordinator.locator("#ward option").evaluate_all("os => os.map(o => o.value)")) - {""}

    page = new_page(width=375)
    sign_in(page, base, "sergeant@demo.example")
    # At 375 px the service navigation folds behind its Menu button: the link is there, the address is simpler.
    assert page.locator('.govuk-service-navigation a[href="/dashboards/"]').count() == 1
    page.goto(base + "/dashboards/")
    expect(page.locator("main")).to_contain_text("Figures for your wards")
    check_page(page)
    page.get_by_role("link", name="Coverage", exact=True).click()
    expect(page.locator(".govuk-caption-l")).to_contain_text("Your wards")
    check_page(page)
    own = set(page.locator("#ward option").evaluate_all("os => os.map(o => o.value)")) - {""}
    assert own and own < every_ward, "the sergeant's filter offers only their own wards"
    other = sorted(every_ward - own, key=int)[0]
    page.goto(base + f"/dashboards/coverage?ward={other}")
    expect(page.locator("#ward-error")).to_contain_text("Choose a ward from the list")
    expect(page.locator(".govuk-caption-l")).to_contain_text("Your wards")
    check_page(page)

    page.goto(base + "/dashboards/report")
    expect(page.locator("#bcu option").first).to_have_text("All your BCUs")
    page.get_by_role("button", name="Show report").click()
    headings = page.locator(".app-report-bcu h2").all_inner_texts()
    assert headings and all("Your wards in " in h for h in headings)
    check_page(page)
