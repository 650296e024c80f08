"""The privacy notice, accessibility statement and contact page, reached from the footer in a real browser,
pass axe and the 320 px check; a volunteer's profile offers the download of their own data."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, check_page

pytestmark = pytest.mark.e2e

PAGES = [
    ("Privacy", "Privacy notice"),
    ("Accessibility statement", "Accessibility statement for"),
    ("Contact", "Contact us"),
]


@pytest.mark.parametrize(("link", "heading"), PAGES, ids=[p[0].split()[0].lower() for p in PAGES])
def test_each_public_page_from_the_footer(live_server, new_page, link, heading):
    page = new_page()
    page.goto(live_server + "/sign-in")
    page.locator(".govuk-footer").get_by_role("link", name=link, exact=True).click()
    expect(page.locator("h1")).to_contain_text(heading)
    check_page(page)


def test_a_volunteer_downloads_their_own_data(live_server, new_page):
    page = new_page()
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address").fill("volunteer@demo.example")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).not_to_have_text("Sign in")
    page.goto(live_server + "/profile")
    check_page(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your data as JSON").click()
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["sections"]["profile"][0]["email_address"] == "volunteer@demo.example"
    assert "vetting_outcomes" in data["sections"] and "offers" in data["sections"]
