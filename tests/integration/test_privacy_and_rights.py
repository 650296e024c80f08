"""Privacy and rights (issue 18): the privacy notice, accessibility statement and contact page, linked from
every footer; a volunteer's download of their own data (never the vetting officers' notes); and the
retention period after which the vetting sweep erases the personal data of people who left, keeping the
vetting record.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.audit.services import key_from_config, verify
from core.auth.models import Role, SecurityEvent, User, UserSession
from core.auth.passwords import has_usable_password
from core.db import utcnow
from core.timeutil import london_today
from matching.models import Offer, OfferStatus
from matching.offers.services import refresh_status
from tests.helpers import PASSWORD, make_request, make_user, make_volunteer, make_wards
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ClearanceTransition
from volunteers.models import (
    AvailabilityException,
    AvailabilitySlot,
    BlockedPeriod,
    BlockReason,
    CircumstanceCategory,
    CircumstanceReport,
    ConflictCategory,
    ConflictDeclaration,
    EvidenceStatus,
    TaskPreference,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.panels.models import (
    PanelState,
    SpecialistGroup,
    SpecialistGroupMembership,
    SpecialistKind,
    WardPanelMembership,
)
from volunteers.partners.models import PartnerKind, PartnerOrganisation, PartnerRelation, SkillClaim, VolunteerPartner
from volunteers.retention import retention_cutoff
from volunteers.skills import SkillLevel

OFFICERS_NOTE = "Intelligence report 4471: associates with a known burglar"

# ---- The public pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/privacy", "Privacy notice"),
        ("/accessibility", "Accessibility statement for SNT volunteer matching"),
        ("/contact", "Contact us"),
    ],
)
def test_the_public_pages_are_open_to_anyone_and_linked_from_every_footer(client, db, path, heading):
    page = client.get(path)  # the checked client runs the shared page checks (one h1, title, ids, CSRF)
    assert page.status_code == 200
    assert page.soup.select_one("h1").get_text(strip=True) == heading
    for where in ("/sign-in", "/apply", "/no-such-page"):
        links = [a["href"] for a in client.get(where).soup.select("footer a, .govuk-footer a")]
        assert path in links, f"{where} does not link to {path}"
    client.sign_in(make_user(db, Role.SERGEANT).email)
    assert path in [a["href"] for a in client.get("/").soup.select(".govuk-footer a")]
    assert client.get(path).status_code == 200  # and signed in, too


def test_the_privacy_notice_says_what_is_held_why_for_how_long_and_the_rights(app, client):
    app.config.update(DATA_RETENTION_MONTHS_AFTER_LEAVING=36, DATA_PROTECTION_OFFICER_EMAIL="dpo@force.example")
    text = " ".join(client.get("/privacy").soup.select_one("main").get_text().split())
    for words in (
        "Article 6(1)(e)",
        "Article 9",
        "Article 10",
        "Schedule 1 to the Data Protection Act 2018",
        "paragraph 36 of Part 3",
        "Part 3 of the Data Protection Act 2018",  # law enforcement processing
        "kept for 36 months",
        "vetting record",
        "dpo@force.example",
        "Information Commissioner",
        "download what the service holds about them",
    ):
        assert words in text, words


def test_the_contact_page_sends_emergencies_elsewhere(client):
    text = client.get("/contact").soup.select_one("main").get_text()
    assert "999" in text and "101" in text


# ---- A volunteer's own data ----------------------------------------------------------------------


def _rich_volunteer(db):
    """A volunteer with something in every section, a vetting decision with an officer's note, and work."""
    ward = make_wards(db, count=1)[0]
    volunteer = make_volunteer(
        db, full_name="Ada Lovelace", home_ward_id=ward.id, occupation="Nurse", employer="Whittington Health"
    )
    db.add_all(
        [
            VolunteerSkill(
                volunteer_id=volunteer.id,
                skill_code="rmn",
                level=SkillLevel.PRACTITIONER,
                evidence_body="NMC",
                registration_number="12A3456B",
                evidence_status=EvidenceStatus.REJECTED,
                evidence_rejection_reason="Registration number not found on the NMC register",
            ),
            AvailabilitySlot(volunteer_id=volunteer.id, weekday=2, start_minute=18 * 60, end_minute=22 * 60),
            AvailabilityException(volunteer_id=volunteer.id, on_date=london_today(), available=False),
            BlockedPeriod(
                volunteer_id=volunteer.id,
                first_day=london_today() + dt.timedelta(days=30),
                last_day=london_today() + dt.timedelta(days=44),
                reason=BlockReason.HOLIDAY,
            ),
            ConflictDeclaration(
                volunteer_id=volunteer.id, category=ConflictCategory.EMPLOYER, organisation="=HYPERLINK(evil)"
            ),
            CircumstanceReport(
                volunteer_id=volunteer.id,
                category=CircumstanceCategory.NEW_JOB,
                occurred_on=london_today() - dt.timedelta(days=3),
                details="I moved to Whittington Health.",
            ),
            TaskPreference(volunteer_id=volunteer.id, task_type_code="cyber_victim_visit"),
        ]
    )
    clearance = Clearance(
        volunteer_id=volunteer.id,
        type_code="NPPV2F",
        state=ClearanceState.GRANTED_WITH_RESTRICTIONS,
        valid_from=london_today() - dt.timedelta(days=10),
        expires_on=london_today() + dt.timedelta(days=1000),
        restricted_from="youth_schools_liaison",
    )
    db.add(clearance)
    db.flush()
    officer = make_user(db, Role.VETTING_OFFICER)
    db.add(
        ClearanceTransition(
            clearance_id=clearance.id,
            from_state=ClearanceState.IN_PROGRESS,
            to_state=ClearanceState.GRANTED_WITH_RESTRICTIONS,
            event="grant_with_restrictions",
            actor_id=officer.id,
            reason=OFFICERS_NOTE,
        )
    )
    sergeant = make_user(db, Role.SERGEANT, wards=[ward])
    done = make_request(
        db, ward, utcnow() - dt.timedelta(days=5), created_by_id=sergeant.id, title="Advice after a phone scam"
    )
    coming = make_request(db, ward, utcnow() + dt.timedelta(days=5), created_by_id=sergeant.id, title="School talk")
    for item, status in ((done, OfferStatus.ACCEPTED), (coming, OfferStatus.DECLINED)):
        db.add(
            Offer(
                request_id=item.id,
                volunteer_id=volunteer.id,
                status=status,
                starts_at=item.window_start,
                ends_at=item.deployment_end,
                load_minutes=item.duration_minutes,
                explanation="Cyber-crime victim support, practitioner; 0.0 km away",
                offered_at=item.window_start - dt.timedelta(days=3),
                respond_by=item.window_start - dt.timedelta(days=2),
                answered_at=item.window_start - dt.timedelta(days=2),
            )
        )
    db.flush()
    refresh_status(db, [done.id, coming.id])
    db.commit()
    return volunteer


