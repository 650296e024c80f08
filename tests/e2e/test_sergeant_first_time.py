"""Issue #19 in Chromium, on demo data, with axe and the 320 px check on every page: the sergeant's home page
says each request's status, a new request starts from its task type's usual window and length, a window
across midnight reads "the next day", an offer says when to be there and whom to call, a bigger change to a
matched request says what it does to the offers before saving, and a cancellation's reason reaches the
volunteer."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import check_page
from tests.e2e.test_sergeant_journey import _find_volunteers, _offered
from tests.e2e.test_vetting_journey import _sign_in

pytestmark = pytest.mark.e2e
# Four weeks ahead: clear of the demo's fortnight and of the other sergeant journey's day.
DAY = dt.date.today() + dt.timedelta(days=28)


def _details(page: Page, base: str, title: str, start: str, end: str, phone: str = "") -> None:
    """Raise a mental-health escort on DAY for ``start`` to ``end``, keeping the pre-filled length."""
    page.goto(base + "/requests/new")
    page.get_by_label("Mental-health escort").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("From")).not_to_have_value("")  # pre-filled from the task type
    expect(page.get_by_label("How long will the task take?")).to_have_value("180")
    check_page(page)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Short description").fill("Escort to the place of safety; the ward officer will meet you.")
    page.locator("#ward").check()
    page.locator("#date-day").fill(str(DAY.day))
    page.locator("#date-month").fill(str(DAY.month))
    page.locator("#date-year").fill(str(DAY.year))
    page.get_by_label("From").fill(start)
    page.get_by_label("Until").fill(end)
    page.get_by_label("Urgent").check()
    if phone:
        page.get_by_label("Phone number for the volunteers (optional)").fill(phone)
    page.get_by_role("button", name="Raise request").click()
    expect(page.locator("h1")).to_have_text(title)
    check_page(page)


def test_a_sergeants_first_requests_read_right_from_raising_to_cancelling(live_server, new_page):
    base = live_server
    sergeant = new_page()
    _sign_in(sergeant, base, "sergeant@demo.example")
    tags = sergeant.locator("table").nth(1).locator("tbody .govuk-tag")
    expect(tags.first).to_have_text(re.compile(r"^\s*(Open|Matched|Part filled|Filled)\s*$"))
    for text in tags.all_inner_texts():
        assert text.strip() in {"Open", "Matched", "Part filled", "Filled"}
    check_page(sergeant)

    # Night work: 10pm to 2am is the next day, said so.
    _details(sergeant, base, "Night escort from a custody suite", "22:00", "02:00")
    expect(sergeant.locator("main")).to_contain_text("10pm to 2am the next day")

    # A daytime escort the demo's local team can take: the offer says when to be there and whom to call.
    _details(sergeant, base, "Escort to St Pancras, first-time check", "10:00", "13:00", phone="020 7946 0000")
    request_url = sergeant.url
    _find_volunteers(sergeant)
    (_, email), *_ = _offered(sergeant).items()
    volunteer = new_page(375)
    _sign_in(volunteer, base, email)
    volunteer.locator("#offers + ul a", has_text="first-time check").click()
    main = volunteer.locator("main")
    expect(main).to_contain_text("Be there by 10am: the task takes about 3 hours")
    expect(main).to_contain_text("020 7946 0000")
    check_page(volunteer)
    offer_url = volunteer.url

    # A bigger change: the page says what it does to the offers before anything is saved.
    sergeant.goto(request_url + "/edit")
    expect(sergeant.locator(".govuk-inset-text").first).to_contain_text("keeps their places")
    check_page(sergeant)
    sergeant.get_by_label("From").fill("11:00")
    sergeant.get_by_label("Until").fill("14:00")
    sergeant.get_by_role("button", name="Save changes").click()
    expect(sergeant.locator(".govuk-warning-text")).to_contain_text("their offers withdrawn")
    expect(sergeant.get_by_label("From")).to_have_value("11:00")
    check_page(sergeant)
    sergeant.get_by_role("button", name="Save and withdraw the offers").click()
    expect(sergeant.locator(".govuk-notification-banner")).to_contain_text("been told and their offers withdrawn")
    expect(sergeant.locator(".app-offers")).to_contain_text("Withdrawn: request changed")
    check_page(sergeant)
    volunteer.goto(offer_url)
    expect(volunteer.locator("main")).to_contain_text("The team changed this request")
    check_page(volunteer)

    # Matched again at once with the new time; whoever is offered it now reads the cancellation's reason.
    sergeant.goto(request_url)
    (_, again), *_ = _offered(sergeant).items()
    reader = new_page(375)
    _sign_in(reader, base, again)
    reader.locator("#offers + ul a", has_text="first-time check").click()
    expect(reader.locator("main")).to_contain_text("Be there by 11am")
    new_offer_url = reader.url
    sergeant.goto(request_url + "/cancel")
    check_page(sergeant)
    sergeant.get_by_label("Why are you cancelling this request?").fill("The person has been admitted already")
    sergeant.get_by_role("button", name="Cancel request").click()
    expect(sergeant.locator(".govuk-notification-banner")).to_contain_text("Request cancelled")
    check_page(sergeant)
    reader.goto(new_offer_url)
    expect(reader.locator("main")).to_contain_text(
        "The team cancelled this request: The person has been admitted already"
    )
    check_page(reader)
