"""Issue #19 in Chromium: a first-time volunteer finds "Apply", changes a skill's level, removes things only
after a question and can undo, meets the London clock changes, and reads what their vetting lets them do.

Every page visited is checked with axe and at 320 px (check_page); screenshots at 1024 and 375 px go to
test-artifacts/ to be looked at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.applying import apply_and_confirm
from tests.e2e.conftest import ARTIFACTS, check_page, sign_in

pytestmark = pytest.mark.e2e


def _look(page: Page, name: str) -> None:
    """check_page, and a screenshot at desktop and phone widths."""
    check_page(page)
    ARTIFACTS.mkdir(exist_ok=True)
    original = page.viewport_size
    for width in (1024, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"volunteer-changes-{name}-{width}.png"), full_page=True)
    page.set_viewport_size(original)


def test_a_first_time_volunteer_changes_and_undoes(live_server, new_page, mailbox):
    page = new_page()
    page.goto(live_server + "/")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.get_by_role("link", name="Apply to volunteer").click()
    expect(page.locator("h1")).to_contain_text("Apply")
    _look(page, "sign-in-to-apply")
    apply_and_confirm(
        page,
        live_server,
        mailbox,
        "Sam Okoye",
        "sam.okoye@e2e.example",
        "copper violet harbour",
        kind="Police support volunteer (not warranted)",
        phone="07700 900 321",
    )

    # A skill, then a new level without removing it.
    page.goto(live_server + "/profile/skills/add")
    page.get_by_label("Skill").select_option("osint")
    page.get_by_label("Practitioner").check()
    page.get_by_role("button", name="Add skill").click()
    page.get_by_role("link", name="Change level of Open-source intelligence").click()
    expect(page.get_by_label("Practitioner")).to_be_checked()
    _look(page, "change-level")
    page.get_by_label("Expert").check()
    page.get_by_role("button", name="Save level").click()
    card = page.locator(".govuk-summary-card").filter(has_text="Open-source intelligence")
    expect(card).to_contain_text("Expert")
    _look(page, "skills")

    # Remove: a question first, then an undo in the banner.
    page.get_by_role("link", name="Remove Open-source intelligence").click()
    expect(page.locator("h1")).to_have_text("Are you sure you want to remove Open-source intelligence (OSINT)?")
    _look(page, "confirm-remove")
    page.get_by_role("button", name="Yes, remove it").click()
    expect(page.locator(".govuk-summary-card")).to_have_count(0)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Open-source intelligence (OSINT) removed.")
    _look(page, "undo-banner")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".govuk-summary-card")).to_contain_text("Expert")

    # "Add time" with nothing chosen: errors by the fields, nothing added.
    page.goto(live_server + "/profile/availability/weekly/add")
    expect(page.get_by_label("Day")).to_have_value("")
    page.get_by_role("button", name="Add time").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose a day")
    _look(page, "empty-weekly-time")
    page.get_by_label("Day").select_option(label="Tuesday")
    page.get_by_label("From").select_option(label="18:00")
    page.get_by_label("Until").select_option(label="21:00")
    page.get_by_role("button", name="Add time").click()
    page.get_by_role("link", name="Remove Tuesday 6pm to 9pm").click()
    page.get_by_role("button", name="Yes, remove it").click()
    expect(page.locator("main")).to_contain_text("You have no regular times yet.")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("main")).to_contain_text("Tuesday 6pm to 9pm")

    # A time the clocks skip in spring.
    page.goto(live_server + "/profile/availability/dates/add")
    page.locator("#on_date-day").fill("28")
    page.locator("#on_date-month").fill("3")
    page.locator("#on_date-year").fill("2027")
    page.get_by_label("I am available at these times").check()
    page.get_by_label("From").select_option(label="01:30")
    page.get_by_label("Until").select_option(label="03:00")
    page.get_by_role("button", name="Add date").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("does not exist in London")
    _look(page, "spring-gap")

    # A declaration, removed after the question.
    page.goto(live_server + "/profile/conflicts/add")
    page.get_by_label("My employer", exact=True).check()
    page.get_by_label("Name of the organisation, person or place").fill("Whittington Health NHS Trust")
    page.get_by_role("button", name="Declare").click()
    _look(page, "conflicts")
    page.get_by_role("link", name="Remove Whittington Health NHS Trust").click()
    expect(page.locator("main")).to_contain_text("You could be offered work involving it again.")
    page.get_by_role("button", name="Yes, remove it").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Whittington Health NHS Trust removed.")
    _look(page, "conflict-removed")


def test_your_vetting_says_what_each_clearance_lets_you_do(live_server, new_page):
    page = new_page()
    sign_in(page, live_server, "volunteer@demo.example")
    page.goto(live_server + "/vetting/my-clearances")
    expect(page.locator("main")).to_contain_text("What it lets you do")
    expect(page.locator("main .govuk-summary-list").first).to_be_visible()
    _look(page, "your-vetting")
