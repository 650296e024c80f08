"""After the deployment (issue #20) in Chromium, with axe and 320 px checks on every page.

The demo sergeant raises an eight-hour mental-health escort a fortnight ahead (specials only) and a special
constable accepts it. Then the deployment's time passes: the test moves the served app's clock to that
evening (core/clock.py, through the app_clock fixture). The sergeant confirms the special attended and
served eight hours and gives feedback; the special sees the deployment in their history and this month's
hours go up by eight; the coordinator sees the special's row of the commitment table move, hours and colour.

Then a no-show: the sergeant records that a special did not come and gave no notice; the coordinator's home
page counts them among those the matcher ranks lower, the coordinators' page says why, and it is cleared.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from core.timeutil import LONDON, london_to_utc
from tests.e2e.conftest import check_page, sign_in

pytestmark = pytest.mark.e2e

# Past the demo's own fortnight of matched requests, so the demo team's specials are free and within their
# weekly hours; the other browser tests' escort (three weeks ahead) is on another day.
DAY = dt.datetime.now(LONDON).date() + dt.timedelta(days=15)
TITLE = "Escort to the Highgate mental-health unit"
EIGHT_HOURS = 8 * 60
COMMITMENT_LABELS = ((100, "Met"), (50, "Below"), (0, "Well below"))  # SPECIALS_GREEN/AMBER_PERCENT defaults


def _minutes(text: str) -> int:
    """'12 hours 30 minutes', '1 hour', '45 minutes' → minutes."""
    hours = re.search(r"([\d,]+) hours?", text)
    minutes = re.search(r"(\d+) minutes?", text)
    return (int(hours.group(1).replace(",", "")) * 60 if hours else 0) + (int(minutes.group(1)) if minutes else 0)


def _decimal_minutes(text: str) -> int:
    """The commitment table's hours, in tenths of an hour rounded down ('13.5', '16.0 (force minimum)') → minutes."""
    return round(float(re.search(r"\d+(?:\.\d)?", text.replace(",", "")).group(0)) * 60)


def _raise_escort(
    page: Page, base: str, title: str = TITLE, day: dt.date = DAY, window=("09:00", "17:00"), minutes=EIGHT_HOURS
) -> str:
    """Raise an escort in the sergeant's first ward (9am to 5pm on DAY, eight hours); the request's address."""
    page.goto(base + "/requests/new")
    page.get_by_label("Mental-health escort").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Short description").fill("Planned escort; the ward officer meets you at the unit.")
    page.locator("#ward").check()  # the first of the sergeant's wards
    page.locator("#date-day").fill(str(day.day))
    page.locator("#date-month").fill(str(day.month))
    page.locator("#date-year").fill(str(day.year))
    page.get_by_label("From").fill(window[0])
    page.get_by_label("Until").fill(window[1])
    page.get_by_label("How long will the task take?").select_option(str(minutes))
    page.get_by_role("button", name="Raise request").click()
    expect(page.locator("h1")).to_have_text(title)
    url = page.url
    page.get_by_role("button", name="Find volunteers now").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("have been offered")
    check_page(page)
    return url


def _offered(page: Page) -> dict[str, str]:
    """Name → email of each volunteer waiting to answer, from the request page."""
    people = {}
    for item in page.locator(".app-offers li").all():
        if "Waiting for an answer" in item.inner_text():
            name = item.locator("h3").inner_text().replace("Waiting for an answer", "").strip()
            people[name] = item.locator("a[href^='mailto:']").inner_text()
    return people


def _accept(page: Page, base: str, email: str, title: str) -> None:
    sign_in(page, base, email)
    page.locator("#offers + ul a", has_text=title).click()
    expect(page.locator(".govuk-caption-l")).to_contain_text("Mental-health escort")
    page.get_by_role("button", name="Accept the offer").click()
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    check_page(page)


