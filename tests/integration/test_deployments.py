"""After the deployment (issue #20): the sergeant confirms attendance and hours (or approves or corrects what
the volunteer logged), gives feedback only coordinators read; the volunteer answers a debrief whose "please
contact me" alerts every coordinator once; the request is completed once every booking is confirmed; and a
deployment nobody confirmed is chased by one email to the raising sergeant. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.models import Role
from core.db import utcnow
from matching.deployments import services
from matching.deployments.hours import parse_minutes
from matching.deployments.models import Deployment, DeploymentOutcome
from matching.models import OfferStatus, RequestStatus, SupportRequest
from tests.helpers import error_messages, make_offer, make_request, make_user, make_volunteer, make_wards
from tests.integration.conftest import body


def _hour(delta: dt.timedelta) -> dt.datetime:
    return (utcnow() + delta).replace(minute=0, second=0, microsecond=0)


class World:
    """Two wards; Sergeant Kaur keeps the first, Sergeant Ng the second; Alice was booked on a visit in the first
    that ended yesterday (or whenever ``start`` says)."""

    def __init__(self, db, start: dt.timedelta = dt.timedelta(days=-1), people: int = 1):
        self.db = db
        self.wards = make_wards(db, "Camden", 2)
        self.sergeant = make_user(db, Role.SERGEANT, wards=[self.wards[0]], full_name="Sergeant Kaur")
        self.colleague = make_user(db, Role.SERGEANT, wards=[self.wards[0]], full_name="Sergeant Patel")
        self.other = make_user(db, Role.SERGEANT, wards=[self.wards[1]], full_name="Sergeant Ng")
        self.alice = make_volunteer(db, full_name="Alice Smith", home_ward_id=self.wards[0].id)
        self.item = make_request(
            db,
            self.wards[0],
            _hour(start),
            title="Visit after a phone scam",
            created_by_id=self.sergeant.id,
            people_needed=people,
            duration_minutes=90,
        )
        self.offer = make_offer(db, self.alice, self.item, OfferStatus.ACCEPTED)


def _confirm(client, offer_id: int, **fields):
    data = {"attended": "yes", "served": "2h 30m"} | fields
    return client.submit(f"/deployments/{offer_id}/confirm", data)


def _actions(db) -> list[str]:
    return list(
        db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("deployment.%")).order_by(AuditEntry.seq))
    )


def test_hours_are_read_as_people_type_them():
    assert parse_minutes("2.5") == parse_minutes("2h 30m") == parse_minutes("2:30") == 150
    assert parse_minutes("2 hours 30 minutes") == parse_minutes("2,5") == 150
    assert parse_minutes("45 mins") == 45
    assert parse_minutes("0") == 0
    for bad in ("", "abc", "-1", "2h 75m", "1e3", "2.5.5", "x" * 10_000):
        assert parse_minutes(bad) is None, bad


def test_the_sergeant_confirms_attendance_and_hours_and_the_request_is_completed(client, db):
    w = World(db)
    client.sign_in(w.sergeant.email)
    home = client.get("/")
    assert home.soup.select_one("#confirm-what-happened") is not None
    link = home.soup.select_one(f"a[href='/deployments/{w.offer.id}/confirm']")
    assert "Alice Smith" in link.get_text()
    page = client.get(f"/deployments/{w.offer.id}/confirm")
    assert page.soup.select_one("h1").get_text() == "Confirm what happened"
    assert page.soup.select_one("#served")["value"] == "1.5"  # the booked length, to check or change
    response = _confirm(client, w.offer.id, helpful="yes", would_ask_again="yes", coordinator_note="Calm and kind.")
    assert response.status_code == 302
    assert response.location.endswith(f"/requests/{w.item.id}#what-happened")
    db.expire_all()
    row = db.scalars(select(Deployment)).one()
    assert (row.outcome, row.served_minutes, row.confirmed_by_id) == (DeploymentOutcome.ATTENDED, 150, w.sergeant.id)
    assert (row.helpful, row.would_ask_again, row.coordinator_note) == (True, True, "Calm and kind.")
    assert db.get(SupportRequest, w.item.id).status is RequestStatus.COMPLETED
    assert _actions(db) == ["deployment.confirmed", "deployment.feedback_given"]
    # The request page says what happened, and never the feedback (that is for the coordinators).
    shown = client.get(f"/requests/{w.item.id}")
    section = shown.soup.select_one("#what-happened").find_next("ul").get_text(" ", strip=True)
    assert "Attended" in section and "2 hours 30 minutes" in section
    assert "Calm and kind" not in shown.get_data(as_text=True)
    # A second confirmation is told plainly who recorded it.
    again = client.get(f"/deployments/{w.offer.id}/confirm")
    assert again.soup.select_one("form[method=post] #attended") is None
    assert "Calm and kind" not in again.get_data(as_text=True)


def test_nothing_can_be_confirmed_before_the_deployment_ends(client, db):
    # Started on the hour 30 to 90 minutes ago and lasts 90 minutes, so it is under way whatever the minute now
    # (an hour before, truncated to the hour, had ended already from half past).
    w = World(db, start=dt.timedelta(minutes=-30))
    client.sign_in(w.sergeant.email)
    page = client.get(f"/deployments/{w.offer.id}/confirm")
    assert "once the deployment has ended" in page.soup.select_one(".govuk-inset-text").get_text()
    response = _confirm(client, w.offer.id)
    assert response.status_code == 302
    shown = client.get(response.location)
    assert "once the deployment has ended" in shown.soup.select_one(".govuk-error-summary").get_text()
    assert db.scalars(select(Deployment)).all() == []
    with pytest.raises(services.DeploymentError, match="once the deployment has ended"):
        services.confirm(
            db, w.sergeant, w.offer.id, services.Confirmation(attended=True, served_minutes=60), b"k" * 32, utcnow()
        )


def test_the_volunteer_logs_hours_and_the_sergeant_approves_them(client, db):
    w = World(db)
    client.sign_in(w.alice.user.email)
    offer_page = client.get(f"/offers/{w.offer.id}")
    assert offer_page.soup.select_one("#after-the-deployment") is not None
    assert client.submit(f"/deployments/{w.offer.id}/log-hours", {"hours": "2.5"}).status_code == 302
    row = db.scalars(select(Deployment)).one()
    assert (row.outcome, row.logged_minutes) == (DeploymentOutcome.LOGGED, 150)

    sergeant = client.application.test_client()
    sergeant.sign_in(w.colleague.email)  # any sergeant of the ward may confirm, not only the one who raised it
    assert "Hours logged by the volunteer: 2 hours 30 minutes" in sergeant.get("/").get_data(as_text=True)
    assert sergeant.get(f"/deployments/{w.offer.id}/confirm").soup.select_one("#served")["value"] == "2.5"
    assert _confirm(sergeant, w.offer.id, served="2.5").status_code == 302
    db.expire_all()
    assert (row.outcome, row.served_minutes, row.confirmed_by_id) == (DeploymentOutcome.ATTENDED, 150, w.colleague.id)
    assert _actions(db) == ["deployment.hours_logged", "deployment.confirmed"]
    # Confirmed: the volunteer can no longer change their log, and sees the hours served.
    refused = client.submit(f"/deployments/{w.offer.id}/log-hours", {"hours": "3"})
    assert refused.status_code == 302
    shown = client.get(refused.location)
    assert "already confirmed" in shown.soup.select_one(".govuk-error-summary").get_text()
    assert "Hours served: 2 hours 30 minutes" in client.get(f"/offers/{w.offer.id}").get_data(as_text=True)


def test_the_sergeant_corrects_the_hours_the_volunteer_logged(client, db):
    w = World(db)
    services.log_hours(db, w.alice.user_id, w.offer.id, 240, b"k" * 32, utcnow())
    client.sign_in(w.sergeant.email)
    assert _confirm(client, w.offer.id, served="2").status_code == 302
    row = db.scalars(select(Deployment)).one()
    db.refresh(row)
    assert (row.logged_minutes, row.served_minutes) == (240, 120)
    assert "deployment.hours_corrected" in _actions(db)


def test_did_not_attend_without_notice(client, db):
    w = World(db)
    client.sign_in(w.sergeant.email)
    missing = _confirm(client, w.offer.id, attended="no", served="")
    assert error_messages(missing.soup) == {"notice": "Choose whether they let the team know they could not come"}
    assert _confirm(client, w.offer.id, attended="no", served="", notice="no", would_ask_again="no").status_code == 302
    row = db.scalars(select(Deployment)).one()
    assert (row.outcome, row.no_notice, row.served_minutes) == (DeploymentOutcome.DID_NOT_ATTEND, True, None)
    assert row.would_ask_again is False


def test_a_sergeant_of_another_ward_and_the_volunteer_cannot_confirm(client, db):
    w = World(db)
    client.sign_in(w.other.email)
    assert client.get(f"/deployments/{w.offer.id}/confirm").status_code == 404
    assert _confirm(client, w.offer.id).status_code == 404
    assert client.get("/deployments/to-confirm").soup.select_one(f"a[href='/deployments/{w.offer.id}/confirm']") is None
    volunteer = client.application.test_client()
    volunteer.sign_in(w.alice.user.email)
    assert volunteer.get(f"/deployments/{w.offer.id}/confirm").status_code == 403
    assert db.scalars(select(Deployment)).all() == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"served": ""}, "served", "Enter the hours served, like 2.5 or 2h 30m"),
        ({"served": "about two"}, "served", "Enter the hours served as a number of hours, like 2.5 or 2h 30m"),
        ({"served": "25"}, "served", "The hours served must be 24 hours or fewer"),
        ({"served": "9" * 10_000}, "served", "Enter 500 characters or fewer"),
        ({"attended": "maybe"}, "attended", "Choose whether the volunteer attended"),
        ({"helpful": "perhaps"}, "helpful", "Choose yes or no"),
        ({"coordinator_note": "x" * 10_000}, "coordinator_note", "The note must be 1,000 characters or fewer"),
    ],
    ids=["empty", "words", "too-many", "10000-digits", "tampered-attended", "tampered-helpful", "long-note"],
)
def test_bad_input_is_a_message_by_the_field_and_nothing_typed_is_lost(client, db, fields, field, message):
    w = World(db)
    client.sign_in(w.sergeant.email)
    response = _confirm(client, w.offer.id, **({"coordinator_note": "Kept as typed"} | fields))
    assert response.status_code == 200
    assert error_messages(response.soup)[field] == message
    if field != "coordinator_note":
        assert response.soup.select_one("#coordinator_note").get_text() == "Kept as typed"
    if field == "served" and fields["served"]:
        assert response.soup.select_one("#served")["value"] == fields["served"][:10_000]
    assert db.scalars(select(Deployment)).all() == []


def test_the_request_is_completed_only_once_every_booking_is_confirmed(client, db):
    w = World(db, people=2)
    bob = make_volunteer(db, full_name="Bob Jones", home_ward_id=w.wards[0].id)
    second = make_offer(db, bob, w.item, OfferStatus.ACCEPTED)
    assert db.get(SupportRequest, w.item.id).status is RequestStatus.FILLED
    db.expire_all()
    client.sign_in(w.sergeant.email)
    _confirm(client, w.offer.id)
    db.expire_all()
    assert db.get(SupportRequest, w.item.id).status is RequestStatus.FILLED
    _confirm(client, second.id, attended="no", served="", notice="yes")
    db.expire_all()
    assert db.get(SupportRequest, w.item.id).status is RequestStatus.COMPLETED
    # A completed request stays completed whatever refreshes its status from its offers.
    from matching.offers.services import refresh_status

    refresh_status(db, [w.item.id])
    db.commit()
    assert db.get(SupportRequest, w.item.id).status is RequestStatus.COMPLETED


def test_two_confirmations_at_once_give_one_record_and_a_clear_message(client, db):
    w = World(db)
    key = b"k" * 32
    services.confirm(
        db, w.colleague, w.offer.id, services.Confirmation(attended=True, served_minutes=60), key, utcnow()
    )
    client.sign_in(w.sergeant.email)
    # The second sergeant's form was open before the first saved: their POST is refused plainly.
    response = _confirm(client, w.offer.id)
    assert response.status_code in (200, 302)
    page = client.get(f"/deployments/{w.offer.id}/confirm")
    assert "Sergeant Patel" in page.get_data(as_text=True)
    with pytest.raises(services.DeploymentError, match="already recorded by Sergeant Patel"):
        services.confirm(
            db, w.sergeant, w.offer.id, services.Confirmation(attended=False, served_minutes=None), key, utcnow()
        )
    assert len(db.scalars(select(Deployment)).all()) == 1


def test_an_unconfirmed_deployment_is_chased_once_by_email_to_the_raising_sergeant(app, db, smtp):
    from matching.tasks import chase_unconfirmed_deployments

    w = World(db, start=dt.timedelta(days=-4))
    recent = make_request(db, w.wards[0], _hour(dt.timedelta(days=-1)), title="Yesterday", created_by_id=w.sergeant.id)
    make_offer(db, w.alice, recent, OfferStatus.ACCEPTED)
    with app.app_context():
        chase_unconfirmed_deployments()
        chase_unconfirmed_deployments()  # the next hour: nothing new to chase
    assert [m.rcpt_tos for m in smtp.messages] == [[w.sergeant.email]]
    text = body(smtp.messages[0])
    assert "Alice Smith" in text and f"/deployments/{w.offer.id}/confirm" in text
    assert "Yesterday" not in text
    rows = db.scalars(select(Deployment)).all()
    assert [(r.offer_id, r.outcome) for r in rows] == [(w.offer.id, DeploymentOutcome.AWAITING)]
    assert rows[0].chased_at is not None


def test_feedback_is_for_coordinators_only(client, db):
    w = World(db)
    services.confirm(
        db,
        w.sergeant,
        w.offer.id,
        services.Confirmation(
            attended=True, served_minutes=90, helpful=False, would_ask_again=False, coordinator_note="Late and rude."
        ),
        b"k" * 32,
        utcnow(),
    )
    coordinator = make_user(db, Role.COORDINATOR)
    client.sign_in(coordinator.email)
    page = client.get(f"/volunteers/{w.alice.id}")
    section = page.soup.select_one("#deployments-and-feedback").find_next("dl").get_text(" ", strip=True)
    assert "Late and rude. (Sergeant Kaur)" in section and "Would ask again? No" in section
    # Not the volunteer: their offer page, home page and data download.
    volunteer = client.application.test_client()
    volunteer.sign_in(w.alice.user.email)
    for path in (f"/offers/{w.offer.id}", "/", "/profile/your-data.json"):
        assert "Late and rude" not in volunteer.get(path).get_data(as_text=True), path
    assert "deployment_records" in volunteer.get("/profile/your-data.json").get_data(as_text=True)
    # Not a sergeant of another ward (not found), nor even the ward's own (the page says feedback was given).
    other = client.application.test_client()
    other.sign_in(w.other.email)
    assert other.get(f"/deployments/{w.offer.id}/confirm").status_code == 404
    assert other.get(f"/volunteers/{w.alice.id}").status_code == 403
    own = client.application.test_client()
    own.sign_in(w.colleague.email)
    text = own.get(f"/deployments/{w.offer.id}/confirm").get_data(as_text=True)
    assert "Late and rude" not in text and "Given to the coordinators" in text


def test_welfare_yes_alerts_every_coordinator_once_and_they_mark_it_contacted(app, client, db, smtp):
    w = World(db)
    first = make_user(db, Role.COORDINATOR, full_name="Coordinator One")
    second = make_user(db, Role.COORDINATOR, full_name="Coordinator Two")
    make_user(db, Role.COORDINATOR, is_disabled=True)
    client.sign_in(w.alice.user.email)
    assert client.get("/").soup.select_one("#how-did-it-go") is not None
    page = client.get(f"/deployments/{w.offer.id}/debrief")
    assert page.soup.select_one("h1").get_text() == "How did it go?"
    refused = client.submit(f"/deployments/{w.offer.id}/debrief", {"note": "Hard.", "affected": "yes"})
    assert error_messages(refused.soup) == {"contact_wanted": "Choose whether you would like someone to contact you"}
    assert refused.soup.select_one("#note").get_text() == "Hard."
    answers = {"note": "The victim was very upset.", "affected": "yes", "contact_wanted": "yes"}
    assert client.submit(f"/deployments/{w.offer.id}/debrief", answers).status_code == 302
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted([first.email, second.email])
    assert all("very upset" not in body(m) for m in smtp.messages)  # the answers stay behind the sign-in
    # Once: the question is not asked again, and a second answer sends nothing.
    assert client.get("/").soup.select_one("#how-did-it-go") is None
    client.submit(f"/deployments/{w.offer.id}/debrief", answers, token_from="/")
    assert len(smtp.messages) == 2
    row = db.scalars(select(Deployment)).one()
    assert row.welfare_alerted_at is not None

    coordinator = client.application.test_client()
    coordinator.sign_in(first.email)
    assert "1 volunteer has asked" in coordinator.get("/").soup.select_one("#welfare").find_next("p").get_text(
        " ", strip=True
    )
    listed = coordinator.get("/deployments/welfare")
    assert "The victim was very upset." in listed.get_data(as_text=True)
    assert (
        coordinator.submit(
            f"/deployments/welfare/{row.id}/contacted", {}, token_from="/deployments/welfare"
        ).status_code
        == 302
    )
    db.refresh(row)
    assert row.welfare_contacted_by_id == first.id
    assert "Nobody is waiting" in coordinator.get("/deployments/welfare").get_data(as_text=True)
    assert _actions(db) == ["deployment.debriefed", "deployment.welfare_alerted", "deployment.welfare_contacted"]
    # A sergeant never sees the welfare list.
    sergeant = client.application.test_client()
    sergeant.sign_in(w.sergeant.email)
    assert sergeant.get("/deployments/welfare").status_code == 403
