"""Every page each role reaches from the navigation passes axe and the 320 px check.

The journeys cover forms step by step; this walks the rest (directory, task types, requests,
queue, accounts…) so no page escapes the accessibility and narrow-screen checks.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e

ROLES = ["volunteer@demo.example", "sergeant@demo.example", "vetting.officer@demo.example", "coordinator@demo.example"]


@pytest.mark.parametrize("email", ROLES, ids=[e.split("@")[0] for e in ROLES])
def test_every_navigation_page_and_its_first_link(live_server, new_page, email):
    page = new_page()
    sign_in(page, live_server, email)
    links = page.locator(".govuk-service-navigation__link").evaluate_all("els => els.map(e => e.href)")
    assert links, "every role has a navigation"
    for href in links:
        page.goto(href)
        check_page(page)
        # One level deeper: the first link in the main content that stays on this site and is a page.
        deeper = page.locator("main a[href^='/']:not([href*='export']):not([href*='sign-'])").first
        if deeper.count():
            target = deeper.get_attribute("href")
            page.goto(live_server + target)
            check_page(page)
