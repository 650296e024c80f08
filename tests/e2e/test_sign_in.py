"""A person signs in, sees the home page for their role, and signs out — in a real browser."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e

HOMES = [
    ("volunteer@demo.example", "Your volunteering"),
    ("sergeant@demo.example", "Your wards"),
    ("vetting.officer@demo.example", "Vetting"),
    ("coordinator@demo.example", "Coordinator overview"),
]


@pytest.mark.parametrize(("email", "heading"), HOMES, ids=[e.split("@")[0] for e, _ in HOMES])
def test_sign_in_see_home_sign_out(live_server, new_page, email, heading):
    page = new_page()
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text() == "Sign in"
    check_page(page)

    sign_in(page, live_server, email)  # the coordinator and vetting officers also give a security code
    page.wait_for_url(live_server + "/")
    assert page.locator("h1").inner_text() == heading
    check_page(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    assert "You have signed out." in page.locator(".govuk-notification-banner").inner_text()
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text() == "Sign in"


def test_wrong_password_shows_the_error_summary(live_server, new_page):
    page = new_page()
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address").fill("volunteer@demo.example")
    page.get_by_label("Password", exact=True).fill("not the right password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    assert "Enter a correct email address and password" in summary.inner_text()
    assert page.title().startswith("Error: Sign in")
    check_page(page)
