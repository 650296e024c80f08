"""Applying as a person would, in the browser: the form, "check your email", the link in the email
(read from the SMTP server the served app sends to), the confirmation, then signing in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import check_page

_LINK = re.compile(r"http://127\.0\.0\.1:\d+/apply/confirm/[\w-]+")


def apply_and_confirm(
    page: Page, base: str, mailbox, name: str, email: str, password: str, *, kind: str, phone: str, check: bool = False
) -> None:
    """Apply, confirm the email address, sign in: the page ends on the volunteer's home page.

    ``check``: run check_page (axe, 320 px) on each page of the way.
    """
    page.goto(base + "/apply")
    if check:
        check_page(page)
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("UK telephone number").fill(phone)
    page.get_by_label(kind).check()
    page.get_by_label("Create a password").fill(password)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    expect(page.locator("main")).to_contain_text(email)
    if check:
        check_page(page)

    message = mailbox.wait_for(email, "Confirm your application")
    link = _LINK.search(message.get_body().get_content()).group(0)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Confirm your application")
    if check:
        check_page(page)
    page.get_by_role("button", name="Confirm and send my application").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("your application has gone to the vetting team")
    if check:
        check_page(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Your volunteering")
