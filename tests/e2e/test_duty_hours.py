"""Journey: a special constable logs their own duty hours and a coordinator decides them (issue #20) — in
Chromium, with axe and 320 px checks on every page: the special's hours, the duty form (refused, then sent), the
approvers' list, the rejection with a reason the special then reads, and the coordinator's view of their hours.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from core.timeutil import LONDON
from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e
NOTE = "Stewarding the Camden summer fair with PC Patel"


def test_a_special_logs_duty_hours_and_a_coordinator_rejects_them_with_a_reason(live_server, new_page):
    base = live_server
    coordinator = new_page()
    sign_in(coordinator, base, "coordinator@demo.example")
    coordinator.goto(base + "/hours/specials")
    expect(coordinator.locator("h1")).to_have_text("Special constables' hours")
    check_page(coordinator)
    # The first special in the table: their hours, then their directory record for their sign-in address.
    coordinator.locator("#specials-hours tbody th a").first.click()
    expect(coordinator.locator("h1")).to_contain_text("Hours: ")
    name = coordinator.locator("h1").inner_text().removeprefix("Hours: ").strip()
    check_page(coordinator)
    coordinator.get_by_role("link", name=f"Back to {name}").click()
    expect(coordinator.locator("#hours-served")).to_be_visible()
    email = (
        coordinator.locator(".govuk-summary-list__row")
        .filter(has_text="Email address")
        .locator(".govuk-summary-list__value")
        .first.inner_text()
        .strip()
    )

    special = new_page(width=320)
    sign_in(special, base, email)
    special.get_by_role("link", name="Your hours").first.click()
    expect(special.locator("h1")).to_have_text("Your hours")
    check_page(special)
    special.get_by_role("button", name="Log duty hours").click()
    expect(special.locator("h1")).to_have_text("Log duty hours")
    check_page(special)
    # Nothing but a note: every missing answer is named by its field, and the note is kept.
    special.get_by_label("Note for the approver (optional)").fill(NOTE)
    special.get_by_role("button", name="Send for approval").click()
    expect(special.locator(".govuk-error-summary")).to_contain_text("Enter the date of the duty")
    expect(special.locator("#kind-error")).to_contain_text("Choose the kind of duty")
    expect(special.get_by_label("Note for the approver (optional)")).to_have_value(NOTE)
    check_page(special)
    yesterday = dt.datetime.now(LONDON).date() - dt.timedelta(days=1)
    special.locator("#on_date-day").fill(str(yesterday.day))
    special.locator("#on_date-month").fill(str(yesterday.month))
    special.locator("#on_date-year").fill(str(yesterday.year))
    special.get_by_label("Event").check()
    special.get_by_label("Or the number of hours").fill("3.5")
    special.get_by_role("button", name="Send for approval").click()
    expect(special.locator(".govuk-notification-banner")).to_contain_text("sent for approval")
    row = special.locator("#duty-hours ~ .app-table-wrapper tbody tr").filter(has_text=NOTE)
    expect(row).to_contain_text("3 hours 30 minutes")
    expect(row).to_contain_text("Waiting for approval")
    check_page(special)

    coordinator.goto(base + "/hours/approvals")
    expect(coordinator.locator("h1")).to_have_text("Duty hours to approve")
    check_page(coordinator)
    waiting = coordinator.locator("tbody tr").filter(has_text=NOTE)
    waiting.get_by_role("link", name="Reject").click()
    expect(coordinator.locator("h1")).to_have_text("Reject duty hours")
    check_page(coordinator)
    coordinator.get_by_role("button", name="Reject these hours").click()
    expect(coordinator.locator("#reason-error")).to_contain_text("Enter the reason")
    check_page(coordinator)
    coordinator.get_by_label("Why are these hours not approved?").fill("The fair was on Saturday: log that date")
    coordinator.get_by_role("button", name="Reject these hours").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text("hours not approved")

    special.reload()
    expect(row).to_contain_text("Not approved")
    expect(row).to_contain_text("Reason: The fair was on Saturday: log that date")
    check_page(special)