def test_a_volunteer_downloads_their_own_data_as_json_never_the_officers_notes(client, db):
    volunteer = _rich_volunteer(db)
    client.sign_in(volunteer.user.email)
    profile = client.get("/profile")
    links = [a["href"] for a in profile.soup.select("main a")]
    assert "/profile/your-data.json" in links and "/profile/your-data.csv" in links

    response = client.get("/profile/your-data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="your-volunteering-data-')
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert OFFICERS_NOTE not in body
    data = json.loads(body)
    sections = data["sections"]
    assert sections["profile"][0]["name"] == "Ada Lovelace"
    assert sections["profile"][0]["email_address"] == volunteer.user.email
    assert sections["profile"][0]["employer"] == "Whittington Health"
    assert sections["skills"][0]["registration_number"] == "12A3456B"
    assert sections["skills"][0]["why_the_evidence_was_rejected"].startswith("Registration number not found")
    assert sections["weekly_availability"] == [{"day": "Wednesday", "from": "18:00", "until": "22:00"}]
    assert sections["dates_that_are_different"][0]["available"] == "No"
    assert sections["dates_you_cannot_volunteer"][0]["why"] == "Holiday"
    assert sections["tasks_you_would_like"] == [{"task": "Cyber-crime victim visit"}]
    assert sections["conflicts_of_interest"][0]["organisation_person_or_place"] == "=HYPERLINK(evil)"
    assert sections["changes_of_circumstances"][0]["what_you_told_us"] == "I moved to Whittington Health."
    [outcome] = sections["vetting_outcomes"]
    assert outcome["outcome"] == "Granted with restrictions"
    assert outcome["valid_until"] == (london_today() + dt.timedelta(days=1000)).isoformat()
    assert outcome["cannot_be_offered"]
    assert set(outcome) == {
        "clearance",
        "outcome",
        "valid_from",
        "valid_until",
        "cannot_be_offered",
        "can_appeal_until",
    }
    assert [o["answer"] for o in sections["offers"]] == ["Accepted", "Declined"]
    assert [d["title"] for d in sections["deployments"]] == ["Advice after a phone scam"]
    assert "reasons and notes" in data["not_included"]
    # Recorded: a copy of someone's data leaving the service is worth knowing about.
    db.expire_all()
    events = db.scalars(select(SecurityEvent.event).where(SecurityEvent.user_id == volunteer.user_id)).all()
    assert "own_data_downloaded" in events


def test_the_csv_download_is_safe_to_open_in_a_spreadsheet(client, db):
    volunteer = _rich_volunteer(db)
    client.sign_in(volunteer.user.email)
    response = client.get("/profile/your-data.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert OFFICERS_NOTE not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "item", "field", "value"]
    values = {(section, field): value for section, _, field, value in rows[1:]}
    assert values[("profile", "name")] == "Ada Lovelace"
    assert values[("conflicts_of_interest", "organisation_person_or_place")] == "'=HYPERLINK(evil)"
    assert values[("deployments", "title")] == "Advice after a phone scam"
    assert not any(value.startswith(("=", "+", "-", "@")) for *_, value in rows[1:])


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.COORDINATOR, Role.VETTING_OFFICER])
def test_only_a_volunteer_downloads_and_only_their_own(client, db, role):
    assert client.get("/profile/your-data.json").status_code == 302  # signed out: to the sign-in page
    client.sign_in(make_user(db, role).email)
    assert client.get("/profile/your-data.json").status_code == 403
    assert client.get("/profile/your-data.xml").status_code == 404


