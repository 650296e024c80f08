"""One source of truth for task policy: the policies in force, as coordinators edited or added them, serve the
request forms, the request checks, the offer pages and emails, the vetting decision form and the matcher alike.
The built-in catalogue only seeds them.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.timeutil import london_to_utc, london_today
from matching.models import Offer, OfferStatus, SupportRequest
from tests.helpers import (
    date_fields,
    error_messages,
    make_kings_cross_and_belsize,
    make_user,
    make_volunteer,
)
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance, ReviewKind, TaskTypePolicy, VettingReview
from volunteers.models import AvailabilitySlot, VolunteerSkill, VolunteerStatus, WorkAdjustment
from volunteers.skills import SkillLevel

DAY = london_today() + dt.timedelta(days=4)
AT_2PM = london_to_utc(DAY, dt.time(14, 0))


def _signed_in(app, user):
    client = app.test_client()
    client.sign_in(user.email)
    return client


def _ready(db, ward, name: str, clearance: str, skill: str, **profile):
    """An active PSV with one clearance and one skill at expert level, free every day from 8am to 8pm."""
    profile.setdefault("travel_limit_km", 10)
    volunteer = make_volunteer(db, home_ward_id=ward.id, full_name=name, status=VolunteerStatus.ACTIVE, **profile)
    db.add(VolunteerSkill(volunteer_id=volunteer.id, skill_code=skill, level=SkillLevel.EXPERT))
    db.add(
        Clearance(
            volunteer_id=volunteer.id,
            type_code=clearance,
            state=ClearanceState.GRANTED,
            valid_from=london_today() - dt.timedelta(days=100),
            expires_on=london_today() + dt.timedelta(days=400),
        )
    )
    db.add_all(
        AvailabilitySlot(volunteer_id=volunteer.id, weekday=d, start_minute=8 * 60, end_minute=20 * 60)
        for d in range(7)
    )
    db.commit()
    return volunteer


def _form_data(page) -> dict:
    """What a browser would post from the page's main form, as it stands."""
    form = page.soup.select_one("main form[method=post]")
    data = {tag["name"]: tag.get("value", "") for tag in form.select("input[type=text], input[type=hidden]")}
    data |= {tag["name"]: tag.get_text() for tag in form.select("textarea")}
    data |= {tag["name"]: tag["value"] for tag in form.select("input[type=radio][checked]")}
    data |= {
        tag["name"]: (tag.select_one("option[selected]") or {"value": ""})["value"] for tag in form.select("select")
    }
    return data


def _edit_policy(coordinator, code: str, **changes) -> None:
    page = coordinator.get(f"/vetting/task-types/{code}")
    response = coordinator.post(f"/vetting/task-types/{code}", data=_form_data(page) | changes)
    assert response.status_code == 302, error_messages(response.soup)


def _request_details(ward, **overrides) -> dict:
    return {
        "title": "Sort the images from a seized phone",
        "description": "Summarise what is on the phone for the officer in the case.",
        "ward": str(ward.id),
        **date_fields("date", DAY),
        "start_time": "14:00",
        "end_time": "17:00",
        "duration": "120",
        "people_needed": "1",
        "all_or_nothing": "no",
        "priority": "routine",
        "warranted_only": "no",
        "organisation": "",
    } | overrides


def _match(client, item_id: int) -> None:
    client.post(f"/requests/{item_id}/match", data={"csrf_token": client.csrf_token(f"/requests/{item_id}")})


def _offered(db, item_id: int) -> list[str]:
    db.expire_all()
    return [
        offer.volunteer.user.full_name
        for offer in db.scalars(select(Offer).where(Offer.request_id == item_id).order_by(Offer.id))
        if offer.status is OfferStatus.OFFERED
    ]


# ---- A coordinator's edit reaches the request form and the matcher alike -------------------------


