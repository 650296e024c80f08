"""Issue 19, the coordinator's items: pausing and recording that someone has left (with a confirmation, and
its effects), back to the evidence list after checking evidence, a CSV export of exactly the filters on screen,
and import messages that agree with their numbers (items 18, 20 and 21)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from core.auth.models import Role, User
from core.timeutil import london_today
from tests.helpers import error_messages, make_user, make_volunteer, make_wards
from tests.integration.test_directory import GOOD_ROW, _csv, _upload
from tests.integration.vetting_factories import granted
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from volunteers.models import EvidenceStatus, Volunteer, VolunteerKind, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

TODAY = london_today()


def _coordinator(client, db) -> User:
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    return coordinator


def _pending_rmn() -> VolunteerSkill:
    return VolunteerSkill(
        skill_code="rmn",
        level=SkillLevel.PRACTITIONER,
        evidence_status=EvidenceStatus.PENDING,
        evidence_expires_on=TODAY + dt.timedelta(days=400),
        evidence_body="NMC",
        registration_number="NMC123456",
    )


# ---- 21. Paused and left from the coordinator's status page ------------------------------------------


def test_the_profile_offers_the_status_page_and_pausing_takes_effect_at_once(client, db):
    _coordinator(client, db)
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    profile = client.get(f"/volunteers/{volunteer.id}")
    link = profile.soup.select_one(f"a[href='/volunteers/{volunteer.id}/status']")
    assert link is not None and "Change status" in link.get_text()
    page = client.get(f"/volunteers/{volunteer.id}/status")
    assert {i["value"] for i in page.soup.select("input[name=status]")} == {"active", "paused", "left"}
    done = client.submit(
        f"/volunteers/{volunteer.id}/status", {"status": "paused", "reason": "Studying for exams", "version": "1"}
    )
    assert done.status_code == 302
    db.expire_all()
    assert db.get(Volunteer, volunteer.id).status is VolunteerStatus.PAUSED


def test_recording_that_someone_has_left_asks_for_confirmation_first(client, db):
    _coordinator(client, db)
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    clearance = granted(db, volunteer)
    url = f"/volunteers/{volunteer.id}/status"
    asked = client.submit(url, {"status": "left", "reason": "Moved to Leeds", "version": "1"})
    # Nothing changes yet: a page says what leaving does and asks to confirm, keeping what was typed.
    assert asked.status_code == 200
    assert asked.soup.select_one("h1").get_text(strip=True).startswith("Confirm that")
    text = asked.soup.get_text(" ", strip=True)
    assert "cannot be undone" in text and "withdrawn" in text and "clearances end" in text
    assert asked.soup.select_one("input[name=reason]")["value"] == "Moved to Leeds"
    assert asked.soup.select_one("button[name=confirm][value=yes]") is not None
    db.expire_all()
    assert db.get(Volunteer, volunteer.id).status is VolunteerStatus.ACTIVE

    # "Change my answer" goes back to the form with the answers kept.
    assert asked.soup.select_one("button[name=confirm][value=change]") is not None
    again = client.submit(url, {"status": "left", "reason": "Moved to Leeds", "version": "1", "confirm": "change"})
    assert again.soup.select_one("h1").get_text(strip=True) == "Change status"
    assert again.soup.select_one("input[name=status][value=left]").has_attr("checked")
    assert again.soup.select_one("#reason").get_text() == "Moved to Leeds"
    db.expire_all()
    assert db.get(Volunteer, volunteer.id).status is VolunteerStatus.ACTIVE

    done = client.submit(url, {"status": "left", "reason": "Moved to Leeds", "version": "1", "confirm": "yes"})
    assert done.status_code == 302
    db.expire_all()
    assert db.get(Volunteer, volunteer.id).status is VolunteerStatus.LEFT
    assert db.get(Clearance, clearance.id).state is not ClearanceState.GRANTED  # ended as no longer needed


def test_the_status_form_reports_every_problem_at_once(client, db):
    _coordinator(client, db)
    volunteer = make_volunteer(db, status=VolunteerStatus.ACTIVE)
    page = client.submit(f"/volunteers/{volunteer.id}/status", {"status": "active", "reason": "", "version": "1"})
    assert error_messages(page.soup) == {
        "status": "This volunteer is already active",
        "reason": "Enter why the status is changing",
    }


# ---- 21. Back to the evidence list -------------------------------------------------------------------


def test_rejecting_evidence_from_the_list_returns_to_the_list(client, db):
    _coordinator(client, db)
    first = make_volunteer(db, skills=[_pending_rmn()])
    make_volunteer(db, skills=[_pending_rmn()])
    queue = client.get("/volunteers/evidence")
    skill = first.skills[0]
    reject = queue.soup.select_one(f"a[href^='/volunteers/{first.id}/skills/{skill.id}/reject']")["href"]
    page = client.get(reject)
    assert page.soup.select_one(".govuk-back-link")["href"] == "/volunteers/evidence"
    refused = client.submit(reject, {"reason": ""})  # a refused form keeps the way back to the list
    assert refused.soup.select_one(".govuk-back-link")["href"] == "/volunteers/evidence"
    done = client.submit(reject, {"reason": "Not on the NMC register"})
    assert done.location == "/volunteers/evidence"
    listed = client.get(done.location)
    assert "evidence rejected" in listed.soup.select_one(".govuk-notification-banner").get_text()
    assert "1 waiting" in listed.soup.select_one("caption").get_text()


def test_verifying_from_the_list_returns_to_the_list(client, db):
    _coordinator(client, db)
    volunteer = make_volunteer(db, skills=[_pending_rmn()])
    skill = volunteer.skills[0]
    done = client.submit(
        f"/volunteers/{volunteer.id}/skills/{skill.id}/verify",
        {"return_to": "queue"},
        token_from="/volunteers/evidence",
    )
    assert done.location == "/volunteers/evidence"


# ---- 21. The CSV export honours the filters on screen -------------------------------------------------


def _emails(response) -> set[str]:
    return {row["email"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff")))}


def test_the_csv_export_has_exactly_the_volunteers_the_filters_show(client, db):
    _coordinator(client, db)
    wards = make_wards(db, "Camden")
    make_volunteer(db, email="ann@test.example", status=VolunteerStatus.ACTIVE, home_ward_id=wards[0].id)
    make_volunteer(db, email="ben@test.example", status=VolunteerStatus.PAUSED, home_ward_id=wards[0].id)
    make_volunteer(
        db,
        email="cat@test.example",
        status=VolunteerStatus.ACTIVE,
        kind=VolunteerKind.SPECIAL,
        home_ward_id=wards[1].id,
    )
    page = client.get("/volunteers?status=active")
    link = page.soup.select_one("a[href^='/volunteers/export.csv']")
    assert link["href"] == "/volunteers/export.csv?status=active"
    assert "matching the filters" in link.get_text()
    assert _emails(client.get(link["href"])) == {"ann@test.example", "cat@test.example"}
    assert _emails(client.get("/volunteers/export.csv?status=active&kind=special")) == {"cat@test.example"}
    assert _emails(client.get("/volunteers/export.csv?q=ben")) == {"ben@test.example"}
    assert _emails(client.get("/volunteers/export.csv")) == {"ann@test.example", "ben@test.example", "cat@test.example"}
    # A filter with a bad value is not silently dropped from a download: back to the page that says so.
    bad = client.get("/volunteers/export.csv?status=retired")
    assert bad.status_code == 302 and bad.location.startswith("/volunteers?")
    unfiltered = client.get("/volunteers")
    assert "Download every volunteer" in unfiltered.soup.select_one("a[href^='/volunteers/export.csv']").get_text()


# ---- 20. Import messages that agree with their numbers ----------------------------------------------


def test_an_import_with_one_problem_says_it_needs_fixing(client, db):
    _coordinator(client, db)
    response = _upload(client, _csv({**GOOD_ROW, "kind": "sheriff"}))
    assert error_messages(response.soup) == {"file": "Nothing was imported: 1 problem in the file needs fixing."}
    assert db.scalars(select(Volunteer)).all() == []


def test_an_import_with_thousands_of_problems_separates_the_thousands(client, db):
    _coordinator(client, db)
    rows = [{**GOOD_ROW, "email": f"p{n}@test.example", "status": "retired"} for n in range(1_205)]
    response = _upload(client, _csv(*rows))
    assert error_messages(response.soup) == {"file": "Nothing was imported: 1,205 problems in the file need fixing."}
    assert "… and 1,005 more" in response.soup.get_text()
