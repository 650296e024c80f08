"""The coordinators' volunteer directory: filters, profile view, evidence checks, specials' details, CSV."""

from __future__ import annotations

import datetime as dt
import io
import shutil

import pytest
from sqlalchemy import func, select

from core import create_app
from core.auth.models import Role, User
from core.auth.passwords import verify_password
from core.db import utcnow
from core.geography.models import Ward
from core.geography.services import ensure_demo_wards
from core.timeutil import london_today
from tests.helpers import CheckedClient, borough_named, error_messages, make_user, make_volunteer, make_wards
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, ReviewStatus, VettingReview
from volunteers.directory import csv_io
from volunteers.models import (
    AvailabilitySlot,
    BlockedPeriod,
    CircumstanceCategory,
    CircumstanceReport,
    ConflictCategory,
    ConflictDeclaration,
    EvidenceStatus,
    OccupationCategory,
    TaskPreference,
    Volunteer,
    VolunteerKind,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.skills import PatrolStatus, SkillLevel

TODAY = london_today()


def _coordinator(client, db) -> User:
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    return coordinator


def _names(response) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select("table tbody tr td:first-child a")]


def _skill(
    code: str,
    status: EvidenceStatus = EvidenceStatus.NOT_NEEDED,
    expires: dt.date | None = None,
    level: SkillLevel = SkillLevel.PRACTITIONER,
) -> VolunteerSkill:
    return VolunteerSkill(
        skill_code=code,
        level=level,
        evidence_status=status,
        evidence_expires_on=expires,
        evidence_body="NMC" if code == "rmn" else None,
        registration_number="NMC123456" if code == "rmn" else None,
    )


def _clearance(db, volunteer: Volunteer, expires: dt.date, state=ClearanceState.GRANTED) -> None:
    db.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code="NPPV2F",
            state=state,
            valid_from=TODAY - dt.timedelta(days=300),
            expires_on=expires,
            restricted_from="",
        )
    )
    db.commit()


# ---------------------------------------------------------------------------------------------
# The directory
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def population(db):
    camden, camden_wards = borough_named(db, "Camden"), make_wards(db, "Camden")
    hackney, hackney_wards = borough_named(db, "Hackney"), make_wards(db, "Hackney")
    alice = make_volunteer(
        db,
        full_name="Alice Archer",
        email="alice@test.example",
        kind=VolunteerKind.SPECIAL,
        status=VolunteerStatus.ACTIVE,
        home_ward_id=camden_wards[0].id,
        skills=[_skill("rmn", EvidenceStatus.PENDING, TODAY + dt.timedelta(days=400))],
        occupation_category=OccupationCategory.NHS_AMBULANCE,
    )
    bob = make_volunteer(
        db,
        full_name="Bob Baker",
        email="bob@test.example",
        status=VolunteerStatus.APPLIED,
        home_ward_id=hackney_wards[0].id,
        skills=[_skill("osint")],
    )
    cara = make_volunteer(
        db,
        full_name="Cara Cole",
        email="cara.cole@elsewhere.example",
        status=VolunteerStatus.PAUSED,
        home_ward_id=camden_wards[1].id,
        skills=[_skill("youth_worker", EvidenceStatus.VERIFIED), _skill("lang_pl")],
    )
    _clearance(db, alice, TODAY + dt.timedelta(days=20))
    _clearance(db, bob, TODAY + dt.timedelta(days=100))
    _clearance(db, cara, TODAY + dt.timedelta(days=10), state=ClearanceState.SUSPENDED)  # does not count
    _clearance(db, cara, TODAY - dt.timedelta(days=3), state=ClearanceState.GRANTED)  # already past: lapsing
    return {
        "camden": camden,
        "hackney": hackney,
        "camden_wards": camden_wards,
        "alice": alice,
        "bob": bob,
        "cara": cara,
    }