# ---- Retention -------------------------------------------------------------------------------------


def test_leaving_starts_the_retention_clock_and_coming_back_stops_it(db):
    volunteer = make_volunteer(db)
    assert volunteer.left_at is None
    volunteer.status = VolunteerStatus.LEFT
    db.commit()
    left_at = volunteer.left_at
    assert left_at is not None
    volunteer.status = VolunteerStatus.LEFT  # saying it again does not restart it
    assert volunteer.left_at == left_at
    volunteer.status = VolunteerStatus.ACTIVE
    db.commit()
    assert volunteer.left_at is None


def test_the_retention_cutoff_counts_calendar_months():
    at = dt.datetime(2026, 3, 31, 9, 0, tzinfo=dt.UTC)
    assert retention_cutoff(at, 1) == dt.datetime(2026, 2, 28, 9, 0, tzinfo=dt.UTC)
    assert retention_cutoff(at, 24) == dt.datetime(2024, 3, 31, 9, 0, tzinfo=dt.UTC)
    assert retention_cutoff(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 1) == dt.datetime(2025, 12, 15, tzinfo=dt.UTC)


def _left(db, months_ago: float, **fields) -> Volunteer:
    volunteer = _rich_volunteer(db) if fields.pop("rich", False) else make_volunteer(db, **fields)
    volunteer.status = VolunteerStatus.LEFT
    volunteer.left_at = utcnow() - dt.timedelta(days=round(months_ago * 30.5))
    db.commit()
    return volunteer


