"""A volunteer pulls out of a booking (issue #20): in good time, with a reason the sergeant reads, and the place
is offered to someone else at once; inside the notice period the page gives the team's contact instead."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from sqlalchemy import func, select

from core.auth.models import Role
from core.db import utcnow
from core.timeutil import london_to_utc, london_today
from matching.deployments.models import Deployment
from matching.models import VOLUNTEER_WITHDREW, Offer, OfferStatus, RequestStatus
from matching.notifications.models import Notification, NotificationKind
from tests.helpers import error_messages, make_kings_cross_and_belsize, make_offer, make_request, make_user
from tests.integration.test_match_facts import _volunteer

FAR = london_today() + dt.timedelta(days=400)


def _thursday_2pm(at_least_days: int) -> dt.datetime:
    """2pm London on the first Thursday at least ``at_least_days`` away (the test volunteers' free day)."""
    day = london_today() + dt.timedelta(days=at_least_days)
    day += dt.timedelta(days=(3 - day.weekday()) % 7)
    return london_to_utc(day, dt.time(14, 0))


def _world(db, start: dt.datetime):
    wards = make_kings_cross_and_belsize(db)
    kx = wards["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx], full_name="Sergeant Kaur")
    alice = _volunteer(db, kx, expires=FAR, full_name="Alice Smith")
    bob = _volunteer(db, kx, expires=FAR, full_name="Bob Jones")
    item = make_request(
        db,
        kx,
        start=start,
        title="Visit after a phishing fraud",
        created_by_id=sergeant.id,
        contact_phone="020 7946 0000",
    )
    booking = make_offer(db, alice, item, OfferStatus.ACCEPTED)
    return sergeant, alice, bob, item, booking


def _subjects(smtp, to: str) -> list[str]:
    return [
        email.message_from_bytes(m.content, policy=email.policy.default)["Subject"]
        for m in smtp.messages
        if m.rcpt_tos == [to]
    ]


def test_withdrawing_in_good_time_tells_the_sergeant_once_and_offers_the_place_to_someone_else(app, db, client, smtp):
    sergeant, alice, bob, item, booking = _world(db, _thursday_2pm(3))
    client.sign_in(alice.user.email)

    page = client.get(f"/offers/{booking.id}")
    button = page.soup.select_one(f"a[href='/offers/{booking.id}/withdraw']")
    assert button is not None and "Withdraw from this booking" in button.get_text()

    form = client.get(f"/offers/{booking.id}/withdraw")
    assert form.soup.select_one("h1").get_text(strip=True) == "Withdraw from Visit after a phishing fraud"
    response = client.submit(f"/offers/{booking.id}/withdraw", {"reason": "Called in to work an extra shift"})
    assert response.status_code == 302

    db.expire_all()
    withdrawn = db.get(Offer, booking.id)
    assert withdrawn.status is OfferStatus.WITHDRAWN
    assert withdrawn.closed_reason == VOLUNTEER_WITHDREW + "Called in to work an extra shift"
    # Not a no-show: no deployment record, so nothing can lower Alice's ranking.
    assert db.scalar(select(func.count()).select_from(Deployment).where(Deployment.offer_id == booking.id)) == 0

    # The place went to Bob at once; Alice is never offered it again.
    offers = db.scalars(select(Offer).where(Offer.request_id == item.id).order_by(Offer.id)).all()
    assert [(o.volunteer_id, o.status) for o in offers] == [
        (alice.id, OfferStatus.WITHDRAWN),
        (bob.id, OfferStatus.OFFERED),
    ]
    assert db.get(type(item), item.id).status is RequestStatus.MATCHED

    (note,) = db.scalars(
        select(Notification).where(
            Notification.kind == NotificationKind.OFFER_WITHDRAWN, Notification.offer_id == booking.id
        )
    ).all()
    assert note.user_id == sergeant.id
    assert "Alice Smith has withdrawn" in note.body and "Their reason: Called in to work an extra shift" in note.body
    # Sent once, to the sergeant; Alice read it on screen and gets no email about her own withdrawal.
    assert _subjects(smtp, sergeant.email).count("Volunteer withdrew: Visit after a phishing fraud") == 1
    assert not [s for s in _subjects(smtp, alice.user.email) if "withdr" in s.lower()]

    # Her offer page says what she did; the button has gone.
    page = client.get(f"/offers/{booking.id}")
    text = " ".join(page.soup.get_text().split())
    assert "You withdrew" in text
    assert page.soup.select_one(f"a[href='/offers/{booking.id}/withdraw']") is None
    # A second try is refused with a message, and changes nothing.
    again = client.submit(f"/offers/{booking.id}/withdraw", {"reason": "Again"}, token_from=f"/offers/{booking.id}")
    assert again.status_code == 302
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.offer_id == booking.id)) == 1


