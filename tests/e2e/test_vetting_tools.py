"""Journey: a vetting officer on a phone (375 px) filters the queue, finds a person and reads the audit log.

Chromium, with axe and the no-sideways-scrolling check on every page; the queue's table itself must fit
the phone's width, not scroll inside its box.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, check_page, sign_in

pytestmark = pytest.mark.e2e

OFFICER = "vetting.officer@demo.example"


def _sign_in(page: Page, base: str, email: str) -> None:
    # The shared helper gives the demo authenticator's code, never one already used on that account.
    sign_in(page, base, email, DEMO_PASSWORD)


def _menu(page: Page, name: str) -> None:
    """Follow a main-menu link; on a phone the menu opens from its button first."""
    button = page.get_by_role("button", name="Menu")
    if button.is_visible() and button.get_attribute("aria-expanded") != "true":
        button.click()
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name=name, exact=True).click()


def _table_fits(page: Page) -> None:
    sideways = page.evaluate(
        "() => { const box = document.querySelector('.app-table-wrapper'); return box.scrollWidth - box.clientWidth; }"
    )
    assert sideways <= 0, f"the queue's table scrolls sideways by {sideways}px at 375px"


def test_an_officer_filters_the_queue_finds_a_person_and_reads_the_audit_log(live_server, new_page):
    base = live_server
    officer = new_page(375)
    _sign_in(officer, base, OFFICER)
    _menu(officer, "Vetting queue")
    expect(officer.locator("h1")).to_have_text("Vetting queue")
    expect(officer.locator("main")).to_contain_text("Overdue reviews first")
    check_page(officer)
    _table_fits(officer)

    # New applications due within 30 days.
    officer.get_by_label("Kind of review").select_option(label="New application")
    officer.get_by_label("Due within (days)").fill("30")
    officer.get_by_role("button", name="Apply filters").click()
    expect(officer.locator("caption")).to_contain_text("matching the filters")
    assert "kind=new_application" in officer.url and "due_within=30" in officer.url
    rows = officer.locator("tbody tr")
    assert rows.count() > 0
    for index in range(rows.count()):
        expect(rows.nth(index).locator("td").nth(1)).to_contain_text("New application")
    check_page(officer)
    _table_fits(officer)
    name = rows.first.locator("td").first.get_by_role("link").inner_text().strip()

    # A bad value: the message by its box, the typed value kept, the other filter still applied.
    officer.get_by_label("Due within (days)").fill("soon")
    officer.get_by_role("button", name="Apply filters").click()
    expect(officer.locator(".govuk-error-summary")).to_contain_text("Enter the number of days as a whole number")
    expect(officer.locator("#due_within-error")).to_contain_text("Enter the number of days as a whole number")
    expect(officer.get_by_label("Due within (days)")).to_have_value("soon")
    expect(officer.get_by_label("Kind of review")).to_have_value("new_application")
    check_page(officer)

    # Find that person and open their whole record.
    _menu(officer, "Find a person")
    expect(officer.locator("h1")).to_have_text("Find a person")
    officer.get_by_label("Name or email address").fill(name)
    officer.get_by_role("button", name="Search").click()
    check_page(officer)
    officer.locator("tbody").get_by_role("link", name=name, exact=True).first.click()
    expect(officer.locator("h1")).to_have_text(f"{name}: vetting record")
    reviews = officer.locator("table").filter(has=officer.locator("caption", has_text="open"))
    expect(reviews.locator("tbody tr").filter(has_text="New application").first).to_contain_text("Open")
    check_page(officer)

    # Their audit trail: opening their record is in it, by this officer.
    officer.get_by_role("link", name=f"Audit log entries about {name}").click()
    expect(officer.locator("h1")).to_have_text("Audit log")
    viewed = officer.locator("tbody tr").filter(has_text="Vetting record viewed").first
    expect(viewed).to_contain_text("by Daniel Okafor")
    expect(viewed).to_contain_text(name)
    check_page(officer)

    # Filter by action, then download what is shown.
    officer.get_by_label("Action").select_option(label="Vetting record viewed")
    officer.get_by_role("button", name="Apply filters").click()
    shown = officer.locator("tbody tr").count()
    assert shown >= 1
    check_page(officer)
    with officer.expect_download() as download:
        officer.get_by_role("link", name="as a CSV file").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:5] == ["Entry", "When (UTC)", "When (London)", "Done by", "Action"]
    assert len(rows) - 1 == shown
    assert {row[4] for row in rows[1:]} == {"Vetting record viewed"}

    # The audit log as a whole, straight from the menu.
    _menu(officer, "Audit log")
    expect(officer.locator("tbody tr").first).to_contain_text("Audit log exported")
    check_page(officer)
