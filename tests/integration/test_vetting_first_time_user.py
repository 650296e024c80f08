"""Issue 19, the vetting officer's items: what a first-time user tripped over on the vetting and account pages.

17: a clearance action's reason box says its limit before anything is sent, and a refused reason is shown
    by the box, in the open panel, with the text kept. 18: every problem of a form at once, not in stages.
19: dates in sensible ranges, said by the field. 20: past-tense outcome labels side by side.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.auth.models import Role
from core.timeutil import london_today
from tests.helpers import date_fields, error_messages, make_user, make_volunteer
from tests.integration.vetting_factories import granted, officer, review, signed_in
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview
from volunteers.models import CircumstanceReport, VolunteerStatus

LONG = "x" * 10_000


# ---- 17. Suspending with an empty or a too-long reason ---------------------------------------------


def test_the_reason_to_act_on_a_clearance_says_its_limit_and_a_refusal_keeps_the_panel_open(app, db):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = granted(db, volunteer)
    item = review(db, volunteer, ReviewKind.TRIGGERED)
    client = officer(app, db)
    url = f"/vetting/reviews/{item.id}"
    page = client.get(url)
    for action in ("suspend", "withdraw"):
        box = page.soup.select_one(f"#reason-{clearance.id}-{action}")
        # The GOV.UK character count: the limit is on the page before the officer types, not only after.
        counter = box.find_parent(class_="govuk-character-count")
        assert counter is not None and counter["data-maxlength"] == "4000"
        assert "4,000 characters" in page.soup.select_one(f"#reason-{clearance.id}-{action}-info").get_text()

    empty = client.submit(f"{url}/clearances/{clearance.id}/suspend", {"reason": ""}, token_from=url)
    box = f"reason-{clearance.id}-suspend"
    assert error_messages(empty.soup) == {box: "Enter the reason to suspend the clearance"}
    assert empty.soup.select_one(f"details:has(#{box})").has_attr("open")
    assert empty.soup.select_one(f"#{box}").find_parent(class_="govuk-character-count") is not None

    long = client.submit(f"{url}/clearances/{clearance.id}/suspend", {"reason": LONG}, token_from=url)
    assert error_messages(long.soup) == {box: "Reason must be 4,000 characters or fewer"}
    assert long.soup.select_one(f"#{box}").get_text() == LONG
    assert long.soup.select_one(f"details:has(#{box})").has_attr("open")
    db.expire_all()
    assert db.get(Clearance, clearance.id).state is ClearanceState.GRANTED


# ---- 18. Every problem at once -----------------------------------------------------------------------


def test_a_grant_with_no_clearance_no_date_and_no_reason_names_all_three(app, db):
    item = review(db)
    client = officer(app, db)
    page = client.submit(f"/vetting/reviews/{item.id}", {"outcome": "grant"})
    assert error_messages(page.soup) == {
        "reason": "Enter the reason for the decision",
        "type_code": "Choose the clearance this decision is about",
        "valid_from-day": "Enter the date the clearance takes effect",
    }
    links = [a["href"] for a in page.soup.select(".govuk-error-summary a")]
    assert links == ["#type_code", "#valid_from-day", "#reason"]  # in the order of the page
    assert page.soup.select_one("input[name=outcome][value=grant]").has_attr("checked")
    assert db.scalars(select(Clearance)).all() == []


def test_a_decision_reports_a_bad_date_a_missing_restriction_and_bad_dbs_details_together(app, db):
    item = review(db)
    client = officer(app, db)
    today = london_today()
    page = client.submit(
        f"/vetting/reviews/{item.id}",
        {
            "outcome": "grant_with_restrictions",
            "type_code": "DBS_ENH",
            "reason": "Checks complete",
            **date_fields("valid_from", today),
            "dbs_certificate_number": "12",
            "dbs_update_service_id": "nonsense",
            **date_fields("dbs_issued_on", today - dt.timedelta(days=30)),
        },
    )
    errors = error_messages(page.soup)
    assert errors["restrictions"] == "Choose at least one task the clearance may not be used for"
    assert errors["dbs_certificate_number"].startswith("Enter the certificate number as it is printed")
    assert errors["dbs_update_service_id"].startswith("Enter the subscription ID as the Update Service shows it")
    assert page.soup.select_one("#dbs_certificate_number")["value"] == "12"
    assert page.soup.select_one("#reason").get_text() == "Checks complete"
    db.expire_all()
    assert db.get(VettingReview, item.id).status is ReviewStatus.OPEN


def test_a_form_error_and_a_rule_error_show_together(app, db):
    item = review(db)
    client = officer(app, db)
    # The date cannot be read (the form's message) and no clearance is chosen (the rule's message).
    page = client.submit(
        f"/vetting/reviews/{item.id}", {"outcome": "grant", "reason": "ok", "valid_from": ["31", "2", "2026"]}
    )
    assert error_messages(page.soup) == {
        "valid_from-day": "The date it takes effect must be a real date",
        "type_code": "Choose the clearance this decision is about",
    }


def test_changing_your_password_names_a_wrong_current_password_and_a_short_new_one_together(app, db):
    user = make_user(db, Role.VETTING_OFFICER)
    client = signed_in(app, user)
    page = client.submit("/account/password", {"current_password": "not-my-password", "new_password": "short"})
    errors = error_messages(page.soup)
    assert errors["current_password"] == "Your current password is not right"
    assert "new_password" in errors and "12 characters" in errors["new_password"]


def test_changing_your_email_names_a_bad_address_and_a_wrong_password_together(app, db):
    user = make_user(db, Role.COORDINATOR)
    client = signed_in(app, user)
    page = client.submit("/account/email", {"email": "not an email", "current_password": "wrong-password"})
    assert error_messages(page.soup) == {
        "email": "Enter an email address in the correct format, like name@example.org",
        "current_password": "Your current password is not right",
    }
    assert page.soup.select_one("#email")["value"] == "not an email"


def test_a_new_staff_account_with_a_bad_address_and_no_name_or_role_names_all_three(app, db):
    coordinator = make_user(db, Role.COORDINATOR)
    client = signed_in(app, coordinator)
    page = client.submit("/accounts/new", {"full_name": "", "email": "nope"})
    assert set(error_messages(page.soup)) == {"full_name", "email", "role"}


# ---- 19. Dates in sensible ranges ------------------------------------------------------------------


def test_a_change_of_circumstances_long_ago_or_in_the_future_is_refused_by_its_field(app, db):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    client = signed_in(app, volunteer.user)
    today = london_today()
    for day, message in (
        (dt.date(1066, 1, 1), "The date it happened must be in the last 10 years, on or after "),
        (dt.date(today.year - 11, 1, 1), "The date it happened must be in the last 10 years, on or after "),
        (today + dt.timedelta(days=1), "The date must be today or in the past"),
    ):
        page = client.submit(
            "/profile/circumstances",
            {"category": "criminal_involvement", **date_fields("occurred_on", day), "details": "Caution for a fight"},
        )
        errors = error_messages(page.soup)
        assert list(errors) == ["occurred_on-day"] and errors["occurred_on-day"].startswith(message), day
        assert page.soup.select_one("#details").get_text() == "Caution for a fight"
    assert db.scalars(select(CircumstanceReport)).all() == []


def test_a_matching_run_far_ahead_or_in_the_past_is_refused_by_the_first_day(app, db):
    coordinator = make_user(db, Role.COORDINATOR)
    client = signed_in(app, coordinator)
    today = london_today()
    far = client.submit(
        "/matching/runs",
        {
            "scope": "london",
            **date_fields("first_day", dt.date(2099, 1, 5)),
            **date_fields("last_day", dt.date(2099, 1, 11)),
        },
    )
    errors = error_messages(far.soup)
    assert errors == {"first_day-day": errors["first_day-day"]}
    assert errors["first_day-day"].startswith("The first day must be no later than ")
    past = client.submit(
        "/matching/runs",
        {
            "scope": "london",
            **date_fields("first_day", today - dt.timedelta(days=3)),
            **date_fields("last_day", today - dt.timedelta(days=40)),
        },
    )
    # Both days are wrong: both are said at once.
    assert set(error_messages(past.soup)) == {"first_day-day", "last_day-day"}


# ---- 20. Outcome labels in one tense ----------------------------------------------------------------


def test_a_persons_record_labels_each_decided_review_in_the_past_tense(app, db):
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    for outcome in ("grant", "refused"):
        closed = review(db, volunteer, ReviewKind.NEW_APPLICATION)
        closed.status, closed.outcome = ReviewStatus.CLOSED, outcome
        db.commit()
    client = officer(app, db)
    page = client.get(f"/vetting/people/{volunteer.id}")
    cells = [" ".join(td.get_text().split()) for td in page.soup.select("tbody tr td:nth-of-type(3)")]
    assert any(cell.startswith("Granted") for cell in cells), cells
    assert any(cell.startswith("Refused") for cell in cells), cells
    assert not any(cell.startswith("Grant ") or cell == "Grant" for cell in cells), cells