def test_a_task_type_no_longer_remote_is_refused_remotely_by_the_form_and_the_matcher(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    # Rita can only work remotely; Nina lives in the ward and can go to the station.
    _ready(db, kx, "Rita Remote", "NPPV3", "digital_evidence_triage", adjustment=WorkAdjustment.REMOTE_ONLY)
    _ready(db, kx, "Nina Nearby", "NPPV3", "digital_evidence_triage")
    sergeant_client = _signed_in(app, sergeant)
    url = "/requests/new/digital_evidence_triage"
    # The form the sergeant opened before the coordinator's change still offers remote work.
    before = sergeant_client.get(url).soup
    assert [i["value"] for i in before.select("input[name=remote]")] == ["no", "yes"]

    _edit_policy(_signed_in(app, make_user(db, Role.COORDINATOR)), "digital_evidence_triage", remote_possible="no")

    # The form no longer asks, and a remote answer posted from the page opened earlier is refused by its field.
    assert sergeant_client.get(url).soup.select_one("input[name=remote]") is None
    refused = sergeant_client.submit(url, _request_details(kx, remote="yes"))
    assert refused.status_code == 200
    assert error_messages(refused.soup) == {"remote": "Digital evidence triage cannot be done remotely. Choose No"}
    assert refused.soup.select_one("#title")["value"] == "Sort the images from a seized phone"  # nothing lost
    assert db.scalars(select(SupportRequest)).all() == []

    # Raised in the ward instead, the matcher applies the same edited policy: Rita, remote-only, is not offered it.
    raised = sergeant_client.submit(url, _request_details(kx))
    assert raised.status_code == 302
    item = db.scalars(select(SupportRequest)).one()
    assert item.remote is False
    _match(sergeant_client, item.id)
    assert _offered(db, item.id) == ["Nina Nearby"]


def test_a_task_type_made_remote_can_be_raised_remotely_and_is_matched_beyond_travel(app, db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    # Bea lives 3.8 km away and travels 2 km at most: she can only take this visit if it is remote.
    _ready(db, wards["belsize"], "Bea Belsize", "NPPV2F", "cyber_victim_support", travel_limit_km=2)
    sergeant_client = _signed_in(app, sergeant)
    url = "/requests/new/cyber_victim_visit"
    assert sergeant_client.get(url).soup.select_one("input[name=remote]") is None
    assert error_messages(sergeant_client.submit(url, _request_details(kx, remote="yes")).soup) == {
        "remote": "Cyber-crime victim visit cannot be done remotely. Choose No"
    }

    _edit_policy(_signed_in(app, make_user(db, Role.COORDINATOR)), "cyber_victim_visit", remote_possible="yes")

    page = sergeant_client.get(url).soup
    assert [i["value"] for i in page.select("input[name=remote]")] == ["no", "yes"]
    assert sergeant_client.submit(url, _request_details(kx, remote="yes")).status_code == 302
    item = db.scalars(select(SupportRequest)).one()
    assert item.remote is True
    _match(sergeant_client, item.id)
    assert _offered(db, item.id) == ["Bea Belsize"]


# ---- A task type the force adds ---------------------------------------------------------------------------


NEW_TYPE = {
    "name": "Fraud-prevention talk",
    "activity": "fraud-prevention talks",
    "description": "A talk to a community group about the scams going round the ward.",
    "clearances": "NPPV2A | NPPV2F",
    "unsupervised_clearances": "",
    "skills": "cyber_victim_support : practitioner",
    "warranted_only": "no",
    "minimum_patrol_status": "",
    "unsupervised_allowed": "no",
    "default_team_size": "2",
    "all_or_nothing": "no",
    "remote_possible": "no",
    "street_duty": "yes",
    "team_rule": "none",
}


def test_a_coordinator_adds_a_task_type_that_a_sergeant_raises_and_the_matcher_fills(app, db, smtp):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx], full_name="Sergeant Kaur")
    coordinator = _signed_in(app, make_user(db, Role.COORDINATOR))
    alice = _ready(db, kx, "Alice Adeyemi", "NPPV2F", "cyber_victim_support")
    _ready(db, kx, "Colin Cleared", "NPPV3", "cyber_victim_support")  # NPPV3 is not among those it accepts

    listing = coordinator.get("/vetting/task-types").soup
    add = listing.select_one("main a[href='/vetting/task-types/new']")
    assert add.get_text(strip=True) == "Add a task type"
    form = coordinator.get("/vetting/task-types/new").soup
    assert form.select_one("h1").get_text(strip=True) == "Add a task type"
    assert "NPPV level 2 (full)" in form.select_one("main details").get_text()  # which code is which
    response = coordinator.submit("/vetting/task-types/new", NEW_TYPE)
    assert response.status_code == 302 and response.location == "/vetting/task-types"
    row = db.scalars(select(TaskTypePolicy)).one()
    assert row.code == "fraud_prevention_talk"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "policy.task_type_added")).one()
    assert entry.subject_id == "fraud_prevention_talk"
    cards = [
        h.get_text(strip=True) for h in coordinator.get("/vetting/task-types").soup.select(".govuk-summary-card h2")
    ]
    assert cards[-1] == "Fraud-prevention talk"

    # The sergeant finds it among the kinds of task, with its description, and raises it.
    sergeant_client = _signed_in(app, sergeant)
    step_one = sergeant_client.get("/requests/new").soup
    choice = step_one.select_one("input[name=task_type][value=fraud_prevention_talk]")
    assert choice is not None
    assert "about the scams going round the ward" in choice.find_parent(class_="govuk-radios__item").get_text()
    chosen = sergeant_client.submit("/requests/new", {"task_type": "fraud_prevention_talk"})
    assert chosen.location.endswith("/requests/new/fraud_prevention_talk")
    details = sergeant_client.get("/requests/new/fraud_prevention_talk").soup
    assert details.select_one("#people_needed")["value"] == "2"  # its own default team
    raised = sergeant_client.submit(
        "/requests/new/fraud_prevention_talk",
        _request_details(kx, title="Talk at the tenants' hall", people_needed="1"),
    )
    assert raised.status_code == 302
    item = db.scalars(select(SupportRequest)).one()
    assert item.task_type_code == "fraud_prevention_talk"
    shown = " ".join(sergeant_client.get(f"/requests/{item.id}").soup.get_text().split())
    assert "Fraud-prevention talk" in shown
    listed = sergeant_client.get("/requests", query_string={"task_type": "fraud_prevention_talk"}).soup
    assert [a.get_text(strip=True) for a in listed.select("main table a")] == ["Talk at the tenants' hall"]

    # The matcher offers it to Alice only (Colin's clearance is not one it accepts); the email and the offer
    # page name it as the coordinator did.
    _match(sergeant_client, item.id)
    assert _offered(db, item.id) == ["Alice Adeyemi"]
    subjects = [env for env in smtp.messages if alice.user.email in env.rcpt_tos]
    assert len(subjects) == 1
    message = email.message_from_bytes(subjects[0].content, policy=email.policy.default)
    assert str(message["Subject"]).strip().startswith("Can you help? Fraud-prevention talk,")
    offer = db.scalars(select(Offer).where(Offer.request_id == item.id)).one()
    volunteer_client = _signed_in(app, alice.user)
    offer_page = " ".join(volunteer_client.get(f"/offers/{offer.id}").soup.get_text().split())
    assert "Fraud-prevention talk" in offer_page
    # Volunteers can ask for it, and vetting officers can rule it out of a clearance.
    preferences = volunteer_client.get("/profile/preferences").soup
    assert preferences.select_one("input[name=task_types][value=fraud_prevention_talk]") is not None
    review = VettingReview(
        volunteer_id=alice.id, kind=ReviewKind.NEW_APPLICATION, due_on=london_today() + dt.timedelta(days=9)
    )
    db.add(review)
    db.commit()
    officer = _signed_in(app, make_user(db, Role.VETTING_OFFICER))
    decision = officer.get(f"/vetting/reviews/{review.id}").soup
    assert decision.select_one("input[name=restrictions][value=fraud_prevention_talk]") is not None