def test_each_filter_narrows_the_directory(client, db, population):
    _coordinator(client, db)
    everyone = client.get("/volunteers")
    assert _names(everyone) == ["Alice Archer", "Bob Baker", "Cara Cole"]
    assert "3 volunteers" in everyone.soup.select_one("caption").get_text()
    row = everyone.soup.select("table tbody tr")[0].get_text(" ", strip=True)
    assert "Special" in row and "Active" in row and "Camden ward 0, Camden" in row
    assert "Registered mental-health nurse" in row and "1 evidence pending" in row and "Conflict review" in row
    camden, hackney = population["camden"], population["hackney"]
    cases = {
        "q=archer": ["Alice Archer"],
        "q=ELSEWHERE": ["Cara Cole"],  # email, any case
        "q=%25": [],  # a literal %, not a wildcard
        "skill=osint": ["Bob Baker"],
        "family=youth": ["Cara Cole"],
        "family=language": ["Cara Cole"],
        f"bcu={camden.bcu_id}": ["Alice Archer", "Cara Cole"],
        f"borough={hackney.id}": ["Bob Baker"],
        f"borough={camden.id}&ward={population['camden_wards'][1].id}": ["Cara Cole"],
        "status=applied": ["Bob Baker"],
        "kind=special": ["Alice Archer"],
        "kind=psv&status=paused": ["Cara Cole"],
        "expiring_within=30": ["Alice Archer"],
        "expiring_within=180": ["Alice Archer", "Bob Baker"],
        f"borough={camden.id}&expiring_within=180": ["Alice Archer"],
        f"bcu={hackney.bcu_id}&borough={camden.id}": [],  # places combine: Camden is not in Hackney's BCU
    }
    for query, expected in cases.items():
        response = client.get(f"/volunteers?{query}")
        assert response.status_code == 200, query
        assert _names(response) == expected, query
        assert not response.soup.select(".govuk-error-message"), query
    # The ward list appears once a borough is chosen.
    assert client.get("/volunteers").soup.select_one("select#ward") is None
    wards = client.get(f"/volunteers?borough={camden.id}").soup.select("select#ward option")
    assert [o.get_text(strip=True) for o in wards] == ["Any ward", "Camden ward 0", "Camden ward 1"]


def test_bad_filter_values_are_reported_and_left_out(client, db, population):
    _coordinator(client, db)
    response = client.get(
        "/volunteers?page=abc&skill=astrology&expiring_within=-5&status=retired&kind=x"
        "&borough=99999999999999999999&ward=12&family=magic&bcu=abc&q=" + "x" * 121
    )
    assert response.status_code == 200
    assert error_messages(response.soup) == {
        "q": "Search text must be 120 characters or fewer",
        "skill": "Choose a skill from the list",
        "family": "Choose a skill family from the list",
        "bcu": "Choose a BCU from the list",
        "borough": "Choose a borough from the list",
        "ward": "Choose a borough first, then a home ward in it",
        "status": "Choose a status from the list",
        "kind": "Choose special constable or police support volunteer",
        "expiring_within": "Choose 30, 90 or 180 days",
    }
    assert response.soup.select_one("title").get_text().startswith("Error: Volunteers")
    # Refused filters are left out: everyone is listed, and the next-page links do not carry them.
    assert _names(response) == ["Alice Archer", "Bob Baker", "Cara Cole"]
    # A control character is refused like any other bad value (core.forms.PlainText), the rest kept in the box.
    nul = client.get("/volunteers?q=ali%00ce")
    assert nul.status_code == 200 and list(error_messages(nul.soup)) == ["q"]
    assert _names(nul) == ["Alice Archer", "Bob Baker", "Cara Cole"]
    assert nul.soup.select_one("#q")["value"] == "alice"
    # One good filter still applies beside a bad one.
    mixed = client.get("/volunteers?skill=osint&expiring_within=7")
    assert _names(mixed) == ["Bob Baker"]
    assert list(error_messages(mixed.soup)) == ["expiring_within"]


