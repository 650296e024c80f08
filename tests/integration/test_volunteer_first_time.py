"""Issue #19, the volunteer's items: what a first-time volunteer tripped over, each reproduced first."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.auth.models import SecurityEvent
from core.timeutil import london_today
from tests.helpers import date_fields, error_messages, make_volunteer
from volunteers.models import (
    AvailabilityException,
    AvailabilitySlot,
    ConflictCategory,
    ConflictDeclaration,
    EvidenceStatus,
    PendingApplication,
    Volunteer,
    VolunteerSkill,
)
from volunteers.skills import SkillLevel


def _signed_in(client, db, **overrides):
    volunteer = make_volunteer(db, **overrides)
    client.sign_in(volunteer.user.email)
    return volunteer


# ---- 1. The sign-in page leads to applying ------------------------------------------------------


def test_the_sign_in_page_links_to_applying(client, db):
    landing = client.get("/")
    assert landing.status_code == 302 and landing.location.startswith("/sign-in")
    page = client.get("/sign-in")
    links = {" ".join(a.get_text().split()): a["href"] for a in page.soup.select("main a")}
    assert links.get("Apply to volunteer") == "/apply"


# ---- 3. Times that do not exist, or happen twice, in London ---------------------------------------


def test_a_date_time_in_the_spring_gap_is_refused_like_the_request_form(client, db):
    volunteer = _signed_in(client, db)
    gap = client.submit(
        "/profile/availability/dates/add",
        {**date_fields("on_date", dt.date(2027, 3, 28)), "available": "yes", "start": "90", "end": "120"},
    )
    assert error_messages(gap.soup) == {
        "start": "01:30 on 28 March 2027 does not exist in London: the clocks go forward an hour"
    }
    assert gap.soup.select_one("#on_date-day")["value"] == "28"  # nothing typed is lost
    assert (
        db.scalars(select(AvailabilityException).where(AvailabilityException.volunteer_id == volunteer.id)).all() == []
    )


def test_the_repeated_autumn_hour_is_refused_with_a_clear_message(client, db):
    volunteer = _signed_in(client, db)
    twice = client.submit(
        "/profile/availability/dates/add",
        {**date_fields("on_date", dt.date(2027, 10, 31)), "available": "yes", "start": "60", "end": "120"},
    )
    assert error_messages(twice.soup) == {
        "start": "1am happens twice on 31 October 2027, when the clocks go back an hour. "
        "Choose a time before 1am or from 2am"
    }
    ends_twice = client.submit(
        "/profile/availability/dates/add",
        {**date_fields("on_date", dt.date(2027, 10, 31)), "available": "yes", "start": "0", "end": "90"},
    )
    assert list(error_messages(ends_twice.soup)) == ["end"]
    # Round the repeated hour is fine: midnight to 6am covers both 1am to 2ams.
    around = client.submit(
        "/profile/availability/dates/add",
        {**date_fields("on_date", dt.date(2027, 10, 31)), "available": "yes", "start": "0", "end": "360"},
    )
    assert around.status_code == 302
    saved = db.scalars(select(AvailabilityException).where(AvailabilityException.volunteer_id == volunteer.id)).one()
    assert (saved.start_minute, saved.end_minute) == (0, 360)


# ---- 4. Contradictory dates -----------------------------------------------------------------------


def test_not_available_with_times_is_refused_not_silently_dropped(client, db):
    volunteer = _signed_in(client, db)
    day = london_today() + dt.timedelta(days=20)
    response = client.submit(
        "/profile/availability/dates/add",
        {**date_fields("on_date", day), "available": "no", "start": "540", "end": "720"},
    )
    assert error_messages(response.soup) == {
        "start": "You said you are not available on this date: set the times to ‘Not needed’, "
        "or choose ‘I am available at these times’"
    }
    assert response.soup.select_one("#start option[selected]")["value"] == "540"
    assert (
        db.scalars(select(AvailabilityException).where(AvailabilityException.volunteer_id == volunteer.id)).all() == []
    )


def test_a_date_cannot_be_both_not_available_and_available(client, db):
    volunteer = _signed_in(client, db)
    day = london_today() + dt.timedelta(days=20)
    client.submit("/profile/availability/dates/add", {**date_fields("on_date", day), "available": "no"})
    contradiction = client.submit(
        "/profile/availability/dates/add",
        {**date_fields("on_date", day), "available": "yes", "start": "540", "end": "720"},
    )
    shown = f"{day.day} {day:%B %Y}"
    assert error_messages(contradiction.soup) == {
        "on_date-day": f"You already said you are not available on {shown}. Remove that first to change it"
    }
    rows = db.scalars(select(AvailabilityException).where(AvailabilityException.volunteer_id == volunteer.id)).all()
    assert [(r.available, r.start_minute) for r in rows] == [(False, None)]


def test_the_database_refuses_two_entries_for_one_date(db):
    volunteer = make_volunteer(db)
    day = london_today() + dt.timedelta(days=20)
    db.add(AvailabilityException(volunteer_id=volunteer.id, on_date=day, available=False))
    db.commit()
    db.add(
        AvailabilityException(volunteer_id=volunteer.id, on_date=day, available=True, start_minute=540, end_minute=720)
    )
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


# ---- 5. "Add time" with nothing chosen ---------------------------------------------------------------


def test_the_weekly_time_form_starts_unchosen_and_an_empty_submit_is_refused(client, db):
    volunteer = _signed_in(client, db)
    page = client.get("/profile/availability/weekly/add")
    for name, words in (("weekday", "Choose a day"), ("start", "Choose a time"), ("end", "Choose a time")):
        first = page.soup.select_one(f"#{name} option")
        assert (first["value"], first.get_text(strip=True)) == ("", words)
        chosen = page.soup.select_one(f"#{name} option[selected]")
        assert chosen is None or chosen["value"] == ""
    empty = client.submit("/profile/availability/weekly/add", {})
    assert error_messages(empty.soup) == {
        "weekday": "Choose a day",
        "start": "Choose a start time",
        "end": "Choose an end time",
    }
    blanks = client.submit("/profile/availability/weekly/add", {"weekday": "", "start": "", "end": ""})
    assert set(error_messages(blanks.soup)) == {"weekday", "start", "end"}
    assert db.scalars(select(AvailabilitySlot).where(AvailabilitySlot.volunteer_id == volunteer.id)).all() == []


# ---- 6. UK telephone numbers -------------------------------------------------------------------------


APPLICATION = {
    "full_name": "Amira Haddad",
    "email": "amira@test.example",
    "kind": "psv",
    "password": "orbit lantern purple",
}


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("07700 900 1", "Enter a UK telephone number with all its digits, like 07700 900 982 or 020 7946 0000"),
        ("+33 1 23 45 67 89", "Enter a UK telephone number, starting 0 or +44, like 07700 900 982"),
        ("9" * 10_000, "Enter 500 characters or fewer"),
    ],
)
def test_apply_refuses_numbers_that_are_not_uk_numbers(client, db, phone, message):
    response = client.submit("/apply", {**APPLICATION, "phone": phone})
    assert error_messages(response.soup) == {"phone": message}
    assert db.scalars(select(PendingApplication)).all() == []


def test_profile_phone_is_a_uk_number_and_is_kept_in_one_format(client, db):
    volunteer = _signed_in(client, db)
    short = client.submit("/profile/contact", {"phone": "07700 900 1", "version": volunteer.version})
    assert list(error_messages(short.soup)) == ["phone"]
    assert short.soup.select_one("#phone")["value"] == "07700 900 1"
    french = client.submit("/profile/contact", {"phone": "+33 1 23 45 67 89", "version": volunteer.version})
    assert error_messages(french.soup)["phone"].startswith("Enter a UK telephone number")
    saved = client.submit("/profile/contact", {"phone": "+44 20 7946 0123", "version": volunteer.version})
    assert saved.status_code == 302
    db.expire_all()
    assert db.get(Volunteer, volunteer.id).phone == "020 7946 0123"


# ---- 7. Change a skill's level; confirm, then undo, a removal --------------------------------------


def test_change_a_skills_level_with_the_level_preselected(client, db):
    volunteer = _signed_in(client, db)
    skill = VolunteerSkill(
        volunteer_id=volunteer.id,
        skill_code="rmn",
        level=SkillLevel.PRACTITIONER,
        evidence_body="NMC",
        registration_number="12A",
        evidence_expires_on=london_today() + dt.timedelta(days=300),
        evidence_status=EvidenceStatus.VERIFIED,
    )
    db.add(skill)
    db.commit()
    listing = client.get("/profile/skills")
    change = listing.soup.select_one(f"a[href='/profile/skills/{skill.id}/level']")
    assert "Change level" in change.get_text()
    form = client.get(f"/profile/skills/{skill.id}/level")
    assert form.soup.select_one("input[name=level][checked]")["value"] == "practitioner"
    tampered = client.submit(f"/profile/skills/{skill.id}/level", {"level": "grandmaster"})
    assert list(error_messages(tampered.soup)) == ["level"]
    done = client.submit(f"/profile/skills/{skill.id}/level", {"level": "expert"})
    assert done.location == "/profile/skills"
    db.expire_all()
    changed = db.get(VolunteerSkill, skill.id)
    # The level changes; the checked registration stays checked (it is about the register, not the level).
    assert changed.level is SkillLevel.EXPERT and changed.evidence_status is EvidenceStatus.VERIFIED


def test_someone_elses_skill_level_cannot_be_changed(app, db):
    mine, theirs = make_volunteer(db), make_volunteer(db)
    skill = VolunteerSkill(volunteer_id=theirs.id, skill_code="osint", level=SkillLevel.AWARE)
    db.add(skill)
    db.commit()
    client = app.test_client()
    client.sign_in(mine.user.email)
    assert client.get(f"/profile/skills/{skill.id}/level").status_code == 404
    token = client.csrf_token("/profile/skills")
    assert (
        client.post(f"/profile/skills/{skill.id}/level", data={"csrf_token": token, "level": "expert"}).status_code
        == 404
    )


def test_removing_a_skill_asks_first_and_can_be_undone(client, db):
    volunteer = _signed_in(client, db)
    skill = VolunteerSkill(
        volunteer_id=volunteer.id,
        skill_code="rmn",
        level=SkillLevel.EXPERT,
        evidence_body="NMC",
        registration_number="12A",
        evidence_expires_on=london_today() + dt.timedelta(days=300),
        evidence_status=EvidenceStatus.VERIFIED,
    )
    db.add(skill)
    db.commit()
    skill_id = skill.id
    listing = client.get("/profile/skills")
    # The list links to a question, never removes at once.
    assert listing.soup.select_one(f"a[href='/profile/skills/{skill_id}/remove']") is not None
    assert listing.soup.select_one(f"form[action='/profile/skills/{skill_id}/remove']") is None
    question = client.get(f"/profile/skills/{skill_id}/remove")
    assert question.soup.select_one("h1").get_text(strip=True) == (
        "Are you sure you want to remove Registered mental-health nurse?"
    )
    assert question.soup.select_one("main form[method=post] button").get_text(strip=True) == "Yes, remove it"
    assert db.get(VolunteerSkill, skill_id) is not None  # asking changes nothing
    removed = client.submit(f"/profile/skills/{skill_id}/remove", {})
    assert removed.location == "/profile/skills"
    db.expire_all()
    assert db.get(VolunteerSkill, skill_id) is None
    after = client.get("/profile/skills")
    banner = after.soup.select_one(".govuk-notification-banner--success")
    assert "Registered mental-health nurse removed" in banner.get_text()
    undo = banner.select_one("form[action='/profile/undo']")
    assert undo.select_one("button").get_text(strip=True).startswith("Undo")
    token = undo.select_one("input[name=token]")["value"]
    restored = client.submit("/profile/undo", {"token": token}, token_from="/profile/skills")
    assert restored.location == "/profile/skills"
    db.expire_all()
    back = db.get(VolunteerSkill, skill_id)
    assert back is not None and back.volunteer_id == volunteer.id
    assert (back.level, back.evidence_status, back.registration_number) == (
        SkillLevel.EXPERT,
        EvidenceStatus.VERIFIED,
        "12A",
    )
    # The same undo twice puts nothing back twice.
    again = client.submit("/profile/undo", {"token": token}, token_from="/profile/skills")
    page = client.get(again.location)
    assert "already been put back" in page.soup.select_one(".govuk-error-summary").get_text()
    events = [e.event for e in db.scalars(select(SecurityEvent).where(SecurityEvent.user_id == volunteer.user_id))]
    assert "volunteer_item_removed" in events and "volunteer_item_restored" in events


def test_an_undo_token_cannot_be_forged_or_used_by_someone_else(app, db):
    owner, other = make_volunteer(db), make_volunteer(db)
    slot = AvailabilitySlot(volunteer_id=owner.id, weekday=1, start_minute=540, end_minute=720)
    db.add(slot)
    db.commit()
    slot_id = slot.id
    mine = app.test_client()
    mine.sign_in(owner.user.email)
    mine.submit(f"/profile/availability/weekly/{slot_id}/remove", {}, token_from="/profile/availability")
    token = mine.get("/profile/availability").soup.select_one("input[name=token]")["value"]
    theirs = app.test_client()
    theirs.sign_in(other.user.email)
    refused = theirs.submit("/profile/undo", {"token": token}, token_from="/profile/availability")
    assert refused.status_code == 404
    forged = mine.submit("/profile/undo", {"token": token[:-3] + "abc"}, token_from="/profile/availability")
    assert "cannot be undone" in mine.get(forged.location).soup.select_one(".govuk-error-summary").get_text()
    tampered = mine.submit("/profile/undo", {"token": "x" * 10_000}, token_from="/profile/availability")
    assert tampered.status_code in (302, 413)
    db.expire_all()
    assert db.get(AvailabilitySlot, slot_id) is None
    mine.submit("/profile/undo", {"token": token}, token_from="/profile/availability")
    db.expire_all()
    assert db.get(AvailabilitySlot, slot_id).volunteer_id == owner.id


def test_removing_a_time_and_a_conflict_ask_first_and_undo(client, db):
    volunteer = _signed_in(client, db)
    slot = AvailabilitySlot(volunteer_id=volunteer.id, weekday=1, start_minute=1080, end_minute=1260)
    declared = ConflictDeclaration(
        volunteer_id=volunteer.id, category=ConflictCategory.EMPLOYER, organisation="Whittington Health"
    )
    db.add_all([slot, declared])
    db.commit()
    slot_id, declared_id = slot.id, declared.id
    question = client.get(f"/profile/availability/weekly/{slot_id}/remove")
    assert question.soup.select_one("h1").get_text(strip=True) == (
        "Are you sure you want to remove Tuesday 6pm to 9pm?"
    )
    client.submit(f"/profile/availability/weekly/{slot_id}/remove", {})
    # Something added in its place since: the undo says why it cannot put it back.
    client.submit("/profile/availability/weekly/add", {"weekday": "1", "start": "1140", "end": "1200"})
    token = client.get("/profile/availability").soup.select_one("input[name=token]")
    assert token is None  # the banner goes once another change is made
    question = client.get(f"/profile/conflicts/{declared_id}/remove")
    assert "Whittington Health" in question.soup.select_one("h1").get_text()
    assert "could be offered work involving it" in question.soup.select_one("main").get_text()
    client.submit(f"/profile/conflicts/{declared_id}/remove", {})
    db.expire_all()
    assert db.get(ConflictDeclaration, declared_id) is None
    token = client.get("/profile/conflicts").soup.select_one("input[name=token]")["value"]
    client.submit("/profile/undo", {"token": token}, token_from="/profile/conflicts")
    db.expire_all()
    restored = db.get(ConflictDeclaration, declared_id)
    assert restored.organisation == "Whittington Health" and restored.category is ConflictCategory.EMPLOYER


def test_undo_refuses_a_time_that_now_overlaps(client, db):
    volunteer = _signed_in(client, db)
    slot = AvailabilitySlot(volunteer_id=volunteer.id, weekday=1, start_minute=1080, end_minute=1260)
    db.add(slot)
    db.commit()
    client.submit(f"/profile/availability/weekly/{slot.id}/remove", {}, token_from="/profile/availability")
    token = client.get("/profile/availability").soup.select_one("input[name=token]")["value"]
    added = client.submit("/profile/availability/weekly/add", {"weekday": "1", "start": "1140", "end": "1200"})
    assert added.status_code == 302, error_messages(added.soup)
    refused = client.submit("/profile/undo", {"token": token}, token_from="/profile/availability")
    page = client.get(refused.location)
    assert "overlaps" in page.soup.select_one(".govuk-error-summary").get_text()
    db.expire_all()
    slots = db.scalars(select(AvailabilitySlot).where(AvailabilitySlot.volunteer_id == volunteer.id)).all()
    assert [(s.start_minute, s.end_minute) for s in slots] == [(1140, 1200)]
