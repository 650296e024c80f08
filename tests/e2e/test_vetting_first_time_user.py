"""Issue 19, item 17 in Chromium: a vetting officer suspends a clearance with no reason, then with 10,000
characters. The message is by the box, the panel stays open, the text is kept, and the box says its limit.
At a desktop width and on a phone (375 px), with axe and the small-screen check on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e

OFFICER = "vetting.officer@demo.example"


def _a_review_with_a_clearance_to_act_on(page: Page, base: str) -> None:
    """Open a review from the queue whose page offers to act on a clearance."""
    for kind in ("triggered", "renewal", "integrity"):
        page.goto(f"{base}/vetting/queue?kind={kind}")
        links = [a.get_attribute("href") for a in page.locator("tbody a.govuk-link").all()]
        for href in links[:15]:
            page.goto(base + href)
            if page.locator("summary", has_text="Act on this clearance").count():
                return
    pytest.fail("no review in the demo data has a clearance to act on")


@pytest.mark.parametrize("width", [1024, 375])
def test_a_refused_reason_to_suspend_is_shown_by_its_box_in_the_open_panel(live_server, new_page, width):
    page = new_page(width)
    sign_in(page, live_server, OFFICER)
    _a_review_with_a_clearance_to_act_on(page, live_server)
    panel = page.locator("details", has=page.locator("summary", has_text="Act on this clearance")).first
    panel.locator("summary").click()
    box = panel.get_by_label("Reason to suspend pending review")
    expect(panel).to_contain_text("You can enter up to 4,000 characters")
    check_page(page)

    panel.get_by_role("button", name="Suspend pending review").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the reason to suspend the clearance")
    panel = page.locator("details[open]")
    expect(panel).to_have_count(1)
    expect(panel.locator(".govuk-error-message")).to_contain_text("Enter the reason to suspend the clearance")
    # The summary's link takes the officer to the box.
    page.locator(".govuk-error-summary a").first.click()
    expect(panel.get_by_label("Reason to suspend pending review")).to_be_focused()
    check_page(page)

    long = "Adverse information. " * 500  # 10,500 characters
    box = panel.get_by_label("Reason to suspend pending review")
    box.fill(long)
    panel.get_by_role("button", name="Suspend pending review").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Reason must be 4,000 characters or fewer")
    panel = page.locator("details[open]")
    expect(panel.get_by_label("Reason to suspend pending review")).to_have_value(long.replace("\r\n", "\n"))
    check_page(page)