def test_pagination_is_by_name_fifty_a_page(client, db):
    _coordinator(client, db)
    for n in range(53):
        make_volunteer(db, full_name=f"Volunteer {n:03d}", status=VolunteerStatus.ACTIVE)
    make_volunteer(db, full_name="Zed Last", status=VolunteerStatus.LEFT)
    first = client.get("/volunteers")
    assert len(_names(first)) == 50 and _names(first)[0] == "Volunteer 000"
    assert "54 volunteers" in first.soup.select_one("caption").get_text()
    next_link = first.soup.select_one(".govuk-pagination__next a")["href"]
    assert "page=2" in next_link
    second = client.get(next_link)
    assert _names(second) == ["Volunteer 050", "Volunteer 051", "Volunteer 052", "Zed Last"]
    assert _names(client.get("/volunteers?page=abc")) == _names(first)
    assert _names(client.get("/volunteers?page=-5")) == _names(first)
    assert _names(client.get("/volunteers?page=999999999999999999999")) == _names(second)
    filtered = client.get("/volunteers?status=active")
    assert "53 volunteers" in filtered.soup.select_one("caption").get_text()
    assert "status=active" in filtered.soup.select_one(".govuk-pagination__next a")["href"]


def test_only_coordinators_use_the_directory(app, db):
    volunteer = make_volunteer(db)
    for user in (make_user(db, Role.SERGEANT), make_user(db, Role.VETTING_OFFICER), volunteer.user):
        client = app.test_client()
        client.sign_in(user.email)
        for path in (
            "/volunteers",
            f"/volunteers/{volunteer.id}",
            "/volunteers/evidence",
            "/volunteers/export.csv",
            "/volunteers/import",
        ):
            assert client.get(path).status_code == 403, (user.role, path)
    coordinator = app.test_client()
    _coordinator(coordinator, db)
    nav = [a.get_text(strip=True) for a in coordinator.get("/").soup.select(".govuk-service-navigation__link")]
    assert "Volunteers" in nav


# ---------------------------------------------------------------------------------------------
# The profile view
# ---------------------------------------------------------------------------------------------


def test_profile_view_shows_the_profile_and_no_vetting_detail(client, db, population):
    _coordinator(client, db)
    alice = population["alice"]
    db.add(
        ConflictDeclaration(
            volunteer_id=alice.id, category=ConflictCategory.EMPLOYER, organisation="Royal Free Hospital"
        )
    )
    db.add(AvailabilitySlot(volunteer_id=alice.id, weekday=2, start_minute=18 * 60, end_minute=22 * 60))
    db.add(TaskPreference(volunteer_id=alice.id, task_type_code="mental_health_escort"))
    report = CircumstanceReport(
        volunteer_id=alice.id,
        category=CircumstanceCategory.CRIMINAL_INVOLVEMENT,
        occurred_on=TODAY,
        details="Brother arrested ZEBRA-DETAIL-7731",
    )
    db.add(report)
    db.flush()
    db.add(
        VettingReview(
            volunteer_id=alice.id,
            kind=ReviewKind.TRIGGERED,
            due_on=TODAY,
            circumstance_report_id=report.id,
            notes="Officer note QUOKKA-NOTE-4410",
        )
    )
    db.commit()
    page = client.get(f"/volunteers/{alice.id}")
    text = " ".join(page.soup.get_text(" ").split())
    assert page.soup.select_one("h1").get_text(strip=True) == "Alice Archer"
    for shown in (
        "alice@test.example",
        "07700 900982",
        "Camden ward 0, Camden",
        "Up to 5 km",
        "At most 8 hours",
        "Conflict review needed before any deployment",
        "Royal Free Hospital",
        "Wednesday 18:00 to 22:00",
        "Registered mental-health nurse",
        "NMC123456",
        "Warrant number",
        "Not attested yet",
        "Vetting review open Yes",
    ):
        assert shown in text, shown
    for hidden in ("ZEBRA-DETAIL-7731", "QUOKKA-NOTE-4410", "Brother arrested", "criminal"):
        assert hidden not in text, hidden
    assert "Vetting review open No" in " ".join(
        client.get(f"/volunteers/{population['bob'].id}").soup.get_text(" ").split()
    )
    assert client.get("/volunteers/999999").status_code == 404


