"""Conflict reviews for lines of work that need one, and the matcher treating their outcome as a hard rule.

Someone whose line of work needs a conflict review (private security or cyber consultancy, private
investigation, health work, youth services, military reservists) is matched for no task until an officer or
coordinator records the review. Afterwards its outcome is a hard rule: "no conflict" lets them be matched,
"not suitable for these task types" keeps them from those for good, and "conflicts with these organisations
or wards" joins the conflict rule the matcher applies to declared conflicts. Recording an outcome that
narrows what they may do withdraws, in the same transaction, the offers and bookings it rules out; the
accept checks it again too.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.timeutil import london_to_utc, london_today
from matching.models import Offer, OfferStatus
from tests.helpers import (
    error_messages,
    make_kings_cross_and_belsize,
    make_offer,
    make_request,
    make_user,
    make_volunteer,
)
from tests.integration.vetting_factories import mail_to
from vetting.conflict_rules import Outcome
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ConflictReview
from volunteers.models import AvailabilitySlot, OccupationCategory, VolunteerSkill, VolunteerStatus
from volunteers.skills import SkillLevel

DAY = london_today() + dt.timedelta(days=3)
AT_10AM = london_to_utc(DAY, dt.time(10, 0))
AT_2PM = london_to_utc(DAY, dt.time(14, 0))
# What a sergeant's page or email, or the volunteer's email, must never say about a conflict review.
REVIEW_DETAIL = ("redline", "northgate", "conflict review", "reasons", "client list", "not suitable")


def _ready(db, ward, name: str, **profile):
    """An active PSV cleared (NPPV2F) and skilled for cyber-crime victim visits and business cyber-attack
    visits, free every day 8am to 8pm."""
    volunteer = make_volunteer(
        db,
        home_ward_id=ward.id,
        full_name=name,
        status=profile.pop("status", VolunteerStatus.ACTIVE),
        travel_limit_km=10,
        weekly_hours_cap_minutes=20 * 60,
        **profile,
    )
    db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code="cyber_victim_support", level=SkillLevel.EXPERT))
    db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code="incident_response", level=SkillLevel.EXPERT))
    db.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code="NPPV2F",
            state=ClearanceState.GRANTED,
            valid_from=london_today() - dt.timedelta(days=300),
            expires_on=london_today() + dt.timedelta(days=400),
        )
    )
    db.add_all(
        AvailabilitySlot(volunteer_id=volunteer.id, weekday=d, start_minute=8 * 60, end_minute=20 * 60)
        for d in range(7)
    )
    db.commit()
    return volunteer


def _consultant(db, ward, name="Maya Brooks", **profile):
    values = dict(
        occupation="Penetration tester",
        employer="Redline Security Ltd",
        occupation_category=OccupationCategory.PRIVATE_SECURITY_CYBER,
    )
    values.update(profile)
    return _ready(db, ward, name, **values)


def _signed_in(app, user):
    client = app.test_client()
    client.sign_in(user.email)
    client.user = user
    return client


def _offered(db, item) -> set[str]:
    db.expire_all()
    return {
        o.volunteer.user.full_name
        for o in db.scalars(select(Offer).where(Offer.request_id == item.id, Offer.status == OfferStatus.OFFERED))
    }


def _match(client, item) -> None:
    client.submit(f"/requests/{item.id}/match", {}, token_from=f"/requests/{item.id}")


def _record(client, volunteer, **fields):
    """Post the conflict review form for ``volunteer`` as ``client``: ``findings`` a list, the rest as typed."""
    data = {"notes": "Checked their employer's client list against current local work."}
    data.update(fields)
    return client.submit(f"/vetting/people/{volunteer.id}/conflict-review", data)


@pytest.fixture
def world(db, smtp):
    """King's Cross and Belsize; the King's Cross sergeant, a coordinator and a vetting officer; Maya, a
    cyber-security consultant at Redline Security Ltd whose conflict review is not recorded yet."""
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    return {
        "wards": wards,
        "kx": kx,
        "sergeant": make_user(db, Role.SERGEANT, wards=[kx, wards["belsize"]], full_name="Sergeant Kaur"),
        "coordinator": make_user(db, Role.COORDINATOR, full_name="Cora Coordinator"),
        "officer": make_user(db, Role.VETTING_OFFICER, full_name="Olu Officer"),
        "maya": _consultant(db, kx),
        "smtp": smtp,
    }


# ---- Gating in matching ------------------------------------------------------------------------------


def test_unreviewed_never_offered_until_no_conflict_is_recorded(app, db, world):
    item = make_request(
        db, world["kx"], start=AT_10AM, title="Visit after ransomware", created_by_id=world["sergeant"].id
    )
    sergeant = _signed_in(app, world["sergeant"])
    _match(sergeant, item)
    assert _offered(db, item) == set()
    # The sergeant reads that she is not cleared for it, and nothing of why.
    page = " ".join(sergeant.get(f"/requests/{item.id}").soup.get_text(" ").split())
    assert "1 have the skills 0 cleared for this task" in page
    assert "1 with the skills needs a check before deployment" in page
    assert not any(word in page.lower() for word in REVIEW_DETAIL)

    coordinator = _signed_in(app, world["coordinator"])
    response = _record(coordinator, world["maya"], findings=["no_conflict"])
    assert response.status_code == 302
    page = coordinator.get(response.location).soup
    assert "Conflict review recorded for Maya Brooks" in page.get_text()

    _match(sergeant, item)
    assert _offered(db, item) == {"Maya Brooks"}


def test_not_suitable_for_a_task_type_is_never_offered_it_and_bookings_on_it_go_at_once(app, db, world):
    maya, kx, sergeant_user = world["maya"], world["kx"], world["sergeant"]
    _record(_signed_in(app, world["coordinator"]), maya, findings=["no_conflict"])
    # Booked on a victim visit, offered a business visit, both before the review found more.
    booked = make_request(db, kx, start=AT_10AM, title="Visit after a phishing fraud", created_by_id=sergeant_user.id)
    offered = make_request(
        db,
        kx,
        start=AT_2PM,
        title="Bakery hit by ransomware",
        task_type_code="business_cyber_visit",
        created_by_id=sergeant_user.id,
    )
    booking, offer = make_offer(db, maya, booked, OfferStatus.ACCEPTED), make_offer(db, maya, offered)
    _ready(db, world["wards"]["belsize"], "Bogdan Nowak")

    officer = _signed_in(app, world["officer"])
    response = _record(officer, maya, findings=["not_suitable"], task_types=["cyber_victim_visit"])
    assert response.status_code == 302

    db.expire_all()
    # The booking the finding rules out is withdrawn in the review's own transaction, and the place offered
    # to Bogdan; the business visit she may still do stays hers.
    assert db.get(Offer, booking.id).status is OfferStatus.WITHDRAWN
    assert db.get(Offer, booking.id).closed_reason == "no longer eligible: not_suitable_for_task"
    assert db.get(Offer, offer.id).status is OfferStatus.OFFERED
    assert _offered(db, booked) == {"Bogdan Nowak"}
    ((subject, text),) = [m for m in mail_to(world["smtp"], maya.user.email) if "phishing" in m[0]]
    assert subject == "You are no longer booked: Visit after a phishing fraud"
    assert "It would put you in a conflict of interest, so it is not work we can ask you to do." in text
    ((subject, text),) = mail_to(world["smtp"], sergeant_user.email)
    assert subject == "Volunteer no longer available: Visit after a phishing fraud"
    assert not any(word in text.lower() for word in (*REVIEW_DETAIL, "conflict"))

    # Never offered a victim visit again; still offered business visits.
    later = make_request(db, kx, start=AT_10AM + dt.timedelta(days=1), created_by_id=sergeant_user.id)
    business = make_request(
        db,
        kx,
        start=AT_2PM + dt.timedelta(days=1),
        task_type_code="business_cyber_visit",
        people_needed=2,
        created_by_id=sergeant_user.id,
    )
    sergeant = _signed_in(app, sergeant_user)
    for item in (later, business):
        _match(sergeant, item)
    assert _offered(db, later) == {"Bogdan Nowak"}
    assert _offered(db, business) == {"Maya Brooks", "Bogdan Nowak"}


def test_conflicts_with_organisations_or_wards_join_the_conflict_rule(app, db, world):
    maya, kx, belsize = world["maya"], world["kx"], world["wards"]["belsize"]
    sergeant_user = world["sergeant"]
    _record(_signed_in(app, world["coordinator"]), maya, findings=["no_conflict"])
    northgate = make_request(
        db,
        kx,
        start=AT_10AM,
        title="Northgate data breach",
        organisation="Northgate Digital Ltd",
        task_type_code="business_cyber_visit",
        created_by_id=sergeant_user.id,
    )
    booked = make_offer(db, maya, northgate, OfferStatus.ACCEPTED)

    response = _record(
        _signed_in(app, world["officer"]),
        maya,
        findings=["conflicts"],
        organisations="Northgate Digital\n",
        wards="Belsize, Camden",
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Offer, booked.id).status is OfferStatus.WITHDRAWN
    assert db.get(Offer, booked.id).closed_reason == "no longer eligible: conflict_of_interest"

    in_belsize = make_request(db, belsize, start=AT_10AM + dt.timedelta(days=1), created_by_id=sergeant_user.id)
    other_firm = make_request(
        db,
        kx,
        start=AT_2PM + dt.timedelta(days=1),
        title="Bakery hit by ransomware",
        organisation="Crumbs Bakery",
        task_type_code="business_cyber_visit",
        created_by_id=sergeant_user.id,
    )
    again = make_request(
        db,
        kx,
        start=AT_10AM + dt.timedelta(days=2),
        organisation="NORTHGATE DIGITAL",
        task_type_code="business_cyber_visit",
        created_by_id=sergeant_user.id,
    )
    sergeant = _signed_in(app, sergeant_user)
    for item in (in_belsize, other_firm, again):
        _match(sergeant, item)
    assert _offered(db, in_belsize) == set()
    assert _offered(db, again) == set()
    assert _offered(db, other_firm) == {"Maya Brooks"}
    page = " ".join(sergeant.get(f"/requests/{again.id}").soup.get_text(" ").split())
    assert "0 with no conflict of interest" in page


def test_the_accept_checks_the_conflict_review_again(app, db, world):
    """Offered while her line of work needed no review; she has since become a consultant and no review
    covers it: pressing Accept does not book her."""
    kx = world["kx"]
    nina = _ready(db, kx, "Nina Patel")
    item = make_request(db, kx, start=AT_2PM, title="Advice after a romance scam", created_by_id=world["sergeant"].id)
    offer = make_offer(db, nina, item)
    nina.occupation_category, nina.employer = OccupationCategory.PRIVATE_INVESTIGATION, "Sleuths LLP"
    db.commit()

    client = _signed_in(app, nina.user)
    response = client.submit(f"/offers/{offer.id}/accept", {}, token_from=f"/offers/{offer.id}")
    assert "This offer is no longer open to you." in client.get(response.location).soup.get_text()
    db.expire_all()
    assert db.get(Offer, offer.id).status is OfferStatus.WITHDRAWN
    assert db.get(Offer, offer.id).closed_reason == "no longer eligible: conflict_review_pending"


def test_a_new_employer_or_line_of_work_needs_a_new_review(app, db, world):
    maya, kx = world["maya"], world["kx"]
    _record(_signed_in(app, world["coordinator"]), maya, findings=["no_conflict"])
    volunteer = _signed_in(app, maya.user)
    response = volunteer.submit(
        "/profile/work",
        {
            "version": maya.version,
            "occupation": "Youth worker",
            "employer": "Hackney Youth Service",
            "occupation_category": "youth_services",
            "adjustment": "none",
            "military_reservist": "no",
        },
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(type(maya), maya.id).occupation_category is OccupationCategory.YOUTH_SERVICES

    item = make_request(db, kx, start=AT_10AM, created_by_id=world["sergeant"].id)
    _match(_signed_in(app, world["sergeant"]), item)
    assert _offered(db, item) == set()
    page = " ".join(_signed_in(app, world["coordinator"]).get(f"/volunteers/{maya.id}").soup.get_text(" ").split())
    assert "Conflict review needed before any deployment: Youth services." in page
    # Her own home page tells her why nothing is offered, in plain words.
    home = " ".join(volunteer.get("/").soup.get_text(" ").split())
    assert "a check for conflicts of interest is needed before you are offered any task" in home


# ---- Recording it through the web ---------------------------------------------------------------------


def test_an_officer_records_it_from_the_vetting_record_and_it_is_audited(app, db, world):
    maya, officer_user = world["maya"], world["officer"]
    officer = _signed_in(app, officer_user)
    record_page = officer.get(f"/vetting/people/{maya.id}").soup
    link = record_page.select_one(f"a[href='/vetting/people/{maya.id}/conflict-review']")
    assert link is not None and "Conflict review for Maya Brooks" in link.get_text()

    page = officer.get(f"/vetting/people/{maya.id}/conflict-review")
    text = " ".join(page.soup.get_text(" ").split())
    assert page.soup.select_one("h1").get_text(strip=True) == "Conflict review: Maya Brooks"
    assert "Conflict review needed before any deployment" in text
    assert "Private security or cyber-security consultancy" in text
    assert page.soup.select_one("a.govuk-back-link")["href"] == f"/vetting/people/{maya.id}"
    # A health line of work only asks for the employer's permission; hers does not.
    assert page.soup.select_one("input[name=employer_permission]") is None

    response = _record(
        officer,
        maya,
        findings=["conflicts", "not_suitable"],
        organisations="Northgate Digital\nCityBank plc",
        wards="E05013580",
        task_types=["ct_digital_support"],
        notes="Redline's client list names Northgate and CityBank; she lives in Belsize.",
    )
    assert response.status_code == 302
    db.expire_all()
    review = db.scalars(select(ConflictReview).where(ConflictReview.volunteer_id == maya.id)).one()
    assert review.outcome is Outcome.CONFLICTS_AND_NOT_SUITABLE
    assert review.recorded_by_id == officer_user.id
    assert review.lines_of_work == "private_security_cyber" and review.employer == "Redline Security Ltd"
    assert [(f.organisation, f.ward_id, f.task_type_code) for f in review.findings] == [
        ("Northgate Digital", None, None),
        ("CityBank plc", None, None),
        (None, world["wards"]["belsize"].id, None),
        (None, None, "ct_digital_support"),
    ]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "conflict_review.recorded")).one()
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (officer_user.id, "volunteer", str(maya.id))
    detail = json.loads(entry.detail)
    assert detail["outcome"] == "conflicts_and_not_suitable"
    assert detail["organisations"] == ["Northgate Digital", "CityBank plc"]
    assert detail["wards"] == ["E05013580"] and detail["task_types"] == ["ct_digital_support"]
    assert "lives in Belsize" not in entry.detail  # the reasons stay on the review
    viewed = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "vetting_record.viewed", AuditEntry.actor_id == officer_user.id)
    ).all()
    assert any(json.loads(e.detail) == {"page": "conflict_review"} for e in viewed)

    # The page now shows what is in force, and the next review starts from it.
    page = officer.get(f"/vetting/people/{maya.id}/conflict-review").soup
    text = " ".join(page.get_text(" ").split())
    assert "Conflicts with organisations or wards; not suitable for some task types" in text
    assert "Belsize, Camden" in text and "Counter-terrorism" in text
    assert "by Olu Officer" in text
    assert page.select_one("textarea[name=organisations]").get_text().strip() == "Northgate Digital\nCityBank plc"
    assert page.select_one("textarea[name=wards]").get_text().strip() == "Belsize, Camden"
    assert page.select_one("input[name=findings][value=conflicts]").has_attr("checked")
    assert page.select_one("input[name=task_types][value=ct_digital_support]").has_attr("checked")
    assert page.select_one("textarea[name=notes]").get_text().strip() == ""

    # A second review replaces the first; the first stays as history.
    _record(officer, maya, findings=["no_conflict"], notes="Left Redline's client work.")
    db.expire_all()
    assert db.scalar(select(func.count(ConflictReview.id)).where(ConflictReview.volunteer_id == maya.id)) == 2
    page = officer.get(f"/vetting/people/{maya.id}/conflict-review").soup
    assert "Earlier conflict reviews" in page.get_text()


def test_a_coordinator_records_it_from_the_directory(app, db, world):
    maya = world["maya"]
    coordinator = _signed_in(app, world["coordinator"])
    page = coordinator.get(f"/volunteers/{maya.id}").soup
    text = " ".join(page.get_text(" ").split())
    assert "Conflict review needed before any deployment: Private security or cyber-security consultancy." in text
    link = page.select_one(f"a[href='/vetting/people/{maya.id}/conflict-review']")
    assert link is not None and "Record the conflict review" in link.get_text()
    form_page = coordinator.get(link["href"]).soup
    assert form_page.select_one("a.govuk-back-link")["href"] == f"/volunteers/{maya.id}"

    _record(coordinator, maya, findings=["no_conflict"], notes="Secret words ZEBRA-7731")
    page = coordinator.get(f"/volunteers/{maya.id}").soup
    text = " ".join(page.get_text(" ").split())
    assert "Conflict review needed" not in text
    assert "No conflict of interest, recorded" in text and "by Cora Coordinator" in text
    assert "ZEBRA-7731" not in text  # the reasons are on the review's own page, not in the directory
    db.expire_all()
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "conflict_review.recorded")).one()
    assert entry.actor_id == world["coordinator"].id


def test_health_staff_need_their_employers_permission(app, db, world):
    nurse = _ready(
        db,
        world["kx"],
        "Rosa Mendes",
        occupation="Paramedic",
        employer="London Ambulance Service",
        occupation_category=OccupationCategory.NHS_AMBULANCE,
        military_reservist=True,
    )
    officer = _signed_in(app, world["officer"])
    page = officer.get(f"/vetting/people/{nurse.id}/conflict-review").soup
    assert "Health: NHS, ambulance or other medical work; Military reservist" in page.get_text()
    response = _record(officer, nurse, findings=["no_conflict"])
    assert response.status_code == 200
    assert error_messages(response.soup) == {
        "employer_permission": "Confirm that their employer has given permission for them to volunteer. Health "
        "staff are not deployed without it: record the review once it has been given"
    }
    response = _record(officer, nurse, findings=["no_conflict"], employer_permission="y")
    assert response.status_code == 302
    db.expire_all()
    review = db.scalars(select(ConflictReview).where(ConflictReview.volunteer_id == nurse.id)).one()
    assert review.employer_permission is True and review.lines_of_work == "military_reservist,nhs_ambulance"


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.VOLUNTEER])
def test_nobody_else_may_see_or_record_it(app, db, world, role):
    maya = world["maya"]
    user = world["sergeant"] if role is Role.SERGEANT else maya.user
    client = _signed_in(app, user)
    assert client.get(f"/vetting/people/{maya.id}/conflict-review").status_code == 403
    token = client.csrf_token("/")
    response = client.post(
        f"/vetting/people/{maya.id}/conflict-review",
        data={"csrf_token": token, "findings": "no_conflict", "notes": "Sneaky"},
    )
    assert response.status_code == 403
    db.expire_all()
    assert db.scalar(select(func.count(ConflictReview.id))) == 0


def test_an_unknown_person_or_someone_who_has_left(app, db, world):
    officer = _signed_in(app, world["officer"])
    assert officer.get("/vetting/people/999999/conflict-review").status_code == 404
    left = _consultant(db, world["kx"], "Lee Left", status=VolunteerStatus.LEFT)
    response = _record(officer, left, findings=["no_conflict"])
    assert response.status_code == 302
    page = officer.get(response.location).soup
    assert "Lee Left is no longer volunteering with us: there is nothing to review." in page.get_text()
    db.expire_all()
    assert db.scalar(select(func.count(ConflictReview.id))) == 0


# ---- Bad input -------------------------------------------------------------------------------------------

LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"notes": ""},
            {
                "findings": "Choose what the review found",
                "notes": "Enter what the review looked at and why you reached this outcome",
            },
        ),
        ({"findings": ["no_conflict"], "notes": LONG}, {"notes": "The reasons must be 4,000 characters or fewer"}),
        ({"findings": ["conflicts"], "organisations": LONG}, {"organisations": "Enter 8,100 characters or fewer"}),
        ({"findings": ["conflicts"], "wards": LONG}, {"wards": "Enter 8,100 characters or fewer"}),
        ({"findings": ["pirates"]}, {"findings": "Choose what the review found from the list"}),
        (
            {"findings": ["not_suitable"], "task_types": ["no_such_task"]},
            {"task_types": "Choose task types from the list"},
        ),
        (
            {"findings": ["no_conflict", "conflicts"], "organisations": "Northgate Digital"},
            {"findings": "Choose ‘No conflict of interest’ on its own, or only what the review found"},
        ),
        (
            {"findings": ["conflicts"]},
            {"organisations": "Enter the organisations or wards they have a conflict of interest with"},
        ),
        (
            {"findings": ["no_conflict"], "organisations": "Northgate Digital"},
            {
                "organisations": "You have entered organisations, but not chosen ‘Conflicts with organisations or "
                "wards’: choose it, or clear this box"
            },
        ),
        (
            {"findings": ["conflicts"], "wards": "Nowhere Green, Camden"},
            {
                "wards": "‘Nowhere Green, Camden’ is not a ward we know: enter its name and borough, as in ‘King's "
                "Cross, Camden’, or its code (E05 and six digits)"
            },
        ),
        (
            {"findings": ["conflicts"], "organisations": "A" * 200},
            {"organisations": f"Each organisation’s name must be 160 characters or fewer: ‘{'A' * 40}…’ is 200"},
        ),
        (
            {"findings": ["conflicts"], "organisations": "Northgate\n-"},
            {"organisations": "‘-’ is too short to name an organisation: enter its full name"},
        ),
        ({"findings": ["not_suitable"]}, {"task_types": "Choose the task types they are not suitable for"}),
        (
            {"findings": ["no_conflict"], "task_types": ["cyber_victim_visit"]},
            {
                "task_types": "You have chosen task types, but not ‘Not suitable for some task types’: choose it, "
                "or untick them"
            },
        ),
    ],
    ids=[
        "empty",
        "notes-10000",
        "organisations-10000",
        "wards-10000",
        "tampered-finding",
        "tampered-task",
        "no-conflict-and-conflicts",
        "conflicts-without-names",
        "names-without-conflicts",
        "unknown-ward",
        "organisation-too-long",
        "organisation-too-short",
        "not-suitable-without-tasks",
        "tasks-without-not-suitable",
    ],
)
def test_bad_input_is_shown_by_the_field_and_nothing_typed_is_lost(app, db, world, fields, expected):
    officer = _signed_in(app, world["officer"])
    response = _record(officer, world["maya"], **fields)
    assert response.status_code == 200
    soup = response.soup
    assert error_messages(soup) == expected
    assert soup.select_one("title").get_text().startswith("Error: ")
    # Everything typed is shown again (as text areas keep it), and every choice stays chosen.
    for name in ("organisations", "wards", "notes"):
        if fields.get(name) and name not in expected:
            assert soup.select_one(f"textarea[name={name}]").get_text().strip() == fields[name].strip()
    if "organisations" in expected and fields.get("organisations") not in (None, LONG):
        assert soup.select_one("textarea[name=organisations]").get_text().strip() == fields["organisations"].strip()
    if "wards" in expected and fields.get("wards") not in (None, LONG):
        assert soup.select_one("textarea[name=wards]").get_text().strip() == fields["wards"].strip()
    known = {"conflicts", "not_suitable", "no_conflict"}
    for value in set(fields.get("findings", ())) & known:
        assert soup.select_one(f"input[name=findings][value={value}]").has_attr("checked")
    for value in set(fields.get("task_types", ())) - {"no_such_task"}:
        assert soup.select_one(f"input[name=task_types][value={value}]").has_attr("checked")
    db.expire_all()
    assert db.scalar(select(func.count(ConflictReview.id))) == 0


def test_a_ward_name_more_than_one_borough_has_must_say_which(app, db, world):
    from core.geography.models import Borough, Ward

    for borough in ("Merton", "Barking and Dagenham"):
        borough_id = db.scalar(select(Borough.id).where(Borough.name == borough))
        db.add(Ward(code=f"E0599{borough_id:04d}", name="Abbey", borough_id=borough_id, latitude=51.5, longitude=-0.1))
    db.commit()
    officer = _signed_in(app, world["officer"])
    response = _record(officer, world["maya"], findings=["conflicts"], wards="abbey")
    assert response.status_code == 200
    (message,) = error_messages(response.soup).values()
    assert message.startswith("More than one borough has a ward called ‘abbey’: add the borough, as in ‘Abbey, ")
    response = _record(officer, world["maya"], findings=["conflicts"], wards="abbey, merton")
    assert response.status_code == 302