def _sweep(app) -> str:
    result = app.test_cli_runner().invoke(args=["vetting", "sweep"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_sweep_erases_people_who_left_long_enough_ago_and_keeps_the_vetting_record(app, client, db):
    gone = _left(db, 25, rich=True)
    client.sign_in(gone.user.email)  # a session that must not survive
    recent = _left(db, 23, phone="07700 900111")
    staying = make_volunteer(db, phone="07700 900222")
    email_before = gone.user.email
    output = _sweep(app)
    assert "Data retention: 1 former volunteer's personal data erased (24 months after leaving)." in output

    db.expire_all()
    erased = db.get(Volunteer, gone.id)
    user = db.get(User, erased.user_id)
    assert erased.erased_at is not None
    assert user.email == f"erased-{user.id}@erased.invalid" and user.email != email_before
    assert user.is_disabled and not has_usable_password(user.password_hash)
    assert db.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)) == 0
    assert (erased.phone, erased.home_ward_id, erased.occupation, erased.employer) == ("", None, "", "")
    for model in (VolunteerSkill, AvailabilitySlot, AvailabilityException, BlockedPeriod, ConflictDeclaration):
        count = db.scalar(select(func.count()).select_from(model).where(model.volunteer_id == gone.id))
        assert count == 0, model.__name__
    assert (
        db.scalar(select(func.count()).select_from(TaskPreference).where(TaskPreference.volunteer_id == gone.id)) == 0
    )
    # Kept: the name, the vetting record (with the officer's reasons), the reports, the work done.
    assert user.full_name == "Ada Lovelace"
    clearance = db.scalars(select(Clearance).where(Clearance.volunteer_id == gone.id)).one()
    assert db.scalars(
        select(ClearanceTransition.reason).where(ClearanceTransition.clearance_id == clearance.id)
    ).all() == [OFFICERS_NOTE]
    assert (
        db.scalar(
            select(func.count()).select_from(CircumstanceReport).where(CircumstanceReport.volunteer_id == gone.id)
        )
        == 1
    )
    assert db.scalar(select(func.count()).select_from(Offer).where(Offer.volunteer_id == gone.id)) == 2
    # Audited, and the audit chain still holds.
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data_erased")).one()
    assert entry.subject_id == str(gone.id)
    assert verify(db, key_from_config(app.config)).ok
    # The old session is gone and nobody can sign in as them.
    assert client.get("/profile").status_code == 302
    assert client.submit("/sign-in", {"email": email_before, "password": PASSWORD}).status_code != 302
    # Not yet due, and still volunteering: untouched.
    assert db.get(Volunteer, recent.id).phone == "07700 900111" and db.get(Volunteer, recent.id).erased_at is None
    assert db.get(Volunteer, staying.id).phone == "07700 900222"
    # A second sweep the same day does nothing more.
    assert "Data retention: 0 former volunteers' personal data erased" in _sweep(app)


def test_the_retention_period_is_the_forces_to_set(app, db):
    app.config["DATA_RETENTION_MONTHS_AFTER_LEAVING"] = 6
    gone = _left(db, 7)
    kept = _left(db, 5)
    assert "1 former volunteer's personal data erased (6 months after leaving)" in _sweep(app)
    db.expire_all()
    assert db.get(Volunteer, gone.id).erased_at is not None
    assert db.get(Volunteer, kept.id).erased_at is None


def test_the_sweep_takes_a_former_volunteer_off_panels_groups_and_partners_lists(app, db):
    """Erasure reaches what issue #23 added: no sergeant's panel, group list or partner reviewer still names
    someone whose data was erased, and a group they led is left without a lead for a coordinator to name."""
    ward = make_wards(db, count=1)[0]
    gone = _left(db, 25)
    skill = VolunteerSkill(volunteer_id=gone.id, skill_code="cyber_victim_support", level=SkillLevel.EXPERT)
    partner = PartnerOrganisation(
        name="London Cyber Resilience Centre",
        name_key="london cyber resilience centre",
        kind=PartnerKind.CYBER_RESILIENCE_CENTRE,
    )
    group = SpecialistGroup(name="Cyber", kind=SpecialistKind.CYBER, lead_user_id=gone.user_id)
    db.add_all([skill, partner, group])
    db.flush()
    link = VolunteerPartner(volunteer_id=gone.id, partner_id=partner.id, relation=PartnerRelation.WORKS_FOR)
    db.add_all(
        [
            link,
            WardPanelMembership(ward_id=ward.id, volunteer_id=gone.id, state=PanelState.MEMBER),
            SpecialistGroupMembership(group_id=group.id, volunteer_id=gone.id, state=PanelState.MEMBER),
        ]
    )
    db.flush()
    db.add(SkillClaim(link_id=link.id, skill_id=skill.id))
    db.commit()

    assert "1 former volunteer's personal data erased" in _sweep(app)
    db.expire_all()
    for model in (VolunteerPartner, WardPanelMembership, SpecialistGroupMembership):
        count = db.scalar(select(func.count()).select_from(model).where(model.volunteer_id == gone.id))
        assert count == 0, model.__name__
    assert db.scalar(select(func.count()).select_from(SkillClaim)) == 0
    assert db.get(SpecialistGroup, group.id).lead_user_id is None
    assert db.get(PartnerOrganisation, partner.id) is not None  # the organisation is not theirs to erase