# ---------------------------------------------------------------------------------------------
# Evidence
# ---------------------------------------------------------------------------------------------


def test_verify_records_who_and_when(client, db, population):
    coordinator = _coordinator(client, db)
    alice = population["alice"]
    skill = alice.skills[0]
    profile = client.get(f"/volunteers/{alice.id}")
    action = f"/volunteers/{alice.id}/skills/{skill.id}/verify"
    assert profile.soup.select_one(f"form[action='{action}'] button").get_text(" ", strip=True).startswith("Verify")
    before = utcnow()
    response = client.submit(action, {}, token_from=f"/volunteers/{alice.id}")
    assert response.location == f"/volunteers/{alice.id}"
    page = client.get(response.location)
    assert (
        "Registered mental-health nurse evidence verified."
        in page.soup.select_one(".govuk-notification-banner").get_text()
    )
    db.expire_all()
    saved = db.get(VolunteerSkill, skill.id)
    assert saved.evidence_status is EvidenceStatus.VERIFIED and saved.evidence_reviewed_by_id == coordinator.id
    assert before <= saved.evidence_reviewed_at <= utcnow()
    assert page.soup.select(f"form[action='{action}']") == []
    again = client.get(client.submit(action, {}, token_from=f"/volunteers/{alice.id}").location)
    assert "already been verified" in again.soup.select_one(".govuk-error-summary").get_text()
    # Someone else's skill id under this volunteer's URL: not found.
    other = population["cara"].skills[0]
    assert (
        client.submit(
            f"/volunteers/{alice.id}/skills/{other.id}/verify", {}, token_from=f"/volunteers/{alice.id}"
        ).status_code
        == 404
    )


def test_expired_evidence_cannot_be_verified(client, db):
    _coordinator(client, db)
    volunteer = make_volunteer(db, skills=[_skill("rmn", EvidenceStatus.PENDING, TODAY - dt.timedelta(days=1))])
    skill = volunteer.skills[0]
    profile = client.get(f"/volunteers/{volunteer.id}")
    assert "Expired" in profile.soup.get_text() and not profile.soup.select("form[action$='/verify']")
    refused = client.submit(
        f"/volunteers/{volunteer.id}/skills/{skill.id}/verify", {}, token_from=f"/volunteers/{volunteer.id}"
    )
    page = client.get(refused.location)
    assert "Expired evidence cannot be verified" in page.soup.select_one(".govuk-error-summary").get_text()
    db.expire_all()
    assert db.get(VolunteerSkill, skill.id).evidence_status is EvidenceStatus.PENDING


def test_reject_needs_a_reason(client, db, population):
    coordinator = _coordinator(client, db)
    alice = population["alice"]
    skill = alice.skills[0]
    path = f"/volunteers/{alice.id}/skills/{skill.id}/reject"
    form = client.get(path)
    assert form.soup.select_one("h1").get_text(strip=True) == "Reject Registered mental-health nurse evidence"
    missing = client.submit(path, {"reason": "   "})
    assert error_messages(missing.soup) == {"reason": "Enter why the evidence is rejected"}
    assert missing.soup.select_one(".govuk-error-summary a[href='#reason']")
    too_long = client.submit(path, {"reason": "x" * 301})
    assert error_messages(too_long.soup) == {"reason": "The reason must be 300 characters or fewer"}
    done = client.submit(path, {"reason": "Not on the NMC register"})
    assert done.location == f"/volunteers/{alice.id}"
    db.expire_all()
    saved = db.get(VolunteerSkill, skill.id)
    assert saved.evidence_status is EvidenceStatus.REJECTED and saved.evidence_reviewed_by_id == coordinator.id
    assert saved.evidence_rejection_reason == "Not on the NMC register"
    assert "Reason: Not on the NMC register" in client.get(done.location).soup.get_text()
    assert client.get(path).status_code == 302  # nothing left to reject
    assert client.get(f"/volunteers/{alice.id}/skills/999999/reject").status_code == 404


