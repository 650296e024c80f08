"""Skills with evidence, availability, conflicts of interest and change of circumstances."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.timeutil import london_today
from tests.helpers import date_fields, error_messages, make_volunteer
from vetting.models import ReviewKind, VettingReview
from volunteers.models import (
    AvailabilitySlot,
    BlockedPeriod,
    CircumstanceReport,
    ConflictDeclaration,
    EvidenceStatus,
    VolunteerSkill,
)


def _signed_in(client, db, **overrides):
    volunteer = make_volunteer(db, **overrides)
    client.sign_in(volunteer.user.email)
    return volunteer


def test_add_skills_with_and_without_evidence(client, db):
    volunteer = _signed_in(client, db)
    missing = client.submit("/profile/skills/add", {})
    assert error_messages(missing.soup) == {"skill": "Choose a skill", "level": "Choose your level"}
    no_number = client.submit("/profile/skills/add", {"skill": "rmn", "level": "expert"})
    assert error_messages(no_number.soup) == {"registration_number": "Enter your NMC registration number"}
    half_date = client.submit(
        "/profile/skills/add",
        {"skill": "rmn", "level": "expert", "registration_number": "12a3456e", "evidence_expires_on": ["31", "", ""]},
    )
    assert error_messages(half_date.soup) == {
        "evidence_expires_on-day": "The renewal date must include a month and year"
    }
    assert half_date.soup.select_one(".govuk-error-summary a")["href"] == "#evidence_expires_on-day"
    unreal = client.submit(
        "/profile/skills/add",
        {"skill": "rmn", "level": "expert", "registration_number": "12A", "evidence_expires_on": ["31", "2", "2027"]},
    )
    assert error_messages(unreal.soup) == {"evidence_expires_on-day": "The renewal date must be a real date"}
    expired = client.submit(
        "/profile/skills/add",
        {
            "skill": "rmn",
            "level": "expert",
            "registration_number": "12A",
            **date_fields("evidence_expires_on", london_today() - dt.timedelta(1)),
        },
    )
    assert "expired registration cannot be used" in error_messages(expired.soup)["evidence_expires_on-day"]
    # A POST with the date field missing altogether is a form error, not a crash.
    client.submit(
        "/profile/skills/add",
        {
            "skill": "rmn",
            "level": "expert",
            "registration_number": "12a 3456e",
            **date_fields("evidence_expires_on", london_today() + dt.timedelta(400)),
        },
    )
    client.submit("/profile/skills/add", {"skill": "osint", "level": "practitioner"})
    duplicate = client.submit("/profile/skills/add", {"skill": "osint", "level": "expert"})
    assert "You already have Open-source intelligence" in error_messages(duplicate.soup)["skill"]
    held = {
        s.skill_code: s for s in db.scalars(select(VolunteerSkill).where(VolunteerSkill.volunteer_id == volunteer.id))
    }
    assert held["rmn"].evidence_status is EvidenceStatus.PENDING and held["rmn"].registration_number == "12A 3456E"
    assert held["rmn"].evidence_body == "NMC"
    assert held["osint"].evidence_status is EvidenceStatus.NOT_NEEDED
    page = client.get("/profile/skills")
    assert "Waiting for a coordinator to check registration 12A 3456E on the NMC register" in page.soup.get_text()


def test_the_volunteer_sees_why_evidence_does_not_count(client, db):
    volunteer = _signed_in(client, db)
    db.add_all(
        [
            VolunteerSkill(
                volunteer_id=volunteer.id,
                skill_code="paramedic",
                level="expert",
                evidence_body="HCPC",
                registration_number="PA1",
                evidence_expires_on=london_today() - dt.timedelta(days=3),
                evidence_status=EvidenceStatus.VERIFIED,
            ),
            VolunteerSkill(
                volunteer_id=volunteer.id,
                skill_code="doctor",
                level="expert",
                evidence_body="GMC",
                registration_number="1",
                evidence_expires_on=london_today() + dt.timedelta(days=300),
                evidence_status=EvidenceStatus.REJECTED,
                evidence_rejection_reason="Not on the GMC register",
            ),
        ]
    )
    db.commit()
    text = client.get("/profile/skills").soup.get_text()
    assert "Your registration was due for renewal on" in text
    assert "Not accepted: Not on the GMC register" in text


def test_removing_only_your_own_items(app, db):
    mine, theirs = make_volunteer(db), make_volunteer(db)
    skill = VolunteerSkill(volunteer_id=theirs.id, skill_code="osint", level="expert")
    slot = AvailabilitySlot(volunteer_id=theirs.id, weekday=0, start_minute=540, end_minute=720)
    db.add_all([skill, slot])
    db.commit()
    client = app.test_client()
    client.sign_in(mine.user.email)
    token = client.csrf_token("/profile/skills")
    assert client.post(f"/profile/skills/{skill.id}/remove", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/profile/availability/weekly/{slot.id}/remove", data={"csrf_token": token}).status_code == 404
    db.expire_all()
    assert db.get(VolunteerSkill, skill.id) is not None and db.get(AvailabilitySlot, slot.id) is not None


def test_weekly_times_validate_and_show_in_the_week_grid(client, db):
    volunteer = _signed_in(client, db)
    backwards = client.submit("/profile/availability/weekly/add", {"weekday": "0", "start": "720", "end": "540"})
    assert error_messages(backwards.soup) == {"end": "End time must be after the start time"}
    bogus = client.submit("/profile/availability/weekly/add", {"weekday": "9", "start": "x", "end": "540"})
    assert set(error_messages(bogus.soup)) == {"weekday", "start"}
    client.submit("/profile/availability/weekly/add", {"weekday": "0", "start": "540", "end": "840"})
    overlap = client.submit("/profile/availability/weekly/add", {"weekday": "0", "start": "780", "end": "900"})
    assert error_messages(overlap.soup) == {"start": "This overlaps 9am to 2pm on Monday, which you already have"}
    page = client.get("/profile/availability")
    monday = [td.get_text(strip=True) for td in page.soup.select("tbody tr")[0].select("td")]
    assert monday == ["9am to midday", "midday to 2pm", "–", "–"]
    assert db.scalars(select(AvailabilitySlot).where(AvailabilitySlot.volunteer_id == volunteer.id)).one()


def test_dated_exceptions_and_blocked_periods(client, db):
    volunteer = _signed_in(client, db, military_reservist=True)
    today = london_today()
    no_times = client.submit("/profile/availability/dates/add", {**date_fields("on_date", today), "available": "yes"})
    assert error_messages(no_times.soup) == {"end": "Choose the times you are available"}
    past = client.submit(
        "/profile/availability/dates/add", {**date_fields("on_date", today - dt.timedelta(2)), "available": "no"}
    )
    assert error_messages(past.soup) == {"on_date-day": "The date must be today or in the future"}
    client.submit(
        "/profile/availability/dates/add", {**date_fields("on_date", today + dt.timedelta(3)), "available": "no"}
    )
    backwards = client.submit(
        "/profile/availability/blocked/add",
        {
            **date_fields("first_day", today + dt.timedelta(10)),
            **date_fields("last_day", today + dt.timedelta(5)),
            "reason": "mobilisation",
        },
    )
    assert error_messages(backwards.soup) == {"last_day-day": "The last day must be the same as or after the first day"}
    missing = client.submit("/profile/availability/blocked/add", {"reason": "holiday"})
    assert error_messages(missing.soup) == {
        "first_day-day": "Enter the first day",
        "last_day-day": "Enter the last day",
    }
    client.submit(
        "/profile/availability/blocked/add",
        {
            **date_fields("first_day", today + dt.timedelta(5)),
            **date_fields("last_day", today + dt.timedelta(19)),
            "reason": "mobilisation",
        },
    )
    block = db.scalars(select(BlockedPeriod).where(BlockedPeriod.volunteer_id == volunteer.id)).one()
    assert (block.last_day - block.first_day).days == 14
    text = client.get("/profile/availability").soup.get_text()
    assert "not available" in text and "(mobilisation)" in text


def test_conflict_declarations(client, db):
    volunteer = _signed_in(client, db)
    missing = client.submit("/profile/conflicts/add", {"ward": "0"})
    assert error_messages(missing.soup) == {
        "category": "Choose what kind of connection it is",
        "organisation": "Enter the name of the organisation, person or place",
    }
    too_long = client.submit("/profile/conflicts/add", {"category": "client", "organisation": "x" * 161, "ward": "0"})
    assert error_messages(too_long.soup) == {"organisation": "Name must be 160 characters or fewer"}
    bad_ward = client.submit("/profile/conflicts/add", {"category": "client", "organisation": "Acme", "ward": "99999"})
    assert error_messages(bad_ward.soup) == {"ward": "Not a valid choice."}
    client.submit("/profile/conflicts/add", {"category": "employer", "organisation": " Thames Cyber Ltd ", "ward": "0"})
    declared = db.scalars(select(ConflictDeclaration).where(ConflictDeclaration.volunteer_id == volunteer.id)).one()
    assert declared.organisation == "Thames Cyber Ltd" and declared.ward_id is None
    assert "Thames Cyber Ltd" in client.get("/profile/conflicts").soup.get_text()


def test_change_of_circumstances_opens_a_triggered_review(client, db):
    volunteer = _signed_in(client, db)
    missing = client.submit("/profile/circumstances", {})
    assert error_messages(missing.soup) == {
        "category": "Choose what has changed",
        "occurred_on-day": "Enter when it happened",
        "details": "Tell us what has changed",
    }
    future = client.submit(
        "/profile/circumstances",
        {
            "category": "new_job",
            "details": "Started at Acme",
            **date_fields("occurred_on", london_today() + dt.timedelta(5)),
        },
    )
    assert error_messages(future.soup) == {"occurred_on-day": "The date must be today or in the past"}
    assert future.soup.select_one("#details").get_text() == "Started at Acme"  # nothing typed is lost
    done = client.submit(
        "/profile/circumstances",
        {
            "category": "financial",
            "details": "County court judgment",
            **date_fields("occurred_on", london_today() - dt.timedelta(3)),
        },
    )
    assert done.status_code == 302
    report = db.scalars(select(CircumstanceReport).where(CircumstanceReport.volunteer_id == volunteer.id)).one()
    review = db.scalars(select(VettingReview).where(VettingReview.circumstance_report_id == report.id)).one()
    assert review.kind is ReviewKind.TRIGGERED and review.volunteer_id == volunteer.id
    review.notes = "Officer's private note: check the CCJ register"
    db.commit()
    page = client.get("/profile/circumstances")
    assert "Review open" in page.soup.get_text()
    assert "private note" not in page.get_data(as_text=True)


def test_the_home_page_tells_the_volunteer_where_they_stand(client, db):
    _signed_in(client, db)
    home = client.get("/")
    text = home.soup.get_text()
    assert "Not yet cleared for any task." in text
    assert "Choose your home ward" in text and "Add your skills" in text
