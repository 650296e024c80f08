"""Issue 19, item 21 in Chromium: a coordinator exports exactly the volunteers the filters show, rejects
evidence from the list and lands back on it, and records that a volunteer has left only after confirming.
At a desktop width and on a phone (375 px), with axe and the small-screen check on every page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@demo.example"


@pytest.mark.parametrize("width", [1024, 375])
def test_a_coordinator_exports_the_filtered_list_checks_evidence_and_records_a_leaver(live_server, new_page, width):
    base = live_server
    page = new_page(width)
    sign_in(page, base, COORDINATOR)

    # The directory filtered to paused volunteers: the download holds those and no one else.
    page.goto(f"{base}/volunteers")
    page.get_by_label("Status").select_option("paused")
    page.get_by_role("button", name="Apply filters").click()
    link = page.get_by_role("link", name="matching the filters as a CSV file")
    expect(link).to_have_attribute("href", "/volunteers/export.csv?status=paused")
    check_page(page)
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    statuses = {row["status"] for row in csv.DictReader(io.StringIO(text))}
    assert statuses <= {"paused"}

    # Rejecting evidence from the list of evidence to check comes back to that list.
    page.goto(f"{base}/volunteers/evidence")
    reject = page.get_by_role("link", name="Reject").first
    if reject.count():
        reject.click()
        expect(page.locator(".govuk-back-link")).to_have_attribute("href", "/volunteers/evidence")
        page.get_by_role("button", name="Reject evidence").click()  # no reason: said by the box, way back kept
        expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why the evidence is rejected")
        check_page(page)
        page.get_by_label("Why is the evidence rejected?").fill("Registration number not found on the register")
        page.get_by_role("button", name="Reject evidence").click()
        expect(page.locator("h1")).to_have_text("Evidence waiting to be checked")
        expect(page.locator(".govuk-notification-banner")).to_contain_text("evidence rejected")
        check_page(page)

    # An active volunteer: record that they have left, which asks to confirm first.
    page.goto(f"{base}/volunteers?status=active")
    page.locator("tbody a.govuk-link").first.click()
    name = page.locator("h1").inner_text().strip()
    page.get_by_role("link", name="Change status").click()
    page.get_by_label("Left").check()
    page.get_by_label("Why?").fill("Moved away from London")
    page.get_by_role("button", name="Save status").click()
    expect(page.locator("h1")).to_have_text(f"Confirm that {name} has left")
    expect(page.locator("main")).to_contain_text("cannot be undone")
    check_page(page)
    page.get_by_role("button", name="Change my answer").click()
    expect(page.locator("h1")).to_have_text("Change status")
    expect(page.get_by_label("Why?")).to_have_value("Moved away from London")
    expect(page.get_by_label("Left")).to_be_checked()
    check_page(page)
    page.get_by_label("Paused").check()
    page.get_by_role("button", name="Save status").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"{name} is now paused")
    check_page(page)