def test_evidence_queue_lists_pending_oldest_first(client, db):
    _coordinator(client, db)
    first = make_volunteer(db, full_name="First Waiting", skills=[_skill("rmn", EvidenceStatus.PENDING)])
    make_volunteer(db, full_name="Already Done", skills=[_skill("rmn", EvidenceStatus.VERIFIED)])
    make_volunteer(db, full_name="Second Waiting", skills=[_skill("rmn", EvidenceStatus.PENDING)])
    queue = client.get("/volunteers/evidence")
    assert _names(queue) == ["First Waiting", "Second Waiting"]
    skill = first.skills[0]
    back = client.submit(
        f"/volunteers/{first.id}/skills/{skill.id}/verify", {"return_to": "queue"}, token_from="/volunteers/evidence"
    )
    assert back.location == "/volunteers/evidence"
    assert _names(client.get(back.location)) == ["Second Waiting"]


# ---------------------------------------------------------------------------------------------
# Specials' details
# ---------------------------------------------------------------------------------------------


def test_specials_details_form(client, db):
    _coordinator(client, db)
    special = make_volunteer(db, kind=VolunteerKind.SPECIAL)
    path = f"/volunteers/{special.id}/special"
    shown = client.get(path)
    assert shown.soup.select_one("#monthly_commitment_hours")["value"] == "16"
    missing = client.submit(path, {"version": special.version, "monthly_commitment_hours": ""})
    assert error_messages(missing.soup) == {
        "patrol_status": "Choose a patrol status",
        "monthly_commitment_hours": "Enter the monthly commitment in hours",
    }
    bad = client.submit(
        path,
        {
            "version": special.version,
            "warrant_number": "SC-1!",
            "patrol_status": "sheriff",
            "monthly_commitment_hours": "sixteen",
        },
    )
    assert error_messages(bad.soup) == {
        "warrant_number": "Warrant number must be letters and digits only, like SC12345",
        "patrol_status": "Not a valid choice.",
        "monthly_commitment_hours": "Enter the monthly commitment as a whole number of hours, like 16",
    }
    out_of_range = client.submit(
        path, {"version": special.version, "patrol_status": "directed", "monthly_commitment_hours": "500"}
    )
    assert error_messages(out_of_range.soup) == {
        "monthly_commitment_hours": "Enter a number of hours between 1 and 200"
    }
    ok = client.submit(
        path,
        {
            "version": special.version,
            "warrant_number": "sc12345",
            "patrol_status": "directed",
            "monthly_commitment_hours": "20",
        },
    )
    assert ok.location == f"/volunteers/{special.id}"
    db.expire_all()
    saved = db.get(Volunteer, special.id)
    assert (saved.warrant_number, saved.patrol_status, saved.monthly_commitment_minutes) == (
        "SC12345",
        PatrolStatus.DIRECTED,
        20 * 60,
    )
    other = make_volunteer(db, kind=VolunteerKind.SPECIAL)
    taken = client.submit(
        f"/volunteers/{other.id}/special",
        {
            "version": other.version,
            "warrant_number": "SC12345",
            "patrol_status": "qualified",
            "monthly_commitment_hours": "16",
        },
    )
    assert error_messages(taken.soup) == {"warrant_number": "Another special constable already has this warrant number"}


