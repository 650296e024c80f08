"""Issue #23 in Chromium: a sergeant invites a volunteer to the ward panel, she accepts, and a panel-first
request offers her with a reason naming the panel; a partner reviewer vouches for her cyber skill and her
skills page shows it verified. axe and the 320 px check on every page visited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, sign_in
from tests.e2e.test_vetting_journey import _sign_in

pytestmark = pytest.mark.e2e
# Clear of the demo's own fortnight and of the sergeant journey's day (21 days ahead).
DAY = dt.date.today() + dt.timedelta(days=23)
VOLUNTEER = "Amira Haddad"  # the named demo volunteer: on none of the demo sergeant's panels


def test_a_sergeant_invites_a_volunteer_who_accepts_and_a_panel_first_request_offers_her(live_server, new_page):
    base = live_server
    sergeant = new_page()
    _sign_in(sergeant, base, "sergeant@demo.example")
    sergeant.goto(base + "/panels")
    expect(sergeant.locator("h1")).to_have_text("Ward panels")
    check_page(sergeant)
    first_ward = sergeant.locator("main ul.govuk-list a").first
    ward_name = first_ward.inner_text().removesuffix(" panel").strip()
    first_ward.click()
    expect(sergeant.locator("h1")).to_have_text(f"{ward_name} panel")
    check_page(sergeant)

    # Find her by name and invite her.
    sergeant.get_by_label("Name").fill("Amira")
    sergeant.get_by_role("button", name="Search").click()
    check_page(sergeant)
    sergeant.get_by_role("button", name=f"Invite {VOLUNTEER}").click()
    expect(sergeant.locator(".govuk-notification-banner")).to_contain_text(f"invited to the {ward_name} panel")
    expect(sergeant.locator("#invited ~ ul")).to_contain_text(VOLUNTEER)
    check_page(sergeant)

    # She sees the invitation on her home page, and accepts it.
    volunteer = new_page()
    _sign_in(volunteer, base, "volunteer@demo.example")
    expect(volunteer.locator("#panel-invitations")).to_be_visible()
    check_page(volunteer)
    volunteer.get_by_role("link", name="Answer your panel invitation").click()
    expect(volunteer.locator("h1")).to_have_text("Your panels and groups")
    check_page(volunteer)
    volunteer.get_by_role("button", name=f"Accept the invitation to the {ward_name} panel").click()
    expect(volunteer.locator(".govuk-notification-banner")).to_contain_text(f"You are now on the {ward_name} panel")
    check_page(volunteer)

    # The sergeant's panel lists her, with her contact details.
    sergeant.reload()
    expect(sergeant.locator("#members ~ .govuk-summary-card").filter(has_text=VOLUNTEER)).to_contain_text(
        "volunteer@demo.example"
    )
    check_page(sergeant)

    # A panel-first request in that ward (the default) offers her, and says why: she is on its panel.
    sergeant.goto(base + "/requests/new")
    check_page(sergeant)
    sergeant.get_by_label("Cyber-crime victim visit").check()
    sergeant.get_by_role("button", name="Continue").click()
    check_page(sergeant)
    sergeant.get_by_label("Title").fill("Advice after a courier fraud")
    sergeant.get_by_label("Short description").fill("Explain how the fraud worked and how to stay safe.")
    sergeant.get_by_label(f"{ward_name}, ").check()  # the ward's radio: "Name, Borough"
    sergeant.locator("#date-day").fill(str(DAY.day))
    sergeant.locator("#date-month").fill(str(DAY.month))
    sergeant.locator("#date-year").fill(str(DAY.year))
    sergeant.get_by_label("From").fill("14:00")
    sergeant.get_by_label("Until").fill("16:00")
    sergeant.get_by_label("How many volunteers do you need?").fill("5")
    expect(sergeant.get_by_label("Your ward panel first")).to_be_checked()
    sergeant.get_by_role("button", name="Raise request").click()
    expect(sergeant.locator("h1")).to_have_text("Advice after a courier fraud")
    check_page(sergeant)
    sergeant.get_by_role("button", name="Find volunteers now").click()
    expect(sergeant.locator(".govuk-notification-banner, .govuk-error-summary").first).to_be_visible()
    check_page(sergeant)
    offered = sergeant.locator(".app-offers li").filter(has_text=VOLUNTEER)
    expect(offered).to_contain_text(f"on your {ward_name} panel", ignore_case=True)  # "Why: On your … panel; …"


# ---- A partner vouches for a volunteer's cyber skill ---------------------------------------------------

PARTNER_VOLUNTEER = "volunteer@demo.example"
REVIEWER = "partner.reviewer@demo.example"
CENTRE = "London Cyber Resilience Centre"
SKILL = "Cyber-crime victim support"


def test_a_partner_reviewer_vouches_for_a_cyber_skill_and_the_volunteer_sees_it_verified(live_server, new_page):
    """The demo volunteer names the London Cyber Resilience Centre and asks it to vouch for her cyber skill; the
    centre's reviewer sees her, and nothing else of hers, and vouches; her skills page shows it verified."""
    volunteer = new_page()
    sign_in(volunteer, live_server, PARTNER_VOLUNTEER)

    # Her skill: added unless she has it already (another journey may have added it).
    volunteer.goto(live_server + "/profile/skills")
    check_page(volunteer)
    if volunteer.get_by_role("heading", name=SKILL).count() == 0:
        volunteer.get_by_role("link", name="Add a skill").click()
        check_page(volunteer)
        volunteer.get_by_label("Skill", exact=True).select_option(label=f"{SKILL} (cyber)")
        volunteer.get_by_label("Practitioner").check()
        volunteer.get_by_role("button", name="Add skill").click()
        expect(volunteer.locator("h1")).to_have_text("Your skills")

    # The centre, asked to vouch for it.
    volunteer.goto(live_server + "/profile")
    check_page(volunteer)
    volunteer.get_by_role("link", name="Organisations you work for or with").click()
    expect(volunteer.locator("h1")).to_have_text("Organisations you work for or with")
    check_page(volunteer)
    volunteer.get_by_role("link", name="Add an organisation").click()
    check_page(volunteer)
    volunteer.get_by_label("Organisation", exact=True).select_option(label=CENTRE)
    volunteer.get_by_label("I work, volunteer or study with it").check()
    volunteer.get_by_label(re.compile(rf"{SKILL} \(")).check()  # at whatever level she holds it
    volunteer.get_by_role("button", name="Add organisation").click()
    expect(volunteer.locator(".govuk-notification-banner--success")).to_contain_text(
        f"{CENTRE} added. Its contact has been asked to vouch for 1 skill."
    )
    expect(volunteer.locator("main")).to_contain_text("Waiting for the partner")
    check_page(volunteer)

    # The centre's reviewer: home, the volunteers who name the centre, hers, vouch.
    reviewer = new_page()
    sign_in(reviewer, live_server, REVIEWER)
    expect(reviewer.locator("h1")).to_have_text("Partner reviewer")
    check_page(reviewer)
    reviewer.get_by_role("link", name="Review volunteers' skills").click()
    expect(reviewer.locator("h1")).to_have_text(f"Volunteers who name {CENTRE}")
    check_page(reviewer)
    reviewer.get_by_role("link", name="Review Amira Haddad").click()
    expect(reviewer.locator("h1")).to_have_text("Amira Haddad")
    main = reviewer.locator("main")
    expect(main).to_contain_text(SKILL)
    # Only the skill she asked the centre about: nothing of her vetting, availability or address.
    for hidden in ("Mental-health", "NPPV", "Availability", "Home ward", "07700"):
        expect(main).not_to_contain_text(hidden)
    check_page(reviewer)
    reviewer.get_by_role("button", name=f"Vouch for {SKILL}").click()
    expect(reviewer.locator(".govuk-notification-banner--success")).to_contain_text(f"You vouched for {SKILL}.")
    expect(main).to_contain_text("Vouched for on")
    check_page(reviewer)
    # Anything else of the service is refused.
    reviewer.goto(live_server + "/volunteers")
    expect(reviewer.locator("h1")).to_have_text("You do not have permission to see this page")

    # Her profile shows the skill verified, by the centre.
    volunteer.goto(live_server + "/profile/skills")
    card = volunteer.locator(".govuk-summary-card", has=volunteer.get_by_role("heading", name=SKILL))
    expect(card).to_contain_text("Yes: verified")
    expect(card).to_contain_text(f"Vouched for by {CENTRE}.")
    check_page(volunteer)
    volunteer.goto(live_server + "/profile/organisations")
    expect(volunteer.locator("main")).to_contain_text("Vouched for on")
    check_page(volunteer)
