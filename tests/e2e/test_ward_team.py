"""Journey: a sergeant's ward team supervises youth work (issue #23) — in Chromium, with axe and 320 px checks on
every page.

The demo sergeant adds a PCSO to their ward team, raises a youth and schools liaison supervised by that PCSO
(one volunteer is then enough: the officer is the second adult), and *Find volunteers now* offers it to the demo's
volunteer cleared for youth work only with a supervising officer (no children's barred-list check), who is
never offered unsupervised youth work.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from matching.teams.demo import SUPERVISED_ONLY_NAME
from tests.e2e.conftest import check_page
from tests.e2e.test_vetting_journey import _sign_in

pytestmark = pytest.mark.e2e
# Clear of the demo's own fortnight and of the other journeys' days.
DAY = dt.date.today() + dt.timedelta(days=23)
TITLE = "Deaf awareness assembly with the PCSO"


def test_sergeant_adds_a_pcso_and_a_supervised_youth_request_reaches_a_supervised_only_volunteer(live_server, new_page):
    base = live_server
    page = new_page()
    _sign_in(page, base, "sergeant@demo.example")

    # The ward team: add a PCSO to the first ward.
    page.get_by_role("link", name="Ward team").click()
    expect(page.locator("h1")).to_have_text("Your ward team")
    check_page(page)
    ward = page.locator("main h2.govuk-heading-m").first.inner_text().strip()
    page.get_by_role("button", name=f"Add a PCSO or ward officer to {ward.split(',')[0]}").click()
    expect(page.locator("h1")).to_have_text("Add a PCSO or ward officer")
    check_page(page)
    page.get_by_role("button", name="Add to the team").click()  # nothing filled in: every field says what to do
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter their name")
    check_page(page)
    page.get_by_label("Full name").fill("PCSO Jo Marsh")
    page.get_by_label("PCSO", exact=True).check()
    page.get_by_label("Work email address").fill("jo.marsh@met.demo.example")
    page.get_by_label("Work phone number (optional)").fill("020 7230 4455")
    page.get_by_role("button", name="Add to the team").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("PCSO Jo Marsh added")
    expect(page.locator("main")).to_contain_text("jo.marsh@met.demo.example")
    check_page(page)

    # A youth request for that ward, supervised by the PCSO, for one volunteer who signs BSL.
    page.goto(base + "/requests/new")
    page.get_by_label("Youth and schools liaison").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("main")).to_contain_text("needs two adults")
    check_page(page)
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Short description").fill("A talk to year 8, with a deaf pupil; the PCSO leads the session.")
    page.get_by_label(ward, exact=True).check()
    page.locator("#date-day").fill(str(DAY.day))
    page.locator("#date-month").fill(str(DAY.month))
    page.locator("#date-year").fill(str(DAY.year))
    page.get_by_label("From").fill("10:00")
    page.get_by_label("Until").fill("12:00")
    page.get_by_label("How long will the task take?").select_option("60")
    page.get_by_label("How many volunteers do you need?").fill("1")
    # With neither a second volunteer nor the officer the form refuses, by the field.
    page.get_by_role("button", name="Raise request").click()
    expect(page.locator("#supervising_officer-error")).to_contain_text("needs two adults")
    expect(page.get_by_label("Title")).to_have_value(TITLE)  # nothing typed is lost
    check_page(page)
    page.get_by_label("Supervising officer (optional)").select_option(
        label=f"PCSO Jo Marsh (PCSO), {ward.split(',')[0]}"
    )
    page.get_by_label("British Sign Language").check()
    page.get_by_role("button", name="Raise request").click()
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator("main")).to_contain_text("PCSO Jo Marsh (PCSO)")
    check_page(page)

    # Find volunteers now: the supervised-only volunteer is offered it.
    page.get_by_role("button", name="Find volunteers now").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("has been offered this request")
    expect(page.locator(".app-offers")).to_contain_text(SUPERVISED_ONLY_NAME)
    check_page(page)