def test_specials_details_not_for_psvs_and_not_over_a_newer_change(app, db):
    first, second = app.test_client(), app.test_client()
    _coordinator(first, db)
    _coordinator(second, db)
    psv = make_volunteer(db, kind=VolunteerKind.PSV)
    assert first.get(f"/volunteers/{psv.id}/special").status_code == 404
    assert (
        first.submit(
            f"/volunteers/{psv.id}/special", {"patrol_status": "qualified"}, token_from="/volunteers"
        ).status_code
        == 404
    )
    assert first.get("/volunteers/999999/special").status_code == 404
    special = make_volunteer(db, kind=VolunteerKind.SPECIAL)
    path = f"/volunteers/{special.id}/special"
    stale = special.version
    first.submit(path, {"version": stale, "patrol_status": "qualified", "monthly_commitment_hours": "16"})
    refused = second.submit(path, {"version": stale, "patrol_status": "accompanied", "monthly_commitment_hours": "30"})
    assert refused.location == path
    assert "changed by someone else" in second.get(path).soup.select_one(".govuk-error-summary").get_text()
    db.expire_all()
    assert db.get(Volunteer, special.id).patrol_status is PatrolStatus.QUALIFIED


# ---------------------------------------------------------------------------------------------
# CSV export and import
# ---------------------------------------------------------------------------------------------


def _snapshot(session) -> dict[str, tuple]:
    """Every volunteer's record, by email, read straight from the tables (not through the exporter)."""
    wards = dict(session.execute(select(Ward.id, Ward.code)).all())
    out = {}
    for v in session.scalars(select(Volunteer)):
        slots = session.execute(
            select(AvailabilitySlot.weekday, AvailabilitySlot.start_minute, AvailabilitySlot.end_minute).where(
                AvailabilitySlot.volunteer_id == v.id
            )
        ).all()
        conflicts = session.execute(
            select(ConflictDeclaration.category, ConflictDeclaration.organisation, ConflictDeclaration.ward_id).where(
                ConflictDeclaration.volunteer_id == v.id
            )
        ).all()
        blocks = session.execute(
            select(BlockedPeriod.first_day, BlockedPeriod.last_day, BlockedPeriod.reason).where(
                BlockedPeriod.volunteer_id == v.id
            )
        ).all()
        out[v.user.email] = (
            v.user.full_name,
            v.user.role,
            v.kind,
            v.status,
            v.phone,
            wards.get(v.home_ward_id),
            v.travel_limit_km,
            v.weekly_hours_cap_minutes,
            v.adjustment,
            v.occupation,
            v.occupation_category,
            v.employer,
            v.military_reservist,
            v.warrant_number,
            v.patrol_status,
            v.monthly_commitment_minutes,
            sorted(
                (
                    s.skill_code,
                    s.level,
                    s.evidence_status,
                    s.evidence_body,
                    s.registration_number,
                    s.evidence_expires_on,
                )
                for s in v.skills
            ),
            sorted(p.task_type_code for p in v.preferences),
            sorted(tuple(s) for s in slots),
            sorted((c, o, wards.get(w)) for c, o, w in conflicts),
            sorted(tuple(b) for b in blocks),
        )
    return out