def test_an_added_task_type_can_be_changed_and_a_built_in_one_keeps_its_name(app, db):
    coordinator = _signed_in(app, make_user(db, Role.COORDINATOR))
    assert coordinator.submit("/vetting/task-types/new", NEW_TYPE).status_code == 302
    page = coordinator.get("/vetting/task-types/fraud_prevention_talk")
    assert page.soup.select_one("#name")["value"] == "Fraud-prevention talk"
    changed = _form_data(page) | {"name": "Scam-awareness talk", "clearances": "NPPV2F"}
    assert coordinator.post("/vetting/task-types/fraud_prevention_talk", data=changed).status_code == 302
    db.expire_all()
    policy_row = db.get(TaskTypePolicy, "fraud_prevention_talk")  # the code stays
    assert '"name":"Scam-awareness talk"' in policy_row.policy_json
    assert '"clearance_groups":[["NPPV2F"]]' in policy_row.policy_json
    assert [a.action for a in db.scalars(select(AuditEntry).where(AuditEntry.subject_type == "task_type"))] == [
        "policy.task_type_added",
        "policy.task_type_changed",
    ]
    # Its name may not take a built-in type's.
    clash = coordinator.post(
        "/vetting/task-types/fraud_prevention_talk",
        data=_form_data(page) | {"name": "cyber-crime VICTIM visit"},
    )
    assert error_messages(clash.soup) == {
        "name": "There is already a task type called Cyber-crime victim visit: choose another name"
    }
    # A built-in type's page asks only for its requirements.
    assert coordinator.get("/vetting/task-types/cyber_victim_visit").soup.select_one("#name") is None


