"""Applying, and keeping the profile current: every form with bad and missing input."""

from __future__ import annotations

from sqlalchemy import select

from core.auth.models import User
from tests.helpers import borough_named, error_messages, make_volunteer, make_wards
from volunteers.models import OccupationCategory, Volunteer, VolunteerKind, VolunteerStatus, WorkAdjustment

APPLICATION = {
    "full_name": "Amira Haddad",
    "email": "amira@test.example",
    "phone": "07700 900982",
    "kind": "psv",
    "password": "orbit lantern purple",
}


# Applying became "check your email", then a confirmation link, in issue #18: the application's own tests
# (the review opened on confirmation, a special's monthly commitment, the same reply for a known address)
# are in test_apply_confirmation.py.


def test_apply_with_missing_and_bad_input(client, db):
    empty = client.submit("/apply", {})
    assert error_messages(empty.soup) == {
        "full_name": "Enter your full name",
        "email": "Enter your email address",
        "phone": "Enter a telephone number",
        "kind": "Choose how you want to volunteer",
        "password": "Create a password",
    }
    bad = client.submit("/apply", {**APPLICATION, "email": "amira@", "phone": "call me", "kind": "sheriff"})
    messages = error_messages(bad.soup)
    assert messages["email"].startswith("Enter an email address in the correct format")
    assert messages["phone"].startswith("Enter a telephone number, like")
    assert messages["kind"] == "Not a valid choice."
    assert bad.soup.select_one("#full_name")["value"] == "Amira Haddad"  # nothing typed is lost
    weak = client.submit("/apply", {**APPLICATION, "password": "password1234"})
    assert "too common" in error_messages(weak.soup)["password"]
    assert db.scalars(select(User)).all() == []


def test_contact_and_travel_sections_validate(client, db):
    volunteer = make_volunteer(db)
    client.sign_in(volunteer.user.email)
    bad_phone = client.submit("/profile/contact", {"phone": "x", "version": volunteer.version})
    assert error_messages(bad_phone.soup)["phone"].startswith("Enter a telephone number, like")
    not_numbers = client.submit(
        "/profile/travel", {"travel_limit_km": "five", "weekly_hours_cap": "", "version": volunteer.version}
    )
    assert error_messages(not_numbers.soup) == {
        "travel_limit_km": "Enter the distance as a whole number of kilometres, like 5",
        "weekly_hours_cap": "Enter the most hours a week you can give",
    }
    out_of_range = client.submit(
        "/profile/travel", {"travel_limit_km": "900", "weekly_hours_cap": "0", "version": volunteer.version}
    )
    assert error_messages(out_of_range.soup) == {
        "travel_limit_km": "Enter a distance between 0 and 200 km",
        "weekly_hours_cap": "Enter a number of hours between 1 and 70",
    }
    ok = client.submit(
        "/profile/travel", {"travel_limit_km": "8", "weekly_hours_cap": "6", "version": volunteer.version}
    )
    assert ok.location == "/profile"
    db.expire_all()
    saved = db.get(Volunteer, volunteer.id)
    assert (saved.travel_limit_km, saved.weekly_hours_cap_minutes) == (8, 360)


def test_home_ward_chosen_by_borough_then_ward(client, db):
    camden_wards = make_wards(db, "Camden", count=3)
    islington, islington_wards = borough_named(db, "Islington"), make_wards(db, "Islington", count=3)
    volunteer = make_volunteer(db)
    client.sign_in(volunteer.user.email)
    page = client.get(f"/profile/home-ward?borough={islington.id}")
    assert [i["value"] for i in page.soup.select("input[name=ward]")] == [str(w.id) for w in islington_wards]
    missing = client.submit(f"/profile/home-ward?borough={islington.id}", {"version": volunteer.version})
    assert error_messages(missing.soup) == {"ward": "Choose your home ward"}
    other_borough = client.submit(
        f"/profile/home-ward?borough={islington.id}", {"ward": camden_wards[0].id, "version": volunteer.version}
    )
    assert list(error_messages(other_borough.soup).values()) == ["Not a valid choice."]
    client.submit(
        f"/profile/home-ward?borough={islington.id}", {"ward": islington_wards[1].id, "version": volunteer.version}
    )
    db.expire_all()
    assert db.get(Volunteer, volunteer.id).home_ward_id == islington_wards[1].id
    assert "Islington ward 1, Islington" in client.get("/profile").soup.get_text()


