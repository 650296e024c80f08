"""Journey 1: a person applies as a police support volunteer and completes their profile — in Chromium.

Every page visited is checked with axe and at 320 px (check_page).
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.applying import apply_and_confirm
from tests.e2e.conftest import check_page

pytestmark = pytest.mark.e2e


def _fill_date(page: Page, name: str, day: dt.date) -> None:
    page.locator(f"#{name}-day").fill(str(day.day))
    page.locator(f"#{name}-month").fill(str(day.month))
    page.locator(f"#{name}-year").fill(str(day.year))


def test_a_volunteer_applies_and_completes_their_profile(live_server, new_page, mailbox):
    page = new_page()
    # Apply, confirm the email address from the link in the email, sign in (issue #18).
    apply_and_confirm(
        page,
        live_server,
        mailbox,
        "Jordan Ellis",
        "jordan.ellis@e2e.example",
        "maple orbit lantern",
        kind="Police support volunteer (not warranted)",
        phone="07700 900123",
        check=True,
    )
    page.goto(live_server + "/profile")
    expect(page.locator("h1")).to_have_text("Your profile")
    expect(page.locator("main")).to_contain_text("Application with vetting")
    check_page(page)

    # Home ward: borough first, then ward.
    page.get_by_role("link", name="Change home ward").click()
    check_page(page)
    page.get_by_label("Borough").select_option(label="Islington")
    page.get_by_role("button", name="Show wards").click()
    page.locator("input[name=ward]").first.check()
    page.get_by_role("button", name="Save home ward").click()
    expect(page.locator("h1")).to_have_text("Your profile")
    expect(page.locator(".govuk-summary-list").first).to_contain_text("Islington")

    # Travel and hours, with a mistake first.
    page.get_by_role("link", name="Change travel and hours").click()
    page.get_by_label("How far will you travel").fill("far")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("whole number of kilometres")
    check_page(page)
    page.get_by_label("How far will you travel").fill("6")
    page.get_by_label("Most hours a week").fill("8")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-summary-list").first).to_contain_text("Up to 6 km")

    # A skill that needs evidence.
    page.goto(live_server + "/profile/skills")
    check_page(page)
    page.get_by_role("link", name="Add a skill").click()
    check_page(page)
    page.get_by_label("Skill").select_option("rmn")
    page.get_by_label("Practitioner").check()
    page.get_by_label("Professional registration number").fill("12A3456E")
    _fill_date(page, "evidence_expires_on", dt.date.today() + dt.timedelta(days=400))
    page.get_by_role("button", name="Add skill").click()
    expect(page.locator(".govuk-summary-card")).to_contain_text(
        "Waiting for a coordinator to check registration 12A3456E"
    )
    check_page(page)

    # Weekly availability.
    page.goto(live_server + "/profile/availability")
    check_page(page)
    page.get_by_role("link", name="Add a regular time").click()
    check_page(page)
    page.get_by_label("Day").select_option(label="Tuesday")
    page.get_by_label("From").select_option(label="18:00")
    page.get_by_label("Until").select_option(label="21:00")
    page.get_by_role("button", name="Add time").click()
    expect(page.locator("tbody tr").nth(1)).to_contain_text("6pm to 9pm")
    check_page(page)

    # A conflict of interest.
    page.goto(live_server + "/profile/conflicts")
    check_page(page)
    page.get_by_role("link", name="Declare a conflict of interest").click()
    check_page(page)
    page.get_by_label("My employer", exact=True).check()
    page.get_by_label("Name of the organisation, person or place").fill("Whittington Health NHS Trust")
    page.get_by_role("button", name="Declare").click()
    expect(page.locator(".govuk-summary-card")).to_contain_text("Whittington Health NHS Trust")

    # A change of circumstances, and the review it opens.
    page.goto(live_server + "/profile/circumstances")
    check_page(page)
    page.get_by_label("New address").check()
    _fill_date(page, "occurred_on", dt.date.today() - dt.timedelta(days=2))
    page.get_by_label("Tell us what has changed").fill("Moved to Holloway Road, N7")
    page.get_by_role("button", name="Report the change").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The vetting team will review the change")
    expect(page.locator("main")).to_contain_text("Review open")
    check_page(page)

    page.goto(live_server + "/")
    expect(page.locator("h1")).to_have_text("Your volunteering")
    expect(page.locator("main")).to_contain_text("Not yet cleared for any task.")
    check_page(page)