def _this_month(page: Page, base: str, name: str) -> tuple[int, str, int]:
    """The special's row of the coordinators' table: this month's minutes and label, and the commitment."""
    page.goto(base + "/hours/specials")
    expect(page.locator("h1")).to_have_text("Special constables' hours")
    heading = page.get_by_role("rowheader", name=re.compile(re.escape(name)))
    row = page.locator("#specials-hours tbody tr").filter(has=heading)
    expect(row).to_have_count(1)
    cell = row.locator("td").last.inner_text()
    commitment = _decimal_minutes(row.locator("td").first.inner_text())
    label = next(text for _, text in COMMITMENT_LABELS if text in cell.splitlines()[-1])
    return _decimal_minutes(cell.splitlines()[0]), label, commitment


def _label_for(minutes: int, commitment: int) -> str:
    return next(text for percent, text in COMMITMENT_LABELS if minutes * 100 >= percent * commitment)


def _served_this_month(page: Page) -> int:
    row = page.locator(".govuk-summary-list__row").filter(has_text="Hours served this month")
    return _minutes(row.locator(".govuk-summary-list__value").inner_text().split(" of ")[0])


def test_the_sergeant_confirms_a_deployment_and_everyone_sees_the_hours(live_server, new_page, app_clock):
    base = live_server
    coordinator = new_page()
    sign_in(coordinator, base, "coordinator@demo.example")
    sergeant = new_page()
    sign_in(sergeant, base, "sergeant@demo.example")
    request_url = _raise_escort(sergeant, base)
    offered = _offered(sergeant)
    assert offered, "nobody was offered the escort"

    # Of the specials offered, the one furthest below their commitment accepts, so their row can change colour.
    standing = {name: _this_month(coordinator, base, name) for name in offered}
    name = min(offered, key=lambda n: standing[n][0] * 100 // standing[n][2])
    _accept(new_page(), base, offered[name], TITLE)

    # The deployment's time passes: it is now 6pm on the day, an hour after the escort ended.
    app_clock(london_to_utc(DAY, dt.time(18, 0)))

    # Everyone signs in again: a day and more without a click has ended their sessions.
    coordinator = new_page()
    sign_in(coordinator, base, "coordinator@demo.example")
    before, label_before, commitment = _this_month(coordinator, base, name)
    check_page(coordinator)
    special = new_page()
    sign_in(special, base, offered[name])
    special.goto(base + "/hours")
    expect(special.locator("h1")).to_have_text("Your hours")
    served_before = _served_this_month(special)
    history = special.locator("#past-deployments ~ .app-table-wrapper tbody tr").filter(has_text=TITLE)
    expect(history).to_contain_text("Not counted yet")
    check_page(special)

    # The sergeant confirms what happened, from the request page, and gives feedback for the coordinators.
    sergeant = new_page()
    sign_in(sergeant, base, "sergeant@demo.example")
    sergeant.goto(request_url)
    happened = sergeant.locator("#what-happened + ul li").filter(has_text=name)
    expect(happened).to_contain_text("not confirmed yet")
    check_page(sergeant)
    happened.get_by_role("link", name=re.compile("Confirm what happened")).click()
    expect(sergeant.locator("h1")).to_have_text("Confirm what happened")
    expect(sergeant.get_by_label("Hours served")).to_have_value("8")  # as booked: most sergeants only check it
    check_page(sergeant)
    sergeant.get_by_label("Attended", exact=True).check()
    sergeant.get_by_role("group", name="Was the volunteer helpful?").get_by_label("Yes").check()
    sergeant.get_by_role("group", name="Would you ask them again?").get_by_label("Yes").check()
    sergeant.get_by_label("A note for the coordinator (optional)").fill("Calm and kind all day; knew the unit.")
    sergeant.get_by_role("button", name="Save").click()
    expect(sergeant.locator(".govuk-notification-banner")).to_contain_text(f"Saved: {name} attended")
    expect(sergeant.locator("#what-happened + ul li").filter(has_text=name)).to_contain_text("Attended, 8 hours")
    check_page(sergeant)

    # The special sees the deployment in their history, and this month's hours up by eight.
    special.goto(base + "/hours")
    expect(history).to_contain_text("Attended")
    expect(history).to_contain_text("8 hours")
    assert _served_this_month(special) == served_before + EIGHT_HOURS
    check_page(special)
    special.goto(base + "/")
    expect(special.locator("#hours-this-month")).to_be_visible()
    check_page(special)

    # The coordinator sees the special's row move: eight more hours, and the colour those hours earn.
    after, label_after, _ = _this_month(coordinator, base, name)
    assert after == before + EIGHT_HOURS
    assert label_after == _label_for(after, commitment)
    if label_before != "Met":
        assert label_after != label_before, (label_before, label_after)
    check_page(coordinator)


def test_a_no_show_ranks_lower_and_a_coordinator_sees_why_and_clears_it(live_server, new_page, app_clock):
    base = live_server
    day = DAY + dt.timedelta(days=2)
    title = "Escort from the Royal Free to the place of safety"
    sergeant = new_page()
    sign_in(sergeant, base, "sergeant@demo.example")
    request_url = _raise_escort(sergeant, base, title, day, ("10:00", "12:00"), 2 * 60)
    name, email = next(iter(_offered(sergeant).items()))
    _accept(new_page(), base, email, title)

    # The escort's time passes; the sergeant records that the special did not come and gave no notice.
    app_clock(london_to_utc(day, dt.time(13, 0)))
    sergeant = new_page()
    sign_in(sergeant, base, "sergeant@demo.example")
    sergeant.goto(request_url)
    sergeant.locator("#what-happened + ul li").filter(has_text=name).get_by_role("link").click()
    sergeant.get_by_label("Did not attend", exact=True).check()
    sergeant.get_by_label("No, they gave no notice").check()
    sergeant.get_by_role("button", name="Save").click()
    expect(sergeant.locator(".govuk-notification-banner")).to_contain_text(f"Saved: {name} did not attend")
    # The sergeant's page never says what the matcher makes of it.
    expect(sergeant.locator("main")).not_to_contain_text("ranked lower")

    # The coordinator is told on their home page, sees why, and clears it with a reason.
    coordinator = new_page()
    sign_in(coordinator, base, "coordinator@demo.example")
    expect(coordinator.locator("#ranked-lower ~ p").first).to_contain_text("ranked lower for a while")
    check_page(coordinator)
    coordinator.get_by_role("link", name="See volunteers ranked lower").click()
    expect(coordinator.locator("h1")).to_have_text("Volunteers ranked lower by the matcher")
    expect(coordinator.locator(".govuk-service-navigation__link[aria-current]")).to_have_text("Volunteers")
    card = coordinator.locator(".govuk-summary-card").filter(has_text=title)
    expect(card).to_contain_text(name)
    expect(card).to_contain_text("Did not attend and gave no notice")
    check_page(coordinator)
    card.get_by_role("link", name=re.compile("^Clear")).click()
    expect(coordinator.locator("h1")).to_have_text(f"Clear the lower ranking of {name}")
    check_page(coordinator)
    reason = coordinator.get_by_label("Why are you clearing it? (optional)")
    # Longer than the box takes (a script sets it past the character count's limit): refused by the field, kept.
    reason.evaluate("(box, text) => { box.value = text; }", "x" * 600)
    coordinator.get_by_role("button", name="Clear the lower ranking").click()
    expect(coordinator.locator(".govuk-error-summary")).to_contain_text("The reason must be 500 characters or fewer")
    expect(reason).to_have_value("x" * 600)
    check_page(coordinator)
    reason.fill("Phoned the front counter that morning; the message never reached the sergeant.")
    coordinator.get_by_role("button", name="Clear the lower ranking").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text(f"{name} is no longer ranked lower")
    expect(coordinator.locator(".govuk-summary-card").filter(has_text=title)).to_have_count(0)
    check_page(coordinator)