def test_adding_a_task_type_checks_every_answer_by_its_field_and_keeps_what_was_typed(app, db):
    coordinator = _signed_in(app, make_user(db, Role.COORDINATOR))
    empty = coordinator.submit("/vetting/task-types/new", {})
    assert empty.status_code == 200
    assert error_messages(empty.soup) == {
        "name": "Enter the name",
        "activity": "Enter what people doing it are cleared for",
        "description": "Enter a description",
        "clearances": "Enter at least one clearance requirement",
        "warranted_only": "Choose yes or no",
        "unsupervised_allowed": "Choose yes or no",
        "default_team_size": "Enter the usual number of people",
        "all_or_nothing": "Choose yes or no",
        "remote_possible": "Choose yes or no",
        "street_duty": "Choose yes or no",
        "team_rule": "Choose who must be there besides one volunteer",
    }
    long = coordinator.submit(
        "/vetting/task-types/new",
        NEW_TYPE
        | {"name": "x" * 10_000, "activity": "y" * 10_000, "description": "z" * 10_000, "skills": "s" * 10_000},
    )
    assert error_messages(long.soup) == {
        "name": "Name must be 80 characters or fewer",
        "activity": "Activity must be 120 characters or fewer",
        "description": "Description must be 500 characters or fewer",
        "skills": "Skills must be 2,000 characters or fewer",
    }
    assert long.soup.select_one("#name")["value"] == "x" * 10_000  # nothing typed is lost
    duplicate = coordinator.submit("/vetting/task-types/new", NEW_TYPE | {"name": "  Public EVENT   support "})
    assert error_messages(duplicate.soup) == {
        "name": "There is already a task type called Public event support: choose another name"
    }
    no_clearance = coordinator.submit("/vetting/task-types/new", NEW_TYPE | {"clearances": " \r\n "})
    assert error_messages(no_clearance.soup) == {"clearances": "Enter at least one clearance requirement"}
    unknown = coordinator.submit(
        "/vetting/task-types/new", NEW_TYPE | {"clearances": "NPPV2F\r\nNPPV9", "skills": "knitting : expert"}
    )
    messages = error_messages(unknown.soup)
    assert messages["clearances"].startswith("Line 2: NPPV9 is not a clearance type")
    assert messages["skills"] == "Line 1: knitting is not a skill code"
    assert unknown.soup.select_one("#clearances").get_text() == "NPPV2F\r\nNPPV9"
    assert unknown.soup.select_one("#description").get_text() == NEW_TYPE["description"]
    bad_rule = coordinator.submit(
        "/vetting/task-types/new", NEW_TYPE | {"unsupervised_clearances": "DBS_ENH_CHILD", "unsupervised_allowed": "no"}
    )
    assert error_messages(bad_rule.soup) == {
        "unsupervised_clearances": "Unsupervised clearances set but unsupervised work not allowed"
    }
    tampered = coordinator.submit("/vetting/task-types/new", NEW_TYPE | {"remote_possible": "maybe"})
    assert "remote_possible" in error_messages(tampered.soup)
    assert db.scalars(select(TaskTypePolicy)).all() == []
    # A second type whose name makes the same code gets a numbered one.
    assert coordinator.submit("/vetting/task-types/new", NEW_TYPE).status_code == 302
    assert (
        coordinator.submit("/vetting/task-types/new", NEW_TYPE | {"name": "Fraud prevention talk!"}).status_code == 302
    )
    assert sorted(db.scalars(select(TaskTypePolicy.code))) == ["fraud_prevention_talk", "fraud_prevention_talk_2"]
