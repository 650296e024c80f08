"""A volunteer pauses (dates; never offered meanwhile), resumes, or leaves, from their own account (issue #20)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.auth.models import Role, User, UserSession
from core.timeutil import london_today, to_london
from matching.models import Offer, OfferStatus
from matching.notifications.models import Notification, NotificationKind
from tests.helpers import date_fields, error_messages, make_kings_cross_and_belsize, make_offer, make_request, make_user
from tests.integration.test_match_facts import _volunteer
from tests.integration.test_volunteer_withdrawal import FAR, _subjects, _thursday_2pm
from vetting.lifecycle import ClearanceState
from vetting.models import Clearance
from volunteers.models import VolunteerPause, VolunteerStatus


def _match(app, sergeant, item) -> None:
    """The sergeant presses "Find volunteers now" on the request."""
    client = app.test_client()
    client.sign_in(sergeant.email)
    response = client.submit(f"/requests/{item.id}/match", {}, token_from=f"/requests/{item.id}")
    assert response.status_code == 302


def _offered(db, item) -> list[int]:
    db.expire_all()
    return list(
        db.scalars(select(Offer.volunteer_id).where(Offer.request_id == item.id, Offer.status == OfferStatus.OFFERED))
    )


def _pause(client, first: dt.date, last: dt.date | None, reason: str = ""):
    data = {"reason": reason} | date_fields("first_day", first)
    data |= date_fields("last_day", last) if last else {"last_day": ["", "", ""]}
    return client.submit("/profile/pause", data)


def _day(moment: dt.datetime) -> dt.date:
    return to_london(moment).date()


def test_a_paused_volunteer_is_never_offered_during_the_pause_and_is_offered_after_it(app, db, client):
    kx = make_kings_cross_and_belsize(db)["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    alice = _volunteer(db, kx, expires=FAR, full_name="Alice Smith")
    during = make_request(db, kx, start=_thursday_2pm(3), created_by_id=sergeant.id, title="During")
    after = make_request(db, kx, start=_thursday_2pm(10), created_by_id=sergeant.id, title="After")
    client.sign_in(alice.user.email)
    first, last = _day(during.window_start) - dt.timedelta(days=1), _day(during.window_start) + dt.timedelta(days=1)
    response = _pause(client, first, last, "Exams")
    assert response.status_code == 302
    page = client.get("/profile/pause")
    assert "Resume volunteering now" in page.soup.get_text() or "Cancel this pause" in page.soup.get_text()

    _match(app, sergeant, during)
    assert _offered(db, during) == []
    _match(app, sergeant, after)
    assert _offered(db, after) == [alice.id]

    # Resumed, she is matched again on the paused days too.
    client.submit("/profile/pause/resume", {}, token_from="/profile/pause")
    db.expire_all()
    assert db.scalar(select(VolunteerPause.ended_at)) is not None
    _match(app, sergeant, during)
    assert _offered(db, during) == [alice.id]


def test_until_i_resume_keeps_them_out_of_every_run_and_coordinators_see_it(app, db, client):
    kx = make_kings_cross_and_belsize(db)["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    coordinator = make_user(db, Role.COORDINATOR)
    alice = _volunteer(db, kx, expires=FAR, full_name="Alice Smith")
    later = make_request(db, kx, start=_thursday_2pm(40), created_by_id=sergeant.id)
    client.sign_in(alice.user.email)
    assert _pause(client, london_today(), None, "Looking after my father").status_code == 302
    _match(app, sergeant, later)
    assert _offered(db, later) == []

    staff = app.test_client()
    staff.sign_in(coordinator.email)
    listed = staff.get("/volunteers", query_string={"status": "paused"})
    assert "Alice Smith" in listed.soup.get_text()
    record = " ".join(staff.get(f"/volunteers/{alice.id}").soup.get_text().split())
    assert "Paused by their own choice from" in record and "until they resume: Looking after my father" in record


def test_pausing_withdraws_waiting_offers_in_the_pause_and_refuses_while_a_booking_is_in_it(app, db, client, smtp):
    kx = make_kings_cross_and_belsize(db)["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    alice = _volunteer(db, kx, expires=FAR, full_name="Alice Smith")
    waiting = make_offer(db, alice, make_request(db, kx, start=_thursday_2pm(3), created_by_id=sergeant.id))
    outside = make_offer(db, alice, make_request(db, kx, start=_thursday_2pm(24), created_by_id=sergeant.id))
    booked_item = make_request(db, kx, start=_thursday_2pm(10), created_by_id=sergeant.id, title="Booked visit")
    booked = make_offer(db, alice, booked_item, OfferStatus.ACCEPTED)
    client.sign_in(alice.user.email)
    first, last = london_today(), _day(booked.starts_at)

    refused = _pause(client, first, last)
    assert refused.status_code == 200
    assert "You are booked on a day you want to pause" in refused.soup.select_one(".govuk-error-summary").get_text()
    assert refused.soup.select_one(f"a[href='/offers/{booked.id}/withdraw']") is not None
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(VolunteerPause)) == 0
    assert db.get(Offer, waiting.id).status is OfferStatus.OFFERED  # nothing changed

    assert client.submit(f"/offers/{booked.id}/withdraw", {"reason": "Taking a break"}).status_code == 302
    assert _pause(client, first, last).status_code == 302
    db.expire_all()
    assert db.get(Offer, waiting.id).status is OfferStatus.WITHDRAWN
    assert db.get(Offer, waiting.id).closed_reason == "no longer eligible: paused"
    assert db.get(Offer, outside.id).status is OfferStatus.OFFERED  # after the pause: it stands
    assert any(s.startswith("Volunteer no longer available") for s in _subjects(smtp, sergeant.email))


def test_bad_pause_dates_and_reasons_are_refused_by_their_fields_and_kept(app, db, client):
    kx = make_kings_cross_and_belsize(db)["kings_cross"]
    alice = _volunteer(db, kx, expires=FAR)
    client.sign_in(alice.user.email)
    today = london_today()

    reversed_ = _pause(client, today + dt.timedelta(days=5), today + dt.timedelta(days=2))
    assert error_messages(reversed_.soup) == {"last_day-day": "The last day must be the same as or after the first day"}
    past = _pause(client, today - dt.timedelta(days=3), today + dt.timedelta(days=2))
    assert error_messages(past.soup) == {"first_day-day": "The first day must be today or in the future"}
    too_long = _pause(client, today, today + dt.timedelta(days=800))
    assert "at most 2 years" in error_messages(too_long.soup)["last_day-day"]
    empty = client.submit("/profile/pause", {"reason": ""})
    assert error_messages(empty.soup) == {"first_day-day": "Enter the first day of your pause"}
    impossible = client.submit("/profile/pause", {"first_day": ["31", "2", str(today.year + 1)]})
    assert error_messages(impossible.soup) == {"first_day-day": "The first day must be a real date"}
    long = "y" * 10_000
    wordy = _pause(client, today, today + dt.timedelta(days=5), long)
    assert error_messages(wordy.soup) == {"reason": "Enter 200 characters or fewer"}
    assert wordy.soup.select_one("textarea[name=reason]").get_text() == long
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(VolunteerPause)) == 0


def test_leaving_withdraws_offers_ends_clearances_tells_coordinators_and_closes_the_account(app, db, client, smtp):
    kx = make_kings_cross_and_belsize(db)["kings_cross"]
    sergeant = make_user(db, Role.SERGEANT, wards=[kx])
    coordinators = [make_user(db, Role.COORDINATOR), make_user(db, Role.COORDINATOR)]
    make_user(db, Role.COORDINATOR, is_disabled=True)
    alice = _volunteer(db, kx, expires=FAR, full_name="Alice Smith")
    bob = _volunteer(db, kx, expires=FAR, full_name="Bob Jones")
    waiting = make_offer(db, alice, make_request(db, kx, start=_thursday_2pm(3), created_by_id=sergeant.id))
    booked_item = make_request(db, kx, start=_thursday_2pm(10), created_by_id=sergeant.id, title="Booked visit")
    booked = make_offer(db, alice, booked_item, OfferStatus.ACCEPTED)
    client.sign_in(alice.user.email)

    page = client.get("/profile/leave")
    text = " ".join(page.soup.get_text().split())
    assert "Booked visit" in text and "your clearances end as no longer needed" in text
    assert client.submit("/profile/leave", {"reason": "x" * 10_000}).soup.select_one(".govuk-error-summary")
    response = client.submit("/profile/leave", {"reason": "Moving to Leeds"})
    assert response.status_code == 302 and response.location.startswith("/sign-in")

    db.expire_all()
    assert db.get(type(alice), alice.id).status is VolunteerStatus.LEFT
    assert {db.get(Offer, o.id).status for o in (waiting, booked)} == {OfferStatus.WITHDRAWN}
    states = set(db.scalars(select(Clearance.state).where(Clearance.volunteer_id == alice.id)))
    assert states == {ClearanceState.NO_LONGER_NEEDED}
    told = db.scalars(select(Notification.user_id).where(Notification.kind == NotificationKind.VOLUNTEER_LEFT)).all()
    assert sorted(told) == sorted(c.id for c in coordinators)
    assert db.get(User, alice.user_id).is_disabled
    live = (
        select(func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == alice.user_id, UserSession.revoked_at.is_(None))
    )
    assert db.scalar(live) == 0
    assert client.get("/profile").status_code == 302  # signed out
    # The booked place was offered again at once: Bob has it.
    assert _offered(db, booked_item) == [bob.id]
    assert any(s.startswith("Volunteer no longer available") for s in _subjects(smtp, sergeant.email))
    for coordinator in coordinators:
        assert _subjects(smtp, coordinator.email).count("Volunteer left: Alice Smith") == 1
