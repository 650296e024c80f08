"""Journey 2: vetting officers work the queue — in Chromium, with axe and 320 px checks on every page.

A new application and a change of circumstances reach the queue; one officer grants a clearance
with a restriction using the keyboard alone; another application is refused by one officer and
confirmed by a second; both decisions show in the history.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.applying import apply_and_confirm
from tests.e2e.conftest import DEMO_PASSWORD, check_page, sign_in

pytestmark = pytest.mark.e2e


def _sign_in(page: Page, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    sign_in(page, base, email, password)  # the shared helper: it gives the security code where asked


def _apply(page: Page, base: str, mailbox, name: str, email: str) -> None:
    apply_and_confirm(
        page,
        base,
        mailbox,
        name,
        email,
        "lantern maple orbit",
        kind="Police support volunteer (not warranted)",
        phone="07700 900456",
    )


def _open_review(page: Page, base: str, name: str, kind: str) -> None:
    page.goto(base + "/vetting/queue")
    row = page.locator("tbody tr").filter(has_text=name).filter(has_text=kind)
    row.get_by_role("link", name=name).click()
    expect(page.locator("h1")).to_contain_text(name)


def test_officers_grant_with_a_restriction_and_refuse_with_a_second_officer(live_server, new_page, mailbox):
    base = live_server
    applicant = new_page()
    _apply(applicant, base, mailbox, "Priya Raman", "priya.raman@e2e.example")
    applicant.goto(base + "/profile/circumstances")
    applicant.get_by_label("New job or employer").check()
    day = dt.date.today() - dt.timedelta(days=1)
    applicant.locator("#occurred_on-day").fill(str(day.day))
    applicant.locator("#occurred_on-month").fill(str(day.month))
    applicant.locator("#occurred_on-year").fill(str(day.year))
    applicant.get_by_label("Tell us what has changed").fill("Started at a cyber consultancy")
    applicant.get_by_role("button", name="Report the change").click()
    second_applicant = new_page()
    _apply(second_applicant, base, mailbox, "Sam Doe", "sam.doe@e2e.example")

    officer = new_page()
    _sign_in(officer, base, "vetting.officer@demo.example")
    officer.goto(base + "/vetting/queue")
    check_page(officer)
    queue = officer.locator("tbody")
    expect(queue).to_contain_text("Priya Raman")
    expect(queue.locator("tr").filter(has_text="Priya Raman").filter(has_text="Triggered review")).to_have_count(1)
    expect(queue.locator("tr").filter(has_text="Priya Raman").filter(has_text="New application")).to_have_count(1)

    # Grant with a restriction, keyboard only.
    _open_review(officer, base, "Priya Raman", "New application")
    check_page(officer)
    officer.get_by_label("Grant with restrictions").focus()
    officer.keyboard.press("Space")
    officer.get_by_label("Clearance").focus()
    for _ in range(5):  # RV, MV, NPPV1, NPPV2A, NPPV2F: arrow keys move a closed select's choice
        officer.keyboard.press("ArrowDown")
    expect(officer.get_by_label("Clearance")).to_have_value("NPPV2F")
    today = dt.date.today()
    officer.locator("#valid_from-day").focus()
    officer.keyboard.type(str(today.day))
    officer.keyboard.press("Tab")
    officer.keyboard.type(str(today.month))
    officer.keyboard.press("Tab")
    officer.keyboard.type(str(today.year))
    officer.get_by_label("Youth and schools liaison").focus()
    officer.keyboard.press("Space")
    officer.get_by_label("Reason").focus()
    officer.keyboard.type("All checks clear; no unsupervised youth work until the DBS arrives")
    officer.get_by_role("button", name="Record decision").focus()
    officer.keyboard.press("Enter")
    expect(officer.locator(".govuk-notification-banner")).to_contain_text("Decision recorded")
    expect(officer.locator("main")).to_contain_text("in progress → granted with restrictions")
    check_page(officer)

    # Refusal by one officer...
    _open_review(officer, base, "Sam Doe", "New application")
    officer.get_by_label("Refuse (a second vetting officer must confirm)").check()
    officer.get_by_label("Clearance").select_option("NPPV2A")
    officer.get_by_label("Reason").fill("Undeclared conviction found in the PNC check")
    officer.get_by_role("button", name="Record decision").click()
    expect(officer.locator(".govuk-notification-banner")).to_contain_text("takes effect when a second")
    expect(officer.locator("main")).to_contain_text("A different vetting officer must confirm it")
    check_page(officer)

    # ...confirmed by a second.
    colleague = new_page()
    _sign_in(colleague, base, "vetting.officer2@demo.example")
    _open_review(colleague, base, "Sam Doe", "New application")
    check_page(colleague)
    colleague.get_by_role("button", name="Confirm the refusal").click()
    expect(colleague.locator(".govuk-notification-banner")).to_contain_text("Decision confirmed")
    history = colleague.locator("main")
    expect(history).to_contain_text("in progress → refused (confirmed by a second officer)")
    expect(history).to_contain_text("Undeclared conviction found in the PNC check")
    check_page(colleague)

    # The volunteer sees the outcome in plain words and how to appeal, never the reason.
    second_applicant.goto(base + "/vetting/my-clearances")
    expect(second_applicant.locator("main")).to_contain_text("You can appeal this decision until")
    expect(second_applicant.locator("main")).not_to_contain_text("PNC")
    check_page(second_applicant)