def test_a_csv_export_of_the_demo_imports_into_an_empty_database_with_the_same_records(
    app, db, sqlite_template, tmp_path
):
    assert app.test_cli_runner().invoke(args=["demo", "load", "--scale", "40"]).exit_code == 0
    client = app.test_client()
    client.sign_in("coordinator@demo.example", "neighbourhood-demo-2026")
    export = client.get("/volunteers/export.csv")
    assert export.status_code == 200 and export.is_streamed and export.mimetype == "text/csv"
    assert export.headers["Content-Disposition"].startswith('attachment; filename="volunteers-')
    path = tmp_path / "volunteers.csv"
    path.write_bytes(export.get_data())
    source = _snapshot(db)
    # The scale's 40 and Hana Whitfield, the supervised-only youth volunteer (matching/teams/demo.py).
    assert len(source) == 40 + 1 and sum(1 for r in source.values() if r[18]) > 0  # some have weekly slots

    empty = tmp_path / "empty.sqlite3"
    shutil.copyfile(sqlite_template, empty)
    target_app = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": f"sqlite:///{empty}",
            "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        }
    )
    target_app.test_client_class = CheckedClient
    try:
        session = target_app.extensions["db_sessionmaker"]()
        ensure_demo_wards(session)  # wards are matched by code: the same (deterministic) demo wards
        session.commit()
        result = target_app.test_cli_runner().invoke(args=["volunteers", "import", str(path)])
        assert result.exit_code == 0, result.output
        assert "Imported 41 volunteers" in result.output
        imported = _snapshot(session)
        assert imported.keys() == source.keys()
        for email, record in source.items():
            assert imported[email] == record, email
        users = session.scalars(select(User).where(User.email.in_(list(source)))).all()
        assert all(not verify_password(u.password_hash, "neighbourhood-demo-2026") for u in users)
        applied = {v.id for v in session.scalars(select(Volunteer).where(Volunteer.status == VolunteerStatus.APPLIED))}
        reviews = set(
            session.scalars(
                select(VettingReview.volunteer_id).where(
                    VettingReview.kind == ReviewKind.NEW_APPLICATION, VettingReview.status == ReviewStatus.OPEN
                )
            )
        )
        assert applied and reviews == applied
        # And the CLI export of the imported records is the same file.
        again = tmp_path / "again.csv"
        assert target_app.test_cli_runner().invoke(args=["volunteers", "export", str(again)]).exit_code == 0
        assert sorted(again.read_text(encoding="utf-8-sig").splitlines()) == sorted(
            path.read_text(encoding="utf-8-sig").splitlines()
        )
        session.close()
    finally:
        target_app.extensions["db_engine"].dispose()


GOOD_ROW = {
    "email": "new.person@test.example",
    "full_name": "New Person",
    "kind": "psv",
    "status": "active",
    "phone": "07700 900123",
    "home_ward_code": "",
    "travel_limit_km": "5",
    "weekly_hours_cap_minutes": "480",
    "adjustment": "none",
    "occupation": "Nurse",
    "occupation_category": "nhs_ambulance",
    "employer": "NHS",
    "military_reservist": "no",
    "warrant_number": "",
    "patrol_status": "",
    "monthly_commitment_minutes": "",
    "skills": "rmn:expert:pending:NMC:NMC1:2030-01-01;lang_pl:practitioner:not_needed:::",
    "preferences": "mental_health_escort",
    "availability": "Mon 09:00-13:00",
    "conflicts": "",
    "blocked_periods": "",
}


