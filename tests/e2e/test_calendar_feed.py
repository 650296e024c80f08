"""Journey: a volunteer and a sergeant each add their calendar feed (issue #20) — in Chromium, with axe and the
320 px check on every page, the feed fetched as a calendar app would (no cookies) and parsed with icalendar."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e


def _as_a_calendar_app(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the loopback test server
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, b"", ""


@pytest.mark.parametrize(
    ("account", "calendar_name", "start"),
    [
        ("volunteer@demo.example", "your bookings", "Add your bookings to your own calendar"),
        (
            "sergeant@demo.example",
            "your wards' requests",
            "See your wards' requests and who is coming in your own calendar",
        ),
    ],
    ids=["volunteer", "sergeant"],
)
def test_get_a_calendar_link_use_it_and_turn_it_off(live_server, new_page, account, calendar_name, start):
    page = new_page()
    sign_in(page, live_server, account)
    page.get_by_role("link", name=start).click()
    expect(page.locator("h1")).to_have_text("Calendar feed")
    check_page(page)

    # The warning must be acknowledged first: the message is by the box.
    page.get_by_role("button", name="Create a calendar link").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("anyone with the link")
    check_page(page)
    page.get_by_label("I understand that anyone who has the link can see what it shows").check()
    page.get_by_role("button", name="Create a calendar link").click()
    expect(page.locator("h1")).to_have_text("Your calendar link")
    check_page(page)
    url = page.get_by_label("Calendar link").input_value()
    assert url.startswith(live_server + "/calendar/") and url.endswith(".ics")

    status, data, content_type = _as_a_calendar_app(url)
    assert status == 200 and content_type == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(data)
    assert calendar_name in str(calendar["x-wr-calname"])
    assert str(calendar["x-wr-timezone"]) == "Europe/London"

    page.get_by_role("link", name="I have added the link").click()
    expect(page.locator("h1")).to_have_text("Calendar feed")
    expect(page.locator(".govuk-summary-list")).to_contain_text("On")
    check_page(page)
    page.get_by_role("button", name="Turn off the calendar link").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your calendar link is turned off")
    check_page(page)
    assert _as_a_calendar_app(url)[0] == 404
