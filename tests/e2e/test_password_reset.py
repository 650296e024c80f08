"""A forgotten password, in a real browser: the link arrives by email (a local SMTP server), sets a new
password and signs the person in; the session left open elsewhere and the used link are refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e

# A BCU sergeant of the demo whom no other browser test signs in as: their password changes here.
ACCOUNT = "sergeant.cw@demo.example"
NEW_PASSWORD = "harbour lantern thistle"


def test_forgotten_password_by_email_link_ends_the_old_session(live_server, new_page, mailbox):
    base = live_server
    # Signed in on another computer (a browser context of its own), then the password is forgotten.
    elsewhere = new_page()
    sign_in(elsewhere, base, ACCOUNT)
    expect(elsewhere.locator("h1")).to_have_text("Your wards")

    page = new_page()
    page.goto(base + "/sign-in")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.locator("h1")).to_have_text("Reset your password")
    check_page(page)
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    check_page(page)
    already = len(mailbox.messages)
    page.get_by_label("Email address").fill(ACCOUNT.upper())
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    check_page(page)

    message = mailbox.wait_for(ACCOUNT, "Reset your password", after=already)
    link = re.search(r"http://127\.0\.0\.1:\d+/reset-password/\S+", message.get_body().get_content()).group(0)
    assert link.startswith(base)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    check_page(page)
    page.get_by_label("New password").fill("password1234")
    page.get_by_role("button", name="Save password and sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("too common")
    check_page(page)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password and sign in").click()
    expect(page.locator("h1")).to_have_text("Your wards")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your password has been changed")
    check_page(page)

    # The session cookie from before the reset no longer signs anyone in.
    elsewhere.reload()
    expect(elsewhere.locator("h1")).to_have_text("Sign in")
    # The link is spent.
    spent = new_page()
    spent.goto(link)
    expect(spent.locator("h1")).to_have_text("This link has expired or has already been used")
    check_page(spent)
    # The old password is refused, the new one signs in.
    fresh = new_page()
    fresh.goto(base + "/sign-in")
    fresh.get_by_label("Email address").fill(ACCOUNT)
    fresh.get_by_label("Password", exact=True).fill("neighbourhood-demo-2026")
    fresh.get_by_role("button", name="Sign in").click()
    expect(fresh.locator(".govuk-error-summary")).to_be_visible()
    sign_in(fresh, base, ACCOUNT, NEW_PASSWORD)
    expect(fresh.locator("h1")).to_have_text("Your wards")
