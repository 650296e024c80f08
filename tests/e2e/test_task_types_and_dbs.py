"""Journey: a coordinator adds a task type that a sergeant can raise at once; a vetting officer grants a DBS
check with its certificate and records an Update Service status check on it.

Chromium on a phone's width (375 px), axe and the no-sideways-scrolling check on every page.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from core.timeutil import london_today
from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e


def _menu(page: Page, name: str) -> None:
    """Follow a main-menu link; on a phone the menu opens from its button first."""
    button = page.get_by_role("button", name="Menu")
    if button.is_visible() and button.get_attribute("aria-expanded") != "true":
        button.click()
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name=name, exact=True).click()


def _date(page: Page, field: str, day: dt.date) -> None:
    page.locator(f"#{field}-day").fill(str(day.day))
    page.locator(f"#{field}-month").fill(str(day.month))
    page.locator(f"#{field}-year").fill(str(day.year))


def test_a_coordinator_adds_a_task_type_a_sergeant_raises_it(live_server, new_page):
    coordinator = new_page(375)
    sign_in(coordinator, live_server, "coordinator@demo.example")
    _menu(coordinator, "Task types")
    coordinator.get_by_role("link", name="Add a task type").click()
    expect(coordinator.locator("h1")).to_have_text("Add a task type")
    check_page(coordinator)

    # Nothing filled in: every message by its box; what was typed stays.
    coordinator.get_by_label("Name", exact=True).fill("Fraud-prevention talk")
    coordinator.locator("#clearances").fill("NPPV9")
    coordinator.get_by_role("button", name="Save task type").click()
    expect(coordinator.locator(".govuk-error-summary")).to_contain_text("Enter a description")
    expect(coordinator.locator("#clearances-error")).to_contain_text("Line 1: NPPV9 is not a clearance type")
    expect(coordinator.get_by_label("Name", exact=True)).to_have_value("Fraud-prevention talk")
    check_page(coordinator)

    coordinator.get_by_label("What people doing it are cleared for").fill("fraud-prevention talks")
    coordinator.get_by_label("Description").fill("A talk to a community group about the scams going round.")
    coordinator.locator("#clearances").fill("NPPV2A | NPPV2F")
    coordinator.locator("#skills").fill("cyber_victim_support : practitioner")
    coordinator.get_by_role("button", name="Save task type").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text("Fraud-prevention talk: task type added")
    expect(coordinator.locator(".govuk-summary-card h2").last).to_have_text("Fraud-prevention talk")
    check_page(coordinator)

    sergeant = new_page(375)
    sign_in(sergeant, live_server, "sergeant@demo.example")
    sergeant.goto(live_server + "/requests/new")
    sergeant.get_by_label("Fraud-prevention talk").check()
    expect(sergeant.locator("main")).to_contain_text("A talk to a community group about the scams going round.")
    check_page(sergeant)
    sergeant.get_by_role("button", name="Continue").click()
    expect(sergeant.locator("main")).to_contain_text("Fraud-prevention talk")
    check_page(sergeant)


def test_a_vetting_officer_grants_a_dbs_check_with_its_certificate_and_checks_its_status(live_server, new_page):
    officer = new_page(375)
    sign_in(officer, live_server, "vetting.officer@demo.example")
    officer.goto(live_server + "/vetting/queue?kind=new_application")
    officer.locator("tbody tr").first.get_by_role("link").first.click()
    check_page(officer)

    officer.get_by_label("Grant", exact=True).check()
    officer.get_by_label("Clearance", exact=True).select_option("DBS_ENH_CHILD")
    _date(officer, "valid_from", london_today())
    officer.get_by_label("DBS certificate number").fill("0012 3456 789")  # a digit short
    _date(officer, "dbs_issued_on", london_today() - dt.timedelta(days=400))
    officer.get_by_label("Reason").fill("Certificate seen: clear.")
    officer.get_by_role("button", name="Record decision").click()
    expect(officer.locator("#dbs_certificate_number-error")).to_contain_text("12 digits")
    expect(officer.get_by_label("DBS certificate number")).to_have_value("0012 3456 789")
    check_page(officer)

    officer.get_by_label("DBS certificate number").fill("0012 3456 7890")
    officer.get_by_label("Update Service subscription ID (if they subscribe)").fill("C0123456789")
    officer.get_by_role("button", name="Record decision").click()
    expect(officer.locator(".govuk-notification-banner")).to_contain_text("Decision recorded")
    expect(officer.locator("main")).to_contain_text("DBS certificate 001234567890")
    check_page(officer)

    officer.get_by_role("link", name="Record a status check").click()
    expect(officer.locator("h1")).to_contain_text("Record a DBS status check for")
    check_page(officer)
    officer.get_by_role("button", name="Record the status check").click()
    expect(officer.locator("#dbs_status_checked_on-error")).to_contain_text("Enter the date of the status check")
    check_page(officer)
    _date(officer, "dbs_status_checked_on", london_today())
    officer.get_by_label("No new information: the certificate is still current").check()
    officer.get_by_role("button", name="Record the status check").click()
    expect(officer.locator(".govuk-notification-banner")).to_contain_text("Status check recorded")
    expect(officer.locator("main")).to_contain_text("last status check")
    check_page(officer)
