"""A new coordinator's authenticator app, in a real browser: invited by email, they choose a password and
set up TOTP at their first sign-in (codes computed here with pyotp); the next sign-in asks for a code; a
recovery code works once and only once. Every page passes axe and the 320 px check."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e

NEW_COORDINATOR = "robin.cole@e2e.example"
PASSWORD = "granite meadow beacon"


def _fresh_code(secret: str, after: dt.datetime) -> str:
    """A code for a later 30-second step than the one at ``after``: each code works once."""
    totp = pyotp.TOTP(secret)
    while totp.timecode(dt.datetime.now(dt.UTC)) <= totp.timecode(after):
        time.sleep(1)
    return totp.now()


def _password_step(page: Page, base: str) -> None:
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill(NEW_COORDINATOR)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Enter your security code")


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in")


def test_a_coordinator_sets_up_an_app_at_first_sign_in_then_needs_codes(live_server, new_page, mailbox):
    base = live_server
    # The demo coordinator invites a new one: nobody types a password for someone else.
    admin = new_page()
    sign_in(admin, base, "coordinator@demo.example")
    admin.goto(base + "/accounts/new")
    check_page(admin)
    already = len(mailbox.messages)
    admin.get_by_label("Full name").fill("Robin Cole")
    admin.get_by_label("Email address").fill(NEW_COORDINATOR)
    admin.get_by_label("Coordinator").check()
    admin.get_by_role("button", name="Create account and send invitation").click()
    expect(admin.locator(".govuk-notification-banner")).to_contain_text("emailed them a link")
    check_page(admin)

    invitation = mailbox.wait_for(NEW_COORDINATOR, "Create your password", after=already)
    link = re.search(r"http://\S+/invitation/\S+", invitation.get_body().get_content()).group(0)
    page = new_page()
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Create your password")
    check_page(page)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_role("button", name="Save password and sign in").click()

    # First sign-in: the app is set up before anything else is reachable.
    expect(page.locator("h1")).to_have_text("Set up an authenticator app")
    check_page(page)
    expect(page.locator("main svg[role=img]")).to_be_visible()
    page.goto(base + "/accounts")
    expect(page.locator("h1")).to_have_text("Sign in")  # not in yet...
    page.go_back()
    page.reload()  # ...and the set-up is still there, with the same key
    page.get_by_text("I cannot scan the QR code").click()
    secret = "".join(page.locator("#secret").inner_text().split())
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Security code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The security code is not right")
    check_page(page)
    set_up_at = dt.datetime.now(dt.UTC)
    code = pyotp.TOTP(secret).at(set_up_at)
    page.get_by_label("Security code").fill(f"{code[:3]} {code[3:]}")  # spaces are fine
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Save your recovery codes")
    check_page(page)
    codes = [c.strip() for c in page.locator(".app-recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved my recovery codes").click()
    expect(page.locator("h1")).to_have_text("Coordinator overview")
    _sign_out(page)

    # The next sign-in asks for a code from the app.
    _password_step(page, base)
    check_page(page)
    page.get_by_label("Security code").fill(_fresh_code(secret, set_up_at))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Coordinator overview")
    _sign_out(page)

    # Without the phone: a recovery code, once.
    _password_step(page, base)
    page.get_by_role("link", name="I cannot use my authenticator app").click()
    expect(page.locator("h1")).to_have_text("Use a recovery code")
    check_page(page)
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Coordinator overview")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have 9 recovery codes left")
    _sign_out(page)

    _password_step(page, base)
    page.get_by_role("link", name="I cannot use my authenticator app").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("has already been used")
    expect(page.locator("h1")).to_have_text("Use a recovery code")
    check_page(page)
    page.get_by_label("Recovery code").fill(codes[1])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Coordinator overview")
