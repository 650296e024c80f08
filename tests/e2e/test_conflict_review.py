"""Journey: a coordinator on a phone (375 px) records a conflict review from the directory.

Chromium, with axe and the no-sideways-scrolling check on every page, the form sent empty first (the
error summary and the messages by the fields), then an outcome with findings.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@demo.example"


def test_a_coordinator_records_a_conflict_review_from_the_directory(live_server, new_page):
    base = live_server
    page = new_page(375)
    sign_in(page, base, COORDINATOR)
    page.goto(base + "/volunteers?status=active")
    # Someone whose line of work needs a review (the directory tags them).
    row = page.locator("tbody tr", has=page.locator(".govuk-tag", has_text="Conflict review")).first
    expect(row).to_be_visible()
    name = row.locator("a").first.inner_text().strip()
    row.locator("a").first.click()
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("main")).to_contain_text("Conflict review")
    check_page(page)

    page.locator("main a", has_text=re.compile("(Record|See or change) the conflict review")).click()
    expect(page.locator("h1")).to_have_text(f"Conflict review: {name}")
    check_page(page)

    # Sent with nothing chosen and no reasons: the summary, and each message by its box; nothing saved.
    for box in page.locator("input[name=findings]").all():
        box.uncheck()
    for box in page.locator("input[name=task_types]").all():
        box.uncheck()
    page.get_by_label("Organisations they have a conflict with").fill("")
    page.get_by_label("Wards they have a conflict with").fill("")
    page.get_by_role("button", name="Record the conflict review").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose what the review found")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter what the review looked at")
    check_page(page)

    page.get_by_label("Conflicts with organisations or wards").check()
    page.get_by_label("Not suitable for some task types").check()
    page.get_by_label("Organisations they have a conflict with").fill("Northgate Digital\nCityBank plc")
    page.get_by_label("Counter-terrorism digital support").check()
    permission = page.get_by_label("Their employer has given permission for them to volunteer")
    if permission.count():
        permission.check()
    page.get_by_label("Reasons", exact=True).fill("Their employer's client list names Northgate Digital and CityBank.")
    page.get_by_role("button", name="Record the conflict review").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Conflict review recorded for {name}")
    expect(page.locator("main")).to_contain_text(
        "Conflicts with organisations or wards; not suitable for some task types"
    )
    expect(page.locator("main")).to_contain_text("Northgate Digital; CityBank plc")
    check_page(page)

    page.get_by_role("link", name="Back").click()
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("main")).not_to_contain_text("Conflict review needed before any deployment")
    expect(page.locator("main")).to_contain_text("Conflicts with organisations or wards")
