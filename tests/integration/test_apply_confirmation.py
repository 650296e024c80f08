"""/apply without enumeration (issue #18): the same reply for every address, an email confirmation before
anything reaches an account or the vetting queue, and a throttle per client address. Mail is read from a
real SMTP server on a loopback port."""

from __future__ import annotations

import datetime as dt
import re
import socket

import pytest
from sqlalchemy import func, select

from core.auth.models import SecurityEvent, User
from tests.helpers import error_messages, make_volunteer
from tests.integration.conftest import body
from vetting.models import ReviewKind, VettingReview
from volunteers import services
from volunteers.models import PendingApplication, Volunteer, VolunteerKind, VolunteerStatus

APPLICATION = {
    "full_name": "Amira Haddad",
    "email": "amira@test.example",
    "phone": "07700 900982",
    "kind": "psv",
    "password": "orbit lantern purple",
}
LINK = re.compile(r"http://127\.0\.0\.1:5000(/apply/confirm/[\w-]+)")


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def link_in(envelope) -> str:
    return LINK.search(body(envelope)).group(1)


def reply_page(client, response) -> str:
    """The page an applicant lands on, with the address it shows taken out."""
    assert response.status_code == 302 and response.location == "/apply/check-your-email"
    page = client.get(response.location)
    text = " ".join(page.soup.select_one("main").get_text().split())
    return text


def test_apply_replies_the_same_for_new_and_known_emails(app, smtp, db):
    known = make_volunteer(db, email="known@test.example")
    new_reply = app.test_client()
    known_reply = app.test_client()
    new_page = reply_page(new_reply, new_reply.submit("/apply", APPLICATION))
    known_page = reply_page(known_reply, known_reply.submit("/apply", {**APPLICATION, "email": "KNOWN@test.example"}))
    assert new_page.startswith("Check your email We have sent an email to amira@test.example.")
    assert new_page.replace("amira@test.example", "X") == known_page.replace("KNOWN@test.example", "X")
    # Nothing was made for the known address: no second account, no application, no review.
    assert count(db, User) == 1 and count(db, Volunteer) == 1 and count(db, VettingReview) == 0
    db.expire_all()
    assert [p.email for p in db.scalars(select(PendingApplication))] == ["amira@test.example"]
    assert [m.rcpt_tos for m in smtp.messages] == [["amira@test.example"], [known.user.email]]


def test_the_owner_of_a_known_address_is_told_someone_tried_and_nothing_typed_reaches_them(client, smtp, db):
    known = make_volunteer(db)
    typed = {**APPLICATION, "email": known.user.email, "full_name": "Click https://evil.example now"}
    client.submit("/apply", typed)
    [message] = smtp.messages
    text = body(message)
    assert "Someone tried to apply with your email address" in message.content.decode()
    assert "already has an account" in text and "Nothing has changed" in text
    assert "http://127.0.0.1:5000/sign-in" in text and "/apply/confirm/" not in text
    assert "evil.example" not in text and APPLICATION["phone"] not in text
    db.expire_all()
    event = db.scalars(select(SecurityEvent).where(SecurityEvent.event == "application_for_existing_account")).one()
    assert event.user_id == known.user_id and "@" not in event.detail and event.address == "127.0.0.1"


def test_confirming_the_email_moves_the_application_into_the_vetting_queue(client, smtp, db):
    client.submit("/apply", APPLICATION)
    [message] = smtp.messages
    assert "Amira" not in body(message)  # nothing typed goes into the email, not even the name
    link = link_in(message)
    # Opening the link changes nothing (mail scanners open links): it shows a button.
    page = client.get(link)
    assert page.soup.select_one("h1").get_text(strip=True) == "Confirm your application"
    assert count(db, User) == 0 and count(db, VettingReview) == 0

    confirmed = client.submit(link, {})
    assert confirmed.status_code == 302 and confirmed.location == "/sign-in"
    volunteer = db.scalars(select(Volunteer)).one()
    assert volunteer.kind is VolunteerKind.PSV and volunteer.status is VolunteerStatus.APPLIED
    assert volunteer.user.email == "amira@test.example" and volunteer.user.full_name == "Amira Haddad"
    assert volunteer.phone == "07700 900982" and volunteer.monthly_commitment_minutes is None
    review = db.scalars(select(VettingReview)).one()
    assert review.kind is ReviewKind.NEW_APPLICATION and review.volunteer_id == volunteer.id
    assert count(db, PendingApplication) == 0

    signed_in = client.submit("/sign-in", {"email": "amira@test.example", "password": APPLICATION["password"]})
    assert signed_in.status_code == 302
    profile = client.get("/profile")
    assert "Application with vetting" in profile.soup.get_text()

    # The link worked once.
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    again = client.get(link)
    assert again.soup.select_one("h1").get_text(strip=True) == "This link has expired or has already been used"
    assert client.submit(link, {}, token_from="/apply").soup.select_one("h1").get_text(strip=True) == (
        "This link has expired or has already been used"
    )
    assert count(db, Volunteer) == 1


def test_a_special_gets_the_default_monthly_commitment_once_confirmed(client, smtp, db):
    client.submit("/apply", {**APPLICATION, "kind": "special"})
    client.submit(link_in(smtp.messages[0]), {})
    assert db.scalars(select(Volunteer)).one().monthly_commitment_minutes == 16 * 60


