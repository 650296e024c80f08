"""Everyone told in time (issue #20), read from a real SMTP server: each email once, to the right person.

The sergeant hears when an offer is accepted, declined (with who was asked next) or withdrawn, and when a run
could not fill a request; the volunteer gets a booking confirmation with a calendar file and a reminder the
day before. Notifications are recorded in the event's transaction and sent after it commits, never if it
rolls back; a sergeant who chose one email a day gets nothing at once and one digest at 7am London time.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import icalendar
import pytest
from sqlalchemy import select, update

from core.auth.models import Role
from core.db import utcnow
from core.mail import MailError
from core.timeutil import london_to_utc, london_today
from matching.models import Offer, OfferStatus, RunScope
from matching.notifications import delivery
from matching.notifications.events import offers_unavailable, record_reminders
from matching.notifications.models import Notification, NotificationKind, NotificationPreference
from matching.notifications.services import PENDING_KEY, record
from matching.runs.services import queue_run
from matching.tasks import notifications_due, run_now
from tests.helpers import check_page, error_messages, make_kings_cross_and_belsize, make_offer, make_request, make_user
from tests.integration.conftest import body
from tests.integration.test_eligibility_gate import AT_2PM, DAY, _ready
from tests.integration.vetting_factories import signed_in, volunteer_client


def _parsed(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def _to(smtp, address: str) -> list[tuple[str, str, email.message.EmailMessage]]:
    """(subject, text, message) of every message to ``address`` so far."""
    return [
        (_parsed(m)["Subject"], body(m).replace("\r\n", "\n"), _parsed(m))
        for m in smtp.messages
        if address in m.rcpt_tos
    ]


def _world(db):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx], full_name="Sergeant Kaur")
    carol = _ready(db, kx, "Carol Jones")
    item = make_request(db, kx, start=AT_2PM, title="Advice after a romance scam", created_by_id=sergeant.id)
    return {"wards": wards, "kx": kx, "sergeant": sergeant, "carol": carol, "item": item}


def _digest(db, user):
    db.add(NotificationPreference(user_id=user.id, daily_digest=True))
    db.commit()


# ---- Accepted: the sergeant told, the volunteer confirmed with a calendar file ----------------------------


def test_an_accept_tells_the_sergeant_once_and_confirms_the_booking_with_a_calendar_file(app, db, smtp):
    w = _world(db)
    offer = make_offer(db, w["carol"], w["item"])

    client = volunteer_client(app, w["carol"])
    response = client.submit(f"/offers/{offer.id}/accept", {}, token_from=f"/offers/{offer.id}")
    assert response.status_code == 302

    ((subject, text, message),) = _to(smtp, w["sergeant"].email)
    assert subject == "Accepted: Advice after a romance scam"
    assert text.startswith("Dear Sergeant Kaur,")
    assert "Carol Jones has accepted this request" in text and "The request is filled." in text
    assert f"/requests/{w['item'].id}" in text and "/account/notifications" in text
    assert message["From"] == app.config["MAIL_SENDER"]
    assert text.rstrip().endswith(app.config["SERVICE_NAME"])

    ((subject, text, message),) = _to(smtp, w["carol"].user.email)
    assert subject.startswith("You are booked: Cyber-crime victim")
    assert "Thank you: you are booked for this." in text and f"/offers/{offer.id}" in text
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_filename() == "booking.ics"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "Europe/London" and start.hour == 14  # 2pm London time, as the sergeant asked
    assert start == AT_2PM and event.decoded("dtend") == AT_2PM + dt.timedelta(hours=1)
    assert "Advice after a romance scam" in str(event["summary"])
    assert str(event["uid"]).startswith(f"offer-{offer.id}@")

    # Sent, and marked so: neither the safety net nor a retried task sends either again.
    db.expire_all()
    sent = db.scalars(select(Notification).where(Notification.offer_id == offer.id)).all()
    assert {n.kind for n in sent} == {NotificationKind.OFFER_ACCEPTED, NotificationKind.BOOKING_CONFIRMED}
    assert all(n.sent_at is not None for n in sent)
    with app.app_context():
        for n in sent:
            assert delivery.deliver(db, n.id, app.config) is False
        notifications_due()
    assert len(smtp.messages) == 2


# ---- Declined: who was asked next, or nobody ----------------------------------------------------------


def test_a_decline_tells_the_sergeant_who_was_offered_the_place_next(app, db, smtp):
    w = _world(db)
    _ready(db, w["wards"]["belsize"], "Bogdan Nowak")
    offer = make_offer(db, w["carol"], w["item"])

    client = volunteer_client(app, w["carol"])
    assert client.submit(f"/offers/{offer.id}/decline", {}, token_from=f"/offers/{offer.id}").status_code == 302

    ((subject, text, _),) = _to(smtp, w["sergeant"].email)  # one: no "not filled" besides it
    assert subject == "Declined: Advice after a romance scam"
    assert "Carol Jones has declined this request" in text
    assert "The place has been offered to Bogdan Nowak, who has until" in text


def test_a_decline_nobody_else_can_take_says_so_once(app, db, smtp):
    w = _world(db)
    offer = make_offer(db, w["carol"], w["item"])

    client = volunteer_client(app, w["carol"])
    client.submit(f"/offers/{offer.id}/decline", {}, token_from=f"/offers/{offer.id}")

    ((subject, text, _),) = _to(smtp, w["sergeant"].email)
    assert subject == "Declined: Advice after a romance scam"
    assert "Nobody else could be found for the place" in text


def test_a_raising_sergeant_who_has_left_the_role_is_replaced_by_the_wards_sergeants(app, db, smtp):
    w = _world(db)
    raiser = make_user(db, Role.SERGEANT, full_name="Sergeant Moved", is_disabled=True)
    w["item"].created_by_id = raiser.id
    db.commit()
    offer = make_offer(db, w["carol"], w["item"])
    volunteer_client(app, w["carol"]).submit(f"/offers/{offer.id}/accept", {}, token_from=f"/offers/{offer.id}")
    assert _to(smtp, raiser.email) == []
    assert [s for s, _, _ in _to(smtp, w["sergeant"].email)] == ["Accepted: Advice after a romance scam"]


# ---- Withdrawn because no longer eligible -------------------------------------------------------------


def test_an_eligibility_withdrawal_reaches_the_sergeant_once_and_a_digest_sergeant_in_the_digest(app, db, smtp):
    w = _world(db)
    offer = make_offer(db, w["carol"], w["item"], OfferStatus.WITHDRAWN)
    offers_unavailable(db, [offer.id], reoffered=True)
    db.commit()
    ((subject, text, _),) = _to(smtp, w["sergeant"].email)
    assert subject == "Volunteer no longer available: Advice after a romance scam"
    assert "Carol Jones is no longer available for this request" in text
    assert "The place is being offered to someone else now" in text
    with app.app_context():
        notifications_due()
    assert len(smtp.messages) == 1

    _digest(db, w["sergeant"])
    offers_unavailable(db, [offer.id])
    db.commit()
    assert len(smtp.messages) == 1  # it waits for the 7am digest


# ---- Not filled after a run -----------------------------------------------------------------------------


def test_a_run_tells_each_sergeant_about_their_requests_it_could_not_fill_once(app, db, smtp):
    w = _world(db)
    other = make_user(db, Role.SERGEANT, wards=[w["kx"]], full_name="Sergeant Osei")
    coordinator = make_user(db, Role.COORDINATOR)
    # Carol can take one of the three: the two others (one of each sergeant) are left empty.
    later = make_request(db, w["kx"], start=AT_2PM, title="Visit after a phishing fraud", created_by_id=other.id)
    third = make_request(db, w["kx"], start=AT_2PM, title="Visit after a courier fraud", created_by_id=w["sergeant"].id)
    run = queue_run(
        db,
        scope=RunScope.WARD,
        first_day=DAY,
        last_day=DAY,
        today=london_today(),
        trigger="web",
        requested_by_id=coordinator.id,
        ward_id=w["kx"].id,
    )
    with app.app_context():
        finished = run_now(app, run.id)
    assert finished.places_offered == 1
    offered = db.scalar(select(Offer.request_id).where(Offer.run_id == run.id))
    unfilled = {w["item"].id: w["sergeant"], later.id: other, third.id: w["sergeant"]}
    unfilled.pop(offered)
    for request_id, sergeant in unfilled.items():
        notices = [(s, t) for s, t, _ in _to(smtp, sergeant.email) if f"/requests/{request_id}" in t]
        ((subject, text),) = notices
        assert subject.startswith("Not filled: ") and "could not fill 1 place on this request" in text
    assert len([m for m in smtp.messages if m.rcpt_tos != [w["carol"].user.email]]) == 2
    assert _to(smtp, coordinator.email) == []


def test_the_sergeant_who_ran_the_match_reads_the_result_on_the_page_not_by_email(app, db, smtp):
    w = _world(db)
    # 10pm: nobody is free then, so nobody can be offered it.
    night = london_to_utc(DAY, dt.time(22))
    nobody = make_request(db, w["kx"], start=night, title="A night visit", created_by_id=w["sergeant"].id)
    run = queue_run(
        db,
        scope=RunScope.REQUEST,
        first_day=DAY,
        last_day=DAY,
        today=london_today(),
        trigger="web",
        requested_by_id=w["sergeant"].id,
        request_id=nobody.id,
    )
    with app.app_context():
        finished = run_now(app, run.id)
    assert finished.places_offered == 0 and finished.places_needed == 1
    assert _to(smtp, w["sergeant"].email) == []


# ---- Only after the commit ------------------------------------------------------------------------------


def test_a_rolled_back_transaction_sends_nothing_and_forgets_what_it_recorded(app, db, smtp):
    w = _world(db)
    record(db, user=w["sergeant"], kind=NotificationKind.NOT_FILLED, subject="Not filled: x", body="Never.")
    assert db.info[PENDING_KEY]
    db.rollback()
    assert PENDING_KEY not in db.info
    db.commit()  # a later commit of the same session owes nothing
    assert smtp.messages == []
    assert db.scalars(select(Notification)).all() == []

    kept = record(db, user=w["sergeant"], kind=NotificationKind.NOT_FILLED, subject="Not filled: y", body="Once.")
    db.commit()
    assert [s for s, _, _ in _to(smtp, w["sergeant"].email)] == ["Not filled: y"]
    db.expire_all()
    assert db.get(Notification, kept.id).sent_at is not None


def test_a_send_that_fails_for_now_is_retried_and_a_stranded_one_is_sent_by_the_safety_net(app, db, smtp):
    w = _world(db)
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens: the server is "down"
    stuck = record(db, user=w["sergeant"], kind=NotificationKind.NOT_FILLED, subject="Not filled: z", body="Hi.")
    db.commit()  # the task's first try failed: its claim is released for the retry
    db.expire_all()
    assert db.get(Notification, stuck.id).sent_at is None and db.get(Notification, stuck.id).claimed_at is None
    with pytest.raises(MailError):
        delivery.deliver(db, stuck.id, app.config)
    app.config["MAIL_PORT"] = port

    # Not yet stranded; five minutes on, the safety net sends it, once.
    assert delivery.stranded(db) == []
    later = utcnow() + delivery.STRANDED_AFTER + dt.timedelta(seconds=1)
    assert delivery.stranded(db, later) == [stuck.id]
    assert delivery.deliver(db, stuck.id, app.config, later) is True
    assert delivery.deliver(db, stuck.id, app.config, later) is False
    assert delivery.stranded(db, later) == []
    assert len(_to(smtp, w["sergeant"].email)) == 1

    # A worker that died holding a claim: sent again only once the lease has run out.
    held = record(db, user=w["sergeant"], kind=NotificationKind.NOT_FILLED, subject="Not filled: h", body="Hi.")
    db.info.pop(PENDING_KEY)  # as if the worker stopped before queueing it
    db.commit()
    claimed_at = utcnow()
    db.execute(update(Notification).where(Notification.id == held.id).values(claimed_at=claimed_at))
    db.commit()
    assert delivery.deliver(db, held.id, app.config, claimed_at + dt.timedelta(minutes=1)) is False
    assert delivery.deliver(db, held.id, app.config, claimed_at + delivery.LEASE + dt.timedelta(seconds=1)) is True
    assert len(_to(smtp, w["sergeant"].email)) == 2


# ---- The daily digest ---------------------------------------------------------------------------------


def test_a_digest_sergeant_gets_nothing_at_once_and_one_email_at_seven_gathering_the_day(app, db, smtp):
    w = _world(db)
    _digest(db, w["sergeant"])
    _ready(db, w["wards"]["belsize"], "Bogdan Nowak")
    second = make_request(
        db,
        w["kx"],
        start=AT_2PM + dt.timedelta(days=1),
        title="Visit after a phishing fraud",
        created_by_id=w["sergeant"].id,
    )
    carol_offer = make_offer(db, w["carol"], w["item"])
    client = volunteer_client(app, w["carol"])
    client.submit(f"/offers/{carol_offer.id}/decline", {}, token_from=f"/offers/{carol_offer.id}")
    bogdan = db.scalar(select(Offer).where(Offer.request_id == w["item"].id, Offer.status == OfferStatus.OFFERED))
    bogdan_client = volunteer_client(app, bogdan.volunteer)
    bogdan_client.submit(f"/offers/{bogdan.id}/accept", {}, token_from=f"/offers/{bogdan.id}")
    carol_second = make_offer(db, w["carol"], second, OfferStatus.WITHDRAWN)
    offers_unavailable(db, [carol_second.id])
    db.commit()
    assert _to(smtp, w["sergeant"].email) == []  # all three wait for the digest
    assert len(_to(smtp, bogdan.volunteer.user.email)) == 2  # his offer, and his booking confirmation: never held

    # The day's events were recorded yesterday; the digest goes at 7am London time, not before.
    yesterday = london_today() - dt.timedelta(days=1)
    db.execute(
        update(Notification)
        .where(Notification.user_id == w["sergeant"].id)
        .values(created_at=london_to_utc(yesterday, dt.time(15)))
    )
    db.commit()
    before = london_to_utc(london_today(), dt.time(6, 59))
    at_seven = london_to_utc(london_today(), dt.time(7, 0))
    assert delivery.digest_due(db, 7, before) == []
    assert delivery.send_digest(db, w["sergeant"].id, app.config, before) == 0
    assert delivery.digest_due(db, 7, at_seven) == [w["sergeant"].id]
    assert delivery.send_digest(db, w["sergeant"].id, app.config, at_seven) == 3
    assert delivery.send_digest(db, w["sergeant"].id, app.config, at_seven + dt.timedelta(minutes=5)) == 0
    assert delivery.digest_due(db, 7, at_seven + dt.timedelta(minutes=5)) == []

    ((subject, text, _),) = _to(smtp, w["sergeant"].email)
    assert subject == "Your daily update: 3 changes to your requests"
    assert text.startswith("Dear Sergeant Kaur,")
    # Grouped by request: the romance scam's decline and accept together, then the phishing visit.
    scam, phishing = text.index("Advice after a romance scam\n"), text.index("Visit after a phishing fraud\n")
    assert scam < text.index("Declined:") < text.index("Accepted:") < phishing
    assert "offered to Bogdan Nowak" in text and "Carol Jones is no longer available" in text
    assert text.count(f"/requests/{w['item'].id}") == 1 and text.count(f"/requests/{second.id}") == 1


def test_the_digest_hour_is_london_time_across_the_clock_change(app, db, smtp):
    # Summer: 7am London is 6am UTC. Winter (after 25 October 2026): 7am UTC.
    summer = dt.date(2026, 7, 1)
    winter = dt.date(2026, 10, 26)
    assert delivery.digest_cutoff(dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC), 7) == london_to_utc(summer, dt.time(7))
    assert delivery.digest_cutoff(dt.datetime(2026, 7, 1, 5, 59, tzinfo=dt.UTC), 7) is None
    assert delivery.digest_cutoff(dt.datetime(2026, 10, 26, 6, 30, tzinfo=dt.UTC), 7) is None
    assert delivery.digest_cutoff(dt.datetime(2026, 10, 26, 7, 0, tzinfo=dt.UTC), 7) == london_to_utc(
        winter, dt.time(7)
    )


# ---- The reminder the day before ---------------------------------------------------------------------


def test_a_booking_is_reminded_once_the_evening_before_and_not_if_booked_after_that(app, db, smtp):
    w = _world(db)
    today = london_today()
    tomorrow_2pm = london_to_utc(today + dt.timedelta(days=1), dt.time(14))
    item = make_request(db, w["kx"], start=tomorrow_2pm, title="Tomorrow's visit", created_by_id=w["sergeant"].id)
    booked = make_offer(db, w["carol"], item, OfferStatus.ACCEPTED)
    booked.answered_at = london_to_utc(today, dt.time(9))
    late_item = make_request(db, w["kx"], start=tomorrow_2pm + dt.timedelta(hours=3), title="Late booking")
    late = make_offer(db, w["carol"], late_item, OfferStatus.ACCEPTED)
    late.answered_at = london_to_utc(today, dt.time(19))
    db.commit()

    assert record_reminders(db, london_to_utc(today, dt.time(17, 55)), 18) == 0
    assert smtp.messages == []
    evening = london_to_utc(today, dt.time(20))
    assert record_reminders(db, evening, 18) == 1
    ((subject, text, message),) = _to(smtp, w["carol"].user.email)
    assert subject.startswith("Tomorrow: Tomorrow's visit, ")
    assert "A reminder that you are booked for this tomorrow" in text and f"/offers/{booked.id}" in text
    assert list(message.iter_attachments()) == []
    assert record_reminders(db, evening + dt.timedelta(minutes=5), 18) == 0
    assert len(smtp.messages) == 1
    reminders = db.scalars(select(Notification).where(Notification.kind == NotificationKind.REMINDER)).all()
    assert [n.offer_id for n in reminders] == [booked.id]


# ---- The sergeant's choice ---------------------------------------------------------------------------


def test_the_preference_page_saves_the_choice_and_refuses_a_tampered_one(app, db):
    sergeant = make_user(db, Role.SERGEANT, full_name="Sergeant Kaur")
    client = signed_in(app, sergeant)
    account = check_page(client.get("/account"))
    assert account.select_one('a[href="/account/notifications"]') is not None

    page = check_page(client.get("/account/notifications"))
    assert page.select_one("h1").get_text(strip=True) == "Emails about your requests"
    assert page.select_one('input[name="how"][value="immediate"]').has_attr("checked")

    refused = client.submit("/account/notifications", {"how": "weekly"})
    assert refused.status_code == 200
    soup = check_page(refused)
    assert error_messages(soup) == {"how": "Choose an email each time or one email a day"}
    assert db.get(NotificationPreference, sergeant.id) is None

    saved = client.submit("/account/notifications", {"how": "daily"})
    assert saved.status_code == 302 and saved.location == "/account"
    assert "one email a day, at 7am" in client.get("/account").soup.get_text()
    db.expire_all()
    assert db.get(NotificationPreference, sergeant.id).daily_digest is True
    assert check_page(client.get("/account/notifications")).select_one('input[value="daily"]').has_attr("checked")

    volunteer_page = volunteer_client(app, _ready(db, make_kings_cross_and_belsize(db)["belsize"], "Vol"))
    assert volunteer_page.get("/account/notifications").status_code == 403


# ---- The sender and the attachment are header-safe ------------------------------------------------------


def test_an_attachment_name_cannot_add_a_header(app, smtp):
    from core.mail import send_mail

    send_mail(
        app.config,
        "someone@test.example",
        "Subject",
        "Body",
        [("evil\r\nBcc: x@test.example.ics", "text/calendar\r\nX: y", b"BEGIN:VCALENDAR")],
    )
    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == ["someone@test.example"]
    (attachment,) = list(_parsed(envelope).iter_attachments())
    assert "\n" not in attachment.get_filename() and attachment.get_content_type() == "application/octet-stream"
    assert "Bcc" not in _parsed(envelope)