def test_work_and_preferences(client, db):
    volunteer = make_volunteer(db)
    client.sign_in(volunteer.user.email)
    missing = client.submit("/profile/work", {"version": volunteer.version})
    assert set(error_messages(missing.soup)) == {"occupation_category", "adjustment", "military_reservist"}
    client.submit(
        "/profile/work",
        {
            "occupation": "Paramedic",
            "employer": "London Ambulance Service",
            "occupation_category": "nhs_ambulance",
            "adjustment": "desk_only",
            "military_reservist": "yes",
            "version": volunteer.version,
        },
    )
    db.expire_all()
    saved = db.get(Volunteer, volunteer.id)
    assert saved.occupation_category is OccupationCategory.NHS_AMBULANCE and saved.needs_conflict_review
    assert saved.adjustment is WorkAdjustment.DESK_ONLY and saved.military_reservist
    assert "check for conflicts of interest" in client.get("/profile").soup.get_text()

    unknown = client.submit("/profile/preferences", {"task_types": ["not_a_task"], "version": saved.version})
    assert list(error_messages(unknown.soup).values()) == ["'not_a_task' is not a valid choice for this field."]
    client.submit(
        "/profile/preferences", {"task_types": ["mental_health_escort", "cyber_victim_visit"], "version": saved.version}
    )
    db.expire_all()
    assert sorted(p.task_type_code for p in db.get(Volunteer, volunteer.id).preferences) == [
        "cyber_victim_visit",
        "mental_health_escort",
    ]


def test_a_stale_form_does_not_overwrite_a_newer_change(app, db):
    volunteer = make_volunteer(db)
    first, second = app.test_client(), app.test_client()
    first.sign_in(volunteer.user.email)
    second.sign_in(volunteer.user.email)
    stale_version = volunteer.version
    first.submit("/profile/contact", {"phone": "020 7946 0001", "version": stale_version})
    refused = second.submit("/profile/contact", {"phone": "020 7946 0002", "version": stale_version})
    assert refused.status_code == 302
    page = second.get(refused.location)
    assert "changed somewhere else" in page.soup.select_one(".govuk-error-summary").get_text()
    db.expire_all()
    assert db.get(Volunteer, volunteer.id).phone == "020 7946 0001"


def test_posting_fields_a_volunteer_may_not_change_changes_nothing(client, db):
    volunteer = make_volunteer(db)
    client.sign_in(volunteer.user.email)
    client.submit(
        "/profile/contact",
        {
            "phone": "020 7946 0003",
            "version": volunteer.version,
            "status": "active",
            "patrol_status": "qualified",
            "warrant_number": "X1",
            "kind": "special",
        },
    )
    db.expire_all()
    saved = db.get(Volunteer, volunteer.id)
    assert saved.phone == "020 7946 0003"
    assert (saved.status, saved.patrol_status, saved.warrant_number, saved.kind) == (
        VolunteerStatus.APPLIED,
        None,
        None,
        VolunteerKind.PSV,
    )


def test_a_volunteer_only_ever_sees_their_own_profile(app, db):
    a = make_volunteer(db, phone="020 0000 0001")
    b = make_volunteer(db, phone="020 0000 0002")
    client = app.test_client()
    client.sign_in(a.user.email)
    text = client.get("/profile").soup.get_text()
    assert "020 0000 0001" in text and "020 0000 0002" not in text and b.user.email not in text