def test_an_unconfirmed_application_never_reaches_the_queue_and_expires(app, client, smtp, db):
    client.submit("/apply", APPLICATION)
    token = link_in(smtp.messages[0]).rsplit("/", 1)[1]
    assert count(db, User) == 0 and count(db, Volunteer) == 0 and count(db, VettingReview) == 0
    pending = db.scalars(select(PendingApplication)).one()
    assert pending.expires_at - pending.created_at == dt.timedelta(hours=48)
    assert pending.token_hash != token and "orbit" not in pending.password_hash  # both stored hashed
    later = pending.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(services.ApplicationLinkError, match="expired or has already been used"):
        services.confirm_application(db, token, now=later)
    # The next application (from anyone) prunes what has expired.
    services.apply(
        db,
        **{**{k: v for k, v in APPLICATION.items() if k != "kind"}, "email": "other@test.example"},
        kind=VolunteerKind.PSV,
        address="192.0.2.1",
        policy=services.ApplyPolicy.from_config(app.config),
        send=lambda *message: None,
        confirm_link=lambda t: t,
        sign_in_link="/sign-in",
        now=later,
    )
    db.expire_all()
    assert [p.email for p in db.scalars(select(PendingApplication))] == ["other@test.example"]
    assert count(db, VettingReview) == 0


def test_the_daily_sweep_deletes_applications_whose_link_expired(app, client, smtp, db):
    client.submit("/apply", APPLICATION)
    pending = db.scalars(select(PendingApplication)).one()
    assert services.prune_expired_applications(db, pending.expires_at - dt.timedelta(seconds=1)) is None
    assert count(db, PendingApplication) == 1
    line = services.prune_expired_applications(db, pending.expires_at)
    assert line == "1 unconfirmed application deleted (link expired)." and count(db, PendingApplication) == 0
    with app.app_context():
        from core.seams import seams

        assert services.prune_expired_applications in seams().after_vetting_sweep


def test_of_two_applications_for_one_address_the_first_confirmed_wins(app, smtp, db):
    first, second = app.test_client(), app.test_client()
    first.submit("/apply", APPLICATION)
    second.submit("/apply", {**APPLICATION, "full_name": "Someone Else", "phone": "07700 900111"})
    first_link, second_link = link_in(smtp.messages[0]), link_in(smtp.messages[1])
    assert first.submit(second_link, {}).status_code == 302
    assert db.scalars(select(User)).one().full_name == "Someone Else"
    assert count(db, PendingApplication) == 0
    dead = first.submit(first_link, {}, token_from="/apply")
    assert dead.soup.select_one("h1").get_text(strip=True) == "This link has expired or has already been used"
    assert count(db, User) == 1


def test_apply_is_throttled_per_client_address(app, smtp, db):
    app.config.update(APPLY_FREE_PER_ADDRESS=2)
    client = app.test_client()
    for n in range(2):
        assert client.submit("/apply", {**APPLICATION, "email": f"a{n}@test.example"}).status_code == 302
    third = client.submit("/apply", {**APPLICATION, "email": "a3@test.example"})
    assert third.status_code == 200
    summary = third.soup.select_one(".govuk-error-summary").get_text()
    assert "too many applications from your internet connection" in summary and "Try again in 1 minute" in summary
    assert third.soup.select_one("#full_name")["value"] == "Amira Haddad"  # nothing typed is lost
    assert len(smtp.messages) == 2 and count(db, PendingApplication) == 2
    # Another address is not held up.
    elsewhere = app.test_client()
    token = elsewhere.csrf_token("/apply")
    response = elsewhere.post(
        "/apply",
        data={**APPLICATION, "email": "a4@test.example", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    assert response.status_code == 302 and len(smtp.messages) == 3


def test_one_address_gets_a_few_emails_an_hour_at_most_and_the_reply_does_not_change(app, smtp, db):
    app.config.update(APPLY_FREE_PER_EMAIL=1)
    known = make_volunteer(db)
    for email in ("amira@test.example", known.user.email):
        for _ in range(2):
            client = app.test_client()
            assert reply_page(client, client.submit("/apply", {**APPLICATION, "email": email}))
    assert [m.rcpt_tos for m in smtp.messages] == [["amira@test.example"], [known.user.email]]
    assert count(db, PendingApplication) == 1


def test_a_failing_mail_server_does_not_change_the_reply(app, client, db):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    assert reply_page(client, client.submit("/apply", APPLICATION))
    assert count(db, PendingApplication) == 1  # they can apply again; the operators' log has the failure


def test_the_check_your_email_page_needs_an_application_first(client):
    response = client.get("/apply/check-your-email")
    assert response.status_code == 302 and response.location == "/apply"


def test_bad_input_is_shown_by_the_field_and_nothing_is_sent(client, smtp, db):
    weak = client.submit("/apply", {**APPLICATION, "password": "password1234"})
    assert "too common" in error_messages(weak.soup)["password"]
    known = make_volunteer(db)
    # The password rule speaks before anything else, for known and new addresses alike.
    weak_known = client.submit("/apply", {**APPLICATION, "email": known.user.email, "password": "password1234"})
    assert error_messages(weak_known.soup) == error_messages(weak.soup)
    assert smtp.messages == [] and count(db, PendingApplication) == 0