def _csv(*rows: dict) -> bytes:
    lines = [",".join(csv_io.COLUMNS)]
    for row in rows:
        lines.append(",".join(f'"{row.get(c, "")}"' for c in csv_io.COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def _upload(client, content: bytes, filename: str = "volunteers.csv"):
    token = client.csrf_token("/volunteers/import")
    return client.post(
        "/volunteers/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def test_import_with_bad_rows_imports_nothing_and_lists_every_error(client, db):
    _coordinator(client, db)
    existing = make_volunteer(db, email="taken@test.example")
    content = _csv(
        GOOD_ROW,
        {**GOOD_ROW, "email": "two@test.example", "home_ward_code": "E05999999"},
        {**GOOD_ROW, "email": "NEW.person@test.example"},
        {**GOOD_ROW, "email": "four@test.example", "kind": "sheriff", "skills": "astrology:expert:pending:::"},
        {**GOOD_ROW, "email": existing.user.email},
        {**GOOD_ROW, "email": "six@test.example", "travel_limit_km": "500", "availability": "Mon 13:00-09:00"},
    )
    response = _upload(client, content)
    assert response.status_code == 200
    assert error_messages(response.soup) == {"file": "Nothing was imported: 7 problems in the file need fixing."}
    assert response.soup.select_one(".govuk-error-summary a[href='#file']")
    listed = [li.get_text(" ", strip=True) for li in response.soup.select(".app-import-errors li")]
    assert listed == [
        "Row 3: ward code E05999999 is not known",
        "Row 4: email address new.person@test.example is also on row 2",
        "Row 5: kind 'sheriff' is not one of: psv, special",
        "Row 5: skill code 'astrology' is not known",
        "Row 6: an account with email address taken@test.example already exists",
        "Row 7: travel limit km '500' must be a whole number from 0 to 200",
        "Row 7: availability 'Mon 13:00-09:00' must end after it starts",
    ]
    assert db.scalar(select(func.count(Volunteer.id))) == 1


def test_import_shows_the_first_200_errors_and_a_count(client, db):
    _coordinator(client, db)
    rows = [{**GOOD_ROW, "email": f"p{n}@test.example", "status": "retired"} for n in range(230)]
    response = _upload(client, _csv(*rows))
    assert len(response.soup.select(".app-import-errors li")) == 200
    assert "… and 30 more" in response.soup.get_text()


def test_import_refuses_files_that_are_not_csv_or_too_large(app, client, db):
    _coordinator(client, db)
    assert error_messages(_upload(client, b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png").soup) == {
        "file": "The selected file must be a CSV file (ending .csv)"
    }
    assert error_messages(_upload(client, b"\x89PNG\r\n\x1a\n\x00\x00", "photo.csv").soup) == {
        "file": "The selected file is not a CSV file"
    }
    assert error_messages(_upload(client, "name\n\xe9".encode("latin-1")).soup) == {
        "file": "The selected file is not UTF-8 text: save it as CSV UTF-8 and try again"
    }
    assert error_messages(_upload(client, b"").soup) == {"file": "The selected file is empty"}
    token = client.csrf_token("/volunteers/import")
    assert error_messages(client.post("/volunteers/import", data={"csrf_token": token}).soup) == {
        "file": "Choose a CSV file to import"
    }
    app.config["VOLUNTEER_IMPORT_MAX_BYTES"] = 100
    assert error_messages(_upload(client, _csv(GOOD_ROW)).soup) == {
        "file": "The selected file must be smaller than 100 bytes"
    }
    assert db.scalar(select(func.count(Volunteer.id))) == 0


def test_a_good_file_imports_from_the_page(client, db):
    _coordinator(client, db)
    response = _upload(
        client,
        _csv(
            GOOD_ROW,
            {
                **GOOD_ROW,
                "email": "b@test.example",
                "kind": "special",
                "skills": "",
                "warrant_number": "SC1",
                "patrol_status": "accompanied",
                "monthly_commitment_minutes": "960",
            },
        ),
    )
    assert response.location == "/volunteers"
    assert "Imported 2 volunteers" in client.get("/volunteers").soup.select_one(".govuk-notification-banner").get_text()
    volunteer = db.scalars(select(Volunteer).join(User).where(User.email == "new.person@test.example")).one()
    assert volunteer.user.role is Role.VOLUNTEER and volunteer.user.full_name == "New Person"
    assert [(s.skill_code, s.evidence_status) for s in volunteer.skills] == [
        ("lang_pl", EvidenceStatus.NOT_NEEDED),
        ("rmn", EvidenceStatus.PENDING),
    ]
    assert _names(client.get("/volunteers/evidence")) == ["New Person"]


def test_cli_import_lists_errors_and_fails(app, db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv({**GOOD_ROW, "home_ward_code": "E05999999"}))
    result = app.test_cli_runner().invoke(args=["volunteers", "import", str(path)])
    assert result.exit_code == 1
    assert "Row 2: ward code E05999999 is not known" in result.output
    assert db.scalar(select(func.count(Volunteer.id))) == 0
