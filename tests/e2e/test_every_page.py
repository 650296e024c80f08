"""Every page each role reaches from the navigation passes axe and the 320 px check, and marks exactly
one menu item current.

The journeys cover forms step by step; this walks the rest (directory, task types, requests,
queue, accounts…) so no page escapes the accessibility and narrow-screen checks. The last test shows
that those checks can fail: a page with a moderate axe violation, and one with an element wider than
a phone, are refused.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import check_page, sign_in

CURRENT = ".govuk-service-navigation__link[aria-current]"

pytestmark = pytest.mark.e2e

ROLES = [
    "volunteer@demo.example",
    "sergeant@demo.example",
    "vetting.officer@demo.example",
    "coordinator@demo.example",
    "partner.reviewer@demo.example",
]


@pytest.mark.parametrize("email", ROLES, ids=[e.split("@")[0] for e in ROLES])
def test_every_navigation_page_and_its_first_link(live_server, new_page, email):
    page = new_page()
    sign_in(page, live_server, email)
    links = page.locator(".govuk-service-navigation__link").evaluate_all("els => els.map(e => e.href)")
    assert links, "every role has a navigation"
    for href in links:
        page.goto(href)
        check_page(page)
        current = page.locator(CURRENT).all_inner_texts()
        assert len(current) == 1, f"{href}: menu items marked current: {current}"
        # One level deeper: the first link in the main content that stays on this site and is a page.
        deeper = page.locator(
            "main a[href^='/']:not([href*='export']):not([href*='sign-']):not([href$='.json']):not([href$='.csv'])"
        ).first
        if deeper.count():
            target = deeper.get_attribute("href")
            page.goto(live_server + target)
            check_page(page)


def test_the_checks_refuse_a_moderate_violation_and_an_element_wider_than_a_phone(live_server, new_page):
    """check_page is strict: a stray paragraph outside every landmark (axe `region`, moderate) fails, and so
    does a table that only fits by scrolling inside its box at 320 px, though the page itself does not scroll."""
    page = new_page()
    page.goto(live_server + "/sign-in")
    page.evaluate("document.body.insertAdjacentHTML('afterbegin', '<p>Outside every landmark</p>')")
    with pytest.raises(AssertionError, match=r"region \(moderate\)"):
        check_page(page)
    page.goto(live_server + "/sign-in")
    # Styled through the DOM: the CSP refuses inline style attributes.
    page.evaluate(
        """() => {
          const box = document.createElement("div");
          box.style.overflowX = "auto";
          box.innerHTML = '<table><caption>Wide</caption><tr><th scope="col">A wide column</th></tr></table>';
          box.querySelector("th").style.minWidth = "600px";
          document.querySelector("main").append(box);
        }"""
    )
    with pytest.raises(AssertionError, match="wider than the viewport at 320px"):
        check_page(page)