def test_inside_the_notice_period_the_team_contact_is_shown_and_withdrawing_is_refused(app, db, client, smtp):
    soon = (utcnow() + dt.timedelta(hours=10)).replace(second=0, microsecond=0)
    sergeant, alice, _, item, booking = _world(db, soon)
    client.sign_in(alice.user.email)

    page = client.get(f"/offers/{booking.id}")
    assert page.soup.select_one(f"a[href='/offers/{booking.id}/withdraw']") is None
    assert "too late to withdraw here" in " ".join(page.soup.get_text().split())

    form = client.get(f"/offers/{booking.id}/withdraw")
    text = " ".join(form.soup.get_text().split())
    assert "It is too late to withdraw here" in text
    for contact in ("Sergeant Kaur", sergeant.email, "020 7946 0000"):
        assert contact in text
    assert form.soup.select_one("textarea[name=reason]") is None

    response = client.submit(f"/offers/{booking.id}/withdraw", {"reason": "Ill"}, token_from=f"/offers/{booking.id}")
    assert response.status_code == 302
    followed = client.get(response.location)
    assert "too late to withdraw on this site" in followed.soup.select_one(".govuk-error-summary").get_text()
    db.expire_all()
    assert db.get(Offer, booking.id).status is OfferStatus.ACCEPTED
    assert db.scalar(select(func.count()).select_from(Notification)) == 0
    assert _subjects(smtp, sergeant.email) == []


def test_someone_elses_booking_is_not_found(app, db, client):
    _, _, bob, _, booking = _world(db, _thursday_2pm(3))
    client.sign_in(bob.user.email)
    assert client.get(f"/offers/{booking.id}/withdraw").status_code == 404
    token = client.csrf_token("/")
    assert client.post(f"/offers/{booking.id}/withdraw", data={"csrf_token": token, "reason": "x"}).status_code == 404
    assert client.post(f"/offers/{booking.id}/withdraw", data={"reason": "x"}).status_code in (400, 404)
    db.expire_all()
    assert db.get(Offer, booking.id).status is OfferStatus.ACCEPTED


def test_an_empty_or_overlong_reason_is_refused_by_the_field_and_kept(app, db, client):
    _, alice, _, _, booking = _world(db, _thursday_2pm(3))
    client.sign_in(alice.user.email)
    url = f"/offers/{booking.id}/withdraw"

    empty = client.submit(url, {"reason": "   "})
    assert error_messages(empty.soup) == {"reason": "Enter why you cannot go"}
    long = "x" * 10_000
    too_long = client.submit(url, {"reason": long})
    assert error_messages(too_long.soup) == {"reason": "The reason must be 100 characters or fewer"}
    assert too_long.soup.select_one("textarea[name=reason]").get_text() == long  # nothing typed is lost
    db.expire_all()
    assert db.get(Offer, booking.id).status is OfferStatus.ACCEPTED


def test_an_offer_not_yet_accepted_cannot_be_withdrawn_from(app, db, client):
    wards = make_kings_cross_and_belsize(db)
    alice = _volunteer(db, wards["kings_cross"], expires=FAR)
    offer = make_offer(db, alice, make_request(db, wards["kings_cross"], start=_thursday_2pm(3)))
    client.sign_in(alice.user.email)
    response = client.get(f"/offers/{offer.id}/withdraw")
    assert response.status_code == 302 and response.location.endswith(f"/offers/{offer.id}")
    db.expire_all()
    assert db.get(Offer, offer.id).status is OfferStatus.OFFERED
